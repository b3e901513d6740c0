"""Emission of one unit: the LLVM function for a typed CFG, block by block.

Layout of every unit (`i64 unit(JitCtx*)`, see `abi.py`):

* `entry`: checks the kind byte of every slot the unit reads first (a mismatch deopts),
  loads those slots, and branches to the first block;
* one LLVM block per CFG node, named as in `cfg.py` (`B<ip>`, `B<ip>.<k>`, and `B<ip>v2`
  for a block's second kind version), with the phis the typing pass asked for; guards
  split a block into `B<ip>~<n>` continuations;
* the exit block `B<len(ops)>`: stores the slots the unit may have changed (word + kind
  byte) and the final operand stack into the context, returns OK;
* `exit~<n>`, one per guard: stores the state before the guarded op (every tracked slot
  and the operand stack, see `abi.py`), the trap code and op index, and returns DEOPT;
* `B<ip>~loop`, before each loop header (`poll.py`): the loop's entries come in here, and
  so do its back-edges once a poll is due, so the header's own block heads an inner loop
  whose back-edges carry no poll (LLVM can unroll and vectorise it). A back-edge counts
  down a local counter and, after `POLL_INTERVAL` of them, goes through a poll block that
  resets it and makes a relaxed load of `*ctx.fuel`; a counted loop's entry block reads
  the word itself and sets the bound its back-edge tests instead. A negative word leaves
  like a guard (FUEL) with the state at the header, which is how `vm.interrupt()` reaches
  native loops (see `_count_down` for the latency bound). A paired loop's body is emitted
  twice (its parity versions, `typeflow.py`); the back-edge from the first copy into the
  second is a skip and counts nothing, the one closing the second counts down by two.

Nodes are emitted in reverse post-order, so every value a node uses without a phi was
defined in a node emitted earlier. Every branch a rule makes consumes the next edge the
typing pass recorded for the node, which says which version of the target it enters.
"""

from __future__ import annotations

from fusevm.jit.abi import SlotKind, Status, TrapCode
from fusevm.jit.cfg import Cfg
from fusevm.jit.lower.builder import IRBackend, ir_type
from fusevm.jit.lower.cx import INT, MIXED, OPAQUE, Cx, Flow, Val
from fusevm.jit.lower.textir import I8, I64, PTR, Block, Builder, Function, Phi, const_int
from fusevm.jit.typeflow import ENTRY, Node, Typing, node_name, run_block
from fusevm.records import dataclass

_TAGGED = (MIXED, OPAQUE)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fusevm.jit.lower.cx import Def


def _own_phi(def_: Def, node: Node) -> bool:
    """True when a definition id is a phi at the entry of `node` (else it dominates it)."""
    return len(def_) > 1 and def_[0] == "phi" and def_[1] == node
_NO_VALUE = (SlotKind.UNDEF, SlotKind.OTHER)


#: Back-edges taken between two reads of the fuel word (a power of two). Large enough that
#: the poll block is off the hot path of a loop LLVM vectorises (its vector loop restarts
#: after each poll), small enough that an interrupt lands within a few milliseconds.
POLL_INTERVAL = 1 << 14

#: Function attributes of every unit. Jump tables would put relocations into .rodata,
#: which the pre-linker refuses.
ATTRIBUTES = 'nounwind "no-jump-tables"="true"'


@dataclass(frozen=True, slots=True)
class Emitted:
    """An emitted unit: its function's IR text and the helper ids it calls."""

    text: str
    helper_ids: tuple[int, ...]


class _Emitter(Flow):
    def __init__(self, cfg: Cfg, typing: Typing, strict: bool) -> None:
        self.cfg = cfg
        self.typing = typing
        self.strict = strict
        self.fn = Function("unit", ATTRIBUTES)
        self.builder = Builder(self.fn)
        self.b = IRBackend(self.fn, self.builder)
        self.entry = self.fn.append_block("entry")
        self.bbs: dict[Node, Block] = {
            n: self.fn.append_block(node_name(cfg, n)) for n in typing.order}
        self.defs: dict[Def, Val] = {}
        # Phis and the incomings recorded before them, by (node, through its loop entry
        # block?, position).
        self.phis: dict[tuple[Node, bool, tuple[Any, ...]], tuple[Phi, Phi | None]] = {}
        self.pending: dict[tuple[Node, bool, tuple[Any, ...]],
                           list[tuple[Block, Any, Any]]] = {}
        self.current: Node = ENTRY
        self.ordinal = 0
        self.splits = 0
        self.slots_ptr: Any = None
        self.kinds_ptr: Any = None
        self.fuel_ptr: Any = None
        self.polls = typing.polls
        self.countdown: Any = None  # the alloca counting back-edges down to the next poll
        self.stops: dict[int, Any] = {}  # counted loop's header block -> alloca of its stop
        #: A loop header's entry block: the loop's entries and its back-edges after a poll
        #: come in here, so the header's own block is the head of an inner loop whose only
        #: back-edges are the ones no poll was due on (see `_count_down`).
        #: The second copy of a paired loop is entered by skips only and has no such block.
        entered = {dst for (src, _), dst in typing.edges.items()
                   if (src, dst) not in typing.skips}
        self.loop_entry: dict[Node, Block] = {
            n: self.fn.append_block(f"{node_name(cfg, n)}~loop") for n in typing.order
            if n[0] in self.polls.headers and n in entered}

    # -- Flow -----------------------------------------------------------------------------

    def _next_edge(self) -> Node:
        node = self.typing.edges[(self.current, self.ordinal)]
        self.ordinal += 1
        return node

    def jump(self, cx: Cx, target: int) -> None:
        self._goto(cx, self._next_edge())

    def _goto(self, cx: Cx, succ: Node) -> None:
        if self._polls(succ):
            go = self._count_down(succ)
            poll = self.fn.append_block(self._split_name("poll"))
            self.builder.cbranch(go, self._fast(cx, succ), poll)
            self.builder.position_at_end(poll)
            self._poll_into(cx, succ)
            return
        self.builder.branch(self._door(cx, succ))

    def branch(self, cx: Cx, cond: Val, if_true: int, if_false: int) -> None:
        t, f = self._next_edge(), self._next_edge()
        if t == f:
            self._goto(cx, t)
            return
        poll_t, poll_f = self._polls(t), self._polls(f)
        # One target of every branch rule is the op after the branch, never a back-edge.
        assert not (poll_t and poll_f)
        if poll_t or poll_f:
            # The looping direction goes on while the counter (or a counted loop's slot)
            # lasts; the other edge and the poll leave from a block of their own, so the
            # loop has one exiting branch with a computable trip count.
            back, out = (t, f) if poll_t else (f, t)
            loops = cond.ir if poll_t else self.builder.not_(cond.ir)
            counted = self.polls.counted.get(back[0])
            if (poll_t and counted is not None and counted.ip == cx.ip
                    and cx.slots[counted.slot].kind is INT):
                stop = self.builder.load(I64, self.stops[back[0]])
                go = self.builder.icmp("<", cx.slots[counted.slot].ir, stop)
                slow = self.fn.append_block(self._split_name("slow"))
                self.builder.cbranch(go, self._fast(cx, back), slow)
                self.builder.position_at_end(slow)
                self.builder.cbranch(loops, self._door(cx, back), self._door(cx, out))
                return
            go = self.builder.binop("and", loops, self._count_down(back))
            slow = self.fn.append_block(self._split_name("slow"))
            self.builder.cbranch(go, self._fast(cx, back), slow)
            self.builder.position_at_end(slow)
            poll = self.fn.append_block(self._split_name("poll"))
            self.builder.cbranch(loops, poll, self._door(cx, out))
            self.builder.position_at_end(poll)
            self._poll_into(cx, back)
            return
        self.builder.cbranch(cond.ir, self._door(cx, t), self._door(cx, f))

    def _door(self, cx: Cx, succ: Node) -> Block:
        """Record the edge into `succ` the ordinary way and return the block it enters: a
        loop header's entry block, which is also where its polled back-edges come back."""
        entry = self.loop_entry.get(succ)
        self._edge(cx, succ, entry is not None)
        return self.bbs[succ] if entry is None else entry

    def _fast(self, cx: Cx, succ: Node) -> Block:
        """Record a back-edge that needs no poll: straight into the header's block."""
        self._edge(cx, succ, False)
        return self.bbs[succ]

    def deopt_if(self, cx: Cx, cond: Val, trap: TrapCode) -> None:
        assert cx.pre is not None  # Cx.deopt_if refuses first
        self._guard(cond.ir, trap, cx.ip, cx.pre)

    def _guard(self, cond: Any, trap: TrapCode, ip: int,
               state: tuple[list[Val], dict[int, Val]] | None) -> None:
        """Leave through a block of its own when `cond` holds, writing `state` (the state
        before op `ip`) for the interpreter to resume with; None writes nothing."""
        here = self.builder.block
        self.splits += 1
        out = self.fn.append_block(f"exit~{self.splits}")
        cont = self.fn.append_block(f"{here.name.split('~')[0]}~{self.splits}")
        self.builder.cbranch(cond, out, cont)
        self.builder.position_at_end(out)
        self._materialize(trap, ip, state)
        self.builder.position_at_end(cont)

    def _materialize(self, trap: TrapCode, ip: int,
                     state: tuple[list[Val], dict[int, Val]] | None) -> None:
        depth = -1
        if state is not None:
            stack, slots = state
            assert self.slots_ptr is not None and self.kinds_ptr is not None
            for s in self.cfg.tracked:
                self._store_word(slots[s], self.slots_ptr, self.kinds_ptr, s)
            if stack:
                results = self.b.load_field("results", PTR)
                kinds = self.b.load_field("result_kinds", PTR)
                for i, v in enumerate(stack):
                    self._store_word(v, results, kinds, i)
            depth = len(stack)
        self.b.store_field("exit_depth", const_int(I64, depth))
        self.b.store_field("trap", const_int(I64, int(trap)))
        self.b.store_field("trap_ip", const_int(I64, ip))
        self.builder.ret(const_int(I64, int(Status.DEOPT)))

    def _store_word(self, v: Val, words: Any, kinds: Any, index: int) -> None:
        self.builder.store(self.b.to_bits(v.ir, v.kind), self.b.element_ptr(words, index, I64))
        tag = v.tag if v.kind in _TAGGED else self.b.tag_const(v.kind)
        self.builder.store(tag, self.b.element_ptr(kinds, index, I8))

    # -- polling the fuel word ------------------------------------------------------------

    def _split_name(self, what: str) -> str:
        self.splits += 1
        return f"{self.builder.block.name.split('~')[0]}~{what}{self.splits}"

    def _polls(self, succ: Node) -> bool:
        """True when the edge from the current node into `succ` is a polled back-edge."""
        return (self.current != ENTRY and succ[0] in self.polls.headers
                and self.cfg.back_edge(self.current[0], succ[0])
                and (self.current, succ) not in self.typing.skips)

    def _count_down(self, succ: Node) -> Any:
        """Count the back-edges into `succ` (two where it closes a paired loop's second
        copy); the i1 that is true while no poll is due.

        Latency bound: every cycle of the CFG has a back-edge (an edge to a block that does
        not start later), so a path without one runs each node (block version) at most once;
        a skip is a back-edge that counts nothing, but every cycle through one passes a
        counted one (`typeflow.skips` checks it), so that still holds. Between two reads of
        the fuel word there are at most POLL_INTERVAL back-edges counted down (one by two
        stands for itself and the skip before it) and POLL_INTERVAL trips of each counted
        loop (`poll.py`: entering one reads the word), so at most POLL_INTERVAL x (1 +
        counted loops) x (the ops of all nodes) ops run, helpers being bounded calls (a loop
        inside one fused op's expansion is not polled: the op bounds it). The counter
        restarts at each entry into the unit; between entries the interpreter sees the
        interrupt at its hot points. The counter is a stack variable, kept in a register by
        SROA.
        """
        assert self.countdown is not None
        step = 2 if self.typing.skips and succ[0] in self.polls.paired else 1
        left = self.builder.load(I64, self.countdown)
        left = self.builder.binop("sub", left, const_int(I64, step))
        self.builder.store(left, self.countdown)
        return self.builder.icmp(">", left, const_int(I64, 0))

    def _poll_into(self, cx: Cx, succ: Node) -> None:
        """From a poll block: reset the counter, leave (FUEL) with the state at `succ`'s
        header when the fuel word has gone negative, else go on into `succ`.

        One relaxed atomic load and a branch (wasmtime's epoch check): `vm.interrupt()`
        makes the word negative from any thread. Step budgets are not counted here: a
        run with a budget stays in the interpreter, which counts every instruction.
        """
        assert self.countdown is not None
        self.builder.store(const_int(I64, POLL_INTERVAL), self.countdown)
        self._read_fuel(succ, list(cx.stack), dict(cx.slots))
        self.builder.branch(self._door(cx, succ))

    def _read_fuel(self, header: Node, stack: list[Val], slots: dict[int, Val]) -> None:
        """Leave (FUEL) with `stack` and `slots`, the state at `header`, when the fuel word
        has gone negative."""
        assert self.fuel_ptr is not None
        left = self.builder.load_relaxed(I64, self.fuel_ptr)
        empty = self.builder.icmp("<", left, const_int(I64, 0))
        ip = self.cfg.micro[self.cfg.blocks[header[0]].start].ip
        self._guard(empty, TrapCode.FUEL, ip, (stack, slots))

    def _enter_counted(self, header: Node, stack: list[Val], slots: dict[int, Val]) -> None:
        """In a counted loop's entry block: read the fuel word, and set the loop's stop
        (`poll.py`); a slot that is no Int here stops it at its first back-edge."""
        counted = self.polls.counted[header[0]]
        self._read_fuel(header, stack, slots)
        i = slots[counted.slot]
        stop = const_int(I64, -(1 << 63))
        if i.kind is INT:
            end = self.builder.call_intrinsic("llvm.sadd.sat.i64", I64,
                                              [i.ir, const_int(I64, POLL_INTERVAL)])
            stop = self.builder.call_intrinsic("llvm.smin.i64", I64,
                                               [end, const_int(I64, counted.limit)])
        self.builder.store(stop, self.stops[header[0]])

    # -- edges and phis ---------------------------------------------------------------------

    def _positions(self, stack: list[Val], slots: dict[int, Val]) -> list[tuple[Any, Val]]:
        return ([(("stack", i), v) for i, v in enumerate(stack)]
                + [(("slot", s), v) for s, v in slots.items()])

    def _edge(self, cx: Cx, succ: Node, outer: bool) -> None:
        """Record the values flowing into `succ` (phi incomings or dominating definitions),
        through its loop entry block when `outer`."""
        for _, v in self._positions(cx.stack, cx.slots):
            if v.def_ is not None:
                self.defs.setdefault(v.def_, v)
        state = self.typing.states[succ]
        here = self.builder.block
        incoming = dict(self._positions(cx.stack, cx.slots))
        wanted = ([(("stack", i), k, d) for i, (k, d) in enumerate(state.stack)]
                  + [(("slot", s), k, d) for s, (k, d) in state.slots.items()])
        for pos, kind, def_ in wanted:
            if not _own_phi(def_, succ) or kind in _NO_VALUE:
                continue
            v = incoming[pos]
            value: Any
            tag: Any
            if kind in _TAGGED:
                value = self.b.to_bits(v.ir, v.kind)
                tag = v.tag if v.kind in _TAGGED else self.b.tag_const(v.kind)
            else:
                assert v.kind is kind, (pos, v.kind, kind)
                value, tag = v.ir, None
            key = (succ, outer, pos)
            if key in self.phis:
                phi, tag_phi = self.phis[key]
                phi.add_incoming(value, here)
                if tag_phi is not None:
                    tag_phi.add_incoming(tag, here)
            else:
                self.pending.setdefault(key, []).append((here, value, tag))

    def _enter(self, index: Node) -> tuple[list[Val], dict[int, Val]]:
        """Create the node's phis and return its entry stack and slots as values. A loop
        header gets the same phis in its entry block, which falls into the header (after
        reading the fuel word, for a counted loop)."""
        state = self.typing.states[index]
        here = self.builder.block
        outer = self.loop_entry.get(index)
        joined: list[tuple[tuple[Phi, Phi | None], tuple[Phi, Phi | None]]] = []

        def phis(pos: tuple[Any, ...], kind: SlotKind, through: bool) -> tuple[Phi, Phi | None]:
            pair = ((self.builder.phi(I64), self.builder.phi(I8)) if kind in _TAGGED
                    else (self.builder.phi(ir_type(kind)), None))
            self.phis[(index, through, pos)] = pair
            for pred, inc, tag in self.pending.pop((index, through, pos), []):
                pair[0].add_incoming(inc, pred)
                if pair[1] is not None:
                    pair[1].add_incoming(tag, pred)
            return pair

        def value(pos: tuple[Any, ...], kind: SlotKind, def_: Def) -> tuple[Val, Val]:
            """The value at the header, and in its entry block."""
            if not _own_phi(def_, index):
                return self.defs[def_], self.defs[def_]
            if kind in _NO_VALUE:
                v = o = Val(kind, def_=def_)
            else:
                pair = phis(pos, kind, False)
                v = o = Val(kind, pair[0], pair[1], def_)
                if outer is not None:
                    self.builder.position_at_end(outer)
                    o_pair = phis(pos, kind, True)
                    self.builder.position_at_end(here)
                    joined.append((pair, o_pair))
                    o = Val(kind, o_pair[0], o_pair[1])
            self.defs.setdefault(def_, v)
            return v, o

        stack = [value(("stack", i), k, d) for i, (k, d) in enumerate(state.stack)]
        slots = {s: value(("slot", s), k, d) for s, (k, d) in state.slots.items()}
        if outer is not None:
            self.builder.position_at_end(outer)
            if index[0] in self.polls.counted:
                self._enter_counted(index, [o for _, o in stack],
                                    {s: o for s, (_, o) in slots.items()})
            last = self.builder.block
            for (phi, tag), (o_phi, o_tag) in joined:
                phi.add_incoming(o_phi, last)
                if tag is not None and o_tag is not None:
                    tag.add_incoming(o_tag, last)
            self.builder.branch(here)
            self.builder.position_at_end(here)
        return [v for v, _ in stack], {s: v for s, (v, _) in slots.items()}

    # -- prologue, blocks, epilogue ---------------------------------------------------------------

    def _prologue(self) -> None:
        self.builder.position_at_end(self.entry)
        self.slots_ptr = self.b.load_field("slots", PTR)
        self.kinds_ptr = self.b.load_field("slot_kinds", PTR)
        self.fuel_ptr = self.b.load_field("fuel", PTR)
        if self.polls.headers:
            self.countdown = self.builder.alloca(I64)
            self.builder.store(const_int(I64, POLL_INTERVAL), self.countdown)
        for h in sorted(self.polls.counted):
            self.stops[h] = self.builder.alloca(I64)
            self.builder.store(const_int(I64, -(1 << 63)), self.stops[h])
        checked: dict[int, SlotKind] = {s: k for s, k in self.typing.entry_kinds.items()
                                        if k is not SlotKind.OTHER}
        bad: Any = None
        for s, kind in checked.items():
            tag = self.builder.load(I8, self.b.element_ptr(self.kinds_ptr, s, I8))
            mismatch = self.builder.icmp("!=", tag, const_int(I8, int(kind)))
            bad = mismatch if bad is None else self.builder.binop("or", bad, mismatch)
        if bad is not None:
            self._guard(bad, TrapCode.KIND_GUARD, 0, None)
        slots: dict[int, Val] = {}
        for s in self.cfg.tracked:
            kind = checked.get(s, SlotKind.OTHER)
            ir_value = None
            if kind not in _NO_VALUE:
                bits = self.builder.load(I64, self.b.element_ptr(self.slots_ptr, s, I64))
                ir_value = self.b.from_bits(bits, kind)
            slots[s] = Val(kind, ir_value, None, ("in", s))
        cx = Cx(self, [], slots, self.strict, self.b, ENTRY)
        self.current, self.ordinal = ENTRY, 0
        self.jump(cx, self.cfg.blocks[self.cfg.rpo[0]].start)

    def _epilogue(self, stack: list[Val], slots: dict[int, Val]) -> None:
        assert self.slots_ptr is not None and self.kinds_ptr is not None
        for s, _ in self.typing.writes():
            v = slots[s]
            self.builder.store(self.b.to_bits(v.ir, v.kind),
                               self.b.element_ptr(self.slots_ptr, s, I64))
            tag = v.tag if v.kind in _TAGGED else self.b.tag_const(v.kind)
            self.builder.store(tag, self.b.element_ptr(self.kinds_ptr, s, I8))
        if stack:
            results = self.b.load_field("results", PTR)
            kinds = self.b.load_field("result_kinds", PTR)
            for i, v in enumerate(stack):
                self.builder.store(self.b.to_bits(v.ir, v.kind),
                                   self.b.element_ptr(results, i, I64))
                tag = v.tag if v.kind in _TAGGED else self.b.tag_const(v.kind)
                self.builder.store(tag, self.b.element_ptr(kinds, i, I8))
        self.builder.ret(const_int(I64, int(Status.OK)))

    def emit(self) -> Emitted:
        self._prologue()
        for node in self.typing.order:
            self.builder.position_at_end(self.bbs[node])
            stack, slots = self._enter(node)
            if node == self.typing.exit:
                self._epilogue(stack, slots)
                continue
            self.current, self.ordinal = node, 0
            cx = Cx(self, stack, slots, self.strict, self.b, node)
            run_block(self.cfg, self.cfg.blocks[node[0]], cx)
        assert not self.pending, f"phi incomings never placed: {list(self.pending)}"
        return Emitted(self.fn.render(), tuple(self.b.helper_ids))


def emit_unit(cfg: Cfg, typing: Typing, strict: bool) -> Emitted:
    """Build the LLVM IR of one unit from its CFG and kind inference."""
    return _Emitter(cfg, typing, strict).emit()

