"""When the baseline tier compiles: the cost model of `baseline.compiler.worth_after`."""

from __future__ import annotations

import pytest

from fusevm import VM
from fusevm.asm import assemble
from fusevm.baseline import BaselineHook, compiler
from fusevm.baseline.regions import plan
from fusevm.bench.jit_workloads import FIB_SUB
from fusevm.loops import loop_facts

LOOP = """
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    LoadInt 2
    Mod
    JumpIfFalse even
    GetSlot 0
    LoadInt 3
    Mul
    Pop
even:
    PreIncSlotVoid 0
    GetSlot 0
    LoadInt {n}
    NumLt
    JumpIfTrue top
    GetSlot 0
"""

#: fib(n) with the benchmarks' fib body (`FIB_SUB`).
FIB = "    LoadInt {n}\n    Call fib 1\n    Jump done\n" + FIB_SUB + "done:\n"


def _fib(n: int) -> str:
    return FIB.format(n=n)


def test_least_work_takes_the_cheapest_iteration() -> None:
    chunk = assemble(LOOP.format(n=10), source="least.fasm")
    VM(chunk)
    cp, facts = plan(chunk), loop_facts(chunk)
    (header,) = facts.back_edges
    region = cp.regions[cp.region_of[header]]
    # The odd path's four ops do not count: the cheapest iteration skips them.
    bodies, steps = compiler.least_work(chunk, cp, region, facts, header)
    assert (bodies, steps) == (9, 0)
    # Without the frame (`slots`) its count is not known: it waits until the interpreter
    # has done about what compiling costs.
    wait = compiler.worth_after(chunk, cp.region_of[header], header, 0)
    assert wait == compiler.compile_cost(chunk, cp, region) // bodies


def test_functions_with_a_direct_form_compile_once_calls_pay() -> None:
    # fib's calls and returns run as Python calls once compiled (`calls`): its cheapest
    # call is seven ops with a body and no frame protocol, so it compiles after enough
    # calls to pay.
    chunk = assemble(_fib(18), source="fib.fasm")
    VM(chunk)
    cp, facts = plan(chunk), loop_facts(chunk)
    entry = chunk.sub_entries[0][1]
    index = cp.region_of[entry]
    assert compiler.least_work(chunk, cp, cp.regions[index], facts, entry) == (7, 0)
    wait = compiler.worth_after(chunk, index, entry, 0)
    ops = len(cp.regions[index].ops)
    # Compiling it compiles its integer direct form alone (its generic one waits for a
    # call with other arguments): the form runs each call from its entry (`thin`), with
    # no region code of the function's own to write.
    saved = 7 - compiler.ENTRY_COST + compiler.CALL_COST
    assert wait == compiler.ENTRY_RISK * compiler.COMPILE_COST * ops // saved
    before = compiler.stats()["compiles"]
    assert VM(assemble(_fib(20), source="fib2.fasm")).run() == 6765  # 21,891 calls
    assert compiler.stats()["compiles"] == before + 1


def test_call_bound_functions_without_a_direct_form_are_not_compiled() -> None:
    # `BitNot` has no body: the function has no direct form, so each call is the
    # interpreter's frame protocol either way and compiling would save about nothing.
    text = _fib(18).replace("GetSlot 0\n    ReturnValue",
                            "GetSlot 0\n    BitNot\n    Pop\n"
                            "    GetSlot 0\n    ReturnValue")
    chunk = assemble(text, source="fibc.fasm")
    before = compiler.stats()["compiles"]
    assert VM(chunk).run() == 2584
    cp, facts = plan(chunk), loop_facts(chunk)
    entry = chunk.sub_entries[0][1]
    index = cp.region_of[entry]
    bodies, steps = compiler.least_work(chunk, cp, cp.regions[index], facts, entry)
    assert steps == 2
    assert compiler.worth_after(chunk, index, entry, 2) is None
    assert compiler.stats()["compiles"] == before


def test_a_long_loop_compiles_once_and_a_short_one_never() -> None:
    before = compiler.stats()["compiles"]
    assert VM(assemble(LOOP.format(n=300), source="short.fasm")).run() == 300
    assert compiler.stats()["compiles"] == before
    assert VM(assemble(LOOP.format(n=20000), source="long.fasm")).run() == 20000
    assert compiler.stats()["compiles"] == before + 1


def test_a_long_counted_loop_compiles_at_its_first_look() -> None:
    # What is left of a counted loop is known from its counter: a long one compiles at
    # once, a short one never, and the tier stops counting its entries.
    long = assemble(LOOP.format(n=100_000), source="counted-long.fasm")
    short = assemble(LOOP.format(n=2000), source="counted-short.fasm")
    for chunk in (long, short):
        VM(chunk)
    (header,) = loop_facts(long).back_edges
    index = plan(long).region_of[header]
    assert compiler.worth_after(long, index, header, 2, [1]) == 0
    assert compiler.worth_after(long, index, header, 2, [99_990]) is None  # nearly done
    assert compiler.worth_after(short, index, header, 2, [1]) is None
    assert compiler.short_loop(short, header, [1])
    assert not compiler.short_loop(long, header, [1])
    # A counter that is not an Int: nothing is known, the entries decide.
    assert compiler.worth_after(long, index, header, 2, [1.5]) is not None
    vm = VM(short)
    assert vm.run() == 2000
    assert vm._code is not None and vm._code[header] is vm._plain[header]  # not counted


#: Two counted loops, one inside the other: slot 0 sums the inner counter.
NEST = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
outer:
    LoadInt 0
    SetSlot 2
inner:
    GetSlot 0
    GetSlot 2
    Add
    SetSlot 0
    SlotIncLtIntJumpBack 2 {inner} inner
    SlotIncLtIntJumpBack 1 {outer} outer
    GetSlot 0
"""


def test_an_inner_loop_counts_the_runs_of_the_loops_around_it() -> None:
    small = assemble(NEST.format(inner=40, outer=40), source="nest40.fasm")
    big = assemble(NEST.format(inner=400, outer=400), source="nest400.fasm")
    before = compiler.stats()["compiles"]
    assert VM(small).run() == 40 * sum(range(40))
    assert compiler.stats()["compiles"] == before
    vm = VM(big)
    facts = loop_facts(big)
    inner = max(facts.back_edges)
    index = plan(big).region_of[inner]
    # At the inner loop's second entry (counters i = 0, j = 1): 399 more iterations of
    # it and 399 more runs of the outer loop with 400 each.
    assert compiler.worth_after(big, index, inner, 2, [0, 0, 1]) == 0
    assert compiler.worth_after(big, index, inner, 2, [0, 399, 1]) is None  # last run
    assert vm.run() == 400 * sum(range(400))
    assert compiler.stats()["compiles"] == before + 1


def test_a_short_loop_no_longer_counted_enters_its_region_once_compiled() -> None:
    # The first loop is short: its header stops being counted at once. The second, in the
    # same region, is long and compiles it: the first loop's header then enters that code
    # too (a VM running the chunk again runs both loops compiled).
    text = """
        LoadInt 0
        SetSlot 0
    a:
        PreIncSlotVoid 0
        GetSlot 0
        LoadInt 10
        NumLt
        JumpIfTrue a
        LoadInt 0
        SetSlot 1
    b:
        PreIncSlotVoid 1
        GetSlot 1
        LoadInt 100000
        NumLt
        JumpIfTrue b
        GetSlot 1
    """
    chunk = assemble(text, source="two-loops.fasm")
    vm = VM(chunk)
    assert vm.run() == 100000
    first, second = sorted(loop_facts(chunk).back_edges)
    assert compiler.compiled_at(chunk, second)
    assert vm._code is not None and vm._code[first] is not vm._plain[first]


def test_a_short_loop_that_runs_again_still_compiles_once_hot() -> None:
    # A short loop in the root stops being counted for the rest of its run, but a VM that
    # runs the chunk again counts it on, and it compiles once the runs add up; a short
    # loop in a function is never given up (each call runs it again).
    chunk = assemble(LOOP.format(n=100), source="rerun.fasm")
    (header,) = loop_facts(chunk).back_edges
    vm = VM(chunk)
    for _ in range(400):
        vm.reset()
        assert vm.run() == 100
        if compiler.compiled_at(chunk, header):
            break
    assert compiler.compiled_at(chunk, header)
    text = """
        LoadInt 0
        SetSlot 0
    again:
        LoadInt 10
        Call f 1
        Pop
        PreIncSlotVoid 0
        GetSlot 0
        LoadInt 3000
        NumLt
        JumpIfTrue again
        GetSlot 0
        Jump end
    .sub f
        SetSlot 0
    top:
        GetSlot 0
        LoadInt 0
        NumLe
        JumpIfTrue done
        GetSlot 0
        Dec
        SetSlot 0
        Jump top
    done:
        LoadInt 1
        ReturnValue
    end:
    """
    calls = assemble(text, source="short-in-f.fasm")
    assert VM(calls).run() == 3000
    inner = max(loop_facts(calls).back_edges)
    assert compiler.compiled_at(calls, inner)


def test_a_cold_run_does_not_hash_its_chunk() -> None:
    # Compiled code is found by content (the chunk's digest: serializing and hashing it),
    # but a chunk object none of whose regions was compiled is not looked up at all: a
    # short first run pays no digest, however many other chunks the tier compiled.
    hot = assemble(LOOP.format(n=20_000), source="hot.fasm")
    VM(hot).run()
    assert compiler.compiled_at(hot, sorted(loop_facts(hot).back_edges)[0])
    for n in (3, 500):
        cold = assemble(LOOP.format(n=n) + "\n", source="cold.fasm")
        VM(cold).run()
        assert cold._digest is None
        assert not compiler.compiled_at(cold, sorted(loop_facts(cold).back_edges)[0])
    # The same program as a new chunk object is found once it gets hot.
    again = assemble(LOOP.format(n=20_000), source="again.fasm")
    VM(again).run()
    assert compiler.compiled_at(again, sorted(loop_facts(again).back_edges)[0])


def test_a_twin_of_a_compiled_chunk_knows_its_regions_are_compiled() -> None:
    # An equal chunk object gets the compiled code by content; from then on it is marked
    # like the first, so its next VMs enter the compiled regions without waiting again.
    text = "    LoadInt 22\n    Call fib 1\n    Jump end\n" + FIB_SUB + "end:\n"
    first, twin = assemble(text, source="a.fasm"), assemble(text, source="a.fasm")
    want = VM(first).run()
    entries = [r.entry for r in plan(first).regions]
    compiled = [compiler.compiled_at(first, e) for e in entries]
    assert any(compiled)
    compiles = compiler.COUNTERS.compiles
    assert VM(twin).run() == want
    assert compiler.COUNTERS.compiles == compiles  # the twin compiled nothing
    assert [compiler.compiled_at(twin, e) for e in entries] == compiled


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The hot points `compiler.region_step` is asked about from now on, in order."""
    asked: list[int] = []
    real = compiler.region_step

    def counting(vm: VM, bound: object, h: int, entered: int | None = None,
                 again: bool = False) -> object:
        asked.append(h)
        return real(vm, bound, h, entered, again)  # type: ignore[arg-type]
    monkeypatch.setattr(compiler, "region_step", counting)
    return asked


def test_a_hot_point_waits_for_its_first_look_without_the_compiler(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Before a chunk object has anything compiled, the hook itself tells a hot point to
    # wait for its first look (LOOP_FIRST_LOOK, FIRST_LOOK entries): the compiler is
    # asked only then, and the wait it would have given is the same.
    from fusevm.baseline import BaselineHook
    from fusevm.baseline.looks import FIRST_LOOK, LOOP_FIRST_LOOK

    chunk = assemble(LOOP.format(n=40), source="wait.fasm")
    vm = VM(chunk)
    assert isinstance(vm._tiers, BaselineHook)
    asked = _asked(monkeypatch)
    assert vm.run() == 40
    assert asked == []  # 40 entries of the loop: no look
    (header,) = loop_facts(chunk).back_edges
    fresh = VM(chunk)
    hook = fresh._tiers
    assert isinstance(hook, BaselineHook)
    fresh.prepare()
    # (The VM counts the entries to a hot point's first look before it asks at all.)
    assert hook.threshold_at(fresh, header) == hook.threshold_at(fresh, 0) == LOOP_FIRST_LOOK
    assert hook.region_step(fresh, 0, fresh._plain[0]) == FIRST_LOOK - LOOP_FIRST_LOOK
    assert asked == []
    hook.region_step(fresh, header, fresh._plain[header])  # its 64th entry: the look
    assert asked == [header]
    assert hook.threshold_at(fresh, header) == hook.region_threshold  # asked again
    # A hook that is not the VM's own (a native tier's wraps it) is asked at the
    # wrapper's counts: from THRESHOLD, the entries left to its first look.
    other = BaselineHook()
    assert other.threshold_at(fresh, header) == other.region_threshold
    assert other.region_step(fresh, header, fresh._plain[header]) == LOOP_FIRST_LOOK - 2
    assert other.region_step(fresh, 0, fresh._plain[0]) == FIRST_LOOK - 2
    asked.clear()
    long = assemble(LOOP.format(n=2000), source="look.fasm")
    assert VM(long).run() == 2000
    assert asked == [sorted(loop_facts(long).back_edges)[0]]  # its one look, at 64


def test_a_short_nest_is_decided_at_its_inner_loops_look(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Counted loops in counted loops, in the root, that end too soon to pay: the inner
    # loop's first look says so for the whole nest without planning the chunk, and the
    # loop around it stops being counted without a look of its own.
    chunk = assemble(NEST.format(inner=100, outer=100), source="short-nest.fasm")
    asked = _asked(monkeypatch)
    before = compiler.stats()["compiles"]
    vm = VM(chunk)
    assert vm.run() == 100 * sum(range(100))
    assert compiler.stats()["compiles"] == before
    outer, inner = sorted(loop_facts(chunk).back_edges)
    assert asked == [inner]
    assert "baseline.plan" not in chunk.derived
    assert vm._code is not None
    assert vm._code[inner] is vm._plain[inner] and vm._code[outer] is vm._plain[outer]
    # Longer, the same nest is weighed with its region (`worth_after`) and compiles.
    long = assemble(NEST.format(inner=400, outer=400), source="long-nest.fasm")
    assert VM(long).run() == 400 * sum(range(400))
    assert compiler.stats()["compiles"] == before + 1


def test_a_cold_decision_about_loops_in_loops_hashes_nothing() -> None:
    # A loop in a loop that holds another loop too: the inner loop's look plans the
    # chunk and weighs the loops around it (`worth_after`): per chunk object, with no
    # digest, when no chunk of its size was compiled.
    text = """
        LoadInt 0
        SetSlot 0
        LoadInt 0
        SetSlot 1
    outer:
        LoadInt 0
        SetSlot 2
    inner:
        GetSlot 0
        GetSlot 2
        Add
        SetSlot 0
        SlotIncLtIntJumpBack 2 70 inner
        LoadInt 0
        SetSlot 2
    second:
        SlotIncLtIntJumpBack 2 70 second
        SlotIncLtIntJumpBack 1 3 outer
    """
    # (Padded to a size no compiled chunk has: one that has may be a twin, and is looked
    # up by content.)
    pad = 0
    while True:
        chunk = assemble(text + "    LoadInt 1\n    Pop\n" * pad + "    GetSlot 0\n",
                         source="cold-nest.fasm")
        if len(chunk.ops) not in compiler._made.sizes:
            break
        pad += 1
    before = compiler.stats()["compiles"]
    assert VM(chunk).run() == 3 * sum(range(70))
    assert compiler.stats()["compiles"] == before
    assert "baseline.plan" in chunk.derived  # it was planned: the look went that far
    assert chunk._digest is None


def test_the_roots_entry_is_counted_from_the_second_run() -> None:
    # A VM's first run starts at the root's entry: nothing counts it (most VMs run
    # once), a second run does; run again, the root is compiled as before.
    chunk = assemble(LOOP.format(n=3), source="root.fasm")
    vm = VM(chunk)
    code = vm.prepare()
    assert code[0] is vm._plain[0]
    assert vm.run() == 3
    assert code[0] is vm._plain[0]
    vm.ip = 0
    vm.halted = False
    assert vm.run() == 3
    assert code[0] is not vm._plain[0]  # counted from the second run on
    straight = assemble("LoadInt 2\nLoadInt 3\nMul\nLoadInt 1\nAdd\n", source="line.fasm")
    eager = VM(straight)
    assert eager._tiers is not None
    eager._tiers.eager = True  # compile a region at its second entry
    compiles = compiler.stats()["compiles"]
    assert eager.run() == 7 and compiler.stats()["compiles"] == compiles
    eager.ip = 0
    eager.halted = False
    assert eager.run() == 7 and compiler.stats()["compiles"] == compiles + 1
    # A VM of a chunk whose root is compiled enters its code at once.
    again = VM(straight)
    assert again.prepare()[0] is not again._plain[0]
    assert again.run() == 7


#: A fresh process runs LOOP to N and prints the result, whether the compiler loaded and
#: the regions it compiled.
_FRESH = """
import sys
from fusevm import VM
from fusevm.asm import assemble
from fusevm.interp.tiers import LOAD_COST
n = int(sys.argv[1])
loop = sys.argv[2].format(n=n)
print(VM(assemble(loop)).run())
c = sys.modules.get("fusevm.baseline.compiler")
print(c is not None, c.stats()["compiles"] if c else 0, LOAD_COST,
      "fusevm.baseline" in sys.modules)
"""


def _fresh(n: int) -> tuple[int, bool, int, int, bool]:
    import os
    import subprocess
    import sys
    env = dict(os.environ, FUSEVM_JIT_CACHE_DIR="off")
    env.pop("FUSEVM_BASELINE", None)
    out = subprocess.run([sys.executable, "-c", _FRESH, str(n), LOOP], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), out[1] == "True", int(out[2]), int(out[3]), out[4] == "True"


def test_the_first_look_waits_for_what_loading_the_compiler_costs() -> None:
    # In a process that has not loaded the compiler, the first look (which loads it)
    # comes once the loop has run about LOAD_COST ops: a shorter run stays interpreted
    # and loads nothing, not even the tier's hook (no hot point is counted before); a
    # long one loads it and compiles as before.
    span = 12  # LOOP's ops from its header to its back edge
    load_cost = _fresh(10)[3]
    short = load_cost // span // 2
    assert _fresh(short)[:3] == (short, False, 0) and not _fresh(short)[4]
    long = 4 * load_cost // span
    result, loaded, compiles, _, tier = _fresh(long)
    assert (result, loaded, tier) == (long, True, True) and compiles >= 1


def test_a_first_run_with_no_hot_point_but_the_root_attaches_no_tier() -> None:
    # The default tiers are attached when a hot point needs counting: a chunk with no
    # loop, function or block runs its first run with none; a second run counts the
    # root's entry as any VM does, and reading the hook attaches them.
    straight = assemble("LoadInt 2\nLoadInt 3\nMul\n", source="first-line.fasm")
    vm = VM(straight)
    code = vm.prepare()
    assert vm.run() == 6
    assert vm._hook is None and vm._attach is not None
    vm.ip = 0
    vm.halted = False
    assert vm.run() == 6
    assert vm._code is code and code[0] is not vm._plain[0]  # counted from here on
    assert isinstance(vm._hook, BaselineHook)
    looped = VM(assemble(LOOP.format(n=3), source="first-loop.fasm"))
    looped.prepare()
    assert isinstance(looped._hook, BaselineHook)  # a loop header to count
    asked = VM(straight)
    assert isinstance(asked._tiers, BaselineHook)
    forced = VM(straight, baseline=True)
    assert forced.run() == 6 and forced._hook is None  # `baseline=True` waits the same
    assert isinstance(forced._tiers, BaselineHook)
    assert VM(straight, baseline=False)._tiers is None


def test_a_loop_run_as_one_fused_op_is_left_to_the_interpreter() -> None:
    # AccumSumLoop runs its whole loop in one step (a closed form in the interpreter):
    # its chunk has no loop header, so a first run attaches no tier at all and its
    # cost is the interpreter's.
    from fusevm.bench.runners import fresh_copy
    from fusevm.bench.workloads import WORKLOADS

    (work,) = [w for w in WORKLOADS if w.name == "sum_1m_fused"]
    chunk = fresh_copy(work.reference())
    assert loop_facts(chunk).back_edges == {}
    vm = VM(chunk)
    assert vm.run() == sum(range(1_000_000))
    assert vm._hook is None and compiler.COMPILED not in chunk.derived


#: Ops a VM runs before counting hot points, in the tests of that mechanism: in this
#: process the compiler is loaded, so the tier's own figure is 0 (LOAD_COST before).
_COLD = 4096


def _run_cold(monkeypatch: pytest.MonkeyPatch, ops: int) -> None:
    from fusevm.interp import tiers
    monkeypatch.setattr(tiers, "cold_ops", lambda: ops)
    monkeypatch.setattr(tiers, "pending_cold_ops", lambda: ops)


@pytest.fixture
def cold(monkeypatch: pytest.MonkeyPatch) -> int:
    _run_cold(monkeypatch, _COLD)
    return _COLD


def test_a_vm_counts_no_hot_point_before_it_has_run_cold_ops(cold: int) -> None:
    # Counting a hot point is a Python call per entry, as long as a short loop's body:
    # a VM runs its first `cold_ops` ops with no hot point counted and its tiers not
    # attached, charging the ops a slice at a time, and counts them after.
    from fusevm.interp.vm import COLD_SLICE

    span = 12  # LOOP's ops from its header to its back edge
    short = assemble(LOOP.format(n=cold // span // 4), source="cold-short.fasm")
    (header,) = loop_facts(short).back_edges
    vm = VM(short)
    code = vm.prepare()
    assert vm._cold == cold and vm._hook is None
    assert vm.run() == cold // span // 4
    assert code[header] is vm._plain[header] and vm._hook is None  # never counted
    ran = cold - vm._cold
    assert cold // 4 - COLD_SLICE <= ran <= cold // 4 + COLD_SLICE
    # A reset of the same chunk goes on from there, and counts once the runs add up.
    runs = 1
    while code[header] is vm._plain[header]:
        vm.reset()
        code = vm.prepare()
        assert vm.run() == cold // span // 4
        runs += 1
    assert 4 <= runs <= 6 and vm._cold == 0 and vm._cold_ran == cold
    assert isinstance(vm._hook, BaselineHook)
    # A long run counts its hot points within the run, and compiles its loop.
    long = assemble(LOOP.format(n=20 * cold), source="cold-long.fasm")
    (header,) = loop_facts(long).back_edges
    vm = VM(long)
    assert vm.run() == 20 * cold
    assert vm._cold == 0 and compiler.compiled_at(long, header)


def test_a_blocks_ops_count_toward_cold_ops(cold: int) -> None:
    # A higher-order op's block runs in a dispatch loop of its own: its ops are charged
    # too, so a VM whose time goes into a block counts its hot points.
    text = """
    .block count bstart bend
        Jump main
    bstart:
        LoadInt 0
        SetSlot 1
    btop:
        SlotIncLtIntJumpBack 1 {n} btop
        GetSlot 1
    bend:
    main:
        LoadInt 1
        LoadInt 3
        Range
        MapBlock count
    """
    chunk = assemble(text.format(n=cold), source="cold-block.fasm")
    vm = VM(chunk)
    vm.prepare()
    assert vm._cold == cold
    assert vm.run() == [cold] * 3
    assert vm._cold == 0 and isinstance(vm._hook, BaselineHook)


def test_a_controlled_run_counts_hot_points_at_once(cold: int) -> None:
    # Only run()'s unbudgeted loop charges ops in slices: a budgeted run (or one with a
    # timeout, a pending interrupt, a native tier) counts hot points from its start.
    chunk = assemble(LOOP.format(n=50), source="cold-budget.fasm")
    (header,) = loop_facts(chunk).back_edges
    vm = VM(chunk)
    code = vm.prepare()
    assert vm._cold == cold
    assert vm.run(max_steps=10_000) == 50
    assert vm._cold == 0 and code[header] is not vm._plain[header]


def test_an_interrupt_stops_a_run_that_counts_nothing_yet(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The hot points of a VM that counts nothing yet are its ops' own steps: an interrupt
    # patches them as ever, the run stops at one, and the next run goes on to the result.
    import threading

    from fusevm.errors import Interrupted

    _run_cold(monkeypatch, 10**12)
    n = 400_000
    vm = VM(assemble(LOOP.format(n=n), source="cold-interrupt.fasm"))
    vm.prepare()
    assert vm._cold
    timer = threading.Timer(0.05, vm.interrupt)
    timer.start()
    try:
        with pytest.raises(Interrupted):
            vm.run()
    finally:
        timer.join()
    assert vm._cold and 0 < vm.slots[0] < n
    assert vm.run() == n
