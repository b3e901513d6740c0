"""MapBlock, GrepBlock, SortBlock, SortDefault, ForEachBlock (D3).

A block range runs once per element in a fresh frame with the element in slot 0 (SortBlock:
a and b in slots 0 and 1, comparator read with to_int, stable); its result is the top of
its stack at end_ip; a non-Array input is a one-element array.
"""

from __future__ import annotations

import io

import pytest

from fusevm import VM, Undef
from fusevm.errors import AsmError, ZeroDivision
from fusevm.values import format_value

from .support import asm, assemble_text


def with_block(main: str, body: str) -> str:
    """A program: `.block b` over `body`, main code, then the block after a jump."""
    return f"""
    .block b blk blk_end
        {main}
        Jump end
    blk:
        {body}
    blk_end:
    end:
    """


DOUBLE = "GetSlot 0\nLoadInt 2\nMul"


def test_map_block_collects_each_block_result():
    assert asm(with_block("LoadConst [1, 2, 3]\nMapBlock b", DOUBLE)).value == [2, 4, 6]


def test_map_block_of_an_empty_array_never_runs_the_block():
    run = asm(with_block("LoadConst []\nMapBlock b", 'LoadConst "ran"\nPrintLn 1\nLoadInt 1'))
    assert run.value == [] and run.out == ""


@pytest.mark.parametrize("value, expected", [(5, [10]), ("3", [6.0]), (Undef, [0.0])],
                         ids=repr)
def test_a_non_array_input_is_treated_as_a_one_element_array(value, expected):
    run = asm(with_block(f"LoadConst {format_value(value)}\nMapBlock b", DOUBLE))
    assert run.value == expected and [type(v) for v in run.value] == [type(expected[0])]


def test_a_hash_input_is_one_element():
    run = asm(with_block('LoadConst {"a": 1}\nMapBlock b', "GetSlot 0"))
    assert run.value == [{"a": 1}]


def test_map_block_leaves_the_stack_below_its_input_alone():
    run = asm(with_block("LoadInt 7\nLoadConst [1]\nMapBlock b", DOUBLE))
    assert run.stack == [7, [2]]


def test_a_block_discards_extra_values_it_leaves_below_its_result():
    run = asm(with_block("LoadConst [1, 2]\nMapBlock b", "LoadInt 0\nLoadInt 0\nGetSlot 0"))
    assert run.stack == [[1, 2]]


def test_a_block_runs_in_a_fresh_frame():
    run = asm(with_block("LoadInt 9\nSetSlot 1\nLoadConst [1, 2]\nMapBlock b\nGetSlot 1",
                         "GetSlot 1\nLoadInt 5\nSetSlot 1"))
    assert run.stack[0] == [Undef, Undef]
    assert run.stack[1] == 9


def test_a_block_reads_and_writes_globals():
    run = asm(with_block("LoadInt 0\nSetVar total\nLoadConst [1, 2, 3]\nForEachBlock b\n"
                         "GetVar total",
                         "GetVar total\nGetSlot 0\nAdd\nSetVar total"))
    assert run.value == 6


GREP_EVEN = "GetSlot 0\nLoadInt 2\nMod\nLogNot"


def test_grep_block_keeps_elements_whose_result_is_truthy():
    run = asm(with_block("LoadConst [1, 2, 3, 4, 5, 6]\nGrepBlock b", GREP_EVEN))
    assert run.value == [2, 4, 6]


def test_grep_block_keeps_the_element_not_the_block_result():
    run = asm(with_block('LoadConst ["a", "", "0", "b"]\nGrepBlock b', "GetSlot 0"))
    assert run.value == ["a", "b"]


def test_a_block_mutating_its_slot_does_not_change_the_kept_element():
    """D8: slot 0 holds a copy of the element, so the grep result keeps the original."""
    run = asm(with_block("LoadConst [[1], [2]]\nGrepBlock b",
                         "LoadInt 9\nLoadInt 0\nSlotArraySet 0\nLoadTrue"))
    assert run.value == [[1], [2]]


def test_for_each_block_runs_per_element_and_pushes_nothing():
    run = asm(with_block("LoadInt 7\nLoadConst [1, \"two\", 3.5]\nForEachBlock b",
                         "GetSlot 0\nPrintLn 1"))
    assert run.out == "1\ntwo\n3.5\n"
    assert run.stack == [7]


def test_for_each_block_needs_no_result():
    run = asm(with_block("LoadConst [1, 2]\nForEachBlock b", "Nop"))
    assert run.value is None


def test_a_block_that_may_end_without_a_result_is_refused_for_map():
    with pytest.raises(AsmError, match="needs its result"):
        assemble_text(with_block("LoadConst [1]\nMapBlock b", "Nop"))


ASCENDING = "GetSlot 0\nGetSlot 1\nSpaceship"
DESCENDING = "GetSlot 1\nGetSlot 0\nSpaceship"


def test_sort_block_orders_by_the_comparator():
    assert asm(with_block("LoadConst [3, 1, 2, 10]\nSortBlock b", ASCENDING)).value == \
        [1, 2, 3, 10]
    assert asm(with_block("LoadConst [3, 1, 2, 10]\nSortBlock b", DESCENDING)).value == \
        [10, 3, 2, 1]


def test_sort_block_is_stable():
    by_key = "LoadInt 0\nSlotArrayGet 0\nLoadInt 0\nSlotArrayGet 1\nSpaceship"
    run = asm(with_block('LoadConst [[1, "a"], [0, "b"], [1, "c"], [0, "d"]]\nSortBlock b',
                         by_key))
    assert run.value == [[0, "b"], [0, "d"], [1, "a"], [1, "c"]]


def test_sort_block_reads_the_comparator_result_with_to_int():
    # -0.5 and "0.9" are 0 under to_int: every pair compares equal, so order is kept.
    for result in ("LoadFloat -0.5", 'LoadConst "0.9"'):
        assert asm(with_block("LoadConst [3, 1, 2]\nSortBlock b", result)).value == [3, 1, 2]
    assert asm(with_block("LoadConst [3, 1, 2]\nSortBlock b",
                          'GetSlot 0\nGetSlot 1\nSpaceship\nLoadConst ""\nConcat')).value \
        == [1, 2, 3]


def test_sort_default_sorts_stably_by_string_order():
    run = asm('LoadConst [10, 9, 2, "b", "a", "B"]\nSortDefault')
    assert run.value == [10, 2, 9, "B", "a", "b"]
    run = asm('LoadConst [1, "1", 1.0, true]\nSortDefault')
    assert [type(v) for v in run.value] == [int, str, float, bool]


def test_sort_default_of_a_non_array_is_a_one_element_array():
    assert asm('LoadConst "x"\nSortDefault').value == ["x"]


def test_return_value_inside_a_block_ends_the_block_with_that_value():
    body = ("GetSlot 0\nLoadInt 2\nNumGt\nJumpIfFalse small\nLoadConst \"big\"\nReturnValue\n"
            "small:\nGetSlot 0")
    assert asm(with_block("LoadConst [1, 5, 2]\nMapBlock b", body)).value == [1, "big", 2]


def test_a_block_may_call_a_function_laid_out_right_after_it():
    """Regression: the block's end index is also the function's entry; the block must not
    stop when the called function starts there."""
    run = asm("""
    .block b blk blk_end
        LoadConst [1, 2, 3]
        MapBlock b
        Jump end
    blk:
        GetSlot 0
        Call sq 1
    blk_end:
    .sub sq
        SetSlot 0
        GetSlot 0
        GetSlot 0
        Mul
        ReturnValue
    end:
    """)
    assert run.value == [1, 4, 9]


def test_blocks_nest():
    run = asm("""
    .block outer o o_end
    .block inner i i_end
        LoadConst [[3, 1], [2, 5, 4]]
        MapBlock outer
        Jump end
    o:
        GetSlot 0
        SortBlock inner
    o_end:
        Jump end
    i:
        GetSlot 0
        GetSlot 1
        Spaceship
    i_end:
    end:
    """)
    assert run.value == [[1, 3], [2, 4, 5]]


def test_an_error_inside_a_block_names_the_failing_op():
    with pytest.raises(ZeroDivision) as info:
        asm(with_block("LoadConst [1, 0]\nMapBlock b", "LoadInt 1\nGetSlot 0\nDiv"))
    assert info.value.op == "Div" and info.value.ip == 5 and info.value.line == 9


def test_a_halt_inside_a_block_stops_the_whole_run():
    chunk = assemble_text(with_block('LoadConst [1, 2, 3]\nForEachBlock b\nLoadConst "after"'
                                     "\nPrintLn 1",
                                     "GetSlot 0\nPrintLn 1\nCallBuiltin 1 0\nPop"))
    out = io.StringIO()
    vm = VM(chunk, stdout=out)
    vm.register_builtin(1, lambda vm: vm.halt())
    vm.run()
    assert out.getvalue() == "1\n"
    assert vm.halted


def test_return_inside_a_block_ends_it_with_an_undef_result():
    body = "GetSlot 0\nJumpIfFalse zero\nReturn\nzero:\nLoadInt 7"
    run = asm(with_block("LoadConst [1, 0]\nMapBlock b", body))
    assert run.value == [Undef, 7]


def test_a_scope_left_open_in_a_block_is_closed_when_the_block_ends():
    run = asm(with_block("LoadInt 4\nSetSlot 0\nLoadConst [1, 2]\nMapBlock b\nGetSlot 0",
                         "GetSlot 0\nPushFrame\nLoadInt 5\nSetSlot 0"))
    assert run.stack == [[1, 2], 4]
    assert len(run.vm.frames) == 1


def test_blocks_nested_too_deeply_raise_recursion_limit():
    from fusevm.errors import RecursionLimit
    text = """
    .block b blk blk_end
        LoadInt 250
        Call f 1
        Jump end
    .sub f
        SetSlot 0
        GetSlot 0
        JumpIfFalse bottom
        GetSlot 0
        MapBlock b
        ReturnValue
    bottom:
        LoadInt 0
        ReturnValue
    blk:
        GetSlot 0
        Dec
        Call f 1
    blk_end:
    end:
    """
    with pytest.raises(RecursionLimit, match="nested more than") as info:
        asm(text)
    assert info.value.op == "MapBlock"
