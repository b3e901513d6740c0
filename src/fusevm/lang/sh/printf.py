"""The `printf` builtin's formatting: %d %i %o %u %x %X %c %s %b %e %f %g %%, escapes, and
reuse of the format while arguments remain."""

from __future__ import annotations

from fusevm.lang.cprintf import MAX_FIELD, format_int, too_wide
from fusevm.lang.lazyre import LazyPattern
from fusevm.memo import memo
from fusevm.shell.text import byte_char, byte_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

_CONVERSIONS: Final = frozenset("diouxXcsbeEfFgG")
_FLAGS: Final = frozenset("-+ #0")
_DIGITS: Final = frozenset("0123456789")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_ESC: Final = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
               "\\": "\\", '"': '"', "'": "'", "e": "\x1b"}


def escapes(text: str, in_b: bool = False) -> tuple[str, bool]:
    """Backslash escapes; (result, stop) where stop means `\\c` was seen (for %b)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n in _ESC and not (n in "\"'" and in_b):
                out.append(_ESC[n])
                i += 2
                continue
            if n == "c" and in_b:
                return "".join(out), True
            if n in "01234567":
                j = i + 1
                if in_b and n == "0":
                    j += 1
                k = j
                while k < len(text) and k < j + 3 and text[k] in "01234567":
                    k += 1
                out.append(byte_char(int(text[j:k] or "0", 8) & 0xFF))
                i = k
                continue
        out.append(c)
        i += 1
    return "".join(out), False


def _run(text: str, i: int, chars: frozenset[str] | str) -> int:
    """The end of the run of `chars` in `text` from `i`."""
    n = len(text)
    while i < n and text[i] in chars:
        i += 1
    return i


def _num(arg: str) -> tuple[int, bool]:
    """C strtol-like: (value, whole string used). A leading quote gives the char code.
    Leading white space, a sign, then `0x` and hex digits, a `0` and octal digits, or
    decimal digits; none of them: 0, not whole. (Read by hand: a regex would load `re`
    with a script's first `printf %d`.)"""
    if arg == "":
        return 0, True
    if arg[:1] in ("'", '"'):
        return (byte_value(arg[1]) if len(arg) > 1 else 0), True
    n = len(arg)
    i = 0
    while i < n and arg[i].isspace():
        i += 1
    sign = arg[i] if i < n and arg[i] in "+-" else ""
    i += len(sign)
    if arg.startswith(("0x", "0X"), i) and (end := _run(arg, i + 2, _HEX)) > i + 2:
        base, body = 16, arg[i + 2:end]
    elif arg.startswith("0", i):
        end = _run(arg, i + 1, "01234567")
        base, body = 8, arg[i:end]
    elif i < n and arg[i] in _DIGITS:
        end = _run(arg, i, _DIGITS)
        base, body = 10, arg[i:end]
    else:
        return 0, False
    body = body.lstrip("0") or "0"
    # (past 64 bits either way, which `_c_range` clamps: no need to convert it all)
    v = int(body, base) if len(body) <= 40 else 1 << 80
    return (-v if sign == "-" else v), end == n


_FLOAT: Final = LazyPattern(
    r"(?i)\s*([+-]?)(?:0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(p[+-]?\d+)?"
    r"|((?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|inf(?:inity)?|nan))")


def _float(arg: str) -> tuple[float, bool]:
    """C strtod-like: (value of the longest numeric prefix, whole string used); a leading
    quote gives the char code."""
    if arg == "":
        return 0.0, True
    if arg[:1] in ("'", '"'):
        return float(byte_value(arg[1]) if len(arg) > 1 else 0), True
    m = _FLOAT.match(arg)
    if m is None:
        return 0.0, False
    sign, hex_digits, hex_exp, dec = m.groups()
    v = float.fromhex("0x" + hex_digits + (hex_exp or "")) if hex_digits else float(dec)
    return (-v if sign == "-" else v), m.end() == len(arg)


def _c_range(v: int, signed: bool) -> tuple[int, bool]:
    """`v` as C's strtoimax (signed) or strtoumax reads it: clamped to the 64-bit range,
    a negative unsigned value taken modulo 2**64; (value, whether it was in range)."""
    if signed:
        clamped = max(-(1 << 63), min(v, (1 << 63) - 1))
        return clamped, clamped == v
    if abs(v) >= 1 << 64:
        return (1 << 64) - 1, False
    return (v + (1 << 64) if v < 0 else v), True


def _c_int(flags: str, width: str | None, prec: str | None, v: int, conv: str) -> str:
    """One integer conversion as C's printf writes it (`cprintf.format_int`); `width`
    and `prec` are digits (or None) by now."""
    w = int(width) if width else None
    p = (int(prec) if prec else 0) if prec is not None else None
    return format_int(v, conv, flags, w, p, v != 0)


def _report_number(report: Callable[[str], None], bad: str | None) -> int:
    """1 after reporting the error for a bad numeric argument, 0 when there is none."""
    if bad is None:
        return 0
    report(f"{bad}: invalid number")
    return 1


class _Bad(str):
    """The message of a format's bad directive, where the format stops."""


if TYPE_CHECKING:
    #: A parsed format's piece: a literal run (escapes done; "%%" is "%"), a bad
    #: directive's message (`_Bad`), or a directive (flags, width, precision, conversion).
    Piece = str | tuple[str, str | None, str | None, str]


@memo(256)
def _parse(fmt: str) -> list[Piece]:
    """A format's pieces, parsed once per text (a loop prints with the same few formats
    again and again)."""
    pieces: list[Piece] = []
    pos = 0
    n = len(fmt)
    while pos < n:
        start = fmt.find("%", pos)
        literal = fmt[pos:start] if start >= 0 else fmt[pos:]
        if literal:
            pieces.append(escapes(literal)[0])
        if start < 0:
            break
        # a directive: %, flags, a width (`*` or digits), a precision (`.`, then `*` or
        # digits), and the one character after them (none at the end of the format)
        i = _run(fmt, start + 1, _FLAGS)
        flags = fmt[start + 1:i]
        width: str | None = None
        if i < n and fmt[i] == "*":
            width, i = "*", i + 1
        elif (end := _run(fmt, i, _DIGITS)) > i:
            width, i = fmt[i:end], end
        prec: str | None = None
        if i < n and fmt[i] == ".":
            i += 1
            if i < n and fmt[i] == "*":
                prec, i = "*", i + 1
            else:
                end = _run(fmt, i, _DIGITS)
                prec, i = fmt[i:end], end
        conv = fmt[i:i + 1]
        pos = i + len(conv)
        directive = fmt[start:pos]
        if directive == "%%":
            pieces.append("%")
        elif conv not in _CONVERSIONS:
            pieces.append(_Bad(f"{directive}: invalid directive" if conv
                               else "missing format character"))
            break
        elif (width and width != "*" and too_wide(width)
              or prec and prec != "*" and too_wide(prec)):
            pieces.append(_Bad(f"{directive}: field width or precision too large"))
            break
        else:
            pieces.append((flags, width, prec, conv))
    return pieces


def printf(fmt: str, args: list[str], report: Callable[[str], None]) -> tuple[str, int]:
    """`printf fmt args`: (the text, the status); `report(message)` writes each error
    (the builtin's `sh: LINE: printf: message`)."""
    pieces = _parse(fmt)
    out: list[str] = []
    status = 0
    i = 0
    first = True
    while first or i < len(args):
        first = False
        used = False
        for piece in pieces:
            if isinstance(piece, str):
                if type(piece) is str:
                    out.append(piece)
                    continue
                # a bad directive (`_Bad`), as dash: what came before is written, then the
                # error ends the command; its status is bash's 1 (dash: 2), as for the
                # other statuses they differ on
                report(piece)
                return "".join(out), 1
            flags, width, prec, conv = piece
            if conv == "s" and not width and prec is None and not flags:  # (plain %s)
                if i < len(args):
                    out.append(args[i])
                    i += 1
                    used = True
                continue
            # a `*` takes a number from the arguments: a negative width left-justifies,
            # a negative precision is none
            if width == "*":
                n, ok = _num(args[i]) if i < len(args) else (0, True)
                i += 1
                status |= _report_number(report, args[i - 1] if not ok else None)
                if abs(n) > MAX_FIELD:  # no field of gigabytes: dash writes none either
                    status |= _report_number(report, args[i - 1])
                    n = 0
                width = str(abs(n))
                if n < 0:
                    flags += "-"
            if prec == "*":
                n, ok = _num(args[i]) if i < len(args) else (0, True)
                i += 1
                status |= _report_number(report, args[i - 1] if not ok else None)
                # (a longer one cuts no text shorter, and pads no number wider than this)
                prec = str(min(n, MAX_FIELD)) if n >= 0 else None
            arg = args[i] if i < len(args) else None
            if arg is not None:
                i += 1
                used = True
            spec = "%" + flags + (width or "") + ("." + prec if prec is not None else "")
            if conv in "diouxX":
                v, ok = _num(arg) if arg is not None else (0, True)
                if not ok:
                    report(f"{arg}: invalid number")
                    status = 1
                v, in_range = _c_range(v, signed=conv in "di")
                if not in_range:
                    report(f"{arg}: Numerical result out of range")
                    status = 1
                out.append(_c_int(flags, width, prec, v, conv))
            elif conv in "eEfFgG":
                fv, ok = _float(arg or "")
                if not ok:
                    report(f"{arg}: invalid number")
                    status = 1
                out.append((spec + conv) % fv)
            elif conv == "c":
                # an empty or missing argument is C's character 0, written as a NUL byte
                out.append((spec + "s") % (arg[:1] if arg else "\0"))
            elif conv == "b":
                text, stop = escapes(arg or "", in_b=True)
                out.append((spec + "s") % text)
                if stop:
                    return "".join(out), status
            else:
                out.append((spec + "s") % (arg or ""))
        if not used:
            break
    return "".join(out), status
