"""One run of a chunk in the interpreter or the baseline tier, and the comparison of two
such runs: what the baseline tests check the tier against its oracle with."""

from __future__ import annotations

import io
import threading
import time
from typing import Any, NamedTuple

from fusevm import VM, VMError
from fusevm.values import same_value

#: `sums(n)`: a, b = {a}, 1, then n times a, b = b, a + b; returns a (fib(n) from a = 0),
#: called once from the root. Its loop is counted, its sum checked unless versioned.
SUMS = """
    LoadInt {n}
    Call sums 1
    Jump end
.sub sums
    SetSlot 2
    LoadInt {a}
    SetSlot 0
    LoadInt 1
    SetSlot 1
loop:
    GetSlot 2
    LoadInt 0
    NumLe
    JumpIfTrue done
    GetSlot 0
    GetSlot 1
    Add
    SetSlot 3
    GetSlot 1
    SetSlot 0
    GetSlot 3
    SetSlot 1
    GetSlot 2
    Dec
    SetSlot 2
    Jump loop
done:
    GetSlot 0
    ReturnValue
end:
"""


def interrupt_once_compiled(vm: VM) -> threading.Thread:
    """Interrupt `vm` from another thread as soon as the baseline tier has bound a region
    (its `runs` counter moved): the interrupt lands in the compiled code however busy the
    machine is, where a timeout could fire while the region is still being compiled.
    Join the thread after the run."""
    from fusevm.baseline.compiler import COUNTERS
    start = COUNTERS.runs

    def watch() -> None:
        deadline = time.monotonic() + 60.0
        while COUNTERS.runs == start and time.monotonic() < deadline:
            time.sleep(0.0005)
        vm.interrupt()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


class Outcome(NamedTuple):
    result: Any
    error: tuple[Any, ...] | None  # class, message, op, ip, line
    output: str
    slots: list[Any]
    ip: int
    stack: list[Any]
    backtrace: int | None  # the error's backtrace length


def outcome(chunk: Any, baseline: bool, strict: bool = False, threshold: int = 2,
            runs: int = 2) -> Outcome:
    """The last of `runs` runs of one VM (reset before each; stops at an error), the
    baseline tier compiling a region at its `threshold`-th entry."""
    out = io.StringIO()
    vm = VM(chunk, stdout=out, baseline=baseline, strict_int=strict)
    if baseline:
        vm._tiers.region_threshold = threshold
    result: Any = None
    error = backtrace = None
    for _ in range(runs):
        vm.reset()
        try:
            result = vm.run()
        except VMError as e:
            result, error = None, (type(e).__name__, e.message, e.op, e.ip, e.line)
            backtrace = len(e.backtrace)
            break
    return Outcome(result, error, out.getvalue(), list(vm.slots), vm.ip, list(vm.stack),
                   backtrace)


def _same_values(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))


def agree(a: Outcome, b: Outcome, *fields: str) -> None:
    """Assert that the two runs agree on `fields` (values compared by `same_value`)."""
    for name in fields:
        x, y = getattr(a, name), getattr(b, name)
        if name == "result":
            assert same_value(x, y), (x, y)
        elif name in ("slots", "stack"):
            assert _same_values(x, y), (name, x, y)
        else:
            assert x == y, (name, x, y)


def budget_stops(chunk: Any, baseline: bool, steps: int) -> tuple[Any, list[tuple[Any, ...]]]:
    """Run `chunk` to its end `steps` instructions at a time (the baseline tier compiled
    and warm first): its result and, at each stop, the ip, frames, slots and stack."""
    from fusevm import BudgetExceeded
    vm = VM(chunk, baseline=baseline)
    if baseline:
        vm._tiers.region_threshold = 1
        vm.run()
        vm.reset()
    stops = []
    while True:
        try:
            return vm.run(max_steps=steps), stops
        except BudgetExceeded as e:
            stops.append((e.ip, len(vm.frames), list(vm.slots), list(vm.stack)))
