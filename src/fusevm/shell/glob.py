"""Shell pattern matching and pathname expansion: `*`, `?`, brackets, and the `**` tree walk.

Patterns compile through `fusevm.regex` (string mode for `[[ == ]]`, `case` and the `${v#p}`
family; path mode for globbing, where nothing matches `/`). `glob` does POSIX
pathname expansion with bash's globstar extension; the recursive walk behind `**` is
`fusevm.shell.walk`, loaded only for such a pattern. Nothing here writes to the file system.
"""

from __future__ import annotations

import os

from fusevm.regex import SHELL_ERE, Regex, compile_ere, translate_pattern
from fusevm.regex import compile_pattern as _compile
from fusevm.shell import text
from fusevm.shell.text import from_os, matchable

TYPE_CHECKING = False
if TYPE_CHECKING:

    from fusevm.shell.walk import DirListing

__all__ = [
    "compile_pattern",
    "glob",
    "has_magic",
    "str_match",
    "regex_search",
    "translate",
]

# -- Pattern matching ------------------------------------------------------------------------


def translate(pattern: str, path_mode: bool = False) -> str:
    """The RE2 text of a shell pattern (unanchored; see `fusevm.regex.translate_pattern`).

    `*` matches any run, `?` one character, `[...]` a bracket expression with `!`/`^`
    negation, ranges and POSIX classes; `\\x` matches x literally; an unclosed `[` is a
    literal. In path mode none of them matches `/`.
    """
    return translate_pattern(pattern, path_mode).source


def compile_pattern(pattern: str, path_mode: bool = False) -> Regex:
    """A shell pattern compiled for the locale (`fusevm.shell.text`): in the C locale it
    matches `matchable` text, and its classes hold ASCII only."""
    return _compile(matchable(pattern), path_mode, not text.byte_mode)


def str_match(s: str, pattern: str) -> bool:
    """Whole-string shell pattern match (`[[ s == pattern ]]`, `case`): `*` matches `/` too."""
    return compile_pattern(pattern).fullmatch(matchable(s))


def has_magic(s: str) -> bool:
    """True if `s` contains an unescaped `*`, `?` or `[`."""
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c in "*?[":
            return True
        i += 1
    return False


def _unescape(s: str) -> str:
    """Drop the backslashes that quote characters in a pattern component."""
    if "\\" not in s:
        return s
    out = []
    i = 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            i += 1
        out.append(s[i])
        i += 1
    return "".join(out)


# -- Pathname expansion ---------------------------------------------------------------------


def _hidden_ok(component: str, dotglob: bool) -> bool:
    """May this pattern component match names that start with '.'?"""
    return dotglob or component.startswith(".") or component.startswith("\\.")


def _match_names(prefix: str, names: tuple[str, ...], rx: Regex,
                 hidden: bool) -> list[str]:
    """`prefix + name` for each name matching `rx` (hidden names only when `hidden`)."""
    return [prefix + name for name in names
            if (hidden or name[0] != ".") and rx.fullmatch(matchable(name))]


def _expand_component(bases: list[str], comp: str, last: bool, dotglob: bool,
                      dots: bool) -> list[str]:
    """Match one magic component against the entries of each base directory (with `dots`
    and a component that starts with a literal '.', '.' and '..' too: `glob`).

    Non-final components keep only directories (following symlinks) and gain a '/'.
    """
    rx = compile_pattern(comp, True)
    hidden = _hidden_ok(comp, dotglob)
    # (`scandir` never lists them; every directory has both)
    special = [name for name in (".", "..") if rx.fullmatch(name)] if (
        dots and _hidden_ok(comp, False)) else []
    out: list[str] = []
    for base in bases:
        try:
            with os.scandir(base or ".") as it:
                for entry in it:
                    name = from_os(entry.name)
                    if (hidden or name[0] != ".") and rx.fullmatch(matchable(name)):
                        if last:
                            out.append(base + name)
                        elif entry.is_dir():
                            out.append(base + name + "/")
        except OSError:
            continue
        out += [base + name + ("" if last else "/") for name in special]
    return out


def glob(
    pattern: str,
    recursive: bool = False,
    *,
    dotglob: bool = False,
    dots: bool = False,
    parallel: bool = True,
    max_workers: int | None = None,
) -> list[str]:
    """POSIX pathname expansion of `pattern`, sorted; `[]` when nothing matches.

    Names starting with '.' match only a pattern component that starts with a literal '.'
    (unless `dotglob`). Such a component matches the entries '.' and '..' of a directory
    too with `dots`, as POSIX's rule reads and dash does (`.*` gives `. ..` first);
    without, a wildcard never produces them, as in bash's default. With `recursive`, a
    component that is exactly `**` matches zero or more directories (symlinks not followed)
    as in bash's globstar; a final `**` matches every path below its base, and the base
    itself. Without `recursive`, `**` is just `*`. A trailing '/' keeps only directories.
    The `**` walk runs on a thread pool unless `parallel=False`.
    """
    if not pattern:
        return []
    if not has_magic(pattern):
        path = _unescape(pattern)
        return [path] if os.path.lexists(path) else []
    comps = pattern.split("/")
    prefix = ""
    if pattern.startswith("/"):
        prefix = "/"
        while comps and comps[0] == "":
            comps.pop(0)
    must_dir = len(comps) > 1 and comps[-1] == ""
    if must_dir:
        comps.pop()
    def walker(base: str) -> list[DirListing]:
        # the `**` tree walk (threads, a pool) is loaded only by a pattern that has one
        from fusevm.shell import walk
        if parallel:
            return walk.walk_parallel(base, dotglob=dotglob, max_workers=max_workers)
        return walk.walk_sequential(base, dotglob=dotglob)

    bases = [prefix]
    results: list[str] | None = None
    i = 0
    while i < len(comps):
        comp = comps[i]
        last = i == len(comps) - 1
        if recursive and comp == "**":
            listings = [lst for base in bases for lst in walker(base)]
            if last:
                # Every path below each base, plus the base itself (bash prints `d/**` as d/).
                results = [b for b in bases if b]
                results += [lst.prefix + name for lst in listings for name in lst.names
                            if dotglob or name[0] != "."]
                break
            nxt = comps[i + 1]
            if i + 1 == len(comps) - 1 and has_magic(nxt) and nxt != "**":
                # `**/pat`: match the final component straight from the listings.
                rx = compile_pattern(nxt, True)
                hidden = _hidden_ok(nxt, dotglob)
                results = [p for lst in listings
                           for p in _match_names(lst.prefix, lst.names, rx, hidden)]
                break
            bases = [lst.prefix for lst in listings]
        elif not has_magic(comp):
            lit = _unescape(comp)
            bases = [b + lit + ("" if last else "/") for b in bases]
            if last:
                bases = [b for b in bases if os.path.lexists(b)]
        else:
            bases = _expand_component(bases, comp, last, dotglob, dots)
        if not bases:
            return []
        i += 1
    if results is None:
        results = bases
    if must_dir:
        results = [r.rstrip("/") + "/" for r in results if os.path.isdir(r)]
    return sorted(set(results))


# -- POSIX extended regular expressions -----------------------------------------------------


def regex_search(s: str, regex: str) -> list[str | None] | None:
    """Search `s` anywhere for POSIX ERE `regex` (`[[ s =~ regex ]]`), leftmost-longest,
    with the GNU `\\<`, `\\>`, `\\w`, `\\s`, `\\b` extensions: the match and its groups
    (None for a group that took no part), or None.

    Raises:
        RegexError: the expression is invalid (or uses back-references).
    """
    return compile_ere(regex, SHELL_ERE).search_groups(s)
