"""Range and RangeStep (docs/ops.md#collections): inclusive, exact integer stepping,
refusing huge ones."""

from __future__ import annotations

import pytest

from fusevm import Op
from fusevm.errors import ResourceLimit

from .support import INT_MAX, INT_MIN, apply, case_id, result_of

RANGES = [
    (1, 3, [1, 2, 3]), (3, 3, [3]), (3, 1, []), ("1", "3", [1, 2, 3]), (-2, 1, [-2, -1, 0, 1]),
    (1.9, 3.9, [1, 2, 3]), ("x", 2, [0, 1, 2]), (INT_MAX - 1, INT_MAX, [INT_MAX - 1, INT_MAX]),
    (INT_MIN, INT_MIN + 1, [INT_MIN, INT_MIN + 1]), (INT_MAX, INT_MIN, []),
]


@pytest.mark.parametrize("start, stop, expected", RANGES, ids=case_id)
def test_range_is_inclusive_over_to_int_bounds(start, stop, expected):
    assert result_of(Op.Range, start, stop) == expected


STEPPED = [
    (10, 1, -3, [10, 7, 4, 1]), (1, 10, 4, [1, 5, 9]), (1, 10, 0, []), (1, 3, 1, [1, 2, 3]),
    (3, 1, 1, []), (1, 3, -1, []), (0, 10, 5, [0, 5, 10]), ("0", "4", "2", [0, 2, 4]),
    (INT_MAX - 1, INT_MAX, INT_MAX, [INT_MAX - 1]), (INT_MIN + 1, INT_MIN, INT_MIN, [INT_MIN + 1]),
    (INT_MAX, INT_MIN, INT_MIN, [INT_MAX, -1]), (0, 0, 7, [0]),
]


@pytest.mark.parametrize("start, stop, step, expected", STEPPED, ids=case_id)
def test_range_step_stops_before_passing_stop_with_exact_arithmetic(start, stop, step,
                                                                    expected):
    assert result_of(Op.RangeStep, start, stop, step) == expected


def test_range_results_are_ints():
    assert all(type(v) is int for v in result_of(Op.Range, "1", 2.5))


@pytest.mark.parametrize("op, args", [(Op.Range, (0, INT_MAX)),
                                      (Op.RangeStep, (INT_MIN, INT_MAX, 1))], ids=case_id)
def test_a_huge_range_is_refused_with_a_resource_limit(op, args):
    with pytest.raises(ResourceLimit) as info:
        apply(op, *args)
    assert info.value.op == op.name
