"""Trace abort reasons and the trace lifecycle, each declared once.

`Abort` is the one table of reasons a recording stops without a trace (LuaJIT's TREDEF is
the model): the recorder, the log, the stats and the tests all name reasons through it.
`Phase` is the lifecycle of one trace anchor, and `TRANSITIONS` the only moves between
phases; `Lifecycle.move` refuses any other, so a bug in the dispatch shows up as an error
in the tests rather than as a trace running in the wrong state.
"""

from __future__ import annotations

from fusevm.enums import Enum

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final


class Abort(Enum):
    """Why a recording ended without a trace (value: the sentence the log prints)."""

    TOO_LONG = "the trace grew longer than max_trace_len ops"
    NOT_LOWERABLE = "an op on the path has no native lowering"
    LEAVES_FRAME = "a return leaves the frame the recording started in"
    UNKNOWN_CALL = "a call to a function the chunk does not define"
    INLINE_DEPTH = "calls nest deeper than the inlining limit"
    RECURSION = "self-recursion deeper than max_inline_recursion"
    INNER_LOOP = "the path runs an inner loop (it gets a trace of its own)"
    LEFT_LOOP = "the path left the loop before coming back to its header"
    SCOPE = "a scope frame (PushFrame/PopFrame) on the path"
    MULTI_TARGET = "a branch with more than one target"
    UNSET_SLOT = "an inlined call reads one of its slots before setting it"
    STACK_BELOW_ENTRY = "the path pops values it did not push"
    RETURN_STACK = "a return leaves extra values under its result"
    ENDED = "the chunk ended or halted during the recording"
    ERROR = "an op raised an error during the recording"
    SIDE_LOOP = "a side trace came back to its own start before the loop header"
    COMPILE = "the native compile refused the trace"
    BAD_METADATA = "imported trace metadata does not match the chunk"


class Phase(Enum):
    """Where one trace anchor is in its life."""

    COUNTING = "counting"  # interpreted; entries counted toward the threshold
    RECORDING = "recording"  # the recorder is stepping the interpreter
    COMPILED = "compiled"  # a trace runs natively on entry
    PENALIZED = "penalized"  # a recording aborted; counting again from a higher bar
    BLACKLISTED = "blacklisted"  # never traced again (in this process)


TRANSITIONS: Final[dict[Phase, frozenset[Phase]]] = {
    Phase.COUNTING: frozenset({Phase.RECORDING, Phase.COMPILED, Phase.BLACKLISTED}),
    Phase.RECORDING: frozenset({Phase.COMPILED, Phase.PENALIZED, Phase.BLACKLISTED,
                                Phase.COUNTING}),
    Phase.PENALIZED: frozenset({Phase.RECORDING, Phase.COMPILED, Phase.BLACKLISTED}),
    Phase.COMPILED: frozenset({Phase.BLACKLISTED}),
    Phase.BLACKLISTED: frozenset(),
}

#: Aborts after which an anchor is blacklisted; each abort doubles the entries it must
#: count again before the next recording (LuaJIT's penalty cache).
MAX_ABORTS: Final = 4


class Lifecycle:
    """The phase of one anchor, its entry counter and its abort penalty."""

    __slots__ = ("phase", "count", "penalty", "aborts", "last_abort")

    def __init__(self) -> None:
        self.phase = Phase.COUNTING
        self.count = 0
        self.penalty = 0
        self.aborts = 0
        self.last_abort: Abort | None = None

    def move(self, to: Phase) -> None:
        if to not in TRANSITIONS[self.phase]:
            raise RuntimeError(f"trace lifecycle: no move from {self.phase.value} to "
                               f"{to.value}")
        self.phase = to

    def hot(self, threshold: int) -> bool:
        """Count one entry; True when a recording should start now."""
        self.count += 1
        return self.count >= threshold + self.penalty

    def aborted(self, reason: Abort, threshold: int) -> bool:
        """Record an abort; True when the anchor is now blacklisted."""
        self.aborts += 1
        self.last_abort = reason
        self.count = 0
        if self.aborts >= MAX_ABORTS:
            self.move(Phase.BLACKLISTED)
            return True
        self.penalty = max(self.penalty * 2, threshold, 1)
        self.move(Phase.PENALIZED)
        return False
