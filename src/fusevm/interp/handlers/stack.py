"""Handlers for Nop, the constant loads and the stack shuffles."""

from __future__ import annotations

from typing import Any

from fusevm.interp.registry import Step, handler
from fusevm.interp.semantics import NEEDS_COPY
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.values import Undef, copy_value


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
    value = vm.chunk.constants[operands[0]]
    if type(value) not in NEEDS_COPY:
        return _push_immediate(vm, value, ip)
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        push(copy_value(value))
        return nxt
    return step


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
        v = stack[-1]
        push(copy_value(v) if type(v) in NEEDS_COPY else v)
        return nxt
    return step


@handler(Op.Dup2)
def dup2(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        stack.extend([copy_value(stack[-2]), copy_value(stack[-1])])
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
