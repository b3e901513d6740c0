"""Handlers for Nop, the constant loads and the stack shuffles."""

from __future__ import annotations

from typing import Any

from fusevm.interp.registry import Step, handler
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.values import Undef


@handler(Op.Nop)
def nop(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    nxt = ip + 1

    def step() -> int:
        return nxt
    return step


def _push_immediate(vm: VM, value: Any, ip: int) -> Step:
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        push(value)
        return nxt
    return step


@handler(Op.LoadInt, Op.LoadFloat)
def load_number(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _push_immediate(vm, operands[0], ip)


@handler(Op.LoadTrue)
def load_true(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _push_immediate(vm, True, ip)


@handler(Op.LoadFalse)
def load_false(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _push_immediate(vm, False, ip)


@handler(Op.LoadUndef)
def load_undef(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _push_immediate(vm, Undef, ip)


@handler(Op.LoadConst)
def load_const(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    # A container constant is shared with the pool, which keeps it from ever being
    # mutated in place (copy on write, interp/cow.py).
    return _push_immediate(vm, vm.chunk.constants[operands[0]], ip)


@handler(Op.Pop)
def pop(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    pop_ = vm.stack.pop
    nxt = ip + 1

    def step() -> int:
        pop_()
        return nxt
    return step


@handler(Op.Dup)
def dup(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    push = stack.append
    nxt = ip + 1

    def step() -> int:
        push(stack[-1])
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


@handler(Op.Swap)
def swap(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        stack[-1], stack[-2] = stack[-2], stack[-1]
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
