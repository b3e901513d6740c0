"""The baseline tier against the interpreter (the oracle): the same results, output,
errors (class, op, line), final state and budgets, with counters proving it ran."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "jit"))

from oracle import budget_problems, compare, snapshot, take  # noqa: E402
from progs import RandomSource, generate  # noqa: E402

from fusevm import VM, BudgetExceeded, VMError  # noqa: E402
from fusevm.asm import assemble  # noqa: E402
from fusevm.baseline import compiler  # noqa: E402
from fusevm.peephole.fuse import fuse  # noqa: E402
from fusevm.values import same_value  # noqa: E402

_TESTS = Path(__file__).resolve().parent.parent
#: The test programs, the fusion pass's (loops of every shape, a block ending in a loop's
#: result) and the examples.
PROGRAMS = sorted([*(_TESTS / "programs").glob("*.fasm"),
                   *(_TESTS / "fusion" / "programs").glob("*.fasm"),
                   *(_TESTS.parent / "examples").glob("*.fasm")])


def outcome(chunk: Any, baseline: bool) -> tuple[Any, ...]:
    out = io.StringIO()
    vm = VM(chunk, stdout=out, stdin=io.StringIO("a b\nc\n"), baseline=baseline)
    if baseline:
        vm._tiers.region_threshold = 1
    try:
        result: Any = vm.run()
        error = None
    except VMError as e:
        result, error = None, (type(e).__name__, e.message, e.op, e.ip, e.line)
    return result, error, out.getvalue(), list(vm.slots), list(vm.globals), vm.ip


def agree(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert same_value(a[0], b[0]), (a[0], b[0])
    assert a[1:3] == b[1:3]
    for x, y in zip(a[3:5], b[3:5]):
        assert len(x) == len(y) and all(same_value(p, q) for p, q in zip(x, y)), (x, y)
    assert a[5] == b[5]


@pytest.mark.parametrize("path", PROGRAMS,
                         ids=lambda p: str(p.relative_to(_TESTS.parent).with_suffix("")))
@pytest.mark.parametrize("fused", [False, True], ids=["plain", "fused"])
def test_every_program_agrees(path: Path, fused: bool) -> None:
    chunk = assemble(path.read_text(encoding="utf-8"), source=path.name)
    if fused:
        chunk = fuse(chunk)
    agree(outcome(chunk, False), outcome(chunk, True))


def test_generated_programs_agree_and_really_run_in_the_baseline() -> None:
    """Programs of every generated shape; those with higher-order blocks (a share of the
    sample, or their coverage would have vanished from the generator) also stopped by
    step budgets and an interrupt, before, inside and after their blocks."""
    before = compiler.stats()["compiles"]
    with_blocks = 0
    for seed in range(300):
        program = generate(RandomSource(9_100_000 + seed), straight=seed % 3 == 0)
        chunk = program.build()
        ref = snapshot(program, chunk, None)
        got = snapshot(program, chunk, "baseline")
        diff = compare(ref, got)
        assert diff is None, f"seed {seed}: {diff}\n{program.text()}"
        if program.block_ops():
            with_blocks += 1
            problems = budget_problems(program, (0, 1, 7, 30, 100))
            assert not problems, f"seed {seed}: {problems[0]}\n{program.text()}"
    assert compiler.stats()["compiles"] > before + 100
    assert with_blocks >= 50, with_blocks


LOOP = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 0
    LoadInt 500
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
    GetSlot 1
"""


def test_budgets_count_the_same_instructions_in_both_tiers() -> None:
    chunk = assemble(LOOP, source="loop.fasm")
    for budget in (3, 100, 2_222, 4_000):
        states = []
        for baseline in (False, True):
            vm = VM(chunk, baseline=baseline)
            vm.run()  # warm: the baseline compiles the loop
            vm.reset()
            with pytest.raises(BudgetExceeded):
                vm.run(max_steps=budget)
            states.append((vm.ip, list(vm.slots), list(vm.stack)))
            assert vm.run() == sum(range(500))
        assert states[0] == states[1]


def test_errors_are_located_at_the_op_that_failed() -> None:
    text = LOOP.replace("GetSlot 1\n    GetSlot 0\n    Add", "GetSlot 1\n    GetSlot 0\n    Div")
    chunk = assemble(text, source="div.fasm")
    agree(outcome(chunk, False), outcome(chunk, True))
    error = outcome(chunk, True)[1]
    assert error is not None and error[0] == "ZeroDivision" and error[2] == "Div"


@pytest.mark.parametrize("cold", [1, 5, 40])
def test_generated_programs_agree_when_the_vm_starts_counting_mid_run(
        cold: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A VM whose compiler is not loaded counts no hot point before it has run
    # `tiers.cold_ops()` ops, then attaches its tiers and installs its counting steps in
    # the middle of the run (`VM._warm`): with a few ops that happens anywhere in a
    # generated program, inside a call, a loop or a block, and the run must not notice.
    from fusevm.interp import tiers
    from fusevm.interp import vm as vm_module

    monkeypatch.setattr(tiers, "cold_ops", lambda: cold)
    monkeypatch.setattr(tiers, "pending_cold_ops", lambda: cold)
    # Slices of two turns, not 512 ops: the count is looked at often enough to end
    # anywhere.
    monkeypatch.setattr(vm_module, "COLD_SLICE", 2 * vm_module.COLD_TURN)
    monkeypatch.setattr(vm_module, "_COLD_TURNS", (0, 1))
    warmed = 0
    for seed in range(300):
        program = generate(RandomSource(9_300_000 + seed), straight=seed % 4 == 0)
        chunk = program.build()
        ref = snapshot(program, chunk, None)
        vm = VM(chunk, strict_int=program.strict)
        vm.slots[:len(program.slots)] = list(program.slots)
        got = take(vm)
        warmed += vm._cold_ran == cold
        diff = compare(ref, got)
        assert diff is None, f"seed {seed}: {diff}\n{program.text()}"
    assert warmed >= 60  # many runs started counting part-way
