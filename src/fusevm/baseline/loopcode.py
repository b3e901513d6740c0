"""The loops of region code: Python loops that poll their hot point, and versioned loops.

A loop is a `while` loop whose body runs at most `POLL` times in a `for` over a tuple
(`open_loop`, `close_loop`): the hot point is tested once per `POLL` back edges, not on
each. A counted loop whose integers a guard on entry can bound (`growth`) is written
assuming that bound, so its 64-bit checks fold; every edge into it from outside checks
the guard first (`entry_guard`), and where it fails the code that assumes nothing runs
(`guard_failed`: the interpreter's step at the header chooses it; a direct form restarts
its checked copy).

A mixin of the region code generator (`codegen`), which the direct forms' generator
(`direct`) extends: it holds the generator's state these read and write.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fusevm.chunk import Chunk
    from fusevm.verify import Analysis

    from . import growth
    from .ranges import Bounds
    from .regions import Region
    from .types import Env


class LoopCode:
    """`open_loop`, `ticks`, `close_loop` (polled Python loops) and `version_loops`,
    `entry_guard`, `guard_failed` (versioned loops)."""

    if TYPE_CHECKING:
        chunk: Chunk
        an: Analysis
        region: Region
        env: Env
        bounds: Bounds
        nest: list[tuple[int, int]]
        polls: dict[tuple[int, int], set[int]]
        assumed: dict[int, Bounds]
        versioned: dict[int, growth.Growth]

        def put(self, indent: int, text: str, ip: int | None = None, keep: int = 0,
                flushed: bool = False) -> None: ...

        def depth_after(self, src: int) -> int: ...

        def leave(self, depth: int, target: int) -> str: ...

        def hot_test(self, h: int) -> str: ...

    def open_loop(self, indent: int, first: int, last: int) -> int:
        """Open the Python loop of ops `first` .. `last` (at `indent`); the indentation of
        its body. A loop whose first op is a hot point runs its body at most `POLL` times
        in a `for` over a tuple of that many, which costs next to nothing per iteration
        (less than a test of the hot point's step, a counter or an `itertools.repeat`
        made on entry); its `else`
        (`close_loop`) tests the hot point then, instead of every back edge doing so."""
        self.put(indent, "while True:")
        self.nest.append((first, last))
        if not self.polled(first):
            return indent + 1
        self.polls[(first, last)] = set()
        self.put(indent + 1, f"for _ in {self.ticks(first)}:")
        return indent + 2

    def polled(self, first: int) -> bool:
        """Whether the loop whose first op is `first` tests its hot point every `POLL`
        back edges: a hot point's loop does."""
        return first in self.region.hot

    def ticks(self, h: int) -> str:
        """What a loop at hot point `h` iterates over: `POLL` ticks while the hot point
        runs this region's own step; one when another step wraps it (the trace tier
        counting or recording the loop's iterations, as the dispatch loop enters them),
        so that each iteration goes back through it, as every back edge would."""
        return f"(ticks if code[{h}] is st{h} else tick)"

    def close_loop(self, indent: int) -> int:
        """Close the innermost loop `open_loop` opened (its body at `indent`): after
        `POLL` back edges, leave where the next iteration starts when the hot point's
        test says so (an interrupt, a native tier: the interpreter then stops or switches
        at the hot point), else go on. The indentation after it."""
        key = self.nest.pop()
        self.put(indent, "break")
        targets = self.polls.pop(key, None)
        if targets is None:
            return indent - 1
        first, last = key
        self.put(indent - 1, "else:")
        self.put(indent, f"if {self.hot_test(first)}:")
        # A `continue` of a loop of several blocks sets `pc` (a one-block loop's leaves
        # it: that goes to its first op).
        for t in sorted(targets - {first}):
            leave = self.leave(self.an.depth[t] or 0, t).replace("\n", "\n    ")
            self.put(indent + 1, f"if pc == {t}:\n    {leave}")
        self.put(indent + 1, self.leave(self.an.depth[first] or 0, first))
        self.put(indent, "continue")
        self.put(indent - 1, "break")
        return indent - 2

    def version_loops(self) -> None:
        """The region's counted loops whose growth a guard on entry can bound
        (`growth.region_loops`): the specialised code assumes what it checks."""
        from . import growth  # (a region without counted loops never loads it)
        self.versioned = growth.region_loops(self.chunk, self.region, self.an.depth)

    def entry_guard(self, src: int, target: int) -> str:
        """Where the edge from op `src` enters a versioned loop at `target` from outside
        it, in the code that assumes the loop's bounds: its guard, and what happens when
        it fails (the interpreter's step there chooses the code that assumes nothing)."""
        g = self.versioned.get(target)
        if g is None or target not in self.assumed or src in g.body:
            return ""
        from . import growth
        test = growth.guard_source(g, lambda k: f"l{k}", f"g{target}_", self.env,
                                   self.bounds)
        fail = self.guard_failed(src, target).replace("\n", "\n    ")
        return f"if not ({test}):\n    {fail}\n"

    def guard_failed(self, src: int, target: int) -> str:
        return "STATS.fallbacks += 1\n" + self.leave(self.depth_after(src), target)
