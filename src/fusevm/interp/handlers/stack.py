"""Handlers for Nop, the constant loads and the stack shuffles."""

from __future__ import annotations

from fusevm.interp.registry import Step, handler
from fusevm.interp.vm import VM
from fusevm.ops import Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _push_immediate(vm: VM, value: Any, ip: int) -> Step:
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        push(value)
        return nxt
    return step


@handler(Op.Dup2)
def dup2(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        stack.extend(stack[-2:])
        return nxt
    return step


@handler(Op.Rot)
def rot(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        stack.append(stack.pop(-3))
        return nxt
    return step
