"""Handlers for `SetStatus` and `GetStatus`: `$?`, the two generic ops of the shell section.

They need no shell host (the op table gives them no SHELL flag) and a POSIX shell runs
them in nearly every script (an `if` or a loop sets `$?`), so they load apart from the
shell machinery of `shell.py` (`handlers.load_all`).
"""

from __future__ import annotations

from fusevm.interp.registry import Step, handler
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.values import Status, to_int

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def i32(n: int) -> int:
    """`n` truncated to 32 bits, two's complement: a status as `$?` keeps it."""
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n >> 31 else n


@handler(Op.SetStatus)
def set_status(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    pop = vm.stack.pop
    nxt = ip + 1

    def step() -> int:
        vm.last_status = i32(to_int(pop()))
        return nxt
    return step


@handler(Op.GetStatus)
def get_status(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        push(Status(vm.last_status))
        return nxt
    return step
