"""Summaries of interleaved samples: a column's median, and a ratio of two columns with its spread.

Every column of a workload is timed in the same rounds (`interleave.py`), so sample `r` of
one column and sample `r` of another were taken moments apart, and their ratio is one
paired observation: a noisy burst that slowed one round slowed both columns of it, so it
moves that round's ratio far less than either time. A ratio is quoted as the median of
the per-round ratios with their interquartile range (`Spread`), which always contains it;
the ratio of the two columns' medians is kept alongside (it lies within the full range of
the per-round ratios).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from fusevm.bench.timing import Timing


def quantile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0..1) of `values`, interpolating linearly between order statistics
    (numpy's default and `statistics.quantiles(method="inclusive")`)."""
    if not values:
        raise ValueError("quantile of no values")
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(samples: Sequence[float], inner: int) -> Timing:
    """A column's Timing from its per-call samples (one per round)."""
    return Timing(statistics.median(samples), min(samples), max(samples), len(samples), inner)


@dataclass(frozen=True)
class Spread:
    """The ratio of column A to column B: `ratio` is the median of the per-round ratios,
    `q1`..`q3` their interquartile range and `low`..`high` their full range;
    `of_medians` is median(A) / median(B)."""

    ratio: float
    of_medians: float
    q1: float
    q3: float
    low: float
    high: float
    rounds: int

    def as_dict(self) -> dict[str, float | int]:
        return {"ratio": self.ratio, "of_medians": self.of_medians, "q1": self.q1,
                "q3": self.q3, "min": self.low, "max": self.high, "rounds": self.rounds}


def ratio_spread(a: Sequence[float], b: Sequence[float]) -> Spread | None:
    """A over B from samples taken in the same rounds (None when either has no samples).

    Raises ValueError when the two were not measured in the same number of rounds: their
    samples would not pair up.
    """
    if not a or not b:
        return None
    if len(a) != len(b):
        raise ValueError(f"samples from {len(a)} and {len(b)} rounds do not pair up")
    per_round = [x / y for x, y in zip(a, b, strict=True) if y > 0]
    median_b = statistics.median(b)
    if not per_round or median_b <= 0:
        return None
    return Spread(statistics.median(per_round), statistics.median(a) / median_b,
                  quantile(per_round, 0.25), quantile(per_round, 0.75), min(per_round),
                  max(per_round), len(per_round))
