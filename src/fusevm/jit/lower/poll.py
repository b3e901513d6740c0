"""Where a unit polls the fuel word: its loop headers and its counted loops.

A *loop header* is a block some back-edge enters (an edge from a block that does not start
later) at an op boundary, where the interpreter can resume. Every cycle of the CFG has a
back-edge, so polling on back-edges reaches every loop (`emit.py` counts them down).

A *counted loop* is a header closed by `SlotIncLtIntJumpBack slot, limit, header` such that
the loop is entered only through its header and nothing else in it writes `slot`. Its trip
count is then bounded by the slot itself: the unit polls when it enters the loop and
computes `stop = min(limit, slot + POLL_INTERVAL)`, and the back-edge goes on while
`slot < stop`, so the loop has one exit test (as without polling) and LLVM can unroll
and vectorise it; at `stop` the back-edge goes through the loop's entry again (a poll).

A *paired loop* is an innermost loop entered only through its header, not counted, and
small (`PAIR_MAX_OPS` micro-ops): its blocks are typed twice, by the parity of the
iteration (`typeflow.py`), so the unit runs two copies of the body in turn and only the
back-edge closing the second copy counts down to a poll (by two). A loop whose exit test
depends on its data (no count to merge the poll with) then pays one counter decrement and
branch every two iterations instead of every iteration.
"""

from __future__ import annotations

from fusevm.jit.cfg import Cfg, Micro
from fusevm.jit.lower.registry import rule_for
from fusevm.ops import Kind, Op
from fusevm.records import dataclass

#: Whether units poll the fuel word at back-edges (benchmarks/bench_poll.py measures the
#: cost by compiling with it off; nothing else turns it off, since interrupts depend on it).
ENABLED = True

#: The largest loop body, in micro-ops, that is typed and emitted twice (see "paired loop").
PAIR_MAX_OPS = 48


@dataclass(frozen=True, slots=True)
class Counted:
    """A counted loop's latch: the fused op's index, its slot and its limit."""

    ip: int
    slot: int
    limit: int


@dataclass(frozen=True, slots=True)
class Plan:
    """Loop headers (block indices), the counted loops among them, and the paired ones
    (header -> the blocks of its loop)."""

    headers: frozenset[int]
    counted: dict[int, Counted]
    paired: dict[int, frozenset[int]]


NONE = Plan(frozenset(), {}, {})


def plan(cfg: Cfg) -> Plan:
    """Where the unit of `cfg` polls (NONE when polling is off)."""
    if not ENABLED:
        return NONE
    micro = cfg.micro
    headers = frozenset(
        b.index for b in cfg.blocks
        if b.start < len(micro) and micro[b.start].sub == 0
        and any(cfg.back_edge(p, b.index) for p in b.preds))
    counted: dict[int, Counted] = {}
    paired: dict[int, frozenset[int]] = {}
    for h in headers:
        body = _single_entry_body(cfg, h)
        if body is None:
            continue
        latch = _counted_latch(cfg, h, body)
        if latch is not None:
            counted[h] = latch
        elif (not (body - {h}) & headers and cfg.exit not in body
              and sum(cfg.blocks[b].end - cfg.blocks[b].start for b in body) <= PAIR_MAX_OPS):
            paired[h] = frozenset(body)
    return Plan(headers, counted, paired)


def _single_entry_body(cfg: Cfg, h: int) -> set[int] | None:
    """The blocks of the loop headed by `h` (those reaching one of its back-edges without
    passing `h`), or None when the loop is entered elsewhere than at its header."""
    header = cfg.blocks[h]
    body = {h}
    work = [p for p in header.preds if cfg.back_edge(p, h)]
    while work:
        b = work.pop()
        if b not in body:
            body.add(b)
            work.extend(cfg.blocks[b].preds)
    if cfg.rpo[0] in body - {h} or any(
            p not in body for b in body - {h} for p in cfg.blocks[b].preds):
        return None
    return body


def _counted_latch(cfg: Cfg, h: int, body: set[int]) -> Counted | None:
    found: Counted | None = None
    for x in body:
        block = cfg.blocks[x]
        if block.end <= block.start or x == cfg.exit:
            continue
        last = cfg.micro[block.end - 1]
        if (last.expanded_from == Op.SlotIncLtIntJumpBack.name
                and cfg.block_at.get(last.d.targets()[0]) == h):
            ops = [m for m in cfg.micro[block.start:block.end] if m.ip == last.ip]
            slot = next(m.d.operands[0] for m in ops if m.d.spec is Op.GetSlot.spec)
            limit = next(m.d.operands[0] for m in ops if m.d.spec is Op.LoadInt.spec)
            found = Counted(last.ip, slot, limit)
            break
    if found is None:
        return None
    for x in body:
        for m in cfg.micro[cfg.blocks[x].start:cfg.blocks[x].end]:
            if m.ip != found.ip and found.slot in _written(m):
                return None
    return found


def _written(m: Micro) -> list[int]:
    slots = [v for o, v in zip(m.d.spec.operands, m.d.operands) if o.kind is Kind.SLOT]
    rule = rule_for(m.d)
    return slots if slots and (rule is None or rule.writes_slots) else []
