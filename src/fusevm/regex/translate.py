"""POSIX EREs and shell patterns, translated to RE2 syntax.

`translate_ere` reads a POSIX extended regular expression in one of two dialects: awk's
(escape sequences such as `\\n` or `\\101` decoded by the frontend's callback, backslash
escapes inside brackets too) or the shell's `[[ =~ ]]` (glibc's, with the GNU escapes `\\w`,
`\\W`, `\\s`, `\\S`, `\\b`, `\\B`, `\\<`, `\\>`; backslash is literal inside a bracket).
Both share the grammar: `^` and `$` anchor at the ends of the text wherever they appear,
`.` matches newline too, `{n,m}` intervals follow gawk (`{,m}` is `{0,m}`; a `{` that opens
no valid interval is literal), stacked quantifiers (`a**`, `a+?`) repeat the quantified
atom, an unmatched `)` is literal, and a reversed range inside a bracket matches nothing.

`translate_pattern` reads a shell pattern (`*`, `?`, brackets with `!` or `^` negation,
`\\x` quoting; an unclosed `[` is literal), which callers match against a whole string;
in path mode nothing matches `/`.

The output is RE2 text in which every character outside `[A-Za-z0-9]` is written as
`\\x{HEX}`, so no input character can change the meaning of the pattern; it is meant for
`fusevm.regex.engine`, which runs it with leftmost-longest semantics. Translation errors
raise RegexError with POSIX's wording (glibc's `regerror` texts).
"""

from __future__ import annotations

from fusevm.errors import VMError
from fusevm.memo import Memo
from fusevm.records import dataclass
from fusevm.regex.classes import CLASSES, Range
from fusevm.regex.stars import bracket, star_runs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

    from fusevm.regex.stars import Runs

__all__ = [
    "AWK_CLASSES", "SHELL_CLASSES", "SHELL_ERE", "Branch", "Dialect", "RegexError", "Translation",
    "lit", "translate_ere", "translate_ere_lines", "translate_pattern",
]

# The twelve POSIX classes; `word` is a shell extension.
_POSIX_CLASSES: Final = frozenset(
    ("alpha", "digit", "alnum", "upper", "lower", "space", "blank", "punct", "print",
     "graph", "cntrl", "xdigit")
)
#: What matches nothing: no position is both a word boundary and not one. One atom, so
#: that a quantifier after it takes all of it (`\n?` in line mode matches the empty string).
_NEVER: Final = "(?:\\b\\B)"
_ANY: Final = "(?s:.)"
_ANY_IN_LINE: Final = "[^\\x{a}]"  # `.` of a line-mode translation (`translate_ere_lines`)
_NEWLINE: Final = 10
_MAX_REPEAT: Final = 1000  # RE2's own bound on {n,m}

# (text, index of the backslash) -> (decoded character, index after the escape)
if TYPE_CHECKING:
    EscapeDecoder = Callable[[str, int], tuple[str, int]]
else:
    EscapeDecoder = object  # run-time stand-in: only the type checker reads it


class RegexError(VMError):
    """A regular expression or pattern that cannot be compiled."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """How an ERE reader treats backslashes and bracket classes.

    `decode_escape` decodes a backslash escape outside and inside brackets (awk); when None,
    a backslash quotes the next character outside brackets and is literal inside them,
    and `gnu_escapes` enables `\\w \\W \\s \\S \\b \\B \\< \\>` (the shell's `=~`).
    """

    name: str
    decode_escape: EscapeDecoder | None = None
    gnu_escapes: bool = False
    class_names: frozenset[str] = _POSIX_CLASSES
    capture: bool = False  # parentheses capture (for the shell's BASH_REMATCH)


@dataclass(frozen=True, slots=True)
class Translation:
    """An RE2 pattern, and the literal text it is equivalent to when it has no operators
    (so a caller can search with `str.find`). `required`, when not None, holds literal
    texts one of which occurs in every text the pattern matches anywhere in (one per
    top-level branch): a text holding none of them cannot match, which `str.__contains__`
    tells much faster than a call into the engine."""

    source: str
    literal: str | None
    groups: int
    required: tuple[str, ...] | None = None
    #: One per top-level branch (the shell's patterns have none).
    branches: tuple[Branch, ...] = ()
    #: A shell pattern that is not all literal text: the runs of one-character atoms
    #: around its stars, in order (`("", ".sh")` for `*.sh`), which `stars.star_match`
    #: matches a whole text against; None for a literal pattern, for one with a `/` in a
    #: run in path mode, and for an ERE.
    star_runs: Runs | None = None
    #: Whether its stars match `/` (not in path mode, where no run holds one either).
    star_slash: bool = True


@dataclass(frozen=True, slots=True)
class Branch:
    """What one top-level branch of an ERE needs of any text it matches, for tests with
    str methods: `head` the literal run a leading `^` ties to the text's start, `tail`
    the run a trailing `$` ties to its end (each None without one), and `runs` the other
    runs of literal characters (each occurs in every match). `exact` when the branch is
    no more than that (`lit`, `^lit`, `lit$`, `^lit$`): those tests are then its whole
    meaning."""

    head: str | None
    runs: tuple[str, ...]
    tail: str | None
    exact: bool


def lit(ch: str) -> str:
    """`ch` as an RE2 literal that means itself in any context (inside brackets too)."""
    if ch.isascii() and ch.isalnum():
        return ch
    return f"\\x{{{ord(ch):x}}}"


def _items(ranges: tuple[Range, ...] | list[Range]) -> str:
    out = []
    for lo, hi in ranges:
        out.append(lit(chr(lo)) if lo == hi else f"{lit(chr(lo))}-{lit(chr(hi))}")
    return "".join(out)


def _without(ranges: list[Range], slash: int) -> list[Range]:
    """`ranges` minus the separator `slash` (`/` in path mode, a newline in line mode: a
    bracket never matches it)."""
    out: list[Range] = []
    for lo, hi in ranges:
        if lo <= slash <= hi:
            if lo < slash:
                out.append((lo, slash - 1))
            if slash < hi:
                out.append((slash + 1, hi))
        else:
            out.append((lo, hi))
    return out


@dataclass(slots=True)
class _Bracket:
    """The members of one bracket expression, gathered before writing RE2 text."""

    negate: bool
    ranges: list[Range]
    properties: list[str]

    def render(self, path_mode: bool = False, lines: bool = False) -> str:
        """The RE2 bracket; in `path_mode` never matching `/`, with `lines` never a
        newline."""
        ranges = self.ranges
        if path_mode:
            ranges = _without(ranges, 47) if not self.negate else [*ranges, (47, 47)]
        if lines:
            ranges = _without(ranges, _NEWLINE) if not self.negate else \
                [*ranges, (_NEWLINE, _NEWLINE)]
        body = _items(ranges) + "".join(self.properties)
        if not body:
            if self.negate:
                return "[^/]" if path_mode else _ANY_IN_LINE if lines else _ANY
            return _NEVER
        return f"[{'^' if self.negate else ''}{body}]"


class _EreReader:
    """One ERE to RE2 text, by recursive descent over the ERE grammar."""

    def __init__(self, ere: str, dialect: Dialect, lines: bool = False) -> None:
        self.ere = ere
        self.dialect = dialect
        #: Line mode (`translate_ere_lines`): nothing matches a newline, anchors are a
        #: line's ends.
        self.lines = lines
        self.pos = 0
        self.groups = 0
        self.operators = False
        #: What the last atom read matches when it is plain: its character, or the texts
        #: of a group of literal alternatives (`(GET|POST)`); else None.
        self.char: str | tuple[str, ...] | None = None
        #: The texts of the alternatives of the last alternation read, when each is a run
        #: of literal characters, else None.
        self.texts: tuple[str, ...] | None = None
        #: Per top-level branch, its literal runs and anchors.
        self.branches: list[Branch] = []

    def fail(self, detail: str) -> RegexError:
        return RegexError(f"{detail}: /{self.ere}/")

    def read(self) -> str:
        text = self.alternation(0)
        if self.pos != len(self.ere):  # pragma: no cover - alternation reads to the end
            raise self.fail("Trailing characters")
        return text

    def alternation(self, depth: int) -> str:
        texts: list[str | None] = []
        branches = [self.concatenation(depth, texts)]
        while self.pos < len(self.ere) and self.ere[self.pos] == "|":
            self.operators = True
            self.pos += 1
            branches.append(self.concatenation(depth, texts))
        self.char = None
        self.texts = None if None in texts else tuple(texts)  # type: ignore[arg-type]
        return "|".join(branches)

    def concatenation(self, depth: int, texts: list[str | None]) -> str:
        ere = self.ere
        parts: list[str] = []
        # whether each part is an anchor, and whether it already carries a quantifier
        anchors: list[bool] = []
        quantified: list[bool] = []
        # the literal character each part matches (or the texts of a group of literal
        # alternatives), None when it is not that plain at that place of every match
        chars: list[str | tuple[str, ...] | None] = []
        while self.pos < len(ere):
            ch = ere[self.pos]
            if ch == "|" or (ch == ")" and depth > 0):
                break
            interval = ch == "{" and bool(parts) and self._interval_ahead() is not None
            if ch in "*+?" or interval:
                if not parts:
                    raise self.fail("Invalid preceding regular expression")
                if anchors[-1]:
                    # `^*`: nothing to repeat; onetrue-awk and glibc read the `*` literally
                    parts.append(lit(ch))
                    anchors.append(False)
                    quantified.append(False)
                    chars.append(ch)
                    self.pos += 1
                    continue
                atom = f"(?:{parts[-1]})" if quantified[-1] else parts[-1]
                parts[-1] = atom + self._quantifier()
                quantified[-1] = True
                chars[-1] = None  # repeated or optional: no longer one fixed character
                self.operators = True
                continue
            text, anchor = self.atom(depth)
            parts.append(text)
            anchors.append(anchor)
            quantified.append(False)
            chars.append(self.char)
        if depth == 0:
            self.branches.extend(_branches(parts, anchors, chars))
        plain = all(type(c) is str for c in chars)
        texts.append("".join(chars) if plain else None)  # type: ignore[arg-type]
        return "".join(parts)

    def _interval_ahead(self) -> tuple[int, int | None, int] | None:
        """(low, high or None when open, index after `}`) if an interval starts here."""
        ere = self.ere
        i = self.pos + 1
        n = len(ere)
        start = i
        while i < n and ere[i].isdigit():
            i += 1
        low_text = ere[start:i]
        high: int | None
        if i < n and ere[i] == ",":
            i += 1
            start = i
            while i < n and ere[i].isdigit():
                i += 1
            high = int(ere[start:i]) if i > start else None
            if i < n and ere[i] == "}":
                return int(low_text or "0"), high, i + 1
            return None
        if i < n and ere[i] == "}" and low_text:
            low = int(low_text)
            return low, low, i + 1
        return None

    def _quantifier(self) -> str:
        ch = self.ere[self.pos]
        if ch in "*+?":
            self.pos += 1
            return ch
        interval = self._interval_ahead()
        assert interval is not None
        low, high, self.pos = interval
        if high is not None and high < low:
            raise self.fail("Invalid content of \\{\\}")
        if max(low, high or 0) > _MAX_REPEAT:
            raise self.fail("Regular expression too big")
        if high == low:
            return f"{{{low}}}"
        return f"{{{low},{'' if high is None else high}}}"

    def atom(self, depth: int) -> tuple[str, bool]:
        ere = self.ere
        ch = ere[self.pos]
        self.char = None
        if ch == "(":
            self.pos += 1
            self.operators = True
            capture = self.dialect.capture
            if capture:
                self.groups += 1
            inner = self.alternation(depth + 1)
            if self.pos >= len(ere) or ere[self.pos] != ")":
                raise self.fail("Unmatched ( or \\(")
            self.pos += 1
            self.char = self.texts
            return (f"({inner})" if capture else f"(?:{inner})"), False
        if ch == "[":
            self.operators = True
            return self.bracket().render(lines=self.lines), False
        if ch == ".":
            self.pos += 1
            self.operators = True
            return _ANY_IN_LINE if self.lines else _ANY, False
        if ch == "^":
            self.pos += 1
            self.operators = True
            return "(?m:^)" if self.lines else "\\A", True
        if ch == "$":
            self.pos += 1
            self.operators = True
            return "(?m:$)" if self.lines else "\\z", True
        if ch == "\\":
            return self._escape(), False
        self.pos += 1
        self.char = ch
        return self._lit(ch), False  # includes an unmatched `)` and a stray `{` or `}`

    def _lit(self, ch: str) -> str:
        """A literal character (in line mode a newline matches nothing: no line has one)."""
        return _NEVER if self.lines and ch == "\n" else lit(ch)

    def _escape(self) -> str:
        ere = self.ere
        decode = self.dialect.decode_escape
        if decode is not None:
            decoded, self.pos = decode(ere, self.pos)
            self.char = decoded
            return self._lit(decoded)
        if self.pos + 1 >= len(ere):
            raise self.fail("Trailing backslash")
        nxt = ere[self.pos + 1]
        self.pos += 2
        if self.dialect.gnu_escapes:
            if nxt in "<>":
                self.operators = True
                return "\\b"
            if nxt in "wWsSbB":
                self.operators = True
                return "\\" + nxt
        if nxt.isdigit() and nxt != "0":
            # RE2 cannot run back-references (they are not regular); say so.
            raise self.fail("Back-references are not supported")
        self.char = nxt
        return self._lit(nxt)

    # -- bracket expressions -----------------------------------------------------------

    def bracket(self) -> _Bracket:
        ere = self.ere
        n = len(ere)
        self.pos += 1
        negate = self.pos < n and ere[self.pos] == "^"
        if negate:
            self.pos += 1
        out = _Bracket(negate, [], [])
        first = True
        while True:
            if self.pos >= n:
                raise self.fail("Unmatched [, [^, [:, [., or [=")
            ch = ere[self.pos]
            if ch == "]" and not first:
                self.pos += 1
                return out
            first = False
            if ch == "[" and ere[self.pos + 1 : self.pos + 2] in (":", ".", "="):
                self._bracket_special(out)
                continue
            low = self._bracket_char()
            if self.pos + 1 < n and ere[self.pos] == "-" and ere[self.pos + 1] != "]":
                self.pos += 1
                high = self._bracket_char()
                if ord(high) >= ord(low):
                    out.ranges.append((ord(low), ord(high)))
                continue
            out.ranges.append((ord(low), ord(low)))

    def _bracket_char(self) -> str:
        ere = self.ere
        decode = self.dialect.decode_escape
        if decode is not None and ere[self.pos] == "\\" and self.pos + 1 < len(ere):
            decoded, self.pos = decode(ere, self.pos)
            return decoded
        ch = ere[self.pos]
        self.pos += 1
        return ch

    def _bracket_special(self, out: _Bracket) -> None:
        """`[:class:]`, `[.c.]` or `[=c=]` inside a bracket expression."""
        ere = self.ere
        kind = ere[self.pos + 1]
        close = ere.find(kind + "]", self.pos + 2)
        if close < 0:
            raise self.fail("Unmatched [, [^, [:, [., or [=")
        name = ere[self.pos + 2 : close]
        self.pos = close + 2
        if kind == ":":
            if name not in self.dialect.class_names:
                raise self.fail("Invalid character class name")
            out.ranges.extend(CLASSES[name].ranges(False))
            return
        if len(name) != 1:
            raise self.fail("Invalid collation character")
        out.ranges.append((ord(name), ord(name)))


#: The most literal texts a branch with groups of alternatives is spelled out into.
_MAX_SPELLED: Final = 16


def _branches(parts: list[str], anchors: list[bool],
              chars: list[str | tuple[str, ...] | None]) -> list[Branch]:
    """A top-level branch's literal runs and anchors, from its parts (their RE2 text,
    whether each is an anchor, and what each matches when it is plain, as
    `concatenation` records it). A branch of nothing but literals and groups of literal
    alternatives (`^(GET|POST) /`) is spelled out into exact branches, one per text."""
    n = len(parts)
    start = 1 if n and anchors[0] and parts[0] == "\\A" else 0
    end = n - 1 if n > start and anchors[-1] and parts[-1] == "\\z" else n
    body = chars[start:end]
    if None not in body:  # nothing but literals between the anchors
        spelled = [""]
        for item in body:
            if type(item) is str:
                spelled = [text + item for text in spelled]
            else:
                spelled = [text + alt for text in spelled for alt in item]  # type: ignore[union-attr]
            if len(spelled) > _MAX_SPELLED:
                break
        else:
            if start or end < n:
                return [Branch(text if start else None, (), text if end < n else None, True)
                        for text in spelled]
            return [Branch(None, (text,), None, True) for text in spelled]
    runs: list[str] = []
    run: list[str] = []
    for item in body:
        if type(item) is str:
            run.append(item)
        elif run:
            runs.append("".join(run))
            run = []
    if run:
        runs.append("".join(run))
    # a run starting right after `^` (ending right before `$`) is tied to that end
    head = runs.pop(0) if start and type(body[0]) is str else None
    tail = runs.pop() if end < n and type(body[-1]) is str else None
    return [Branch(head, tuple(runs), tail, False)]


def _required(branches: list[Branch]) -> tuple[str, ...] | None:
    """The longest literal run of each branch, or None when some branch has none."""
    out = []
    for b in branches:
        texts = [t for t in (b.head, *b.runs, b.tail) if t]
        if not texts:
            return None
        out.append(max(texts, key=len))
    return tuple(out) if out else None


AWK_CLASSES: Final = _POSIX_CLASSES
SHELL_CLASSES: Final = _POSIX_CLASSES | {"word"}


def translate_ere(ere: str, dialect: Dialect) -> Translation:
    """The RE2 form of a POSIX ERE in `dialect` (cached); raises RegexError."""
    found: Translation = _ERES[ere, dialect]
    return found


def _translate_ere(ere: str, dialect: Dialect) -> Translation:
    reader = _EreReader(ere, dialect)
    source = reader.read()
    literal = None if reader.operators else _literal_text(ere, dialect)
    return Translation(source, literal, reader.groups, _required(reader.branches),
                       tuple(reader.branches))


def translate_ere_lines(ere: str, dialect: Dialect) -> str | None:
    """The RE2 text of `ere` in line mode, for text made of lines joined by newlines: `^`
    and `$` match at each line's ends and nothing matches a newline (a newline in the ERE
    matches nothing), so every match lies in one line and is a match in that line alone.
    None for a dialect whose escapes (`\\s`, `\\W`) match a newline. Cached; raises
    RegexError."""
    if dialect.gnu_escapes:
        return None
    found: str = _LINE_ERES[ere, dialect]
    return found


def _literal_text(ere: str, dialect: Dialect) -> str:
    """The text an operator-free ERE matches (its escapes resolved)."""
    out = []
    i = 0
    decode = dialect.decode_escape
    while i < len(ere):
        if ere[i] == "\\":
            if decode is not None:
                ch, i = decode(ere, i)
            else:
                ch, i = ere[i + 1], i + 2
            out.append(ch)
        else:
            out.append(ere[i])
            i += 1
    return "".join(out)


# -- shell patterns ----------------------------------------------------------------------


def _pattern_bracket(pattern: str, i: int, unicode: bool) -> tuple[_Bracket, int] | None:
    """The bracket expression at pattern[i] == '[' (as `stars.bracket` reads it) and the
    index after its `]`, or None when it is not closed (the caller then reads `[`
    literally)."""
    got = bracket(pattern, i, unicode)
    if got is None:
        return None
    (negate, ranges, properties), j = got
    return _Bracket(negate, list(ranges), list(properties)), j


def translate_pattern(pattern: str, path_mode: bool = False, unicode: bool = True
                      ) -> Translation:
    """The RE2 form of a shell pattern (unanchored; the caller anchors it; cached); its
    bracket classes are the C locale's (ASCII) unless `unicode`."""
    found: Translation = _PATTERNS[pattern, path_mode, unicode]
    return found


def _translate_pattern(pattern: str, path_mode: bool, unicode: bool) -> Translation:
    """`translate_pattern` uncached.

    `*` matches any run, `?` one character, `[...]` a bracket expression with `!`/`^`
    negation, ranges and POSIX classes (see `translate_pattern`); `\\x` matches x literally; an
    unclosed `[` is a literal. In path mode none of them matches `/`.
    """
    out: list[str] = []
    literal: list[str] | None = []
    i, n = 0, len(pattern)
    star = "[^/]*" if path_mode else "(?s:.*)"
    one = "[^/]" if path_mode else _ANY
    while i < n:
        c = pattern[i]
        if c == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append(star)
            literal = None
            continue
        if c == "?":
            out.append(one)
            literal = None
        elif c == "[" and (got := _pattern_bracket(pattern, i, unicode)) is not None:
            bracket, i = got
            out.append(bracket.render(path_mode))
            literal = None
            continue
        else:
            if c == "\\" and i + 1 < n:
                i += 1
                c = pattern[i]
            out.append(lit(c))
            if literal is not None:
                literal.append(c)
        i += 1
    runs = star_runs(pattern, path_mode, unicode) if literal is None else None
    return Translation("".join(out), None if literal is None else "".join(literal), 0,
                       star_runs=runs, star_slash=not path_mode)


SHELL_ERE: Final = Dialect("shell", None, gnu_escapes=True, class_names=SHELL_CLASSES,
                           capture=True)


# The caches (`fusevm.memo` tables: `functools` would load `collections` and `types` with
# the first regex of every awk program and `case` of every script).
_ERES: Final = Memo(lambda key: _translate_ere(*key), 1024)
_LINE_ERES: Final = Memo(lambda key: _EreReader(key[0], key[1], lines=True).read(), 256)
_PATTERNS: Final = Memo(lambda key: _translate_pattern(*key), 512)
