"""Handlers for arithmetic and bitwise ops: Int fast paths inline, the rest in semantics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fusevm.interp import semantics as sem
from fusevm.interp.registry import Step, handler
from fusevm.interp.shapes import binary, unary
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.values import INT_MAX, INT_MIN, to_int


def _wrapping(vm: VM, ip: int, what: str, int_op: Callable[[int, int], int],
              slow: Callable[[Any, Any, bool], Any]) -> Step:
    """A binary op whose Int x Int result wraps (or raises under strict_int)."""
    stack = vm.stack
    pop = stack.pop
    strict = vm.strict_int
    nxt = ip + 1

    def step() -> int:
        b = pop()
        a = stack[-1]
        if type(a) is int and type(b) is int:
            r = int_op(a, b)
            stack[-1] = r if INT_MIN <= r <= INT_MAX else sem.int_result(r, strict, what)
        else:
            stack[-1] = slow(a, b, strict)
        return nxt
    return step


@handler(Op.BitNot)
def bit_not(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return unary(vm, ip, lambda a: ~to_int(a))


@handler(Op.Shl)
def shl(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    strict = vm.strict_int
    return binary(vm, ip, lambda a, b: sem.shl(a, b, strict))


#: Ops that are `a b -- f(a, b)` with no Int fast path worth inlining.
_BINARY = {
    Op.Pow: sem.power, Op.BitAnd: sem.bit_and, Op.BitOr: sem.bit_or, Op.BitXor: sem.bit_xor,
    Op.Shr: sem.shr,
}


@handler(*_BINARY)
def plain_binary(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return binary(vm, ip, _BINARY[vm.chunk.ops[ip][0]])
