"""The directory walk behind a `**` glob: every directory below a root, listed on a thread
pool (`walk_parallel`), or one at a time (`walk_sequential`, the baseline
benchmarks/bench_glob.py compares it with). Nothing here writes to the file system.

Kept apart from `fusevm.shell.glob` so that pattern matching (`case`, `*.txt`) does not
load threads, `concurrent.futures` and `dataclasses`.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

from fusevm.shell.text import from_os

__all__ = ["DirListing", "walk_parallel", "walk_sequential"]


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
    names = tuple([from_os(e.name) for e in entries])
    subdirs = tuple([from_os(e.name) for e in entries
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
    with ThreadPoolExecutor(max_workers or _default_workers(),
                            thread_name_prefix="fusevm-glob") as pool:
        walk = _ParallelWalk(pool, dotglob)
        walk.submit([root])
        walk.done.wait()
    if walk.error is not None:
        raise walk.error
    return walk.out
