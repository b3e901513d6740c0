"""Concat, StringRepeat, StringLen (docs/ops.md#string; D6: StringLen counts code points)."""

from __future__ import annotations

import pytest

from fusevm import Op, Undef
from fusevm.values import NativeFn, Ref, Status

from .support import INF, NAN, assert_same, case_id, result_of

CONCAT = [
    ("a", "b", "ab"), (1, 2, "12"), (1.0, 0.1, "10.1"), (2.5, "x", "2.5x"),
    (True, False, "1"), (Undef, "x", "x"), ([[1, 2], 3], "", "1 2 3"), ({"a": 1}, "", "(hash)"),
    (NAN, INF, "NaNinf"), (-0.0, "", "-0"), (1e21, "", "1000000000000000000000"),
    (Status(2), Ref(1), "2(ref)"), (NativeFn(7), "", "(builtin:7)"), ("é", "ü", "éü"),
    (1e-7, "", "0.0000001"), (233115890514796.125, "", "233115890514796.13"),
]


@pytest.mark.parametrize("a, b, expected", CONCAT, ids=case_id)
def test_concat_joins_the_string_forms(a, b, expected):
    assert_same(result_of(Op.Concat, a, b), expected)


REPEAT = [("ab", 3, "ababab"), ("ab", 0, ""), ("ab", -1, ""), ("ab", 2.9, "abab"),
          (12, 2, "1212"), ("ab", "2", "abab"), ("ab", "2.5", ""), ("", 5, ""),
          ("x", True, "x"), ([1, 2], 2, "1 21 2")]


@pytest.mark.parametrize("s, count, expected", REPEAT, ids=case_id)
def test_string_repeat_repeats_to_str_by_to_int_count(s, count, expected):
    assert_same(result_of(Op.StringRepeat, s, count), expected)


LENGTHS = [("", 0), ("abc", 3), ("é", 1), ("日本語", 3), ("🎉", 1), (12345, 5), (-1, 2),
           (0.5, 3), (Undef, 0), (True, 1), (False, 0), ([1, 2, 3], 3), ({"a": 1}, 1),
           (Status(10), 2), (Ref(1), 5), (NAN, 3)]


@pytest.mark.parametrize("value, expected", LENGTHS, ids=case_id)
def test_string_len_counts_code_points_or_elements(value, expected):
    assert_same(result_of(Op.StringLen, value), expected)
