"""Python `re` patterns of the frontends' own text handling, compiled on first use.

The frontends parse some of their own syntax with Python's `re` (awk's number prefix,
the shell's names and `printf` conversions). These are not user
regexes (those go through `fusevm.regex`). Compiling them at import costs every start-up
a few milliseconds, `re` itself included, though most short programs never use them, so
each is a `LazyPattern`: it compiles on the first method call, then keeps the compiled
pattern's methods as its own attributes, so later calls cost what the pattern's cost.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Iterator
    from typing import Any


class LazyPattern:
    """`re.compile(pattern)`, done when a method is first looked up (flags go inline in
    the pattern, `(?i)`, `(?s)`: naming `re.I` would import `re`)."""

    if TYPE_CHECKING:  # what the methods are once compiled (they live in __dict__ then)
        match: Callable[..., re.Match[str] | None]
        fullmatch: Callable[..., re.Match[str] | None]
        search: Callable[..., re.Match[str] | None]
        findall: Callable[..., list[Any]]
        finditer: Callable[..., Iterator[re.Match[str]]]
        sub: Callable[..., str]
        split: Callable[..., list[Any]]

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __getattr__(self, name: str) -> Any:
        # Called only for names not set yet: compile, then make every method a plain
        # attribute so this is never called again.
        import re
        compiled = re.compile(self.pattern)
        for method in ("match", "fullmatch", "search", "findall", "finditer", "sub", "subn",
                       "split", "groupindex", "groups"):
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"
