"""The fusion pass: `fuse(chunk)` rewrites plain op sequences into fused superinstructions.

It reads a verified chunk and returns an equivalent one (D14) with the same constants, names,
slot count and source; sub-chunks are fused the same way. The patterns are the op table's
`fuses` texts (`peephole.pattern`); there is no other list. One round works on core ops:

1. expand any fused op already present into its exact sequence (so input that was fused
   by hand, or by an earlier run, is treated like plain code);
2. rewrite the jump that closes a loop where that lets the loop's bottom fuse: loop
   inversion turns a `Jump top` whose target starts with a straight-line test ending in
   `JumpIfFalse end`, with `end` the op after the Jump, into a copy of the test ending in
   `JumpIfTrue <after the test>`; a branch over a jump, `JumpIfFalse end; Jump top; end:`,
   becomes `JumpIfTrue top`. Both are exact, and both let `GetSlot i; Inc; SetSlot i` plus
   the test fuse into one back-edge op. A rewrite is kept only when that fusion really
   happens, and a loop is never inverted when a whole-loop fusion covers it;
3. fuse: choose the non-overlapping pattern matches that leave the fewest ops (ties go to
   the longer pattern, so a whole loop wins over the smaller fusions inside it). No window
   has a jump target, sub entry or block-range edge strictly inside it.

Every rewrite builds an old-to-new index map and remaps every TARGET operand (extension
ops included, through `fusevm.instr.decode`), sub entries and block ranges; a fused op
takes the line of its window's first op. Rounds repeat until the chunk stops changing, so
`fuse(fuse(c)) == fuse(c)`. `unfuse(c)` is step 1 alone: the plain code behind a chunk.
"""

from __future__ import annotations

import sys

from fusevm.instr import Instr, decode, with_operands
from fusevm.memo import Memo
from fusevm.ops import EXTENDED_OPS, F, Op
from fusevm.peephole.pattern import BY_OP, MAX_LEN, STARTING_WITH, Pattern, expand, match
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from fusevm.chunk import Chunk

if TYPE_CHECKING:
    from typing import Any, Final
else:
    Any = object  # run-time stand-in: only the type checker reads it

__all__ = ["fuse", "unfuse"]

#: Rounds after which the pass stops even without a fixed point (two always suffice:
#: the second only confirms the first).
MAX_ROUNDS: Final = 6

#: TARGET operand positions of each core op (extension ops are decoded instead), kept as
#: ops are met: building them all would build every op's spec (`fusevm.ops.table.spec`).
_TARGETS: Final[dict[Op, tuple[int, ...]]] = Memo(
    lambda op: tuple(i + 1 for i in op.spec.targets), 1 << 16)
#: Ops a loop test may not contain if it is to be copied to the loop's bottom: anything
#: that leaves the straight line or depends on where it sits.
_NOT_COPYABLE: Final = (F.BRANCH | F.TERMINATOR | F.CALL | F.RETURN | F.SCOPE | F.EXTENDED
                        | F.BLOCK_CALL | F.SHELL)


@dataclass(slots=True)
class _Code:
    """A chunk's mutable parts while the pass works on them."""

    ops: list[Instr]
    lines: list[int]
    entries: list[tuple[int, int]]
    ranges: list[tuple[int, int]]

    @classmethod
    def of(cls, chunk: Chunk) -> _Code:
        return cls(list(chunk.ops), list(chunk.lines), list(chunk.sub_entries),
                   list(chunk.block_ranges))


Piece = tuple[list[Instr], int]  # replacement ops for one old op (targets in old numbering)


# -- Rebuilding with an index map ----------------------------------------------------------


def _rebuild(code: _Code, pieces: Sequence[Piece | None]) -> _Code:
    """Replace op i by pieces[i] (None keeps it; an empty list drops it) and remap.

    Targets inside the replacement ops are still in the old numbering; every TARGET
    operand, sub entry and block range is mapped to the new numbering here. Nothing may
    target a dropped op (the inside of a fusion window, or a jump a rewrite removed).
    """
    old_n = len(code.ops)
    new_at = [0] * (old_n + 1)
    dropped = bytearray(old_n + 1)
    ops: list[Instr] = []
    lines: list[int] = []
    for i, ins in enumerate(code.ops):
        new_at[i] = len(ops)
        piece = pieces[i]
        if piece is None:
            ops.append(ins)
            lines.append(code.lines[i])
        else:
            new_ops, line = piece
            if not new_ops:
                dropped[i] = 1
            ops.extend(new_ops)
            lines.extend([line] * len(new_ops))
    new_at[old_n] = len(ops)

    def remap(t: int) -> int:
        assert not dropped[t], f"target {t} points at a removed op"
        return new_at[t]

    for j, ins in enumerate(ops):
        op = ins[0]
        if op in EXTENDED_OPS:
            d = decode(ins)
            if d.spec.targets:
                vals = list(d.operands)
                for i in d.spec.targets:
                    vals[i] = remap(vals[i])
                ops[j] = with_operands(d, tuple(vals))
            continue
        positions = _TARGETS[op]
        if positions:
            vals = list(ins)
            for i in positions:
                vals[i] = remap(vals[i])
            ops[j] = tuple(vals)
    return _Code(ops, lines, [(n, remap(ip)) for n, ip in code.entries],
                 [(remap(a), remap(b)) for a, b in code.ranges])


def _targets_of(ins: Instr) -> Iterable[int]:
    op = ins[0]
    if op in EXTENDED_OPS:
        return decode(ins).targets()
    return [ins[i] for i in _TARGETS[op]]


@dataclass(slots=True)
class _Edges:
    """Where control may enter other than from the previous op.

    `any[q]` is 1 when op q is a jump target, sub entry or block-range edge. `block_end[q]`
    is 1 when q ends a block range: a block runs until the dispatch loop reaches its end by
    any route, a jump included (D3), so code that passes through a block end must keep
    doing so op by op.
    """

    any: bytearray
    block_end: bytearray


def _edges(code: _Code) -> _Edges:
    n = len(code.ops) + 1
    out = bytearray(n)
    ends = bytearray(n)
    for ins in code.ops:
        for t in _targets_of(ins):
            out[t] = 1
    for _, ip in code.entries:
        out[ip] = 1
    for a, b in code.ranges:
        out[a] = out[b] = ends[b] = 1
    return _Edges(out, ends)


# -- Step 1: expansion ---------------------------------------------------------------------


def _expand(code: _Code) -> _Code:
    """Replace every fused op by its exact core sequence."""
    pieces: list[Piece | None] = [None] * len(code.ops)
    any_fused = False
    for i, ins in enumerate(code.ops):
        pat = BY_OP.get(ins[0])
        if pat is not None:
            pieces[i] = (expand(pat, ins[1:], i, i + 1), code.lines[i])
            any_fused = True
    return _rebuild(code, pieces) if any_fused else code


# -- Step 2: loop-closing rewrites ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rewrite:
    """Replace `count` ops from `start` by `ops` (whose targets use the old numbering)."""

    start: int
    count: int
    ops: tuple[Instr, ...]
    line: int


#: A conditional branch and its opposite.
_FLIP: Final = {Op.JumpIfFalse: Op.JumpIfTrue, Op.JumpIfTrue: Op.JumpIfFalse}


def _test_length(ops: Sequence[Instr], t: int, jump: int) -> int | None:
    """Length of the loop test at `t` for the `Jump t` at `jump`, or None.

    The test is straight-line copyable ops ending in `JumpIfFalse jump+1`, entirely before
    the jump. Its length is bounded by the longest pattern: a longer one could never be
    part of a back-edge fusion.
    """
    for k in range(1, MAX_LEN + 1):
        q = t + k - 1
        if q >= jump:
            return None
        ins = ops[q]
        op = ins[0]
        if op is Op.JumpIfFalse:
            return k if ins[1] == jump + 1 else None
        if op.spec.flags & _NOT_COPYABLE:
            return None
    return None


def _loop_rewrites(code: _Code, edges: _Edges) -> list[_Rewrite]:
    """Exact rewrites of the `Jump` that closes a loop, each to be kept only if it fuses.

    - branch over a jump: `JumpIfFalse next; Jump t; next:` is `JumpIfTrue t` (and the
      other way round), when nothing else jumps to the `Jump`;
    - loop inversion: `Jump t` where `t` starts a test ending in `JumpIfFalse next` becomes
      a copy of the test ending in `JumpIfTrue <after the test>`. The copy runs exactly
      the ops the jump would have run, so this holds whatever the test contains (as long
      as it is straight-line code that does not depend on where it sits).
    """
    ops = code.ops
    boundary = edges.any
    out: list[_Rewrite] = []
    for j, ins in enumerate(ops):
        if ins[0] is not Op.Jump:
            continue
        t = ins[1]
        prev = ops[j - 1] if j else None
        if prev is not None and prev[0] in _FLIP and prev[1] == j + 1 and not boundary[j]:
            out.append(_Rewrite(j - 1, 2, ((_FLIP[prev[0]], t),), code.lines[j - 1]))
            continue
        if t >= j:
            continue
        k = _test_length(ops, t, j)
        if k is None:
            continue
        # The jump runs the test from its first op: if a block ends there or inside it,
        # the jump stops a block run that the copy would not stop.
        if edges.block_end.find(1, t, t + k) >= 0 or boundary.find(1, t + 1, t + k) >= 0:
            continue
        # A fusion starting at the loop header that reaches the jump (a whole-loop op)
        # beats inverting the loop.
        if any(t + pat.size > j and match(pat, ops, t, boundary) is not None
               for pat in STARTING_WITH.get(ops[t][0], ())):
            continue
        copy = (*ops[t:t + k - 1], (Op.JumpIfTrue, t + k))
        out.append(_Rewrite(j, 1, copy, code.lines[j]))
    return out


def _rewrite(code: _Code, rewrites: Sequence[_Rewrite]) -> tuple[_Code, list[int]]:
    """Apply non-overlapping rewrites; returns the code and each rewrite's new start."""
    pieces: list[Piece | None] = [None] * len(code.ops)
    for r in rewrites:
        pieces[r.start] = (list(r.ops), r.line)
        for q in range(r.start + 1, r.start + r.count):
            pieces[q] = ([], 0)
    new = _rebuild(code, pieces)
    where = []
    shift = 0
    for r in sorted(rewrites, key=lambda r: r.start):
        where.append(r.start + shift)
        shift += len(r.ops) - r.count
    return new, where


# -- Step 3: selection ----------------------------------------------------------------

Window = tuple[int, Pattern, tuple[Any, ...]]


def _select(code: _Code, edges: _Edges) -> list[Window]:
    """Fusion windows that leave the fewest ops (ties: the longer pattern, then leftmost).

    Patterns overlap (a forwarded store lets `PreIncSlot` start where `PreIncSlotVoid`
    followed by `SlotLtIntJumpIfFalse` would fit better), so plain longest-first greed can
    lose fusions; a right-to-left pass over the positions picks the best tiling instead.
    """
    ops = code.ops
    boundary, block_end = edges.any, edges.block_end
    n = len(ops)
    cost = [0] * (n + 1)
    choice: list[tuple[Pattern, tuple[Any, ...]] | None] = [None] * n
    for p in range(n - 1, -1, -1):
        best = cost[p + 1] + 1
        pick: tuple[Pattern, tuple[Any, ...]] | None = None
        # Longest first, and only a strictly better cost replaces a pick, so ties go to
        # the longer pattern and to fusing here rather than later.
        for pat in STARTING_WITH.get(ops[p][0], ()):
            if p + pat.size > n:
                continue
            c = cost[p + pat.size] + 1
            if pat.loops and block_end[p]:
                continue  # iterating inside one op would run past the block's end
            if c < best or (c == best and pick is None):
                operands = match(pat, ops, p, boundary)
                if operands is not None:
                    best, pick = c, (pat, operands)
        cost[p] = best
        choice[p] = pick
    out: list[Window] = []
    p = 0
    while p < n:
        pick = choice[p]
        if pick is None:
            p += 1
        else:
            out.append((p, pick[0], pick[1]))
            p += len(pick[0])
    return out


def _covered(windows: list[Window], starts: list[int], first: int, length: int) -> bool:
    """Whether ops [first, first+length) all lie in one window."""
    # (bisect is a C extension module: loading it costs a process about as much as
    # importing a module of ours, so only chunks with loops to rewrite load it.)
    from bisect import bisect_right  # noqa: PLC0415

    i = bisect_right(starts, first) - 1
    if i < 0:
        return False
    p, pat, _ = windows[i]
    return first + length <= p + pat.size


def _apply(code: _Code, windows: list[Window]) -> _Code:
    if not windows:
        return code
    pieces: list[Piece | None] = [None] * len(code.ops)
    for p, pat, operands in windows:
        pieces[p] = ([(pat.op, *operands)], code.lines[p])
        for q in range(p + 1, p + pat.size):
            pieces[q] = ([], 0)
    return _rebuild(code, pieces)


# -- The pass ----------------------------------------------------------------------------------


def _round(code: _Code) -> _Code:
    code = _expand(code)
    edges = _edges(code)
    rewrites = sorted(_loop_rewrites(code, edges), key=lambda r: r.start)
    if rewrites:
        tried, where = _rewrite(code, rewrites)
        windows = _select(tried, _edges(tried))
        starts = [w[0] for w in windows]
        useful = [r for r, at in zip(rewrites, where)
                  if _covered(windows, starts, at, len(r.ops))]
        if len(useful) == len(rewrites):
            return _apply(tried, windows)
        if useful:
            # Each rewrite only touches its own loop's closing ops, so the useful ones
            # stay useful without the others.
            tried, _ = _rewrite(code, useful)
            return _apply(tried, _select(tried, _edges(tried)))
    return _apply(code, _select(code, edges))


#: Ops without which a chunk has nothing to fuse: pattern starts, fused ops (expanded
#: and refused) and the loop-closing jump.
_RELEVANT: Final = frozenset(STARTING_WITH) | frozenset(BY_OP) | {Op.Jump}


def _same(a: _Code, b: _Code) -> bool:
    return a.ops == b.ops and a.lines == b.lines and a.entries == b.entries \
        and a.ranges == b.ranges


def _valid(chunk: Chunk) -> None:
    """TypeError for what is not a chunk; BuildError for a chunk the verifier refuses."""
    # (the chunk class, by its module: `fusevm.chunk` loads this one, and is loaded)
    if not isinstance(chunk, sys.modules["fusevm.chunk"].Chunk):
        raise TypeError(f"expected a Chunk, not {type(chunk).__name__}")
    if not chunk.is_verified():
        from fusevm.verify import verify
        verify(chunk)


def fuse(chunk: Chunk) -> Chunk:
    """Return a chunk equivalent to `chunk` (D14) with its fusable sequences fused.

    `chunk` must be valid (ChunkBuilder.build verifies before it fuses; another chunk is
    verified first). Fusing a fused chunk returns an equal chunk.
    """
    _valid(chunk)
    subs = tuple(fuse(sub) for sub in chunk.sub_chunks)
    if _RELEVANT.isdisjoint({ins[0] for ins in chunk.ops}):
        if all(a is b for a, b in zip(subs, chunk.sub_chunks)):
            return chunk
        return type(chunk)(chunk.ops, chunk.constants, chunk.names, chunk.lines,
                           chunk.slot_count, subs, chunk.block_ranges, chunk.sub_entries,
                           chunk.source)
    code = _Code.of(chunk)
    for _ in range(MAX_ROUNDS):
        new = _round(code)
        if _same(new, code):
            break
        code = new
    if _same(code, _Code.of(chunk)) and all(a is b for a, b in zip(subs, chunk.sub_chunks)):
        return chunk
    result = type(chunk)(code.ops, chunk.constants, chunk.names, code.lines,
                         chunk.slot_count, subs, code.ranges, code.entries, chunk.source)
    if __debug__:
        from fusevm.verify import verify
        verify(result)
    return result


def unfuse(chunk: Chunk) -> Chunk:
    """Return `chunk` (and its sub-chunks) with every fused op replaced by its exact core
    sequence from the table, targets, entries and block ranges remapped: the plain code
    `fuse` starts from, for running a chunk that was fused by hand truly unfused."""
    _valid(chunk)
    subs = tuple(unfuse(sub) for sub in chunk.sub_chunks)
    code = _expand(_Code.of(chunk))
    if code.ops == list(chunk.ops) and all(a is b for a, b in zip(subs, chunk.sub_chunks)):
        return chunk
    return type(chunk)(code.ops, chunk.constants, chunk.names, code.lines, chunk.slot_count,
                       subs, code.ranges, code.entries, chunk.source)
