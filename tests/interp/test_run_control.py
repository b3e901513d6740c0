"""Run control (D18): step budgets, timeouts and interrupts stop the interpreter at an
instruction boundary, and a later run() continues as if nothing had happened."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest

from fusevm import VM, BudgetExceeded, ExtensionSet, Interrupted, VMError
from fusevm.asm import assemble
from fusevm.values import Undef

COUNT = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 0
    LoadInt {n}
    NumLt
    JumpIfFalse done
    GetSlot 1
    GetSlot 0
    Add
    SetSlot 1
    GetSlot 0
    LoadInt 1
    Add
    SetSlot 0
    Jump top
done:
    LoadConst "sum"
    GetSlot 1
    PrintLn 2
    GetSlot 1
"""

FOREVER = """
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    LoadInt 1
    Add
    SetSlot 0
    Jump top
"""

CALLS = """
    LoadInt 0
    SetVar total
    LoadInt 0
    SetSlot 0
again:
    GetSlot 0
    LoadInt 3
    NumLt
    JumpIfFalse finish
    LoadInt {n}
    Call work 1
    GetVar total
    Add
    SetVar total
    GetSlot 0
    LoadInt 1
    Add
    SetSlot 0
    Jump again
finish:
    GetVar total
    ReturnValue
.sub work
    SetSlot 1
    LoadInt 0
    SetSlot 2
loop:
    GetSlot 1
    LoadInt 0
    NumGt
    JumpIfFalse out
    GetSlot 2
    GetSlot 1
    Add
    SetSlot 2
    GetSlot 1
    LoadInt 1
    Sub
    SetSlot 1
    Jump loop
out:
    GetSlot 2
    ReturnValue
"""


def run_all(text: str) -> tuple[object, str]:
    out = io.StringIO()
    return VM(assemble(text, source="ctl.fasm"), stdout=out).run(), out.getvalue()


def test_a_budget_counts_every_dispatched_instruction_exactly() -> None:
    chunk = assemble("LoadInt 1\nLoadInt 2\nAdd\nLoadInt 3\nMul\n")
    assert VM(chunk).run(max_steps=5) == 9
    vm = VM(chunk)
    with pytest.raises(BudgetExceeded) as e:
        vm.run(max_steps=4)
    assert e.value.ip == 4 and e.value.op == "Mul" and vm.ip == 4
    assert vm.run() == 9


@pytest.mark.parametrize("budget", [1, 7, 100, 4095, 4096, 4097, 10_000])
def test_resuming_after_a_budget_gives_the_uninterrupted_result(budget: int) -> None:
    text = COUNT.format(n=3000)
    expected = run_all(text)
    out = io.StringIO()
    vm = VM(assemble(text, source="ctl.fasm"), stdout=out)
    stops = 0
    while True:
        try:
            result = vm.run(max_steps=budget)
            break
        except BudgetExceeded:
            stops += 1
    assert (result, out.getvalue()) == expected
    assert stops >= 1


def test_budgets_resume_inside_function_calls() -> None:
    text = CALLS.format(n=500)
    expected = run_all(text)
    vm = VM(assemble(text, source="ctl.fasm"))
    depths = set()
    while True:
        try:
            result = vm.run(max_steps=333)
            break
        except BudgetExceeded:
            depths.add(len(vm.frames))
    assert result == expected[0] == 3 * 500 * 501 // 2
    assert 2 in depths  # stopped (and resumed) inside the callee


def test_a_timeout_interrupts_an_endless_loop_at_a_hot_point() -> None:
    vm = VM(assemble(FOREVER, source="loop.fasm"))
    started = time.monotonic()
    with pytest.raises(Interrupted) as e:
        vm.run(timeout=0.2)
    assert time.monotonic() - started < 5
    assert e.value.ip == 2 and e.value.source == "loop.fasm"
    assert vm.ip == 2 and vm.stack == [] and vm.slots[0] > 0
    before = vm.slots[0]
    with pytest.raises(BudgetExceeded):
        vm.run(max_steps=60)
    assert vm.slots[0] == before + 12  # 5 ops per iteration, stopped at the boundary


def test_interrupt_from_another_thread_and_resume() -> None:
    text = COUNT.format(n=400_000)
    expected = run_all(text)
    out = io.StringIO()
    vm = VM(assemble(text, source="ctl.fasm"), stdout=out)
    timer = threading.Timer(0.05, vm.interrupt)
    timer.start()
    try:
        first = vm.run()
    except Interrupted:
        first = None
        assert 0 < vm.slots[0] < 400_000
        assert vm.run() == expected[0]
    timer.join()
    if first is not None:  # the machine was fast enough to finish first
        assert first == expected[0]
    assert out.getvalue() == expected[1]


def test_an_interrupt_between_runs_stops_the_next_run_once() -> None:
    vm = VM(assemble(COUNT.format(n=10), source="ctl.fasm"), stdout=io.StringIO())
    vm.interrupt()
    with pytest.raises(Interrupted):
        vm.run()
    assert vm.run() == 45


def test_a_straight_line_run_ignores_a_late_interrupt() -> None:
    vm = VM(assemble("LoadInt 1\nLoadInt 2\nAdd\n"))
    assert vm.run(timeout=30) == 3
    vm.reset()
    assert vm.run() == 3


def test_stopping_inside_a_higher_order_block_cannot_resume() -> None:
    text = """
    .block spinner blk end
        LoadInt 1
        LoadInt 2
        MakeArray 2
        MapBlock spinner
        Return
    blk:
        LoadInt 0
        SetSlot 1
    spin:
        GetSlot 1
        LoadInt 1
        Add
        Dup
        SetSlot 1
        LoadInt 1000000000000
        NumLt
        JumpIfTrue spin
        GetSlot 1
    end:
    """
    vm = VM(assemble(text, source="blk.fasm"))
    with pytest.raises(Interrupted):
        vm.run(timeout=0.1)
    with pytest.raises(VMError, match="reset"):
        vm.run()
    vm.reset()
    with pytest.raises(BudgetExceeded):
        vm.run(max_steps=50)


@pytest.mark.parametrize("baseline", [False, True])
def test_failing_inside_a_higher_order_block_cannot_resume(baseline: bool) -> None:
    # The error leaves the block's frame on top: another run() would run the block's ops
    # as the root's (it returned 5 here). It says to reset, as after a stop there.
    text = """
    .block div bstart bend
        Jump main
    bstart:
        LoadInt 10
        GetSlot 0
        LoadInt 2
        Sub
        Div
    bend:
    main:
        LoadInt 0
        LoadInt 3
        Range
        MapBlock div
    """
    vm = VM(assemble(text, source="blkerr.fasm"), baseline=baseline)
    if baseline:
        from fusevm.baseline import compiler
        runs = compiler.stats()["runs"]
        vm._tiers.eager = True  # the block's region compiled at its second entry
    with pytest.raises(VMError, match="division by zero"):
        vm.run()  # at the third element, in compiled code with the tier
    if baseline:
        assert compiler.stats()["runs"] > runs
    with pytest.raises(VMError, match=r"failed inside a higher-order block \(call reset"):
        vm.run()
    vm.reset()
    with pytest.raises(VMError, match="division by zero"):
        vm.run()


@pytest.mark.parametrize("limits", [{"max_steps": -1}, {"max_steps": True},
                                    {"timeout": 0}, {"timeout": True}, {"timeout": "5"},
                                    {"timeout": float("inf")}, {"timeout": float("nan")},
                                    {"timeout": 2 ** 64}])
def test_bad_limits_are_refused(limits: dict[str, Any]) -> None:
    vm = VM(assemble("LoadInt 1\n"))
    with pytest.raises(ValueError):
        vm.run(**limits)
    assert vm.run() == 1


def test_an_interrupt_after_the_last_hot_point_is_spent_with_its_run() -> None:
    # The builtin interrupts the run that called it; no hot point follows, so that run
    # ends normally and the next one is not interrupted.
    vm = VM(assemble("LoadInt 5\nCallBuiltin 1 1\n"))
    vm.register_builtin(1, lambda vm, a: vm.interrupt() or a * 2)
    assert vm.run() == 10
    vm.reset()
    assert vm.run() == 10


def test_an_interrupt_from_inside_the_run_stops_it_at_the_next_hot_point() -> None:
    vm = VM(assemble("CallBuiltin 1 0\nPop\n" + COUNT.format(n=10), source="ctl.fasm"),
            stdout=io.StringIO())
    vm.register_builtin(1, lambda vm: vm.interrupt())
    with pytest.raises(Interrupted) as info:
        vm.run()
    assert info.value.op is not None and info.value.line is not None
    assert vm.run() == 45


class _Hook:
    """A tier hook that counts the per-run calls and compiles nothing."""

    def __init__(self, per_run: bool | None, runs_whole: bool = False) -> None:
        if per_run is not None:
            self.per_run = per_run
        self.runs_whole = runs_whole
        self.calls: list[str] = []
        self.region_threshold = 1

    def threshold_at(self, vm: VM, h: int) -> int:
        return 1 << 30

    def region_step(self, vm: VM, h: int, original: object) -> None:
        return None

    def start_run(self, vm: VM) -> None:
        self.calls.append("start_run")

    def try_run(self, vm: VM) -> bool:
        self.calls.append("try_run")
        if self.runs_whole:
            vm.stack.append("whole")
        return self.runs_whole

    def interrupt(self, vm: VM) -> None:
        self.calls.append("interrupt")


@pytest.mark.parametrize("per_run", [None, True])
def test_a_hook_is_asked_at_each_run_unless_it_says_per_run_false(per_run: bool | None
                                                                   ) -> None:
    vm = VM(assemble(COUNT.format(n=10)), stdout=io.StringIO())
    hook = _Hook(per_run, runs_whole=True)
    vm.set_tier_hook(hook)
    assert vm.run() == "whole"
    assert hook.calls == ["start_run", "try_run"]
    assert vm.run(max_steps=1000) == 45  # a budgeted run is the interpreter's alone
    assert hook.calls == ["start_run", "try_run", "start_run"]


def test_a_hook_with_per_run_false_is_not_called_per_run() -> None:
    vm = VM(assemble(COUNT.format(n=10)), stdout=io.StringIO())
    hook = _Hook(False, runs_whole=True)
    vm.set_tier_hook(hook)
    assert vm.run() == 45
    vm.reset()
    assert vm.run(max_steps=1000) == 45
    assert hook.calls == []
    vm.reset()
    vm.interrupt()
    with pytest.raises(Interrupted):
        vm.run()
    assert hook.calls == ["interrupt"]


def test_a_second_vm_of_a_chunk_binds_its_own_steps() -> None:
    chunk = assemble(COUNT.format(n=10))
    first, second = VM(chunk, stdout=io.StringIO()), VM(chunk, stdout=io.StringIO())
    assert first.run() == 45 and second.run() == 45
    assert first.prepare()[0] is not second.prepare()[0]
    second.reset()
    assert second.slots == [Undef, Undef] and first.slots == [10, 45]


def test_a_closed_vm_is_freed_without_the_cycle_collector() -> None:
    """Each prepared step holds its VM: `close` drops them, so a host that runs many
    chunks once each (a shell's commands) leaves no cyclic garbage behind."""
    import gc
    import weakref
    chunk = assemble(COUNT.format(n=10))
    gc.disable()
    try:
        kept = VM(chunk, stdout=io.StringIO())
        assert kept.run() == 45
        alive = weakref.ref(kept)
        del kept
        assert alive() is not None  # (a cycle: only the collector would free it)
        closed = VM(chunk, stdout=io.StringIO())
        assert closed.run() == 45
        closed.close()
        gone = weakref.ref(closed)
        del closed
        assert gone() is None
    finally:
        gc.enable()
        gc.collect()


@pytest.mark.parametrize("baseline", [False, True])
def test_a_vm_closed_between_runs_runs_on_as_before(baseline: bool) -> None:
    """Closing drops only the steps, which the next run makes again: a run stopped by its
    budget resumes after `close` with the uninterrupted result, and a reset VM runs again
    (the baseline tier's regions compiled again for the new steps)."""
    text = COUNT.format(n=3000)
    expected = run_all(text)
    out = io.StringIO()
    vm = VM(assemble(text, source="ctl.fasm"), stdout=out, baseline=baseline)
    with pytest.raises(BudgetExceeded):
        vm.run(max_steps=5000)
    vm.close()
    assert (vm.run(), out.getvalue()) == expected
    vm.close()
    vm.reset()
    assert vm.run() == expected[0]
    assert out.getvalue() == expected[1] * 2


FLOAT_SUM = """
    LoadFloat 0.5
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 1
    LoadInt {n}
    NumLt
    JumpIfFalse end
    GetSlot 0
    GetSlot 1
    Add
    SetSlot 0
    PreIncSlotVoid 1
    Jump top
end:
    GetSlot 0
"""


def test_a_fused_loop_over_floats_stops_for_a_timeout_and_a_budget() -> None:
    """A fused loop (`AccumSumLoop`) whose values are not Ints runs in its general form a
    slice at a time: a timeout stops it at its own op, and a budget counts its slices."""
    chunk = assemble(FLOAT_SUM.format(n=2_000_000_000), fuse=True)
    assert "AccumSumLoop" in [instr[0].name for instr in chunk.ops]
    vm = VM(chunk)
    started = time.monotonic()
    with pytest.raises(Interrupted) as e:
        vm.run(timeout=0.2)
    assert e.value.op == "AccumSumLoop" and time.monotonic() - started < 5
    with pytest.raises(BudgetExceeded):
        VM(chunk).run(max_steps=100)


def test_a_fused_loop_stopped_in_its_general_form_resumes_to_the_same_result() -> None:
    chunk = assemble(FLOAT_SUM.format(n=100_000), fuse=True)
    assert "AccumSumLoop" in [instr[0].name for instr in chunk.ops]
    expected = VM(chunk).run()
    vm = VM(chunk)
    stops = 0
    while True:
        try:
            result = vm.run(max_steps=7)
            break
        except BudgetExceeded:
            stops += 1
    assert result == expected == 4999950000.5 and stops >= 2


@pytest.mark.parametrize(("arguments", "error"), [
    ({"max_depth": None}, ValueError), ({"max_depth": -1}, ValueError),
    ({"max_depth": 1.5}, ValueError), ({"max_size": "x"}, ValueError),
    ({"max_size": -1}, ValueError), ({"stdout": 5}, TypeError), ({"stdin": 5}, TypeError),
])
def test_vm_arguments_that_would_fail_mid_run_are_refused_at_once(
        arguments: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        VM(assemble("LoadInt 1\n"), **arguments)
    with pytest.raises(TypeError):
        VM(assemble("LoadInt 1\n")).reset("x")  # type: ignore[arg-type]


# -- one run at a time -------------------------------------------------------------------

REENTER = ExtensionSet("run-control-reenter", first_id=0xFA00, count=4)


@REENTER.op("TRunAgain", formula="vm.run() from inside the run")
def t_run_again(vm: VM) -> None:
    vm.run()


@REENTER.op("TResetInside", formula="vm.reset() from inside the run")
def t_reset_inside(vm: VM) -> None:
    vm.reset()


@pytest.mark.parametrize("baseline", [False, True], ids=["interp", "baseline"])
@pytest.mark.parametrize(("op", "match"), [("TRunAgain", "run\\(\\) of a VM that is already"),
                                           ("TResetInside", "reset\\(\\) of a VM that is")])
def test_run_or_reset_from_inside_a_run_is_a_located_error(baseline: bool, op: str,
                                                           match: str) -> None:
    vm = VM(assemble(f"LoadInt 1\n{op}\nReturnValue", source="again.fasm"),
            extensions=[REENTER], baseline=baseline)
    with pytest.raises(VMError, match=match) as info:
        vm.run()
    assert (info.value.op, info.value.ip) == (op, 1)
    vm.reset(assemble("LoadInt 2\nReturnValue"))  # (that run is over: the VM is free)
    assert vm.run() == 2


def test_a_second_thread_cannot_run_a_vm_that_is_running() -> None:
    vm = VM(assemble(COUNT.format(n=10**12)), stdout=io.StringIO(), baseline=False)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(_caught(vm.run)))
    worker.start()
    deadline = time.monotonic() + 10
    while not vm._running and time.monotonic() < deadline:
        time.sleep(0.001)
    with pytest.raises(VMError, match="already running"):
        vm.run()
    vm.interrupt()
    worker.join(10)
    assert outcome and isinstance(outcome[0], Interrupted)


def _caught(fn: Any) -> Any:
    try:
        return fn()
    except VMError as e:
        return e


def test_printing_an_array_that_shares_its_elements_deeply_fails_fast() -> None:
    # MapBlock over six numbers, each mapped to the same array, sixteen times over: one
    # op would otherwise spend hours building its text, out of any interrupt's reach.
    text = """
        .name g
        .block b0 body done
            LoadInt 0
            SetVar g
            LoadInt 0
            SetSlot 0
        top:
            LoadInt 2
            LoadInt 7
            Range
            MapBlock 0
            SetVar g
            PreIncSlotVoid 0
            GetSlot 0
            LoadInt 16
            NumLt
            JumpIfTrue top
            Jump use
        body:
            GetVar g
        done:
        use:
            GetVar g
            PrintLn 1
    """
    started = time.monotonic()
    with pytest.raises(VMError, match="the text of an array") as info:
        VM(assemble(text), stdout=io.StringIO()).run(timeout=60)
    assert info.value.op == "PrintLn" and time.monotonic() - started < 30
