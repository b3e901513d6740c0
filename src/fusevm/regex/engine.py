"""Running translated patterns: leftmost-longest, linear-time matching on RE2.

A `Regex` wraps one RE2 pattern from `fusevm.regex.translate`, compiled with
`longest_match` so every search returns the POSIX leftmost-longest match, on an automaton
that cannot backtrack: `(a*)*b` against any text answers in time linear in the text.
Positions are character offsets into Python strings. Text that fits in Latin-1 (all of
awk's text, most of the shell's) runs on a Latin-1 compilation of the pattern, where byte
and character offsets coincide; other text runs on a UTF-8 compilation. A pattern without
operators is searched with `str.find`, which gives the same answer, and a shell pattern
matched whole (`-*`, `*.sh`, `-[hv]`) is matched as runs of one-character atoms around its
stars (`stars`), so a script's `case` or file name pattern needs no RE2.

Whether a pattern matches anywhere (awk's `/re/` rules, `~`, `!~`) needs no span: `test`
first asks str methods about the literal runs each top-level branch needs
(`Translation.branches`: `startswith` for a run after `^`, `endswith` for one before `$`,
`in` for the others). For a plain shape (`lit`, `^lit`, `lit$`, `^lit$`, and alternations
of them) those tests are the answer, and RE2 is not even compiled until a search needs a
span; otherwise a text failing them cannot match, and only the rest reach RE2, as Latin-1
bytes passed straight to the C++ `RE2::Match`: the binding's Python wrapper costs about
twice that (a generator and a match object per search, and `str` texts copied to UTF-8),
and its `Set.Match`, a little cheaper, answers "no match" when its DFA runs out of memory.

A call into RE2 costs about half a microsecond of binding however short the text, so the
lines of a block (awk's record loop) that pass the str tests are confirmed together
(`Regex.block_scanner`): joined by newlines, they are matched against the pattern's line
mode (`translate_ere_lines`: nothing crosses a newline, `^` and `$` at each line's ends)
repeated line by line, and one anchored call takes the whole run of lines that match up
to the first that does not: a call per line that fails, not per line tested.
"""

from __future__ import annotations

from itertools import islice

from fusevm.ahead import function
from fusevm.memo import Memo
from fusevm.regex.stars import star_match
from fusevm.regex.translate import (
    SHELL_ERE,
    Branch,
    Dialect,
    RegexError,
    Translation,
    translate_ere,
    translate_ere_lines,
    translate_pattern,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

    #: `Regex.block_scanner()`'s function: (a list of lines, an index k) to the
    #: indices from k on of the lines the pattern matches somewhere in, ascending
    BlockScan = Callable[[list[str], int], list[int]]

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


def load_backend() -> None:
    """Load the regex library now rather than with the first pattern compiled (for a
    process about to be left without descriptors to load it with)."""
    if re2 is None:
        _load_re2()


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


def _condition(branches: tuple[Branch, ...]) -> tuple[str | None, tuple[str, ...]]:
    """(a Python expression over `t`, false only for texts the pattern matches nowhere in,
    or None; the literals it names) for a pattern's top-level branches. Per branch, `and`
    of str tests of its literals (`startswith` for a run tied to the start, `endswith` for
    one tied to the end, `in` for the others, longest first); `or` between branches. When
    the pattern is exact (`Regex.exact`: every branch is nothing but its literals) it is
    true just for the texts the pattern matches somewhere in. The expression names the
    literals L0, L1, ...: its text depends only on the pattern's shape, so patterns of one
    shape share one compiled function (`fusevm.ahead.function`)."""
    if not branches:
        return None, ()
    literals: list[str] = []

    def name(text: str) -> str:
        literals.append(text)
        return f"L{len(literals) - 1}"

    terms = []
    for b in branches:
        tests = []
        if b.exact and b.head is not None and b.tail is not None:
            tests.append(f"t == {name(b.head)}")
        else:
            if b.head is not None and (b.head or b.exact):
                tests.append(f"t.startswith({name(b.head)})")
            if b.tail is not None and (b.tail or b.exact):
                tests.append(f"t.endswith({name(b.tail)})")
            runs = sorted(b.runs, key=len, reverse=True)
            tests.extend(f"{name(run)} in t" for run in runs[: 1 if b.exact else 3])
        if not tests:
            return None, ()  # a branch that needs no literal: no test rules out a text
        terms.append(" and ".join(tests))
    if len(terms) == 1:
        return terms[0], tuple(literals)
    return " or ".join(f"({term})" for term in terms), tuple(literals)


class Regex:
    """A compiled pattern with POSIX leftmost-longest search."""

    __slots__ = ("source", "literal", "groups", "required", "branches", "exact", "_label",
                 "_latin1", "_utf8", "_tester", "_block", "_tests", "_lines", "_stars",
                 "_star_slash")

    def __init__(self, translation: Translation, label: str,
                 lines: Callable[[], str | None] | None = None) -> None:
        self.source = translation.source
        self.literal = translation.literal
        self.groups = translation.groups
        self.required = translation.required
        self.branches = translation.branches
        #: Whether str tests of the branches' literals are the whole test (`_condition`):
        #: `test` then never needs RE2.
        self.exact = bool(self.branches) and all(b.exact for b in self.branches)
        self._label = label
        self._tester: Callable[[str], bool] | None = None
        self._block: BlockScan | None = None
        #: The pattern's line-mode RE2 text, when asked (`translate_ere_lines`)
        self._lines = lines
        self._tests = 0  # calls of `test` before its tester was made
        self._utf8: _Compiled | None = None  # compiled on first use beyond Latin-1
        self._latin1: Any = None  # a _Compiled, or _UNUSABLE; None until first needed
        #: A shell pattern's runs around its stars: `fullmatch` needs no RE2 for it
        #: (`stars.star_match`), but for a character above ASCII against a class.
        self._stars = translation.star_runs
        self._star_slash = translation.star_slash
        if self.literal is None and not self.exact and self._stars is None:
            self._prepare()  # (an exact condition's pattern is plain: RE2 takes it later)

    def _prepare(self) -> None:
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
        if self._latin1 is None:
            self._prepare()
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
        tester = self._tester
        if tester is not None:
            return tester(text)
        self._tests += 1
        if self._tests > 2 or self.exact:
            # Tested again and again: worth its generated tester. An exact condition's
            # tester is str tests alone (made per shape, shared), and needs no RE2.
            return self.tester()(text)
        # a pattern tested once or twice (a dynamic regex) is not worth generating code
        if self.literal is not None:
            return self.literal in text
        if self._excluded(text):
            return False
        return self._test_engine(text)

    def tester(self) -> Callable[[str], bool]:
        """`test` as one function, for a pattern tested on many texts (awk's record
        filters): the literal tests of `_condition` first (alone when they are exact),
        then Latin-1 text straight to the C++ matcher, with no span built."""
        return self._made()[0]

    def block_scanner(self) -> BlockScan:
        """`scan(block, k)`: the indices from k on of the lines of the list `block` that
        the pattern matches somewhere in, ascending (awk's record loop over a block of
        input: a list the loop walks costs a match less than a generator's resumption).
        For a pattern RE2 decides, the lines that pass the literal tests are joined and
        searched for runs of lines that each hold a match (`_runs`): one RE2 call per
        line that holds none, not one per line tested."""
        return self._made()[1]

    def _made(self) -> tuple[Callable[[str], bool], BlockScan]:
        """(tester(), block_scanner()), made at the first call."""
        tester, block = self._tester, self._block
        if tester is None or block is None:
            tester, block = self._tester, self._block = self._make()
        return tester, block

    def _runs(self) -> Any:
        """`_matching_lines` for this pattern, or None: the low-level RE2 call of
        `(?:[^\\n]*(?:P)[^\\n]*\\n)*` for P its line-mode text, which from the start of
        a line matches all the lines after it that hold a match, up to one that holds
        none. None without a line-mode text, a Latin-1 compilation, or the binding's
        low-level call."""
        engine = self._latin1
        if self._lines is None or engine is _UNUSABLE or engine is None or engine.low is None:
            return None
        try:
            line = self._lines()
        except RegexError:
            return None
        if line is None:
            return None
        source = f"(?:[^\\x{{a}}]*(?:{line})[^\\x{{a}}]*\\x{{a}})*"
        try:
            runs = re2.compile(source.encode("ascii"), _options(True, False))
        except re2.error:
            return None
        return _matching_lines(runs._regexp.Match, self._test_engine)

    def _make(self) -> tuple[Callable[[str], bool], BlockScan]:
        """Generate `tester()` and `block_scanner()` for this pattern, from one source: the
        condition's str tests written out, the call into RE2 only where needed."""
        env: dict[str, Any] = {"U": _UNANCHORED, "slow": self._test_engine,
                               "islice": islice,
                               "enumerate": enumerate}
        if self.literal is not None:
            cond: str | None = "L0 in t"
            env["L0"] = self.literal
        else:
            cond, literals = _condition(self.branches)
            env.update((f"L{i}", text) for i, text in enumerate(literals))
        exact = self.literal is not None or self.exact
        engine = self._latin1
        low = not exact and engine is not _UNUSABLE and engine.low is not None
        if low:
            env["low"] = engine.low.Match
        # the RE2 call, for the texts that pass the str tests (all, without them): Latin-1
        # bytes straight to the C++ matcher, other text through the public methods
        call = ["try:", "    d = t.encode('latin-1')", "except UnicodeEncodeError:",
                "    hit = slow(t)", "else:", "    hit = low(U, d, 0, len(d))[0][0] >= 0"] \
            if low else ["hit = slow(t)"]
        lines = []
        if not exact:
            lines += ["def engine(t):", *(f"    {line}" for line in call), "    return hit"]
        test = cond if exact else "engine(t)" if cond is None else f"({cond}) and engine(t)"
        lines += ["def test(t):", f"    return {test}"]
        # the block scan: the indices from k on of the lines that pass the tests, one
        # comprehension (over the whole block when k is 0, the usual start)
        runs = None if exact else self._runs()
        if runs is not None:
            env["runs"] = runs
            # the lines that pass the str tests, then those of them that hold a match
            kept = "list(range(k, len(block)))" if cond is None else \
                f"[j for j, t in numbered if {cond}]"
            found = f"runs(block, {kept})"
        else:
            found = f"[j for j, t in numbered if {test}]"
        lines += ["def scan_block(block, k):",
                  "    numbered = enumerate(islice(block, k, None), k) if k else enumerate(block)",
                  f"    return {found}"]
        source = "\n".join(lines) + "\n"
        if not exact:
            env["engine"] = function(source, env, "engine")
        tester = env["engine"] if not exact and cond is None else function(source, env, "test")
        return tester, function(source, env, "scan_block")

    def _test_engine(self, text: str) -> bool:
        """Whether RE2 finds a match anywhere in `text` (no literal tests first)."""
        engine, data = self._engine(text)
        return engine.search(data) is not None

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
        if self._stars is not None:
            found = star_match(self._stars, self._star_slash,
                               text if pos == 0 and end == len(text) else text[pos:end])
            if found is not None:
                return found
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


def _matching_lines(match: Any, test: Callable[[str], bool]
                    ) -> Callable[[list[str], list[int]], list[int]]:
    """`runs(block, found)`: those of the lines `block[j]` for j in `found` (ascending)
    that the pattern matches in, given `match`, the low-level call of its run pattern
    (`Regex._runs`): the lines joined (newline-terminated, as Latin-1 bytes), one
    anchored call gives the run of matching lines from a line's start; the line after it
    matches nowhere, and the next call starts past it. Text beyond Latin-1 goes to
    `test` line by line."""
    def runs(block: list[str], found: list[int]) -> list[int]:
        if not found:
            return found
        try:
            data = "\n".join([block[j] for j in found]).encode("latin-1") + b"\n"
        except UnicodeEncodeError:
            return [j for j in found if test(block[j])]
        out: list[int] = []
        pos = i = 0
        count = data.count
        end = len(data)
        n = len(found)
        while True:
            stop = match(_ANCHOR_START, data, pos, end)[0][1]
            got = count(b"\n", pos, stop) if stop > pos else 0
            out += found[i : i + got]
            i += got + 1  # past the run and the line ending it, which holds no match
            if i >= n:
                return out
            pos = stop + len(block[found[i - 1]]) + 1 if stop > pos else \
                pos + len(block[found[i - 1]]) + 1
    return runs


class Scanner:
    """Searches and matches of one Regex over one text, converted once (gsub, split and
    record reading loop on it; the shell's `${v#p}` family tries cut after cut)."""

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
            span = low(_UNANCHORED, self._data, pos, self._end)[0]  # a (start, end) tuple
            return None if span[0] < 0 else span  # type: ignore[no-any-return]
        if self._none:
            return None
        if self._find is not None:
            start = self.text.find(self._find, pos)
            return None if start < 0 else (start, start + len(self._find))
        return self._engine.search(self._data, pos)

    def match(self, pos: int) -> Span | None:
        """(pos, end) of the longest match starting exactly at `pos`, or None."""
        low = self._low
        if low is not None:
            span = low(_ANCHOR_START, self._data, pos, self._end)[0]
            return None if span[0] < 0 else span  # type: ignore[no-any-return]
        if self._none:
            return None
        if self._find is not None:
            found = self._find
            return (pos, pos + len(found)) if self.text.startswith(found, pos) else None
        return self._engine.match(self._data, pos)

    def fullmatch(self, pos: int, end: int) -> bool:
        """Whether the pattern matches all of the text's [pos, end)."""
        low = self._low
        if low is not None:
            return low(_ANCHOR_BOTH, self._data, pos, end)[0][0] >= 0  # type: ignore[no-any-return]
        if self._none:
            return False
        if self._find is not None:
            return self.text[pos:end] == self._find
        return self._engine.fullmatch(self._data, pos, end)


def compile_ere(ere: str, dialect: Dialect = SHELL_ERE) -> Regex:
    """The compiled form of a POSIX ERE (cached); raises RegexError."""
    found: Regex = _ERES[ere, dialect]
    return found


def compile_pattern(pattern: str, path_mode: bool = False, unicode: bool = True) -> Regex:
    """The compiled form of a shell pattern (cached); match it with `fullmatch`. Its bracket
    classes are the C locale's (ASCII) unless `unicode`."""
    found: Regex = _PATTERNS[pattern, path_mode, unicode]
    return found


# The caches, by (text, dialect or path mode): `fusevm.memo` tables, not functools.
_ERES: Final = Memo(lambda key: Regex(translate_ere(*key), f"/{key[0]}/",
                                      lambda: translate_ere_lines(*key)), 1024)
_PATTERNS: Final = Memo(lambda key: Regex(translate_pattern(*key), repr(key[0])), 512)
