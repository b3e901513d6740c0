"""LogNot LogAnd LogOr and the bitwise ops (docs/ops.md#logical-bitwise)."""

from __future__ import annotations

import pytest

from fusevm import IntegerOverflow, Op, Undef
from fusevm.values import NativeFn, Ref, Status

from .support import INT_MAX, INT_MIN, NAN, apply, assert_same, case_id, result_of

TRUTHINESS = [
    (Undef, False), (True, True), (False, False), (0, False), (1, True), (-1, True),
    (0.0, False), (-0.0, False), (NAN, True), (0.5, True), ("", False), ("0", False),
    ("0.0", True), ("00", True), (" 0", True), ("a", True), ([], False), ([0], True),
    ({}, False), ({"a": 0}, True), (Status(0), True), (Status(1), False), (Ref(0), True),
    (NativeFn(0), True),
]


@pytest.mark.parametrize("value, truth", TRUTHINESS, ids=case_id)
def test_log_not_is_the_negated_truthiness(value, truth):
    assert_same(result_of(Op.LogNot, value), not truth)


PAIRS = [(a, b) for a in TRUTHINESS[::3] for b in TRUTHINESS[1::4]]


@pytest.mark.parametrize("a, b", PAIRS, ids=case_id)
def test_log_and_and_log_or_combine_truthiness_into_a_bool(a, b):
    (x, tx), (y, ty) = a, b
    assert_same(result_of(Op.LogAnd, x, y), tx and ty)
    assert_same(result_of(Op.LogOr, x, y), tx or ty)


def test_log_and_or_return_bools_not_operands():
    assert_same(result_of(Op.LogOr, 0, [1]), True)
    assert_same(result_of(Op.LogOr, 0, []), False)
    assert_same(result_of(Op.LogAnd, "0", 1), False)


BITWISE = [
    (Op.BitAnd, 12, 10, 8), (Op.BitOr, 12, 10, 14), (Op.BitXor, 12, 10, 6),
    (Op.BitAnd, 7.9, 3, 3), (Op.BitOr, [1, 2], 0, 2), (Op.BitAnd, -1, INT_MIN, INT_MIN),
    (Op.BitXor, "5", "3", 6), (Op.BitOr, True, 2, 3), (Op.BitAnd, "1.5", 1, 0),
    (Op.Shl, 1, 3, 8), (Op.Shl, 1, 64, 1), (Op.Shl, 1, -1, INT_MIN), (Op.Shl, 1, 63, INT_MIN),
    (Op.Shl, 1, 2**32 + 3, 8), (Op.Shl, 3, 63, INT_MIN), (Op.Shl, -1, 1, -2),
    (Op.Shl, INT_MAX, 1, -2),
    (Op.Shr, -8, 1, -4), (Op.Shr, -5, -1, -1), (Op.Shr, 16, 2, 4), (Op.Shr, 1, 64, 1),
    (Op.Shr, INT_MIN, 63, -1), (Op.Shr, 2.9, 1, 1),
]


@pytest.mark.parametrize("op, a, b, expected", BITWISE, ids=case_id)
def test_bitwise_ops_work_on_to_int_with_six_bit_shift_counts(op, a, b, expected):
    assert_same(result_of(op, a, b), expected)


@pytest.mark.parametrize("value, expected", [(0, -1), (2.5, -3), (-1, 0), (INT_MAX, INT_MIN),
                                             ("7", -8), ([1, 2, 3], -4)], ids=case_id)
def test_bit_not_complements_to_int(value, expected):
    assert_same(result_of(Op.BitNot, value), expected)


def test_shl_overflow_raises_under_strict_int():
    with pytest.raises(IntegerOverflow):
        apply(Op.Shl, 1, 63, strict_int=True)
    assert_same(apply(Op.Shl, -1, 63, strict_int=True).value, INT_MIN)
