"""awk's printf engine and number-to-string conversion (CONVFMT/OFMT).

`sprintf` follows gawk --posix: every C conversion awk knows (`%c %d %i %o %x %X %u %e %E
%f %F %g %G %s %%`), flags `- + space # 0 '`, widths, precisions and `*`. Where gawk --posix
stops with a fatal error the engine keeps going instead: an unknown conversion is copied
through literally, as gawk does outside --posix. Too few arguments is fatal (ValueError),
as in gawk, onetrue-awk and mawk. Infinities and NaN print C-style (`inf`, `-nan`, padded
with blanks), integer conversions print the exact integer of a huge double, and an
unsigned conversion of a value outside 64 bits falls back to `%g`, all as gawk does.

Conversion of a number to a string: an integral value prints as an integer whatever the
format (`1e6` -> "1000000", `2^53` exactly); specials print as `+inf`, `-inf`, `+nan`,
`-nan`; anything else goes through CONVFMT (or OFMT for print).
"""

from __future__ import annotations

from fusevm.ahead import function
from fusevm.lang.awk.values import AwkValue, StrNum, to_num
from fusevm.lang.cprintf import MAX_FIELD, format_int, too_wide
from fusevm.lazymath import math
from fusevm.memo import memo
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Final

DEFAULT_CONVFMT: Final = "%.6g"

_CONVERSIONS: Final = frozenset("cdiouxXeEfFgGsaA")
#: (`'` groups thousands with the locale's separator, which the C locale has none of:
#: accepted and dropped, as every awk in the C locale does.)
_FLAGS: Final = "-+ #0'"
_TWO_64: Final = 1 << 64
_TWO_63: Final = 1 << 63


@dataclass(frozen=True, slots=True)
class _Spec:
    """One parsed `%...c` conversion; width/precision -1 means "from an argument"."""

    flags: str
    width: int | None
    precision: int | None
    conversion: str


@memo(256)
def _parse(fmt: str) -> tuple[str | _Spec, ...]:
    """Split a format into literal text and conversion specs (cached: formats repeat)."""
    pieces: list[str | _Spec] = []
    literal: list[str] = []
    i = 0
    n = len(fmt)
    while i < n:
        ch = fmt[i]
        if ch != "%":
            literal.append(ch)
            i += 1
            continue
        start = i
        i += 1
        flags_start = i
        while i < n and fmt[i] in _FLAGS:
            i += 1
        flags = fmt[flags_start:i].replace("'", "")
        width: int | None = None
        if i < n and fmt[i] == "*":
            width = -1
            i += 1
        else:
            digits_start = i
            while i < n and fmt[i].isdigit():
                i += 1
            if i > digits_start:
                width = _size(fmt[digits_start:i], "width", fmt)
        precision: int | None = None
        if i < n and fmt[i] == ".":
            i += 1
            if i < n and fmt[i] == "*":
                precision = -1
                i += 1
            else:
                digits_start = i
                while i < n and fmt[i].isdigit():
                    i += 1
                precision = _size(fmt[digits_start:i] or "0", "precision", fmt)
        if i >= n:
            literal.append(fmt[start:])  # a format ending inside a spec is literal text
            break
        conversion = fmt[i]
        i += 1
        if conversion == "%":
            literal.append("%")
        elif conversion in _CONVERSIONS:
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(_Spec(flags, width, precision, conversion))
        else:
            literal.append(fmt[start:i])
    if literal:
        pieces.append("".join(literal))
    return tuple(pieces)


class FormatError(ValueError):
    """A format that cannot be written: a width or precision past the VM's size limit
    (`printf`, `sprintf`, OFMT and CONVFMT report it as awk's error, when it runs)."""


@memo(256)
def argument_kinds(fmt: str) -> tuple[str | None, ...]:
    """How `fmt` reads each argument it consumes, in order: "num" when only the number
    counts (a `*` width or precision, a numeric conversion), "str" when only the text does
    (`%s`), None when the value's type matters (`%c`). The compiler evaluates arguments
    accordingly: a field read for `%d` needs no strnum test, one read for `%s` no number."""
    kinds: list[str | None] = []
    try:
        pieces = _parse(fmt)
    except FormatError:
        return ()  # (reported when the format is written)
    for piece in pieces:
        if isinstance(piece, str):
            continue
        if piece.width == -1:
            kinds.append("num")
        if piece.precision == -1:
            kinds.append("num")
        conv = piece.conversion
        kinds.append("str" if conv == "s" else None if conv == "c" else "num")
    return tuple(kinds)


@memo(256)
def _fast_plan(fmt: str) -> tuple[str, str] | None:
    """(Python %-format, one kind letter per conversion: s, d or f) when every conversion
    of `fmt` is one whose Python formatting equals C's for ordinary arguments; else None."""
    out: list[str] = []
    kinds: list[str] = []
    for piece in _parse(fmt):
        if isinstance(piece, str):
            out.append(piece.replace("%", "%%"))
            continue
        if piece.width == -1 or piece.precision == -1 or "#" in piece.flags:
            return None
        conv = piece.conversion
        if conv == "s":
            kinds.append("s")
        elif conv in "di" and piece.precision is None:  # C's %.Nd rules differ
            kinds.append("d")
        elif conv in "eEfFgG":
            kinds.append("f")
        else:
            return None
        spec = "%" + piece.flags
        if piece.width is not None:
            spec += str(piece.width)
        if piece.precision is not None:
            spec += "." + str(piece.precision)
        out.append(spec + conv)
    return "".join(out), "".join(kinds)


#: Doubles beyond this may not be integers exactly: their %d takes the general path.
_EXACT: Final = 9007199254740992.0

# One formatting function per format, generated from its conversion kinds: the arguments
# are converted in straight-line code, with no loop and no per-argument dispatch (a loop
# over the kinds costs as much as the formatting itself). Only the kinds and argument
# positions are written into the code; the format text is a constant of it. Python's %d
# of a double in range is C's (truncation), so d takes the float as it is.
_KIND_CODE: Final = {
    "s": ("    v = a[{i}]\n    t = type(v)\n"
          "    x{i} = v if t is str else v.text if t is StrNum else to_str(v, convfmt)\n"),
    "f": ("    v = a[{i}]\n    t = type(v)\n"
          "    x{i} = v if t is float else v.num if t is StrNum else to_num(v)\n"
          "    if not -EXACT < x{i} < EXACT:\n        return general(FMT, a[1:], convfmt)\n"),
}


@memo(256)
def item_formatter(fmt: str) -> Callable[[Sequence[AwkValue], str], str]:
    """`f(items, convfmt)`: `sprintf(fmt, items[1:], convfmt)` for an op's items (the
    format first, as printf's stack holds them). Where every conversion of `fmt` formats
    as C's for ordinary arguments it is one Python %-format, and arguments that need more
    (too few of them, infinities and NaN, integers beyond 2^53) take the general path."""
    plan = _fast_plan(fmt)
    if plan is None:
        def formatter(a: Sequence[AwkValue], convfmt: str) -> str:
            return _general(fmt, a[1:], convfmt)
        return formatter
    pyfmt, kinds = plan
    lines = ["def formatter(a, convfmt):",
             f"    if len(a) <= {len(kinds)}:", "        return general(FMT, a[1:], convfmt)"]
    values = []
    for i, kind in enumerate(kinds, 1):
        lines.append(_KIND_CODE["s" if kind == "s" else "f"].format(i=i).rstrip("\n"))
        values.append(f"x{i}")
    lines.append(f"    return PYFMT % ({', '.join(values)}{',' if len(values) == 1 else ''})")
    namespace: dict[str, Any] = {"FMT": fmt, "PYFMT": pyfmt, "EXACT": _EXACT,
                                 "StrNum": StrNum, "to_str": to_str, "to_num": to_num,
                                 "general": _general}
    return function("\n".join(lines) + "\n", namespace, "formatter")  # type: ignore[no-any-return]


def sprintf(fmt: str, args: Sequence[AwkValue], convfmt: str = DEFAULT_CONVFMT) -> str:
    """Format `args` by the awk format `fmt`; `convfmt` converts numbers for `%s`."""
    return item_formatter(fmt)((fmt, *args), convfmt)


def _general(fmt: str, args: Sequence[AwkValue], convfmt: str) -> str:
    """sprintf for any format and arguments, one conversion at a time."""
    out: list[str] = []
    arg_index = 0

    def next_arg() -> AwkValue:
        nonlocal arg_index
        if arg_index < len(args):
            value = args[arg_index]
            arg_index += 1
            return value
        raise ValueError(f"not enough args in printf({fmt})")

    for piece in _parse(fmt):
        if isinstance(piece, str):
            out.append(piece)
            continue
        flags = piece.flags
        width = piece.width
        if width == -1:
            star = _star_value(next_arg())
            if star < 0:
                flags += "-"
                star = -star
            width = star
        precision = piece.precision
        if precision == -1:
            star = _star_value(next_arg())
            precision = star if star >= 0 else None
        out.append(_convert(piece.conversion, flags, width, precision, next_arg(), convfmt))
    return "".join(out)


def _star_value(value: AwkValue) -> int:
    number = to_num(value)
    if math.isnan(number):
        return 0
    if abs(number) > MAX_FIELD:
        raise FormatError(f"printf: a `*` width or precision of {number:g} is larger than "
                         f"the VM's size limit ({MAX_FIELD:,})")
    return int(number)


def _size(digits: str, what: str, fmt: str) -> int:
    """A width or precision written in a format; FormatError when it is larger than the
    VM's size limit (the text it asks for would be)."""
    if too_wide(digits):
        raise FormatError(f"printf: the {what} {digits} in format {fmt!r} is larger than "
                         f"the VM's size limit ({MAX_FIELD:,})")
    return int(digits)


def _pad(text: str, flags: str, width: int | None) -> str:
    if width is None or len(text) >= width:
        return text
    return text.ljust(width) if "-" in flags else text.rjust(width)


def _convert(
    conversion: str,
    flags: str,
    width: int | None,
    precision: int | None,
    value: AwkValue,
    convfmt: str,
) -> str:
    if conversion == "s":
        text = to_str(value, convfmt)
        if precision is not None:
            text = text[:precision]
        return _pad(text, flags, width)
    if conversion == "c":
        return _pad(_char(value), flags, width)
    number = to_num(value)
    if math.isinf(number) or math.isnan(number):
        return _special(number, conversion, flags, width)
    if conversion in "eEfFgG":
        return _format_float(number, conversion, flags, width, precision)
    if conversion in "aA":
        return _pad(_hex_float(number, conversion, flags), flags, width)
    integer = math.trunc(number)
    if conversion in "di":
        return _format_int(integer, conversion, flags, width, precision, number)
    # o x X u: C's unsigned view of a 64-bit value; beyond it gawk switches to %g
    if integer < 0:
        if integer < -_TWO_63:
            return _format_float(number, "g", flags, width, precision)
        integer += _TWO_64
    elif integer >= _TWO_64:
        return _format_float(number, "g", flags, width, precision)
    return _format_int(integer, conversion, flags, width, precision, number)


def _hex_float(number: float, conversion: str, flags: str) -> str:
    """`%a`: C's hexadecimal float (glibc drops trailing zero digits)."""
    text = float.hex(abs(number))  # 0x1.8000000000000p+1
    mantissa, _, exponent = text[2:].partition("p")
    whole, _, frac = mantissa.partition(".")
    frac = frac.rstrip("0")
    body = "0x" + whole + ("." + frac if frac else "") + "p" + exponent
    sign = "-" if math.copysign(1.0, number) < 0 else "+" if "+" in flags else (
        " " if " " in flags else "")
    body = sign + body
    return body.upper() if conversion == "A" else body


def _char(value: AwkValue) -> str:
    """`%c`: a number is a character code, of which the C locale keeps the low byte (as
    every awk does there: 321 prints "A"); a string gives its first character (NUL for "",
    as C's printf of the terminator); numeric strings count as numbers, as in gawk."""
    if isinstance(value, str):
        return value[:1] or "\0"
    number = to_num(value)
    if math.isinf(number) or math.isnan(number):
        return "\0"
    return chr(math.trunc(number) & 0xFF)


def _special(number: float, conversion: str, flags: str, width: int | None) -> str:
    """inf/nan under any numeric conversion: C's text, blank-padded (no zero padding)."""
    text = "inf" if math.isinf(number) else "nan"
    if conversion in "EFG":
        text = text.upper()
    if math.copysign(1.0, number) < 0:
        text = "-" + text
    elif "+" in flags:
        text = "+" + text
    elif " " in flags:
        text = " " + text
    return _pad(text, flags, width)


def _format_float(
    number: float, conversion: str, flags: str, width: int | None, precision: int | None
) -> str:
    # Python's printf-style float formatting is C's for finite values.
    spec = "%" + flags
    if width is not None:
        spec += str(width)
    if precision is not None:
        spec += "." + str(precision)
    return (spec + conversion) % number


def _format_int(
    integer: int,
    conversion: str,
    flags: str,
    width: int | None,
    precision: int | None,
    raw: float,
) -> str:
    """An integer conversion of `integer` (the truncated `raw`), as gawk writes it.

    gawk departs from C in two corners, both followed here: a zero with precision 0
    prints no sign either, and for o/x/X/u the "is it zero" tests (empty output, `#`
    prefix) look at the untruncated value, so `%#x` of 0.5 is "0x0".
    """
    if precision == 0:
        if conversion in "di" and integer == 0:
            return _pad("", flags, width)
        if conversion not in "di" and raw == 0 and "#" not in flags:
            return _pad("", flags, width)
    return format_int(integer, conversion, flags, width, precision, raw != 0, gawk=True)


# -- number to string ----------------------------------------------------------


def num_to_str(number: float, fmt: str = DEFAULT_CONVFMT) -> str:
    """A number as awk prints it: integers exactly, specials signed, others via `fmt`."""
    if number - number == 0.0:  # finite: NaN and the infinities fail the test
        whole = int(number)
        if whole == number:
            return str(whole)
        if fmt == DEFAULT_CONVFMT:
            return "%.6g" % number  # noqa: UP031 - C printf semantics, the fast path
        return sprintf(fmt, (number,))
    sign = "-" if math.copysign(1.0, number) < 0 else "+"
    return sign + ("nan" if number != number else "inf")


def to_str(value: AwkValue, convfmt: str = DEFAULT_CONVFMT) -> str:
    """The string value of any awk value; numbers convert through `convfmt`."""
    if isinstance(value, str):
        return value
    if isinstance(value, StrNum):
        return value.text
    if isinstance(value, int):
        return str(int(value))  # int(): a bool prints as 1 or 0
    return num_to_str(value, convfmt)


def to_output_str(value: AwkValue, ofmt: str = DEFAULT_CONVFMT) -> str:
    """The text `print` writes for a value: like to_str, but numbers use OFMT."""
    return to_str(value, ofmt)
