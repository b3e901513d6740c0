"""Handlers for Print, PrintLn and ReadLine (through the VM's pluggable streams)."""

from __future__ import annotations

from fusevm.interp.registry import Step, handler
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.values import Undef, to_str

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@handler(Op.Print, Op.PrintLn)
def print_(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    count = operands[0]
    stack = vm.stack
    end = "\n" if vm.chunk.ops[ip][0] is Op.PrintLn else ""
    nxt = ip + 1

    def step() -> int:
        if count:
            items = stack[-count:]
            del stack[-count:]
            vm.write("".join([x if type(x) is str else to_str(x) for x in items]) + end)
        elif end:
            vm.write(end)
        return nxt
    return step


@handler(Op.ReadLine)
def read_line(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        line = vm.readline()
        if line is None:
            push(Undef)
        else:
            push(line[:-1] if line.endswith("\n") else line)
        return nxt
    return step
