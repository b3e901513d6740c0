"""Nop, the constant loads and the stack shuffles (docs/ops.md#constants)."""

from __future__ import annotations

import pytest

from fusevm import BuildError, ChunkBuilder, Op, Undef
from fusevm.values import NativeFn, Ref, Status

from .support import (
    INT_MAX,
    INT_MIN,
    NAN,
    apply,
    asm,
    assert_same,
    case_id,
    run_chunk,
    same,
)

EVERY_KIND = [Undef, True, False, 0, -1, INT_MAX, INT_MIN, 0.0, -0.0, 2.5, NAN, "", "s",
              [1, "a"], {"k": 1}, Status(3), Ref(7), NativeFn(9)]


def test_nop_leaves_the_stack_alone():
    run = asm("LoadInt 1\nNop\nNop")
    assert run.stack == [1]


def test_an_empty_chunk_returns_none():
    assert asm("Nop").value is None


@pytest.mark.parametrize("value", [0, 1, -1, INT_MAX, INT_MIN], ids=case_id)
def test_load_int_pushes_an_int(value):
    b = ChunkBuilder()
    b.emit(Op.LoadInt, value)
    assert_same(run_chunk(b.build(fuse=False)).value, value)


@pytest.mark.parametrize("value", [0.0, -0.0, 1.0, 2.5, 1e300, float("inf")], ids=case_id)
def test_load_float_stays_a_float_even_when_integral(value):
    b = ChunkBuilder()
    b.emit(Op.LoadFloat, value)
    assert_same(run_chunk(b.build(fuse=False)).value, value)


def test_load_float_of_nan_pushes_nan():
    b = ChunkBuilder()
    b.emit(Op.LoadFloat, NAN)
    assert_same(run_chunk(b.build(fuse=False)).value, NAN)


def test_load_int_refuses_a_value_outside_i64_at_emit():
    with pytest.raises(BuildError):
        ChunkBuilder().emit(Op.LoadInt, INT_MAX + 1)


@pytest.mark.parametrize("value", EVERY_KIND, ids=case_id)
def test_load_const_pushes_each_kind_of_constant_unchanged(value):
    assert_same(apply(Op.Nop, value).value, value)


def test_load_const_pushes_a_copy_so_mutating_it_leaves_the_pool_intact():
    run = asm("""
        LoadConst [1, 2]
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        LoadConst [1, 2]
    """)
    assert run.value == [1, 2]
    assert run.vm.chunk.constants[0] == [1, 2]


@pytest.mark.parametrize("op, expected", [(Op.LoadTrue, True), (Op.LoadFalse, False),
                                          (Op.LoadUndef, Undef)], ids=case_id)
def test_load_true_false_undef_push_their_value(op, expected):
    assert_same(apply(op).value, expected)


def test_pop_discards_the_top():
    assert asm("LoadInt 1\nLoadInt 2\nPop").stack == [1]


@pytest.mark.parametrize("value", EVERY_KIND, ids=case_id)
def test_dup_pushes_an_equal_copy_of_the_top(value):
    run = apply(Op.Dup, value)
    assert len(run.stack) == 2 and all(same(v, value) for v in run.stack)


def test_dup_of_an_array_does_not_alias_the_original():
    run = asm("""
        LoadConst [1, 2]
        Dup
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        GetSlot 0
    """)
    assert run.stack == [[1, 2], [9, 2]]


def test_dup2_copies_the_top_two_in_order():
    assert asm("LoadInt 1\nLoadInt 2\nDup2").stack == [1, 2, 1, 2]


def test_dup2_of_containers_does_not_alias():
    run = asm("""
        LoadConst [1]
        LoadConst {"k": 1}
        Dup2
        Pop
        SetSlot 0
        LoadInt 5
        LoadInt 0
        SlotArraySet 0
    """)
    assert run.stack == [[1], {"k": 1}]


def test_swap_exchanges_the_top_two():
    assert asm("LoadInt 1\nLoadInt 2\nLoadInt 3\nSwap").stack == [1, 3, 2]


def test_rot_moves_the_third_from_the_top_to_the_top():
    assert asm("LoadInt 1\nLoadInt 2\nLoadInt 3\nRot").stack == [2, 3, 1]


def test_rot_leaves_values_below_the_top_three_alone():
    assert asm("LoadInt 0\nLoadInt 1\nLoadInt 2\nLoadInt 3\nRot").stack == [0, 2, 3, 1]
