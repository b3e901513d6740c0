"""The runner registry: one Runner per column (interpreter variants, plain Python, JIT tiers).

A runner turns a Workload into one measured call, checks the call's result against the
workload's expected value, times it with `timing.measure` and (for the interpreter) counts
the ops one call dispatches. Runners that cannot run here say why (`unavailable()`); a
runner that cannot run one workload raises NotApplicable with the reason. Peers that run
in another process (luajit, pypy3) live in `peers.py`; `registry.default_runners()` lists
them all, plus whatever `fusevm.bench.jit_workloads.RUNNERS` adds.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Final

from fusevm.bench.timing import CLOCKS, Timing, measure
from fusevm.bench.workloads import Workload, describe
from fusevm.chunk import Chunk
from fusevm.interp.vm import VM


class NotApplicable(Exception):
    """This runner cannot run this workload; the message says why."""


@dataclass(frozen=True)
class Settings:
    """How hard to measure: seconds per measurement, repetitions, whether to count ops."""

    quick: bool = False
    target_s: float = 0.75
    min_reps: int = 3
    count_ops: bool = True
    clock: str = "wall"  # a key of timing.CLOCKS

    @classmethod
    def for_mode(cls, quick: bool, clock: str = "wall") -> Settings:
        if quick:
            return cls(quick=True, target_s=0.02, min_reps=1, clock=clock)
        return cls(clock=clock)


@dataclass
class Result:
    """One cell of the table: a timing, or the reason there is none."""

    runner: str
    status: str  # ok | n/a | same | wrong | error
    timing: Timing | None = None
    ops: int | None = None
    note: str = ""
    same_as: str | None = None

    @property
    def median_ns(self) -> float | None:
        return self.timing.median_ns if self.timing is not None else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.timing is not None:
            out.update(self.timing.as_dict())
        if self.ops is not None:
            out["dispatched_ops"] = self.ops
            if self.timing is not None and self.ops:
                out["ns_per_op"] = self.timing.median_ns / self.ops
        if self.note:
            out["note"] = self.note
        if self.same_as is not None:
            out["same_as"] = self.same_as
        return out


@dataclass
class Prepared:
    """A ready-to-time call, plus what the harness needs around it."""

    call: Callable[[], Any]
    #: Runs with the same key (same chunk, same way of running) are timed once.
    key: Hashable | None = None
    count: Callable[[], int] | None = None
    note: str = ""


class Runner:
    """Base class: subclasses set the names and implement `prepare` (or override `run`)."""

    name: str = ""
    label: str = ""
    kind: str = "tier"  # tier | baseline | peer
    description: str = ""

    def unavailable(self) -> str | None:
        """Why this runner cannot run on this machine, or None when it can."""
        return None

    def prepare(self, w: Workload) -> Prepared:
        raise NotImplementedError

    def run(self, w: Workload, settings: Settings, seen: dict[Hashable, str]) -> Result:
        """Prepare, check the result, time, and count ops for one workload."""
        try:
            p = self.prepare(w)
        except NotApplicable as e:
            return Result(self.name, "n/a", note=str(e))
        except Exception as e:  # a failing tier is reported in its cell, not fatal
            return Result(self.name, "error", note=f"{type(e).__name__}: {e}")
        if p.key is not None and p.key in seen:
            return Result(self.name, "same", same_as=seen[p.key])
        try:
            now = CLOCKS[settings.clock]
            t0 = now()
            got = p.call()  # the warm-up call doubles as the correctness check
            first = float(now() - t0)
            if not w.check(got):
                return Result(self.name, "wrong", note=f"returned {describe(got)}, expected "
                                                       f"{describe(w.expected)}")
            if settings.quick and first >= settings.target_s * 1e9:
                timing = Timing(first, first, first, 1, 1)  # one slow call is enough here
            else:
                # A call that takes a good share of the budget was warm enough already.
                warm = not settings.quick and first < settings.target_s * 1e8
                timing = measure(p.call, target_s=settings.target_s,
                                 min_reps=settings.min_reps, warmup=1 if warm else 0,
                                 clock=settings.clock)
            ops = p.count() if p.count is not None and settings.count_ops else None
        except Exception as e:  # a failing tier is reported in its cell, not fatal
            return Result(self.name, "error", note=f"{type(e).__name__}: {e}")
        if p.key is not None:
            seen[p.key] = self.name
        return Result(self.name, "ok", timing, ops, p.note)


# -- The interpreter --------------------------------------------------------------------

def count_dispatches(chunk: Chunk, slots: tuple[Any, ...] = ()) -> int:
    """How many ops one run of `chunk` dispatches, counted in a throwaway VM.

    Every prepared step is wrapped in a counting closure; vm.py is not touched. The
    baseline tier, which runs many ops per step, is off.
    """
    vm = VM(chunk, baseline=False)
    vm.slots[:len(slots)] = slots
    code = vm.prepare()
    tick = itertools.count()
    bump = tick.__next__

    def counting(step: Callable[[], int]) -> Callable[[], int]:
        def counted() -> int:
            bump()
            return step()
        return counted

    code[:] = [counting(step) for step in code]
    vm.run()
    return next(tick)


def rewind(vm: VM, slots: tuple[Any, ...] = ()) -> None:
    """Put a VM that has run back at ip 0 with an empty stack, only the root frame and the
    given root slots, keeping its prepared step closures (which hold on to these very
    stack and frame lists, so they are emptied in place)."""
    vm.ip = 0
    vm.halted = False
    del vm.stack[:]
    del vm.frames[1:]
    vm.slots = vm.root.slots
    vm.slots[:len(slots)] = slots


def interp_call(chunk: Chunk, slots: tuple[Any, ...] = (),
                reuse_vm: bool = False, baseline: bool = False) -> Callable[[], Any]:
    """One measured interpreter call: VM construction + run (as the published figures were taken).

    With `reuse_vm`, the VM and its step closures are made once and each call only
    rewinds it (`rewind`) and runs: that leaves out the preparation cost. `baseline`
    lets the VM use the baseline tier (the default of `VM()`); without it every op runs
    in the interpreter proper.
    """
    if reuse_vm:
        vm = VM(chunk, baseline=baseline)
        vm.prepare()

        def rerun() -> Any:
            rewind(vm, slots)
            return vm.run()
        return rerun
    if slots:
        n = len(slots)

        def run_with_slots() -> Any:
            vm = VM(chunk, baseline=baseline)
            vm.slots[:n] = slots
            return vm.run()
        return run_with_slots

    def run() -> Any:
        return VM(chunk, baseline=baseline).run()
    return run


class InterpRunner(Runner):
    """The interpreter on one of the workload's chunks."""

    def __init__(self, name: str, label: str, description: str,
                 chunk: Callable[[Workload], Chunk], *, prepared: bool = False,
                 count: bool = False, baseline: bool = False,
                 unavailable: Callable[[], str | None] | None = None) -> None:
        self.name = name
        self._baseline = baseline
        self.label = label
        self.description = description
        self._chunk = chunk
        self._prepared = prepared
        self._count = count
        self._unavailable = unavailable

    def unavailable(self) -> str | None:
        return self._unavailable() if self._unavailable is not None else None

    def prepare(self, w: Workload) -> Prepared:
        chunk = self._chunk(w)
        reuse = self._prepared or w.reuse_vm
        key = ("interp", reuse, self._baseline, chunk.ops, chunk.constants, chunk.names,
               chunk.sub_entries)
        count = (lambda: count_dispatches(chunk, w.slots)) if self._count else None
        return Prepared(interp_call(chunk, w.slots, reuse, self._baseline), key, count,
                        "VM prepared once, rewound per call" if reuse else "")


def fusion_unavailable() -> str | None:
    """Why `build(fuse=True)` cannot be measured: no pass, or a pass that fuses nothing."""
    try:
        from fusevm.peephole.fuse import fuse
    except Exception as e:
        return f"fusevm.peephole.fuse is not importable ({type(e).__name__}: {e})"
    from fusevm.chunk import ChunkBuilder
    from fusevm.ops import Op
    b = ChunkBuilder(source="<fusion probe>")
    b.emit(Op.LoadInt, 0)
    b.emit(Op.SetSlot, 0)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.Inc)
    b.emit(Op.SetSlot, 0)
    b.emit(Op.GetSlot, 0)
    plain = b.build(fuse=False)
    try:
        fused = fuse(plain)
    except Exception as e:
        return f"the fusion pass failed on a probe ({type(e).__name__}: {e})"
    if fused.ops == plain.ops:
        return "the fusion pass does not fuse yet (GetSlot; Inc; SetSlot left as is)"
    return None


class PythonRunner(Runner):
    """The workload's plain-Python twin, in this process."""

    name = "python"
    label = "python"
    kind = "baseline"
    description = "the same algorithm as a plain Python function, in this process"

    def prepare(self, w: Workload) -> Prepared:
        call = w.python()
        if call is None:
            raise NotApplicable("no plain-Python twin")
        return Prepared(call)


# -- JIT tiers (fusevm.jit, docs/tiers.md) ------------------------------------------------

def jit_unavailable() -> str | None:
    """Why the JIT tiers cannot run here, or None."""
    if importlib.util.find_spec("llvmlite") is None:
        return "llvmlite is not installed"
    try:
        jit = _jit()
    except Exception as e:
        return f"fusevm.jit is not importable ({type(e).__name__}: {e})"
    if not hasattr(jit, "JitCompiler"):
        return "fusevm.jit has no JitCompiler yet"
    usable = getattr(jit, "llvmlite_available", None)
    if usable is not None and not usable():
        return "fusevm.jit says llvmlite is not usable"
    return None


#: Chunks longer than this are not handed to a JIT tier by the harness (compile time).
JIT_MAX_OPS: Final = 20_000
#: Calls made to warm a tier up (threshold per kind vector) before giving up on it.
JIT_WARM_CALLS: Final = 64


def _jit() -> Any:
    # Looked up by name: fusevm.jit is written concurrently and typed on its own.
    return importlib.import_module("fusevm.jit")


def _jit_runs() -> float:
    """Native runs over every tier so far (from `fusevm.jit.stats()`)."""
    try:
        table = _jit().stats()
    except Exception:  # counters are a diagnostic; their absence is not an error
        return 0.0
    return float(sum(t.get("runs", 0) for t in table.values() if isinstance(t, dict)))


def _jit_refusal(jit: Any, w: Workload, chunk: Chunk, tier: str) -> str | None:
    if len(chunk.ops) > JIT_MAX_OPS:
        return f"{len(chunk.ops):,} ops: too long to compile in a benchmark run"
    why = jit.why_not(chunk, tier, list(w.slots))
    return str(why) if why else None


class JitRunner(Runner):
    """`JitCompiler.try_run_linear` / `try_run_block` on the listing as written, warm."""

    kind = "tier"

    def __init__(self, tier: str) -> None:
        self.tier = tier
        self.name = f"jit-{tier}"
        self.label = f"jit {tier}"
        self.description = (f"JitCompiler().try_run_{tier}(chunk, slots) on the as-written "
                            "chunk, compiled and warm (slots: the workload's inputs)")
        self._jit: Any = None

    def unavailable(self) -> str | None:
        return jit_unavailable()

    def prepare(self, w: Workload) -> Prepared:
        if self._jit is None:
            self._jit = _jit().JitCompiler()
        jit = self._jit
        chunk = w.reference()
        why = _jit_refusal(jit, w, chunk, self.tier)
        if why:
            raise NotApplicable(why)
        enter = getattr(jit, f"try_run_{self.tier}")
        slots = w.slots
        eager = getattr(jit, f"try_run_{self.tier}_eager", None)
        if eager is not None:
            eager(chunk, list(slots))
        for _ in range(JIT_WARM_CALLS):
            if enter(chunk, list(slots)) is not None:
                break
        else:
            raise NotApplicable(f"try_run_{self.tier} did not run it "
                                f"({JIT_WARM_CALLS} calls returned None)")

        def call() -> Any:
            return enter(chunk, list(slots))
        return Prepared(call, note="compiled, warm")


class VmJitRunner(Runner):
    """`VM(chunk)` + `enable_jit()` + `run()` per call, as a tracing-VM bench does."""

    name = "vm-jit"
    label = "vm+jit"
    kind = "tier"
    description = "VM(chunk); vm.enable_jit(); vm.run() per call, after warm-up calls"

    def unavailable(self) -> str | None:
        return jit_unavailable()

    def prepare(self, w: Workload) -> Prepared:
        chunk = w.reference()
        jit = _jit().JitCompiler()
        refusals = [_jit_refusal(jit, w, chunk, tier) for tier in ("block", "linear")]
        if all(refusals):
            raise NotApplicable(f"no JIT tier takes it: {refusals[0]}")
        slots = w.slots
        n = len(slots)

        def call() -> Any:
            vm = VM(chunk)
            vm.slots[:n] = slots
            vm.enable_jit()
            return vm.run()

        before = _jit_runs()
        for _ in range(4):
            call()
        if _jit_runs() == before:
            raise NotApplicable("vm.run() stayed in the interpreter (no JIT run counted)")
        return Prepared(call)


def interp_runners() -> list[Runner]:
    """The interpreter columns: the listing as written, then the plain and pass-fused builds."""
    return [
        InterpRunner("interp", "interp",
                     "the listing as written (its hand-fused ops kept), VM() + run()",
                     lambda w: w.reference(), count=True),
        InterpRunner("interp-prepared", "interp\nprepared",
                     "the same chunk on one VM prepared once and rewound per call: run() "
                     "without the VM construction and step preparation",
                     lambda w: w.reference(), prepared=True),
        InterpRunner("interp-unfused", "unfused",
                     "every fused op expanded to its table `fuses` ops; build(fuse=False)",
                     lambda w: w.build(fuse=False)),
        InterpRunner("interp-fused", "fused (pass)",
                     "the expanded program through build(fuse=True): the fusion pass's work",
                     lambda w: w.build(fuse=True), unavailable=fusion_unavailable),
        InterpRunner("baseline", "baseline",
                     "the listing as written, VM() + run() with the baseline tier (the "
                     "default): regions compiled to Python once per chunk, bound per VM",
                     lambda w: w.reference(), baseline=True),
        InterpRunner("baseline-warm", "baseline\nwarm",
                     "the baseline tier on one VM reused and rewound per call: its code "
                     "compiled and bound already",
                     lambda w: w.reference(), prepared=True, baseline=True),
    ]


#: Runner names whose results the summary ratios use.
INTERP: Final = "interp"
PREPARED: Final = "interp-prepared"
UNFUSED: Final = "interp-unfused"
FUSED: Final = "interp-fused"
PYTHON: Final = "python"
