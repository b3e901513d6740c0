"""Fuel polls at back-edges (D18): native code reads the fuel word once every
`POLL_INTERVAL` back-edges, leaves at the loop header with the exact state there, and the
interpreter resumes as if never stopped; the poll stays off a loop's hot path."""

from __future__ import annotations

import ctypes
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from oracle import Snapshot, compare, snapshot
from progs import RandomSource, generate

from conftest import requires_llvmlite
from fusevm import VM, VMError
from fusevm.asm import assemble
from fusevm.bench import jit_workloads as jw
from fusevm.jit import cache, get_config, runtime, set_config, typeflow
from fusevm.jit.abi import TrapCode
from fusevm.jit.codegen import optimized_text
from fusevm.jit.lower import emit, poll
from fusevm.jit.policy import JitHook
from fusevm.jit.unit import FUEL_MAX, Unit, build_unit, emit_text, infer_for
from fusevm.values import Undef

pytestmark = requires_llvmlite


@pytest.fixture(autouse=True)
def fresh_units() -> Iterator[None]:
    """Compile at the first entry, and never share units through the disk cache or the
    process's unit table (these tests compile with other poll intervals and version
    limits than the shipped ones)."""
    old = set_config(get_config().replace(block_threshold=0, region_threshold=1,
                                          reopt_after=0))
    cache.set_enabled(False)
    runtime.reset(counters=False)
    yield
    runtime.reset(counters=False)
    cache.set_enabled(None)
    set_config(old)


class PendingInterrupt(JitHook):
    """The block tier running whole chunks with the fuel word negative, as after
    `vm.interrupt()` from another thread: native code stops at its first poll and the
    interpreter (which knows of no interrupt) finishes the run."""

    def __init__(self) -> None:
        super().__init__(False, force="block")
        self.stops: list[int] = []

    def try_run(self, vm: Any) -> bool:
        self.fuel.value = -1
        done = super().try_run(vm)
        self.fuel.value = FUEL_MAX
        if not done and vm.ip:
            self.stops.append(vm.ip)
        return done


def run_stopped(chunk: Any, slots: list[Any], strict: bool) -> tuple[Snapshot, list[int]]:
    """Run under `PendingInterrupt`: what the run ended with, and the ops native code
    stopped before."""
    vm = VM(chunk, strict_int=strict)
    vm.slots[:len(slots)] = list(slots)
    hook = PendingInterrupt()
    vm.set_tier_hook(hook)
    result: Any = None
    error = None
    try:
        result = vm.run()
    except VMError as e:
        error = (type(e).__name__, e.message, e.op, e.ip, e.line, tuple(e.backtrace))
    return Snapshot(result, error, list(vm.slots), list(vm.stack), list(vm.globals), vm.ip,
                    vm.halted, len(vm.frames)), hook.stops


@pytest.mark.parametrize("interval", [1, 2, 5])
def test_generated_loops_stopped_at_a_poll_resume_exactly(
        interval: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emit, "POLL_INTERVAL", interval)
    stopped = 0
    for seed in range(60):
        program = generate(RandomSource(1000 + seed), straight=False)
        chunk = program.build()
        got, stops = run_stopped(chunk, program.slots, program.strict)
        diff = compare(snapshot(program, chunk, None), got)
        assert diff is None, f"{diff}\n{program.text()}"
        stopped += bool(stops)
    assert stopped >= 10  # many programs loop natively and were stopped at a poll


def test_parities_joined_past_the_version_limit_drop_the_skips(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A generated program whose kind versions join a paired loop's parities so that a
    cycle could pass no polled back-edge: the unit polls every back-edge instead, and a
    run stopped at its polls still resumes exactly."""
    monkeypatch.setattr(typeflow, "MAX_VERSIONS", 1)
    monkeypatch.setattr(emit, "POLL_INTERVAL", 1)
    program = generate(RandomSource(292), straight=False)
    chunk = program.build()
    an = runtime.analysis(chunk)
    slots = list(program.slots) + [Undef] * (chunk.slot_count - len(program.slots))
    typing = infer_for(an, an.kinds_of(slots), program.strict)
    assert typing.polls.paired and not typing.skips
    got, stops = run_stopped(chunk, program.slots, program.strict)
    assert compare(snapshot(program, chunk, None), got) is None and stops


LOOP_WITH_STACK = """
    LoadInt 0
top:
    GetSlot 0
    Add
    GetSlot 0
    LoadFloat 0.5
    Add
    SetSlot 1
    GetSlot 0
    Inc
    Dup
    SetSlot 0
    LoadInt {n}
    NumLt
    JumpIfTrue top
    GetSlot 1
    Add
"""


def test_a_poll_hands_back_the_operand_stack_at_the_header(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emit, "POLL_INTERVAL", 3)
    chunk = assemble(LOOP_WITH_STACK.format(n=50))
    want = VM(chunk).run()
    got, stops = run_stopped(chunk, [0, Undef], False)
    assert stops == [1] and got.result == want


WHILE_LOOP = """
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
    LoadInt 2
    Add
    SetSlot 0
    Jump top
done:
    GetSlot 1
"""


COUNTED_LOOP = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 0
    GetSlot 1
    BitXor
    SetSlot 0
    SlotIncLtIntJumpBack 1 {n} top
    GetSlot 0
"""


def unit_of(chunk: Any) -> tuple[Unit, list[Any]]:
    an = runtime.analysis(chunk)
    slots: list[Any] = [Undef] * chunk.slot_count
    return build_unit(an, "block", an.kinds_of(slots), False, get_config()), slots


@pytest.mark.parametrize("interval", [1, 4, 64])
def test_the_fuel_word_is_read_every_interval_back_edges(
        interval: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound, exactly: with the word negative from the start, a loop stops at its
    header after `interval` trips (rounded up to even: the loop is paired, and only the
    second copy's back-edge counts, by two), with the state there."""
    monkeypatch.setattr(emit, "POLL_INTERVAL", interval)
    chunk = assemble(WHILE_LOOP.format(n=1000))
    plan = poll.plan(runtime.analysis(chunk).cfg)
    assert not plan.counted and list(plan.paired) == list(plan.headers)
    unit, slots = unit_of(chunk)
    fuel = ctypes.c_int64(-1)
    out = unit.enter(slots, ctypes.addressof(fuel))
    assert out == (4, []) and unit.trap() == (TrapCode.FUEL, 4)
    trips = interval + interval % 2
    assert slots[:2] == [2 * trips, sum(range(0, 2 * trips, 2))]
    fuel.value = 1
    assert unit.enter(slots, ctypes.addressof(fuel)) == (-1, [sum(range(0, 1000, 2))])


def test_a_counted_loop_reads_the_fuel_word_on_entry() -> None:
    chunk = jw.xor_mix(1000).reference()
    assert poll.plan(runtime.analysis(chunk).cfg).counted
    unit, slots = unit_of(chunk)
    fuel = ctypes.c_int64(-1)
    out = unit.enter(slots, ctypes.addressof(fuel))
    assert out is not None and unit.trap() == (TrapCode.FUEL, out[0])
    assert slots[:2] == [0, 0]  # at the header, before the first trip
    fuel.value = 1
    assert unit.enter(slots, ctypes.addressof(fuel)) == (-1, [jw.xor_mix_expected(1000)])


FOREVER = """
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    LoadInt 1
    {step}
    SetSlot 0
    GetSlot 0
    LoadInt -1
    NumEq
    JumpIfFalse top
    GetSlot 0
"""


@pytest.mark.parametrize("step,versions", [
    ("BitXor", typeflow.MAX_VERSIONS),  # 0, 1, 0, ...: one kind, two parities
    ("LoadFloat 0.5\n    Add\n    Add", typeflow.MAX_VERSIONS),  # Int, then Float
    ("LoadFloat 0.5\n    Add\n    Add", 1),  # ... with the kinds joined into parities
])
def test_an_interrupt_reaches_an_endless_paired_loop(
        step: str, versions: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop whose exit test depends on its data is typed and emitted twice, and only
    every second back-edge counts down; it still stops at its header once the word goes
    negative, whatever the kind versions did to the parities."""
    monkeypatch.setattr(emit, "POLL_INTERVAL", 64)
    monkeypatch.setattr(typeflow, "MAX_VERSIONS", versions)
    chunk = assemble(FOREVER.format(step=step))
    an = runtime.analysis(chunk)
    assert poll.plan(an.cfg).paired
    unit, slots = unit_of(chunk)
    if versions == typeflow.MAX_VERSIONS:
        assert infer_for(an, an.kinds_of(slots), False).skips
    fuel = ctypes.c_int64(FUEL_MAX)
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(
        unit.enter(slots, ctypes.addressof(fuel))))
    worker.start()
    time.sleep(0.02)
    fuel.value = -1
    worker.join(60)
    assert out and out[0] == (2, []), "ran to its end or never stopped"
    assert unit.trap() == (TrapCode.FUEL, 2)


def test_an_interrupt_reaches_a_counted_loop_between_its_entry_and_its_end(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A counted loop reads the word again each `interval` trips (its stop)."""
    monkeypatch.setattr(emit, "POLL_INTERVAL", 64)
    n = 2 ** 31 - 1  # seconds of native work
    unit, slots = unit_of(assemble(COUNTED_LOOP.format(n=n)))
    fuel = ctypes.c_int64(FUEL_MAX)
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(
        unit.enter(slots, ctypes.addressof(fuel))))
    worker.start()
    time.sleep(0.02)
    fuel.value = -1
    worker.join(60)
    assert out and out[0] is not None and out[0][0] >= 0, "ran to its end"
    assert unit.trap()[0] is TrapCode.FUEL and 0 <= slots[1] < n
    assert slots[1] % 64 == 0  # stopped where a stop was computed


def _vector_ops(polled: bool, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(poll, "ENABLED", polled)
    chunk = jw.xor_mix(100_000).reference()
    an = runtime.analysis(chunk)
    kinds = an.kinds_of([Undef] * chunk.slot_count)
    text, _ = emit_text(an, infer_for(an, kinds, False), False)
    return re.search(r"<\d+ x i64>", optimized_text(text, "O2", 2)) is not None


def test_polling_leaves_a_counted_loop_vectorisable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A poll inside the loop would keep LLVM from vectorising it (the reason the poll is
    counted down and taken on a path of its own): whenever LLVM vectorises the unpolled
    loop on this machine, it vectorises the polled one too."""
    if _vector_ops(False, monkeypatch):
        assert _vector_ops(True, monkeypatch)


def test_a_loop_writing_its_counted_slot_elsewhere_is_counted_down_instead() -> None:
    counted = assemble(COUNTED_LOOP.format(n=100))
    assert list(poll.plan(runtime.analysis(counted).cfg).counted.values()) == [
        poll.Counted(8, 1, 100)]
    rewinds = assemble(COUNTED_LOOP.format(n=100).replace(
        "    BitXor\n", "    BitXor\n    GetSlot 1\n    SetSlot 1\n"))
    assert not poll.plan(runtime.analysis(rewinds).cfg).counted
    assert VM(rewinds).run() == VM(counted).run()


ENTERED_IN_THE_MIDDLE = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
    Jump mid
top:
    GetSlot 0
    LoadInt 3
    Mul
    SetSlot 0
mid:
    GetSlot 0
    LoadInt 2
    Add
    SetSlot 0
    SlotIncLtIntJumpBack 1 50 top
    GetSlot 0
"""


def test_a_loop_entered_in_its_middle_is_counted_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emit, "POLL_INTERVAL", 4)
    chunk = assemble(ENTERED_IN_THE_MIDDLE)
    assert not poll.plan(runtime.analysis(chunk).cfg).counted
    unit, slots = unit_of(chunk)
    fuel = ctypes.c_int64(-1)
    assert unit.enter(slots, ctypes.addressof(fuel)) == (5, [])  # at `top`
    assert slots[1] == 4
    fuel.value = 1
    assert unit.enter(slots, ctypes.addressof(fuel)) == (-1, [VM(chunk).run()])
