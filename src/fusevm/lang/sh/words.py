"""Marked strings: how a word travels on the VM stack between its parts and its fields.

A word is built by concatenating its parts (core `Concat`). Quoting survives the
concatenation as in-band marks taken from Unicode noncharacters, which never occur in
shell data: text between QS/QE was quoted, text between XS/XE came from an unquoted
expansion (so IFS splits it), FB forces a field break (`"$@"`), and ZA stands for an
empty `"$@"` (no field unless something else is in the word). `fields()` then does field
splitting, pathname expansion and quote removal in one pass; `strip()` only removes quotes;
`pattern()` turns a marked word into a shell pattern with its quoted characters escaped.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

QS: Final = "\ufdd0"
QE: Final = "\ufdd1"
XS: Final = "\ufdd2"
XE: Final = "\ufdd3"
FB: Final = "\ufdd4"
ZA: Final = "\ufdd5"
MARKS: Final = frozenset(QS + QE + XS + XE + FB + ZA)
#: The marks quote removal drops (FB becomes a space).
_DROPPED: Final = (QS, QE, XS, XE, ZA)
_GLOB_CHARS: Final = frozenset("*?[")
DEFAULT_IFS: Final = " \t\n"


def quote(text: str) -> str:
    return QS + text + QE


def strip(s: str) -> str:
    """Quote removal: the text without marks. (A `replace` per mark present: scans at
    memory speed, where `str.translate` looks up every character of a non-ASCII string,
    as a string grown by `s="${s}x"` in a loop is again and again.)"""
    if s.isascii():
        return s
    for m in _DROPPED:
        if m in s:
            s = s.replace(m, "")
    if FB in s:
        s = s.replace(FB, " ")
    return s


def has_marks(s: str) -> bool:
    return any(c in MARKS for c in s)


def pattern(s: str) -> str:
    """A shell pattern: quoted characters and backslashes escaped, unquoted ones active."""
    out: list[str] = []
    depth = 0
    for c in s:
        if c == QS:
            depth += 1
        elif c == QE:
            depth -= 1
        elif c == FB:
            out.append(" ")
        elif c in MARKS:
            continue
        elif depth > 0 and c in "*?[]\\!^-":
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def fields(s: str, ifs: str | None, noglob: bool) -> list[str]:
    """Field splitting (XCU 2.6.5), pathname expansion (2.6.6) and quote removal (2.6.7)."""
    if ifs is None:
        ifs = DEFAULT_IFS
    # A word that is quoted strings only, or one unquoted expansion split by IFS white
    # space, and nothing else (ASCII inside: no other mark): str methods instead of the
    # loop below, a character at a time.
    if s[:1] == QS and s[-1:] == QE:
        # (quoted strings one after another, as `"$x"` is: an empty one, then the value)
        text = s[1:-1].replace(QE + QS, "")
        if text.isascii():
            return [text]
    if s[:1] == XS and s[-1:] == XE and s[1:-1].isascii() and _white_only(ifs):
        text = s[1:-1]
        found = split_white(text, ifs) if ifs else [text] if text else []
        if noglob:
            return found
        out: list[str] = []
        for field in found:
            _expand_unquoted(field, out)
        return out
    out = []
    cur: list[str] = []  # characters, glob-active ones as-is
    quoted: list[bool] = []
    exists = False
    term: str | None = "start"  # what ended the last field: start / ws / nonws / None
    depth = 0
    xdepth = 0

    def emit() -> None:
        nonlocal cur, quoted, exists
        _finish(cur, quoted, noglob, out)
        cur, quoted, exists = [], [], False

    for c in s:
        if c in MARKS:
            if c == QS:
                depth += 1
                exists = True
                term = None
            elif c == QE:
                depth -= 1
            elif c == XS:
                xdepth += 1
            elif c == XE:
                xdepth -= 1
            elif c == FB:
                if cur or exists:
                    emit()
                term = "start"
            continue
        if xdepth > 0 and depth == 0 and c in ifs:
            if c in " \t\n":
                if cur or exists:
                    emit()
                    term = "ws"
                elif term is None:
                    term = "ws"
            else:
                if cur or exists:
                    emit()
                elif term != "ws":
                    out.append("")
                term = "nonws"
            continue
        cur.append(c)
        quoted.append(depth > 0)
        term = None
    if cur or exists:
        emit()
    return out


def _white_only(ifs: str) -> bool:
    """Whether IFS holds IFS white space only (space, tab, newline), or nothing."""
    return all(c in " \t\n" for c in ifs)


def _expand_unquoted(text: str, out: list[str]) -> None:
    """Pathname expansion of a field that no quoting touched (its glob characters active)."""
    if could_glob(text):
        from fusevm.shell import glob as shglob  # imported on first use: start-up time
        matches = shglob.glob(text, dots=True)
        if matches:
            out.extend(matches)
            return
    out.append(text)


def could_glob(text: str) -> bool:
    """True if text has `*`, `?`, or a `[` with a `]` after it (a lone `[` matches itself)."""
    if "*" in text or "?" in text:
        return True
    i = text.find("[")
    return i >= 0 and "]" in text[i + 2:]


def _finish(chars: list[str], quoted: list[bool], noglob: bool, out: list[str]) -> None:
    text = "".join(chars)
    if not noglob and could_glob(text) and any(c in _GLOB_CHARS and not q
                                               for c, q in zip(chars, quoted)):
        pat = "".join("\\" + c if q and c in "*?[]\\" else c for c, q in zip(chars, quoted))
        from fusevm.shell import glob as shglob  # imported on first use: start-up time
        matches = shglob.glob(pat, dots=True)
        if matches:
            out.extend(matches)
            return
    out.append(text)


def split_ifs(text: str, ifs: str | None, max_fields: int = 0) -> list[str]:
    """Split plain text by IFS for `read` (the last field keeps the rest when max_fields)."""
    if ifs is None:
        ifs = DEFAULT_IFS
    if ifs and _white_only(ifs):
        return split_white(text, ifs, max_fields)
    ws = "".join(c for c in ifs if c in " \t\n")
    out: list[str] = []
    i, n = 0, len(text)
    while i < n and text[i] in ws:
        i += 1
    while i < n:
        if max_fields and len(out) == max_fields - 1:
            rest = text[i:]
            # trailing IFS whitespace is removed from the last field
            j = len(rest)
            while j > 0 and rest[j - 1] in ws:
                j -= 1
            rest = rest[:j]
            # the delimiter ending a lone last field is dropped too (`x:` gives `x`), but
            # a rest of several fields keeps its own (`x:y:` stays whole), as in dash
            if rest and rest[-1] in ifs and rest[-1] not in ws:
                field = rest[:-1].rstrip(ws)
                if not any(c in ifs for c in field):
                    rest = field
            out.append(rest)
            return out
        j = i
        while j < n and text[j] not in ifs:
            j += 1
        out.append(text[i:j])
        i = j
        while i < n and text[i] in ws:
            i += 1
        if i < n and text[i] in ifs:
            i += 1
            while i < n and text[i] in ws:
                i += 1
            if i >= n:
                break
    return out


def split_white(text: str, ifs: str, max_fields: int = 0) -> list[str]:
    """Fields of `text` split by a non-empty IFS of white space only (`_white_only`): runs
    of it delimit and none begins or ends a field; with `max_fields` (`read`), the last
    field keeps the rest, its trailing IFS white space removed. The separators are found
    in a copy where every IFS character is the first (one for one: positions stay)."""
    sep = ifs[0]
    norm = text
    for c in ifs[1:]:
        norm = norm.replace(c, sep)
    if not max_fields:  # (no field holds a separator: the copy's fields are the text's)
        return [f for f in norm.split(sep) if f]
    end = len(norm.rstrip(sep))
    i = len(norm) - len(norm.lstrip(sep))
    out: list[str] = []
    while i < end:
        if max_fields and len(out) == max_fields - 1:
            out.append(text[i:end])
            break
        j = norm.find(sep, i, end)
        if j < 0:
            out.append(text[i:end])
            break
        out.append(text[i:j])
        i = j
        while i < end and norm[i] == sep:
            i += 1
    return out
