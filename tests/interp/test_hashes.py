"""Hashes stored in globals, and MakeHash (docs/ops.md#hashes, D1, D7, D8)."""

from __future__ import annotations

import pytest

from fusevm import Op, Undef
from fusevm.errors import TypeMismatch

from .support import apply, asm, assert_same, case_id


def test_declare_hash_stores_an_empty_hash():
    assert asm("DeclareHash h\nGetHash h").value == {}


def test_set_hash_and_get_hash_store_and_load_any_value():
    assert asm('LoadConst {"a": 1}\nSetHash h\nGetHash h').value == {"a": 1}
    assert asm("LoadInt 3\nSetHash h\nGetHash h").value == 3


def test_get_hash_returns_a_copy():
    run = asm("""
        DeclareHash h
        GetHash h
        LoadInt 1
        LoadConst "k"
        HashSet h
        GetHash h
    """)
    assert run.stack == [{}, {"k": 1}]


def test_hash_set_then_hash_get_round_trips():
    run = asm('DeclareHash h\nLoadInt 1\nLoadConst "k"\nHashSet h\nLoadConst "k"\nHashGet h')
    assert run.value == 1


KEYS_THAT_MEET = [(7, 7.0), (7, "7"), (7.0, "7"), (Undef, ""), ([1, 2], "1 2"),
                  (True, "1"), (False, "")]


@pytest.mark.parametrize("set_key, get_key", KEYS_THAT_MEET, ids=case_id)
def test_hash_keys_are_compared_by_their_string_form(set_key, get_key):
    from fusevm.values import format_value
    run = asm(f"""
        DeclareHash h
        LoadInt 1
        LoadConst {format_value(set_key)}
        HashSet h
        LoadConst {format_value(get_key)}
        HashGet h
    """)
    assert run.value == 1


def test_hash_get_of_a_missing_key_is_undef():
    assert_same(asm('DeclareHash h\nLoadConst "zz"\nHashGet h').value, Undef)


def test_hash_get_of_a_container_value_returns_a_copy():
    run = asm("""
        LoadConst {"k": [1]}
        SetHash h
        LoadConst "k"
        HashGet h
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        GetHash h
    """)
    assert run.value == {"k": [1]}


def test_hash_set_overwrites_an_existing_key():
    run = asm('LoadConst {"k": 1}\nSetHash h\nLoadInt 2\nLoadConst "k"\nHashSet h\nGetHash h')
    assert run.value == {"k": 2}


def test_hash_delete_removes_the_key_and_returns_its_value():
    run = asm('LoadConst {"a": 1, "b": 2}\nSetHash h\nLoadConst "a"\nHashDelete h\nGetHash h')
    assert run.stack == [1, {"b": 2}]


def test_hash_delete_of_a_missing_key_is_undef():
    assert_same(asm('DeclareHash h\nLoadConst "z"\nHashDelete h').value, Undef)


@pytest.mark.parametrize("key, expected", [("a", True), ("b", False), (1, True)],
                         ids=case_id)
def test_hash_exists_reports_whether_the_key_is_present(key, expected):
    from fusevm.values import format_value
    run = asm(f'LoadConst {{"a": 1, "1": 0}}\nSetHash h\nLoadConst {format_value(key)}\n'
              "HashExists h")
    assert_same(run.value, expected)


def test_hash_exists_is_true_for_a_key_holding_undef():
    run = asm('DeclareHash h\nLoadUndef\nLoadConst "k"\nHashSet h\nLoadConst "k"\nHashExists h')
    assert run.value is True


def test_hash_keys_and_values_keep_insertion_order():
    run = asm("""
        DeclareHash h
        LoadInt 1
        LoadConst "zeta"
        HashSet h
        LoadInt 2
        LoadConst "alpha"
        HashSet h
        LoadInt 3
        LoadConst "mid"
        HashSet h
        HashKeys h
        HashValues h
    """)
    assert run.stack == [["zeta", "alpha", "mid"], [1, 2, 3]]


def test_resetting_a_key_keeps_its_position_and_deleting_it_forgets_it():
    run = asm("""
        LoadConst {"a": 1, "b": 2, "c": 3}
        SetHash h
        LoadInt 9
        LoadConst "a"
        HashSet h
        LoadConst "b"
        HashDelete h
        Pop
        LoadInt 5
        LoadConst "b"
        HashSet h
        HashKeys h
        HashValues h
    """)
    assert run.stack == [["a", "c", "b"], [9, 3, 5]]


def test_hash_values_are_copies():
    run = asm("""
        LoadConst {"k": [1]}
        SetHash h
        HashValues h
        SetSlot 0
        LoadInt 0
        SlotArrayGet 0
        SetSlot 1
        LoadInt 9
        LoadInt 0
        SlotArraySet 1
        GetHash h
    """)
    assert run.value == {"k": [1]}


def test_make_hash_pairs_keys_and_values_in_push_order():
    run = apply(Op.MakeHash, "a", 1, "b", 2, operands=(4,))
    assert run.value == {"a": 1, "b": 2}
    assert list(run.value) == ["a", "b"]


def test_make_hash_count_is_of_stack_values_and_an_odd_last_key_is_dropped():
    assert apply(Op.MakeHash, "a", 1, "b", operands=(3,)).value == {"a": 1}


def test_make_hash_last_duplicate_wins_and_keys_are_stringified():
    assert apply(Op.MakeHash, "a", 1, "a", 2, operands=(4,)).value == {"a": 2}
    assert apply(Op.MakeHash, 7, "x", 1.5, "y", operands=(4,)).value == {"7": "x",
                                                                         "1.5": "y"}


def test_make_hash_zero_pushes_an_empty_hash_and_leaves_the_stack():
    run = apply(Op.MakeHash, 1, operands=(0,))
    assert run.stack == [1, {}]


WRONG_KIND_GLOBALS = ["undef", "5", '"abc"', "[1]"]
HASH_OPS_ON_GLOBAL = {
    "HashGet": 'LoadConst "k"\nHashGet h',
    "HashSet": 'LoadInt 1\nLoadConst "k"\nHashSet h',
    "HashDelete": 'LoadConst "k"\nHashDelete h',
    "HashExists": 'LoadConst "k"\nHashExists h',
    "HashKeys": "HashKeys h",
    "HashValues": "HashValues h",
}


@pytest.mark.parametrize("op", HASH_OPS_ON_GLOBAL)
@pytest.mark.parametrize("value", WRONG_KIND_GLOBALS)
def test_hash_ops_on_a_global_that_is_not_a_hash_raise_type_mismatch(op, value):
    with pytest.raises(TypeMismatch, match="'h'") as info:
        asm(f"LoadConst {value}\nSetVar h\n{HASH_OPS_ON_GLOBAL[op]}")
    assert info.value.op == op


def test_a_deleted_nested_value_does_not_alias_an_earlier_copy_or_the_constant():
    """D8 regression: HashDelete returned the very list a copy of the hash still held."""
    run = asm("""
        LoadConst {"k": [1]}
        SetHash h
        GetHash h
        SetHash g
        LoadConst "k"
        HashDelete h
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        LoadConst "k"
        HashGet g
        GetSlot 0
    """)
    assert run.stack == [[1], [9]]
    assert run.vm.chunk.constants[0] == {"k": [1]}
