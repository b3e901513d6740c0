"""Native lowerings of awk's numeric extension ops, so awk loops trace (fusevm.jit.trace).

Each rule means exactly what the op's interpreter handler does, for the kinds it accepts
(Int, Float, Bool: awk keeps numbers as Floats); any other kind refuses the unit, and the
interpreter runs it. `AwkVarNum name` reads a global, which only the trace tier carries
natively: it is declared as "read the global, then AwkNum". `$k` as a number and the
special variables (NR, NF, ...) change only through ops that run in the interpreter (field
assignment, getline, the next record), so a trace reads them once on entry.
"""

from __future__ import annotations

import math

import fusevm.lang.awk.ops_io  # noqa: F401 - declares AwkCountNum, registered below
from fusevm.instr import Decoded, encode
from fusevm.jit.abi import SlotKind, TrapCode
from fusevm.jit.extension import lower_extension
from fusevm.jit.lower.cx import Cx, Val
from fusevm.jit.trace.ir import register_entry_read, register_global_read
from fusevm.lang.awk.ops import AWK

_NUMERIC = (SlotKind.INT, SlotKind.FLOAT, SlotKind.BOOL)
#: AwkCmp's operand: <, <=, ==, !=, >, >= as LLVM predicates with Python's NaN rules.
_CMP = ("olt", "ole", "oeq", "une", "ogt", "oge")
_ARITH = {0: "fadd", 1: "fsub", 2: "fmul", 3: "fdiv"}


def _number(cx: Cx, v: Val) -> Val:
    if v.kind not in _NUMERIC:
        cx.refuse(f"awk value of kind {v.kind.name} is not a number here")
    return cx.to_float(v)


@lower_extension(AWK, "AwkNum")
def _num(cx: Cx, d: Decoded) -> None:
    cx.push(_number(cx, cx.pop()))


@lower_extension(AWK, "AwkTruth")
def _truth(cx: Cx, d: Decoded) -> None:
    v = cx.pop()
    _number(cx, v)
    cx.push(cx.truth(v))


@lower_extension(AWK, "AwkNot")
def _not(cx: Cx, d: Decoded) -> None:
    v = cx.pop()
    _number(cx, v)
    cx.push(cx.bool_not(cx.truth(v)))


@lower_extension(AWK, "AwkCmp")
def _cmp(cx: Cx, d: Decoded) -> None:
    op = d.operands[0]
    if not 0 <= op < len(_CMP):
        cx.refuse(f"AwkCmp {op}")
    b = _number(cx, cx.pop())
    a = _number(cx, cx.pop())
    cx.push(cx.fcmp(_CMP[op], a, b))


@lower_extension(AWK, "AwkArith")
def _arith(cx: Cx, d: Decoded) -> None:
    op = d.operands[0]
    if op not in _ARITH and op != 4:
        cx.refuse("awk's ^ runs in the interpreter")
    b = _number(cx, cx.pop())
    a = _number(cx, cx.pop())
    if op == 4:
        cx.push(_fmod(cx, a, b))
        return
    if op == 3:
        # Division by zero is fatal: the interpreter resumes at this op and raises it.
        cx.deopt_if(cx.fcmp("oeq", b, cx.float_const(0.0)), TrapCode.DIV_ZERO)
    cx.push(cx.float_op(_ARITH[op], a, b))


def _fmod(cx: Cx, a: Val, b: Val) -> Val:
    """C fmod for integral operands with |a| < 2**53 and b finite (then a - trunc(a/b)*b
    is exact and the quotient cannot round across an integer; an infinite b, which floor
    keeps, would make it 0 * inf); anything else, a zero divisor included, leaves for the
    interpreter, which computes it (or raises) itself."""
    def integral(v: Val) -> Val:
        return cx.fcmp("oeq", cx.intrinsic("llvm.floor", v), v)
    small = cx.fcmp("olt", cx.intrinsic("llvm.fabs", a), cx.float_const(2.0 ** 53))
    nonzero = cx.fcmp("one", b, cx.float_const(0.0))
    finite = cx.fcmp("olt", cx.intrinsic("llvm.fabs", b), cx.float_const(math.inf))
    bad = cx.bool_or(cx.bool_or(cx.bool_not(integral(a)), cx.bool_not(integral(b))),
                     cx.bool_or(cx.bool_or(cx.bool_not(small), cx.bool_not(nonzero)),
                                cx.bool_not(finite)))
    cx.deopt_if(bad, TrapCode.MOD_ZERO)
    q = cx.intrinsic("llvm.trunc", cx.float_op("fdiv", a, b))
    r = cx.float_op("fsub", a, cx.float_op("fmul", q, b))
    return cx.intrinsic("llvm.copysign", r, a)  # fmod's zero takes the dividend's sign


register_global_read(AWK["AwkVarNum"].id, encode(AWK["AwkNum"], ()))
register_entry_read(AWK["AwkFieldNum"].id)
register_entry_read(AWK["AwkSpecial"].id)
register_entry_read(AWK["AwkCountNum"].id)
