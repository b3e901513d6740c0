"""Clocks and the timed batch of calls, shared by the harness and the peer processes.

This module imports nothing but the standard library and keeps to syntax older Pythons
accept, because `twins.py` loads it by path inside peer interpreters (pypy3) too.

A batch is `n` back-to-back calls timed as one interval with the garbage collector paused
(as `timeit` does); its duration divided by `n` is one sample. The harness decides how
many calls a batch makes and in which order the columns' batches run (`interleave.py`);
a peer process serves batches on request (`serve`), so its batches interleave with the
harness's own.

Clocks: "wall" is `time.perf_counter_ns`; "cpu" is `time.thread_time_ns`, the CPU time of
the measuring thread, which a busy machine disturbs far less.
"""

from __future__ import annotations

import gc
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

#: Clock functions by the name `--clock` takes.
CLOCKS: dict[str, Callable[[], int]] = {"wall": time.perf_counter_ns,
                                        "cpu": time.thread_time_ns}
#: What each clock is, as a report names it.
CLOCK_NAMES: dict[str, str] = {"wall": "time.perf_counter_ns (wall clock)",
                               "cpu": "time.thread_time_ns (CPU time of the thread)"}


@dataclass(frozen=True)
class Timing:
    """One column's measurement: the median, fastest and slowest sample, per call, in ns."""

    median_ns: float
    min_ns: float
    max_ns: float
    reps: int
    inner: int

    def as_dict(self) -> dict[str, float]:
        return {"median_ns": self.median_ns, "min_ns": self.min_ns, "max_ns": self.max_ns,
                "reps": self.reps, "inner": self.inner}


def time_batch(call: Callable[[], object], n: int, clock: str = "wall") -> int:
    """ns that `n` back-to-back calls of `call` take on `clock`, the collector paused."""
    return time_calls(itertools.repeat(call, n), clock)


def time_calls(calls: Iterable[Callable[[], object]], clock: str = "wall") -> int:
    """ns that the given calls take back to back on `clock`, the collector paused (each
    call made beforehand: a first run needs a fresh chunk per call, built untimed)."""
    now = CLOCKS[clock]
    enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = now()
        for call in calls:
            call()
        return now() - t0
    finally:
        if enabled:
            gc.enable()


def serve(call: Callable[[], object], clock: str, requests: IO[str], replies: IO[str]) -> None:
    """Answer batch requests: each line of `requests` is a call count N, answered by one
    line, the ns N calls took; an empty line or the end of input ends the session."""
    while True:
        line = requests.readline().strip()
        if not line:
            return
        replies.write(f"{time_batch(call, int(line), clock)}\n")
        replies.flush()
        if gc.isenabled():
            gc.collect(0)  # the garbage of this batch, outside the next one's timing
