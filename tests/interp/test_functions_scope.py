"""Call, Return, ReturnValue, PushFrame, PopFrame (docs/ops.md#functions; D1, D2)."""

from __future__ import annotations

import sys

import pytest

from fusevm import Undef
from fusevm.errors import AsmError, RecursionLimit

from .support import asm, assemble_text, assert_same, run_chunk

ADD2 = """
    LoadInt 10
    LoadInt 3
    Call add 2
    Jump end
.sub add
    SetSlot 1
    SetSlot 0
    GetSlot 0
    GetSlot 1
    Sub
    ReturnValue
end:
"""


def test_call_passes_arguments_with_the_last_on_top_and_return_value_pushes_the_result():
    assert asm(ADD2).stack == [7]


def test_call_leaves_values_below_the_arguments_alone():
    run = asm("LoadInt 99\n" + ADD2)
    assert run.stack == [99, 7]


def test_return_drops_the_callee_stack_and_pushes_nothing():
    run = asm("""
        LoadInt 1
        LoadInt 2
        Call f 1
        Jump end
    .sub f
        LoadInt 7
        LoadInt 8
        Return
    end:
    """)
    assert run.stack == [1]


def test_return_value_unwinds_temporaries_left_by_the_callee():
    run = asm("""
        LoadInt 1
        Call f 0
        Jump end
    .sub f
        LoadInt 5
        LoadInt 6
        LoadInt 7
        ReturnValue
    end:
    """)
    assert run.stack == [1, 7]


def test_a_callee_sees_fresh_slots_and_the_caller_gets_its_slots_back():
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


FIB = """
    LoadInt {n}
    Call fib 1
    Jump end
.sub fib
    SetSlot 0
    GetSlot 0
    LoadInt 2
    NumLt
    JumpIfFalse recurse
    GetSlot 0
    ReturnValue
recurse:
    GetSlot 0
    LoadInt 1
    Sub
    Call fib 1
    GetSlot 0
    LoadInt 2
    Sub
    Call fib 1
    Add
    ReturnValue
end:
"""


def test_recursive_fib():
    assert asm(FIB.format(n=15)).value == 610


DEPTH = """
    LoadInt {n}
    Call down 1
    Jump end
.sub down
    SetSlot 0
    GetSlot 0
    JumpIfFalse bottom
    GetSlot 0
    Dec
    Call down 1
    Inc
    ReturnValue
bottom:
    LoadInt 0
    ReturnValue
end:
"""


def test_recursion_1000_deep_does_not_use_python_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        assert asm(DEPTH.format(n=1000)).value == 1000
    finally:
        sys.setrecursionlimit(limit)


def test_max_depth_allows_exactly_that_many_nested_calls():
    """Pinned: max_depth = N allows N frames above the root (each Call adds one)."""
    assert asm(DEPTH.format(n=9), max_depth=10).value == 9  # 10 frames: n = 9 .. 0


def test_call_depth_over_max_depth_raises_recursion_limit():
    with pytest.raises(RecursionLimit) as info:
        asm(DEPTH.format(n=10), max_depth=10)
    assert info.value.op == "Call"


def test_unbounded_recursion_hits_the_default_limit_cleanly():
    with pytest.raises(RecursionLimit):
        asm("""
            Call f 0
            Jump end
        .sub f
            Call f 0
            ReturnValue
        end:
        """)


def test_mutual_recursion():
    run = asm("""
        LoadInt 11
        Call is_even 1
        Jump end
    .sub is_even
        SetSlot 0
        GetSlot 0
        JumpIfFalse yes
        GetSlot 0
        Dec
        Call is_odd 1
        ReturnValue
    yes:
        LoadTrue
        ReturnValue
    .sub is_odd
        SetSlot 0
        GetSlot 0
        JumpIfFalse no
        GetSlot 0
        Dec
        Call is_even 1
        ReturnValue
    no:
        LoadFalse
        ReturnValue
    end:
    """)
    assert run.value is False


def test_call_to_an_undefined_function_is_refused_at_build():
    with pytest.raises(AsmError, match="undefined function 'nope'"):
        assemble_text("Call nope 0")


def test_return_in_the_root_frame_halts_without_rerunning_the_chunk():
    """D2: the root Return halts; side effects happen once."""
    run = asm("""
        LoadConst "once"
        PrintLn 1
        LoadInt 5
        Return
        LoadInt 99
    """)
    assert run.out == "once\n"
    assert run.stack == [5]
    assert run.vm.halted


def test_return_value_in_the_root_frame_halts_with_that_value():
    run = asm("""
        LoadInt 1
        LoadInt 5
        ReturnValue
        LoadInt 99
    """)
    assert run.value == 5 and run.vm.stack == [1]


def test_return_in_the_root_frame_inside_a_scope_halts():
    run = asm("LoadInt 3\nPushFrame\nLoadInt 4\nReturn\nLoadInt 99")
    assert run.vm.halted and 99 not in run.stack


def test_run_after_a_halt_returns_the_next_value_without_running_more():
    chunk = assemble_text("LoadInt 1\nLoadInt 2\nReturn\nLoadInt 3")
    run = run_chunk(chunk)
    assert run.value == 2
    assert run.vm.run() == 1
    assert run.vm.run() is None


def test_run_after_the_end_pops_remaining_values_then_returns_none():
    run = asm("LoadInt 1\nLoadInt 2")
    assert (run.value, run.vm.run(), run.vm.run()) == (2, 1, None)


def test_reset_starts_over():
    chunk = assemble_text('LoadConst "x"\nPrintLn 1\nLoadInt 4\nSetVar g\nGetVar g')
    run = run_chunk(chunk)
    run.vm.reset()
    assert run.vm.run() == 4
    assert run.out == "x\n" and run.vm.stdout.getvalue() == "x\nx\n"


def test_push_frame_hides_the_current_slots():
    run = asm("LoadInt 4\nSetSlot 0\nPushFrame\nGetSlot 0\nSetVar seen\nPopFrame\n"
              "GetVar seen\nGetSlot 0")
    assert_same(run.stack[0], Undef)
    assert run.stack[1] == 4


def test_pop_frame_restores_slots_and_truncates_the_stack():
    run = asm("""
        LoadInt 1
        SetSlot 0
        LoadInt 10
        PushFrame
        LoadInt 2
        SetSlot 0
        LoadInt 20
        LoadInt 30
        PopFrame
        GetSlot 0
    """)
    assert run.stack == [10, 1]


def test_nested_scopes_unwind_in_order():
    run = asm("""
        LoadInt 1
        SetSlot 0
        PushFrame
        LoadInt 2
        SetSlot 0
        PushFrame
        LoadInt 3
        SetSlot 0
        GetSlot 0
        SetVar inner
        PopFrame
        GetSlot 0
        SetVar middle
        PopFrame
        GetVar inner
        GetVar middle
        GetSlot 0
    """)
    assert run.stack == [3, 2, 1]


def test_return_inside_a_scope_inside_a_function_leaves_the_function():
    run = asm("""
        LoadInt 5
        SetSlot 0
        Call f 0
        GetSlot 0
        Jump end
    .sub f
        PushFrame
        LoadInt 42
        ReturnValue
    end:
    """)
    assert run.stack == [42, 5]


def test_pop_frame_without_push_frame_is_refused_at_build():
    with pytest.raises(AsmError, match="PopFrame without a matching PushFrame"):
        assemble_text("PopFrame")


def test_a_function_mixing_return_and_return_value_is_refused_at_build():
    with pytest.raises(AsmError, match="both with and without a value"):
        assemble_text("""
            LoadTrue
            Call f 1
            Jump end
        .sub f
            JumpIfTrue v
            Return
        v:
            LoadInt 1
            ReturnValue
        end:
        """)
