"""Handlers for globals (by name index) and frame slots, including slot arrays."""

from __future__ import annotations

from fusevm.interp.containers_util import array_of, checked_index, store_at
from fusevm.interp.cow import writable_array
from fusevm.interp.registry import Step, handler
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.values import Undef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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
