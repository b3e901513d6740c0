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


@handler(Op.Add)
def add(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    pop = stack.pop
    strict = vm.strict_int
    nxt = ip + 1

    # Add is the hottest binary op; its Int path is written out without a call.
    def step() -> int:
        b = pop()
        a = stack[-1]
        if type(a) is int and type(b) is int:
            r = a + b
            stack[-1] = r if INT_MIN <= r <= INT_MAX else sem.int_result(r, strict, "Add")
        else:
            stack[-1] = sem.add(a, b, strict)
        return nxt
    return step


@handler(Op.Sub)
def sub(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _wrapping(vm, ip, "Sub", int.__sub__, sem.sub)


@handler(Op.Mul)
def mul(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _wrapping(vm, ip, "Mul", int.__mul__, sem.mul)


@handler(Op.Negate)
def negate(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    strict = vm.strict_int
    return unary(vm, ip, lambda a: sem.negate(a, strict))


@handler(Op.Inc)
def inc(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    strict = vm.strict_int
    nxt = ip + 1

    def step() -> int:
        a = stack[-1]
        if type(a) is int and a != INT_MAX:
            stack[-1] = a + 1
        else:
            stack[-1] = sem.inc(a, strict)
        return nxt
    return step


@handler(Op.Dec)
def dec(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    strict = vm.strict_int
    nxt = ip + 1

    def step() -> int:
        a = stack[-1]
        if type(a) is int and a != INT_MIN:
            stack[-1] = a - 1
        else:
            stack[-1] = sem.dec(a, strict)
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
    Op.Div: sem.div, Op.Mod: sem.mod, Op.Pow: sem.power, Op.BitAnd: sem.bit_and,
    Op.BitOr: sem.bit_or, Op.BitXor: sem.bit_xor, Op.Shr: sem.shr,
}


@handler(*_BINARY)
def plain_binary(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return binary(vm, ip, _BINARY[vm.chunk.ops[ip][0]])
