"""The oracle of the differential tests: runs a generated program (`progs`) in the
interpreter and through the tiers, and compares everything the VM exposes.

`snapshot(program, tier)` runs one program in the interpreter (tier None), through one
forced JIT tier, the baseline tier or the whole chain of tiers, and records everything the
VM exposes (an error's backtrace too); `compare` names the first difference.
`budget_problems` compares runs stopped by a step budget; `check_program` runs a program
through the tiers and checks each tier's own counters against its verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from progs import DEOPT_TO_COMPUTE, WIDE_MAX_SIZE, Program

from fusevm import VM, VMError
from fusevm.chunk import Chunk
from fusevm.values import same_value


@dataclass
class Snapshot:
    """Everything observable after a run."""

    result: Any
    error: tuple[Any, ...] | None  # class, message, op, ip, line, backtrace
    slots: list[Any]
    stack: list[Any]
    globals: list[Any]
    ip: int
    halted: bool
    frames: int


def _vm(program: Program, chunk: Chunk, tier: str | None, threshold: int) -> VM:
    extra: dict[str, Any] = {}
    if program.wide:
        from fusevm.lang.awk.ops import AWK
        extra = {"extensions": [AWK], "max_size": WIDE_MAX_SIZE}
    vm = VM(chunk, strict_int=program.strict, baseline=tier in ("baseline", "chain"),
            **extra)
    if program.wide:
        from fusevm.lang.awk.state import AwkState
        vm.host_data["awk"] = AwkState()
    if tier == "baseline":
        vm._tiers.region_threshold = threshold
    elif tier == "chain":
        vm.enable_tracing_jit()
    elif tier is not None:
        from fusevm.jit.policy import JitHook
        vm.set_tier_hook(JitHook(False, force=tier))
    vm.slots[:len(program.slots)] = list(program.slots)
    return vm


def take(vm: VM, max_steps: int | None = None) -> Snapshot:
    """Run `vm` (with a step budget, if given) and snapshot how it ended."""
    result: Any = None
    error = None
    try:
        result = vm.run(max_steps=max_steps)
    except VMError as e:
        error = (type(e).__name__, e.message, e.op, e.ip, e.line, tuple(e.backtrace))
    return Snapshot(result, error, list(vm.slots), list(vm.stack), list(vm.globals), vm.ip,
                    vm.halted, len(vm.frames))


def snapshot(program: Program, chunk: Chunk, tier: str | None,
             threshold: int = 1) -> Snapshot:
    """Run in the interpreter (tier None) or with `tier` forced (threshold 0); "baseline"
    is the baseline tier alone, compiling at the `threshold`th entry of a hot point;
    "chain" every tier in their order (`vm.enable_tracing_jit()` over the baseline tier),
    hot points taken at their second entry and loops traced from their first back edge."""
    with _configured(tier):
        return take(_vm(program, chunk, tier, threshold))


def _configured(tier: str | None) -> Any:
    """A `with` block under the JIT configuration `tier` runs with: the chain's
    thresholds, or the calling thread's configuration."""
    from fusevm.jit.config import get_config, using
    cfg = get_config()
    if tier == "chain":
        cfg = cfg.replace(block_threshold=1, region_threshold=2, trace_threshold=1)
    return using(cfg)


#: The errors after which `run()` continues where it stopped.
STOPS = ("BudgetExceeded", "Interrupted")


def budget_problems(program: Program, budgets: Sequence[int],
                    tiers: Sequence[str] = ("baseline",)) -> list[str]:
    """Run `program` with each step budget (0: an interrupt pending instead) in the
    interpreter and in a VM of each tier ("baseline", "chain": `snapshot`) that has run
    it once already (its hot regions compiled, its loops traced): the same stop
    (BudgetExceeded or Interrupted at the same op, in the same frame, with the same
    stack, slots and globals, also inside a block), then the same end when the run is
    continued (where it may be: not after another error)."""
    chunk = program.build()
    problems = []
    for budget in budgets:
        shots = {}
        for tier in (None, *tiers):
            with _configured(tier):
                vm = _vm(program, chunk, tier, 1)
                if tier is not None:
                    take(vm)
                    vm.reset()
                    vm.slots[:len(program.slots)] = list(program.slots)
                if budget:
                    first = take(vm, budget)
                else:  # an interrupt pending: the run stops at its first hot point
                    vm.interrupt()
                    first = take(vm)
                # Only a stop at an instruction boundary may be continued (D18); after
                # any other error the VM's state is only what the error left.
                stopped = first.error is not None and first.error[0] in STOPS
                shots[tier] = (first, take(vm) if stopped else first)
        for tier in tiers:
            for what, a, b in (("stopped", shots[None][0], shots[tier][0]),
                               ("continued", shots[None][1], shots[tier][1])):
                diff = compare(a, b)
                if diff is not None:
                    problems.append(f"max_steps={budget}, {what}: {tier} differs from the "
                                    f"interpreter: {diff}")
    return problems


def _same_list(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))


def compare(a: Snapshot, b: Snapshot) -> str | None:
    """The first difference between two snapshots, or None."""
    # An error is (class, message, op, ip, line, backtrace) (`take`).
    if a.error != b.error:
        return f"error: {a.error} vs {b.error}"
    if not same_value(a.result, b.result) and not (a.result is None and b.result is None):
        return f"result: {a.result!r} ({type(a.result).__name__}) vs {b.result!r} " \
               f"({type(b.result).__name__})"
    for name in ("slots", "stack", "globals"):
        if not _same_list(getattr(a, name), getattr(b, name)):
            return f"{name}: {getattr(a, name)!r} vs {getattr(b, name)!r}"
    for name in ("ip", "halted", "frames"):
        if getattr(a, name) != getattr(b, name):
            return f"{name}: {getattr(a, name)!r} vs {getattr(b, name)!r}"
    return None


def _counters(tier: str) -> tuple[float, float]:
    from fusevm.jit import stats
    s = stats().get(tier, {})
    return s.get("runs", 0), s.get("deopts", 0)


def check_program(program: Program, tiers: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Run `program` in the interpreter and each tier: how each tier ran, and any problems.

    A problem is a difference from the interpreter, or a counter that disagrees with the
    tier's own verdict: when `why_not` accepts the program, the unit must have run natively
    (and the interpreter raised nothing) or deoptimised (and the interpreter raised); a
    program with an op in DEOPT_TO_COMPUTE only has to have run or deoptimised; when
    it refuses, no unit of the whole chunk exists (its loop nests may still run natively
    as regions: how is then "regions"). The "baseline" tier (compiling at a hot point's
    first entry) is compared alone: how says whether it compiled a region ("compiled")
    or had nothing new to compile ("interpreted": regions are compiled once per chunk).
    "chain" (every tier in their order, `snapshot`) is compared alone too.
    """
    from fusevm.jit.eligibility import refusal
    from fusevm.jit.runtime import analysis
    chunk = program.build()
    ref = snapshot(program, chunk, None)
    how: dict[str, str] = {}
    problems: list[str] = []
    for tier in tiers:
        if tier == "chain":
            from fusevm.jit.trace import tier as trace_tier
            traces = trace_tier.stats().get("traces", 0)
            diff = compare(ref, snapshot(program, chunk, tier))
            if diff is not None:
                problems.append(f"the tier chain differs from the interpreter: {diff}")
            how[tier] = "traced" if trace_tier.stats().get("traces", 0) > traces else "chained"
            continue
        if tier == "baseline":
            from fusevm.baseline import compiler
            compiles = compiler.stats()["compiles"]
            diff = compare(ref, snapshot(program, chunk, tier))
            if diff is not None:
                problems.append(f"baseline tier differs from the interpreter: {diff}")
            how[tier] = "compiled" if compiler.stats()["compiles"] > compiles else "interpreted"
            continue
        runs, deopts = _counters(tier)
        got = snapshot(program, chunk, tier)
        diff = compare(ref, got)
        if diff is not None:
            problems.append(f"{tier} tier differs from the interpreter: {diff}")
        runs2, deopts2 = _counters(tier)
        an = analysis(chunk)
        why = refusal(an, tier, list(program.slots), program.strict)
        if why is not None:
            # A loop nest the tier takes still runs natively as a region of its own (its
            # own analysis and unit); the chunk's whole unit must never have been made.
            how[tier] = "refused" if (runs2, deopts2) == (runs, deopts) else "regions"
            if any(e.unit is not None for e in an.entries.values()):
                problems.append(f"{tier} ran although it refuses: {why}")
        elif any(item in DEOPT_TO_COMPUTE for item in program.items) and \
                (runs2, deopts2) != (runs, deopts):
            # Its unit may leave for the interpreter at any such op, and the loop regions
            # the interpreter enters again may too: it ran, or deoptimised, as many times.
            how[tier] = "deopt" if deopts2 > deopts else "ran"
        elif runs2 == runs + 1:
            how[tier] = "ran"
            if ref.error is not None:
                problems.append(f"{tier} ran natively but the interpreter raised {ref.error}")
        elif deopts2 == deopts + 1:
            how[tier] = "deopt"
            if ref.error is None:
                problems.append(f"{tier} deoptimised although the interpreter raised nothing")
        else:
            how[tier] = "missing"
            problems.append(f"{tier} accepted the program but neither ran nor deoptimised")
    return how, problems
