"""Shell patterns matched whole without a regex engine: runs of one-character atoms around stars.

Outside stars, a shell pattern matches a fixed number of characters: each literal
character, `?` and bracket expression matches exactly one. So a pattern is a list of
fixed-length runs between its stars, and its meaning needs no automaton: the text starts
with the first run, ends with the last, and holds the others in order between them, where
the leftmost place of each is as good as any (a star takes whatever lies between). This
module reads a pattern into such runs (`star_runs`) and matches them (`star_match`), so
a script's `case` patterns (`-*`, `--help`, `*.sh`, `-[hv]`, `[0-9]*`, `?*`) and most file
name patterns load neither the regex package's translator nor RE2. It is also the one
reader of a pattern's bracket expressions (`bracket`), which `translate` renders as RE2
text.

A run that is all literal text is a `str`, matched with str methods; any other is a
tuple of atoms: a one-character `str`, None for `?`, or a bracket expression (`Set`). The
one thing decided elsewhere is a character above ASCII against a bracket holding a class
that a Unicode locale widens with a property of the character (`[[:alpha:]]` and `é`):
`star_match` then says None and the caller asks the regex engine. This module imports
the class table only for a pattern that names a class.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    Range = tuple[int, int]
    #: A bracket expression: whether it is negated (`[!...]`, `[^...]`), the code point
    #: ranges it lists, and the Unicode property escapes its classes add (RE2 syntax).
    Set = tuple[bool, tuple[Range, ...], tuple[str, ...]]
    Atom = str | None | Set
    Run = str | tuple[Atom, ...]
    Runs = tuple[Run, ...]


def bracket(pattern: str, i: int, unicode: bool) -> tuple[Set, int] | None:
    """The bracket expression at `pattern[i] == "["` and the index after its `]`, or None
    when it is not closed (then `[` is a literal character).

    A `!` or `^` first negates it; a `]` first (after the negation) is a member; `a-z` is a
    range of code points (a reversed one matches nothing, as bash has it); a backslash
    quotes the character after it; `[:name:]` is a POSIX class (an unknown name a member
    that matches nothing); `[=c=]` and `[.c.]` stand for the single character `c` (there
    are no locale tables to say more). A class holds its C-locale ranges, and with
    `unicode` what a Unicode locale adds (`fusevm.regex.classes`)."""
    n = len(pattern)
    j = i + 1
    negate = j < n and pattern[j] in "!^"
    if negate:
        j += 1
    ranges: list[Range] = []
    properties: list[str] = []
    first = True
    while j < n:
        c = pattern[j]
        if c == "]" and not first:
            return (negate, tuple(ranges), tuple(properties)), j + 1
        first = False
        if c == "[" and j + 1 < n and pattern[j + 1] in ":=.":
            kind = pattern[j + 1]
            end = pattern.find(kind + "]", j + 2)
            if end >= 0:
                name = pattern[j + 2:end]
                if kind == ":":
                    from fusevm.regex.classes import CLASSES  # (the first class named)
                    cls = CLASSES.get(name)
                    if cls is not None:
                        ranges.extend(cls.ranges(unicode))
                        properties.extend(cls.properties(unicode))
                elif len(name) == 1:
                    ranges.append((ord(name), ord(name)))
                j = end + 2
                continue
        if c == "\\" and j + 1 < n:
            j += 1
            c = pattern[j]
        lo = c
        j += 1
        if j + 1 < n and pattern[j] == "-" and pattern[j + 1] != "]":
            hi = pattern[j + 1]
            j += 2
            if hi == "\\" and j < n:
                hi = pattern[j]
                j += 1
            if lo <= hi:
                ranges.append((ord(lo), ord(hi)))
        else:
            ranges.append((ord(lo), ord(lo)))
    return None


def star_runs(pattern: str, path_mode: bool = False, unicode: bool = True) -> Runs | None:
    """The runs around the stars of a shell pattern, in order (`("", ".sh")` for `*.sh`;
    one run for a pattern without a star); None in path mode for a pattern with a literal
    `/` in a run (a star stops at `/` there, and no atom matches one: `star_match`).
    `unicode`: as `bracket` reads classes."""
    runs: list[Run] = []
    run: list[Atom] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            runs.append(_run(run))
            run = []
            while i < n and pattern[i] == "*":
                i += 1
            continue
        if c == "?":
            run.append(None)
            i += 1
            continue
        if c == "[":
            got = bracket(pattern, i, unicode)
            if got is not None:
                run.append(got[0])
                i = got[1]
                continue
        elif c == "\\" and i + 1 < n:
            i += 1
            c = pattern[i]
        if path_mode and c == "/":
            return None
        run.append(c)
        i += 1
    runs.append(_run(run))
    return tuple(runs)


def _run(atoms: list[Atom]) -> Run:
    if all(type(a) is str for a in atoms):
        return "".join(atoms)  # type: ignore[arg-type]
    return tuple(atoms)


def star_match(runs: Runs, slash: bool, text: str) -> bool | None:
    """Whether `text` is all matched by the pattern whose runs are `runs` (`star_runs`;
    `slash`: a star matches `/`, and so do `?` and a bracket). None when that takes the
    regex engine (a character above ASCII against a class's Unicode property)."""
    if not slash and "/" in text:
        return False  # (no run holds one, and neither a star nor an atom matches one)
    if len(runs) == 1:
        run = runs[0]
        if type(run) is str:
            return text == run
        return len(text) == len(run) and _at(run, text, 0)  # type: ignore[arg-type]
    head, tail = runs[0], runs[-1]
    stop = len(text) - len(tail)
    if stop < len(head):
        return False
    undecided = False
    for run, at in ((head, 0), (tail, stop)):
        if type(run) is str:
            if not text.startswith(run, at):
                return False
        else:
            got = _at(run, text, at)  # type: ignore[arg-type]
            if got is False:
                return False
            undecided = undecided or got is None
    if undecided:
        return None
    pos = len(head)
    for run in runs[1:-1]:
        if type(run) is str:
            found = text.find(run, pos, stop)
            if found < 0:
                return False
        else:
            for found in range(pos, stop - len(run) + 1):
                got = _at(run, text, found)  # type: ignore[arg-type]
                if got:
                    break
                if got is None:
                    return None  # (is this the leftmost place? only the engine knows)
            else:
                return False
        pos = found + len(run)
    return True


def _at(run: tuple[Atom, ...], text: str, at: int) -> bool | None:
    """Whether `run` matches `text` at `at` (which leaves room for it); None when only
    the regex engine can tell."""
    undecided = False
    for k, atom in enumerate(run):
        if atom is None:
            continue
        c = text[at + k]
        if isinstance(atom, str):
            if c != atom:
                return False
            continue
        negate, ranges, properties = atom
        o = ord(c)
        for lo, hi in ranges:
            if lo <= o <= hi:
                if negate:
                    return False
                break
        else:
            if properties and o > 127:
                undecided = True  # (ASCII letters and digits are in the ranges too)
            elif not negate:
                return False
    return None if undecided else True
