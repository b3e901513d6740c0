"""What the baseline tier compiles as one Python function: code regions and their blocks.

A chunk's code falls into regions, each entered at one place: the root code (at op 0),
each function body (at its sub entry) and each higher-order block (at its start). A
region's ops are those reachable from its entry without passing a `Return` (which the
region still contains: the interpreter's step performs it) or the end of its block.

Inside a region the function dispatches between basic blocks; it is entered (by the
interpreter's dispatch loop, which knows nothing else of it) at the region entry, at each
hot point inside it, and after each op it hands to the interpreter (a call returns there).
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.instr import Decoded
from fusevm.interp.bodies import BODIES
from fusevm.loops import LoopFacts, code_from, crossed_end, loop_facts
from fusevm.ops import F
from fusevm.records import dataclass
from fusevm.verify import Analysis, analysis


@dataclass(frozen=True, slots=True)
class Region:
    """One region of a chunk: its entry, ops (ascending), block leaders and entry points."""

    entry: int
    ops: tuple[int, ...]
    leaders: frozenset[int]
    entries: tuple[int, ...]  # where the interpreter may enter: entry, hot points, resumes
    hot: frozenset[int]  # hot points among the ops
    stops: frozenset[int]  # a block's ends (blocks may share a start): leaving the region

    @property
    def root(self) -> bool:
        """Whether this is the chunk's root code (run once a run), not a function or a
        block (which may run any number of times)."""
        return self.entry == 0


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """A chunk's regions and the verifier facts the code generator needs."""

    analysis: Analysis
    regions: tuple[Region, ...]
    region_of: dict[int, int]  # op index -> index of the first region containing it


#: The key of a chunk object's plan in `Chunk.derived` (by the object: a table by content
#: would hash the chunk, which costs more than planning a small one).
_PLAN = "baseline.plan"


def inline(d: Decoded) -> bool:
    """True when the baseline writes the op out (it has a body, or is an extension op
    declared as a function of its stack values), False when it calls the interpreter's
    step for it."""
    ext = d.ext
    if ext is not None:  # (declared as a function of its stack values: `extbodies`)
        return ext.spec.number in ext.owner.functions
    return d.spec.name in _BODY_NAMES


_BODY_NAMES = frozenset(op.name for op in BODIES)


def plan(chunk: Chunk) -> ChunkPlan:
    """The regions of a (verified) chunk, computed once per chunk object."""
    found: ChunkPlan | None = chunk.derived.get(_PLAN)
    if found is not None:
        return found
    an = analysis(chunk)
    facts = loop_facts(chunk)
    n = len(chunk.ops)
    regions: list[Region] = []
    region_of: dict[int, int] = {}
    for entry in ([0] if n else []) + [e for e in facts.entries if e != 0]:
        if an.depth[entry] is None:
            continue
        region = _region(an, facts, entry)
        if not region.ops:
            # An empty block ([start, start)) runs no op: there is nothing to compile,
            # and its start, a hot point, is the op after it, of the code around it
            # (entered there, that code's region is the one to compile).
            continue
        if an.mixed.intersection(region.ops):
            # Code this region shares with another at another stack depth (the root
            # falling into a block's ops): the code is written for one depth per op
            # (`an.depth`), so it stays with the interpreter.
            continue
        if crossed_end(facts, frozenset(region.ops)) is not None:
            # A block running this code (entering it at a hot point) would run on
            # past its own end (`loops.crossed_end`).
            continue
        for ip in region.ops:
            region_of.setdefault(ip, len(regions))
        regions.append(region)
    found = ChunkPlan(an, tuple(regions), region_of)
    chunk.derived[_PLAN] = found
    return found


def _region(an: Analysis, facts: LoopFacts, entry: int) -> Region:
    body = code_from(facts, entry)
    hot = frozenset(facts.hot_points)
    ops = tuple(sorted(body))
    leaders = {entry}
    resumes: set[int] = set()
    for ip in ops:
        d = an.decoded[ip]
        if d.spec.has(F.BRANCH):
            leaders.update(t for t in d.targets() if t in body)
            leaders.add(ip + 1)
        if d.spec.has(F.TERMINATOR):
            leaders.add(ip + 1)
        if not inline(d):
            # The interpreter's step may move to another frame (a call) and come back
            # here, or continue anywhere (an extension op's jump): a block ends after it.
            leaders.add(ip + 1)
            if ip + 1 in body:
                resumes.add(ip + 1)
    leaders.update(h for h in hot if h in body)
    leaders &= body
    entries = sorted({entry} | (hot & body) | resumes)
    return Region(entry, ops, frozenset(leaders), tuple(entries), hot & body,
                  facts.block_ends.get(entry, frozenset()))
