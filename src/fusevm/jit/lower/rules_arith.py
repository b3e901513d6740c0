"""Lowering rules for arithmetic and bitwise ops (interp/handlers/arith.py, semantics.py).

Int x Int wraps (or deopts under strict_int); any other numeric pair goes through
to_float, so Bool and Undef operands promote to Float exactly as `semantics.add` does.
Errors (zero divisors, strict overflow) deopt: the interpreter then raises them itself.
NaN results of Mod and Pow follow the interpreter's bits (see `ieee`).
"""

from __future__ import annotations

from fusevm.instr import Decoded
from fusevm.jit.abi import Helper, TrapCode
from fusevm.jit.lower.cx import INT, Cx
from fusevm.jit.lower.ieee import arith_nan, domain_nan, pow_nan
from fusevm.jit.lower.registry import lowers
from fusevm.ops import Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def _wrapping(int_op: str, float_op: str) -> Callable[[Cx, Decoded], None]:
    def rule(cx: Cx, d: Decoded) -> None:
        b = cx.pop()
        a = cx.pop()
        if a.kind is INT and b.kind is INT:
            cx.push(cx.int_arith(int_op, a, b))
        else:
            x, y = cx.to_float(a), cx.to_float(b)
            cx.push(arith_nan(cx, cx.float_op(float_op, x, y), x, y))
    return rule


lowers(Op.Add)(_wrapping("add", "fadd"))
lowers(Op.Sub)(_wrapping("sub", "fsub"))
lowers(Op.Mul)(_wrapping("mul", "fmul"))


@lowers(Op.Div)
def div(cx: Cx, d: Decoded) -> None:
    b = cx.to_float(cx.pop())
    a = cx.to_float(cx.pop())
    cx.deopt_if(cx.fcmp("oeq", b, cx.float_const(0.0)), TrapCode.DIV_ZERO)
    cx.push(arith_nan(cx, cx.float_op("fdiv", a, b), a, b))


@lowers(Op.Mod)
def mod(cx: Cx, d: Decoded) -> None:
    b = cx.pop()
    a = cx.pop()
    if a.kind is INT and b.kind is INT:
        cx.deopt_if(cx.icmp("==", b, cx.int_const(0)), TrapCode.MOD_ZERO)
        cx.push(cx.int_rem(a, b))
    else:
        x, y = cx.to_float(a), cx.to_float(b)
        cx.push(domain_nan(cx, cx.call_helper(Helper.FMOD, x, y), x, y))


@lowers(Op.Pow, Op.PowFloat)  # the same operation (the Math section's name for it)
def pow_(cx: Cx, d: Decoded) -> None:
    b = cx.to_float(cx.pop())
    a = cx.to_float(cx.pop())
    cx.push(pow_nan(cx, cx.call_helper(Helper.POW, a, b), a, b))


@lowers(Op.Negate)
def negate(cx: Cx, d: Decoded) -> None:
    a = cx.pop()
    if a.kind is INT:
        cx.push(cx.int_arith("sub", cx.int_const(0), a))
    else:
        cx.push(cx.fneg(cx.to_float(a)))


@lowers(Op.Inc)
def inc(cx: Cx, d: Decoded) -> None:
    cx.push(cx.int_arith("add", cx.to_int(cx.pop()), cx.int_const(1)))


@lowers(Op.Dec)
def dec(cx: Cx, d: Decoded) -> None:
    cx.push(cx.int_arith("sub", cx.to_int(cx.pop()), cx.int_const(1)))


def _bitwise(op: str) -> Callable[[Cx, Decoded], None]:
    def rule(cx: Cx, d: Decoded) -> None:
        b = cx.to_int(cx.pop())
        a = cx.to_int(cx.pop())
        cx.push(cx.int_op(op, a, b))
    return rule


lowers(Op.BitAnd)(_bitwise("and"))
lowers(Op.BitOr)(_bitwise("or"))
lowers(Op.BitXor)(_bitwise("xor"))


@lowers(Op.BitNot)
def bit_not(cx: Cx, d: Decoded) -> None:
    cx.push(cx.int_op("xor", cx.to_int(cx.pop()), cx.int_const(-1)))


@lowers(Op.Shl)
def shl(cx: Cx, d: Decoded) -> None:
    count = cx.int_op("and", cx.to_int(cx.pop()), cx.int_const(63))
    a = cx.to_int(cx.pop())
    r = cx.int_op("shl", a, count)
    if cx.strict:
        back = cx.int_op("ashr", r, count)
        cx.deopt_if(cx.icmp("!=", back, a), TrapCode.OVERFLOW)
    cx.push(r)


@lowers(Op.Shr)
def shr(cx: Cx, d: Decoded) -> None:
    count = cx.int_op("and", cx.to_int(cx.pop()), cx.int_const(63))
    cx.push(cx.int_op("ashr", cx.to_int(cx.pop()), count))
