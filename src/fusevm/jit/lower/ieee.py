"""NaN results exactly as the interpreter gives them (D5: the interpreter is the oracle).

Three sources of disagreement, each restated here as the interpreter's rule:

* Python's math module answers a domain error with `math.nan` (a positive quiet NaN) where
  libm and native instructions return the CPU's default NaN (negative on x86-64).
* Some math functions decide NaN operands themselves (pow, atan2, log) instead of asking
  libm, so the bits they return are not libm's.
* LLVM folds constant float arithmetic at compile time with its own default NaN (positive),
  while the interpreter's `inf - inf` runs on the CPU; `HW_NAN` is the CPU's, measured here.

* LLVM gives no NaN bits to an arithmetic result at all (it may rewrite `x / -1.0` as
  `-x`, flipping a NaN's sign), so every NaN result is chosen here explicitly: the first
  NaN operand, as the CPU propagates it, else the rule's fresh NaN.

tests/jit/test_jit_nan_bits.py checks every rule bit for bit on every tier, through slots and
through folded constants.
"""

from __future__ import annotations

from fusevm.jit.lower.cx import Cx, Val

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

#: The NaN the interpreter returns for a domain error (`math.nan`, a quiet positive NaN:
#: the one `float("nan")` gives, without loading `math`, a shared library, into a process
#: that loads cached native code).
INTERP_NAN: Final = float("nan")

_INF: Final = float("inf")
#: The NaN this CPU's float arithmetic makes from non-NaN operands (inf - inf), as the
#: interpreter computes it: a call, so CPython cannot fold it at compile time.
HW_NAN: Final = _INF - float("inf")


def _pick(cx: Cx, result: Val, inputs: tuple[Val, ...], fresh: float) -> Val:
    """`result`, or where it is NaN: the first NaN input, else the NaN `fresh`."""
    nan = cx.float_const(fresh)
    for v in reversed(inputs):
        nan = cx.select(cx.fcmp("uno", v, v), v, nan)
    # A NaN result is rare: the select becomes a predicted branch off the result's
    # dependency chain.
    return cx.select(cx.fcmp("uno", result, result), nan, result, rare=True)


def arith_nan(cx: Cx, result: Val, a: Val, b: Val) -> Val:
    """`result` of fadd/fsub/fmul/fdiv with the NaN the CPU gives the interpreter: the
    first NaN operand, else the CPU's own default NaN."""
    return _pick(cx, result, (a, b), HW_NAN)


def pow_nan(cx: Cx, result: Val, a: Val, b: Val) -> Val:
    """math.pow's NaN rules: pow(nan, 0) = 1, pow(nan, y) = that nan, pow(1, nan) = 1,
    pow(x, nan) = that nan, and a domain error gives math.nan."""
    one = cx.float_const(1.0)
    r = domain_nan(cx, result, a, b)
    r = cx.select(cx.fcmp("uno", b, b),
                  cx.select(cx.fcmp("oeq", a, one), one, b), r)
    return cx.select(cx.fcmp("uno", a, a),
                     cx.select(cx.fcmp("oeq", b, cx.float_const(0.0)), one, a), r)


def domain_nan(cx: Cx, result: Val, *inputs: Val) -> Val:
    """`result` of a math function: a NaN operand passes through (libm propagates it), and a
    NaN from non-NaN operands is a domain error, which the math module raises and the
    interpreter turns into math.nan (sqrt(-1), fmod(inf, 1))."""
    return _pick(cx, result, inputs, INTERP_NAN)


def nan_when(cx: Cx, cond: Val, result: Val) -> Val:
    """INTERP_NAN where `cond` holds, else `result` (for ops the interpreter answers with
    math.nan before calling libm: log of a negative or NaN, atan2 with a NaN)."""
    return cx.select(cond, cx.float_const(INTERP_NAN), result)
