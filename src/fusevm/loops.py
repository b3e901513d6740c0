"""Where control can loop in a chunk: back edges, loop headers, natural loops, hot points.

Everything here is derived from the op table's BRANCH/TERMINATOR flags and TARGET operands.
A loop header is the target of a backward branch (a BRANCH op whose target is at or before
the op itself), whatever the layout: a bottom-tested loop branches back to its body, a
top-tested `while` jumps back to its test. Hot points are where the interpreter counts
entries for the tiers and where every tier polls for interrupts and budgets: loop headers,
function entries and higher-order block starts. Every unbounded execution passes one of
them over and over, so nothing needs a check per op (D18).
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.instr import SHAPES, Decoded, decode, shape
from fusevm.ops import F
from fusevm.records import dataclass


@dataclass(frozen=True, slots=True)
class LoopFacts:
    """The control facts of one chunk (its own code only, not its sub-chunks)."""

    succs: tuple[tuple[int, ...], ...]  # successors of each op (len(ops) is the end)
    back_edges: dict[int, tuple[int, ...]]  # loop header -> the ops branching back to it
    entries: tuple[int, ...]  # function entries and block starts, ascending
    hot_points: tuple[int, ...]  # loop headers and entries, ascending
    returns: frozenset[int]  # ops that leave their function (the table's RETURN flag)
    #: Block start -> the op indices its blocks end at (blocks may share a start: one
    #: ending where another goes on).
    block_ends: dict[int, frozenset[int]]
    branches: tuple[int, ...]  # the ops that may branch (the table's BRANCH flag)

    @property
    def headers(self) -> tuple[int, ...]:
        return tuple(sorted(self.back_edges))


#: The key of a chunk's LoopFacts in `Chunk.derived` (so they are worked out once per chunk
#: object and go with it).
_FACTS = "loop_facts"


def successors(d: Decoded, ip: int) -> tuple[int, ...]:
    """Where control may go after op `ip` (targets first, then the fall-through)."""
    out = list(d.targets()) if d.spec.has(F.BRANCH) else []
    if not d.spec.has(F.TERMINATOR):
        out.append(ip + 1)
    return tuple(out)


def loop_facts(chunk: Chunk) -> LoopFacts:
    """The loop facts of a (verified) chunk, computed once per chunk object."""
    found: LoopFacts | None = chunk.derived.get(_FACTS)
    if found is not None:
        return found
    n = len(chunk.ops)
    succs: list[tuple[int, ...]] = []
    back: dict[int, list[int]] = {}
    returns: set[int] = set()
    branches: list[int] = []
    for ip, instr in enumerate(chunk.ops):
        spec = instr[0].spec
        kind = SHAPES.get(id(spec))
        if kind is None or kind[0] is not spec:
            kind = shape(spec)
        if kind[1]:  # (an extension op: its own row's flags)
            kind = shape(decode(instr).spec)
        if kind[2]:
            returns.add(ip)
        if not kind[3]:
            succs.append(() if kind[4] else (ip + 1,))
            continue
        out = successors(decode(instr), ip)
        succs.append(out)
        branches.append(ip)
        for t in out:
            if t <= ip:
                back.setdefault(t, []).append(ip)
    entries = {ip for _, ip in chunk.sub_entries if 0 <= ip < n}
    entries.update(start for start, _ in chunk.block_ranges if 0 <= start < n)
    # The root's entry too: a VM that runs its chunk again (a host's loop, a benchmark)
    # enters it each time.
    hot = sorted(entries | {h for h in back if h < n} | ({0} if n else set()))
    found = LoopFacts(tuple(succs), {h: tuple(v) for h, v in back.items()},
                      tuple(sorted(entries)), tuple(hot), frozenset(returns),
                      _ends(chunk.block_ranges), tuple(branches))
    chunk.derived[_FACTS] = found
    return found


def facts_tree(chunk: Chunk) -> tuple[object, ...] | None:
    """The loop facts worked out for `chunk` as plain values (`marshal` writes them: a
    compile cache keeps them with the chunk), or None when none are yet."""
    found: LoopFacts | None = chunk.derived.get(_FACTS)
    if found is None:
        return None
    return (found.succs, found.back_edges, found.entries, found.hot_points, found.returns,
            found.block_ends, found.branches)


def adopt_facts(chunk: Chunk, tree: object) -> None:
    """Give `chunk` the loop facts `facts_tree` made of an equal chunk (one read back from
    a compile cache); ValueError when `tree` cannot be such facts."""
    if (type(tree) is not tuple or len(tree) != 7 or type(tree[0]) is not tuple
            or len(tree[0]) != len(chunk.ops) or type(tree[1]) is not dict
            or type(tree[4]) is not frozenset or type(tree[5]) is not dict):
        raise ValueError("the loop facts do not fit the chunk")
    chunk.derived[_FACTS] = LoopFacts(*tree)


def predecessors(chunk: Chunk, facts: LoopFacts) -> dict[int, list[int]]:
    """The ops that may run right before each op (`facts` are the chunk's), worked out
    once per chunk object and only when asked: a VM that never looks into a loop does
    without them."""
    found: dict[int, list[int]] | None = chunk.derived.get(_PREDS)
    if found is None:
        found = chunk.derived[_PREDS] = _predecessors(facts)
    return found


_PREDS = "loop_preds"


def _predecessors(facts: LoopFacts) -> dict[int, list[int]]:
    preds: dict[int, list[int]] = {}
    for ip, out in enumerate(facts.succs):
        for t in out:
            if t in preds:
                preds[t].append(ip)
            else:
                preds[t] = [ip]
    return preds


def natural_loop(facts: LoopFacts, header: int,
                 preds: dict[int, list[int]] | None = None) -> frozenset[int]:
    """The ops of the natural loop of `header`: those that reach a back edge into it
    without passing through it (inner loops included). `preds`: the chunk's
    `predecessors`, when known."""
    if preds is None:
        preds = _predecessors(facts)
    body = {header}
    work = [src for src in facts.back_edges.get(header, ()) if src != header]
    body.update(work)
    while work:
        ip = work.pop()
        for p in preds.get(ip, ()):
            if p not in body:
                body.add(p)
                work.append(p)
    return frozenset(body)


def contiguous_loop(facts: LoopFacts, header: int) -> frozenset[int] | None:
    """The natural loop of `header` when it is the ops from `header` to its last back
    edge, found without the chunk's predecessors (the common shape of a loop that holds
    no early return: what a first look at a loop asks, cheaply); else None.

    It is when each op before that back edge falls through to the next (so each reaches
    it without passing `header`) and no branch from outside the range lands inside it
    after `header` (so no op outside reaches it but through `header`)."""
    sources = facts.back_edges.get(header)
    if not sources:
        return None
    last = max(sources)
    succs = facts.succs
    for ip in range(header, last):
        if succs[ip][-1:] != (ip + 1,):  # (a fall-through is the last successor)
            return None
    return frozenset(range(header, last + 1)) if entered_at(facts, header, last) else None


def entered_at(facts: LoopFacts, header: int, last: int) -> bool:
    """Whether no branch from outside the ops `header` to `last` lands among them but at
    `header`."""
    succs = facts.succs
    for b in facts.branches:
        if (b < header or b > last) and any(header < t <= last for t in succs[b]):
            return False
    return True


def ops_per_entry(facts: LoopFacts, h: int, size: int) -> int:
    """About how many ops run per entry of hot point `h` of a chunk of `size` ops: the
    span of its loop (header to the last op branching back), or of its function or block
    (to the next entry). What a tier weighs its own loading against."""
    sources = facts.back_edges.get(h)
    if sources:
        return max(sources) - h + 1
    later = [e for e in facts.entries if e > h]
    return (min(later) if later else size) - h


def code_from(facts: LoopFacts, entry: int) -> frozenset[int]:
    """The ops of the code entered at `entry` (the root, a function entry or a block
    start): those reachable from it, its returns included but not followed, and not the
    end of its block, where it hands back to the op that ran it (of any block starting
    there: which one runs is known only at run time, by the dispatch loop that stops at
    its end; compiled code leaves at each end, to go on only in the interpreter)."""
    ends = facts.block_ends.get(entry)
    if ends is None:
        return reachable_until(facts, entry, facts.returns)
    return reachable_until(facts, entry, facts.returns | ends) - ends


def crossed_end(facts: LoopFacts, ops: frozenset[int] | set[int]) -> int | None:
    """A block's end among `ops` that code of that block shares ops with, or None.

    Compiled code is entered at its hot points by whatever frame runs there: when a
    block runs ops of code compiled for another region (a block laid out inside the
    root's code or inside another block), that code must not go on past the block's
    end, where the interpreter's dispatch loop ends the block. Code crossing such an
    end is left to the interpreter (which then enters the smaller regions within it)."""
    for start, ends in facts.block_ends.items():
        for end in ends & ops:
            if not reachable_until(facts, start, facts.returns | {end}).isdisjoint(ops - {end}):
                return end
    return None


def _ends(ranges: tuple[tuple[int, int], ...]) -> dict[int, frozenset[int]]:
    ends: dict[int, set[int]] = {}
    for start, end in ranges:
        ends.setdefault(start, set()).add(end)
    return {start: frozenset(found) for start, found in ends.items()}


def reachable_until(facts: LoopFacts, entry: int, stop: frozenset[int]) -> frozenset[int]:
    """Ops reachable from `entry` without passing through an op in `stop` (which are
    included but not followed)."""
    n = len(facts.succs)
    seen = {entry}
    work = [entry]
    while work:
        ip = work.pop()
        if ip in stop:
            continue
        for t in facts.succs[ip]:
            if t < n and t not in seen:
                seen.add(t)
                work.append(t)
    return frozenset(seen)
