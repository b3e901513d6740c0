"""Interleaved timing: every column of a workload takes its turn in each round (A B C, C B A, ...).

A column's way of timing a workload is a `Session`: one checked call, then batches of
back-to-back calls on request (`InProcess` here; a peer in another process is a
`peers.ChildSession`, which serves batches the same way). `interleave` measures the
sessions of one workload together:

1. calibrate: each session's time per call, from batches grown until one lasts
   `rep_s / 4` (the fastest of three when short; this also warms JITs and caches up);
2. plan: every column's repetition is stretched to the same length, the slowest single
   call but at least `rep_s` and at most `max_rep_s`, so that a disturbance of the
   machine costs every column the same share of a round; the number of rounds gives
   each column about `target_s` of timing, within [min_rounds, max_rounds];
3. a warm-up round, whose full-length repetitions correct the calibration (the plan is
   made again from them) and are then discarded; then the rounds: one repetition of
   each column in turn, the order reversed every other round so no column always runs
   right after another; each round's batches run at another depth of the stack
   (`timing.round_depth`). The garbage of a round is collected after it, outside the
   timing.

Sample `r` of every column comes from round `r`, which is what `stats.ratio_spread` pairs.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from fusevm.bench.timing import CLOCK_NAMES, round_depth, time_batch, time_calls
from fusevm.bench.workloads import Workload, describe

#: Most calls one repetition makes (a column whose call is a few ns).
MAX_INNER: Final = 1_000_000
#: Calibration batches shorter than this (ns) are repeated, the fastest kept.
RECHECK_NS: Final = 20e6


@dataclass(frozen=True)
class Settings:
    """How hard to measure (see the module docstring for what each figure bounds)."""

    quick: bool = False
    #: Seconds of timing per column and workload, spread over the rounds.
    target_s: float = 0.75
    min_rounds: int = 5
    max_rounds: int = 1000
    #: Shortest repetition (seconds): long enough that timer resolution never matters.
    rep_s: float = 2e-3
    #: Longest repetition a fast column is stretched to when another column's call is slow.
    max_rep_s: float = 0.2
    warmup: bool = True
    count_ops: bool = True
    clock: str = "cpu"  # a key of timing.CLOCKS

    @classmethod
    def for_mode(cls, quick: bool, clock: str = "cpu") -> Settings:
        if quick:
            return cls(quick=True, target_s=0.02, min_rounds=2, rep_s=2e-4, max_rep_s=0.02,
                       warmup=False, clock=clock)
        return cls(clock=clock)


@dataclass
class Prepared:
    """An in-process column made ready for one workload."""

    #: One measured call.
    call: Callable[[], Any]
    #: Columns with the same key (same chunk, same way of running) are timed once.
    key: Hashable | None = None
    #: Counts the ops one call dispatches (run once, outside the timing).
    count: Callable[[], int] | None = None
    note: str = ""
    #: For a first-run column: makes a call that has never run before (on a new chunk
    #: object, so no cache knows it). Calls are made before the clock starts; each runs once.
    fresh: Callable[[], Callable[[], Any]] | None = None


class Session:
    """One column on one workload: a checked first call, then timed batches of calls."""

    #: The clock the batches are timed with, as the report names it.
    clock: str = ""
    key: Hashable | None = None
    count: Callable[[], int] | None = None
    note: str = ""

    def check(self, w: Workload) -> str | None:
        """Make one call; None when it returned `w`'s expected result, else what went wrong."""
        raise NotImplementedError

    def batch(self, n: int, depth: int = 0) -> float:
        """ns that `n` back-to-back calls take, `depth` frames deeper in the stack
        (`timing.padded`)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the session holds (a peer's process)."""


class InProcess(Session):
    """A column timed in this process."""

    def __init__(self, p: Prepared, clock: str) -> None:
        self._p = p
        self._clock = clock
        self.clock = CLOCK_NAMES[clock]
        self.key = p.key
        self.count = p.count
        self.note = p.note

    def check(self, w: Workload) -> str | None:
        got = self._p.call()  # a first-run column's call makes a fresh VM too
        if w.check(got):
            return None
        return f"returned {describe(got)}, expected {describe(w.expected)}"

    def batch(self, n: int, depth: int = 0) -> float:
        if self._p.fresh is None:
            return float(time_batch(self._p.call, n, self._clock, depth))
        return float(time_calls([self._p.fresh() for _ in range(n)], self._clock, depth))


@dataclass
class Measured:
    """What `interleave` measured: per-call ns per round for each column that ran
    throughout, the calls per repetition, and the columns that failed (with why)."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    inner: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    rounds: int = 0


def schedule(names: Sequence[str], rounds: int) -> list[list[str]]:
    """The column order of each round: as given, then reversed, alternately."""
    return [list(names) if r % 2 == 0 else list(reversed(names)) for r in range(rounds)]


def calibrate(session: Session, goal_ns: float) -> float:
    """ns per call, from a batch grown until it lasts at least `goal_ns`.

    A short batch is taken three times and the fastest kept: one preemption on a busy
    machine would otherwise inflate the estimate many times over.
    """
    n = 1
    while True:
        took = max(session.batch(n), 1.0)
        if took >= goal_ns or n >= MAX_INNER:
            break
        n = min(MAX_INNER, max(2 * n, int(n * goal_ns * 1.2 / took)))
    if took < RECHECK_NS:
        took = min(took, *(max(session.batch(n), 1.0) for _ in range(2)))
    return took / n


def plan(per_call: Mapping[str, float], settings: Settings) -> tuple[dict[str, int], int]:
    """Calls per repetition of each column, and the number of rounds."""
    if not per_call:
        return {}, 0
    rep_ns = min(max(max(per_call.values()), settings.rep_s * 1e9), settings.max_rep_s * 1e9)
    inner = {name: max(1, min(MAX_INNER, round(rep_ns / t))) for name, t in per_call.items()}
    round_ns = sum(inner[name] * t for name, t in per_call.items())
    rounds = int(settings.target_s * 1e9 * len(per_call) / max(round_ns, 1.0))
    return inner, max(settings.min_rounds, min(settings.max_rounds, rounds))


def _round(sessions: Mapping[str, Session], names: Sequence[str], out: Measured,
           samples: dict[str, list[float]], depth: int = 0) -> dict[str, float]:
    """One repetition of each column in `names`, in that order, `depth` frames deeper in
    the stack; per-call ns by column.

    A column that raises is recorded in `out.errors` and skipped from then on.
    """
    got: dict[str, float] = {}
    for name in names:
        if name in out.errors:
            continue
        try:
            took = sessions[name].batch(out.inner[name], depth)
        except Exception as e:  # a failing column is reported in its cell, not fatal
            out.errors[name] = f"{type(e).__name__}: {e}"
            continue
        got[name] = took / out.inner[name]
        samples[name].append(got[name])
    if gc.isenabled():
        gc.collect(0)  # this round's garbage, outside every repetition's timing
    return got


def interleave(sessions: Mapping[str, Session], settings: Settings,
               tick: Callable[[int, int], None] | None = None) -> Measured:
    """Time `sessions` (by column name, in column order) in interleaved rounds.

    A session that raises is dropped from the remaining rounds and reported in `errors`;
    `tick(done, total)` is called after every round (progress).
    """
    out = Measured()
    per_call: dict[str, float] = {}
    for name, session in sessions.items():
        try:
            per_call[name] = calibrate(session, settings.rep_s * 1e9 / 4)
        except Exception as e:  # a failing column is reported in its cell, not fatal
            out.errors[name] = f"{type(e).__name__}: {e}"
    out.inner, out.rounds = plan(per_call, settings)
    live = list(per_call)
    samples: dict[str, list[float]] = {name: [] for name in live}
    if settings.warmup:
        # The warm-up round's repetitions are full length, so a better estimate of each
        # call than calibration's short batches: the plan is made again from them.
        warm = _round(sessions, live, out, samples)
        per_call = {name: min(per_call[name], warm[name]) for name in live
                    if name not in out.errors}
        out.inner, out.rounds = plan(per_call, settings)
        live = list(per_call)
        samples = {name: [] for name in live}
        if tick is not None:
            tick(0, out.rounds)
    for r, names in enumerate(schedule(live, out.rounds)):
        _round(sessions, names, out, samples, round_depth(r))
        if tick is not None:
            tick(r + 1, out.rounds)
    out.samples = {name: s for name, s in samples.items() if name not in out.errors}
    return out
