"""Lowering rules for the Math section (interp/handlers/math.py).

Rounding, sqrt and abs are LLVM intrinsics that compile to instructions on the host CPU;
transcendental functions call libm through the unit's helper table (the same C functions
CPython's math module wraps); GcdInt/LcmInt call back into the interpreter's own functions.
TimeInt has no rule: its result would differ between a run and its re-run after a deopt.
"""

from __future__ import annotations

from fusevm.instr import Decoded
from fusevm.jit.abi import Helper, TrapCode
from fusevm.jit.lower.cx import Cx
from fusevm.jit.lower.ieee import domain_nan, nan_when
from fusevm.jit.lower.registry import lowers
from fusevm.ops import Op
from fusevm.values import INT_MIN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def _intrinsic(name: str) -> Callable[[Cx, Decoded], None]:
    def rule(cx: Cx, d: Decoded) -> None:
        x = cx.to_float(cx.pop())
        cx.push(domain_nan(cx, cx.intrinsic(name, x), x))
    return rule


for _op, _name in ((Op.SqrtFloat, "llvm.sqrt"), (Op.CeilFloat, "llvm.ceil"),
                   (Op.FloorFloat, "llvm.floor"), (Op.TruncFloat, "llvm.trunc"),
                   (Op.RoundFloat, "llvm.roundeven")):
    lowers(_op)(_intrinsic(_name))


@lowers(Op.AbsFloat)
def abs_float(cx: Cx, d: Decoded) -> None:
    # fabs only clears the sign bit, NaN or not, exactly as Python's abs() does.
    cx.push(cx.intrinsic("llvm.fabs", cx.to_float(cx.pop())))


def _unary_helper(helper: Helper) -> Callable[[Cx, Decoded], None]:
    def rule(cx: Cx, d: Decoded) -> None:
        x = cx.to_float(cx.pop())
        cx.push(domain_nan(cx, cx.call_helper(helper, x), x))
    return rule


def _log_helper(helper: Helper) -> Callable[[Cx, Decoded], None]:
    def rule(cx: Cx, d: Decoded) -> None:
        x = cx.to_float(cx.pop())
        # The interpreter answers a NaN or negative operand with math.nan itself.
        bad = cx.fcmp("ult", x, cx.float_const(0.0))
        cx.push(nan_when(cx, bad, cx.call_helper(helper, x)))
    return rule


for _op, _helper in ((Op.LogFloat, Helper.LOG), (Op.Log2Float, Helper.LOG2),
                     (Op.Log10Float, Helper.LOG10)):
    lowers(_op)(_log_helper(_helper))


for _op, _helper in ((Op.SinFloat, Helper.SIN), (Op.CosFloat, Helper.COS),
                     (Op.TanFloat, Helper.TAN), (Op.ExpFloat, Helper.EXP),
                     (Op.AsinFloat, Helper.ASIN),
                     (Op.AcosFloat, Helper.ACOS), (Op.AtanFloat, Helper.ATAN),
                     (Op.SinhFloat, Helper.SINH), (Op.CoshFloat, Helper.COSH),
                     (Op.TanhFloat, Helper.TANH)):
    lowers(_op)(_unary_helper(_helper))


@lowers(Op.Atan2Float)
def atan2_float(cx: Cx, d: Decoded) -> None:
    x = cx.to_float(cx.pop())
    y = cx.to_float(cx.pop())
    # math.atan2 returns math.nan for any NaN operand without calling libm.
    cx.push(nan_when(cx, cx.fcmp("uno", y, x), cx.call_helper(Helper.ATAN2, y, x)))


@lowers(Op.GcdInt)
def gcd_int(cx: Cx, d: Decoded) -> None:
    b = cx.to_int(cx.pop())
    a = cx.to_int(cx.pop())
    r = cx.call_helper(Helper.GCD, a, b)
    if cx.strict:
        # The only gcd that does not fit is 2**63 (it wraps to INT_MIN): an overflow (D4).
        cx.deopt_if(cx.icmp("==", r, cx.int_const(INT_MIN)), TrapCode.OVERFLOW)
    cx.push(r)


@lowers(Op.LcmInt)
def lcm_int(cx: Cx, d: Decoded) -> None:
    b = cx.to_int(cx.pop())
    a = cx.to_int(cx.pop())
    cx.push(cx.call_helper(Helper.LCM, a, b))


@lowers(Op.TruncInt)
def trunc_int(cx: Cx, d: Decoded) -> None:
    cx.push(cx.to_int(cx.pop()))


@lowers(Op.AbsInt)
def abs_int(cx: Cx, d: Decoded) -> None:
    a = cx.to_int(cx.pop())
    if cx.strict:
        cx.deopt_if(cx.icmp("==", a, cx.int_const(INT_MIN)), TrapCode.OVERFLOW)
    negative = cx.icmp("<", a, cx.int_const(0))
    cx.push(cx.select(negative, cx.int_op("sub", cx.int_const(0), a), a))
