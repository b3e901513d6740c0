"""Add Sub Mul Div Mod Pow Negate Inc Dec: Int wrap, strict_int, the Float path, coercions.

docs/ops.md#arithmetic with the decisions: D4 (wrap by default, IntegerOverflow under strict_int),
D1 (Div by any zero and Mod by Int 0 raise ZeroDivision), D5 (Div and Pow always Float).
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusevm import VM, IntegerOverflow, Op, Undef
from fusevm.asm import assemble
from fusevm.errors import ZeroDivision
from fusevm.values import Status

from .support import INF, INT_MAX, INT_MIN, NAN, apply, assert_same, case_id, result_of

BINARY = [
    # Int x Int stays Int and wraps
    (Op.Add, 10, 32, 42), (Op.Add, INT_MAX, 1, INT_MIN), (Op.Add, INT_MIN, -1, INT_MAX),
    (Op.Sub, 5, 7, -2), (Op.Sub, INT_MIN, 1, INT_MAX), (Op.Sub, 0, INT_MIN, INT_MIN),
    (Op.Mul, 6, 7, 42), (Op.Mul, INT_MAX, 2, -2), (Op.Mul, INT_MIN, -1, INT_MIN),
    (Op.Mul, 2**32, 2**32, 0),
    # anything that is not exactly Int takes the Float path
    (Op.Add, 1, 2.0, 3.0), (Op.Add, 1, "2", 3.0), (Op.Add, "2", "3", 5.0),
    (Op.Add, True, 1, 2.0), (Op.Add, Undef, 1, 1.0), (Op.Add, Status(2), 1, 3.0),
    (Op.Add, [1, 2], 1, 1.0), (Op.Add, {"a": 1}, 1, 1.0), (Op.Add, "1e3", 0, 1000.0),
    (Op.Add, "abc", 1, 1.0), (Op.Add, 0.1, 0.2, 0.30000000000000004),
    (Op.Add, 1e308, 1e308, INF), (Op.Add, INF, -INF, NAN),
    (Op.Sub, 1, 0.5, 0.5), (Op.Sub, "10", "4", 6.0), (Op.Sub, -0.0, 0.0, -0.0),
    (Op.Mul, 2, 2.5, 5.0), (Op.Mul, "3", 2, 6.0), (Op.Mul, -1, 0.0, -0.0),
    # Div is always Float
    (Op.Div, 7, 2, 3.5), (Op.Div, 6, 3, 2.0), (Op.Div, -7, 2, -3.5), (Op.Div, 1, 3,
                                                                      0.3333333333333333),
    (Op.Div, "9", "3", 3.0), (Op.Div, 1, NAN, NAN), (Op.Div, INF, 2, INF),
    (Op.Div, 1, INF, 0.0), (Op.Div, INT_MAX, 1, 9.223372036854776e18),
    # Mod: Int remainder with the dividend's sign; else C fmod
    (Op.Mod, -7, 3, -1), (Op.Mod, 7, -3, 1), (Op.Mod, 7, 3, 1), (Op.Mod, -7, -3, -1),
    (Op.Mod, INT_MIN, -1, 0), (Op.Mod, INT_MIN, INT_MAX, -1),
    (Op.Mod, -7.5, 2, -1.5), (Op.Mod, 7, 0.0, NAN), (Op.Mod, 5.5, INF, 5.5),
    (Op.Mod, INF, 2, NAN), (Op.Mod, 7, 2.0, 1.0), (Op.Mod, NAN, 1, NAN),
    (Op.Mod, "7", 2, 1.0), (Op.Mod, 7, "0", NAN), (Op.Mod, -0.0, 5, -0.0),
    # Pow is always Float (C99 pow)
    (Op.Pow, 2, 10, 1024.0), (Op.Pow, 2, -1, 0.5), (Op.Pow, 0, -1, INF),
    (Op.Pow, -0.0, -1, -INF), (Op.Pow, -0.0, -2, INF), (Op.Pow, -8, 1 / 3, NAN),
    (Op.Pow, NAN, 0, 1.0), (Op.Pow, 1, NAN, 1.0), (Op.Pow, 10, 400, INF),
    (Op.Pow, -10, 401, -INF), (Op.Pow, -10, 400, INF), (Op.Pow, "2", "3", 8.0),
    (Op.Pow, 0, 0, 1.0),
]


@pytest.mark.parametrize("op, a, b, expected", BINARY, ids=case_id)
def test_binary_arithmetic(op, a, b, expected):
    assert_same(result_of(op, a, b), expected)


UNARY = [
    (Op.Negate, 5, -5), (Op.Negate, INT_MIN, INT_MIN), (Op.Negate, INT_MAX, -INT_MAX),
    (Op.Negate, 2.5, -2.5), (Op.Negate, 0.0, -0.0), (Op.Negate, "5", -5.0),
    (Op.Negate, True, -1.0), (Op.Negate, Undef, -0.0), (Op.Negate, [1, 2], -0.0),
    (Op.Negate, NAN, NAN), (Op.Negate, 0, 0),
    (Op.Inc, 1, 2), (Op.Inc, INT_MAX, INT_MIN), (Op.Inc, 2.7, 3), (Op.Inc, -2.7, -1),
    (Op.Inc, "3.5", 1), (Op.Inc, "41", 42), (Op.Inc, True, 2), (Op.Inc, Undef, 1),
    (Op.Inc, [7, 8], 3), (Op.Inc, NAN, 1), (Op.Inc, 1e30, INT_MIN), (Op.Inc, Status(4), 5),
    (Op.Dec, 1, 0), (Op.Dec, INT_MIN, INT_MAX), (Op.Dec, 2.7, 1), (Op.Dec, "x", -1),
    (Op.Dec, False, -1),
]


@pytest.mark.parametrize("op, a, expected", UNARY, ids=case_id)
def test_unary_arithmetic(op, a, expected):
    assert_same(result_of(op, a), expected)


@pytest.mark.parametrize("divisor", [0, 0.0, -0.0, "", "0", "abc", Undef, False, [1], {},
                                     Status(0)], ids=case_id)
def test_div_by_anything_that_coerces_to_zero_raises_zero_division(divisor):
    with pytest.raises(ZeroDivision, match="division by zero") as info:
        apply(Op.Div, 1, divisor)
    assert info.value.op == "Div"


def test_mod_by_int_zero_raises_zero_division():
    with pytest.raises(ZeroDivision, match="modulo by zero") as info:
        apply(Op.Mod, 7, 0)
    assert info.value.op == "Mod"


def test_mod_of_a_float_by_zero_is_nan_not_an_error():
    """The Float path keeps C fmod (vector 5, fourth item, is not superseded)."""
    assert_same(result_of(Op.Mod, 7.0, 0), NAN)
    assert_same(result_of(Op.Mod, 7, 0.0), NAN)


OVERFLOWS = [
    (Op.Add, (INT_MAX, 1)), (Op.Add, (INT_MIN, -1)), (Op.Sub, (INT_MIN, 1)),
    (Op.Mul, (INT_MAX, 2)), (Op.Mul, (INT_MIN, -1)), (Op.Negate, (INT_MIN,)),
    (Op.Inc, (INT_MAX,)), (Op.Dec, (INT_MIN,)), (Op.Inc, (1e30,)),
]


@pytest.mark.parametrize("op, args", OVERFLOWS, ids=case_id)
def test_strict_int_turns_int_overflow_into_integer_overflow(op, args):
    with pytest.raises(IntegerOverflow) as info:
        apply(op, *args, strict_int=True)
    assert info.value.op == op.name


@pytest.mark.parametrize("op, args, expected", [
    (Op.Add, (INT_MAX - 1, 1), INT_MAX), (Op.Sub, (INT_MIN + 1, 1), INT_MIN),
    (Op.Mul, (-(2**62), 2), INT_MIN), (Op.Negate, (INT_MAX,), -INT_MAX),
    (Op.Add, (1e308, 1e308), INF), (Op.Mod, (INT_MIN, -1), 0),
], ids=case_id)
def test_strict_int_leaves_in_range_and_float_results_alone(op, args, expected):
    assert_same(apply(op, *args, strict_int=True).value, expected)


def test_bool_is_never_treated_as_an_int():
    assert_same(result_of(Op.Add, True, True), 2.0)
    assert_same(result_of(Op.Mul, False, 3), 0.0)


# -- properties over random Ints -----------------------------------------------------------

I64 = st.integers(min_value=INT_MIN, max_value=INT_MAX)
EXACT = {Op.Add: lambda a, b: a + b, Op.Sub: lambda a, b: a - b, Op.Mul: lambda a, b: a * b}


def _wrap(n: int) -> int:
    return (n + 2**63) % 2**64 - 2**63


@given(a=I64, b=I64, op=st.sampled_from(sorted(EXACT)))
def test_int_add_sub_mul_wrap_modulo_two_to_the_64(a, b, op):
    assert_same(result_of(op, a, b), _wrap(EXACT[op](a, b)))


@given(a=I64, b=I64, op=st.sampled_from(sorted(EXACT)))
def test_strict_int_raises_exactly_when_the_exact_result_leaves_i64(a, b, op):
    exact = EXACT[op](a, b)
    if INT_MIN <= exact <= INT_MAX:
        assert_same(apply(op, a, b, strict_int=True).value, exact)
    else:
        with pytest.raises(IntegerOverflow):
            apply(op, a, b, strict_int=True)


@given(a=I64, b=I64.filter(lambda b: b != 0))
def test_int_mod_is_the_truncated_remainder(a, b):
    quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    assert_same(result_of(Op.Mod, a, b), a - b * quotient)


@pytest.mark.parametrize("op", ["Add", "Mul"])
def test_two_nans_give_the_first_ones_bits_however_warm_the_step_is(op: str) -> None:
    # CPython's float `+` and `*` give the first or the second NaN depending on whether
    # the bytecode is specialised yet; the op's answer must not (D5: the tiers keep it).
    def nan(pattern: int) -> float:
        return float(struct.unpack("<d", struct.pack("<Q", pattern))[0])

    def bits(v: float) -> int:
        return int(struct.unpack("<Q", struct.pack("<d", v))[0])

    pos, neg, payload = nan(0x7FF8000000000000), nan(0xFFF8000000000000), \
        nan(0x7FF8000000000123)
    chunk = assemble(f"GetSlot 0\nGetSlot 1\n{op}\n")
    for round_ in range(3):  # cold, then after the step ran many times
        for a, b in ((pos, neg), (neg, pos), (payload, neg), (neg, payload), (2.5, neg)):
            for baseline in (False, True):
                vm = VM(chunk, baseline=baseline)
                vm.slots[:2] = [a, b]
                first = a if a != a else b
                assert bits(vm.run()) == bits(first), (op, round_, hex(bits(a)), hex(bits(b)))
        for _ in range(50):
            vm = VM(chunk, baseline=False)
            vm.slots[:2] = [1.5, 2.0]
            vm.run()
