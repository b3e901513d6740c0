"""The POSIX bracket classes (`[:alpha:]` and friends): the project's one table of them.

Each class is a set of code point ranges for the C locale (ASCII, what awk uses) plus what
a Unicode locale adds (what the shell's patterns use, as bash does in a UTF-8 locale).
Unicode additions are RE2 property escapes or ranges; the translators in this package turn
both into RE2 bracket items. `word` is bash's extension (`[[:word:]]`, alnum plus `_`).
"""

from __future__ import annotations

from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class PosixClass:
    """One bracket class: its C-locale ranges and its Unicode-locale additions."""

    ascii: tuple[Range, ...]
    wide_properties: tuple[str, ...] = ()
    wide_ranges: tuple[Range, ...] = ()

    def ranges(self, unicode: bool) -> tuple[Range, ...]:
        return self.ascii + self.wide_ranges if unicode else self.ascii

    def properties(self, unicode: bool) -> tuple[str, ...]:
        return self.wide_properties if unicode else ()


def _r(*spans: str) -> tuple[Range, ...]:
    """Ranges from two-character strings ("az" is a-z) or single characters."""
    return tuple((ord(s[0]), ord(s[-1])) for s in spans)


_UPPER: Final = _r("AZ")
_LOWER: Final = _r("az")
_DIGIT: Final = _r("09")
# Above Latin-1's C1 controls, every code point counts as printable in a Unicode locale
# (unassigned and format characters included: bash's glibc tables differ only in corners).
_WIDE_PRINT: Final = ((0xA0, 0x10FFFF),)

CLASSES: Final[dict[str, PosixClass]] = {
    "alpha": PosixClass(_UPPER + _LOWER, ("\\pL",)),
    "digit": PosixClass(_DIGIT),
    "alnum": PosixClass(_DIGIT + _UPPER + _LOWER, ("\\pL", "\\pN")),
    "upper": PosixClass(_UPPER, ("\\p{Lu}",)),
    "lower": PosixClass(_LOWER, ("\\p{Ll}",)),
    "space": PosixClass(_r("\t\r", " ")),
    "blank": PosixClass(_r("\t", " ")),
    "punct": PosixClass(_r("!/", ":@", "[`", "{~")),
    "print": PosixClass(_r(" ~"), wide_ranges=_WIDE_PRINT),
    "graph": PosixClass(_r("!~"), wide_ranges=((0xA1, 0x10FFFF),)),
    "cntrl": PosixClass(((0, 0x1F), (0x7F, 0x7F))),
    "xdigit": PosixClass(_DIGIT + _r("AF", "af")),
    "word": PosixClass(_DIGIT + _UPPER + _LOWER + _r("_"), ("\\pL", "\\pN")),
}
