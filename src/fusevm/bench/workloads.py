"""The benchmark workloads: each one's bytecode, expected result, twin and peer figures.

A Workload writes its program through an `Emitter`, exactly as the listing in
the benchmark listing shows it, with the superinstructions that listing hand-writes
(`PreIncSlotVoid`, `AccumSumLoop`, ...) emitted through `Emitter.fused`. From that one
listing come three chunks:

- `reference()`: the listing as written, not passed through the fusion pass. This is the
  shape the published Rust interpreter figure measured.
- `build(fuse=False)`: every hand-fused op replaced by its `fuses` expansion from the op
  table, no fusion pass: the program made of plain ops only.
- `build(fuse=True)`: that plain program through `ChunkBuilder.build(fuse=True)`: what the
  fusion pass recovers on its own.

`published` holds the published "anchors measured side by side" figures for
the same algorithm, in ns per call; keys are listed in `PEERS`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final

from fusevm.bench.twins import TWINS, word_list
from fusevm.chunk import Chunk, ChunkBuilder, Label
from fusevm.ops import BY_NAME, Op
from fusevm.ops.fuses import items as fuse_items

#: Published peer figures (anchors): key -> what the number is.
PEERS: Final[dict[str, str]] = {
    "rust_interp": "fusevm Rust interpreter (published, Apple M)",
    "rust_jit": "fusevm Rust JIT: block / linear tier (published, Apple M)",
    "cpython": "CPython 3.11, same algorithm (published anchors)",
    "pypy": "PyPy 3.9 7.3.11 (published anchors)",
    "luajit": "LuaJIT 2.1 (published anchors)",
    "lua": "Lua 5.4 (published anchors)",
    "numba": "Numba 0.68 @njit called from Python (published anchors)",
    "c": "C, gcc-12 -O2 (published anchors)",
}

US: Final = 1e3
MS: Final = 1e6


class Emitter:
    """A ChunkBuilder front that emits hand-fused ops as written or as their expansion."""

    def __init__(self, builder: ChunkBuilder, expand: bool) -> None:
        self.b = builder
        self.expand = expand
        self._names: dict[str, int] = {}

    def op(self, op: Op, *operands: Any) -> None:
        self.b.emit(op, *operands)

    def label(self, name: str | None = None) -> Label:
        return self.b.label(name)

    def bind(self, label: Label) -> None:
        self.b.bind(label)

    def name(self, name: str) -> int:
        return self.b.add_name(name)

    def const(self, value: Any) -> int:
        return self.b.add_constant(value)

    def sub(self, name: str) -> None:
        """The next op is the entry of function `name`."""
        entry = self.b.label(name)
        self.b.bind(entry)
        self.b.add_sub_entry(name, entry)

    def fused(self, op: Op, *operands: Any) -> None:
        """Emit a superinstruction, or (when expanding) the plain ops its `fuses` names."""
        if not self.expand:
            self.b.emit(op, *operands)
            return
        spec = op.spec
        env = {o.name: v for o, v in zip(spec.operands, operands, strict=True)}
        local: dict[str, Label] = {}

        def target(word: str) -> Label:
            return local.setdefault(word, self.b.label(f"{spec.name}.{word}"))

        for item in fuse_items(spec):
            for label_name in item.labels:
                self.b.bind(target(label_name))
            if item.mnemonic is None:
                continue
            mnemonic, words = item.mnemonic, item.args
            values = [env[w[1:]] if w.startswith("$") else
                      target(w[1:]) if w.startswith("@") else int(w, 0) for w in words]
            self.b.emit(BY_NAME[mnemonic], *values)


@dataclass(frozen=True, eq=False)
class Workload:
    """One benchmark program and everything needed to check and compare it."""

    name: str
    group: str
    description: str
    emit: Callable[[Emitter], None] | None
    expected: Any
    twin: str | None
    twin_args: tuple[Any, ...] = ()
    slots: tuple[Any, ...] = ()
    published: Mapping[str, float] = field(default_factory=dict)
    published_note: str = ""
    reuse_vm: bool = False
    note: str = ""
    #: Builds the chunk without ChunkBuilder (for huge chunks); called with `fuse`.
    direct: Callable[[bool], Chunk] | None = None
    #: The same program at a small size, for the fast correctness tests.
    shrunk: Workload | None = None

    def _chunk(self, expand: bool, fuse: bool) -> Chunk:
        if self.direct is not None:
            return self.direct(fuse)
        assert self.emit is not None
        builder = ChunkBuilder(source=f"<bench {self.name}>")
        self.emit(Emitter(builder, expand))
        return builder.build(fuse=fuse)

    def reference(self) -> Chunk:
        """The listing exactly as written (hand-fused ops kept, no pass)."""
        return self._cached(False, False)

    def build(self, fuse: bool) -> Chunk:
        """The plain-op program, through the fusion pass when `fuse`."""
        return self._cached(True, fuse)

    def _cached(self, expand: bool, fuse: bool) -> Chunk:
        return _chunk_cache(self, expand, fuse)

    def python(self) -> Callable[[], Any] | None:
        """The plain-Python twin as a zero-argument call, or None when there is none."""
        if self.twin is None:
            return None
        return functools.partial(TWINS[self.twin], *self.twin_args)

    def check(self, result: Any) -> bool:
        """Whether `result` is this workload's expected result."""
        return results_match(result, self.expected)


@functools.lru_cache(maxsize=256)
def _chunk_cache(w: Workload, expand: bool, fuse: bool) -> Chunk:
    if w.direct is not None and expand:
        return _chunk_cache(w, False, fuse)  # a direct chunk has no hand-fused ops
    return w._chunk(expand, fuse)


def results_match(got: Any, expected: Any) -> bool:
    """Exact match, except Floats, which may differ in the last bits (printing rounds)."""
    if isinstance(expected, float):
        return type(got) is float and math.isclose(got, expected, rel_tol=1e-12)
    return type(got) is type(expected) and got == expected


def describe(value: Any, limit: int = 60) -> str:
    """A short printable form of a result (long strings are summarized)."""
    if isinstance(value, str) and len(value) > limit:
        return f"str of length {len(value):,} ({value[:8]!r}...)"
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# -- Loops ------------------------------------------------------------------------------

def counter_loop_emitter(n: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        top = e.label("top")
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 0)
        e.bind(top)
        e.fused(Op.PreIncSlotVoid, 0)
        e.op(Op.GetSlot, 0)
        e.op(Op.LoadInt, n)
        e.op(Op.NumLt)
        e.op(Op.JumpIfTrue, top)
        e.op(Op.GetSlot, 0)
    return emit


def loop_with_branch_emitter(n: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        top, test = e.label("top"), e.label("test")
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 0)
        e.bind(top)
        e.fused(Op.PreIncSlotVoid, 0)
        e.op(Op.GetSlot, 0)
        e.op(Op.LoadInt, 0)
        e.op(Op.NumGt)
        e.op(Op.JumpIfFalse, test)
        e.op(Op.Nop)
        e.bind(test)
        e.op(Op.GetSlot, 0)
        e.op(Op.LoadInt, n)
        e.op(Op.NumLt)
        e.op(Op.JumpIfTrue, top)
        e.op(Op.GetSlot, 0)
    return emit


# -- Calls ------------------------------------------------------------------------------

def _fib_iterative(n: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        end, loop, done = e.label("end"), e.label("loop"), e.label("done")
        e.op(Op.LoadInt, n)
        e.op(Op.Call, e.name("fib"), 1)
        e.op(Op.Jump, end)
        e.sub("fib")
        e.op(Op.SetSlot, 2)                                   # i = arg
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 0)                                   # a = 0
        e.op(Op.LoadInt, 1)
        e.op(Op.SetSlot, 1)                                   # b = 1
        e.bind(loop)
        e.op(Op.GetSlot, 2)
        e.op(Op.LoadInt, 0)
        e.op(Op.NumLe)
        e.op(Op.JumpIfTrue, done)
        e.op(Op.GetSlot, 0)
        e.op(Op.GetSlot, 1)
        e.op(Op.Add)
        e.op(Op.SetSlot, 3)                                   # t = a + b
        e.op(Op.GetSlot, 1)
        e.op(Op.SetSlot, 0)                                   # a = b
        e.op(Op.GetSlot, 3)
        e.op(Op.SetSlot, 1)                                   # b = t
        e.op(Op.GetSlot, 2)
        e.op(Op.Dec)
        e.op(Op.SetSlot, 2)                                   # i -= 1
        e.op(Op.Jump, loop)
        e.bind(done)
        e.op(Op.GetSlot, 0)
        e.op(Op.ReturnValue)
        e.bind(end)
    return emit


def _fib_recursive(n: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        end, recurse = e.label("end"), e.label("recurse")
        fib = e.name("fib")
        e.op(Op.LoadInt, n)
        e.op(Op.Call, fib, 1)
        e.op(Op.Jump, end)
        e.sub("fib")
        e.op(Op.SetSlot, 0)
        e.op(Op.GetSlot, 0)
        e.op(Op.LoadInt, 1)
        e.op(Op.NumLe)
        e.op(Op.JumpIfFalse, recurse)
        e.op(Op.GetSlot, 0)
        e.op(Op.ReturnValue)                                  # n <= 1: return n
        e.bind(recurse)
        e.op(Op.GetSlot, 0)
        e.op(Op.Dec)
        e.op(Op.Call, fib, 1)                                 # fib(n - 1)
        e.op(Op.GetSlot, 0)
        e.op(Op.LoadInt, 2)
        e.op(Op.Sub)
        e.op(Op.Call, fib, 1)                                 # fib(n - 2)
        e.op(Op.Add)
        e.op(Op.ReturnValue)
        e.bind(end)
    return emit


def _ackermann(m: int, n: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        end, n_zero_test, general = e.label("end"), e.label("n_zero"), e.label("general")
        ack = e.name("ack")
        e.op(Op.LoadInt, m)
        e.op(Op.LoadInt, n)
        e.op(Op.Call, ack, 2)
        e.op(Op.Jump, end)
        e.sub("ack")
        e.op(Op.SetSlot, 1)                                   # n
        e.op(Op.SetSlot, 0)                                   # m
        e.op(Op.GetSlot, 0)
        e.op(Op.LoadInt, 0)
        e.op(Op.NumEq)
        e.op(Op.JumpIfFalse, n_zero_test)
        e.op(Op.GetSlot, 1)
        e.op(Op.Inc)
        e.op(Op.ReturnValue)                                  # m == 0: n + 1
        e.bind(n_zero_test)
        e.op(Op.GetSlot, 1)
        e.op(Op.LoadInt, 0)
        e.op(Op.NumEq)
        e.op(Op.JumpIfFalse, general)
        e.op(Op.GetSlot, 0)
        e.op(Op.Dec)
        e.op(Op.LoadInt, 1)
        e.op(Op.Call, ack, 2)
        e.op(Op.ReturnValue)                                  # n == 0: ack(m - 1, 1)
        e.bind(general)
        e.op(Op.GetSlot, 0)
        e.op(Op.GetSlot, 1)
        e.op(Op.Dec)
        e.op(Op.Call, ack, 2)                                 # inner = ack(m, n - 1)
        e.op(Op.GetSlot, 0)
        e.op(Op.Dec)
        e.op(Op.Swap)
        e.op(Op.Call, ack, 2)                                 # ack(m - 1, inner)
        e.op(Op.ReturnValue)
        e.bind(end)
    return emit


# -- Sums, nested loops, strings, arrays ------------------------------------------------

def _sum_prologue(e: Emitter) -> None:
    e.op(Op.PushFrame)
    for slot in (0, 1):
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, slot)


def _sum_unfused(limit: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        top, done = e.label("top"), e.label("done")
        _sum_prologue(e)
        e.bind(top)
        e.op(Op.GetSlot, 0)
        e.op(Op.GetSlot, 1)
        e.op(Op.Add)
        e.op(Op.SetSlot, 0)
        e.fused(Op.PreIncSlotVoid, 1)
        e.fused(Op.SlotLtIntJumpIfFalse, 1, limit, done)
        e.op(Op.Jump, top)
        e.bind(done)
        e.op(Op.GetSlot, 0)
    return emit


def _sum_fused(limit: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        _sum_prologue(e)
        e.fused(Op.AccumSumLoop, 0, 1, limit)
        e.op(Op.GetSlot, 0)
    return emit


def _nested_loop(n: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        outer, inner = e.label("outer"), e.label("inner")
        _sum_prologue(e)
        e.bind(outer)
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 2)                                   # j = 0
        e.bind(inner)
        for slot in (0, 1, 2):
            e.op(Op.GetSlot, slot)
        e.op(Op.Add)
        e.op(Op.Add)
        e.op(Op.SetSlot, 0)                                   # sum += i + j
        e.fused(Op.SlotIncLtIntJumpBack, 2, n, inner)
        e.fused(Op.SlotIncLtIntJumpBack, 1, n, outer)
        e.op(Op.GetSlot, 0)
    return emit


def _nop_chunk(count: int) -> Callable[[bool], Chunk]:
    # Built directly, not through ChunkBuilder (emitting a million ops one by one is slow).
    # The VM still verifies each new chunk object once, about 11 s for a million ops, so
    # the fused build hands back the very same object when fusion changed nothing.
    @functools.cache
    def direct(fuse: bool) -> Chunk:
        if not fuse:
            return Chunk([(Op.Nop,)] * count + [(Op.LoadInt, 0)],
                         source="<bench dispatch_nop>")
        from fusevm.peephole.fuse import fuse as run_fusion
        plain = direct(False)
        fused = run_fusion(plain)
        return plain if fused.ops == plain.ops else fused
    return direct


def _string_build(n: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        x = e.const("x")
        e.op(Op.PushFrame)
        e.op(Op.LoadConst, x)
        e.op(Op.SetSlot, 0)
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 1)
        e.fused(Op.ConcatConstLoop, x, 0, 1, n)
        e.op(Op.GetSlot, 0)
    return emit


def _array_push(n: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        arr = e.name("arr")
        e.op(Op.DeclareArray, arr)
        e.op(Op.PushFrame)
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 0)
        e.fused(Op.PushIntRangeLoop, arr, 0, n)
        e.op(Op.ArrayLen, arr)
    return emit


# -- What a frontend emits: globals, hashes, strings built piece by piece --------------

def _float_globals(n: int) -> Callable[[Emitter], None]:
    """s = 0.0; i = 0.0; while i < n: s = i * 0.5 + s; i = i + 1.0 (s and i globals)."""
    def emit(e: Emitter) -> None:
        s, i = e.name("s"), e.name("i")
        top, done = e.label("top"), e.label("done")
        for var in (s, i):
            e.op(Op.LoadFloat, 0.0)
            e.op(Op.SetVar, var)
        e.bind(top)
        e.op(Op.GetVar, i)
        e.op(Op.LoadFloat, float(n))
        e.op(Op.NumLt)
        e.op(Op.JumpIfFalse, done)
        e.op(Op.GetVar, i)
        e.op(Op.LoadFloat, 0.5)
        e.op(Op.Mul)
        e.op(Op.GetVar, s)
        e.op(Op.Add)
        e.op(Op.SetVar, s)
        e.op(Op.GetVar, i)
        e.op(Op.LoadFloat, 1.0)
        e.op(Op.Add)
        e.op(Op.SetVar, i)
        e.op(Op.Jump, top)
        e.bind(done)
        e.op(Op.GetVar, s)
    return emit


def _word_count(n: int) -> Callable[[Emitter], None]:
    """counts[w] = counts[w] + 1 for each of `n` words (a global array of them, a global
    hash of counts; a missing count is undef, which adds as 0.0), then counts["w7"]."""
    def emit(e: Emitter) -> None:
        words, counts = e.name("words"), e.name("counts")
        top, done = e.label("top"), e.label("done")
        e.op(Op.DeclareHash, counts)
        e.op(Op.LoadConst, e.const(word_list(n)))
        e.op(Op.SetArray, words)
        e.op(Op.PushFrame)
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 0)
        e.bind(top)
        e.op(Op.GetSlot, 0)
        e.op(Op.ArrayLen, words)
        e.op(Op.NumLt)
        e.op(Op.JumpIfFalse, done)
        e.op(Op.GetSlot, 0)
        e.op(Op.ArrayGet, words)
        e.op(Op.Dup)
        e.op(Op.HashGet, counts)
        e.op(Op.LoadInt, 1)
        e.op(Op.Add)
        e.op(Op.Swap)
        e.op(Op.HashSet, counts)
        e.op(Op.GetSlot, 0)
        e.op(Op.Inc)
        e.op(Op.SetSlot, 0)
        e.op(Op.Jump, top)
        e.bind(done)
        e.op(Op.LoadConst, e.const("w7"))
        e.op(Op.HashGet, counts)
    return emit


def _string_concat(n: int) -> Callable[[Emitter], None]:
    """s = ""; for i in 0..n-1: s = s + str(i % 10): a string built from computed pieces,
    which no superinstruction covers."""
    def emit(e: Emitter) -> None:
        top, done = e.label("top"), e.label("done")
        e.op(Op.PushFrame)
        e.op(Op.LoadConst, e.const(""))
        e.op(Op.SetSlot, 0)
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 1)
        e.bind(top)
        e.op(Op.GetSlot, 1)
        e.op(Op.LoadInt, n)
        e.op(Op.NumLt)
        e.op(Op.JumpIfFalse, done)
        e.op(Op.GetSlot, 0)
        e.op(Op.GetSlot, 1)
        e.op(Op.LoadInt, 10)
        e.op(Op.Mod)
        e.op(Op.Concat)
        e.op(Op.SetSlot, 0)
        e.op(Op.GetSlot, 1)
        e.op(Op.Inc)
        e.op(Op.SetSlot, 1)
        e.op(Op.Jump, top)
        e.bind(done)
        e.op(Op.GetSlot, 0)
    return emit


# -- Straight-line slot code ------------------------------------------------------------

def _straight(body: tuple[tuple[Op, Any], ...], times: int) -> Callable[[Emitter], None]:
    def emit(e: Emitter) -> None:
        e.op(Op.GetSlot, 0)
        for _ in range(times):
            for op, operand in body:
                if operand is None:
                    e.op(op)
                else:
                    e.op(op, operand)
    return emit


_MIXED = ((Op.LoadInt, 3), (Op.Mul, None), (Op.LoadInt, 7), (Op.Add, None),
          (Op.LoadInt, 2), (Op.Sub, None))
_BITWISE = ((Op.LoadInt, 0xFF), (Op.BitAnd, None), (Op.LoadInt, 3), (Op.Shl, None),
            (Op.LoadInt, 0x1234), (Op.BitXor, None))
_FLOAT = ((Op.LoadFloat, 0.1), (Op.Add, None), (Op.LoadFloat, 1.001), (Op.Mul, None))


# -- The list -------------------------------------------------------------------------

def _loops() -> list[Workload]:
    out: list[Workload] = []
    counter = {1000: (24.0 * US, 309, 13.9 * US, 391, 510, 3.6 * US, 96, 136),
               10_000: (236.1 * US, 2.69 * US, 142 * US, 3.6 * US, 4.8 * US, 35.6 * US, 95,
                        math.nan),
               100_000: (2354 * US, 26.71 * US, 1.43 * MS, 36.6 * US, 48.2 * US, 358 * US, 95,
                         12.4 * US)}
    branch = {1000: (40.2 * US, 300, 18.5 * US, 396, 523, 5.1 * US, 97, math.nan),
              10_000: (410.3 * US, 2.68 * US, 185 * US, 3.7 * US, 4.9 * US, 51.6 * US, 101,
                       math.nan),
              100_000: (3942 * US, 26.46 * US, 1.84 * MS, 36.4 * US, 48.3 * US, 546 * US, 97,
                        24.9 * US)}
    keys = ("rust_interp", "rust_jit", "cpython", "pypy", "luajit", "lua", "numba", "c")
    folded = "numba: LLVM folded the loop to a closed form (F)."
    for base, table, emit, twin, what in (
            ("counter_loop", counter, counter_loop_emitter, "counter_loop",
             "i = 0; do { i += 1 } while (i < N); 5 ops/iteration"),
            ("loop_with_branch", branch, loop_with_branch_emitter, "loop_with_branch",
             "counter loop with an always-taken if; 10 ops/iteration")):
        for n, figures in table.items():
            pub = {k: v for k, v in zip(keys, figures, strict=True) if not math.isnan(v)}
            small = Workload(f"{base}_100", "loop", f"{what}, N = 100", emit(100), 100, twin,
                             (100,))
            out.append(Workload(
                f"{base}_{n // 1000}k", "loop", f"{what}, N = {n:,}", emit(n), n, twin, (n,),
                published=pub, published_note=folded, shrunk=small if n > 10_000 else None))
    return out


def _classic() -> list[Workload]:
    return [
        Workload("fib_iterative_35", "call", "iterative fib(35) in a called function",
                 _fib_iterative(35), 9227465, "fib_iterative", (35,),
                 published={"rust_interp": 2.7 * US, "cpython": 1.0 * US, "pypy": 201,
                            "luajit": 35, "lua": 379, "numba": 99, "c": 17}),
        Workload("fib_recursive_20", "call", "recursive fib(20): 21,891 calls",
                 _fib_recursive(20), 6765, "fib_recursive", (20,),
                 published={"rust_interp": 1.28 * MS, "cpython": 610 * US, "pypy": 260 * US,
                            "luajit": 51.8 * US, "lua": 301 * US, "numba": 30.7 * US,
                            "c": 12.5 * US}),
        Workload("ackermann_3_4", "call", "ackermann(3, 4): 10,307 calls, depth 127",
                 _ackermann(3, 4), 125, "ackermann", (3, 4),
                 published={"rust_interp": 774 * US, "cpython": 506 * US, "pypy": 655 * US,
                            "luajit": 26.4 * US, "lua": 148 * US, "numba": 21.2 * US,
                            "c": 7.7 * US}),
        Workload("sum_1m_unfused", "fusion", "sum 0..999,999 as a bytecode loop, 7 ops/iteration",
                 _sum_unfused(1_000_000), 499999500000, "sum_loop", (1_000_000,),
                 shrunk=Workload("sum_1k_unfused", "fusion", "sum 0..999", _sum_unfused(1000),
                                 499500, "sum_loop", (1000,)),
                 published={"rust_interp": 31.0 * MS, "rust_jit": 315 * US,
                            "cpython": 27.9 * MS, "pypy": 506 * US, "luajit": 481 * US,
                            "lua": 5.40 * MS, "numba": 96, "c": 247 * US},
                 published_note="numba: folded (F)."),
        Workload("sum_1m_fused", "fusion", "sum 0..999,999 as one AccumSumLoop",
                 _sum_fused(1_000_000), 499999500000, "sum_builtin", (1_000_000,),
                 shrunk=Workload("sum_1k_fused", "fusion", "sum 0..999", _sum_fused(1000),
                                 499500, "sum_builtin", (1000,)),
                 published={"rust_interp": 142, "cpython": 11.3 * MS, "pypy": 514 * US},
                 published_note="rust: rustc folded AccumSumLoop's loop to a closed form; "
                                "peers run sum(range(n)).",
                 note="python twin is sum(range(n)), the closest builtin to one fused op"),
        Workload("nested_loop_100x100", "fusion", "sum += i + j over 100 x 100",
                 _nested_loop(100), 990000, "nested_loop", (100,),
                 published={"rust_interp": 352 * US, "rust_jit": 9.5 * US,
                            "cpython": 260 * US, "pypy": 7.4 * US, "luajit": 7.5 * US,
                            "lua": 73.3 * US, "numba": 111, "c": 2.7 * US},
                 published_note="numba: folded (F)."),
        Workload("dispatch_nop_1m", "dispatch", "1,000,000 Nops then LoadInt 0",
                 None, 0, "empty_loop", (1_000_000,),
                 published={"rust_interp": 819 * US, "cpython": 10.2 * MS, "pypy": 488 * US,
                            "luajit": 241 * US, "lua": 2.47 * MS, "numba": 89},
                 published_note="rust includes a 1M-op chunk clone per run; peers run an "
                                "empty 1M-trip loop; numba folded (F).",
                 reuse_vm=True, direct=_nop_chunk(1_000_000),
                 shrunk=Workload("dispatch_nop_1k", "dispatch", "1,000 Nops", None, 0,
                                 "empty_loop", (1000,), reuse_vm=True, direct=_nop_chunk(1000)),
                 note="timed as run() on an already prepared VM (ip reset to 0): preparing "
                      "1M step closures costs far more than dispatching them"),
        Workload("string_build_10k", "fusion", "s = 'x'; append 'x' 10,000 times",
                 _string_build(10_000), "x" * 10_001, "string_build", (10_000,),
                 published={"rust_interp": 11.9 * US, "cpython": 332 * US,
                            "pypy": 5.22 * MS, "luajit": 3.44 * MS, "lua": 1.84 * MS,
                            "numba": 1.28 * MS, "c": 3.0 * US},
                 published_note="rust via ConcatConstLoop; peers use s += / .. "
                                "(join/table.concat are faster)."),
        Workload("array_push_10k", "fusion", "push 0..9,999 onto an array, then its length",
                 _array_push(10_000), 10_000, "array_push", (10_000,),
                 note="not a published anchor: the PushIntRangeLoop fusion workload"),
    ]


def _programs() -> list[Workload]:
    # (no published anchors: these are the shapes a language frontend emits)
    return [
        Workload("float_globals_100k", "program",
                 "s += i * 0.5 over Float globals s and i, 100,000 trips",
                 _float_globals(100_000), 2499975000.0, "float_globals", (100_000,),
                 shrunk=Workload("float_globals_100", "program", "the same, 100 trips",
                                 _float_globals(100), 2475.0, "float_globals", (100,))),
        Workload("word_count_10k", "program",
                 "count 10,000 words (100 distinct) in a global hash, read one count",
                 _word_count(10_000), 100.0, "word_count", (10_000,),
                 shrunk=Workload("word_count_200", "program", "the same, 200 words",
                                 _word_count(200), 2.0, "word_count", (200,))),
        Workload("string_concat_10k", "program",
                 "s = s + str(i % 10) for i below 10,000 (a string of computed pieces)",
                 _string_concat(10_000), string_concat_expected(10_000), "string_concat",
                 (10_000,),
                 shrunk=Workload("string_concat_100", "program", "the same, 100 pieces",
                                 _string_concat(100), string_concat_expected(100),
                                 "string_concat", (100,))),
    ]


def string_concat_expected(n: int) -> str:
    return "".join(str(i % 10) for i in range(n))


def _straight_line() -> list[Workload]:
    return [
        Workload("slot_mixed_100", "straight", "GetSlot 0 + 100 x (*3 +7 -2), wrapping; 601 ops",
                 _straight(_MIXED, 100), -3688508110453902894, "slot_mixed", (42,),
                 slots=(42,),
                 published={"rust_interp": 2.2 * US, "rust_jit": 75, "cpython": 11.0 * US,
                            "pypy": 7.3 * US, "luajit": 86, "lua": 635, "numba": 127,
                            "c": 36}),
        Workload("slot_bitwise_200", "straight", "200 x (&0xFF <<3 ^0x1234); 1201 ops",
                 _straight(_BITWISE, 200), 5780, "slot_bitwise", (0xDEADBEEF,),
                 slots=(0xDEADBEEF,),
                 published={"rust_interp": 6.6 * US, "rust_jit": 130, "cpython": 7.8 * US,
                            "pypy": 203, "luajit": 159, "lua": 1.2 * US, "numba": 134,
                            "c": 137}),
        Workload("slot_float_200", "straight", "200 x ((x + 0.1) * 1.001); 801 ops",
                 _straight(_FLOAT, 200), 23.3714793107695, "slot_float", (1,),
                 slots=(1,),
                 published={"rust_interp": 3.1 * US, "rust_jit": 246, "cpython": 3.8 * US,
                            "pypy": 326, "luajit": 302, "lua": 989, "numba": 374,
                            "c": 233}),
    ]


#: Every workload, in table order.
WORKLOADS: Final[tuple[Workload, ...]] = (*_loops(), *_classic(), *_programs(),
                                          *_straight_line())


def jit_module() -> tuple[ModuleType | None, str | None]:
    """`fusevm.bench.jit_workloads` if it exists and imports, else None and why not."""
    name = "fusevm.bench.jit_workloads"
    try:
        if importlib.util.find_spec(name) is None:
            return None, None
        return importlib.import_module(name), None
    except Exception as e:  # a module mid-edit must not stop the other benchmarks
        return None, f"{name} not loaded: {type(e).__name__}: {e}"


def all_workloads(warn: Callable[[str], None] | None = None) -> list[Workload]:
    """The workloads here plus those `fusevm.bench.jit_workloads.WORKLOADS` contributes.

    A contributed entry must be a `Workload`; anything else, a duplicate name, or a module
    that fails to import is skipped with a message to `warn`.
    """
    out = list(WORKLOADS)
    module, error = jit_module()
    if error is not None and warn is not None:
        warn(error)
    names = {w.name for w in out}
    for w in getattr(module, "WORKLOADS", ()):
        if not isinstance(w, Workload) or w.name in names:
            if warn is not None:
                what = getattr(w, "name", repr(w))
                warn(f"jit_workloads: skipped workload {what} (not a Workload, or a "
                     "duplicate name)")
            continue
        out.append(w)
        names.add(w.name)
    return out
