"""Lowering rules for the frame-slot ops.

The fused slot ops (PreIncSlot, AddAssignSlotVoid, SlotIncLtIntJumpBack, ...) have no rules
of their own: they lower as their `fuses` expansions, which is what D14 says they mean, so
every operand kind behaves exactly as in the interpreter. AccumSumLoop has a rule, because
its expansion is a loop and the interpreter runs it in O(1) for Int slots.
"""

from __future__ import annotations

from fusevm.instr import Decoded
from fusevm.jit.abi import TrapCode
from fusevm.jit.lower.cx import INT, Cx
from fusevm.jit.lower.registry import lowers
from fusevm.ops import Op


@lowers(Op.GetSlot, slots="r")
def get_slot(cx: Cx, d: Decoded) -> None:
    cx.push(cx.get_slot(d.operands[0]))


@lowers(Op.SetSlot, slots="w")
def set_slot(cx: Cx, d: Decoded) -> None:
    cx.set_slot(d.operands[0], cx.pop())


@lowers(Op.AccumSumLoop)
def accum_sum_loop(cx: Cx, d: Decoded) -> None:
    """The whole loop in O(1), as the interpreter's closed form does.

    With m = limit - i iterations the sum grows by m*i + m*(m-1)/2, computed modulo 2**64
    (m fits in u64, and m*(m-1)/2 is formed from whichever factor is even). Under strict_int
    the partial sums s + j*i + j*(j-1)/2 are convex in j, so they all fit in i64 when the
    last one and the lowest one (j = clamp(-i, 0, m)) do; both are computed exactly in 128
    bits, and a failing check deopts (the interpreter then raises at the failing step).
    """
    total, index, limit = d.operands
    s, k = cx.get_slot(total), cx.get_slot(index)
    if total == index or s.kind is not INT or k.kind is not INT:
        cx.refuse("AccumSumLoop runs natively only over two distinct slots holding Ints")
    lim = cx.int_const(limit)
    runs = cx.icmp("<", k, lim)
    zero, one = cx.int_const(0), cx.int_const(1)
    m = cx.select(runs, cx.int_op("sub", lim, k), zero)
    if cx.strict:
        # Past 2**62 iterations some partial sum overflows for certain: the lowest one
        # (about s - k*k/2) or the distance from it to the last (about (m + k)**2 / 2).
        cx.deopt_if(cx.icmp("u>", m, cx.int_const(1 << 62)), TrapCode.OVERFLOW)
        low = cx.select(cx.icmp("<", k, zero), cx.int_op("sub", zero, k), zero)
        low = cx.select(cx.icmp("u>", low, m), m, low)
        for j in (m, low):
            cx.deopt_if(cx.bool_not(cx.fits_i64(s, j, k)), TrapCode.OVERFLOW)
    m1 = cx.int_op("sub", m, one)
    even = cx.icmp("==", cx.int_op("and", m, one), zero)
    tri = cx.select(even, cx.int_op("mul", cx.int_op("lshr", m, one), m1),
                    cx.int_op("mul", m, cx.int_op("lshr", m1, one)))
    result = cx.int_op("add", cx.int_op("add", s, cx.int_op("mul", m, k)), tri)
    cx.set_slot(total, result)
    cx.set_slot(index, cx.select(runs, lim, k))
