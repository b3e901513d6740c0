"""Fuel polls at back-edges (D18): native code reads the fuel word once every
`POLL_INTERVAL` back-edges, leaves at the loop header with the exact state there, and the
interpreter resumes as if never stopped; the poll stays off a loop's hot path."""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterator
from typing import Any

import pytest
from progs import RandomSource, Snapshot, compare, generate, snapshot

from conftest import requires_llvmlite
from fusevm import VM, VMError
from fusevm.asm import assemble
from fusevm.bench import jit_workloads as jw
from fusevm.jit import cache, get_config, runtime, set_config
from fusevm.jit.abi import TrapCode
from fusevm.jit.codegen import optimized_text
from fusevm.jit.lower import emit
from fusevm.jit.policy import JitHook
from fusevm.jit.unit import build_unit, emit_text, infer_for
from fusevm.values import Undef

pytestmark = requires_llvmlite


@pytest.fixture(autouse=True)
def fresh_units() -> Iterator[None]:
    """Compile at the first entry, and never share units through the disk cache (these
    tests compile with other poll intervals than the shipped one)."""
    old = set_config(get_config().replace(block_threshold=0, region_threshold=1,
                                          reopt_after=0))
    cache.set_enabled(False)
    yield
    cache.set_enabled(None)
    set_config(old)


class PendingInterrupt(JitHook):
    """The block tier with its fuel word negative from the start of every run, as after
    `vm.interrupt()` from another thread: native code stops at its first poll and the
    interpreter (which knows of no interrupt) finishes the run."""

    def __init__(self) -> None:
        super().__init__(False, force="block")
        self.stops: list[int] = []

    def start_run(self, vm: Any) -> None:
        super().start_run(vm)
        self.fuel.value = -1

    def try_run(self, vm: Any) -> bool:
        done = super().try_run(vm)
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
        error = (type(e).__name__, e.message, e.op, e.ip, e.line)
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


@pytest.mark.parametrize("interval", [1, 4, 64])
def test_the_fuel_word_is_read_every_interval_back_edges(
        interval: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The latency bound, exactly: with the word negative from the start, a counted loop
    stops at its header after `interval` trips, with the state there."""
    monkeypatch.setattr(emit, "POLL_INTERVAL", interval)
    chunk = jw.xor_mix(1000).reference()
    an = runtime.analysis(chunk)
    slots: list[Any] = [Undef] * chunk.slot_count
    unit = build_unit(an, "block", an.kinds_of(slots), False, get_config())
    fuel = ctypes.c_int64(-1)
    out = unit.enter(slots, ctypes.addressof(fuel))
    assert out is not None and unit.trap() == (TrapCode.FUEL, out[0])
    assert slots[1] == interval  # i: trips taken
    assert slots[0] == jw.xor_mix_expected(interval)
    fuel.value = 1
    slots[1] = 0
    slots[0] = 0
    assert unit.enter(slots, ctypes.addressof(fuel)) == (-1, [jw.xor_mix_expected(1000)])


def _vector_ops(poll: bool, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(emit, "POLL_BACK_EDGES", poll)
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
