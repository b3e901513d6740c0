"""awk's regular expressions: its ERE dialect on fusevm.regex, match(), sub/gsub, split.

The ERE grammar, the bracket classes and the engine (RE2, POSIX leftmost-longest, linear
time) live in `fusevm.regex`; this module adds what is awk's own: escape sequences decoded
as in string literals (`\\n`, `\\/`, `\\ddd`, `\\xHH`, inside brackets too, any other escaped
character standing for itself), RSTART/RLENGTH, the replacement rules of sub and gsub,
and split's rule that empty matches never separate. A bad ERE raises AwkRegexError.
"""

from __future__ import annotations

from fusevm.lang.awk.errors import AwkRegexError
from fusevm.memo import memo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from fusevm.regex import Dialect, Regex

    AwkRegex = Regex
    AWK_ERE: Dialect
    #: sub or gsub of one regex and replacement: text -> (new text, replacements made)
    Substitute = Callable[[str], tuple[str, int]]

__all__ = ["AWK_ERE", "AwkRegex", "compile_ere", "ere_to_re2", "match", "required_literals",
           "split_on_regex", "subst", "substituter"]

# The regex engine (its translator, RE2) and the escape decoder (`escapes`) load with the
# first regex a program uses, not with this module: a program that splits records on the
# default FS and matches nothing starts without them. `AWK_ERE` and `AwkRegex` are made
# on first access (`__getattr__`).


_dialect: Dialect | None = None


def _awk_ere() -> Dialect:
    global _dialect
    if _dialect is None:
        from fusevm.lang.awk.escapes import decode_escape
        from fusevm.regex import AWK_CLASSES, Dialect
        _dialect = Dialect("awk", decode_escape, class_names=AWK_CLASSES)
    return _dialect


def __getattr__(name: str) -> object:
    if name == "AWK_ERE":
        return _awk_ere()
    if name == "AwkRegex":
        from fusevm.regex import Regex
        return Regex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ere_to_re2(ere: str) -> str:
    """The RE2 pattern an awk ERE runs as; raises AwkRegexError."""
    from fusevm.regex import RegexError, translate_ere
    try:
        return translate_ere(ere, _awk_ere()).source
    except RegexError as exc:
        raise AwkRegexError(exc.message) from None


def required_literals(ere: str) -> tuple[str, ...] | None:
    """Texts one of which every text the ERE matches holds (`Translation.required`), or
    None when there are none (or the ERE is malformed: that fails when it runs)."""
    from fusevm.regex import RegexError, translate_ere
    try:
        return translate_ere(ere, _awk_ere()).required
    except RegexError:
        return None


@memo(512)
def compile_ere(ere: str) -> Regex:
    """The compiled regex for an awk ERE (cached: dynamic regexes repeat)."""
    from fusevm.regex import RegexError
    from fusevm.regex import compile_ere as compile_in
    try:
        return compile_in(ere, _awk_ere())
    except RegexError as exc:
        raise AwkRegexError(exc.message) from None


def _regex(ere: str | Regex) -> Regex:
    return compile_ere(ere) if isinstance(ere, str) else ere


def match(text: str, ere: str | Regex) -> tuple[int, int]:
    """awk's match(): (RSTART, RLENGTH), 1-based, or (0, -1) when there is no match."""
    span = _regex(ere).search(text)
    if span is None:
        return 0, -1
    return span[0] + 1, span[1] - span[0]


# -- sub and gsub ---------------------------------------------------------------


@memo(256)
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


def substituter(rx: Regex, repl: str, global_: bool) -> Substitute:
    """sub (global_=False) or gsub of `rx` by `repl` as one function of the text, which
    returns (new text, replacements made); `subst` tells the rules."""
    return _substituter((rx, repl, global_))


@memo(256)
def _substituter(key: tuple[Regex, str, bool]) -> Substitute:
    rx, repl, global_ = key
    lit = rx.literal
    if lit:
        # a non-empty literal's matches are str.replace's: leftmost, non-overlapping
        new = "".join(lit if piece is None else piece for piece in _replacement(repl))
        if global_:
            def replace_all(text: str) -> tuple[str, int]:
                count = text.count(lit)
                return (text.replace(lit, new) if count else text), count
            return replace_all

        def replace_first(text: str) -> tuple[str, int]:
            return (text.replace(lit, new, 1), 1) if lit in text else (text, 0)
        return replace_first
    # the replacement's literal texts between its `&`s: a match's replacement is the
    # matched text joined with them (one piece, the whole replacement, without `&`)
    segments = [""]
    for piece in _replacement(repl):
        if piece is None:
            segments.append("")
        else:
            segments[-1] += piece
    fixed = segments[0] if len(segments) == 1 else None

    def substitute(text: str) -> tuple[str, int]:
        scan = rx.scanner(text).search
        out: list[str] = []
        count = 0
        pos = 0
        last_end = -1
        n = len(text)
        while pos <= n:
            span = scan(pos)
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
            out.append(fixed if fixed is not None else text[start:end].join(segments))
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
        if not count:
            return text, 0
        out.append(text[pos:])
        return "".join(out), count
    return substitute


def subst(ere: str | Regex, repl: str, text: str, global_: bool = True) -> tuple[str, int]:
    """sub (global_=False) or gsub on `text`; returns (new text, replacements made).

    Each match is the leftmost-longest one from where the last ended; an empty match
    right where the previous match ended is not a match, so gsub(/x*/, "-", "abc") gives
    "-a-b-c-" and gsub(/b*/, "-", "abc") gives "-a-c-".
    """
    return substituter(_regex(ere), repl, global_)(text)


def split_on_regex(text: str, ere: str | Regex) -> list[str]:
    """Split at every non-empty match of an ERE (empty matches never separate)."""
    if not text:
        return []
    scan = _regex(ere).scanner(text).search
    fields: list[str] = []
    start = 0
    pos = 0
    n = len(text)
    while pos <= n:
        span = scan(pos)
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
