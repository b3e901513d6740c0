"""Handlers for jumps, calls, returns and scope frames."""

from __future__ import annotations

from fusevm.errors import RecursionLimit, UndefinedFunction, VMError
from fusevm.interp.registry import HALT, Step, handler
from fusevm.interp.vm import VM, Frame, frame_cap
from fusevm.limits import check_size
from fusevm.ops import Op
from fusevm.values import Undef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@handler(Op.Call)
def call(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name, argc = operands
    entry = vm.chunk.find_sub(name)
    if entry is None:
        fname = vm.chunk.names[name]

        def undefined() -> int:
            raise UndefinedFunction(f"undefined function: {fname}")
        return undefined
    stack = vm.stack
    frames = vm.frames
    nslots = vm.chunk.slot_count
    limit = vm.max_depth
    cap = frame_cap(vm)
    blank = [Undef] * nslots
    nxt = ip + 1

    def step() -> int:
        # frames[0] is the root: max_depth = N allows N nested frames above it.
        if len(frames) > cap:
            if len(frames) > limit:
                raise RecursionLimit(f"call depth exceeds the limit of {limit} frames")
            check_size(len(frames) * nslots, vm.max_size, "the call frames' slots")
        slots = blank.copy()
        frames.append(Frame(slots, nxt, len(stack) - argc, 0))
        vm.slots = slots
        return entry
    return step


def _unwind(vm: VM) -> Frame | None:
    """Pop frames up to and including the innermost call or block frame (None at the root)."""
    frames = vm.frames
    while len(frames) > 1:
        f = frames.pop()
        if f.kind != Frame.SCOPE:
            vm.slots = frames[-1].slots
            return f
    vm.slots = frames[0].slots
    return None


@handler(Op.Return)
def return_(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack

    def step() -> int:
        f = _unwind(vm)
        if f is None:
            return HALT
        del stack[f.stack_base:]
        return f.return_ip
    return step


@handler(Op.ReturnValue)
def return_value(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack

    def step() -> int:
        v = stack.pop()
        f = _unwind(vm)
        if f is None:
            stack.append(v)
            return HALT
        del stack[f.stack_base:]
        stack.append(v)
        return f.return_ip
    return step


@handler(Op.PushFrame)
def push_frame(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    frames = vm.frames
    blank = [Undef] * vm.chunk.slot_count
    nxt = ip + 1

    def step() -> int:
        slots = blank.copy()
        frames.append(Frame(slots, nxt, len(stack), Frame.SCOPE))
        vm.slots = slots
        return nxt
    return step


@handler(Op.PopFrame)
def pop_frame(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    frames = vm.frames
    nxt = ip + 1

    def step() -> int:
        if len(frames) < 2 or frames[-1].kind != Frame.SCOPE:
            raise VMError("PopFrame without a matching PushFrame")
        f = frames.pop()
        vm.slots = frames[-1].slots
        del stack[f.stack_base:]
        return nxt
    return step
