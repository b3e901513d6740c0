"""The lowering context: abstract values and the operations rules are written against.

A rule (see `registry.py`) lowers one op by calling a `Cx`: popping and pushing `Val`s,
reading and writing slots, and building results with typed primitives (`int_arith`,
`to_float`, `fcmp`, ...). The same rule runs in two modes:

* typing (`Cx(backend=None)`): values carry only their kind; this decides result kinds,
  refusals and the stack/slot shapes at every block without llvmlite being imported;
* emission (`Cx(backend=IRBackend)`): every primitive also builds LLVM IR.

Because both modes execute the same rule code, the kinds the typing pass predicts are the
kinds the emitted code produces. Kind logic lives here and in the rules; the backend only
turns an already-typed primitive into instructions. This module never imports llvmlite.
"""

from __future__ import annotations

from fusevm.jit.abi import SlotKind, TrapCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn

    from fusevm.jit.lower.builder import IRBackend

INT = SlotKind.INT
FLOAT = SlotKind.FLOAT
BOOL = SlotKind.BOOL
UNDEF = SlotKind.UNDEF
OTHER = SlotKind.OTHER
MIXED = SlotKind.MIXED
OPAQUE = SlotKind.OPAQUE

#: Kinds that can be computed with (the others are only moved around).
COMPUTABLE = frozenset({INT, FLOAT, BOOL, UNDEF})

_KIND_WORD = {INT: "Int", FLOAT: "Float", BOOL: "Bool", UNDEF: "Undef",
              OTHER: "a non-numeric value", MIXED: "a kind known only at run time",
              OPAQUE: "possibly a non-numeric value"}


def kind_word(kind: SlotKind) -> str:
    """How refusal messages name a kind."""
    return _KIND_WORD[kind]


class Refuse(Exception):
    """A unit cannot be compiled; the message says why (the op is added by the driver)."""


if TYPE_CHECKING:
    Def = tuple[Any, ...]


class Val:
    """An abstract value: its kind, a stable definition id, and (when emitting) its IR.

    `ir` is an i64 for INT, a double for FLOAT, an i1 for BOOL, None for UNDEF and OTHER,
    and the i64 bit pattern for MIXED/OPAQUE, whose run-time kind byte is `tag` (an i8).
    """

    __slots__ = ("kind", "ir", "tag", "def_")

    def __init__(self, kind: SlotKind, ir: Any = None, tag: Any = None,
                 def_: Def | None = None) -> None:
        self.kind = kind
        self.ir = ir
        self.tag = tag
        self.def_ = def_

    def __repr__(self) -> str:
        return f"Val({self.kind.name}, {self.def_})"


class Flow:
    """What the driver provides to a Cx: branches, and where the current op is."""

    def jump(self, cx: Cx, target: int) -> None:
        raise NotImplementedError

    def branch(self, cx: Cx, cond: Val, if_true: int, if_false: int) -> None:
        raise NotImplementedError

    def deopt_if(self, cx: Cx, cond: Val, trap: TrapCode) -> None:
        raise NotImplementedError


class Cx:
    """Operand stack, slots and typed primitives for one block being typed or emitted."""

    def __init__(self, flow: Flow, stack: list[Val], slots: dict[int, Val], strict: bool,
                 backend: IRBackend | None, block: Any) -> None:
        self.flow = flow
        self.stack = stack
        self.slots = slots
        self.strict = strict
        self.b = backend
        self.block = block
        self.ip = 0  # op index of the op being lowered (set by the driver)
        self.next = 0  # micro-op index of the fall-through successor
        self.constants: Sequence[Any] = ()
        self.terminated = False
        self._seq = 0
        #: The operand stack and slots before the op being lowered (set by the driver at
        #: each op boundary): what a guard inside the op hands back to the interpreter.
        #: None inside a fused op's expansion that began in another block.
        self.pre: tuple[list[Val], dict[int, Val]] | None = None

    # -- refusal ------------------------------------------------------------------

    def refuse(self, reason: str) -> NoReturn:
        raise Refuse(reason)

    def require(self, v: Val, what: str = "an operand") -> Val:
        """`v` if it can be computed with, else refuse naming its kind."""
        if v.kind not in COMPUTABLE:
            self.refuse(f"{what} is {kind_word(v.kind)}")
        return v

    # -- stack and slots ---------------------------------------------------------------

    def _define(self, v: Val) -> Val:
        if v.def_ is None:
            v.def_ = ("v", self.block, self._seq)
            self._seq += 1
        return v

    def pop(self) -> Val:
        return self.stack.pop()

    def peek(self, depth: int = 0) -> Val:
        return self.stack[-1 - depth]

    def push(self, v: Val) -> None:
        self.stack.append(self._define(v))

    def get_slot(self, slot: int) -> Val:
        v = self.slots[slot]
        if v.kind is OTHER or v.kind is OPAQUE:
            self.refuse(f"slot {slot} holds {kind_word(v.kind)} here")
        return v

    def set_slot(self, slot: int, v: Val) -> None:
        self.slots[slot] = self._define(v)

    # -- constants -------------------------------------------------------------------------

    def int_const(self, n: int) -> Val:
        return Val(INT, self.b.int_const(n) if self.b else None)

    def float_const(self, x: float) -> Val:
        return Val(FLOAT, self.b.float_const(x) if self.b else None)

    def bool_const(self, flag: bool) -> Val:
        return Val(BOOL, self.b.bool_const(flag) if self.b else None)

    def undef(self) -> Val:
        return Val(UNDEF)

    def const(self, value: Any) -> Val:
        """A VM constant as a value; refuses kinds native code cannot hold."""
        t = type(value)
        if t is int:
            return self.int_const(value)
        if t is float:
            return self.float_const(value)
        if t is bool:
            return self.bool_const(value)
        from fusevm.values import Undef, kind_name
        if value is Undef:
            return self.undef()
        self.refuse(f"the constant is {kind_name(value)}")

    # -- coercions (values.to_float / to_int / truthy) --------------------------------------

    def to_float(self, v: Val) -> Val:
        self.require(v)
        if v.kind is FLOAT:
            return v
        if v.kind is UNDEF:
            return self.float_const(0.0)
        return Val(FLOAT, self.b.to_float(v.ir, v.kind) if self.b else None)

    def to_int(self, v: Val) -> Val:
        """Int coercion: Float saturates toward zero (NaN gives 0), Bool is 0/1, Undef 0."""
        self.require(v)
        if v.kind is INT:
            return v
        if v.kind is UNDEF:
            return self.int_const(0)
        return Val(INT, self.b.to_int(v.ir, v.kind) if self.b else None)

    def truth(self, v: Val) -> Val:
        """truthy(): Int != 0, Float != 0.0 (NaN is true), Bool itself, Undef false."""
        self.require(v, "a condition")
        if v.kind is BOOL:
            return v
        if v.kind is UNDEF:
            return self.bool_const(False)
        return Val(BOOL, self.b.truth(v.ir, v.kind) if self.b else None)

    # -- integer primitives ----------------------------------------------------------------

    def int_op(self, op: str, a: Val, b: Val) -> Val:
        """Wrapping i64 `add sub mul and or xor shl ashr lshr` (shift counts already masked)."""
        assert a.kind is INT and b.kind is INT
        return Val(INT, self.b.int_op(op, a.ir, b.ir) if self.b else None)

    def int_arith(self, op: str, a: Val, b: Val) -> Val:
        """`add`/`sub`/`mul` that wraps, or deopts on overflow under strict_int (D4)."""
        if not self.strict:
            return self.int_op(op, a, b)
        value, overflow = self.int_checked(op, a, b)
        self.deopt_if(overflow, TrapCode.OVERFLOW)
        return value

    def int_checked(self, op: str, a: Val, b: Val) -> tuple[Val, Val]:
        """`add`/`sub`/`mul` with the overflow flag (a Bool) of the exact result."""
        assert a.kind is INT and b.kind is INT
        if not self.b:
            return Val(INT), Val(BOOL)
        value, overflow = self.b.int_overflow(op, a.ir, b.ir)
        return Val(INT, value), Val(BOOL, overflow)

    def fits_i64(self, base: Val, count: Val, step: Val) -> Val:
        """Bool: `base + count*step + count*(count-1)/2` is within i64 (exact, 128 bits).

        The sum of `count` consecutive Ints from `step` added to `base`; `count` is read
        as unsigned and must be at most 2**62.
        """
        assert all(v.kind is INT for v in (base, count, step))
        return Val(BOOL, self.b.fits_i64(base.ir, count.ir, step.ir) if self.b else None)

    def int_rem(self, a: Val, b: Val) -> Val:
        """C `%` for a non-zero divisor; MIN % -1 is 0 (no trap)."""
        assert a.kind is INT and b.kind is INT
        return Val(INT, self.b.int_rem(a.ir, b.ir) if self.b else None)

    def icmp(self, pred: str, a: Val, b: Val) -> Val:
        """Signed compare (`<`, `==`, ...); a `u` prefix compares unsigned (`u>`)."""
        assert a.kind is INT and b.kind is INT
        return Val(BOOL, self.b.icmp(pred, a.ir, b.ir) if self.b else None)

    def bool_to_int(self, v: Val) -> Val:
        assert v.kind is BOOL
        return Val(INT, self.b.to_int(v.ir, BOOL) if self.b else None)

    # -- float primitives ------------------------------------------------------------------

    def float_op(self, op: str, a: Val, b: Val) -> Val:
        """IEEE `fadd fsub fmul fdiv`."""
        assert a.kind is FLOAT and b.kind is FLOAT
        return Val(FLOAT, self.b.float_op(op, a.ir, b.ir) if self.b else None)

    def fneg(self, a: Val) -> Val:
        assert a.kind is FLOAT
        return Val(FLOAT, self.b.fneg(a.ir) if self.b else None)

    def fcmp(self, pred: str, a: Val, b: Val) -> Val:
        """LLVM fcmp with an explicit ordered/unordered predicate (`olt`, `une`, ...)."""
        assert a.kind is FLOAT and b.kind is FLOAT
        return Val(BOOL, self.b.fcmp(pred, a.ir, b.ir) if self.b else None)

    def intrinsic(self, name: str, *args: Val) -> Val:
        """A float intrinsic that never lowers to a call (`llvm.sqrt`, `llvm.floor`, ...)."""
        assert all(a.kind is FLOAT for a in args)
        return Val(FLOAT, self.b.float_intrinsic(name, [a.ir for a in args]) if self.b
                   else None)

    # -- booleans and selection -------------------------------------------------------------

    def bool_not(self, v: Val) -> Val:
        assert v.kind is BOOL
        return Val(BOOL, self.b.bool_not(v.ir) if self.b else None)

    def bool_or(self, a: Val, b: Val) -> Val:
        assert a.kind is BOOL and b.kind is BOOL
        return Val(BOOL, self.b.bool_or(a.ir, b.ir) if self.b else None)

    def select(self, cond: Val, a: Val, b: Val, rare: bool = False) -> Val:
        """`a` where `cond` holds, else `b`; `rare`: `cond` almost never holds (see
        `textir.Builder.select`)."""
        assert cond.kind is BOOL and a.kind is b.kind and a.kind in (INT, FLOAT, BOOL)
        return Val(a.kind, self.b.select(cond.ir, a.ir, b.ir, rare) if self.b else None)

    # -- helpers, deopt and control flow --------------------------------------------------------

    def call_helper(self, helper_id: int, *args: Val) -> Val:
        """Call a helper through the unit's table; argument kinds must match its signature."""
        from fusevm.jit.abi import helper_sig
        sig = helper_sig(helper_id)
        if len(args) != len(sig.args) or any(a.kind is not k for a, k in zip(args, sig.args)):
            raise TypeError(f"helper {helper_id:#x} takes {sig.args}, got "
                            f"{tuple(a.kind for a in args)}")
        return Val(sig.result, self.b.call_helper(helper_id, [a.ir for a in args]) if self.b
                   else None)

    def deopt_if(self, cond: Val, trap: TrapCode) -> None:
        """Leave the unit when `cond` holds, handing the interpreter the state before this
        op so that it resumes with the op itself (which then raises or takes its slow
        path)."""
        assert cond.kind is BOOL
        if self.pre is None:
            self.refuse("a guard inside a fused loop's expansion has no op boundary to "
                        "resume at")
        self.flow.deopt_if(self, cond, trap)

    def jump(self, target: int) -> None:
        self.flow.jump(self, target)
        self.terminated = True

    def branch(self, cond: Val, if_true: int, if_false: int) -> None:
        assert cond.kind is BOOL
        self.flow.branch(self, cond, if_true, if_false)
        self.terminated = True
