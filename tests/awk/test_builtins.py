"""The small builtins: substr, index, tolower/toupper, rand/srand and the math functions."""

from __future__ import annotations

import math

import pytest

from fusevm.lang.awk.format import sprintf
from fusevm.lang.awk.runtime import (
    AwkRandom,
    awk_atan2,
    awk_cos,
    awk_exp,
    awk_log,
    awk_mod,
    awk_pow,
    awk_sin,
    awk_sqrt,
    index,
    substr,
    tolower,
    toupper,
)

from .support import gawk_strings, needs_gawk

INF = math.inf
NAN = math.nan


@pytest.mark.parametrize(
    ("start", "length", "text"),
    [
        (2, None, "ello"), (0, 2, "he"), (-1, 3, "hel"), (1.5, None, "hello"),
        (2.5, None, "ello"), (1.5, 1.5, "h"), (2, -1, ""), (5, 10, "o"), (6, None, ""),
        (3.5, 1, "l"), (0.5, 1, "h"), (1, 2.5, "he"), (1, 3.5, "hel"), (1.75, 1, "h"),
        (INF, None, ""), (-INF, None, "hello"), (1, INF, "hello"), (-INF, INF, "hello"),
        (2, NAN, ""), (NAN, None, "hello"), (2, 0, ""), (100, 1, ""), (5.25, 1, "o"),
        (1e300, 1, ""),
    ],
)  # fmt: skip
def test_substr(start: float, length: float | None, text: str) -> None:
    assert substr("hello", start, length) == text


@pytest.mark.process
@needs_gawk
def test_substr_grid_matches_gawk() -> None:
    starts = [x / 4 for x in range(-8, 29)]
    lengths = [x / 4 for x in range(-4, 29)]
    exprs = [f'substr("hello", {m}, {n})' for m in starts for n in lengths]
    exprs += [f'substr("hello", {m})' for m in starts]
    mine = [substr("hello", m, n) for m in starts for n in lengths]
    mine += [substr("hello", m) for m in starts]
    assert gawk_strings(exprs) == mine


def test_index() -> None:
    assert index("foobar", "bar") == 4
    assert index("foobar", "x") == 0
    assert index("abc", "") == 1
    assert index("", "") == 1
    assert index("", "a") == 0


def test_case_mapping_is_ascii_only() -> None:
    assert tolower("HeLLo, WÖRLD 1") == "hello, wÖrld 1"
    assert toupper("straße ok") == "STRAßE OK"


def test_rand_is_in_unit_interval_and_reproducible() -> None:
    first = AwkRandom()
    values = [first.rand() for _ in range(1000)]
    assert all(0.0 <= v < 1.0 for v in values)
    assert values == [AwkRandom().rand() for _ in range(1)] + values[1:]
    second = AwkRandom()
    assert [second.rand() for _ in range(1000)] == values


def test_srand_returns_the_previous_seed() -> None:
    rng = AwkRandom()
    first = rng.rand()
    assert rng.srand(5) == 1.0  # (the initial seed of gawk, onetrue-awk and busybox)
    after_five = rng.rand()
    assert rng.srand(7) == 5
    assert rng.srand(5) == 7
    assert rng.rand() == after_five
    assert rng.srand() == 5  # reseeds from the clock
    assert rng.srand(1) > 1_000_000_000
    assert rng.rand() == first  # (seed 1 starts the sequence again)


def test_srand_with_fractional_seed_uses_its_integer_part() -> None:
    a, b = AwkRandom(), AwkRandom()
    a.srand(3.7)
    b.srand(3)
    assert a.rand() == b.rand()
    assert a.srand(1) == 3.7


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b) and math.copysign(1, a) == math.copysign(1, b)
    return a == b


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (awk_log(0), -INF), (awk_log(-1), -NAN), (awk_log(math.e), 1.0), (awk_sqrt(-1), -NAN),
        (awk_sqrt(4), 2.0), (awk_exp(1000), INF), (awk_exp(0), 1.0), (awk_sin(INF), -NAN),
        (awk_cos(-INF), -NAN), (awk_cos(0), 1.0), (awk_atan2(0, -1), math.pi),
        (awk_pow(2, 10), 1024.0), (awk_pow(0, -1), INF), (awk_pow(-0.0, -1), -INF),
        (awk_pow(-8, 1 / 3), -NAN), (awk_pow(10, 400), INF), (awk_pow(-10, 401), -INF),
        (awk_pow(2, 0.5), math.sqrt(2)), (awk_mod(-10, 3), -1.0), (awk_mod(10.5, 3), 1.5),
        (awk_mod(INF, 3), -NAN), (awk_mod(5, INF), 5.0),
    ],
)  # fmt: skip
def test_math_follows_the_c_library(value: float, expected: float) -> None:
    assert _same(value, expected)


def test_mod_by_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        awk_mod(1, 0)


@pytest.mark.process
@needs_gawk
def test_integer_powers_round_like_gawk() -> None:
    cases = [(1.1, 37.0), (27.0, 9.0), (3.0, 40.0), (0.9, -7.0), (1.0000001, 1e6), (-2.5, 13.0),
             (7.0, 0.5), (2.0, -1074.0), (1.5, 2.5)]  # fmt: skip
    exprs = [f'sprintf("%.17g", {x!r}^{y!r})' for x, y in cases]
    assert gawk_strings(exprs) == [sprintf("%.17g", [awk_pow(x, y)]) for x, y in cases]
