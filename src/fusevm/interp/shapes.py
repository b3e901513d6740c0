"""Step factories for the common handler shapes (Lua's op_arith, clox's BINARY_OP).

A handler module whose op is "apply fn to the top value(s)" builds its step here, so the
stack discipline of those shapes is written once.
"""

from __future__ import annotations

from fusevm.interp.registry import Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from fusevm.interp.vm import VM


def binary(vm: VM, ip: int, fn: Callable[[Any, Any], Any]) -> Step:
    """`a b -- fn(a, b)`."""
    stack = vm.stack
    pop = stack.pop
    nxt = ip + 1

    def step() -> int:
        b = pop()
        stack[-1] = fn(stack[-1], b)
        return nxt
    return step


def unary(vm: VM, ip: int, fn: Callable[[Any], Any]) -> Step:
    """`a -- fn(a)`."""
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        stack[-1] = fn(stack[-1])
        return nxt
    return step
