"""Shell patterns of literal text and stars alone, matched whole with str methods.

Most patterns a script matches (`case $1 in -*)`, `--help)`, `*.sh)`, a file name
pattern, a quoted word) have no operator but `*`. Their meaning needs no automaton: the
text starts with the first literal run, ends with the last, and holds the others in order
between them. This module reads such a pattern and matches it; every other pattern (`?`,
a bracket expression) goes through `translate` and `engine`. It imports nothing, so a
script whose patterns are all of this kind loads neither the regex package's translator
nor RE2.
"""

from __future__ import annotations


def star_runs(pattern: str, path_mode: bool = False) -> tuple[str, ...] | None:
    """The literal runs around the stars of a shell pattern that holds no other operator,
    in order (`("", ".sh")` for `*.sh`; one run for a pattern without a star), a backslash
    quoting the character after it; None for any other pattern, and in path mode for one
    whose runs hold a `/` (stars stop at `/` there: `star_match`)."""
    if "?" in pattern or "[" in pattern:  # (an unclosed `[` is a literal: left to translate)
        return None
    runs: list[str] = []
    run: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            runs.append("".join(run))
            run = []
            while i < n and pattern[i] == "*":
                i += 1
            continue
        if c == "\\" and i + 1 < n:
            i += 1
            c = pattern[i]
        run.append(c)
        i += 1
    runs.append("".join(run))
    if path_mode and any("/" in r for r in runs):
        return None
    return tuple(runs)


def star_match(runs: tuple[str, ...], slash: bool, text: str) -> bool:
    """Whether `text` is all matched by the pattern whose literal runs around its stars are
    `runs` (`star_runs`; `slash`: a star matches `/`). The first run starts the text, the
    last ends it, and the others follow in order between them: the leftmost place of each
    is as good as any, since a star takes whatever lies between."""
    if len(runs) == 1:
        return text == runs[0]
    if not slash and "/" in text:  # (no run holds one: only a star could match it)
        return False
    head, tail = runs[0], runs[-1]
    stop = len(text) - len(tail)
    if stop < len(head) or not text.startswith(head) or not text.endswith(tail):
        return False
    pos = len(head)
    for run in runs[1:-1]:
        found = text.find(run, pos, stop)
        if found < 0:
            return False
        pos = found + len(run)
    return True
