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

A batch runs `depth` frames deeper than its caller (`padded`), and the harness gives each
round another depth (`round_depth`). CPython 3.11 keeps its frames in 16 KiB chunks and
frees a chunk as soon as the stack returns below it, so a recursion that keeps crossing a
chunk's end maps and unmaps memory at every crossing: fib(20) takes 0.8 ms at most depths
of the stack and up to 30 ms at a few. A batch timed at one fixed depth can land there for
one column and not for the other (each column's frames have their own sizes), which made
fib's ratio to its twin swing between 1.5x and 2x from one run of the harness to the next.
Spread over depths across a chunk, such a round is an outlier of both columns that the
medians leave out.
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


#: How many depths the rounds go through (`round_depth`), and the step between two
#: rounds' depths (prime to it, so that consecutive rounds are far apart): `_pad`'s
#: frames are about 320 bytes on CPython 3.11, so the depths span a 16 KiB chunk.
DEPTHS = 52
_STRIDE = 31
_NONES = (None,) * 24


def round_depth(r: int) -> int:
    """The extra stack depth round `r`'s batches run at."""
    return r * _STRIDE % DEPTHS


def _pad(depth: int, call: Callable[[], int]) -> int:
    # (24 locals, never read: they make each of these frames wide)
    a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, \
        c0, c1, c2, c3 = _NONES
    return _pad(depth - 1, call) if depth > 0 else call()


def padded(depth: int, call: Callable[[], int]) -> int:
    """`call()` run `depth` wide frames deeper in the stack."""
    return _pad(depth, call) if depth > 0 else call()


def time_batch(call: Callable[[], object], n: int, clock: str = "wall", depth: int = 0) -> int:
    """ns that `n` back-to-back calls of `call` take on `clock`, the collector paused,
    `depth` frames deeper in the stack (`padded`)."""
    return time_calls(itertools.repeat(call, n), clock, depth)


def time_calls(calls: Iterable[Callable[[], object]], clock: str = "wall",
               depth: int = 0) -> int:
    """ns that the given calls take back to back on `clock`, the collector paused (each
    call made beforehand: a first run needs a fresh chunk per call, built untimed),
    `depth` frames deeper in the stack (`padded`)."""
    return padded(depth, lambda: _time_calls(calls, clock))


def _time_calls(calls: Iterable[Callable[[], object]], clock: str) -> int:
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
    """Answer batch requests: each line of `requests` is a call count N and optionally a
    stack depth (`padded`), answered by one line, the ns N calls took; an empty line or
    the end of input ends the session."""
    while True:
        line = requests.readline().strip()
        if not line:
            return
        n, _, depth = line.partition(" ")
        replies.write(f"{time_batch(call, int(n), clock, int(depth or 0))}\n")
        replies.flush()
        if gc.isenabled():
            gc.collect(0)  # the garbage of this batch, outside the next one's timing
