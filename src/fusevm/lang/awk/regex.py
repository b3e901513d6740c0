"""POSIX EREs as awk uses them, on top of Python's `re`: translation, matching, sub/gsub.

`ere_to_python` rewrites an awk ERE (regex literal text or a dynamic regex string) into
an equivalent `re` pattern: awk escapes (`\\n`, `\\/`, `\\ddd`, `\\xHH`) become literals, and
any other escaped character is itself; bracket expressions take `[:class:]` (ASCII, the
C locale), `[.c.]`, `[=c=]`, a leading `]`, `-` at either end, and backslash escapes; `.`
matches newline too; `^` and `$` anchor only at the ends of the string; `{n,m}` intervals
are gawk's (`{,m}` is `{0,m}`; a `{` that opens no valid interval is literal); stacked
quantifiers (`a**`, `a?*`) are grouped so Python cannot read them as lazy or possessive.
An unmatched `)` is literal, as in both reference awks; an unmatched `(` or `[`, a
quantifier with nothing before it, a bad class name or `{2,1}` raise AwkRegexError.

Matching is Python's leftmost-first, not POSIX leftmost-longest. `AwkRegex.search`
repairs the common difference, an alternation whose branches differ in length
(`/ab|abcd/`), by extending the leftmost match to the longest one at that start.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from fusevm.lang.awk.errors import AwkRegexError
from fusevm.lang.awk.lexer import decode_escape

_CLASSES: Final[dict[str, str]] = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "punct": "!-/:-@\\[-`{-~",
    "print": " -~",
    "graph": "!-~",
    "cntrl": "\\x00-\\x1f\\x7f",
    "xdigit": "0-9A-Fa-f",
}

# Escaping these inside a Python class also avoids its "possible set operation" warnings.
_CLASS_SPECIAL: Final = frozenset("\\]^-[&~|")

# Beyond this many characters past Python's match, leftmost-longest is not attempted.
_LONGEST_WINDOW: Final = 4096


@dataclass(frozen=True, slots=True)
class _Piece:
    """A translated sub-expression with its match-width bounds (max None: unbounded)."""

    text: str
    min_width: int
    max_width: int | None
    quantified: bool = False
    anchor: bool = False


def _width_add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


class _Translator:
    """One ERE to one Python pattern, by recursive descent over the ERE grammar."""

    def __init__(self, ere: str) -> None:
        self.ere = ere
        self.pos = 0
        self.uneven_alternation = False
        self.end_anchor = False

    def fail(self, detail: str) -> AwkRegexError:
        return AwkRegexError(f"{detail}: /{self.ere}/")

    def translate(self) -> _Piece:
        piece = self.alternation(0)
        assert self.pos == len(self.ere)
        return piece

    def alternation(self, depth: int) -> _Piece:
        branches = [self.concatenation(depth)]
        while self.pos < len(self.ere) and self.ere[self.pos] == "|":
            self.pos += 1
            branches.append(self.concatenation(depth))
        if len(branches) == 1:
            return branches[0]
        widths = {(b.min_width, b.max_width) for b in branches}
        if len(widths) > 1:
            self.uneven_alternation = True
        maxima = [b.max_width for b in branches]
        return _Piece(
            "|".join(b.text for b in branches),
            min(b.min_width for b in branches),
            None if None in maxima else max(m for m in maxima if m is not None),
        )

    def concatenation(self, depth: int) -> _Piece:
        ere = self.ere
        parts: list[_Piece] = []
        while self.pos < len(ere):
            ch = ere[self.pos]
            if ch == "|" or (ch == ")" and depth > 0):
                break
            if ch in "*+?" or (ch == "{" and parts and self._interval_ahead()):
                if not parts:
                    raise self.fail("Invalid preceding regular expression")
                if parts[-1].anchor:
                    # `^*`: nothing to repeat; onetrue-awk reads the `*` literally
                    parts.append(self._literal(ch))
                    self.pos += 1
                    continue
                parts[-1] = self._quantify(parts[-1])
                continue
            parts.append(self.atom(depth))
        text = "".join(p.text for p in parts)
        low = sum(p.min_width for p in parts)
        high: int | None = 0
        for p in parts:
            high = _width_add(high, p.max_width)
        return _Piece(text, low, high)

    def _interval_ahead(self) -> bool:
        return re.match(r"\{([0-9]*)(,([0-9]*))?\}", self.ere[self.pos :]) is not None and (
            self.ere[self.pos : self.pos + 2] != "{}"
        )

    def _quantify(self, piece: _Piece) -> _Piece:
        ere = self.ere
        ch = ere[self.pos]
        if piece.quantified:
            # `a**` or `a?*`: Python would read these as possessive or lazy
            piece = _Piece(f"(?:{piece.text})", piece.min_width, piece.max_width)
        if ch == "*":
            self.pos += 1
            return _Piece(piece.text + "*", 0, 0 if piece.max_width == 0 else None, True)
        if ch == "+":
            self.pos += 1
            plus_max = 0 if piece.max_width == 0 else None
            return _Piece(piece.text + "+", piece.min_width, plus_max, True)
        if ch == "?":
            self.pos += 1
            return _Piece(piece.text + "?", 0, piece.max_width, True)
        m = re.match(r"\{([0-9]*)(,([0-9]*))?\}", ere[self.pos :])
        assert m is not None
        self.pos += m.end()
        low = int(m.group(1) or "0")
        high: int | None
        if m.group(2) is None:
            high = low
            quantifier = f"{{{low}}}"
        elif m.group(3):
            high = int(m.group(3))
            quantifier = f"{{{low},{high}}}"
        else:
            high = None
            quantifier = f"{{{low},}}"
        if high is not None and high < low:
            raise self.fail("Invalid content of \\{\\}")
        max_width = None if high is None or piece.max_width is None else piece.max_width * high
        return _Piece(piece.text + quantifier, piece.min_width * low, max_width, True)

    def _literal(self, ch: str) -> _Piece:
        return _Piece(re.escape(ch), 1, 1)

    def atom(self, depth: int) -> _Piece:
        ere = self.ere
        ch = ere[self.pos]
        if ch == "(":
            self.pos += 1
            inner = self.alternation(depth + 1)
            if self.pos >= len(ere) or ere[self.pos] != ")":
                raise self.fail("Unmatched ( or \\(")
            self.pos += 1
            return _Piece(f"(?:{inner.text})", inner.min_width, inner.max_width)
        if ch == "[":
            return self.bracket()
        if ch == ".":
            self.pos += 1
            return _Piece("(?s:.)", 1, 1)
        if ch == "^":
            self.pos += 1
            return _Piece("^", 0, 0, anchor=True)
        if ch == "$":
            self.pos += 1
            self.end_anchor = True
            return _Piece("\\Z", 0, 0, anchor=True)
        if ch == "\\":
            decoded, self.pos = decode_escape(ere, self.pos)
            return self._literal(decoded)
        self.pos += 1
        return self._literal(ch)  # includes an unmatched `)` and a stray `{` or `}`

    # -- bracket expressions -------------------------------------------------

    def bracket(self) -> _Piece:
        ere = self.ere
        n = len(ere)
        self.pos += 1
        negate = self.pos < n and ere[self.pos] == "^"
        if negate:
            self.pos += 1
        members: list[str] = []
        first = True
        while True:
            if self.pos >= n:
                raise self.fail("Unmatched [, [^, [:, [., or [=")
            ch = ere[self.pos]
            if ch == "]" and not first:
                self.pos += 1
                break
            first = False
            if ch == "[" and ere[self.pos + 1 : self.pos + 2] in (":", ".", "="):
                members.append(self._bracket_special())
                continue
            low = self._bracket_char()
            if self.pos + 1 < n and ere[self.pos] == "-" and ere[self.pos + 1] != "]":
                self.pos += 1
                high = self._bracket_char()
                if ord(high) >= ord(low):
                    members.append(f"{_class_escape(low)}-{_class_escape(high)}")
                # a reversed range matches nothing (gawk rejects it, onetrue-awk ignores it)
                continue
            members.append(_class_escape(low))
        body = "".join(members)
        if not body:
            return _Piece("(?s:.)" if negate else "(?!)", 1, 1)
        return _Piece(f"[{'^' if negate else ''}{body}]", 1, 1)

    def _bracket_char(self) -> str:
        ere = self.ere
        if ere[self.pos] == "\\" and self.pos + 1 < len(ere):
            decoded, self.pos = decode_escape(ere, self.pos)
            return decoded
        ch = ere[self.pos]
        self.pos += 1
        return ch

    def _bracket_special(self) -> str:
        """`[:class:]`, `[.c.]` or `[=c=]` inside a bracket expression."""
        ere = self.ere
        kind = ere[self.pos + 1]
        close = ere.find(kind + "]", self.pos + 2)
        if close < 0:
            raise self.fail("Unmatched [, [^, [:, [., or [=")
        name = ere[self.pos + 2 : close]
        self.pos = close + 2
        if kind == ":":
            cls = _CLASSES.get(name)
            if cls is None:
                raise self.fail("Invalid character class name")
            return cls
        if len(name) != 1:
            raise self.fail("Invalid collation character")
        return _class_escape(name)


def _class_escape(ch: str) -> str:
    return "\\" + ch if ch in _CLASS_SPECIAL else ch


@dataclass(frozen=True, slots=True)
class _Translation:
    pattern: str
    min_width: int
    max_width: int | None
    needs_longest: bool
    end_anchor: bool


@functools.lru_cache(maxsize=1024)
def _translate(ere: str) -> _Translation:
    translator = _Translator(ere)
    piece = translator.translate()
    return _Translation(
        piece.text,
        piece.min_width,
        piece.max_width,
        translator.uneven_alternation,
        translator.end_anchor,
    )


def ere_to_python(ere: str) -> str:
    """The Python `re` pattern equivalent to an awk ERE (cached); raises AwkRegexError."""
    return _translate(ere).pattern


class AwkRegex:
    """A compiled awk ERE with awk's search semantics."""

    __slots__ = ("ere", "compiled", "plain_subst", "_needs_longest", "_max_width", "_end_anchor")

    def __init__(self, ere: str) -> None:
        translation = _translate(ere)
        self.ere = ere
        try:
            self.compiled = re.compile(translation.pattern)
        except re.error as exc:  # pragma: no cover - the translator should prevent this
            raise AwkRegexError(f"{exc}: /{ere}/") from exc
        self._needs_longest = translation.needs_longest
        # Python's own sub() agrees with awk's gsub when no match can be empty (the
        # empty-match rules differ) and Python's leftmost match is already the longest.
        self.plain_subst = translation.min_width > 0 and not translation.needs_longest
        self._max_width = translation.max_width
        self._end_anchor = translation.end_anchor

    def __repr__(self) -> str:
        return f"AwkRegex({self.ere!r})"

    def test(self, text: str) -> bool:
        """Whether the ERE matches anywhere in `text` (the `~` operator)."""
        return self.compiled.search(text) is not None

    def search(self, text: str, pos: int = 0) -> tuple[int, int] | None:
        """(start, end) of the leftmost match at or after `pos`, or None.

        `^` still means the start of `text`, not `pos`, so gsub's later searches cannot
        match it again.
        """
        m = self.compiled.search(text, pos)
        if m is None:
            return None
        start, end = m.span()
        if self._needs_longest:
            end = self._longest_end(text, start, end)
        return start, end

    def _longest_end(self, text: str, start: int, end: int) -> int:
        limit = len(text)
        if self._max_width is not None:
            limit = min(limit, start + self._max_width)
        limit = min(limit, end + _LONGEST_WINDOW)
        fullmatch = self.compiled.fullmatch
        for candidate in range(limit, end, -1):
            # endpos makes `\Z` match at the candidate end, so with `$` in the ERE only
            # the true end of the text is a safe candidate.
            if self._end_anchor and candidate != len(text):
                continue
            if fullmatch(text, start, candidate) is not None:
                return candidate
        return end


@functools.lru_cache(maxsize=512)
def compile_ere(ere: str) -> AwkRegex:
    """The compiled AwkRegex for an ERE (cached; dynamic regexes repeat)."""
    return AwkRegex(ere)


def _regex(ere: str | AwkRegex) -> AwkRegex:
    return ere if isinstance(ere, AwkRegex) else compile_ere(ere)


def match(text: str, ere: str | AwkRegex) -> tuple[int, int]:
    """awk's match(): (RSTART, RLENGTH), 1-based, or (0, -1) when there is no match."""
    span = _regex(ere).search(text)
    if span is None:
        return 0, -1
    return span[0] + 1, span[1] - span[0]


# -- sub and gsub ---------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _replacement(repl: str) -> tuple[str | None, ...]:
    """Split a sub/gsub replacement into literal text and None for "the matched text".

    POSIX (gawk --posix) rules on the string the function receives: `&` is the match,
    `\\&` a literal `&`, `\\\\` one backslash (so `\\\\&` is a backslash then the match),
    and a backslash before anything else stays a backslash.
    """
    pieces: list[str | None] = []
    literal: list[str] = []
    i = 0
    n = len(repl)
    while i < n:
        ch = repl[i]
        if ch == "\\" and i + 1 < n and repl[i + 1] in "\\&":
            literal.append(repl[i + 1])
            i += 2
        elif ch == "&":
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(None)
            i += 1
        else:
            literal.append(ch)
            i += 1
    if literal:
        pieces.append("".join(literal))
    return tuple(pieces)


def _expander(pieces: tuple[str | None, ...]) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement function writing `pieces` with None as the matched text."""

    def expand(m: re.Match[str]) -> str:
        matched = m.group()
        return "".join(matched if piece is None else piece for piece in pieces)

    return expand


def subst(ere: str | AwkRegex, repl: str, text: str, global_: bool = True) -> tuple[str, int]:
    """sub (global_=False) or gsub on `text`; returns (new text, replacements made).

    An empty match right where the previous match ended is not a match, so
    gsub(/x*/, "-", "abc") gives "-a-b-c-" and gsub(/b*/, "-", "abc") gives "-a-c-".
    """
    regex = _regex(ere)
    pieces = _replacement(repl)
    if regex.plain_subst:
        if None in pieces:
            return regex.compiled.subn(_expander(pieces), text, 0 if global_ else 1)
        literal = "".join(p for p in pieces if p is not None)
        return regex.compiled.subn(lambda _: literal, text, 0 if global_ else 1)
    out: list[str] = []
    count = 0
    pos = 0
    last_end = -1
    n = len(text)
    while pos <= n:
        span = regex.search(text, pos)
        if span is None:
            break
        start, end = span
        if start == end and start == last_end:
            if start >= n:
                break
            out.append(text[pos : start + 1])
            pos = start + 1
            continue
        out.append(text[pos:start])
        matched = text[start:end]
        out.extend(matched if piece is None else piece for piece in pieces)
        count += 1
        last_end = end
        pos = end
        if not global_:
            break
        if start == end:
            if start >= n:
                break
            out.append(text[start])
            pos = start + 1
    out.append(text[pos:])
    return "".join(out), count


def split_on_regex(text: str, ere: str | AwkRegex) -> list[str]:
    """Split at every non-empty match of an ERE (empty matches never separate)."""
    if not text:
        return []
    regex = _regex(ere)
    fields: list[str] = []
    start = 0
    pos = 0
    n = len(text)
    while pos <= n:
        span = regex.search(text, pos)
        if span is None:
            break
        begin, end = span
        if begin == end:
            pos = begin + 1
            continue
        fields.append(text[start:begin])
        start = pos = end
    fields.append(text[start:])
    return fields
