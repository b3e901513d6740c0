"""Lowering rules for numeric comparisons and the logical ops (interp/handlers/compare.py).

Comparisons push Bool. Int x Int compares as integers; anything else compares to_float
values with the predicate Python's float operators use: ordered for == < > <= >= (NaN
gives false) and unordered for != (NaN gives true).
"""

from __future__ import annotations

from fusevm.instr import Decoded
from fusevm.jit.lower.cx import INT, Cx
from fusevm.jit.lower.registry import lowers
from fusevm.ops import Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def _compare(int_pred: str, float_pred: str) -> Callable[[Cx, Decoded], None]:
    def rule(cx: Cx, d: Decoded) -> None:
        b = cx.pop()
        a = cx.pop()
        if a.kind is INT and b.kind is INT:
            cx.push(cx.icmp(int_pred, a, b))
        else:
            cx.push(cx.fcmp(float_pred, cx.to_float(a), cx.to_float(b)))
    return rule


lowers(Op.NumEq)(_compare("==", "oeq"))
lowers(Op.NumNe)(_compare("!=", "une"))
lowers(Op.NumLt)(_compare("<", "olt"))
lowers(Op.NumGt)(_compare(">", "ogt"))
lowers(Op.NumLe)(_compare("<=", "ole"))
lowers(Op.NumGe)(_compare(">=", "oge"))


@lowers(Op.Spaceship)
def spaceship(cx: Cx, d: Decoded) -> None:
    b = cx.pop()
    a = cx.pop()
    if a.kind is INT and b.kind is INT:
        gt, lt = cx.icmp(">", a, b), cx.icmp("<", a, b)
    else:
        x, y = cx.to_float(a), cx.to_float(b)
        gt, lt = cx.fcmp("ogt", x, y), cx.fcmp("olt", x, y)
    cx.push(cx.int_op("sub", cx.bool_to_int(gt), cx.bool_to_int(lt)))


@lowers(Op.LogNot)
def log_not(cx: Cx, d: Decoded) -> None:
    cx.push(cx.bool_not(cx.truth(cx.pop())))


@lowers(Op.LogAnd)
def log_and(cx: Cx, d: Decoded) -> None:
    b = cx.truth(cx.pop())
    a = cx.truth(cx.pop())
    cx.push(cx.select(a, b, cx.bool_const(False)))


@lowers(Op.LogOr)
def log_or(cx: Cx, d: Decoded) -> None:
    b = cx.truth(cx.pop())
    a = cx.truth(cx.pop())
    cx.push(cx.select(a, cx.bool_const(True), b))
