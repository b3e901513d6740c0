"""The timing loop every in-process runner shares: warm up, calibrate, median of repetitions.

This module imports nothing but the standard library and keeps to syntax older Pythons
accept, because `twins.py` loads it by path inside peer interpreters (pypy3) too.

Method: one call is timed to calibrate. A repetition runs `inner` back-to-back calls
(enough that one repetition lasts about `batch_s`, so timer resolution never matters) and
records the mean per call; the result is the median over `reps` repetitions, where `reps`
is scaled so the whole measurement lasts about `target_s`, within [min_reps, max_reps].
The garbage collector is paused while repetitions run, as `timeit` does.

Clocks: "wall" is `time.perf_counter_ns` (the default); "cpu" is `time.thread_time_ns`, the
CPU time of the measuring thread, which a busy machine disturbs far less (the published
anchors were taken as process CPU time).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """One measurement: the median, fastest and slowest repetition, per call, in ns."""

    median_ns: float
    min_ns: float
    max_ns: float
    reps: int
    inner: int

    def as_dict(self) -> dict[str, float | int]:
        return {"median_ns": self.median_ns, "min_ns": self.min_ns, "max_ns": self.max_ns,
                "reps": self.reps, "inner": self.inner}


CLOCKS: dict[str, Callable[[], int]] = {"wall": time.perf_counter_ns,
                                        "cpu": time.thread_time_ns}


def time_once(call: Callable[[], object], clock: str = "wall") -> int:
    """ns of one call on `clock`."""
    now = CLOCKS[clock]
    t0 = now()
    call()
    return now() - t0


def measure(call: Callable[[], object], *, target_s: float, min_reps: int = 3,
            max_reps: int = 2000, batch_s: float = 1e-3, warmup: int = 1,
            clock: str = "wall") -> Timing:
    """Time `call` (which takes no arguments) as described in the module docstring."""
    for _ in range(warmup):
        call()
    first = max(time_once(call, clock), 1)
    inner = max(1, min(100_000, int(batch_s * 1e9 / first)))
    reps = int(target_s * 1e9 / (first * inner))
    reps = max(min_reps, min(max_reps, reps))
    # A single slow call already is a sample: do not pay for it twice.
    samples: list[float] = [float(first)] if inner == 1 else []
    enabled = gc.isenabled()
    gc.disable()
    try:
        now = CLOCKS[clock]
        loop = range(inner)
        while len(samples) < reps:
            t0 = now()
            for _ in loop:
                call()
            samples.append((now() - t0) / inner)
    finally:
        if enabled:
            gc.enable()
    return Timing(statistics.median(samples), min(samples), max(samples), len(samples), inner)
