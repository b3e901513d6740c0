"""Handlers for comparisons, logical ops and the string ops."""

from __future__ import annotations

from fusevm.interp import semantics as sem
from fusevm.interp.registry import Step, handler
from fusevm.interp.shapes import binary, unary
from fusevm.interp.vm import VM
from fusevm.limits import check_size
from fusevm.ops import Op
from fusevm.values import length, to_int, to_str, truthy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@handler(Op.Spaceship)
def spaceship(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return binary(vm, ip, sem.spaceship)


def _str_cmp(a: Any, b: Any) -> int:
    x, y = to_str(a), to_str(b)
    return (x > y) - (x < y)


_STRING_COMPARISONS = {
    Op.StrEq: lambda a, b: to_str(a) == to_str(b),
    Op.StrNe: lambda a, b: to_str(a) != to_str(b),
    Op.StrLt: lambda a, b: to_str(a) < to_str(b),
    Op.StrGt: lambda a, b: to_str(a) > to_str(b),
    Op.StrLe: lambda a, b: to_str(a) <= to_str(b),
    Op.StrGe: lambda a, b: to_str(a) >= to_str(b),
    Op.StrCmp: _str_cmp,
}


@handler(*_STRING_COMPARISONS)
def string_compare(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return binary(vm, ip, _STRING_COMPARISONS[vm.chunk.ops[ip][0]])


@handler(Op.LogAnd)
def log_and(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return binary(vm, ip, lambda a, b: truthy(a) and truthy(b))


@handler(Op.LogOr)
def log_or(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return binary(vm, ip, lambda a, b: truthy(a) or truthy(b))


@handler(Op.StringRepeat)
def string_repeat(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    limit = vm.max_size

    def repeat(s: Any, count: Any) -> str:
        text = to_str(s)
        n = max(to_int(count), 0)
        if n:
            check_size(len(text) * n, limit, "a string")
        return text * n
    return binary(vm, ip, repeat)


@handler(Op.StringLen)
def string_len(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return unary(vm, ip, length)
