"""The LLVM IR backend of `Cx`: each typed primitive as instructions, plus ctx access.

Nothing here decides a kind; `cx.py` and the rules do. What this module guarantees is that
no emitted instruction can trap or be poison for any input: remainders are only emitted
after the caller guarded a zero divisor and map MIN % -1 to 0, float-to-int conversion is
the saturating intrinsic, shift counts arrive masked, integer arithmetic never carries
nsw/nuw. Helpers are called through `ctx->helpers[k]` (k = this unit's table index), so the
object code has no external symbol. The LLVM context struct type is derived from
`abi.JitCtx`. Instructions are written as text (`textir.py`).
"""

from __future__ import annotations

import ctypes
from typing import Any, Final

from fusevm.jit.abi import CTX_FIELD, JitCtx, SlotKind, helper_sig
from fusevm.jit.lower.textir import (
    F64,
    I1,
    I8,
    I64,
    I128,
    PTR,
    Builder,
    Function,
    Value,
    const_double,
    const_int,
)

_CTYPES_TO_IR: Final[dict[Any, str]] = {
    ctypes.c_void_p: PTR, ctypes.c_int64: I64, ctypes.c_uint8: I8, ctypes.c_double: F64,
}

#: The LLVM type of JitCtx, field for field.
CTX_TYPE: Final = "{" + ", ".join(_CTYPES_TO_IR[f[1]] for f in JitCtx._fields_) + "}"

_KIND_TYPE: Final = {SlotKind.INT: I64, SlotKind.FLOAT: F64}
_INT_OPS: Final = frozenset({"add", "sub", "mul", "and", "or", "xor", "shl", "ashr", "lshr"})
_FLOAT_OPS: Final = frozenset({"fadd", "fsub", "fmul", "fdiv"})
_OVERFLOW: Final = {"add": "llvm.sadd.with.overflow.i64", "sub": "llvm.ssub.with.overflow.i64",
                    "mul": "llvm.smul.with.overflow.i64"}
_FLOAT_CMP: Final = frozenset({"oeq", "one", "olt", "ogt", "ole", "oge", "ueq", "une", "ult",
                               "ugt", "ule", "uge", "ord", "uno"})
TRUE: Final = Value(I1, "true")
FALSE: Final = Value(I1, "false")


def ir_type(kind: SlotKind) -> str:
    """The SSA type of a value of this kind (MIXED/OPAQUE travel as i64 bits)."""
    if kind is SlotKind.FLOAT:
        return F64
    if kind is SlotKind.BOOL:
        return I1
    return I64


class IRBackend:
    """Builds the instructions of one unit's function."""

    def __init__(self, fn: Function, builder: Builder) -> None:
        self.fn = fn
        self.builder = builder
        self.ctx = fn.arg
        self.helper_ids: list[int] = []  # this unit's helper table, by index

    # -- constants -----------------------------------------------------------------------

    def int_const(self, n: int) -> Value:
        return const_int(I64, n)

    def float_const(self, x: float) -> Value:
        return const_double(x)

    def bool_const(self, flag: bool) -> Value:
        return TRUE if flag else FALSE

    def tag_const(self, kind: SlotKind) -> Value:
        return const_int(I8, int(kind))

    # -- conversions -----------------------------------------------------------------------

    def to_float(self, v: Value, kind: SlotKind) -> Value:
        return self.builder.cast("uitofp" if kind is SlotKind.BOOL else "sitofp", v, F64)

    def to_int(self, v: Value, kind: SlotKind) -> Value:
        if kind is SlotKind.BOOL:
            return self.builder.cast("zext", v, I64)
        return self.builder.call_intrinsic("llvm.fptosi.sat.i64.f64", I64, [v])

    def truth(self, v: Value, kind: SlotKind) -> Value:
        if kind is SlotKind.FLOAT:
            return self.builder.fcmp("une", v, const_double(0.0))
        return self.builder.icmp("!=", v, const_int(I64, 0))

    def to_bits(self, v: Any, kind: SlotKind) -> Value:
        """The i64 word of a value of a concrete kind (Undef and other: 0)."""
        if kind is SlotKind.INT or kind in (SlotKind.MIXED, SlotKind.OPAQUE):
            return v  # type: ignore[no-any-return]
        if kind is SlotKind.FLOAT:
            return self.builder.cast("bitcast", v, I64)
        if kind is SlotKind.BOOL:
            return self.builder.cast("zext", v, I64)
        return const_int(I64, 0)

    def from_bits(self, bits: Value, kind: SlotKind) -> Value | None:
        """A value of `kind` from its i64 word (None for kinds without a value)."""
        if kind is SlotKind.INT or kind in (SlotKind.MIXED, SlotKind.OPAQUE):
            return bits
        if kind is SlotKind.FLOAT:
            return self.builder.cast("bitcast", bits, F64)
        if kind is SlotKind.BOOL:
            return self.builder.cast("trunc", bits, I1)
        return None

    # -- arithmetic ------------------------------------------------------------------------

    def int_op(self, op: str, a: Value, b: Value) -> Value:
        assert op in _INT_OPS, op
        return self.builder.binop(op, a, b)

    def int_overflow(self, op: str, a: Value, b: Value) -> tuple[Value, Value]:
        pair = self.builder.call_intrinsic(_OVERFLOW[op], "{i64, i1}", [a, b])
        return self.builder.extract(pair, 0, I64), self.builder.extract(pair, 1, I1)

    def int_rem(self, a: Value, b: Value) -> Value:
        minus_one = self.builder.icmp("==", b, const_int(I64, -1))
        safe = self.builder.select(minus_one, const_int(I64, 1), b)
        return self.builder.binop("srem", a, safe)

    def fits_i64(self, base: Value, count: Value, step: Value) -> Value:
        b = self.builder
        j = b.cast("zext", count, I128)
        tri = b.binop("lshr", b.binop("mul", j, b.binop("sub", j, const_int(I128, 1))),
                      const_int(I128, 1))
        wide = b.binop("add", b.binop("add", b.cast("sext", base, I128),
                                      b.binop("mul", j, b.cast("sext", step, I128))), tri)
        back = b.cast("sext", b.cast("trunc", wide, I64), I128)
        return b.icmp("==", back, wide)

    def icmp(self, pred: str, a: Value, b: Value) -> Value:
        if pred.startswith("u"):
            return self.builder.icmp(pred[1:], a, b, unsigned=True)
        return self.builder.icmp(pred, a, b)

    def float_op(self, op: str, a: Value, b: Value) -> Value:
        assert op in _FLOAT_OPS, op
        return self.builder.binop(op, a, b)

    def fneg(self, a: Value) -> Value:
        return self.builder.fneg(a)

    def fcmp(self, pred: str, a: Value, b: Value) -> Value:
        assert pred in _FLOAT_CMP, pred
        return self.builder.fcmp(pred, a, b)

    def float_intrinsic(self, name: str, args: list[Value]) -> Value:
        return self.builder.call_intrinsic(f"{name}.f64", F64, args)

    def bool_not(self, v: Value) -> Value:
        return self.builder.not_(v)

    def bool_or(self, a: Value, b: Value) -> Value:
        return self.builder.binop("or", a, b)

    def select(self, c: Value, a: Value, b: Value, rare: bool = False) -> Value:
        return self.builder.select(c, a, b, rare)

    # -- helpers and the context -------------------------------------------------------------

    def call_helper(self, helper_id: int, args: list[Value]) -> Value:
        sig = helper_sig(helper_id)
        if helper_id not in self.helper_ids:
            self.helper_ids.append(helper_id)
        index = self.helper_ids.index(helper_id)
        table = self.load_field("helpers", PTR)
        slot = self.builder.gep_element(PTR, table, index)
        fp = self.builder.load(PTR, slot)
        return self.builder.call(fp.ref, _KIND_TYPE[sig.result], args)

    def field_ptr(self, name: str) -> Value:
        return self.builder.gep_field(CTX_TYPE, self.ctx, CTX_FIELD[name])

    def load_field(self, name: str, typ: str) -> Value:
        return self.builder.load(typ, self.field_ptr(name))

    def store_field(self, name: str, value: Value) -> None:
        self.builder.store(value, self.field_ptr(name))

    def element_ptr(self, base: Value, index: int, typ: str) -> Value:
        return self.builder.gep_element(typ, base, index)
