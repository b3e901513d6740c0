"""The fused superinstructions, basic behaviour (docs/ops.md#fused read through D14).

Each fused op means exactly what its `fuses` sequence means; the exhaustive equivalence
check lives in tests/fusion. Here: the Int fast path, one non-Int case each, and wrap /
strict_int at the edges.
"""

from __future__ import annotations

import pytest

from fusevm import IntegerOverflow, Undef
from fusevm.errors import TypeMismatch

from .support import INT_MAX, INT_MIN, asm, assert_same


def slots(*values: str) -> str:
    return "\n".join(f"LoadConst {v}\nSetSlot {i}" for i, v in enumerate(values))


@pytest.mark.parametrize("op, start, pushed, stored", [
    ("PreIncSlot", "5", 6, 6), ("PreDecSlot", "5", 4, 4),
    ("PostIncSlot", "5", 5, 6), ("PostDecSlot", "5", 5, 4),
    ("PreIncSlot", "2.7", 3, 3), ("PreDecSlot", '"x"', -1, -1),
    ("PostIncSlot", '"5"', "5", 6), ("PostDecSlot", "undef", Undef, -1),
    ("PreIncSlot", str(INT_MAX), INT_MIN, INT_MIN), ("PostDecSlot", str(INT_MIN), INT_MIN,
                                                     INT_MAX),
])
def test_slot_step_ops_push_and_store_like_their_sequences(op, start, pushed, stored):
    run = asm(f"{slots(start)}\n{op} 0\nGetSlot 0")
    assert len(run.stack) == 2
    assert_same(run.stack[0], pushed)
    assert_same(run.stack[1], stored)


@pytest.mark.parametrize("start, stored", [("1", 2), ("1.5", 2), ('"9"', 10), ("undef", 1),
                                           ("true", 2), (str(INT_MAX), INT_MIN)])
def test_pre_inc_slot_void_increments_without_pushing(start, stored):
    run = asm(f"{slots(start)}\nPreIncSlotVoid 0\nGetSlot 0")
    assert len(run.stack) == 1
    assert_same(run.value, stored)


@pytest.mark.parametrize("op", ["PreIncSlot", "PreIncSlotVoid", "PostIncSlot"])
def test_slot_increments_raise_under_strict_int_at_the_edge(op):
    with pytest.raises(IntegerOverflow):
        asm(f"{slots(str(INT_MAX))}\n{op} 0", strict_int=True)


@pytest.mark.parametrize("a, b, expected", [("1", "2", 3), ("1.5", "2.5", 4.0),
                                            ('"1"', "2", 3.0), (str(INT_MAX), "1", INT_MIN)])
def test_add_assign_slot_void_adds_slot_b_into_slot_a(a, b, expected):
    run = asm(f"{slots(a, b)}\nAddAssignSlotVoid 0 1\nGetSlot 0\nGetSlot 1")
    assert_same(run.stack[0], expected)
    assert len(run.stack) == 2


def _lt_jump(value: str, limit: int) -> str:
    return asm(f"""
        {slots(value)}
        SlotLtIntJumpIfFalse 0 {limit} out
        LoadConst "in"
        Jump end
    out:
        LoadConst "out"
    end:
    """).value


@pytest.mark.parametrize("value, limit, expected", [
    ("3", 5, "in"), ("5", 5, "out"), ("6", 5, "out"), ("-0.5", 0, "in"), ("undef", 0, "out"),
    ("undef", 1, "in"), ('"4"', 5, "in"), ("nan", 5, "out"),
])
def test_slot_lt_int_jump_if_false_jumps_when_the_slot_is_not_below_the_limit(value, limit,
                                                                             expected):
    assert _lt_jump(value, limit) == expected


def test_slot_inc_lt_int_jump_back_counts_a_loop():
    run = asm("""
        LoadInt 0
        SetSlot 0
        LoadInt 0
        SetSlot 1
    body:
        GetSlot 1
        GetSlot 0
        Add
        SetSlot 1
        SlotIncLtIntJumpBack 0 5 body
        GetSlot 0
        GetSlot 1
    """)
    assert run.stack == [5, 10]


def test_slot_inc_lt_int_jump_back_increments_through_to_int():
    run = asm(f"{slots('2.5')}\nSlotIncLtIntJumpBack 0 0 @0\nGetSlot 0")
    assert_same(run.value, 3)


@pytest.mark.parametrize("total, i, limit, sum_after, i_after", [
    ("0", "0", 5, 10, 5), ("100", "3", 5, 107, 5), ("0", "7", 5, 0, 7),
    (str(INT_MAX), "0", 3, -9223372036854775806, 3),
    ("1.5", "0", 3, 4.5, 3), ("undef", "undef", 0, Undef, Undef), ("undef", "0", 2, 1.0, 2),
])
def test_accum_sum_loop_adds_the_counter_into_the_sum_until_the_limit(total, i, limit,
                                                                      sum_after, i_after):
    run = asm(f"{slots(total, i)}\nAccumSumLoop 0 1 {limit}\nGetSlot 0\nGetSlot 1")
    assert_same(run.stack[0], sum_after)
    assert_same(run.stack[1], i_after)


def test_accum_sum_loop_raises_under_strict_int_on_overflow():
    with pytest.raises(IntegerOverflow):
        asm(f"{slots(str(INT_MAX - 1), '0')}\nAccumSumLoop 0 1 3", strict_int=True)


@pytest.mark.parametrize("s, i, limit, s_after, i_after", [
    ('""', "0", 3, "xxx", 3), ('"a"', "2", 3, "ax", 3), ('"a"', "5", 3, "a", 5),
    ("1.5", "undef", 3, "1.5xxx", 3),
])
def test_concat_const_loop_appends_the_constant_until_the_limit(s, i, limit, s_after,
                                                                i_after):
    run = asm(f'.const "x"\n{slots(s, i)}\nConcatConstLoop #0 0 1 {limit}\n'
              "GetSlot 0\nGetSlot 1")
    assert_same(run.stack[0], s_after)
    assert_same(run.stack[1], i_after)


def test_push_int_range_loop_appends_the_counter_values_to_a_global_array():
    run = asm(f"DeclareArray a\n{slots('2')}\nPushIntRangeLoop a 0 5\nGetArray a\nGetSlot 0")
    assert run.stack == [[2, 3, 4], 5]


def test_push_int_range_loop_on_a_non_array_global_raises_like_array_push():
    """D14 + D1: the sequence's ArrayPush on an Int global is an error (vector 24 item 6)."""
    with pytest.raises(TypeMismatch):
        asm(f"LoadInt 5\nSetVar a\n{slots('2')}\nPushIntRangeLoop a 0 5")


def test_push_int_range_loop_with_no_iterations_leaves_a_non_array_global_alone():
    run = asm(f"LoadInt 5\nSetVar a\n{slots('7')}\nPushIntRangeLoop a 0 5\nGetVar a")
    assert run.value == 5
