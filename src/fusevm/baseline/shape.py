"""The control structure of region code: which runs of blocks are Python loops, which
branches are an `if`/`else` around the blocks they choose between, which block tests a
dispatch can pass, and the constants loop intervals widen to.

Region code (`codegen`) lays a region's basic blocks out in op order, each behind a
`pc` test, so that any jump can be a `pc = <target>; continue`. Where the graph has the
shape of structured code the generator writes it that way instead, and the tests and the
`pc` traffic go: these functions find those shapes in a region's blocks.
"""

from __future__ import annotations

from fusevm.baseline.regions import Region, inline
from fusevm.ops import F, Kind
from fusevm.verify import Analysis

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

#: The placeholder of a block's test (`#TEST <first op>`): `if pc <= <first op>:` where a
#: dispatch may pass it with a later target, else `if True:`, which `without_nops` then
#: drops (its block moved out a level).
TEST = "#TEST"
#: The placeholder of a loop's back edge setting `pc` (`#BACK <first op> <last op>`), which
#: it need not when no dispatch goes to a later op of the loop: `pc` then never leaves
#: the loop's first op or an earlier one, so every block test in it is true anyway.
BACK = "#BACK"

#: A basic block: its first op and its ops (None: no block).
Block = tuple[int, list[int]]
Part = Block | None


def successors(an: Analysis, region: Region, last: int) -> list[int]:
    """Where control goes from op `last` (a block's last) within the region."""
    d = an.decoded[last]
    out: list[int] = []
    if inline(d) and d.spec.has(F.BRANCH):
        out.extend(t for t in d.targets() if t in region.ops)
    if not d.spec.has(F.TERMINATOR) and last + 1 in region.ops:
        out.append(last + 1)
    return out


def reentered(an: Analysis, region: Region) -> bool:
    """Whether some op of the region branches back to its first op."""
    return any(region.entry in successors(an, region, ip) for ip in region.ops)


#: How many of Python's statically nested blocks (CPython allows 20 in a function) the
#: loops of region code may take: the `try` and the `while True` around the blocks take
#: two more, and an op's body may hold a `try` of its own. A loop takes one (`while`),
#: two at a hot point (its `for` over the poll ticks, `codegen.open_loop`).
LOOP_BLOCKS = 16


def loops(an: Analysis, region: Region, blocks: list[Block]) -> set[tuple[int, int]]:
    """Runs of blocks (first and last index) written as Python loops: each from a block
    to one that branches back to its start, leaving only forward (past its last op), and
    nested in each other properly, no deeper than LOOP_BLOCKS allows. (A back edge with
    no loop of its own is a `pc` dispatch of the loop around it: many `next`s or
    `continue`s branch back to one header, each from a block of its own.)"""
    def cost(j: int) -> int:
        return 2 if blocks[j][0] in region.hot else 1
    index = {start: k for k, (start, _) in enumerate(blocks)}
    found: list[tuple[int, int]] = []
    for k, (_, ips) in enumerate(blocks):
        d = an.decoded[ips[-1]]
        if not (inline(d) and d.spec.has(F.BRANCH)):
            continue
        for t in d.targets():
            j = index.get(t)
            if j is not None and j <= k:
                found.append((j, k))
    chosen: set[tuple[int, int]] = set()
    for j, k in sorted(set(found), key=lambda r: (r[0], -r[1])):
        first = blocks[j][0]
        if any(t < first for m in range(j, k + 1)
               for t in successors(an, region, blocks[m][1][-1])):
            continue  # a jump back out of it: the block tests must see it
        if not all(k2 < j or j2 > k or j2 <= j <= k <= k2 or j <= j2 <= k2 <= k
                   for j2, k2 in chosen):
            continue
        # (In this order a loop chosen later never holds one chosen earlier: the loops
        # around this one are all chosen already.)
        if cost(j) + sum(cost(j2) for j2, k2 in chosen if j2 <= j <= k <= k2) > LOOP_BLOCKS:
            continue
        chosen.add((j, k))
    return chosen


def diamonds(an: Analysis, region: Region, blocks: list[Block],
             nests: set[tuple[int, int]]) -> dict[int, tuple[Block, Part]]:
    """The conditional branches written as an `if` around the blocks they choose between:
    by branch op, the block run when it is not taken and the one run when it is (None:
    none, it goes straight to where the other ends). Each such block is entered from the
    branch alone, runs ops with a body and no branch but a last `Jump` to where the other
    one ends (the join), and the join is no hot point: no dispatch can enter them, so
    they need no block test, and the branch none. `nests`: the loops (`loops`), whose
    first and last blocks stay where they are."""
    preds: dict[int, int] = {}
    for _, ips in blocks:
        for t in successors(an, region, ips[-1]):
            preds[t] = preds.get(t, 0) + 1
    in_loops = {blocks[j][0] for pair in nests for j in pair}

    def single(k: int) -> bool:
        start, ips = blocks[k]
        return (preds.get(start) == 1 and start not in region.entries
                and start not in region.hot and start not in in_loops
                and all(inline(an.decoded[ip]) for ip in ips)
                and not any(an.decoded[ip].spec.has(F.BRANCH) for ip in ips[:-1]))

    def ends_with(k: int) -> int | None:
        """Where block k goes on: its fall-through, or its last op's `Jump` target."""
        ips = blocks[k][1]
        d = an.decoded[ips[-1]]
        if not d.spec.has(F.BRANCH):
            return None if d.spec.has(F.TERMINATOR) else ips[-1] + 1
        targets = d.targets()
        return targets[0] if d.spec.has(F.TERMINATOR) and len(targets) == 1 else None

    out: dict[int, tuple[Block, Part]] = {}
    for k in range(len(blocks) - 2):
        last = blocks[k][1][-1]
        d = an.decoded[last]
        if not (inline(d) and d.ext is None and d.spec.has(F.BRANCH)) or \
                d.spec.has(F.TERMINATOR) or len(d.targets()) != 1:
            continue
        target = d.targets()[0]
        then = blocks[k + 1]
        if not single(k + 1):
            continue
        after = ends_with(k + 1)
        if after == target == blocks[k + 2][0] and target not in region.hot:
            out[last] = (then, None)  # if-then
            continue
        if (k + 3 < len(blocks) and target == blocks[k + 2][0] and single(k + 2)
                and after == blocks[k + 3][0] == ends_with(k + 2)
                and after not in region.hot
                and not an.decoded[blocks[k + 2][1][-1]].spec.has(F.BRANCH)):
            out[last] = (then, blocks[k + 2])  # if-then-else
    return out


def dispatch_line(placeholder: str, dispatch: set[tuple[int, int]]) -> str:
    """The line for a `TEST` or `BACK` placeholder, given every dispatch the code makes:
    (the first op whose block test it passes, its target)."""
    if placeholder.startswith(TEST):
        start = int(placeholder[len(TEST):])
        needed = any(o <= start < t for o, t in dispatch)
        return f"if pc <= {start}:" if needed else "if True:"
    first, last = map(int, placeholder[len(BACK):].split())
    needed = any(first < t <= last for _, t in dispatch)
    return f"pc = {first}" if needed else "# back edge"


def without_nops(lines: list[str]) -> list[str]:
    """Generated code's `lines` without the lines CPython would run as a NOP on every turn
    of a loop: each `if True:` (`dispatch_line`) is made blank and its block moved out one
    level, and each `pass` that a statement follows in its block is made blank. Every line
    stays where it was: line numbers locate the ops."""
    return _spare_passes_blank(_if_true_flattened(lines))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_code(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _if_true_flattened(lines: list[str]) -> list[str]:
    out = list(lines)
    for i, line in enumerate(out):
        if line.strip() != "if True:":
            continue
        depth = _indent(line)
        end = i + 1
        while end < len(out) and (not _is_code(out[end]) or _indent(out[end]) > depth):
            end += 1
        if end < len(out) and out[end].strip().startswith(("else", "elif")):
            continue  # (its `else` would have no `if`)
        out[i] = ""
        for k in range(i + 1, end):
            if out[k].startswith(" " * (depth + 4)):
                out[k] = out[k][4:]
    return out


def _spare_passes_blank(lines: list[str]) -> list[str]:
    out = list(lines)
    for i, line in enumerate(lines):
        if line.strip() != "pass":
            continue
        for following in lines[i + 1:]:
            if _is_code(following):
                if _indent(following) == _indent(line):
                    out[i] = ""
                break
    return out


#: Operand kinds that are values of the program (`marks`).
_VALUE_KINDS = (Kind.INT, Kind.I32, Kind.U8)


def marks(constants: Sequence[Any], an: Analysis, region: Region) -> set[int]:
    """Where a growing interval is widened to (`ranges.widen`): the region's int operands
    (and one either side, for `<` and `<=`), which are what its loop tests compare with."""
    out: set[int] = set()
    for ip in region.ops:
        d = an.decoded[ip]
        for o, v in zip(d.spec.operands, d.operands):
            # Slot numbers, names, targets and counts are not values a test compares
            # with: as marks they would only add rounds (each round re-analyses the
            # region's ops).
            if o.kind is Kind.CONST and 0 <= v < len(constants):
                v = constants[v]
            elif o.kind not in _VALUE_KINDS:
                continue
            if type(v) is int:
                out.update((v - 1, v, v + 1))
    return out
