"""Hypothesis strategies for VM values and valid random chunks, shared by the test suites."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from fusevm.chunk import Chunk, ChunkBuilder
from fusevm.ops import F, Kind, Op
from fusevm.values import INT_MAX, INT_MIN, NativeFn, Ref, Status, Undef

ints = st.one_of(st.integers(INT_MIN, INT_MAX),
                 st.sampled_from([0, 1, -1, INT_MAX, INT_MIN, INT_MAX - 1, INT_MIN + 1]))
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([-0.0, 0.5, -1.5])
texts = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", "0", "42", "3.5", " 1", "nan", "\udc80", "é"])

scalars = st.one_of(st.just(Undef), st.booleans(), ints, floats, texts,
                    st.builds(Status, st.integers(-(2**31), 2**31 - 1)),
                    st.builds(NativeFn, st.integers(0, 0xFFFF)))

values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(texts, inner, max_size=4),
        st.builds(Ref, inner)),
    max_leaves=8)

# Ops a random straight-line chunk may use: fixed stack effects and operands that only need
# a pool entry, a slot or a number (no control flow, calls, blocks, I/O or shell).
_SKIP = F.BRANCH | F.CALL | F.RETURN | F.SCOPE | F.SHELL | F.IO | F.EXTENDED | F.BLOCK_CALL
_SIMPLE_KINDS = {Kind.INT, Kind.FLOAT, Kind.I32, Kind.U8, Kind.COUNT, Kind.CONST, Kind.NAME,
                 Kind.SLOT}
STRAIGHT_OPS = [op for op in Op
                if not op.spec.flags & _SKIP and op is not Op.CallBuiltin
                and all(k in _SIMPLE_KINDS for k in op.spec.kinds)]

@st.composite
def straight_chunks(draw: st.DrawFn, max_ops: int = 12) -> Chunk:
    """A random valid straight-line chunk (verified, unfused)."""
    b = ChunkBuilder(source=draw(st.sampled_from(["rand.fasm", "x", "dir/a b.fasm"])))
    depth = 0
    for _ in range(draw(st.integers(0, max_ops))):
        op = draw(st.sampled_from(STRAIGHT_OPS))
        spec = op.spec
        operands = []
        for o in spec.operands:
            if o.kind is Kind.CONST:
                operands.append(b.add_constant(draw(values)))
            elif o.kind is Kind.NAME:
                operands.append(b.add_name(draw(st.sampled_from(["a", "b", "x y", "ü"]))))
            elif o.kind is Kind.SLOT:
                operands.append(draw(st.integers(0, 3)))
            elif o.kind is Kind.FLOAT:
                operands.append(draw(floats))
            elif o.kind in (Kind.COUNT, Kind.U8):
                operands.append(draw(st.integers(0, 3)))
            else:
                operands.append(draw(st.integers(o.kind.lo, o.kind.hi)))
        pops = spec.effect.pops(spec, tuple(operands))
        while depth < pops:
            b.emit(Op.LoadInt, draw(ints), line=draw(st.integers(0, 50)))
            depth += 1
        b.emit(op, *operands, line=draw(st.integers(0, 50)))
        depth += spec.effect.pushes(spec, tuple(operands)) - pops
    return b.build(fuse=False)
