"""Generated programs agree in the interpreter and in each JIT tier.

Programs come from `progs.Gen` (straight-line, branches, ternaries, `&&`/`||`, loops of
every shape, nested loops, AccumSumLoop, higher-order blocks and functions; Div/Mod/Pow
with 0, -1, INT64_MIN; NaN, inf, -0.0; Int/Float/Bool/Undef/Str slots; strict_int). For
each, the interpreter's result and kind, slots, globals, stack, ip, frames and error (with
its backtrace) must equal the JIT tier's, and a counter must prove the tier ran: when
`why_not` accepts the program, the unit either ran natively or deoptimised, and it
deoptimised only where the interpreter then raised an error.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import budget_problems, check_program, compare, snapshot
from progs import DataSource, Program, RandomSource, generate

from conftest import requires_llvmlite

pytestmark = requires_llvmlite

#: The "thorough" Hypothesis profile (2,000 examples by default) scales these up 20 times.
SCALE = max(1, settings.default.max_examples // 100)


def budget(examples: int) -> settings:
    return settings(deadline=None, suppress_health_check=list(HealthCheck), database=None,
                    max_examples=examples * SCALE)


def check(program: Program, tiers: tuple[str, ...]) -> dict[str, str]:
    """Assert the program agrees in every tier; return how each tier ran it."""
    how, problems = check_program(program, tiers)
    assert not problems, "\n".join(problems) + "\n" + program.text()
    return how


@budget(700)
@given(st.data())
def test_straight_line_programs_agree_in_every_tier(data: st.DataObject) -> None:
    check(generate(DataSource(data), straight=True), ("linear", "block"))


@budget(900)
@given(st.data())
def test_programs_with_branches_and_loops_agree_in_the_block_tier(data: st.DataObject) -> None:
    check(generate(DataSource(data), straight=False), ("block",))


@pytest.mark.parametrize("straight", [True, False], ids=["straight", "loops"])
def test_a_seeded_batch_agrees_and_mostly_runs_natively(straight: bool) -> None:
    """1,000 fixed programs: all agree, and most of those without calls and blocks (which
    the tiers refuse whole) are compiled and run; a share of those with branches have
    higher-order blocks (run by the interpreter, their loops maybe as native regions)."""
    tally = {"ran": 0, "deopt": 0, "refused": 0, "regions": 0}
    higher_order = 0
    tiers = ("linear", "block") if straight else ("block",)
    for seed in range(500):
        program = generate(RandomSource(seed * 2 + straight), straight)
        how = check(program, tiers)
        if program.block_ops() or program.subs:
            higher_order += program.block_ops() > 0
            continue
        for outcome in how.values():
            tally[outcome] += 1
    total = sum(tally.values())
    assert tally["ran"] >= 0.6 * total, tally
    assert tally["deopt"] > 0, tally
    assert higher_order == 0 if straight else higher_order >= 100, higher_order


def test_a_seeded_batch_of_wide_programs_agrees_in_every_tier() -> None:
    """Wide programs (string ops, awk's extension ops, a slot changing its kind or a zero
    divisor at one iteration of a loop) through the native tiers, the baseline tier and
    the whole chain of tiers, and under step budgets: all agree, and the batch has what
    it is for (or this test has lost what it tests)."""
    from fusevm.jit import get_config, set_config
    tally: dict[str, int] = {}
    old = set_config(get_config().replace(block_threshold=0, reopt_after=0))
    try:
        for seed in range(150):
            straight = seed % 3 == 0
            program = generate(RandomSource(9_500_000 + seed), straight,
                               RandomSource(9_600_000 + seed))
            tiers = ("linear", "block") if straight else ("block", "baseline")
            how, problems = check_program(program, (*tiers, "chain"))
            if not straight:
                problems += budget_problems(program, (1, 30))
            assert not problems, "\n".join(problems) + "\n" + program.text()
            names = {item[0] for item in program.items}
            for key, present in (("strings", "Concat" in names or "StringLen" in names),
                                 ("awk", any(n.startswith("Awk") for n in names)),
                                 ("traced", how["chain"] == "traced"),
                                 ("native", "ran" in how.values()),
                                 ("errors", snapshot(program, program.build(), None).error
                                  is not None)):
                tally[key] = tally.get(key, 0) + present
    finally:
        set_config(old)
    assert all(tally[k] >= 10 for k in ("strings", "awk", "native", "errors")), tally
    assert tally["traced"] >= 3, tally


def test_errors_raised_after_a_deopt_are_the_interpreters() -> None:
    from fusevm import ChunkBuilder, Op
    b = ChunkBuilder(source="div.fasm")
    b.emit(Op.LoadInt, 0, line=3)
    b.emit(Op.SetSlot, 0)
    top = b.label()
    b.bind(top)
    b.emit(Op.LoadInt, 10, line=5)
    b.emit(Op.LoadInt, 3)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.Sub)
    b.emit(Op.Div, line=7)
    b.emit(Op.Pop)
    b.emit(Op.SlotIncLtIntJumpBack, 0, 10, top, line=9)
    b.emit(Op.LoadInt, 1)
    program = Program([], [])
    chunk = b.build(fuse=False)
    ref = snapshot(program, chunk, None)
    got = snapshot(program, chunk, "block")
    assert ref.error is not None
    assert ref.error[:5] == ("ZeroDivision", "division by zero", "Div", 6, 7)
    assert compare(ref, got) is None


def test_the_fuzzer_contains_a_native_crash_and_prints_the_program() -> None:
    import subprocess
    import sys
    from pathlib import Path
    script = Path(__file__).with_name("fuzz.py")
    proc = subprocess.run([sys.executable, str(script), "--seconds", "60", "--workers", "1",
                           "--seed", "5", "--programs", "3", "--crash-at", "6"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "CRASH seed 6: the worker died (signal SIGSEGV)" in proc.stdout
    assert "fuzz: 2 programs from seed 5" in proc.stdout
    assert "; slots=" in proc.stdout  # the crashing program, regenerated from its seed


def test_reused_vms_with_changing_slot_kinds_agree() -> None:
    """Reset and re-run one VM with new slot values (new kinds pick other units)."""
    from fusevm import VM, VMError
    from fusevm.jit.policy import JitHook
    from fusevm.values import same_value

    def runs_of(program: Program, chunk: object, jit: bool, inputs: list[list[object]]) -> list:
        vm = VM(chunk, strict_int=program.strict)  # type: ignore[arg-type]
        if jit:
            vm.set_tier_hook(JitHook(False, force="block"))
        seen = []
        for slots in inputs:
            vm.reset()
            vm.slots[:len(slots)] = slots
            for _ in range(2):  # the second run() continues a finished VM: nothing to do
                try:
                    seen.append(("ok", vm.run()))
                except VMError as e:
                    seen.append(("error", str(e)))
                seen.append(("slots", list(vm.slots)))
        return seen

    for seed in range(150):
        program = generate(RandomSource(7_000_000 + seed), straight=seed % 2 == 0)
        chunk = program.build()
        other = generate(RandomSource(8_000_000 + seed), straight=True).slots
        other = (other + program.slots)[:len(program.slots)]
        inputs = [program.slots, other, program.slots]
        ref = runs_of(program, chunk, False, inputs)
        got = runs_of(program, chunk, True, inputs)
        for (k1, v1), (k2, v2) in zip(ref, got):
            assert k1 == k2, (ref, got, program.text())
            if k1 == "slots":
                assert all(same_value(a, b) for a, b in zip(v1, v2)), (v1, v2, program.text())
            elif k1 == "ok":
                assert same_value(v1, v2), (v1, v2, program.text())
            else:
                assert v1 == v2
