"""awk's value model on plain Python objects: numbers, strings, numeric strings, uninit.

A value is a `float` (or `int`), a `str`, or a `StrNum`. `StrNum` is POSIX's "numeric
string": text read from input (fields, getline, FS-split elements, ARGV, ENVIRON) that
looks like a number, which compares numerically yet prints as its original text.
`UNINIT` is the value of a never-assigned variable: "" as a string, 0 as a number, and
numeric in comparisons against numbers, the same rules a numeric string follows.

String-to-number conversion follows onetrue-awk and gawk in its default mode: the longest
decimal prefix after leading blanks; no hex; `+inf`, `-inf`, `+nan`, `-nan` (any case,
sign required, nothing else after them but blanks) are the only spellings of the IEEE
specials, so "inf" and "nan" alone are 0, as is "0x1A".
"""

from __future__ import annotations

from fusevm.lang.lazyre import LazyPattern
from fusevm.lazymath import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final


class StrNum:
    """A numeric string: prints as `text`, compares as `num` against numbers.

    Immutable by convention: one is made for every numeric field that is read, so it is
    a plain slotted class (a frozen dataclass costs twice as much to construct)."""

    __slots__ = ("text", "num")

    def __init__(self, text: str, num: float) -> None:
        self.text = text
        self.num = num

    def __eq__(self, other: object) -> bool:
        if type(other) is not StrNum:
            return NotImplemented
        return self.text == other.text and self.num == other.num

    def __hash__(self) -> int:
        return hash((self.text, self.num))

    def __repr__(self) -> str:
        return f"StrNum(text={self.text!r}, num={self.num!r})"

    def __str__(self) -> str:
        return self.text

    def __float__(self) -> float:
        # its number: field code converts whatever a field holds with one float() call
        return self.num


AwkValue = float | int | str | StrNum

UNINIT: Final = StrNum("", 0.0)

#: The characters a numeric string can start with (blanks, a sign, a digit, a point).
NUMBER_START: Final = frozenset("0123456789.+- \t\n\r\f\v")

# C isspace(): what strtod skips before a number and what a strnum may have around it.
BLANKS: Final = " \t\n\r\f\v"

_NUMBER_PREFIX: Final = LazyPattern(
    r"[ \t\n\r\f\v]*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"
)
_NUMERIC_STRING: Final = LazyPattern(
    r"[ \t\n\r\f\v]*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[ \t\n\r\f\v]*\Z"
)
_SPECIAL: Final = LazyPattern(r"(?i)[ \t\n\r\f\v]*([-+])(inf|nan)[ \t\n\r\f\v]*\Z")


def _special(text: str) -> float | None:
    """The IEEE value a `+inf`/`-nan`-style string denotes, or None."""
    if text.isascii():
        # What _SPECIAL matches, read with str methods: the environment (ENVIRON) has
        # values like `./prog` that reach here in every run, and `re` costs start-up.
        word = text.strip(BLANKS)
        if len(word) != 4 or word[0] not in "+-":
            return None
        sign, name = word[0], word[1:].lower()
        if name not in ("inf", "nan"):
            return None
    else:  # (re's case folding, e.g. dotless i, is the rule there)
        m = _SPECIAL.match(text)
        if m is None:
            return None
        sign, name = m.group(1), m.group(2).lower()
    if name == "inf":
        return (-1.0 if sign == "-" else 1.0) * math.inf
    return math.copysign(math.nan, -1.0 if sign == "-" else 1.0)


# Text made only of these is a number exactly when Python's float() accepts it: float()
# takes the same decimal syntax and blanks, and the letters it would also take (inf, nan,
# underscores, non-ASCII digits and spaces) are all outside this set.
_NUMBER_CHARS: Final = frozenset("0123456789.eE+- \t\n\r\f\v")


def str_to_num(text: str) -> float:
    """awk's string-to-number: the leading numeric prefix, 0.0 if there is none.

    " 12abc" -> 12, ".5e3x" -> 500, "1e" -> 1, "0x1A" -> 0, "+inf" -> inf, "inf" -> 0.
    Overflow gives +-inf and underflow 0, as strtod does.
    """
    if not text or text[0] not in NUMBER_START:
        return 0.0  # no number starts here (nor a signed inf or nan)
    # float() first: on ASCII text it skips exactly C's isspace() blanks and reads C's
    # decimal syntax, except that it also takes underscores between digits and spells out
    # inf and nan, so a finite result from text without an underscore is awk's number.
    # That is one float() call where checking the characters first costs two passes.
    try:
        n = float(text)
        if n - n == 0.0 and text.isascii() and "_" not in text:
            return n
    except ValueError:
        pass
    if _NUMBER_CHARS.issuperset(text):
        try:
            return float(text)  # 1e999: the infinity strtod gives
        except ValueError:
            pass  # "1e", "1-2": fall back to the prefix rule
    m = _NUMBER_PREFIX.match(text)
    if m is not None:
        return float(m.group(1))
    special = _special(text)
    return 0.0 if special is None else special


def looks_numeric(text: str) -> bool:
    """The strnum rule: blanks, one decimal number, blanks, and nothing else."""
    return _NUMERIC_STRING.match(text) is not None or _special(text) is not None


def make_strnum(text: str) -> str | StrNum:
    """Wrap input text: a StrNum if it looks numeric, else the plain string."""
    if not text or text[0] not in NUMBER_START:
        return text  # most words: no float() call, no regex
    try:
        n = float(text)  # str_to_num's first step, for the same reasons
        if n - n == 0.0 and text.isascii() and "_" not in text:
            return StrNum(text, n)
    except ValueError:
        pass
    if _NUMBER_CHARS.issuperset(text):
        try:
            return StrNum(text, float(text))  # 1e999
        except ValueError:
            return text
    special = _special(text)
    if special is not None:
        return StrNum(text, special)
    return text


def to_num(value: AwkValue) -> float:
    """The numeric value of any awk value."""
    if isinstance(value, float):
        return value
    if isinstance(value, StrNum):
        return value.num
    if isinstance(value, str):
        return str_to_num(value)
    return float(value)


def is_numeric(value: AwkValue) -> bool:
    """Whether a value compares numerically: a number, a numeric string, or uninit."""
    return not isinstance(value, str)


def to_bool(value: AwkValue) -> bool:
    """awk truth: numbers and numeric strings by value, strings by non-emptiness."""
    if isinstance(value, str):
        return value != ""
    if isinstance(value, StrNum):
        return value.num != 0.0
    return value != 0


def awk_int(value: float) -> float:
    """int(): truncate toward zero; infinities and NaN pass through."""
    if math.isinf(value) or math.isnan(value):
        return value
    return float(math.trunc(value))
