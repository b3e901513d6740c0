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


#: A function returning no value (`Return`): count(n) adds n, n - 1, ... 0 to the global
#: `total`; the root prints 1 + 2 (the value below the call stays) and the total.
COUNT_DOWN = """
    LoadInt 0
    SetVar total
    LoadInt 1
    LoadInt {n}
    Call count 1
    LoadInt 2
    Add
    GetVar total
    PrintLn 2
    Jump end
.sub count
    SetSlot 0
    GetVar total
    GetSlot 0
    Add
    SetVar total
    GetSlot 0
    JumpIfFalse out
    GetSlot 0
    Dec
    Call count 1
out:
    Return
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


_OPS = ["Add", "Sub", "Mul", "Div", "Mod", "BitXor", "NumLt", "Shl", "Pow", "Concat"]
_CONSTS = ["LoadInt 0", "LoadInt 1", "LoadInt -1", "LoadInt 3", "LoadInt 9223372036854775807",
           "LoadInt -9223372036854775808", "LoadFloat 0.5", "LoadFloat -2.0", 'LoadConst "7"',
           "LoadTrue", "LoadUndef"]


def recursive_program(seed: int) -> str:
    """A recursive function from `seed`: f(n, x): x goes through a few random ops, then
    f(n - 1, x) (once, or twice for a small n) combined with x by another; f(0, x) is x;
    depths around the direct calls' bound (`calls.BOUND`)."""
    import random
    rng = random.Random(seed)
    twice = rng.random() < 0.3
    n = rng.randint(0, 9) if twice else rng.choice([3, 40, 199, 200, 201, 450])
    ops = []
    for _ in range(rng.randint(1, 3)):
        ops += ["GetSlot 1", rng.choice(_CONSTS), rng.choice(_OPS), "SetSlot 1"]
    second = ["GetSlot 0", "LoadInt 2", "Sub", "GetSlot 1", "Call f 2",
              rng.choice(_OPS)] if twice else []
    body = "\n    ".join([*ops, "GetSlot 0", "Dec", "GetSlot 1", "Call f 2", *second,
                          "GetSlot 1", rng.choice(_OPS), "ReturnValue"])
    return f"""
    LoadInt {n}
    {rng.choice(_CONSTS[:4] + _CONSTS[6:8])}
    Call f 2
    Jump end
.sub f
    SetSlot 1
    SetSlot 0
    GetSlot 0
    LoadInt 0
    NumLe
    JumpIfFalse rec
    GetSlot 1
    ReturnValue
rec:
    {body}
end:
"""


def run_calls(text: str, baseline: bool, eager: bool, threshold: int,
              **options: Any) -> tuple[Any, ...]:
    """One run of `text` (a program of calls) with the tier on (hot points asked about
    at `threshold` entries, `eager`: compiled then) or off: its result, error (class,
    message, op, ip, line, backtrace), output, globals, ip, stack and frames."""
    from fusevm.asm import assemble
    chunk = assemble(text, source="calls.fasm")
    out = io.StringIO()
    vm = VM(chunk, stdout=out, baseline=baseline, **options)
    if baseline:
        vm._tiers.eager = eager
        vm._tiers.region_threshold = threshold
    try:
        result: Any = vm.run()
        error = None
    except VMError as e:
        result = None
        error = (type(e).__name__, e.message, e.op, e.ip, e.line, e.backtrace)
    frames = [(f.return_ip, f.stack_base, f.kind, list(f.slots)) for f in vm.frames]
    return result, error, out.getvalue(), list(vm.globals), vm.ip, list(vm.stack), frames


def agree_calls(text: str, eager: bool, threshold: int, **options: Any) -> tuple[Any, ...]:
    """`run_calls` in both tiers: they must agree on everything. The baseline's outcome."""
    ref = run_calls(text, False, eager, threshold, **options)
    got = run_calls(text, True, eager, threshold, **options)
    assert same_value(ref[0], got[0]), (ref[0], got[0])
    assert ref[1:5] == got[1:5], (ref[1:5], got[1:5])
    assert len(ref[5]) == len(got[5]) and all(map(same_value, ref[5], got[5]))
    assert len(ref[6]) == len(got[6])
    for a, b in zip(ref[6], got[6]):
        assert a[:3] == b[:3] and all(map(same_value, a[3], b[3])), (a, b)
    return got
