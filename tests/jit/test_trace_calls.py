"""Native self-recursive functions (fusevm.jit.trace.calls) against the interpreter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import requires_llvmlite
from fusevm.asm import assemble
from fusevm.bench.jit_workloads import ACK_SUB, FIB_SUB
from fusevm.errors import Interrupted, VMError
from fusevm.interp.vm import VM
from fusevm.jit import get_config, set_config, wait_reoptimized
from fusevm.jit.cache import pack
from fusevm.jit.hook import PendingHook
from fusevm.jit.policy import JitHook
from fusevm.jit.trace import calls, main, tier
from fusevm.jit.trace.funcir import NotPure, emit_ir

pytestmark = requires_llvmlite

FIB = """
    LoadInt {n}
    Call fib 1
    ReturnValue
""" + FIB_SUB

ACK = """
    LoadInt {m}
    LoadInt {n}
    Call ack 2
    ReturnValue
""" + ACK_SUB


@pytest.fixture(autouse=True)
def quick() -> Iterator[None]:
    old = set_config(get_config().replace(region_threshold=3, reopt_after=0))
    tier.reset()
    yield
    set_config(old)


def outcome(text: str, traced: bool, **kw: Any) -> tuple[Any, ...]:
    vm = VM(assemble(text), max_depth=kw.pop("max_depth", 10_000),
            strict_int=kw.pop("strict", False))
    if traced:
        vm.set_tier_hook(JitHook(True))
    try:
        result: Any = vm.run()
        error = None
    except VMError as e:
        result, error = None, (type(e).__name__, e.message, e.op, e.ip, e.line)
    return result, error, list(vm.stack), len(vm.frames), vm.ip, vm.halted


@pytest.mark.parametrize("text, native", [(FIB.format(n=n), n >= 2) for n in (0, 1, 2, 15, 22)]
                         + [(ACK.format(m=m, n=n), m > 0)
                            for m, n in ((0, 3), (1, 5), (2, 3), (3, 3))])
def test_native_self_calls_agree_with_the_interpreter(text: str, native: bool) -> None:
    before = calls.COUNTS["calls"]
    assert outcome(text, True) == outcome(text, False)
    # The third entry of the function (region_threshold 3) and those after run natively.
    assert (calls.COUNTS["calls"] > before) == native


@pytest.mark.parametrize("max_depth", [5, 12, 25])
def test_the_frame_limit_raises_where_the_interpreter_raises(max_depth: int) -> None:
    text = FIB.format(n=30)
    want = outcome(text, False, max_depth=max_depth)
    assert want[1] is not None and want[1][0] == "RecursionLimit"
    before = calls.COUNTS["fallbacks"]
    assert outcome(text, True, max_depth=max_depth) == want
    assert calls.COUNTS["fallbacks"] > before  # native code gave the call back


def test_strict_mode_and_non_int_arguments_interpret() -> None:
    assert outcome(FIB.format(n=18), True, strict=True) == outcome(FIB.format(n=18), False,
                                                                    strict=True)
    text = FIB.format(n=18).replace("LoadInt 18", "LoadFloat 18.0")
    assert outcome(text, True) == outcome(text, False)


def test_an_interrupt_reaches_deep_native_recursion() -> None:
    vm = VM(assemble(FIB.format(n=60)))
    vm.set_tier_hook(JitHook(True))
    with pytest.raises(Interrupted):
        vm.run(timeout=0.5)
    assert calls.COUNTS["fallbacks"] >= 1


@pytest.mark.parametrize("body, reason", [
    ("SetSlot 0\nGetVar g\nReturnValue", "GetVar"),
    ("SetSlot 0\nGetSlot 0\nCall other 1\nReturnValue", "calls another function"),
    ("SetSlot 0\nGetSlot 1\nCall f 1\nReturnValue", "reads slot 1 before setting it"),
    ("SetSlot 0\nGetSlot 0\nLoadInt 1\nNumLt\nReturnValue", "not branched on"),
    ("SetSlot 0\nGetSlot 0\nReturnValue", "does not call itself"),
])
def test_impure_functions_are_refused_with_a_reason(body: str, reason: str) -> None:
    text = f"LoadInt 1\nCall f 1\nReturnValue\n.sub f\n{body}\n"
    if "other" in body:  # the verifier needs a function's callers to know its arguments
        text += ".sub other\nSetSlot 0\nGetSlot 0\nReturnValue\n"
    chunk = assemble(text)
    f = chunk.names.index("f")
    entry = next(ip for name, ip in chunk.sub_entries if name == f)
    with pytest.raises(NotPure, match=reason):
        emit_ir(chunk, entry)


# f(n) spins through a loop of about 2**63 iterations before calling f(n - 1): only the
# polls at its loop header can stop it.
SPIN = """
    LoadInt 3
    Call f 1
    ReturnValue
.sub f
    SetSlot 0
    GetSlot 0
    LoadInt 0
    NumLe
    JumpIfFalse more
    LoadInt 0
    ReturnValue
more:
    GetSlot 0
    SetSlot 1
spin:
    GetSlot 1
    Inc
    SetSlot 1
    GetSlot 1
    LoadInt 0
    NumGt
    JumpIfTrue spin
    GetSlot 0
    Dec
    Call f 1
    ReturnValue
"""


def test_an_interrupt_reaches_a_loop_inside_a_native_function() -> None:
    set_config(get_config().replace(region_threshold=1))
    vm = VM(assemble(SPIN))
    vm.set_tier_hook(JitHook(True))
    before = calls.COUNTS["fallbacks"]
    with pytest.raises(Interrupted):
        vm.run(timeout=0.5)
    assert calls.COUNTS["fallbacks"] == before + 1  # the native call gave up, then the
    # interpreter ran the function until the interrupt reached it too


def test_tail_calls_and_fib_s_second_call_become_loops() -> None:
    """Only a call whose result is not returned straight away tests the failure flag:
    ack's two tail calls and fib's accumulated second call compile to loops."""
    for text, tests in ((FIB.format(n=5), 1), (ACK.format(m=1, n=1), 1)):
        chunk = assemble(text)
        entry = chunk.sub_entries[0][1]
        ir, _, _ = emit_ir(chunk, entry)
        assert ir.count("load i64, ptr %status") == tests, ir
    from fusevm.jit.codegen import optimized_text
    fib = assemble(FIB.format(n=5))
    optimised = optimized_text(emit_ir(fib, fib.sub_entries[0][1])[0], "O2", 2)
    body = optimised.split("define internal")[1]
    assert body.count("call fastcc i64 @rec(") == 1, optimised  # fib(n - 1) only


def test_a_new_vm_runs_a_known_hot_function_natively_from_its_first_call() -> None:
    """Hotness belongs to the chunk: a second VM does not count region_threshold calls."""
    # Without the disk cache: a reset process would load the root code's unit from it.
    set_config(get_config().replace(region_threshold=50, cache_enabled=False))
    chunk = assemble(FIB.format(n=12))
    first = VM(chunk)
    first.set_tier_hook(JitHook(True))
    assert first.run() == 144
    before, runs = calls.COUNTS["calls"], main.COUNTS["runs"]
    second = VM(chunk)
    second.set_tier_hook(JitHook(True))
    assert second.run() == 144
    # fib(12) natively from its first call, inside the root code run whole (main.py).
    assert (calls.COUNTS["calls"], main.COUNTS["runs"]) == (before, runs + 1)
    tier.reset()  # forgets the hot points too
    third = VM(chunk)
    third.set_tier_hook(JitHook(True))
    assert third.run() == 144
    assert calls.COUNTS["calls"] > before + 1  # 50 interpreted calls, then native ones


# f(n) = f(n - 1) * 3 + n: a recursion as deep as its argument.
DEEP = """
    LoadInt {n}
    Call f 1
    ReturnValue
.sub f
    SetSlot 0
    GetSlot 0
    LoadInt 0
    NumLe
    JumpIfFalse more
    LoadInt 0
    ReturnValue
more:
    GetSlot 0
    Dec
    Call f 1
    LoadInt 3
    Mul
    GetSlot 0
    Add
    ReturnValue
"""


@pytest.mark.parametrize("quick", [False, True])
def test_recursion_deeper_than_the_native_stack_bound_is_interpreted_in_steps(
        quick: bool) -> None:
    """max_depth allows 200k frames, native code at most `deepest` calls: the deep part
    goes back to the interpreter window by window, and the result is the interpreter's
    (`quick`: the quick code's smaller bound, before its re-optimisation)."""
    if quick:
        set_config(get_config().replace(reopt_background=True, reopt_after=8))
    n = 3 * 70_000 // 2
    text = DEEP.format(n=n)
    before = dict(calls.COUNTS)
    got = outcome(text, True, max_depth=200_000)
    compiled = [f for f in calls._compiled.values() if f is not None]
    deepest = max(f.deepest for f in compiled)
    if quick:  # the bound the run's step had (its re-optimisation may have landed since)
        chunk = assemble(text)
        ir, _, words = emit_ir(chunk, chunk.sub_entries[0][1])
        deepest = calls.deepest_calls(words, ir)
    assert deepest < n
    assert got == outcome(text, False, max_depth=200_000)
    assert calls.COUNTS["calls"] > before["calls"]  # the shallow calls ran natively
    fell_back = calls.COUNTS["fallbacks"] - before["fallbacks"]
    assert 0 < fell_back <= 2 * n // deepest + 2  # one try per window, not per level
    assert wait_reoptimized(30)


def test_a_budget_inside_a_hot_recursive_function_stops_where_the_interpreter_does() -> None:
    chunk_text = FIB.format(n=16)
    warm = VM(assemble(chunk_text))
    warm.set_tier_hook(JitHook(True))
    assert warm.run() == 987  # compiled and hot now
    for steps in (1, 50, 333, 5000):
        before = calls.COUNTS["calls"]
        got = VM(assemble(chunk_text))
        got.set_tier_hook(JitHook(True))
        want = VM(assemble(chunk_text), baseline=False)
        results = []
        for vm in (got, want):
            try:
                results.append(("done", vm.run(max_steps=steps)))
            except VMError as e:
                results.append((type(e).__name__, e.ip, len(vm.frames), list(vm.stack)))
        assert results[0] == results[1]
        assert calls.COUNTS["calls"] == before  # a budgeted run never enters native code


def test_native_functions_come_from_the_disk_cache_the_second_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_config(get_config().replace(cache_enabled=True, cache_dir=tmp_path))
    text = FIB.format(n=15)
    before = dict(calls.COUNTS)
    assert outcome(text, True) == outcome(text, False)
    assert calls.COUNTS["loaded"] == before["loaded"]  # compiled and stored
    assert any(r.tag == "trc" for p in tmp_path.glob("*.pack.fjit")
               for r in pack.records(str(p)))
    tier.reset()  # the process forgets the function: the next hot call loads it

    def no_ir(chunk: Any, entry: int) -> Any:
        raise AssertionError("a cached function's IR is not emitted again")
    monkeypatch.setattr(calls, "emit_ir", no_ir)
    assert outcome(text, True) == outcome(text, False)
    assert calls.COUNTS["loaded"] == before["loaded"] + 1
    assert calls.COUNTS["calls"] > before["calls"]
    # Another function (another chunk) is not taken for this one.
    tier.reset()
    monkeypatch.undo()
    other = ACK.format(m=2, n=3)
    assert outcome(other, True) == outcome(other, False)
    assert calls.COUNTS["loaded"] == before["loaded"] + 1


def test_jit_dump_names_the_native_functions() -> None:
    from fusevm.jit import dump
    chunk = assemble(FIB.format(n=12))
    outcome(FIB.format(n=12), True)
    text = dump(chunk)
    assert "function fib at op" in text and "native self-calls (1 Int arguments" in text


def test_a_native_function_entry_binds_the_baseline_only_for_a_refused_call() -> None:
    """The baseline's region at a native function's entry is what runs a call native
    code refuses; binding it costs more than a native fib(15), so it waits for one."""
    from fusevm.baseline import compiler
    # A global set first keeps the root code interpreted (main.py): fib's entry is asked.
    text = "LoadInt 0\nSetVar g\n" + FIB.format(n=15)
    chunk = assemble(text)

    def fresh(**kw: Any) -> VM:
        vm = VM(chunk, baseline=True, **kw)
        vm.enable_tracing_jit()
        # (the pending hook makes its JitHook, over the baseline tier, on first need)
        assert isinstance(vm._tiers, PendingHook) and vm._tiers.fallback is not None
        return vm

    assert fresh().run() == 610  # the entry becomes hot and its function native
    before = (compiler.COUNTERS.runs, calls.COUNTS["calls"])
    assert fresh().run() == 610
    assert compiler.COUNTERS.runs == before[0]  # every call native: nothing bound
    assert calls.COUNTS["calls"] == before[1] + 1
    # Strict mode refuses every native call: the baseline's step runs them.
    strict = fresh(strict_int=True)
    assert strict.run() == outcome(text, False, strict=True)[0]
    assert compiler.COUNTERS.runs > before[0]
    assert calls.COUNTS["calls"] == before[1] + 1


def test_a_function_runs_quick_code_until_its_background_reoptimisation(
        tmp_path: Path) -> None:
    """With background re-optimisation the first code is QUICK_PIPELINE's (a short compile
    on the running thread), the optimised code replaces it for every VM and in the disk
    cache."""
    set_config(get_config().replace(cache_enabled=True, cache_dir=tmp_path,
                                    reopt_background=True, reopt_after=8))
    text = "LoadInt 0\nSetVar g\n" + FIB.format(n=18)  # the root code interpreted
    chunk = assemble(text)
    before = dict(calls.COUNTS)
    vm = VM(chunk)
    vm.set_tier_hook(JitHook(True))
    assert vm.run() == 2584
    nf = next(f for f in calls._compiled.values() if f is not None)
    quick_depth = nf.deepest
    assert wait_reoptimized(30)
    assert calls.COUNTS["reopts"] == before["reopts"] + 1
    assert nf.native.pipeline == get_config().reopt_pipeline
    # Unoptimised frames may hold a slot per value: the quick code goes less deep.
    assert 64 <= quick_depth < nf.deepest
    assert [r.pipeline for r in nf.retired] == [calls.QUICK_PIPELINE]
    calls_before = calls.COUNTS["calls"]
    again = VM(chunk)
    again.set_tier_hook(JitHook(True))
    assert again.run() == 2584 == outcome(text, False)[0]
    assert calls.COUNTS["calls"] > calls_before  # the optimised code ran
    tier.reset()  # a new process: loads the optimised code, nothing to re-optimise
    third = VM(chunk)
    third.set_tier_hook(JitHook(True))
    assert third.run() == 2584
    assert calls.COUNTS["loaded"] == before["loaded"] + 1
    loaded = next(f for f in calls._compiled.values() if f is not None)
    assert loaded.native.pipeline == get_config().reopt_pipeline
    assert wait_reoptimized(30) and calls.COUNTS["reopts"] == before["reopts"] + 1


def test_quick_code_left_in_the_disk_cache_is_loaded_then_reoptimised(
        tmp_path: Path) -> None:
    """A short run may end before its re-optimisation: the next process loads the quick
    code it stored and re-optimises it; a process that does not re-optimise compiles
    optimised code in its place."""
    from fusevm.jit.codegen import compile_text
    cfg = get_config().replace(cache_enabled=True, cache_dir=tmp_path,
                               reopt_background=True, reopt_after=8)
    set_config(cfg)
    text = FIB.format(n=18)
    chunk = assemble(text)
    entry = chunk.sub_entries[0][1]
    ir, argc, words = emit_ir(chunk, entry)
    quick = compile_text(ir, calls.QUICK_PIPELINE, calls.QUICK_CODEGEN)
    calls.store(chunk, entry, quick, argc, words)
    before = dict(calls.COUNTS)
    vm = VM(chunk)
    vm.set_tier_hook(JitHook(True))
    assert vm.run() == 2584
    assert calls.COUNTS["loaded"] == before["loaded"] + 1
    assert wait_reoptimized(30)
    assert calls.COUNTS["reopts"] == before["reopts"] + 1
    nf = calls.native_function(chunk, entry)
    assert nf is not None and nf.native.pipeline == cfg.reopt_pipeline
    # Without re-optimisation, stored quick code is compiled again, optimised.
    calls.store(chunk, entry, quick, argc, words)
    tier.reset()
    set_config(cfg.replace(reopt_after=0))
    vm = VM(chunk)
    vm.set_tier_hook(JitHook(True))
    assert vm.run() == 2584
    nf = calls.native_function(chunk, entry)
    assert nf is not None and nf.native.pipeline == cfg.reopt_pipeline and not nf.retired
    assert calls.COUNTS["reopts"] == before["reopts"] + 1


def test_compiled_callers_in_a_later_vm_call_the_native_function() -> None:
    # The baseline tier's compiled loop would call fib's direct form (Python) on its
    # own; once fib's entry is native, every VM of the chunk calls through it instead.
    from fusevm.baseline import compiler
    from fusevm.bench.jit_workloads import FIB_REPEATED
    # A global set first keeps the root code interpreted (main.py).
    chunk = assemble("LoadInt 0\nSetVar g\n" + FIB_REPEATED.replace("{reps}", "40"),
                     source="rep.fasm")
    old = set_config(get_config().replace(reopt_background=False, cache_enabled=False))
    try:
        for _ in range(2):
            vm = VM(chunk)
            vm.enable_tracing_jit()
            vm._tiers.fallback.eager = True  # the loop is compiled Python from the start
            before, direct = calls.COUNTS["calls"], compiler.stats()["direct_entries"]
            assert vm.run() == 6765
        # The second VM: all 41 calls of fib entered its native code, none a direct form.
        assert calls.COUNTS["calls"] - before >= 41
        assert compiler.stats()["direct_entries"] == direct
    finally:
        set_config(old)
