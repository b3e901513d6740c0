"""Lowering rules for jumps. Targets are micro-op indices (see fusevm.jit.cfg)."""

from __future__ import annotations

from fusevm.instr import Decoded
from fusevm.jit.lower.cx import Cx
from fusevm.jit.lower.registry import lowers
from fusevm.ops import Op


@lowers(Op.Jump)
def jump(cx: Cx, d: Decoded) -> None:
    cx.jump(d.operands[0])


@lowers(Op.JumpIfTrue)
def jump_if_true(cx: Cx, d: Decoded) -> None:
    cx.branch(cx.truth(cx.pop()), d.operands[0], cx.next)


@lowers(Op.JumpIfFalse)
def jump_if_false(cx: Cx, d: Decoded) -> None:
    cx.branch(cx.truth(cx.pop()), cx.next, d.operands[0])


@lowers(Op.JumpIfTrueKeep)
def jump_if_true_keep(cx: Cx, d: Decoded) -> None:
    cx.branch(cx.truth(cx.peek()), d.operands[0], cx.next)


@lowers(Op.JumpIfFalseKeep)
def jump_if_false_keep(cx: Cx, d: Decoded) -> None:
    cx.branch(cx.truth(cx.peek()), cx.next, d.operands[0])
