"""Numeric and string comparisons (docs/ops.md#comparison): Bool results, Int exact,
mixed through f64."""

from __future__ import annotations

import pytest

from fusevm import Op, Undef

from .support import INT_MAX, NAN, assert_same, case_id, result_of

NUMERIC = [Op.NumEq, Op.NumNe, Op.NumLt, Op.NumGt, Op.NumLe, Op.NumGe]
# (a, b, (eq, ne, lt, gt, le, ge), spaceship)
NUMERIC_CASES = [
    (1, 2, (False, True, True, False, True, False), -1),
    (2, 2, (True, False, False, False, True, True), 0),
    (3, 2, (False, True, False, True, False, True), 1),
    (INT_MAX, INT_MAX - 1, (False, True, False, True, False, True), 1),
    (1, 1.0, (True, False, False, False, True, True), 0),
    (2**53 + 1, float(2**53), (True, False, False, False, True, True), 0),
    ("1.0", 1, (True, False, False, False, True, True), 0),
    ("10", "9", (False, True, False, True, False, True), 1),
    (NAN, NAN, (False, True, False, False, False, False), 0),
    (NAN, 1, (False, True, False, False, False, False), 0),
    (Undef, 0, (True, False, False, False, True, True), 0),
    ([1, 2], 0, (True, False, False, False, True, True), 0),
    (-0.0, 0.0, (True, False, False, False, True, True), 0),
    (True, 1, (True, False, False, False, True, True), 0),
    ("abc", -1, (False, True, False, True, False, True), 1),
]


@pytest.mark.parametrize("a, b, expected, _", NUMERIC_CASES, ids=case_id)
@pytest.mark.parametrize("index", range(6), ids=[op.name for op in NUMERIC])
def test_numeric_comparisons_yield_bool(index, a, b, expected, _):
    assert_same(result_of(NUMERIC[index], a, b), expected[index])


@pytest.mark.parametrize("a, b, _, expected", NUMERIC_CASES, ids=case_id)
def test_spaceship_yields_minus_one_zero_or_one_and_zero_for_nan(a, b, _, expected):
    assert_same(result_of(Op.Spaceship, a, b), expected)


STRING = [Op.StrEq, Op.StrNe, Op.StrLt, Op.StrGt, Op.StrLe, Op.StrGe]
STRING_CASES = [
    ("a", "b", (False, True, True, False, True, False), -1),
    ("b", "b", (True, False, False, False, True, True), 0),
    ("a", "B", (False, True, False, True, False, True), 1),
    ("10", "9", (False, True, True, False, True, False), -1),
    (1, 1.0, (True, False, False, False, True, True), 0),
    (Undef, "", (True, False, False, False, True, True), 0),
    ("", "a", (False, True, True, False, True, False), -1),
    ("é", "z", (False, True, False, True, False, True), 1),
    ([1, 2], "1 2", (True, False, False, False, True, True), 0),
    (True, "1", (True, False, False, False, True, True), 0),
]


@pytest.mark.parametrize("a, b, expected, _", STRING_CASES, ids=case_id)
@pytest.mark.parametrize("index", range(6), ids=[op.name for op in STRING])
def test_string_comparisons_compare_to_str_by_code_point(index, a, b, expected, _):
    assert_same(result_of(STRING[index], a, b), expected[index])


@pytest.mark.parametrize("a, b, _, expected", STRING_CASES, ids=case_id)
def test_str_cmp_yields_minus_one_zero_or_one(a, b, _, expected):
    assert_same(result_of(Op.StrCmp, a, b), expected)
