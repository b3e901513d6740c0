"""Handlers for the arithmetic and bitwise ops without a body in `interp/bodies.py`."""

from __future__ import annotations

from fusevm.interp import semantics as sem
from fusevm.interp.registry import Step, handler
from fusevm.interp.shapes import binary, unary
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.values import to_int

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@handler(Op.BitNot)
def bit_not(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return unary(vm, ip, lambda a: ~to_int(a))


@handler(Op.Pow)
def power(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return binary(vm, ip, sem.power)
