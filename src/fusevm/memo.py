"""Bounded memo tables: a function's results by argument, kept without functools.

`functools` loads `collections`, `types`, `reprlib` and `keyword`, about as much as the
rest of a short awk command's standard-library imports together, so the frontends cache
their parsed formats and compiled regexes here instead. `memo(maxsize)(fn)` is the
`__getitem__` of a dict subclass whose `__missing__` calls `fn`: a hit is one C-level dict
lookup (what `functools.lru_cache`'s C wrapper costs), a miss calls `fn` once and keeps
the result, and when `maxsize` results are kept the oldest goes first. A call that raises
keeps nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Hashable
    from typing import Any, TypeVar

    K = TypeVar("K", bound=Hashable)
    V = TypeVar("V")


class Memo(dict):  # type: ignore[type-arg]
    """Results of `make` by argument, at most `maxsize` of them (see the module docstring)."""

    __slots__ = ("make", "maxsize")

    def __init__(self, make: Callable[[Any], Any], maxsize: int) -> None:
        super().__init__()
        self.make = make
        self.maxsize = maxsize

    def __missing__(self, key: Hashable) -> Any:
        value = self.make(key)
        if len(self) >= self.maxsize:
            del self[next(iter(self))]  # the oldest: dicts keep insertion order
        self[key] = value
        return value


def memo(maxsize: int) -> Callable[[Callable[[K], V]], Callable[[K], V]]:
    """Decorator: the function, memoized by its one (hashable) argument."""
    def wrap(make: Callable[[K], V]) -> Callable[[K], V]:
        lookup: Callable[[K], V] = Memo(make, maxsize).__getitem__
        return lookup
    return wrap
