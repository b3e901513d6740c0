"""Handlers for globals (by name index) and frame slots, including slot arrays."""

from __future__ import annotations

from typing import Any

from fusevm.interp.containers_util import array_of, checked_index, store_at
from fusevm.interp.cow import writable_array
from fusevm.interp.registry import Step, handler
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.values import Undef


@handler(Op.GetVar, Op.GetArray, Op.GetHash)
def get_var(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name = operands[0]
    globals_ = vm.globals
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        push(globals_[name])
        return nxt
    return step


@handler(Op.SetVar, Op.DeclareVar, Op.SetArray, Op.SetHash)
def set_var(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name = operands[0]
    globals_ = vm.globals
    pop = vm.stack.pop
    nxt = ip + 1

    def step() -> int:
        globals_[name] = pop()
        return nxt
    return step


@handler(Op.GetSlot)
def get_slot(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    slot = operands[0]
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        push(vm.slots[slot])
        return nxt
    return step


@handler(Op.SetSlot)
def set_slot(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    slot = operands[0]
    pop = vm.stack.pop
    nxt = ip + 1

    def step() -> int:
        vm.slots[slot] = pop()
        return nxt
    return step


@handler(Op.SlotArrayGet)
def slot_array_get(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    slot = operands[0]
    stack = vm.stack
    nxt = ip + 1
    where = f"slot {slot}"

    def step() -> int:
        arr = array_of(vm.slots[slot], where)
        i = stack[-1]
        if type(i) is not int:
            i = checked_index(i)
        stack[-1] = arr[i] if 0 <= i < len(arr) else Undef
        return nxt
    return step


@handler(Op.SlotArraySet)
def slot_array_set(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    slot = operands[0]
    pop = vm.stack.pop
    nxt = ip + 1
    where = f"slot {slot}"

    def step() -> int:
        i = pop()
        v = pop()
        store_at(writable_array(vm.slots, slot, where), i, v, vm.max_size)
        return nxt
    return step
