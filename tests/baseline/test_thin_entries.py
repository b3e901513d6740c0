"""Function entries run by their direct forms (`fusevm.baseline.thin`) against the
interpreter: the entry's step pops the arguments, runs the form and returns as the
function's return op; where the form leaves (an error, the direct calls' depth, an
interrupt) the frames are rebuilt as the interpreter would have them. The root is never
compiled here (it is entered once a run, under the threshold), so every compiled call
enters through the thin step, which the counters show ran."""

from __future__ import annotations

from typing import Any

import pytest

from fusevm import VM, Interrupted
from fusevm.asm import assemble
from fusevm.baseline import calls, thin
from fusevm.baseline.regions import plan
from fusevm.bench.jit_workloads import FIB_SUB

from baseline_kit import COUNT_DOWN, agree_calls, interrupt_once_compiled, recursive_program

#: fib(n) called once from the root (`FIB_SUB`: the benchmarks' fib body).
FIB = "    LoadInt {n}\n    Call fib 1\n    Jump end\n" + FIB_SUB + "end:\n"


def agree(text: str, thin_ran: bool = True, **options: Any) -> tuple[Any, ...]:
    """Both tiers agree on everything (every hot point but the root's compiled at its
    second entry: the root is entered once), and the thin entries ran. The baseline's
    outcome."""
    before = calls.STATS.as_dict()
    got = agree_calls(text, eager=True, threshold=2, **options)
    after = calls.STATS.as_dict()
    if thin_ran:
        assert after["thin_entries"] > before["thin_entries"]
        assert after["direct_entries"] > before["direct_entries"]
    return got


def test_fib_runs_from_its_entry_without_region_code() -> None:
    got = agree(FIB.format(n=19))  # (not fib(18): the direct calls' tests count its compile)
    assert got[0] == 4181


def test_what_applies_is_a_function_entry_only_calls_reach() -> None:
    chunk = assemble(FIB.format(n=5))
    cp = plan(chunk)
    entry = chunk.sub_entries[0][1]
    region = cp.regions[cp.region_of[entry]]
    ret = thin.applies(chunk, cp, region, entry)
    assert ret is not None and chunk.ops[ret][0].name == "ReturnValue"
    assert thin.applies(chunk, cp, region, entry + 1) is None  # not its entry
    # A function whose entry is also a loop's header: the entry is not always a new call.
    looped = assemble("""
    LoadInt 3
    Call f 1
    Jump end
.sub f
top:
    Dup
    JumpIfFalse out
    Dec
    Jump top
out:
    ReturnValue
end:
""")
    cp = plan(looped)
    entry = looped.sub_entries[0][1]
    region = cp.regions[cp.region_of[entry]]
    assert thin.applies(looped, cp, region, entry) is None


def test_an_error_deep_in_the_recursion_has_the_interpreters_frames() -> None:
    text = """
    LoadInt 40
    Call down 1
    Jump end
.sub down
    SetSlot 0
    GetSlot 0
    JumpIfFalse zero
    GetSlot 0
    Dec
    Call down 1
    ReturnValue
zero:
    LoadInt 1
    GetSlot 0
    Div
    ReturnValue
end:
"""
    before = calls.STATS.unwinds
    got = agree(text)
    assert got[1] is not None and got[1][0] == "ZeroDivision" and len(got[1][5]) == 42
    assert calls.STATS.unwinds > before


@pytest.mark.parametrize("n", [150, 260, 600])
def test_recursion_deeper_than_the_direct_calls_nest(n: int) -> None:
    before = calls.STATS.unwinds
    text = f"""
    LoadInt {n}
    Call depth 1
    Jump end
.sub depth
    SetSlot 0
    GetSlot 0
    JumpIfFalse base
    GetSlot 0
    Dec
    Call depth 1
    Inc
    ReturnValue
base:
    LoadInt 0
    ReturnValue
end:
"""
    assert agree(text)[0] == n
    if n > calls.BOUND:
        assert calls.STATS.unwinds > before


def test_the_depth_limit_is_the_interpreters_even_with_a_call_as_first_op() -> None:
    # The form leaves before its first op (a call, no room left): the interpreter runs
    # that call, and the limit is reached as it would be interpreted.
    deep = "Call f 0\nReturn\n.sub f\n    Call f 0\n    ReturnValue\n"
    got = agree(deep, max_depth=300)
    assert got[1] is not None and got[1][0] == "RecursionLimit"


def test_a_function_returning_nothing_and_one_without_arguments() -> None:
    assert agree(COUNT_DOWN.format(n=30))[2] == "3465\n"
    text = "    Call seven 0\n    Call seven 0\n    Add\n    Call seven 0\n    Add\n" \
           "    Jump end\n.sub seven\n    LoadInt 7\n    ReturnValue\nend:\n"
    assert agree(text)[0] == 21  # (the third call enters the thin step)


@pytest.mark.parametrize("base", ["LoadFloat 0.5", 'LoadConst "x"', "LoadUndef"])
def test_arguments_of_another_type_take_the_generic_form(base: str) -> None:
    text = FIB.format(n=12).replace("    GetSlot 0\n    ReturnValue\n",
                                    f"    {base}\n    ReturnValue\n", 1)
    agree(text)


def test_an_interrupt_inside_the_recursion_resumes_exactly() -> None:
    chunk = assemble(FIB.format(n=27), source="fib.fasm")
    vm = VM(chunk)
    vm._tiers.eager = True
    vm._tiers.region_threshold = 2
    before = calls.STATS.as_dict()
    watcher = interrupt_once_compiled(vm)
    try:
        with pytest.raises(Interrupted) as info:
            vm.run()
    finally:
        watcher.join()
    assert len(info.value.backtrace) == len(vm.frames)
    assert vm.run() == 196418
    assert calls.STATS.thin > before["thin_entries"]


def test_a_budget_leaves_every_call_to_the_interpreter() -> None:
    chunk = assemble(FIB.format(n=14), source="fib.fasm")
    plain = VM(chunk, baseline=False)
    tiered = VM(chunk)
    tiered._tiers.eager = True
    tiered._tiers.region_threshold = 2
    for vm in (plain, tiered):
        with pytest.raises(Exception) as info:
            vm.run(max_steps=2001)
        assert type(info.value).__name__ == "BudgetExceeded"
    assert plain.ip == tiered.ip and len(plain.frames) == len(tiered.frames)
    assert plain.run() == tiered.run() == 377


def test_random_recursive_functions_agree_entered_thin() -> None:
    """The generated recursive functions of the direct calls' tests (random ops on the
    way down, one or two calls, depths around the direct bound, strict ints), the calls
    from the interpreter entering through the thin step where the function has a direct
    form."""
    before = calls.STATS.as_dict()
    for seed in range(150):
        text = recursive_program(seed)
        try:
            agree(text, thin_ran=False, strict_int=seed % 4 == 0)
        except AssertionError as e:
            raise AssertionError(f"seed {seed}:\n{text}") from e
    after = calls.STATS.as_dict()
    # (a function with an op the baseline leaves to the interpreter has no direct form)
    assert after["thin_entries"] >= before["thin_entries"] + 60
    assert after["direct_unwinds"] > before["direct_unwinds"] + 20
