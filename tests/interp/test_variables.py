"""Globals by name index, frame slots, and slot arrays (docs/ops.md#variables, D1, D8)."""

from __future__ import annotations

import pytest

from fusevm import Undef
from fusevm.errors import IndexOutOfRange, TypeMismatch

from .support import asm, assert_same, case_id


def test_get_var_of_an_unset_global_is_undef():
    assert_same(asm(".name x\nGetVar x").value, Undef)


def test_set_var_then_get_var_round_trips():
    assert asm("LoadInt 5\nSetVar x\nGetVar x").value == 5


def test_set_var_overwrites_with_a_value_of_another_kind():
    assert asm('LoadInt 5\nSetVar x\nLoadConst "s"\nSetVar x\nGetVar x').value == "s"


def test_declare_var_pops_its_initial_value_like_set_var():
    run = asm("LoadInt 1\nLoadInt 5\nDeclareVar a\nGetVar a")
    assert run.stack == [1, 5]


def test_globals_are_shared_by_the_main_code_and_functions():
    run = asm("""
        LoadInt 7
        SetVar g
        Call f 0
        GetVar g
        Jump end
    .sub f
        GetVar g
        LoadInt 1
        Add
        SetVar g
        Return
    end:
    """)
    assert run.stack == [8]


def test_get_var_of_an_array_returns_a_copy_that_does_not_alias_the_global():
    run = asm("""
        DeclareArray a
        LoadInt 1
        ArrayPush a
        GetVar a
        LoadInt 2
        ArrayPush a
        GetVar a
    """)
    assert run.stack == [[1], [1, 2]]


def test_set_var_stores_an_independent_copy_of_a_container():
    run = asm("""
        LoadConst [1]
        Dup
        SetVar a
        SetSlot 0
        LoadInt 9
        LoadInt 0
        ArraySet a
        GetSlot 0
        GetVar a
    """)
    assert run.stack == [[1], [9]]


def test_get_slot_of_an_unset_slot_is_undef():
    assert_same(asm("GetSlot 3").value, Undef)


def test_set_slot_then_get_slot_round_trips():
    assert asm("LoadInt 4\nSetSlot 2\nGetSlot 2").value == 4


def test_slots_are_private_to_their_frame():
    run = asm("""
        LoadInt 1
        SetSlot 0
        Call f 0
        GetSlot 0
        Jump end
    .sub f
        GetSlot 0
        LoadInt 2
        SetSlot 0
        ReturnValue
    end:
    """)
    assert_same(run.stack[0], Undef)
    assert run.stack[1] == 1


SLOT_ARRAY_READS = [
    (0, 10), (2, 30), (1.9, 20), ("2", 30), (True, 20),
    (3, Undef), (-1, Undef), (100, Undef), ("x", 10),
]


@pytest.mark.parametrize("index, expected", SLOT_ARRAY_READS, ids=case_id)
def test_slot_array_get_reads_by_to_int_index_and_gives_undef_out_of_range(index, expected):
    from fusevm.values import format_value
    run = asm(f"""
        LoadConst [10, 20, 30]
        SetSlot 0
        LoadConst {format_value(index)}
        SlotArrayGet 0
    """)
    assert_same(run.value, expected)


def test_slot_array_get_of_a_nested_array_returns_a_copy():
    run = asm("""
        LoadConst [[1, 2]]
        SetSlot 0
        LoadInt 0
        SlotArrayGet 0
        SetSlot 1
        LoadInt 9
        LoadInt 0
        SlotArraySet 1
        GetSlot 0
    """)
    assert run.value == [[1, 2]]


def test_slot_array_set_stores_at_the_index():
    run = asm("LoadConst [1, 2]\nSetSlot 0\nLoadInt 9\nLoadInt 1\nSlotArraySet 0\nGetSlot 0")
    assert run.value == [1, 9]


def test_slot_array_set_past_the_end_grows_the_array_with_undef():
    run = asm("LoadConst []\nSetSlot 0\nLoadInt 9\nLoadInt 2\nSlotArraySet 0\nGetSlot 0")
    assert run.value == [Undef, Undef, 9]


def test_slot_array_set_with_a_negative_index_is_an_error():
    with pytest.raises(IndexOutOfRange) as info:
        asm("LoadConst [1]\nSetSlot 0\nLoadInt 9\nLoadInt -1\nSlotArraySet 0")
    assert info.value.op == "SlotArraySet"


@pytest.mark.parametrize("op_text", ["LoadInt 0\nSlotArrayGet 0",
                                     "LoadInt 1\nLoadInt 0\nSlotArraySet 0"])
@pytest.mark.parametrize("slot_value", ["undef", "5", '"abc"', '{"k": 1}'])
def test_slot_array_ops_on_a_slot_that_is_not_an_array_raise_type_mismatch(op_text,
                                                                           slot_value):
    with pytest.raises(TypeMismatch, match="slot 0"):
        asm(f"LoadConst {slot_value}\nSetSlot 0\n{op_text}")
