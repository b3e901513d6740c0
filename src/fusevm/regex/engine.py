"""Running translated patterns: leftmost-longest, linear-time matching on RE2.

A `Regex` wraps one RE2 pattern from `fusevm.regex.translate`, compiled with
`longest_match` so every search returns the POSIX leftmost-longest match, on an automaton
that cannot backtrack: `(a*)*b` against any text answers in time linear in the text.
Positions are character offsets into Python strings. Text that fits in Latin-1 (all of
awk's text, most of the shell's) runs on a Latin-1 compilation of the pattern, where byte
and character offsets coincide; other text runs on a UTF-8 compilation. A pattern without
operators is searched with `str.find`, which gives the same answer. A pattern whose every
match contains one of a few literal texts (`Translation.required`) first asks whether the
text holds any of them: most texts a filter sees fail that test, without a call into RE2.
"""

from __future__ import annotations

import functools

from fusevm.regex.translate import (
    SHELL_ERE,
    Dialect,
    RegexError,
    Translation,
    translate_ere,
    translate_pattern,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

__all__ = ["Regex", "Scanner", "Span", "compile_ere", "compile_pattern"]

Span = tuple[int, int]

# RE2's default 8 MiB budget rejects patterns that awk programs do use (long alternations
# of keywords); memory still grows only with the pattern, never with the text.
_MAX_MEM: Final = 64 << 20
_UNUSABLE: Final = object()


def _options(latin1: bool, capture: bool) -> Any:
    options = re2.Options()
    options.longest_match = True
    options.log_errors = False
    options.max_mem = _MAX_MEM
    options.never_capture = not capture
    if latin1:
        options.encoding = re2.Options.Encoding.LATIN1
    return options


# google-re2's Python layer builds a generator and a match object per search, four times
# the cost of the search itself on short records. Its compiled objects wrap the C++ RE2
# (`_regexp`, with `Match(anchor, bytes, pos, endpos)` giving spans); on bytes we call that
# directly when this version of the package has it, and use the public methods otherwise.
# The module (and its C++ library) loads when the first pattern is compiled, by
# `_load_re2`: a program that uses no regex starts without it.
re2: Any = None
_UNANCHORED: Any = None
_ANCHOR_START: Any = None
_ANCHOR_BOTH: Any = None


def _load_re2() -> None:
    global re2, _UNANCHORED, _ANCHOR_START, _ANCHOR_BOTH
    import re2 as module
    anchors = getattr(module, "_Anchor", None)
    _UNANCHORED = getattr(anchors, "UNANCHORED", None)
    _ANCHOR_START = getattr(anchors, "ANCHOR_START", None)
    _ANCHOR_BOTH = getattr(anchors, "ANCHOR_BOTH", None)
    re2 = module


class _Compiled:
    """One RE2 compilation: leftmost-longest search, prefix and whole matches."""

    __slots__ = ("public", "low")

    def __init__(self, public: Any) -> None:
        self.public = public
        low = getattr(public, "_regexp", None)
        usable = _ANCHOR_BOTH is not None and callable(getattr(low, "Match", None))
        self.low: Any = low if usable else None

    def _low(self, anchor: Any, data: bytes, pos: int, end: int) -> Span | None:
        span = self.low.Match(anchor, data, pos, end)[0]
        return None if span[0] < 0 else (span[0], span[1])

    def search(self, data: bytes | str, pos: int = 0) -> Span | None:
        if self.low is not None and type(data) is bytes:
            return self._low(_UNANCHORED, data, pos, len(data))
        m = self.public.search(data, pos)
        return None if m is None else m.span()  # type: ignore[no-any-return]

    def match(self, data: bytes | str, pos: int) -> Span | None:
        if self.low is not None and type(data) is bytes:
            return self._low(_ANCHOR_START, data, pos, len(data))
        m = self.public.match(data, pos)
        return None if m is None else m.span()  # type: ignore[no-any-return]

    def fullmatch(self, data: bytes | str, pos: int, end: int) -> bool:
        if self.low is not None and type(data) is bytes:
            return self._low(_ANCHOR_BOTH, data, pos, end) is not None
        return self.public.fullmatch(data, pos, end) is not None


class Regex:
    """A compiled pattern with POSIX leftmost-longest search."""

    __slots__ = ("source", "literal", "groups", "required", "_label", "_latin1", "_utf8")

    def __init__(self, translation: Translation, label: str) -> None:
        self.source = translation.source
        self.literal = translation.literal
        self.groups = translation.groups
        self.required = translation.required
        self._label = label
        self._utf8: _Compiled | None = None  # compiled on first use beyond Latin-1
        self._latin1: Any = None  # a _Compiled, or _UNUSABLE
        if self.literal is None:
            try:
                self._latin1 = self._compile(True)
            except RegexError:
                # code points above U+00FF in the pattern, or a real error (raised here)
                self._utf8 = self._compile(False)
                self._latin1 = _UNUSABLE

    def _compile(self, latin1: bool) -> _Compiled:
        source = self.source.encode("ascii") if latin1 else self.source
        if re2 is None:
            _load_re2()
        try:
            return _Compiled(re2.compile(source, _options(latin1, self.groups > 0)))
        except re2.error as exc:
            detail = exc.args[0] if exc.args else exc
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            raise RegexError(f"{detail}: {self._label}") from None

    def __repr__(self) -> str:
        return f"Regex({self.source!r})"

    def _engine(self, text: str) -> tuple[_Compiled, bytes | str]:
        """The compiled pattern to run on `text`, and `text` in the form it takes."""
        if self._latin1 is not _UNUSABLE:
            try:
                return self._latin1, text.encode("latin-1")
            except UnicodeEncodeError:
                pass
        if self._utf8 is None:
            self._utf8 = self._compile(False)
        return self._utf8, text

    def _excluded(self, text: str) -> bool:
        """Whether `text` holds none of the literals every match contains (so it cannot
        match anywhere)."""
        required = self.required
        if required is None:
            return False
        for piece in required:
            if piece in text:
                return False
        return True

    def test(self, text: str) -> bool:
        """Whether the pattern matches anywhere in `text`."""
        if self.literal is not None:
            return self.literal in text
        if self._excluded(text):
            return False
        engine, data = self._engine(text)
        return engine.search(data) is not None

    def tester(self, prefilter: bool = True) -> Callable[[str], bool]:
        """`test` as one function, for a pattern tested on many texts (awk's record
        filters): Latin-1 text goes straight to the C++ matcher, with no span built.
        Without `prefilter` it skips the `required` literals test (the caller made it)."""
        lit = self.literal
        if lit is not None:
            def literal_test(text: str) -> bool:
                return lit in text
            return literal_test
        engine = self._latin1
        if engine is _UNUSABLE or engine.low is None:
            return self.test
        low_match = engine.low.Match
        slow = self.test
        pieces = self.required if prefilter else None
        if pieces is not None:

            def filtered(text: str) -> bool:
                for piece in pieces:
                    if piece in text:
                        break
                else:
                    return False  # no literal every match needs: RE2 is not asked
                try:
                    data = text.encode("latin-1")
                except UnicodeEncodeError:
                    return slow(text)
                return low_match(_UNANCHORED, data, 0, len(data))[0][0] >= 0  # type: ignore[no-any-return]
            return filtered

        def test(text: str) -> bool:
            try:
                data = text.encode("latin-1")
            except UnicodeEncodeError:
                return slow(text)
            return low_match(_UNANCHORED, data, 0, len(data))[0][0] >= 0  # type: ignore[no-any-return]
        return test

    def search(self, text: str, pos: int = 0) -> Span | None:
        """(start, end) of the leftmost-longest match at or after `pos`, or None.

        Anchors keep their meaning for the whole text: `^` never matches at `pos` > 0.
        """
        if self.literal is not None:
            start = text.find(self.literal, pos)
            return None if start < 0 else (start, start + len(self.literal))
        if self._excluded(text):
            return None
        engine, data = self._engine(text)
        return engine.search(data, pos)

    def match(self, text: str, pos: int = 0) -> Span | None:
        """The longest match starting exactly at `pos`, or None."""
        if self.literal is not None:
            if text.startswith(self.literal, pos):
                return pos, pos + len(self.literal)
            return None
        engine, data = self._engine(text)
        return engine.match(data, pos)

    def fullmatch(self, text: str, pos: int = 0, endpos: int | None = None) -> bool:
        """Whether the pattern matches all of `text[pos:endpos]`."""
        end = len(text) if endpos is None else endpos
        if self.literal is not None:
            return text[pos:end] == self.literal
        engine, data = self._engine(text)
        return engine.fullmatch(data, pos, end)

    def search_groups(self, text: str) -> list[str | None] | None:
        """The leftmost-longest match and its parenthesised groups (None for a group
        that took no part), or None without a match."""
        if self.literal is not None:
            return [self.literal] if self.literal in text else None
        engine, data = self._engine(text)
        m = engine.public.search(data)
        if m is None:
            return None
        spans = [m.span(i) for i in range(self.groups + 1)]
        return [None if s < 0 else text[s:e] for s, e in spans]

    def scanner(self, text: str) -> Scanner:
        """Repeated searches in one text, converting it once."""
        return Scanner(self, text)


class Scanner:
    """Searches of one Regex over one text (gsub, split and record reading loop on it)."""

    __slots__ = ("text", "_data", "_engine", "_find", "_low", "_end", "_none")

    def __init__(self, regex: Regex, text: str) -> None:
        self.text = text
        self._find: str | None = regex.literal
        self._low: Any = None
        self._end = 0
        self._none = regex._excluded(text)  # no match anywhere: every search is None
        if self._find is None and not self._none:
            self._engine, self._data = regex._engine(text)
            if self._engine.low is not None and type(self._data) is bytes:
                self._low = self._engine.low.Match
                self._end = len(self._data)

    def search(self, pos: int) -> Span | None:
        """(start, end) of the leftmost-longest match at or after `pos`, or None."""
        low = self._low
        if low is not None:
            span = low(_UNANCHORED, self._data, pos, self._end)[0]
            return None if span[0] < 0 else (span[0], span[1])
        if self._none:
            return None
        if self._find is not None:
            start = self.text.find(self._find, pos)
            return None if start < 0 else (start, start + len(self._find))
        return self._engine.search(self._data, pos)


@functools.lru_cache(maxsize=1024)
def compile_ere(ere: str, dialect: Dialect = SHELL_ERE) -> Regex:
    """The compiled form of a POSIX ERE (cached); raises RegexError."""
    return Regex(translate_ere(ere, dialect), f"/{ere}/")


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str, path_mode: bool = False) -> Regex:
    """The compiled form of a shell pattern (cached); match it with `fullmatch`."""
    return Regex(translate_pattern(pattern, path_mode), repr(pattern))
