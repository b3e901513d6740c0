"""The host-independent math ops (docs/ops.md#math): IEEE results, never Python exceptions."""

from __future__ import annotations

import math
import time

import pytest

from fusevm import IntegerOverflow, Op, Undef

from .support import INF, INT_MAX, INT_MIN, NAN, apply, assert_same, case_id, result_of

PI = math.pi

UNARY = [
    (Op.SqrtFloat, 4, 2.0), (Op.SqrtFloat, -1, NAN), (Op.SqrtFloat, -0.0, -0.0),
    (Op.SqrtFloat, INF, INF), (Op.SqrtFloat, "9", 3.0), (Op.SqrtFloat, Undef, 0.0),
    (Op.SinFloat, 0, 0.0), (Op.SinFloat, -0.0, -0.0), (Op.SinFloat, INF, NAN),
    (Op.CosFloat, 0, 1.0), (Op.CosFloat, -INF, NAN), (Op.TanFloat, 0.0, 0.0),
    (Op.TanFloat, INF, NAN),
    (Op.ExpFloat, 0, 1.0), (Op.ExpFloat, 1000, INF), (Op.ExpFloat, -INF, 0.0),
    (Op.ExpFloat, NAN, NAN),
    (Op.LogFloat, 1, 0.0), (Op.LogFloat, 0, -INF), (Op.LogFloat, -0.0, -INF),
    (Op.LogFloat, -1, NAN), (Op.LogFloat, INF, INF), (Op.LogFloat, NAN, NAN),
    (Op.LogFloat, -INF, NAN),
    (Op.Log2Float, 8, 3.0), (Op.Log2Float, 0, -INF), (Op.Log2Float, -2, NAN),
    (Op.Log10Float, 1000, 3.0), (Op.Log10Float, 0.0, -INF), (Op.Log10Float, -1e-300, NAN),
    (Op.AbsFloat, -2.5, 2.5), (Op.AbsFloat, -0.0, 0.0), (Op.AbsFloat, "-3", 3.0),
    (Op.AbsFloat, -INF, INF), (Op.AbsFloat, 3, 3.0),
    (Op.AsinFloat, 2, NAN), (Op.AsinFloat, 1, PI / 2), (Op.AcosFloat, 2, NAN),
    (Op.AcosFloat, 1, 0.0), (Op.AtanFloat, INF, PI / 2), (Op.AtanFloat, -0.0, -0.0),
    (Op.SinhFloat, 1000, INF), (Op.SinhFloat, -1000, -INF), (Op.SinhFloat, 0, 0.0),
    (Op.CoshFloat, 1000, INF), (Op.CoshFloat, -1000, INF), (Op.CoshFloat, 0, 1.0),
    (Op.TanhFloat, 1000, 1.0), (Op.TanhFloat, -INF, -1.0), (Op.TanhFloat, NAN, NAN),
    (Op.CeilFloat, 1.2, 2.0), (Op.CeilFloat, -0.5, -0.0), (Op.CeilFloat, INF, INF),
    (Op.CeilFloat, NAN, NAN), (Op.CeilFloat, 3, 3.0), (Op.CeilFloat, 1e300, 1e300),
    (Op.FloorFloat, -0.5, -1.0), (Op.FloorFloat, 0.5, 0.0), (Op.FloorFloat, -INF, -INF),
    (Op.TruncFloat, -2.7, -2.0), (Op.TruncFloat, -0.2, -0.0), (Op.TruncFloat, NAN, NAN),
    (Op.RoundFloat, 2.5, 2.0), (Op.RoundFloat, 3.5, 4.0), (Op.RoundFloat, -0.5, -0.0),
    (Op.RoundFloat, 0.5, 0.0), (Op.RoundFloat, -2.5, -2.0), (Op.RoundFloat, 2.6, 3.0),
    (Op.RoundFloat, INF, INF), (Op.RoundFloat, NAN, NAN), (Op.RoundFloat, 1e300, 1e300),
    (Op.RoundFloat, "1.5", 2.0),
    (Op.TruncInt, 2.9, 2), (Op.TruncInt, -2.9, -2), (Op.TruncInt, "12", 12),
    (Op.TruncInt, 1e30, INT_MAX), (Op.TruncInt, -1e30, INT_MIN), (Op.TruncInt, NAN, 0),
    (Op.TruncInt, "3.5", 0), (Op.TruncInt, [1, 2], 2),
    (Op.AbsInt, -5, 5), (Op.AbsInt, INT_MIN, INT_MIN), (Op.AbsInt, "-3", 3),
    (Op.AbsInt, -2.5, 2), (Op.AbsInt, INT_MAX, INT_MAX),
]


@pytest.mark.parametrize("op, a, expected", UNARY, ids=case_id)
def test_unary_math(op, a, expected):
    assert_same(result_of(op, a), expected)


BINARY = [
    (Op.PowFloat, 2, 10, 1024.0), (Op.PowFloat, 0, -1, INF), (Op.PowFloat, -8, 1 / 3, NAN),
    (Op.PowFloat, NAN, 0, 1.0), (Op.PowFloat, -10, 401, -INF), (Op.PowFloat, 2, 0.5,
                                                                 math.sqrt(2)),
    (Op.Atan2Float, 1, 1, PI / 4), (Op.Atan2Float, 0.0, -0.0, PI), (Op.Atan2Float, -0.0, -1, -PI),
    (Op.Atan2Float, 0, 0, 0.0), (Op.Atan2Float, INF, INF, PI / 4),
    (Op.GcdInt, 12, 18, 6), (Op.GcdInt, -12, 18, 6), (Op.GcdInt, 0, 0, 0), (Op.GcdInt, 7, 0, 7),
    (Op.GcdInt, INT_MIN, 0, INT_MIN), (Op.GcdInt, INT_MIN, INT_MIN, INT_MIN),
    (Op.GcdInt, INT_MIN, 6, 2), (Op.GcdInt, 12.9, "8", 4),
    (Op.LcmInt, 4, 6, 12), (Op.LcmInt, 0, 5, 0), (Op.LcmInt, -4, 6, 12),
    (Op.LcmInt, INT_MAX, INT_MAX - 1, INT_MAX), (Op.LcmInt, INT_MIN, 1, INT_MAX),
    (Op.LcmInt, 5, 0, 0),
]


@pytest.mark.parametrize("op, a, b, expected", BINARY, ids=case_id)
def test_binary_math(op, a, b, expected):
    assert_same(result_of(op, a, b), expected)


def test_abs_int_of_min_raises_under_strict_int():
    with pytest.raises(IntegerOverflow):
        apply(Op.AbsInt, INT_MIN, strict_int=True)


def test_gcd_int_of_min_and_zero_raises_under_strict_int():
    """Pinned: gcd(|MIN|, 0) = 2**63 wraps to MIN by default and is an overflow when strict."""
    with pytest.raises(IntegerOverflow):
        apply(Op.GcdInt, INT_MIN, 0, strict_int=True)
    assert apply(Op.GcdInt, INT_MIN, 6, strict_int=True).value == 2


def test_lcm_int_saturates_even_under_strict_int():
    """Pinned: LcmInt's saturation at MAX is its defined result, not an overflow."""
    assert apply(Op.LcmInt, INT_MAX, INT_MAX - 1, strict_int=True).value == INT_MAX


def test_time_int_pushes_the_unix_time_in_seconds():
    before = int(time.time())
    value = result_of(Op.TimeInt)
    assert type(value) is int and before <= value <= int(time.time())
