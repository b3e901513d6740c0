"""The control-flow graph a unit is compiled from: micro-ops, basic blocks, slot liveness.

A chunk's ops become *micro-ops*: an op with a lowering rule stays one micro-op; a fused op
without one is replaced by its `fuses` expansion from the op table (D14: it means exactly
that sequence), whose internal labels become internal branch targets. Jump targets are
rewritten to micro-op indices; index `len(micro)` is the chunk's end (op index len(ops)).

Leaders come from the table flags (BRANCH targets, the op after a BRANCH or TERMINATOR).
Blocks are named after the op index they start at, `B<ip>`, or `B<ip>.<k>` for a block
starting inside the expansion of op ip; the end of the chunk is the block `B<len(ops)>`.
Nothing here depends on kinds or on llvmlite.
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.instr import Decoded, decode
from fusevm.jit.lower.registry import rule_for
from fusevm.ops import F, Kind, Op
from fusevm.ops.fuses import items as fuse_items
from fusevm.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True, slots=True)
class Micro:
    """One micro-op: the op index it comes from, its place in an expansion, the op itself."""

    ip: int
    sub: int
    d: Decoded
    expanded_from: str | None = None  # mnemonic of the fused op it came from

    @property
    def label(self) -> str:
        return f"B{self.ip}" if self.sub == 0 else f"B{self.ip}.{self.sub}"


@dataclass(slots=True)
class Block:
    """Micro-ops [start, end); `succs`/`preds` are block indices."""

    index: int
    name: str
    start: int
    end: int
    succs: list[int] = field(default_factory=list)
    preds: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Cfg:
    """Micro-ops, blocks (in micro-op order, the exit block last) and derived facts."""

    constants: tuple[Any, ...]  # the chunk's constant pool (LoadConst)
    micro: list[Micro]
    blocks: list[Block]
    block_at: dict[int, int]  # micro index of a leader -> block index
    exit: int  # index of the exit block
    rpo: list[int]  # reachable blocks in reverse post-order (entry first)
    tracked: list[int]  # every slot a reachable micro-op names, ascending
    live_in: list[int]  # slots that may be read before being written, ascending
    live: dict[int, frozenset[int]]  # block -> slots live at its entry
    refusal: str | None = None  # set when the graph itself cannot be compiled

    @property
    def straight_line(self) -> bool:
        """True when the reachable code is one block falling into the exit."""
        return len(self.rpo) == 2 and self.blocks[self.rpo[0]].succs == [self.exit]

    def back_edge(self, src: int, dst: int) -> bool:
        """Whether the edge from block `src` to block `dst` goes back: `dst` does not start
        later (every cycle has such an edge; units poll on them)."""
        return self.blocks[src].start >= self.blocks[dst].start


# -- Expansion of fused ops -------------------------------------------------------------

def expand(d: Decoded) -> list[tuple[Decoded, list[tuple[int, Any]]]]:
    """The expansion of a fused op: (decoded op, [(target operand position, ref)]) pairs.

    A ref is ("ip", original op index) or ("at", position within the expansion), where
    position len(expansion) means "after the fused op".
    """
    items = fuse_items(d.spec)
    labels: dict[str, int] = {}
    count = 0
    for item in items:
        for label in item.labels:
            labels[label] = count
        if item.mnemonic is not None:
            count += 1
    out: list[tuple[Decoded, list[tuple[int, Any]]]] = []
    for item in items:
        name, args = item.mnemonic, item.args
        if name is None:
            continue
        spec = Op[name].spec
        values: list[Any] = []
        refs: list[tuple[int, Any]] = []
        for pos, (operand, arg) in enumerate(zip(spec.operands, args)):
            if arg.startswith("$"):
                value = d.operands[d.spec.operand_index(arg[1:])]
                if operand.kind is Kind.TARGET:
                    refs.append((pos, ("ip", value)))
            elif arg.startswith("@"):
                value = 0
                refs.append((pos, ("at", labels[arg[1:]])))
            else:
                value = float(arg) if operand.kind is Kind.FLOAT else int(arg)
            values.append(value)
        if len(values) != len(spec.operands):
            raise ValueError(f"{d.name}: expansion item {name} {args} has the wrong arity")
        out.append((Decoded(spec, tuple(values)), refs))
    return out


def _micro_ops(chunk: Chunk) -> list[Micro]:
    micro: list[Micro] = []
    first: list[int] = []
    fixups: list[tuple[int, int, tuple[str, int], int]] = []  # micro, pos, ref, expansion base
    for ip, instr in enumerate(chunk.ops):
        d = decode(instr)
        first.append(len(micro))
        if d.spec.has(F.FUSED) and rule_for(d) is None:
            base = len(micro)
            for sub, (ed, refs) in enumerate(expand(d)):
                for pos, ref in refs:
                    fixups.append((len(micro), pos, ref, base))
                micro.append(Micro(ip, sub, ed, d.name))
            continue
        for pos in d.spec.targets:
            fixups.append((len(micro), pos, ("ip", d.operands[pos]), 0))
        micro.append(Micro(ip, 0, d))
    first.append(len(micro))
    for index, pos, (how, value), base in fixups:
        m = micro[index]
        target = first[value] if how == "ip" else base + value
        operands = list(m.d.operands)
        operands[pos] = target
        micro[index] = Micro(m.ip, m.sub, Decoded(m.d.spec, tuple(operands), m.d.ext),
                             m.expanded_from)
    return micro


# -- Blocks -----------------------------------------------------------------------------

def _static_succs(m: Micro, index: int) -> list[int]:
    out = list(m.d.targets()) if m.d.spec.has(F.BRANCH) else []
    if not m.d.spec.has(F.TERMINATOR):
        out.append(index + 1)
    return out


def _slot_uses(m: Micro) -> tuple[list[int], list[int]]:
    """(slots read, slots written) by one micro-op, from its rule's declared slot effect."""
    slots = [v for o, v in zip(m.d.spec.operands, m.d.operands) if o.kind is Kind.SLOT]
    if not slots:
        return [], []
    rule = rule_for(m.d)
    reads = rule is None or rule.reads_slots
    writes = rule is None or rule.writes_slots
    return (slots if reads else []), (slots if writes else [])


def build(chunk: Chunk) -> Cfg:
    """Build the micro-op CFG of a (verified) chunk."""
    micro = _micro_ops(chunk)
    n = len(micro)
    leaders = {0, n}
    for i, m in enumerate(micro):
        if m.d.spec.has(F.BRANCH):
            leaders.update(m.d.targets())
            leaders.add(i + 1)
        if m.d.spec.has(F.TERMINATOR):
            leaders.add(i + 1)
    starts = sorted(x for x in leaders if 0 <= x <= n)
    blocks: list[Block] = []
    block_at: dict[int, int] = {}
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else n
        name = micro[start].label if start < n else f"B{len(chunk.ops)}"
        block_at[start] = k
        blocks.append(Block(k, name, start, end))
    exit_block = block_at[n]
    for b in blocks:
        if b.index == exit_block:
            continue
        if b.start == b.end:
            succs = [b.end]
        else:
            last = b.end - 1
            succs = _static_succs(micro[last], last)
        for s in succs:
            target = block_at[s]
            if target not in b.succs:
                b.succs.append(target)
                blocks[target].preds.append(b.index)

    # Reverse post-order of the blocks reachable from the entry.
    order: list[int] = []
    seen: set[int] = set()
    stack: list[tuple[int, int]] = [(0, 0)]
    seen.add(0)
    while stack:
        node, i = stack.pop()
        succs = blocks[node].succs
        if i < len(succs):
            stack.append((node, i + 1))
            nxt = succs[i]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, 0))
        else:
            order.append(node)
    rpo = order[::-1]

    # Slots: which a reachable op names, and which may be read before any write.
    use: dict[int, set[int]] = {}
    kill: dict[int, set[int]] = {}
    tracked: set[int] = set()
    for b in (blocks[i] for i in rpo):
        used: set[int] = set()
        killed: set[int] = set()
        for m in micro[b.start:b.end]:
            reads, writes = _slot_uses(m)
            tracked.update(reads)
            tracked.update(writes)
            used.update(s for s in reads if s not in killed)
            killed.update(writes)
        use[b.index], kill[b.index] = used, killed
    live: dict[int, set[int]] = {i: set() for i in rpo}
    changed = True
    while changed:
        changed = False
        for i in reversed(rpo):
            out: set[int] = set()
            for s in blocks[i].succs:
                out |= live.get(s, set())
            new = use[i] | (out - kill[i])
            if new != live[i]:
                live[i] = new
                changed = True
    refusal = None
    if exit_block not in seen:
        refusal = "the chunk never reaches its end (no path leads out of its loops)"
    return Cfg(chunk.constants, micro, blocks, block_at, exit_block, rpo, sorted(tracked),
               sorted(live[0]), {i: frozenset(v) for i, v in live.items()}, refusal)
