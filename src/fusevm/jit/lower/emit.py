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
* at each loop header, a relaxed load of `*ctx.fuel`; a negative word leaves the same
  way (FUEL), which is how `vm.interrupt()` reaches native loops.

Nodes are emitted in reverse post-order, so every value a node uses without a phi was
defined in a node emitted earlier. Every branch a rule makes consumes the next edge the
typing pass recorded for the node, which says which version of the target it enters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fusevm.jit.abi import SlotKind, Status, TrapCode
from fusevm.jit.cfg import Cfg
from fusevm.jit.lower.builder import IRBackend, ir_type
from fusevm.jit.lower.cx import MIXED, OPAQUE, Cx, Def, Flow, Val
from fusevm.jit.lower.textir import I8, I64, PTR, Block, Builder, Function, Phi, const_int
from fusevm.jit.typeflow import ENTRY, Node, Typing, node_name, run_block

_TAGGED = (MIXED, OPAQUE)


def _own_phi(def_: Def, node: Node) -> bool:
    """True when a definition id is a phi at the entry of `node` (else it dominates it)."""
    return len(def_) > 1 and def_[0] == "phi" and def_[1] == node
_NO_VALUE = (SlotKind.UNDEF, SlotKind.OTHER)


#: Whether loop headers poll the fuel word (benchmarks/bench_poll.py measures the cost by
#: compiling with it off; nothing else turns it off, since interrupts depend on it).
POLL_LOOP_HEADERS = True

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
        self.phis: dict[tuple[Node, tuple[Any, ...]], tuple[Phi, Phi | None]] = {}
        self.pending: dict[tuple[Node, tuple[Any, ...]], list[tuple[Block, Any, Any]]] = {}
        self.current: Node = ENTRY
        self.ordinal = 0
        self.splits = 0
        self.slots_ptr: Any = None
        self.kinds_ptr: Any = None
        self.fuel_ptr: Any = None

    # -- Flow -----------------------------------------------------------------------------

    def _next_edge(self) -> Node:
        node = self.typing.edges[(self.current, self.ordinal)]
        self.ordinal += 1
        return node

    def jump(self, cx: Cx, target: int) -> None:
        succ = self._next_edge()
        self._edge(cx, succ)
        self.builder.branch(self.bbs[succ])

    def branch(self, cx: Cx, cond: Val, if_true: int, if_false: int) -> None:
        t, f = self._next_edge(), self._next_edge()
        self._edge(cx, t)
        if t == f:
            self.builder.branch(self.bbs[t])
            return
        self._edge(cx, f)
        self.builder.cbranch(cond.ir, self.bbs[t], self.bbs[f])

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

    def _poll(self, node: Node, stack: list[Val], slots: dict[int, Val]) -> None:
        """At a loop header: leave (FUEL) when the fuel word has gone negative.

        One relaxed atomic load and a branch (wasmtime's epoch check): `vm.interrupt()`
        makes the word negative from any thread. Step budgets are not counted here: a
        run with a budget stays in the interpreter, which counts every instruction.
        """
        block = self.cfg.blocks[node[0]]
        if not POLL_LOOP_HEADERS:
            return
        if block.start >= len(self.cfg.micro) or self.cfg.micro[block.start].sub != 0:
            return  # inside a fused loop's expansion: bounded, and no op boundary
        if not any(self.cfg.blocks[p].start >= block.start for p in block.preds):
            return
        assert self.fuel_ptr is not None
        left = self.builder.load_relaxed(I64, self.fuel_ptr)
        empty = self.builder.icmp("<", left, const_int(I64, 0))
        self._guard(empty, TrapCode.FUEL, self.cfg.micro[block.start].ip,
                    (list(stack), dict(slots)))

    # -- edges and phis ---------------------------------------------------------------------

    def _positions(self, stack: list[Val], slots: dict[int, Val]) -> list[tuple[Any, Val]]:
        return ([(("stack", i), v) for i, v in enumerate(stack)]
                + [(("slot", s), v) for s, v in slots.items()])

    def _edge(self, cx: Cx, succ: Node) -> None:
        """Record the values flowing into `succ` (phi incomings or dominating definitions)."""
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
            key = (succ, pos)
            if key in self.phis:
                phi, tag_phi = self.phis[key]
                phi.add_incoming(value, here)
                if tag_phi is not None:
                    tag_phi.add_incoming(tag, here)
            else:
                self.pending.setdefault(key, []).append((here, value, tag))

    def _enter(self, index: Node) -> tuple[list[Val], dict[int, Val]]:
        """Create the node's phis and return its entry stack and slots as values."""
        state = self.typing.states[index]

        def value(pos: tuple[Any, ...], kind: SlotKind, def_: Def) -> Val:
            if not _own_phi(def_, index):
                return self.defs[def_]
            if kind in _NO_VALUE:
                v = Val(kind, def_=def_)
            elif kind in _TAGGED:
                bits, tag = self.builder.phi(I64), self.builder.phi(I8)
                self.phis[(index, pos)] = (bits, tag)
                v = Val(kind, bits, tag, def_)
            else:
                phi = self.builder.phi(ir_type(kind))
                self.phis[(index, pos)] = (phi, None)
                v = Val(kind, phi, None, def_)
            for pred, inc, tag in self.pending.pop((index, pos), []):
                phi_v, phi_t = self.phis[(index, pos)]
                phi_v.add_incoming(inc, pred)
                if phi_t is not None:
                    phi_t.add_incoming(tag, pred)
            self.defs.setdefault(def_, v)
            return v

        stack = [value(("stack", i), k, d) for i, (k, d) in enumerate(state.stack)]
        slots = {s: value(("slot", s), k, d) for s, (k, d) in state.slots.items()}
        return stack, slots

    # -- prologue, blocks, epilogue ---------------------------------------------------------------

    def _prologue(self) -> None:
        self.builder.position_at_end(self.entry)
        self.slots_ptr = self.b.load_field("slots", PTR)
        self.kinds_ptr = self.b.load_field("slot_kinds", PTR)
        self.fuel_ptr = self.b.load_field("fuel", PTR)
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
            self._poll(node, stack, slots)
            self.current, self.ordinal = node, 0
            cx = Cx(self, stack, slots, self.strict, self.b, node)
            run_block(self.cfg, self.cfg.blocks[node[0]], cx)
        assert not self.pending, f"phi incomings never placed: {list(self.pending)}"
        return Emitted(self.fn.render(), tuple(self.b.helper_ids))


def emit_unit(cfg: Cfg, typing: Typing, strict: bool) -> Emitted:
    """Build the LLVM IR of one unit from its CFG and kind inference."""
    return _Emitter(cfg, typing, strict).emit()

