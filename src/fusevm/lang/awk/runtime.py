"""The awk runtime library: the pure-Python helpers compiled awk code calls.

This module is the one import the awk compiler and its VM handlers need. It defines the
comparison rules and the small builtins (substr, index, tolower, rand, the math
functions, ...) and re-exports the larger pieces from their own modules: the value model
(`values`), printf and number formatting (`format`), EREs and sub/gsub (`regex`), and
field splitting and record reading (`fields`). Nothing here touches the VM; values are
plain `float | int | str | StrNum` (see `values`).
"""

from __future__ import annotations

import time

from fusevm.lang.awk.fields import RecordReader, TextSource, split_record
from fusevm.lang.awk.format import (
    DEFAULT_CONVFMT,
    num_to_str,
    sprintf,
    to_output_str,
    to_str,
)
from fusevm.lang.awk.regex import (
    compile_ere,
    ere_to_re2,
    match,
    split_on_regex,
    subst,
)
from fusevm.lang.awk.values import (
    NUMBER_START,
    UNINIT,
    AwkValue,
    StrNum,
    awk_int,
    is_numeric,
    looks_numeric,
    make_strnum,
    str_to_num,
    to_bool,
    to_num,
)
from fusevm.lazymath import math

__all__ = [
    "DEFAULT_CONVFMT", "NUMBER_START", "UNINIT", "AwkRandom", "AwkValue",
    "RecordReader", "StrNum", "TextSource", "array_key", "awk_atan2", "awk_cos", "awk_exp",
    "awk_int",
    "awk_log", "awk_mod", "awk_pow", "awk_sin", "awk_sqrt", "compare", "compile_ere",
    "ere_to_re2", "index", "is_numeric", "looks_numeric", "make_strnum", "match",
    "num_to_str", "relop", "split", "split_on_regex", "split_record", "sprintf",
    "str_to_num", "subst", "substr", "to_bool", "to_num", "to_output_str", "to_str",
    "tolower", "toupper",
]  # fmt: skip

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from random import Random
    from typing import Final, TypeVar

    from fusevm.lang.awk.regex import AwkRegex

    _Ordered = TypeVar("_Ordered", float, str)

# -- comparison ------------------------------------------------------------------


def compare(a: AwkValue, b: AwkValue, convfmt: str = DEFAULT_CONVFMT) -> int:
    """-1, 0 or 1: numerically if both are numeric (numbers, numeric strings, uninit),
    else as strings by code point (the C locale's collation). NaN compares equal here;
    use `relop` for the IEEE answer the relational operators give."""
    if is_numeric(a) and is_numeric(b):
        x = to_num(a)
        y = to_num(b)
        return (x > y) - (x < y)
    s = to_str(a, convfmt)
    t = to_str(b, convfmt)
    return (s > t) - (s < t)


def relop(op: str, a: AwkValue, b: AwkValue, convfmt: str = DEFAULT_CONVFMT) -> bool:
    """The relational operator `op` (`< <= == != > >=`) applied per POSIX."""
    if is_numeric(a) and is_numeric(b):
        return _ordered(op, to_num(a), to_num(b))
    return _ordered(op, to_str(a, convfmt), to_str(b, convfmt))


def _ordered(op: str, x: _Ordered, y: _Ordered) -> bool:
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == "==":
        return x == y
    if op == "!=":
        return x != y
    if op == ">":
        return x > y
    if op == ">=":
        return x >= y
    raise ValueError(f"not a relational operator: {op!r}")


def array_key(subscripts: Sequence[AwkValue], subsep: str, convfmt: str = DEFAULT_CONVFMT) -> str:
    """The array key for `a[s1, s2, ...]`: each subscript as a string, joined by SUBSEP."""
    return subsep.join(to_str(s, convfmt) for s in subscripts)


# -- string builtins -------------------------------------------------------------


def index(text: str, target: str) -> int:
    """index(): 1-based position of `target` in `text`, 0 if absent (1 for "")."""
    return text.find(target) + 1


def substr(text: str, start: float, length: float | None = None) -> str:
    """substr() as gawk and onetrue-awk compute it.

    Both truncate start and length toward zero; a start below 1 becomes 1 without
    shortening the length (so substr("hello", 0, 2) is "he"); NaN start counts as 1,
    +inf start gives "", NaN or non-positive length gives "", +inf length means the rest.
    """
    first: int
    if math.isnan(start) or start < 1:
        first = 0
    elif math.isinf(start):
        return ""
    else:
        first = math.trunc(start) - 1
    if length is None:
        return text[first:]
    if math.isnan(length) or length < 1:
        return ""
    if math.isinf(length):
        return text[first:]
    return text[first : first + math.trunc(length)]


# The ASCII letters spelled out: the `string` module costs start-up its import.
_ASCII_UPPER: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER: Final = str.maketrans(_ASCII_UPPER, _ASCII_UPPER.lower())
_UPPER: Final = str.maketrans(_ASCII_UPPER.lower(), _ASCII_UPPER)


def tolower(text: str) -> str:
    """tolower(): ASCII letters only, as in the C locale."""
    return text.translate(_LOWER)


def toupper(text: str) -> str:
    """toupper(): ASCII letters only, as in the C locale."""
    return text.translate(_UPPER)


def split(text: str, separator: str | AwkRegex | None, fs: str = " ") -> list[str]:
    """The pieces split() stores: by a regex literal, by a separator string (FS rules),
    or by the current FS when no separator is given."""
    if separator is None:
        return split_record(text, fs)
    if isinstance(separator, str):
        return split_record(text, separator)
    return split_on_regex(text, separator)


# -- arithmetic -----------------------------------------------------------------
# The C library returns infinities and NaNs where Python's math raises; awk shows them.

_NEG_NAN: Final = -float("nan")  # what glibc returns for log(-1), sqrt(-1), sin(inf)


def awk_pow(x: float, y: float) -> float:
    """x ^ y as gawk computes it.

    An integral exponent (that fits in 64 bits) is done by repeated squaring, as both
    reference awks do, so results round like theirs rather than like C's pow(); other
    exponents use pow() with C's results: inf on overflow, -nan for (-8)^(1/3).
    """
    if math.isfinite(y) and y == math.floor(y) and abs(y) < 2.0**63:
        n = int(y)
        if n == 0:
            return 1.0
        magnitude = _pow_positive_integer(x, abs(n))
        if n > 0:
            return magnitude
        if magnitude == 0:
            return math.copysign(math.inf, magnitude)
        return 1.0 / magnitude
    try:
        return math.pow(x, y)
    except OverflowError:
        return math.inf
    except ValueError:
        if x == 0:
            return math.inf
        return _NEG_NAN


def _pow_positive_integer(x: float, n: int) -> float:
    """gawk's calc_exp_posint: the same multiplications in the same order."""
    product = 1.0
    while n > 1:
        if n % 2 == 1:
            product *= x
        x *= x
        n //= 2
    return product * x


def awk_mod(x: float, y: float) -> float:
    """x % y: C fmod (the result takes the dividend's sign); raises ZeroDivisionError."""
    if y == 0:
        raise ZeroDivisionError("division by zero in %")
    if math.isinf(x):
        return _NEG_NAN
    return math.fmod(x, y)


def awk_exp(x: float) -> float:
    """exp(): inf on overflow."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def awk_log(x: float) -> float:
    """log(): -inf at 0, -nan below 0."""
    if x == 0:
        return -math.inf
    if x < 0:
        return _NEG_NAN
    return math.log(x)


def awk_sqrt(x: float) -> float:
    """sqrt(): -nan below 0."""
    if x < 0:
        return _NEG_NAN
    return math.sqrt(x)


def awk_sin(x: float) -> float:
    """sin(): -nan for infinities."""
    return _NEG_NAN if math.isinf(x) else math.sin(x)


def awk_cos(x: float) -> float:
    """cos(): -nan for infinities."""
    return _NEG_NAN if math.isinf(x) else math.cos(x)


def awk_atan2(y: float, x: float) -> float:
    """atan2(y, x)."""
    return math.atan2(y, x)


class AwkRandom:
    """rand() and srand() state.

    The initial seed is 1, as in gawk, onetrue-awk and busybox (the first `srand(x)`
    returns it, and `srand(1)` starts the sequence again); the sequence itself is Python's
    Mersenne Twister, so it matches neither reference, which POSIX allows.
    """

    def __init__(self, seed: float = 1.0) -> None:
        self._seed = seed
        # Made, seeded with `_seed`, on the first rand(): most programs never call it,
        # and `random` costs each start-up its import.
        self._rng: Random | None = None

    def _reseed(self, seed: float) -> None:
        if self._rng is not None:
            self._rng.seed(int(seed) if math.isfinite(seed) else 0)

    def rand(self) -> float:
        """A number in [0, 1)."""
        rng = self._rng
        if rng is None:
            from random import Random
            rng = self._rng = Random()
            self._reseed(self._seed)
        return rng.random()

    def srand(self, seed: float | None = None) -> float:
        """Reseed (with the time of day when `seed` is None); returns the previous seed."""
        previous = self._seed
        if seed is None:
            seed = float(int(time.time()))
        self._seed = seed
        self._reseed(seed)
        return previous
