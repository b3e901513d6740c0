"""Kind inference over a CFG: the stack and slot shapes at every block, before any IR exists.

Starting from the entry kinds of the slots the chunk may read first (the unit's key), the
lowering rules run in typing mode (`Cx` without a backend) over the blocks until the state
at every block entry is stable. A state gives, for each operand-stack entry and each
tracked slot, a kind and a definition id.

Blocks are *versioned by kind*: a node is (block, version), and an edge arriving with kinds
no version of its target has seen yet (counting only stack entries and slots live at the
target) opens a new version, up to `MAX_VERSIONS`. So `sum = 0` before a loop whose body
makes `sum` a Float compiles as a first iteration with an Int and the rest with a Float,
instead of a slot of unknown kind. Past the limit, and for slots that are dead at the
target, kinds join: equal kinds stay, different numeric kinds become MIXED and anything
with a non-numeric value OPAQUE (both carry a run-time kind byte and cannot be computed
with). Where the edges into a node bring different definitions a phi is needed (the id
becomes `("phi", node, position)`); the emitter (`lower/emit.py`) builds exactly these
phis, so it never guesses shapes in emission order. Rule refusals abort with
`Refuse`, naming the op.

The blocks of a *paired loop* (`lower/poll.py`) are versioned by the parity of the
iteration as well: entering the loop is parity 0, its back-edges flip it. The back-edges
from parity 0 into parity 1 are the unit's *skips*: they carry no poll, so the emitter
counts down only once every two iterations. `skips` is kept only when every cycle through
a skip still passes a polled back-edge (checked on the typed graph, not assumed).
"""

from __future__ import annotations

from fusevm.jit.abi import SlotKind, TrapCode
from fusevm.jit.cfg import Block, Cfg
from fusevm.jit.lower import poll
from fusevm.jit.lower.cx import MIXED, OPAQUE, OTHER, Cx, Flow, Refuse, Val
from fusevm.jit.lower.registry import rule_for
from fusevm.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Final

    from fusevm.jit.lower.cx import Def

#: Versions of one block before further kinds are joined into the last one.
MAX_VERSIONS: Final = 4
#: Times one node may be re-typed before inference gives up (it settles in a few).
MAX_VISITS: Final = 64
#: The pseudo-node whose single edge enters the first block.
ENTRY: Final = (-1, 0)

Node = tuple[int, int]  # (block index, version)
if TYPE_CHECKING:
    Entry = tuple[SlotKind, Def]


@dataclass(slots=True)
class State:
    """Kinds and definition ids of the operand stack and the tracked slots at a node entry."""

    stack: list[Entry]
    slots: dict[int, Entry]

    def vals(self) -> tuple[list[Val], dict[int, Val]]:
        return ([Val(k, def_=d) for k, d in self.stack],
                {s: Val(k, def_=d) for s, (k, d) in self.slots.items()})


@dataclass(slots=True)
class Typing:
    """The result of inference for one entry-kind vector."""

    entry_kinds: dict[int, SlotKind]
    states: dict[Node, State]  # node -> state at its entry
    edges: dict[tuple[Node, int], Node]  # (node, n-th edge it emits) -> target node
    order: list[Node]  # reachable nodes, reverse post-order from the entry
    exit: Node
    traps: set[TrapCode] = field(default_factory=set)
    polls: poll.Plan = poll.NONE
    skips: frozenset[tuple[Node, Node]] = frozenset()  # back-edges that carry no poll

    def exit_state(self) -> State:
        return self.states[self.exit]

    def writes(self) -> list[tuple[int, SlotKind]]:
        """Slots the unit may change, with their kind at the end (MIXED/OPAQUE: read the tag)."""
        ex = self.exit_state()
        return [(s, k) for s, (k, d) in sorted(ex.slots.items()) if d != ("in", s)]

    def results(self) -> list[SlotKind]:
        return [k for k, _ in self.exit_state().stack]


def node_name(cfg: Cfg, node: Node) -> str:
    """`B12` for a block's first version, `B12v2` for its second, ..."""
    name = cfg.blocks[node[0]].name
    return name if node[1] == 0 else f"{name}v{node[1] + 1}"


def join_kind(a: SlotKind, b: SlotKind) -> SlotKind:
    if a is b:
        return a
    if a in (OTHER, OPAQUE) or b in (OTHER, OPAQUE):
        return OPAQUE
    return MIXED


def where(cfg: Cfg, index: int) -> str:
    """`op 7 (Add) in B5`, naming the fused op an expanded micro-op comes from."""
    m = cfg.micro[index]
    name = m.d.name if m.expanded_from is None else f"{m.expanded_from}, as {m.d.name}"
    block = next(b for b in cfg.blocks if b.start <= index < b.end)
    return f"op {m.ip} ({name}) in {block.name}"


def run_block(cfg: Cfg, block: Block, cx: Cx) -> None:
    """Lower the micro-ops of one block through their rules, then fall through if needed."""
    cx.constants = cfg.constants
    if block.start < len(cfg.micro) and cfg.micro[block.start].sub != 0:
        cx.pre = None
    for index in range(block.start, block.end):
        m = cfg.micro[index]
        if m.sub == 0:
            cx.pre = (list(cx.stack), dict(cx.slots))
        rule = rule_for(m.d)
        if rule is None:
            raise Refuse(f"{where(cfg, index)}: no lowering rule for {m.d.name}")
        cx.ip = m.ip
        cx.next = index + 1
        try:
            rule.fn(cx, m.d)
        except Refuse as e:
            raise Refuse(f"{where(cfg, index)}: {e}") from None
        except IndexError:
            raise Refuse(f"{where(cfg, index)}: the operand stack underflows") from None
    if not cx.terminated:
        cx.jump(block.end)


class _TypingFlow(Flow):
    def __init__(self, inference: _Inference) -> None:
        self.inf = inference

    def jump(self, cx: Cx, target: int) -> None:
        self.inf.edge(cx, self.inf.cfg.block_at[target])

    def branch(self, cx: Cx, cond: Val, if_true: int, if_false: int) -> None:
        self.inf.edge(cx, self.inf.cfg.block_at[if_true])
        self.inf.edge(cx, self.inf.cfg.block_at[if_false])

    def deopt_if(self, cx: Cx, cond: Val, trap: TrapCode) -> None:
        self.inf.traps.add(trap)


class _Inference:
    def __init__(self, cfg: Cfg, strict: bool, polls: poll.Plan) -> None:
        self.cfg = cfg
        self.strict = strict
        self.polls = polls
        #: block -> the header of the paired loop it belongs to
        self.pair_of = {b: h for h, body in polls.paired.items() for b in body}
        self.parity: dict[Node, int] = {}
        self.states: dict[Node, State] = {}
        self.sigs: dict[Node, Any] = {}
        self.versions: dict[int, list[Node]] = {}
        self.edges: dict[tuple[Node, int], Node] = {}
        self.incoming: dict[Node, dict[tuple[Node, int], State]] = {}
        self.visits: dict[Node, int] = {}
        self.todo: set[Node] = set()
        self.traps: set[TrapCode] = set()
        self.rank = {b: i for i, b in enumerate(cfg.rpo)}
        self.current: Node = ENTRY
        self.ordinal = 0

    def signature(self, block: int, state: State, parity: int) -> Any:
        live = self.cfg.live.get(block, frozenset())
        return (tuple(k for k, _ in state.stack),
                tuple((s, k) for s, (k, _) in sorted(state.slots.items()) if s in live),
                parity)

    def _back(self, src: Node, dst: int) -> bool:
        """True for an edge to a block that does not start later (where units poll)."""
        return src != ENTRY and self.cfg.back_edge(src[0], dst)

    def parity_into(self, succ: int) -> int:
        """The iteration parity the current edge brings to block `succ` (0 outside paired
        loops and on entering one; flipped by a back-edge to the loop's header)."""
        h = self.pair_of.get(succ)
        src = self.current
        if h is None or src == ENTRY or self.pair_of.get(src[0]) != h:
            return 0
        flip = succ == h and self._back(src, succ)
        return self.parity[src] ^ flip

    def edge(self, cx: Cx, succ: int) -> None:
        stack = [(v.kind, v.def_ or ()) for v in cx.stack]
        slots = {s: (v.kind, v.def_ or ()) for s, v in cx.slots.items()}
        incoming = State(stack, slots)
        target = self.choose(succ, incoming, self.parity_into(succ))
        key = (self.current, self.ordinal)
        self.edges[key] = target
        self.ordinal += 1
        self.merge(target, key, incoming)

    def choose(self, block: int, incoming: State, parity: int) -> Node:
        """The version of `block` this edge enters (a new one for new live kinds or a new
        parity)."""
        if block == self.cfg.exit:
            return (block, 0)
        sig = self.signature(block, incoming, parity)
        nodes = self.versions.setdefault(block, [])
        for node in nodes:
            if self.sigs[node] == sig:
                return node
        if len(nodes) < MAX_VERSIONS * (2 if block in self.pair_of else 1):
            node = (block, len(nodes))
            nodes.append(node)
            self.sigs[node] = sig
            self.parity[node] = parity
            return node
        return nodes[-1]

    def merge(self, node: Node, key: tuple[Node, int], incoming: State) -> None:
        """Record what edge `key` brings to `node`, and re-join everything that enters it."""
        ins = self.incoming.setdefault(node, {})
        ins[key] = incoming
        new = self._join_all(node, list(ins.values()))
        if self.states.get(node) != new:
            self.states[node] = new
            if node[0] != self.cfg.exit:
                self.sigs[node] = self.signature(node[0], new, self.parity[node])
            self.todo.add(node)

    def _join_all(self, node: Node, states: list[State]) -> State:
        first = states[0]
        depths = {len(st.stack) for st in states}
        if len(depths) > 1:
            a, b = sorted(depths)[:2]
            if node[0] == self.cfg.exit:
                raise Refuse(f"the chunk ends with stack depth {a} on one path and {b} on "
                             "another")
            raise Refuse(f"stack depth at {node_name(self.cfg, node)} differs between paths "
                         f"({a} vs {b})")
        stack = [self._join([st.stack[i] for st in states], ("phi", node, "stack", i))
                 for i in range(len(first.stack))]
        slots = {s: self._join([st.slots[s] for st in states], ("phi", node, "slot", s))
                 for s in first.slots}
        return State(stack, slots)

    @staticmethod
    def _join(entries: list[Entry], phi: Def) -> Entry:
        kind, def_ = entries[0]
        for k, d in entries[1:]:
            kind = join_kind(kind, k)
            if d != def_:
                def_ = phi
        return (kind, def_)

    def run(self, entry: State) -> None:
        cfg = self.cfg
        self.current, self.ordinal = ENTRY, 0
        target = self.choose(cfg.rpo[0], entry, 0)
        self.edges[(ENTRY, 0)] = target
        self.merge(target, (ENTRY, 0), entry)
        flow = _TypingFlow(self)
        while self.todo:
            node = min(self.todo, key=lambda n: (self.rank[n[0]], n[1]))
            self.todo.discard(node)
            if node[0] == cfg.exit:
                continue
            visits = self.visits[node] = self.visits.get(node, 0) + 1
            if visits > MAX_VISITS:
                raise Refuse(f"kind inference did not settle at {node_name(cfg, node)}")
            stack, slots = self.states[node].vals()
            self.current, self.ordinal = node, 0
            cx = Cx(flow, stack, slots, self.strict, None, node)
            run_block(cfg, cfg.blocks[node[0]], cx)

    def skips(self) -> frozenset[tuple[Node, Node]]:
        """The back-edges from parity 0 to parity 1 of a paired loop's header, or none
        when some cycle through them would pass no polled back-edge (kind versions past
        `MAX_VERSIONS` can join parities)."""
        headers = self.polls.headers
        skips = frozenset(
            (src, dst) for (src, _), dst in self.edges.items()
            if dst[0] in self.polls.paired and self._back(src, dst[0])
            and self.pair_of.get(src[0]) == dst[0]
            and self.parity[src] == 0 and self.parity[dst] == 1)
        if not skips:
            return skips
        unpolled: dict[Node, set[Node]] = {}
        for (src, _), dst in self.edges.items():
            if (src, dst) in skips or not (dst[0] in headers and self._back(src, dst[0])):
                unpolled.setdefault(src, set()).add(dst)
        for src, dst in skips:
            seen, work = {dst}, [dst]
            while work:
                for nxt in unpolled.get(work.pop(), ()):
                    if nxt == src:
                        return frozenset()
                    if nxt not in seen:
                        seen.add(nxt)
                        work.append(nxt)
        return skips

    def reachable_order(self) -> list[Node]:
        succs: dict[Node, list[Node]] = {}
        for (src, _), dst in sorted(self.edges.items(), key=lambda e: e[0][1]):
            succs.setdefault(src, []).append(dst)
        order: list[Node] = []
        seen = {ENTRY}
        stack: list[tuple[Node, int]] = [(ENTRY, 0)]
        while stack:
            node, i = stack.pop()
            out = succs.get(node, [])
            if i < len(out):
                stack.append((node, i + 1))
                if out[i] not in seen:
                    seen.add(out[i])
                    stack.append((out[i], 0))
            else:
                order.append(node)
        return [n for n in reversed(order) if n != ENTRY]


def infer(cfg: Cfg, entry_kinds: dict[int, SlotKind], strict: bool) -> Typing:
    """Infer kinds for entry slot kinds `entry_kinds` (live-in slots); raises Refuse."""
    if cfg.refusal is not None:
        raise Refuse(cfg.refusal)
    inf = _Inference(cfg, strict, poll.plan(cfg))
    slots: dict[int, Entry] = {}
    for s in cfg.tracked:
        kind = entry_kinds.get(s, OTHER) if s in cfg.live_in else OTHER
        slots[s] = (kind, ("in", s))
    inf.run(State([], slots))
    exit_node = (cfg.exit, 0)
    if exit_node not in inf.states:
        raise Refuse("the chunk never reaches its end")
    order = inf.reachable_order()
    return Typing({s: entry_kinds.get(s, OTHER) for s in cfg.live_in}, inf.states, inf.edges,
                  order, exit_node, inf.traps, inf.polls, inf.skips())


def describe_kinds(kinds: Sequence[SlotKind]) -> str:
    """`I,F,B` style summary of a kind vector, for logs."""
    letters = {SlotKind.INT: "I", SlotKind.FLOAT: "F", SlotKind.BOOL: "B", SlotKind.UNDEF: "U",
               SlotKind.OTHER: "O", SlotKind.MIXED: "M", SlotKind.OPAQUE: "?"}
    return ",".join(letters[k] for k in kinds) or "-"
