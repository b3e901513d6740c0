"""Shell pattern matching and pathname expansion: `*`, `?`, brackets, and the `**` tree walk.

Patterns compile through `fusevm.regex` (string mode for `[[ == ]]`, `case` and the `${v#p}`
family; path mode for globbing, where nothing matches `/`). `glob` does POSIX
pathname expansion with bash's globstar extension. The recursive walk behind `**` lists
directories on a thread pool (`walk_parallel`); `walk_sequential` is the one-thread baseline
the benchmark compares it with. Nothing here writes to the file system.
"""

from __future__ import annotations

import os

from fusevm.records import dataclass
from fusevm.regex import SHELL_ERE, Regex, compile_ere, compile_pattern, translate_pattern

# threading and the thread pool load with the first parallel walk (globstar): a `case`
# pattern or a plain glob does not pay for them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor
    from typing import Final

__all__ = [
    "DirListing",
    "compile_pattern",
    "glob",
    "has_magic",
    "str_match",
    "regex_search",
    "translate",
    "walk_parallel",
    "walk_sequential",
]

# -- Pattern matching ------------------------------------------------------------------------


def translate(pattern: str, path_mode: bool = False) -> str:
    """The RE2 text of a shell pattern (unanchored; see `fusevm.regex.translate_pattern`).

    `*` matches any run, `?` one character, `[...]` a bracket expression with `!`/`^`
    negation, ranges and POSIX classes; `\\x` matches x literally; an unclosed `[` is a
    literal. In path mode none of them matches `/`.
    """
    return translate_pattern(pattern, path_mode).source


def str_match(s: str, pattern: str) -> bool:
    """Whole-string shell pattern match (`[[ s == pattern ]]`, `case`): `*` matches `/` too."""
    return compile_pattern(pattern).fullmatch(s)


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


# -- Directory walking ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirListing:
    """One directory read during a walk.

    `prefix` is the directory as it appears in results ("" for the current directory,
    otherwise ending in "/"); `names` are all its entries; `subdirs` the entries the walk
    descends into (real directories, not symlinks; hidden ones only with dotglob).
    """

    prefix: str
    names: tuple[str, ...]
    subdirs: tuple[str, ...]


def _scan(prefix: str, dotglob: bool) -> DirListing | None:
    """List one directory; None when it cannot be read (those are skipped silently)."""
    try:
        with os.scandir(prefix or ".") as it:
            entries = list(it)
    except OSError:
        return None
    # d_type answers is_dir(follow_symlinks=False) without a stat call on Linux.
    names = tuple([e.name for e in entries])
    subdirs = tuple([e.name for e in entries
                     if (dotglob or e.name[0] != ".") and e.is_dir(follow_symlinks=False)])
    return DirListing(prefix, names, subdirs)


def walk_sequential(root: str = "", *, dotglob: bool = False) -> list[DirListing]:
    """List `root` and every directory below it, one at a time (the benchmark baseline).

    `root` is a result prefix: "" or a path ending in "/". Symlinked directories are not
    followed (bash globstar and zsh `**/` agree on that).
    """
    out: list[DirListing] = []
    stack = [root]
    while stack:
        listing = _scan(stack.pop(), dotglob)
        if listing is not None:
            out.append(listing)
            stack.extend(listing.prefix + d + "/" for d in listing.subdirs)
    return out


def _default_workers() -> int:
    return min(32, (os.cpu_count() or 1) * 4)


class _ParallelWalk:
    """A tree walk whose directory listings run as thread-pool tasks.

    Each task lists one directory and then, inline, a few small subdirectories (up to a budget
    of entries) before handing the rest to the pool, which keeps the per-task overhead low on
    trees made of many small directories. `os.scandir` releases the GIL during the system
    call, so listings overlap on cold caches and slow file systems.
    """

    _BUDGET: Final = 512

    def __init__(self, pool: ThreadPoolExecutor, dotglob: bool) -> None:
        import threading
        self.pool = pool
        self.dotglob = dotglob
        self.lock = threading.Lock()
        self.pending = 0
        self.done = threading.Event()
        self.out: list[DirListing] = []
        self.error: BaseException | None = None

    def submit(self, prefixes: list[str]) -> None:
        with self.lock:
            self.pending += 1
        self.pool.submit(self.run, prefixes)

    def run(self, prefixes: list[str]) -> None:
        try:
            budget = self._BUDGET
            stack = prefixes
            while stack:
                listing = _scan(stack.pop(), self.dotglob)
                if listing is None:
                    continue
                self.out.append(listing)
                budget -= len(listing.names) + 1
                children = [listing.prefix + d + "/" for d in listing.subdirs]
                if budget > 0:
                    stack.extend(children)
                else:
                    # Hand each child off as its own task; keep nothing local.
                    for child in children:
                        self.submit([child])
                    for child in stack:
                        self.submit([child])
                    stack = []
        except BaseException as exc:  # surfaced in the caller's thread by walk_parallel
            self.error = exc
        finally:
            with self.lock:
                self.pending -= 1
                if self.pending == 0:
                    self.done.set()


def walk_parallel(
    root: str = "", *, dotglob: bool = False, max_workers: int | None = None
) -> list[DirListing]:
    """List `root` and every directory below it on a thread pool (same result set as
    `walk_sequential`, in no particular order)."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers or _default_workers(),
                            thread_name_prefix="fusevm-glob") as pool:
        walk = _ParallelWalk(pool, dotglob)
        walk.submit([root])
        walk.done.wait()
    if walk.error is not None:
        raise walk.error
    return walk.out


# -- Pathname expansion ---------------------------------------------------------------------


def _hidden_ok(component: str, dotglob: bool) -> bool:
    """May this pattern component match names that start with '.'?"""
    return dotglob or component.startswith(".") or component.startswith("\\.")


def _match_names(prefix: str, names: tuple[str, ...], rx: Regex,
                 hidden: bool) -> list[str]:
    """`prefix + name` for each name matching `rx` (hidden names only when `hidden`)."""
    return [prefix + name for name in names
            if (hidden or name[0] != ".") and rx.fullmatch(name)]


def _expand_component(bases: list[str], comp: str, last: bool, dotglob: bool) -> list[str]:
    """Match one magic component against the entries of each base directory.

    Non-final components keep only directories (following symlinks) and gain a '/'.
    """
    rx = compile_pattern(comp, True)
    hidden = _hidden_ok(comp, dotglob)
    out: list[str] = []
    for base in bases:
        try:
            with os.scandir(base or ".") as it:
                for entry in it:
                    name = entry.name
                    if (hidden or name[0] != ".") and rx.fullmatch(name):
                        if last:
                            out.append(base + name)
                        elif entry.is_dir():
                            out.append(base + name + "/")
        except OSError:
            continue
    return out


def glob(
    pattern: str,
    recursive: bool = False,
    *,
    dotglob: bool = False,
    parallel: bool = True,
    max_workers: int | None = None,
) -> list[str]:
    """POSIX pathname expansion of `pattern`, sorted; `[]` when nothing matches.

    Names starting with '.' match only a pattern component that starts with a literal '.'
    (unless `dotglob`); '.' and '..' are never produced by a wildcard. With `recursive`, a
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
    if parallel:
        def walker(root: str) -> list[DirListing]:
            return walk_parallel(root, dotglob=dotglob, max_workers=max_workers)
    else:
        def walker(root: str) -> list[DirListing]:
            return walk_sequential(root, dotglob=dotglob)

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
            bases = _expand_component(bases, comp, last, dotglob)
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
