"""Jumps, keep-jumps and the short-circuit patterns built from them (docs/ops.md#control-flow)."""

from __future__ import annotations

import pytest

from fusevm import BuildError, ChunkBuilder, Op, Undef
from fusevm.values import format_value

from .support import asm, case_id, run_chunk

FALSY = [False, 0, 0.0, -0.0, "", "0", Undef, [], {}]
TRUTHY = [True, 1, 0.5, float("nan"), "0.0", "a", [0], {"k": 0}]


def test_jump_skips_to_its_target():
    assert asm("LoadInt 1\nJump end\nLoadInt 2\nend:\nLoadInt 3").stack == [1, 3]


def test_jump_backwards_forms_a_loop():
    run = asm("""
        LoadInt 0
        SetSlot 0
    top:
        GetSlot 0
        Inc
        Dup
        SetSlot 0
        LoadInt 5
        NumLt
        JumpIfTrue top
        GetSlot 0
    """)
    assert run.value == 5


def test_a_jump_to_the_end_of_the_chunk_finishes_the_run():
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 5)
    b.emit(Op.Jump, 3)
    b.emit(Op.LoadInt, 6)
    assert run_chunk(b.build(fuse=False)).stack == [5]


def test_a_jump_past_the_end_is_refused_at_build():
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 5)
    b.emit(Op.Jump, 99)
    with pytest.raises(BuildError, match="past the end"):
        b.build(fuse=False)


def test_an_unbound_label_is_refused_at_build():
    b = ChunkBuilder()
    b.emit(Op.Jump, b.label("nowhere"))
    with pytest.raises(BuildError, match="never bound"):
        b.build(fuse=False)


def _branch(op: str, cond) -> list:
    return asm(f"""
        LoadConst {format_value(cond)}
        {op} taken
        LoadConst "fell through"
        Jump end
    taken:
        LoadConst "taken"
    end:
    """).stack


@pytest.mark.parametrize("cond", TRUTHY, ids=case_id)
def test_jump_if_true_pops_and_jumps_on_truthy(cond):
    assert _branch("JumpIfTrue", cond) == ["taken"]


@pytest.mark.parametrize("cond", FALSY, ids=case_id)
def test_jump_if_true_pops_and_falls_through_on_falsy(cond):
    assert _branch("JumpIfTrue", cond) == ["fell through"]


@pytest.mark.parametrize("cond", FALSY, ids=case_id)
def test_jump_if_false_pops_and_jumps_on_falsy(cond):
    assert _branch("JumpIfFalse", cond) == ["taken"]


@pytest.mark.parametrize("cond", TRUTHY, ids=case_id)
def test_jump_if_false_pops_and_falls_through_on_truthy(cond):
    assert _branch("JumpIfFalse", cond) == ["fell through"]


def _keep(op: str, cond) -> list:
    """Stack after a keep-jump: [cond, "fell through"] or [cond, Undef] when taken."""
    return asm(f"""
        LoadConst {format_value(cond)}
        {op} taken
        LoadConst "fell through"
        SetVar path
    taken:
        GetVar path
    """).stack


@pytest.mark.parametrize("cond", ["a", 1, [0]], ids=case_id)
def test_jump_if_true_keep_jumps_on_truthy_and_keeps_the_value(cond):
    assert _keep("JumpIfTrueKeep", cond) == [cond, Undef]


@pytest.mark.parametrize("cond", [0, "", Undef], ids=case_id)
def test_jump_if_true_keep_falls_through_on_falsy_and_keeps_the_value(cond):
    assert _keep("JumpIfTrueKeep", cond) == [cond, "fell through"]


@pytest.mark.parametrize("cond", [0, "0", []], ids=case_id)
def test_jump_if_false_keep_jumps_on_falsy_and_keeps_the_value(cond):
    assert _keep("JumpIfFalseKeep", cond) == [cond, Undef]


@pytest.mark.parametrize("cond", [1, "s", {"a": 1}], ids=case_id)
def test_jump_if_false_keep_falls_through_on_truthy_and_keeps_the_value(cond):
    assert _keep("JumpIfFalseKeep", cond) == [cond, "fell through"]


def _or(a, b):
    return asm(f"""
        LoadConst {format_value(a)}
        JumpIfTrueKeep end
        Pop
        LoadConst {format_value(b)}
    end:
    """).value


def _and(a, b):
    return asm(f"""
        LoadConst {format_value(a)}
        JumpIfFalseKeep end
        Pop
        LoadConst {format_value(b)}
    end:
    """).value


@pytest.mark.parametrize("a, b, expected", [("a", "b", "a"), (0, "b", "b"), ("", 0, 0),
                                            ([1], 2, [1])], ids=case_id)
def test_or_short_circuit_yields_the_deciding_operand(a, b, expected):
    assert _or(a, b) == expected and type(_or(a, b)) is type(expected)


@pytest.mark.parametrize("a, b, expected", [("a", "b", "b"), (0, "b", 0), ("", 1, ""),
                                            ([1], 2, 2)], ids=case_id)
def test_and_short_circuit_yields_the_deciding_operand(a, b, expected):
    assert _and(a, b) == expected and type(_and(a, b)) is type(expected)


def test_short_circuit_or_does_not_evaluate_the_right_side_when_left_is_true():
    run = asm("""
        LoadInt 1
        JumpIfTrueKeep end
        Pop
        LoadConst "side effect"
        PrintLn 1
        LoadInt 2
    end:
    """)
    assert run.out == "" and run.value == 1


def test_join_points_reached_with_different_stack_depths_are_refused_at_build():
    with pytest.raises(Exception, match="differs"):
        asm("""
            LoadTrue
            JumpIfTrue skip
            LoadInt 1
        skip:
            LoadInt 2
        """)
