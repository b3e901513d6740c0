"""The shell's characters: how bytes (files, pipes, arguments, the environment, directory
entries) become the str the shell works on, per the locale the shell started in.

In the C or POSIX locale a character is a byte (XCU 2.2, and what dash always does): bytes
decode as ASCII with `surrogateescape`, so every byte past 0x7F is one lone surrogate
(U+DC80..U+DCFF), and `${#x}`, `?`, `%.2s`, IFS and `read` count bytes. Those surrogates are
what Python's file-system encoding writes back as the very bytes, so `os` calls, `execve`
and the `utf-8`/`surrogateescape` encoders the shell writes with need no change. In any
other locale bytes decode as UTF-8 (a byte that is no UTF-8 becomes a surrogate).

Strings Python decoded itself (`sys.argv`, `os.environ`, `os.getcwd`, `os.scandir` names)
are in UTF-8 form and go through `from_os` once. Pattern matching runs on RE2's Latin-1
mode: `matchable` maps each byte's surrogate to the Latin-1 character of the same number,
one character for one, so match positions index the original string.

The locale is the process's, decided once by `use_locale` at start-up (as `setlocale`
would be); until then the UTF-8 form applies.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Final

__all__ = ["byte_char", "byte_mode", "byte_value", "decode", "from_os", "matchable",
           "use_locale"]

#: Whether a character is a byte (the C/POSIX locale); set by `use_locale`.
byte_mode = False
_ENCODING = "utf-8"
#: Surrogates of bytes 0x80..0xFF to the Latin-1 characters of those numbers.
_TO_LATIN1: Final = {0xDC00 + b: b for b in range(0x80, 0x100)}
#: The same surrogates to private-use characters, for UTF-8 text (`matchable`).
_TO_PRIVATE: Final = {0xDC00 + b: 0xF700 + b for b in range(0x80, 0x100)}


def use_locale(env: Mapping[str, str]) -> None:
    """Decide how bytes are read from the locale variables in `env` (LC_ALL, then LC_CTYPE,
    then LANG): bytes in the C or POSIX locale (or none named), UTF-8 otherwise. (With
    none named, CPython has already set LC_CTYPE=C.UTF-8 unless told not to, PEP 538.)"""
    global byte_mode, _ENCODING
    name = env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or "C"
    byte_mode = name in ("C", "POSIX")
    _ENCODING = "ascii" if byte_mode else "utf-8"


def decode(data: bytes) -> str:
    """Bytes read from a file, pipe or terminal as the shell's text."""
    return data.decode(_ENCODING, "surrogateescape")


def from_os(text: str) -> str:
    """A str Python decoded with the file-system encoding (arguments, environment, file
    names, the working directory) in the shell's form."""
    if not byte_mode or text.isascii():
        return text
    return os.fsencode(text).decode("ascii", "surrogateescape")


def matchable(text: str) -> str:
    """`text` as RE2 can match it, one character for one (patterns and subjects alike): in
    byte mode each byte's surrogate becomes the Latin-1 character of that byte (RE2's
    Latin-1 mode); in UTF-8 a byte that is no UTF-8 becomes a private-use character (RE2
    takes no surrogates), which `?` matches as one character, as bash does."""
    if text.isascii():
        return text
    if byte_mode:
        return text.translate(_TO_LATIN1)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.translate(_TO_PRIVATE)
    return text


def byte_char(n: int) -> str:
    """Byte `n` as text (`printf '\\377'`, `echo '\\0377'`): ASCII as itself, any other
    as the surrogate that writes that very byte."""
    return chr(n) if n < 0x80 else chr(0xDC00 + n)


def byte_value(char: str) -> int:
    """The number of a character (`printf %d "'x"`): a byte in byte mode, else a code
    point."""
    code = ord(char)
    return code - 0xDC00 if byte_mode and 0xDC80 <= code <= 0xDCFF else code
