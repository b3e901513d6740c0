"""awk's escape sequences (`\\n`, `\\ooo`, `\\xHH`, ...) in string literals, EREs and
command-line assignments: one decoder for the lexer, the regex dialect and `-v`.

A module of its own so that the regex dialect and the command line use it without the
lexer, which a program read from the compile cache never needs.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

_SIMPLE_ESCAPES: Final[dict[str, str]] = {
    "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "a": "\a",
    "\\": "\\", '"': '"', "/": "/",
}  # fmt: skip

_OCTAL_DIGITS: Final = "01234567"
_HEX_DIGITS: Final = "0123456789abcdefABCDEF"


def decode_escape(text: str, index: int) -> tuple[str, int]:
    """Decode the escape whose backslash is at `index`; returns (chars, next index).

    Octal `\\ooo` takes up to three digits. Hex `\\xHH` takes one or two digits, as gawk
    and onetrue-awk accept outside POSIX mode (`\\x` with no digit is `x`). An unknown
    `\\c` yields `c` (both reference awks drop the backslash). A trailing lone backslash
    stays a backslash.
    """
    if index + 1 >= len(text):
        return "\\", index + 1
    ch = text[index + 1]
    simple = _SIMPLE_ESCAPES.get(ch)
    if simple is not None:
        return simple, index + 2
    if ch in _OCTAL_DIGITS:
        end = index + 1
        while end < len(text) and end < index + 4 and text[end] in _OCTAL_DIGITS:
            end += 1
        return chr(int(text[index + 1 : end], 8) & 0xFF), end
    if ch == "x":
        end = index + 2
        while end < len(text) and end < index + 4 and text[end] in _HEX_DIGITS:
            end += 1
        if end > index + 2:
            return chr(int(text[index + 2 : end], 16)), end
    return ch, index + 2
