"""Op semantics shared by handlers, fused ops and the JIT's fallbacks: one helper per rule.

Handlers inline their Int fast paths; everything else (mixed kinds, overflow, errors)
comes here, so each rule is written once (STYLE 4.3).
"""

from __future__ import annotations

from fusevm.errors import IntegerOverflow, TypeMismatch, ZeroDivision

# (the copy-on-write check of a Hash global, for op bodies, written inline:
# `refcount(globals_[name]) > INLINE_LIMIT`, then `unshare`)
from fusevm.interp.cow import INLINE_LIMIT as INLINE_LIMIT
from fusevm.interp.cow import _getrefcount
from fusevm.interp.cow import unshare as unshare
from fusevm.lazymath import math
from fusevm.limits import check_size
from fusevm.values import (
    INT_MAX,
    INT_MIN,
    fmod,
    ieee_pow,
    kind_name,
    to_float,
    to_int,
    to_str,
    trunc_rem,
    wrap64,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn


def int_result(r: int, strict: bool, what: str) -> int:
    """Wrap an exact Int result to 64 bits, or raise under strict_int (D4)."""
    if INT_MIN <= r <= INT_MAX:
        return r
    if strict:
        raise IntegerOverflow(f"integer overflow in {what}: {r} does not fit in 64 bits")
    return wrap64(r)


def add(a: Any, b: Any, strict: bool) -> Any:
    if type(a) is int and type(b) is int:
        return int_result(a + b, strict, "Add")
    fa, fb = to_float(a), to_float(b)
    # (two NaNs: the first one's, as the Add body gives it, D5)
    return fa + fb if fb == fb or fa == fa else fa + 0.0


def sub(a: Any, b: Any, strict: bool) -> Any:
    if type(a) is int and type(b) is int:
        return int_result(a - b, strict, "Sub")
    return to_float(a) - to_float(b)


def mul(a: Any, b: Any, strict: bool) -> Any:
    if type(a) is int and type(b) is int:
        return int_result(a * b, strict, "Mul")
    fa, fb = to_float(a), to_float(b)
    return fa * fb if fb == fb or fa == fa else fa * 1.0


refcount = _getrefcount

#: The functions here an op's body may pass `globals_` to: each leaves every global's type
#: as it was (it raises, or stores a copy of the same container in its place), so what a
#: tier knows of the globals' types holds across them (`bodies` checks each body's calls).
KEEP_GLOBAL_TYPES = frozenset({"not_a_container", "unshare"})


def not_a_container(store: list[Any], index: int, names: Sequence[str], kind: str) -> NoReturn:
    """TypeMismatch for an op of `kind` ("an Array", "a Hash") on global `names[index]`,
    which holds something else (the container ops' bodies test the type inline)."""
    raise TypeMismatch(f"global {names[index]!r} holds {kind_name(store[index])}, not {kind}")


def concat(a: Any, b: Any, limit: int) -> str:
    """Concat: str(a) + str(b), MemoryLimit when that would pass `limit` characters."""
    sa: str = a if type(a) is str else to_str(a)
    sb: str = b if type(b) is str else to_str(b)
    if len(sa) + len(sb) > limit:
        check_size(len(sa) + len(sb), limit, "a string")
    return sa + sb


def div(a: Any, b: Any) -> float:
    """Div: always Float; a zero divisor (any kind that coerces to 0.0) is an error (D1)."""
    d = to_float(b)
    if d == 0.0:
        raise ZeroDivision("division by zero")
    n = to_float(a)
    try:
        return n / d
    except OverflowError:  # pragma: no cover - float division does not overflow in CPython
        return math.copysign(math.inf, n) * math.copysign(1.0, d)


def mod(a: Any, b: Any) -> Any:
    """Mod: Int remainder with the dividend's sign, else C fmod; Int 0 divisor is an error."""
    if type(a) is int and type(b) is int:
        return int_mod(a, b)
    return fmod(to_float(a), to_float(b))


def int_mod(a: int, b: int) -> int:
    """Mod of two Ints: the remainder with the dividend's sign; a 0 divisor is an error."""
    if b == 0:
        raise ZeroDivision("modulo by zero")
    return trunc_rem(a, b)


def power(a: Any, b: Any) -> float:
    return ieee_pow(to_float(a), to_float(b))


def negate(a: Any, strict: bool) -> Any:
    if type(a) is int:
        return int_result(-a, strict, "Negate")
    if type(a) is float:
        return -a
    return -to_float(a)


def inc(a: Any, strict: bool) -> int:
    return int_result((a if type(a) is int else to_int(a)) + 1, strict, "Inc")


def dec(a: Any, strict: bool) -> int:
    return int_result((a if type(a) is int else to_int(a)) - 1, strict, "Dec")


def shl(a: Any, b: Any, strict: bool) -> int:
    return int_result(to_int(a) << (to_int(b) & 63), strict, "Shl")


def shr(a: Any, b: Any) -> int:
    return to_int(a) >> (to_int(b) & 63)


def num_lt(a: Any, b: Any) -> bool:
    if type(a) is int and type(b) is int:
        return a < b
    return to_float(a) < to_float(b)


def num_le(a: Any, b: Any) -> bool:
    if type(a) is int and type(b) is int:
        return a <= b
    return to_float(a) <= to_float(b)


def num_gt(a: Any, b: Any) -> bool:
    if type(a) is int and type(b) is int:
        return a > b
    return to_float(a) > to_float(b)


def num_ge(a: Any, b: Any) -> bool:
    if type(a) is int and type(b) is int:
        return a >= b
    return to_float(a) >= to_float(b)


def num_eq(a: Any, b: Any) -> bool:
    if type(a) is int and type(b) is int:
        return a == b
    return to_float(a) == to_float(b)


def num_ne(a: Any, b: Any) -> bool:
    if type(a) is int and type(b) is int:
        return a != b
    return to_float(a) != to_float(b)


def spaceship(a: Any, b: Any) -> int:
    if type(a) is int and type(b) is int:
        return (a > b) - (a < b)
    x, y = to_float(a), to_float(b)
    return -1 if x < y else (1 if x > y else 0)


def bit_and(a: Any, b: Any) -> int:
    return to_int(a) & to_int(b)


def bit_or(a: Any, b: Any) -> int:
    return to_int(a) | to_int(b)


def bit_xor(a: Any, b: Any) -> int:
    return to_int(a) ^ to_int(b)
