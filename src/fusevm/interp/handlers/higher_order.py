"""Handlers for MapBlock, GrepBlock, SortBlock, SortDefault and ForEachBlock (D3)."""

from __future__ import annotations

import functools

from fusevm.interp.registry import HALT, Step, handler
from fusevm.interp.vm import _HALTED, VM
from fusevm.ops import Op
from fusevm.values import to_int, to_str, truthy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _Halt(Exception):
    """A block halted the VM in the middle of a sort."""


def _items(v: Any) -> list[Any]:
    return v if type(v) is list else [v]


@handler(Op.MapBlock, Op.GrepBlock, Op.ForEachBlock)
def map_block(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    block = operands[0]
    stack = vm.stack
    op = vm.chunk.ops[ip][0]
    nxt = ip + 1

    def step() -> int:
        items = _items(stack.pop())
        out = []
        for x in items:
            r = vm.run_block(block, (x,))
            if r is _HALTED:
                return HALT
            if op is Op.MapBlock:
                out.append(r)
            elif op is Op.GrepBlock and truthy(r):
                out.append(x)
        if op is not Op.ForEachBlock:
            stack.append(out)
        return nxt
    return step


@handler(Op.SortBlock)
def sort_block(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    block = operands[0]
    stack = vm.stack
    nxt = ip + 1

    def compare(a: Any, b: Any) -> int:
        r = vm.run_block(block, (a, b))
        if r is _HALTED:
            raise _Halt
        return to_int(r)

    def step() -> int:
        items = list(_items(stack.pop()))
        try:
            items.sort(key=functools.cmp_to_key(compare))
        except _Halt:
            return HALT
        stack.append(items)
        return nxt
    return step


@handler(Op.SortDefault)
def sort_default(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        stack[-1] = sorted(_items(stack[-1]), key=to_str)
        return nxt
    return step
