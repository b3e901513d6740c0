"""Lowering rules for Nop, the constant loads and the stack shuffles."""

from __future__ import annotations

from fusevm.instr import Decoded
from fusevm.jit.lower.cx import Cx
from fusevm.jit.lower.registry import lowers
from fusevm.ops import Op


@lowers(Op.Nop)
def nop(cx: Cx, d: Decoded) -> None:
    pass


@lowers(Op.LoadInt)
def load_int(cx: Cx, d: Decoded) -> None:
    cx.push(cx.int_const(d.operands[0]))


@lowers(Op.LoadFloat)
def load_float(cx: Cx, d: Decoded) -> None:
    cx.push(cx.float_const(d.operands[0]))


@lowers(Op.LoadConst)
def load_const(cx: Cx, d: Decoded) -> None:
    cx.push(cx.const(cx.constants[d.operands[0]]))


@lowers(Op.LoadTrue)
def load_true(cx: Cx, d: Decoded) -> None:
    cx.push(cx.bool_const(True))


@lowers(Op.LoadFalse)
def load_false(cx: Cx, d: Decoded) -> None:
    cx.push(cx.bool_const(False))


@lowers(Op.LoadUndef)
def load_undef(cx: Cx, d: Decoded) -> None:
    cx.push(cx.undef())


@lowers(Op.Pop)
def pop(cx: Cx, d: Decoded) -> None:
    cx.pop()


@lowers(Op.Dup)
def dup(cx: Cx, d: Decoded) -> None:
    cx.push(cx.peek())


@lowers(Op.Dup2)
def dup2(cx: Cx, d: Decoded) -> None:
    a, b = cx.peek(1), cx.peek(0)
    cx.push(a)
    cx.push(b)


@lowers(Op.Swap)
def swap(cx: Cx, d: Decoded) -> None:
    b = cx.pop()
    a = cx.pop()
    cx.push(b)
    cx.push(a)


@lowers(Op.Rot)
def rot(cx: Cx, d: Decoded) -> None:
    c = cx.pop()
    b = cx.pop()
    a = cx.pop()
    cx.push(b)
    cx.push(c)
    cx.push(a)
