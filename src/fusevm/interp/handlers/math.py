"""Handlers for the host-independent math ops (IEEE results instead of Python exceptions)."""

from __future__ import annotations

import math
import time

from fusevm.interp import semantics as sem
from fusevm.interp.registry import Step, handler
from fusevm.interp.shapes import binary, unary
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.values import INT_MAX, ieee_pow, to_float, to_int, wrap64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _ieee(fn: Callable[[float], float], *, overflow: float = math.inf) -> Callable[[Any], float]:
    """Lift a math-module function to IEEE behaviour: domain errors give NaN, overflow inf."""
    def run(a: Any) -> float:
        x = to_float(a)
        try:
            return fn(x)
        except ValueError:
            return math.nan
        except OverflowError:
            return math.copysign(overflow, x) if fn in (math.sinh,) else overflow
    return run


def _log(fn: Callable[[float], float]) -> Callable[[Any], float]:
    def run(a: Any) -> float:
        x = to_float(a)
        if x == 0.0:
            return -math.inf
        if x < 0.0 or x != x:
            return math.nan
        return fn(x)
    return run


def _integral(fn: Callable[[float], int]) -> Callable[[Any], float]:
    def run(a: Any) -> float:
        x = to_float(a)
        return x if not math.isfinite(x) else math.copysign(float(fn(x)), x)
    return run


def _round_even(a: Any) -> float:
    x = to_float(a)
    return x if not math.isfinite(x) else math.copysign(float(round(x)), x)


def _abs_int(a: Any) -> int:
    return wrap64(abs(to_int(a)))


def _gcd(a: Any, b: Any) -> int:
    return wrap64(math.gcd(to_int(a), to_int(b)))


def _lcm(a: Any, b: Any) -> int:
    return min(math.lcm(to_int(a), to_int(b)), INT_MAX)


UNARY: dict[Op, Callable[[Any], Any]] = {
    Op.SqrtFloat: _ieee(math.sqrt),
    Op.SinFloat: _ieee(math.sin),
    Op.CosFloat: _ieee(math.cos),
    Op.TanFloat: _ieee(math.tan),
    Op.ExpFloat: _ieee(math.exp),
    Op.LogFloat: _log(math.log),
    Op.Log2Float: _log(math.log2),
    Op.Log10Float: _log(math.log10),
    Op.AbsFloat: lambda a: abs(to_float(a)),
    Op.TruncInt: to_int,
    Op.CeilFloat: _integral(math.ceil),
    Op.FloorFloat: _integral(math.floor),
    Op.TruncFloat: _integral(math.trunc),
    Op.RoundFloat: _round_even,
    Op.AsinFloat: _ieee(math.asin),
    Op.AcosFloat: _ieee(math.acos),
    Op.AtanFloat: _ieee(math.atan),
    Op.SinhFloat: _ieee(math.sinh),
    Op.CoshFloat: _ieee(math.cosh),
    Op.TanhFloat: _ieee(math.tanh),
    Op.AbsInt: _abs_int,
}

BINARY: dict[Op, Callable[[Any, Any], Any]] = {
    Op.PowFloat: lambda a, b: ieee_pow(to_float(a), to_float(b)),
    Op.Atan2Float: lambda y, x: math.atan2(to_float(y), to_float(x)),
    Op.GcdInt: _gcd,
    Op.LcmInt: _lcm,
}


@handler(*UNARY)
def unary_math(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    fn = UNARY[vm.chunk.ops[ip][0]]
    if fn is _abs_int and vm.strict_int:
        def fn(a: Any) -> int:
            return sem.int_result(abs(to_int(a)), True, "AbsInt")
    return unary(vm, ip, fn)


@handler(*BINARY)
def binary_math(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    fn = BINARY[vm.chunk.ops[ip][0]]
    if fn is _gcd and vm.strict_int:
        def fn(a: Any, b: Any) -> int:
            # gcd(|MIN|, 0) and gcd(MIN, MIN) are 2**63: an overflow under strict_int (D4).
            return sem.int_result(math.gcd(to_int(a), to_int(b)), True, "GcdInt")
    return binary(vm, ip, fn)


@handler(Op.TimeInt)
def time_int(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        push(int(time.time()))
        return nxt
    return step
