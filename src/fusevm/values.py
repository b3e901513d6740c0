"""The VM value model: the ten value variants and every coercion between them.

Representation (other modules rely on it): Undef is the `Undef` singleton, Bool is `bool`,
Int is `int` kept within [INT_MIN, INT_MAX] (D4), Float is `float`, Str is `str`, Array is
`list`, Hash is `dict` with str keys in insertion order (D7), and Status, Ref and NativeFn are
the small frozen classes below. Arrays and Hashes are shared between storage locations and
copied on their first write (D8): see `fusevm.interp.cow`. Because `True == 1 == 1.0` in
Python, every function here dispatches on the exact `type(v)` and never on `==` or
`isinstance`. Semantics are those of docs/values.md, with `StringLen` counting code
points (D6).
"""

from __future__ import annotations

from fusevm.errors import MemoryLimit
from fusevm.lazymath import math
from fusevm.limits import DEFAULT_MAX_SIZE, MAX_NESTING

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from decimal import Context, Decimal
    from typing import Any, Final, NoReturn, TypeAlias

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "MASK64",
    "NativeFn",
    "Ref",
    "Status",
    "Undef",
    "UndefType",
    "Value",
    "checked64",
    "copy_value",
    "float_fmt",
    "fmod",
    "format_value",
    "ieee_pow",
    "is_value",
    "kind_name",
    "length",
    "parse_float",
    "parse_int",
    "same_value",
    "sat_trunc",
    "to_float",
    "to_int",
    "to_number",
    "to_str",
    "trunc_rem",
    "truthy",
    "values_equal",
    "wrap64",
]

INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1
MASK64: Final = 2**64 - 1
_I32_MIN: Final = -(2**31)
_I32_MAX: Final = 2**31 - 1


# -- Variant classes ------------------------------------------------------------------------


class UndefType:
    """The type of `Undef`, the value of every unset global, slot or missing element."""

    __slots__ = ()
    _instance: UndefType | None = None

    def __new__(cls) -> UndefType:
        # One instance per process, so `v is Undef` is the test everywhere.
        if cls._instance is None:
            cls._instance = object.__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "Undef"

    def __reduce__(self) -> str:
        # A string tells pickle and copy to look the module global up: the same singleton.
        return "Undef"


Undef: Final = UndefType()


class Status:
    """A shell exit status (i32). Truthy iff the code is 0; never equal to an Int."""

    __slots__ = ("code",)
    code: int

    def __init__(self, code: int) -> None:
        if type(code) is not int:
            raise TypeError(f"Status code must be an int, not {type(code).__name__}")
        if not _I32_MIN <= code <= _I32_MAX:
            raise ValueError(f"Status code {code} is outside the i32 range")
        object.__setattr__(self, "code", code)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Status is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Status is immutable")

    def __bool__(self) -> bool:
        return self.code == 0

    def __eq__(self, other: object) -> bool:
        if type(other) is not Status:
            return NotImplemented
        return self.code == other.code

    def __hash__(self) -> int:
        return hash((Status, self.code))

    def __repr__(self) -> str:
        return f"Status({self.code})"

    def __reduce__(self) -> tuple[type[Status], tuple[int]]:
        return (Status, (self.code,))


class Ref:
    """A box holding one value. It is copied with its contents (D8), so it never aliases."""

    __slots__ = ("value",)
    value: Value

    def __init__(self, value: Value) -> None:
        object.__setattr__(self, "value", value)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Ref is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Ref is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not Ref:
            return NotImplemented
        return values_equal(self.value, other.value)

    def __repr__(self) -> str:
        return f"Ref({self.value!r})"

    def __reduce__(self) -> tuple[type[Ref], tuple[Value]]:
        return (Ref, (self.value,))


class NativeFn:
    """An opaque builtin id (u16). No core op consumes it."""

    __slots__ = ("id",)
    id: int

    def __init__(self, id: int) -> None:
        if type(id) is not int:
            raise TypeError(f"NativeFn id must be an int, not {type(id).__name__}")
        if not 0 <= id <= 0xFFFF:
            raise ValueError(f"NativeFn id {id} is outside the u16 range")
        object.__setattr__(self, "id", id)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("NativeFn is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("NativeFn is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not NativeFn:
            return NotImplemented
        return self.id == other.id

    def __hash__(self) -> int:
        return hash((NativeFn, self.id))

    def __repr__(self) -> str:
        return f"NativeFn({self.id})"

    def __reduce__(self) -> tuple[type[NativeFn], tuple[int]]:
        return (NativeFn, (self.id,))


Value: TypeAlias = (
    UndefType
    | bool
    | int
    | float
    | str
    | list["Value"]
    | dict[str, "Value"]
    | Status
    | Ref
    | NativeFn
)


class NotAValue(TypeError):
    """A Python object found where a VM value must be: no op makes one, so an extension
    op or host code put it on the stack, in a slot or in a global."""


def _not_a_value(v: object) -> TypeError:
    return NotAValue(f"not a VM value: {type(v).__name__} {v!r:.60}")


# -- Integer helpers ------------------------------------------------------------------------


def wrap64(n: int) -> int:
    """Reduce any Python int into [INT_MIN, INT_MAX] modulo 2**64 (two's complement)."""
    if -0x8000000000000000 <= n <= 0x7FFFFFFFFFFFFFFF:
        return n
    return ((n + 0x8000000000000000) & 0xFFFFFFFFFFFFFFFF) - 0x8000000000000000


def checked64(n: int) -> int | None:
    """Return n if it fits in an i64, else None (the strict_int overflow signal)."""
    if -0x8000000000000000 <= n <= 0x7FFFFFFFFFFFFFFF:
        return n
    return None


def decimal64(text: str, sign: bool = True) -> int | None:
    """`text` as a decimal number (a shell builtin's `exit 3`, `shift 2`, an fd): ASCII
    digits, with one `-` in front when `sign`, within 64 bits; None for anything else. A
    digit string of any length is refused before Python converts it (it converts at most
    4,300 digits)."""
    digits = text[1:] if sign and text[:1] == "-" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits.lstrip("0")) > 19:
        return None
    return checked64(int(text))


def sat_trunc(f: float) -> int:
    """Float to i64: truncate toward zero, saturate at the bounds, NaN gives 0."""
    # The bounds are exactly +-2**63 as floats; NaN fails both comparisons.
    if -9223372036854775808.0 <= f < 9223372036854775808.0:
        return int(f)
    if f != f:
        return 0
    return INT_MAX if f > 0.0 else INT_MIN


def trunc_rem(a: int, b: int) -> int:
    """Int remainder with the sign of the dividend (C `%`); the caller ensures b != 0."""
    if a >= 0 and b > 0:
        return a % b
    r = abs(a) % abs(b)
    return -r if a < 0 else r


# -- Float helpers --------------------------------------------------------------------------


def fmod(x: float, y: float) -> float:
    """C fmod: the sign follows x; y == 0, infinite x or a NaN operand give NaN."""
    try:
        return math.fmod(x, y)
    except ValueError:
        return math.nan


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and float(y).is_integer() and math.fmod(y, 2.0) != 0.0


def ieee_pow(x: float, y: float) -> float:
    """C99 pow with IEEE results (inf, NaN) in place of Python's exceptions."""
    try:
        return math.pow(x, y)
    except ValueError:
        if x == 0:
            return math.copysign(math.inf, x) if _is_odd_integer(y) else math.inf
        return math.nan
    except OverflowError:
        return -math.inf if x < 0 and _is_odd_integer(y) else math.inf


# -- String -> number parsing ---------------------------------------------------------------

# Written out with str methods rather than `re` (which costs every process start-up more
# than these functions ever do). Only ASCII text can be a number: `isdigit()` of an ASCII
# string accepts exactly 0-9, and `float()` is handed only text already checked, so its own
# extras (underscores, surrounding blanks, non-ASCII digits) never get through.


def parse_int(s: str) -> int:
    """Parse `[+-]?[0-9]+` (whole string, ASCII digits) to an i64; else, or on overflow, 0."""
    if s.isascii() and s.isdigit() and len(s) <= 18:
        return int(s)
    if not s.isascii():
        return 0
    negative = s[:1] == "-"
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body.isdigit():
        return 0
    # More than 19 significant digits overflows i64 anyway, and the cap keeps int() away
    # from its digit limit on huge inputs.
    digits = body.lstrip("0") or "0"
    if len(digits) > 19:
        return 0
    n = -int(digits) if negative else int(digits)
    return n if -0x8000000000000000 <= n <= 0x7FFFFFFFFFFFFFFF else 0


def _is_float_text(s: str) -> bool:
    """`[+-]?` then `[0-9]+(.[0-9]*)?` or `.[0-9]+`, with an optional `e[+-]?[0-9]+`, or
    inf, infinity, nan in any case: the whole of an ASCII string."""
    body = s[1:] if s[:1] in ("+", "-") else s
    low = body.lower()
    if low in ("inf", "infinity", "nan"):
        return True
    mantissa, e, exponent = low.partition("e")
    if e:
        digits = exponent[1:] if exponent[:1] in ("+", "-") else exponent
        if not digits.isdigit():
            return False
    whole, dot, fraction = mantissa.partition(".")
    if whole:
        return whole.isdigit() and (not fraction or fraction.isdigit())
    return bool(dot) and fraction.isdigit()


def parse_float(s: str) -> float:
    """Parse a decimal or inf/infinity/nan literal (whole string) to a float; else 0.0."""
    if s.isascii() and (s.isdigit() or _is_float_text(s)):
        return float(s)
    return 0.0


# -- Number -> string -----------------------------------------------------------------------

_POW2: Final = tuple(2.0**i for i in range(64))
#: Half-up rounding to each precision, made on the exact path's first use (decimal is a
#: large import most processes never need).
_half_up_contexts: tuple[Context, ...] = ()


def _plain(d: Decimal) -> str:
    """Positional text of a non-negative Decimal, without trailing fractional zeros."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _float_fmt_exact(f: float) -> str:
    """float_fmt by the exact tie-breaking procedure (the slow path of float_fmt)."""
    if f != f:
        return "NaN"
    if f in (math.inf, -math.inf):
        return "inf" if f > 0 else "-inf"
    if f == 0.0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    a = abs(f)
    shortest = repr(a)
    mantissa = shortest.partition("e")[0].replace(".", "").strip("0")
    global _half_up_contexts
    from decimal import ROUND_HALF_UP, Context, Decimal
    if not _half_up_contexts:
        _half_up_contexts = tuple(Context(prec=max(p, 1), rounding=ROUND_HALF_UP)
                                  for p in range(20))
    exact = Decimal(a)
    # Rust breaks a tie between two shortest candidates upward; repr breaks it to even.
    candidate = _half_up_contexts[len(mantissa)].plus(exact)
    text = _plain(candidate if float(candidate) == a else Decimal(shortest))
    return "-" + text if f < 0 else text


def float_fmt(f: float) -> str:
    """Format a float as Rust's f64 Display does: shortest round-trip digits, no exponent."""
    # repr is positional exactly for 1e-4 <= |f| < 1e16; zero, NaN, inf and the exponent
    # range take the exact path.
    if 1e-4 <= f < 1e16 or -1e16 < f <= -1e-4:
        r = repr(f)
        last = r[-1]
        if last == "0":  # integral: repr's only trailing zero is the one in ".0"
            return r[:-2]
        # A tie between two j-digit fractions means the exact binary value has exactly j+1
        # fractional digits (the last a 5), i.e. exactly j+1 fractional bits, and repr took
        # the even candidate (an even 0 would have made a shorter string round-trip).
        if last in "2468":
            j = len(r) - r.index(".") - 1
            if (f * _POW2[j + 1]).is_integer() and not (f * _POW2[j]).is_integer():
                return _float_fmt_exact(f)
        return r
    return _float_fmt_exact(f)


# -- Coercions ------------------------------------------------------------------------------


def _zero(v: object) -> int:
    return 0


def _zero_f(v: object) -> float:
    return 0.0


def _list_to_str(v: list[Value]) -> str:
    if list in map(type, v):  # (an array of arrays: see `_nested_text`)
        return _nested_text(v, {})
    return " ".join(map(to_str, v))


def _nested_text(v: list[Value], done: dict[int, str]) -> str:
    """The text of an array of arrays. Arrays may share elements (one array pushed six
    times, sixteen levels deep, is 16 arrays whose text is 6**16 words long), so each
    distinct array's text is built once and one longer than `limits.DEFAULT_MAX_SIZE`
    is refused (MemoryLimit) rather than built for hours."""
    parts = [(done.get(id(x)) or _nested_text(x, done)) if type(x) is list else to_str(x)
             for x in v]
    size = sum(map(len, parts)) + len(parts) - 1
    if size > DEFAULT_MAX_SIZE:
        raise MemoryLimit(f"the text of an array, {size:,} characters, would exceed "
                          f"{DEFAULT_MAX_SIZE:,}")
    text = done[id(v)] = " ".join(parts)
    return text


_TO_INT: Final[dict[type, Callable[[Any], int]]] = {
    float: sat_trunc,
    str: parse_int,
    bool: int,
    UndefType: _zero,
    list: len,
    dict: _zero,
    Status: lambda v: v.code,
    Ref: _zero,
    NativeFn: _zero,
}

_TO_FLOAT: Final[dict[type, Callable[[Any], float]]] = {
    int: float,
    str: parse_float,
    bool: float,
    UndefType: _zero_f,
    list: _zero_f,
    dict: _zero_f,
    Status: lambda v: float(v.code),
    Ref: _zero_f,
    NativeFn: _zero_f,
}

_TO_STR: Final[dict[type, Callable[[Any], str]]] = {
    int: int.__repr__,
    float: float_fmt,
    bool: lambda v: "1" if v else "",
    UndefType: lambda v: "",
    list: _list_to_str,
    dict: lambda v: "(hash)",
    Status: lambda v: str(v.code),
    Ref: lambda v: "(ref)",
    NativeFn: lambda v: f"(builtin:{v.id})",
}


def to_int(v: Value) -> int:
    """Coerce to Int (docs/values.md): Float saturates, Str parses strictly, Array is its length."""
    if type(v) is int:
        return v
    try:
        return _TO_INT[type(v)](v)
    except KeyError:
        raise _not_a_value(v) from None


def to_float(v: Value) -> float:
    """Coerce to Float (docs/values.md): Str parses as a float, Array/Hash/Ref/NativeFn are 0.0."""
    if type(v) is float:
        return v
    try:
        return _TO_FLOAT[type(v)](v)
    except KeyError:
        raise _not_a_value(v) from None


def to_number(v: Value) -> int | float:
    """The num-binary operand rule: Int and Float stay as they are, all else goes to_float."""
    t = type(v)
    if t is int or t is float:
        return v  # type: ignore[return-value]
    return to_float(v)


def to_str(v: Value) -> str:
    """Coerce to Str (docs/values.md): Arrays join their elements with one space, recursively."""
    if type(v) is str:
        return v
    try:
        return _TO_STR[type(v)](v)
    except KeyError:
        raise _not_a_value(v) from None


def truthy(v: Value) -> bool:
    """Truthiness (docs/values.md): "" and "0" are false, NaN is true, Status is true iff 0."""
    if type(v) is str:
        return v != "" and v != "0"
    # Python's own truth agrees for every other variant: 0, 0.0 and -0.0 are false, NaN is
    # true, empty containers and Undef are false, Status defines __bool__, Ref/NativeFn true.
    return bool(v)


def length(v: Value) -> int:
    """StringLen (D6): code points of a Str, element/entry count of a container, else of to_str."""
    t = type(v)
    if t is str or t is list or t is dict:
        return len(v)  # type: ignore[arg-type]
    return len(to_str(v))


def copy_value(v: Value) -> Value:
    """Copy a value so the copy never aliases the original's storage (D8).

    A shallow copy suffices: no core op mutates a nested container in place. The VM itself
    copies lazily (copy on write, `fusevm.interp.cow`); this is the eager copy.
    """
    t = type(v)
    if t is list or t is dict:
        return v.copy()  # type: ignore[union-attr]
    if t is Ref:
        return Ref(copy_value(v.value))  # type: ignore[union-attr]
    return v


# -- Equality and inspection ----------------------------------------------------------------


def values_equal(a: Value, b: Value) -> bool:
    """Structural, variant-sensitive equality (docs/values.md): 1 != 1.0 != True; NaN != NaN."""
    return _equal(a, b, False, set())


def same_value(a: Value, b: Value) -> bool:
    """Like values_equal, but every NaN equals every NaN and -0.0 differs from 0.0."""
    return _equal(a, b, True, set())


def _equal(a: Value, b: Value, same: bool, equal: set[tuple[int, int]]) -> bool:
    """`values_equal` (`same_value` when `same`). `equal` holds the pairs of containers
    found equal so far in this comparison: containers may share elements, and a pair met
    again is not compared again (else one array pushed six times, sixteen levels deep,
    is 6**16 comparisons)."""
    t = type(a)
    if t is not type(b):
        return False
    if t is float:
        if not same:
            return a == b
        if a != a:
            return b != b
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)  # type: ignore[arg-type]
    if t is list or t is dict or t is Ref:
        pair = (id(a), id(b))
        if pair in equal:
            return True
        if t is list:
            found = len(a) == len(b) and all(  # type: ignore[arg-type]
                _equal(x, y, same, equal) for x, y in zip(a, b))  # type: ignore[arg-type]
        elif t is dict:
            found = len(a) == len(b) and all(  # type: ignore[arg-type]
                k in b and _equal(x, b[k], same, equal)  # type: ignore[operator, index]
                for k, x in a.items())  # type: ignore[union-attr]
        else:
            found = _equal(a.value, b.value, same, equal)  # type: ignore[union-attr]
        if found:
            equal.add(pair)
        return found
    # Same type from here: Status/NativeFn compare by content, Undef by identity.
    return a == b


_KIND_NAMES: Final[dict[type, str]] = {
    UndefType: "Undef",
    bool: "Bool",
    float: "Float",
    str: "Str",
    list: "Array",
    dict: "Hash",
    Status: "Status",
    Ref: "Ref",
    NativeFn: "NativeFn",
}


def kind_name(v: object) -> str:
    """The variant name of a value; TypeError for anything that is not a VM value."""
    t = type(v)
    if t is int:
        if -0x8000000000000000 <= v <= 0x7FFFFFFFFFFFFFFF:  # type: ignore[operator]
            return "Int"
        raise _not_a_value(v)
    name = _KIND_NAMES.get(t)
    if name is None:
        raise _not_a_value(v)
    return name


def is_value(v: object) -> bool:
    """True when v, and everything inside it, is a valid VM value (no cycles)."""
    return _is_value(v, set(), set())


def _is_value(v: object, active: set[int], good: set[int]) -> bool:
    """`is_value`; `active` holds the containers being checked (one met again is a cycle),
    `good` those found valid (one shared many times over is checked once)."""
    t = type(v)
    if t is int:
        return -0x8000000000000000 <= v <= 0x7FFFFFFFFFFFFFFF  # type: ignore[operator]
    if t is list or t is dict or t is Ref:
        if id(v) in good:
            return True
        if id(v) in active:
            return False
        active.add(id(v))
        if t is list:
            ok = all(_is_value(x, active, good) for x in v)  # type: ignore[attr-defined]
        elif t is dict:
            ok = all(
                type(k) is str and _is_value(x, active, good)
                for k, x in v.items()  # type: ignore[attr-defined]
            )
        else:
            ok = _is_value(v.value, active, good)  # type: ignore[attr-defined]
        active.discard(id(v))
        if ok:
            good.add(id(v))
        return ok
    return t in _KIND_NAMES


def value_depth_exceeds(value: object, limit: int = MAX_NESTING) -> bool:
    """True if `value` holds a container nested deeper than `limit` (scalars are depth 0,
    the items of a top-level array depth 1). Iterative, so any depth (or a cycle) is safe;
    a container met again no deeper than before is not walked again, so containers shared
    many times over cost once per depth they are met at, not once per path."""
    todo: list[tuple[object, int]] = [(value, 0)]
    deepest: dict[int, int] = {}
    while todo:
        v, depth = todo.pop()
        if depth > limit:
            return True
        t = type(v)
        if t is list or t is dict or t is Ref:
            if deepest.get(id(v), -1) >= depth:
                continue
            deepest[id(v)] = depth
        if t is list:
            todo.extend((x, depth + 1) for x in v)  # type: ignore[attr-defined]
        elif t is dict:
            todo.extend((x, depth + 1) for x in v.values())  # type: ignore[attr-defined]
        elif t is Ref:
            todo.append((v.value, depth + 1))  # type: ignore[attr-defined]
    return False


def constant_problem(value: object) -> str | None:
    """Why `value` cannot be a chunk constant (`constant ...` completes the message), or
    None: what the builder checks as a constant is added and the verifier of a chunk made
    otherwise."""
    t = type(value)
    if t is str or t is float or t is bool:
        return None  # (a scalar that is a value whatever it holds)
    if value_depth_exceeds(value):
        return f"is nested more than {MAX_NESTING} deep"
    if not is_value(value):
        return f"is not a VM value: {value!r:.60}"
    return None


# -- Debug / literal formatting -------------------------------------------------------------

_NAMED_ESCAPES: Final = {"\n": "\\n", "\t": "\\t", "\\": "\\\\", '"': '\\"'}


def _escape_char(c: str) -> str:
    named = _NAMED_ESCAPES.get(c)
    if named is not None:
        return named
    if c.isprintable():
        return c
    cp = ord(c)
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _quote(s: str) -> str:
    """Double-quoted Str literal: \\n \\t \\\\ \\" and \\xNN, \\uNNNN, \\UNNNNNNNN otherwise."""
    if s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    return '"' + "".join(map(_escape_char, s)) + '"'


def format_float(x: float) -> str:
    """repr(x), except that a NaN other than math.nan spells out its 64 bits
    (`nan(0xfff8000000000000)`), so its sign and payload survive a round trip."""
    if x != x:
        import struct  # only for a NaN: most processes never format one

        bits, nan_bits = struct.unpack("<2Q", struct.pack("<2d", x, math.nan))
        if bits != nan_bits:
            return f"nan(0x{bits:016x})"
    return repr(x)


def format_value(v: object) -> str:
    """Unambiguous literal text of a value, for debugging and the assembler.

    Ints print bare (`42`); Floats use Python's repr, so they always contain `.` or `e` or
    are `nan`/`inf`/`-inf` (another NaN's bits as `nan(0x...)`); Strs are double-quoted with
    escapes; Bool is `true`/`false`, Undef `undef`, Array `[1, 2]`, Hash `{"a": 1}`, then
    `Status(3)`, `Ref(...)`, `NativeFn(7)`.

    Raises:
        TypeError: v (or something inside it) is not a VM value.
    """
    t = type(v)
    if t is int:
        kind_name(v)  # range check
        return repr(v)
    if t is float:
        return format_float(v)  # type: ignore[arg-type]
    if t is str:
        return _quote(v)  # type: ignore[arg-type]
    if t is bool:
        return "true" if v else "false"
    if v is Undef:
        return "undef"
    if t is list:
        return "[" + ", ".join(map(format_value, v)) + "]"  # type: ignore[call-overload]
    if t is dict:
        items = []
        for k, x in v.items():  # type: ignore[attr-defined]
            if type(k) is not str:
                raise _not_a_value(v)
            items.append(f"{_quote(k)}: {format_value(x)}")
        return "{" + ", ".join(items) + "}"
    if t is Status or t is NativeFn:
        return repr(v)
    if t is Ref:
        return f"Ref({format_value(v.value)})"  # type: ignore[attr-defined]
    raise _not_a_value(v)
