"""Arrays stored in globals, and MakeArray (docs/ops.md#arrays, D1, D8)."""

from __future__ import annotations

import pytest

from fusevm import Op, Undef
from fusevm.errors import IndexOutOfRange, TypeMismatch

from .support import apply, asm, assert_same, case_id


def test_declare_array_stores_an_empty_array():
    assert asm("DeclareArray a\nGetArray a").value == []


def test_declare_array_resets_an_existing_array():
    assert asm("DeclareArray a\nLoadInt 1\nArrayPush a\nDeclareArray a\nArrayLen a").value == 0


def test_set_array_and_get_array_store_and_load_any_value():
    assert asm("LoadInt 5\nSetArray a\nGetArray a").value == 5
    assert asm("LoadConst [1, 2]\nSetArray a\nGetArray a").value == [1, 2]


def test_get_array_returns_a_copy():
    run = asm("""
        DeclareArray a
        GetArray a
        LoadInt 5
        ArrayPush a
        GetArray a
    """)
    assert run.stack == [[], [5]]


def test_array_push_appends_in_order():
    run = asm("DeclareArray a\nLoadInt 1\nArrayPush a\nLoadConst \"x\"\nArrayPush a\nGetArray a")
    assert run.value == [1, "x"]


def test_array_push_of_a_container_stores_a_copy():
    run = asm("""
        DeclareArray a
        LoadConst [1]
        Dup
        ArrayPush a
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        GetArray a
    """)
    assert run.value == [[1]]


ARRAY_READS = [(0, 10), (2, 30), (1.9, 20), ("1", 20), (3, Undef), (-1, Undef),
               (2**40, Undef), ("1.5", 10)]


@pytest.mark.parametrize("index, expected", ARRAY_READS, ids=case_id)
def test_array_get_reads_by_to_int_index_and_gives_undef_out_of_range(index, expected):
    from fusevm.values import format_value
    run = asm(f"LoadConst [10, 20, 30]\nSetArray a\nLoadConst {format_value(index)}\n"
              "ArrayGet a")
    assert_same(run.value, expected)


def test_array_get_of_a_nested_container_returns_a_copy():
    run = asm("""
        LoadConst [[1]]
        SetArray a
        LoadInt 0
        ArrayGet a
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        GetArray a
    """)
    assert run.value == [[1]]


def test_array_set_overwrites_an_element():
    run = asm("LoadConst [1, 2]\nSetArray a\nLoadInt 9\nLoadInt 0\nArraySet a\nGetArray a")
    assert run.value == [9, 2]


def test_array_set_past_the_end_grows_with_undef():
    run = asm("DeclareArray a\nLoadInt 9\nLoadInt 3\nArraySet a\nGetArray a")
    assert run.value == [Undef, Undef, Undef, 9]


def test_array_set_with_a_float_index_truncates():
    run = asm("LoadConst [1, 2]\nSetArray a\nLoadInt 9\nLoadFloat 1.9\nArraySet a\nGetArray a")
    assert run.value == [1, 9]


def test_array_set_with_a_negative_index_is_an_error():
    with pytest.raises(IndexOutOfRange):
        asm("DeclareArray a\nLoadInt 9\nLoadInt -1\nArraySet a")


def test_array_pop_removes_and_returns_the_last_element():
    run = asm("LoadConst [1, 2, 3]\nSetArray a\nArrayPop a\nGetArray a")
    assert run.stack == [3, [1, 2]]


def test_array_shift_removes_and_returns_the_first_element():
    run = asm("LoadConst [1, 2, 3]\nSetArray a\nArrayShift a\nGetArray a")
    assert run.stack == [1, [2, 3]]


@pytest.mark.parametrize("op", ["ArrayPop", "ArrayShift"])
def test_array_pop_and_shift_of_an_empty_array_give_undef(op):
    run = asm(f"DeclareArray a\n{op} a\nGetArray a")
    assert_same(run.stack[0], Undef)
    assert run.stack[1] == []


def test_array_len_counts_elements():
    assert asm("LoadConst [1, [2, 3], 4]\nSetArray a\nArrayLen a").value == 3


@pytest.mark.parametrize("count, expected", [(0, []), (1, [3]), (3, [1, 2, 3])])
def test_make_array_collects_the_top_count_values_in_push_order(count, expected):
    run = apply(Op.MakeArray, 1, 2, 3, operands=(count,))
    assert run.value == expected
    assert run.vm.stack == [1, 2, 3][:3 - count]


def test_make_array_nests_arrays_as_elements():
    assert apply(Op.MakeArray, [1], [], operands=(2,)).value == [[1], []]


WRONG_KIND_GLOBALS = ["undef", "5", '"abc"', '{"k": 1}', "1.5"]
ARRAY_OPS_ON_GLOBAL = {
    "ArrayGet": "LoadInt 0\nArrayGet a",
    "ArraySet": "LoadInt 1\nLoadInt 0\nArraySet a",
    "ArrayPush": "LoadInt 1\nArrayPush a",
    "ArrayPop": "ArrayPop a",
    "ArrayShift": "ArrayShift a",
    "ArrayLen": "ArrayLen a",
}


@pytest.mark.parametrize("op", ARRAY_OPS_ON_GLOBAL)
@pytest.mark.parametrize("value", WRONG_KIND_GLOBALS)
def test_array_ops_on_a_global_that_is_not_an_array_raise_type_mismatch(op, value):
    with pytest.raises(TypeMismatch, match="'a'") as info:
        asm(f"LoadConst {value}\nSetVar a\n{ARRAY_OPS_ON_GLOBAL[op]}")
    assert info.value.op == op


@pytest.mark.parametrize("op", ARRAY_OPS_ON_GLOBAL)
def test_array_ops_on_an_undeclared_global_raise_type_mismatch(op):
    with pytest.raises(TypeMismatch):
        asm(ARRAY_OPS_ON_GLOBAL[op])


@pytest.mark.parametrize("op", ["ArrayPop", "ArrayShift"])
def test_a_removed_nested_array_does_not_alias_the_constant_pool(op):
    """D8 regression: the removed element was shared with the constant it was loaded from."""
    run = asm(f"""
        LoadConst [[1]]
        SetArray a
        {op} a
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        LoadConst [[1]]
    """)
    assert run.value == [[1]]
    assert run.vm.chunk.constants[0] == [[1]]


def test_a_removed_nested_array_does_not_alias_an_earlier_copy():
    """D8 regression: b = a shares a's inner arrays one level down until one is removed."""
    run = asm("""
        LoadConst [[1]]
        SetArray a
        GetArray a
        SetArray b
        ArrayPop b
        SetVar x
        LoadInt 5
        ArrayPush x
        GetArray a
        GetVar x
    """)
    assert run.stack == [[[1]], [1, 5]]
