"""The in-process columns: the interpreter (warm, first run), the baseline tier, Python, JIT.

A runner turns a Workload into a `Session` (`interleave.py`): the call one column times,
whose first result is checked against the workload's expected value, and (for the
interpreter) a count of the ops one call dispatches. Runners that cannot run here say
why (`unavailable()`); a runner that cannot run one workload raises NotApplicable with
the reason. Peers that run in another process (luajit, pypy3) live in `peers.py`;
`registry.default_runners()` lists them all, plus whatever
`fusevm.bench.jit_workloads.RUNNERS` adds.

What a call includes: a warm column (`interp`, `baseline-warm`, ...) reruns one VM that
was built and prepared beforehand, so VM construction, chunk verification, step
preparation and compiling are not in its time; a first-run column (`interp-first`,
`baseline`) runs a chunk no cache has seen in a new VM each call, and so includes all of
them, as a one-shot script pays them.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from fusevm.bench.interleave import InProcess, Prepared, Session, Settings
from fusevm.bench.timing import Timing
from fusevm.bench.workloads import Workload
from fusevm.chunk import Chunk
from fusevm.interp.vm import VM

__all__ = ["NotApplicable", "Prepared", "Result", "Runner", "Session", "Settings"]


class NotApplicable(Exception):
    """This runner cannot run this workload; the message says why."""


@dataclass
class Result:
    """One cell of the table: a timing and its per-round samples, or why there is none."""

    runner: str
    status: str  # ok | n/a | same | wrong | error | missing
    timing: Timing | None = None
    ops: int | None = None
    note: str = ""
    same_as: str | None = None
    #: Per-call ns, one per interleaved round (sample r of every column is from round r).
    samples: list[float] = field(default_factory=list)
    #: The clock the samples were taken with.
    clock: str = ""

    @property
    def median_ns(self) -> float | None:
        return self.timing.median_ns if self.timing is not None else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.timing is not None:
            out.update(self.timing.as_dict())
            out["samples_ns"] = [round(x, 3) for x in self.samples]
            out["clock"] = self.clock
        if self.ops is not None:
            out["dispatched_ops"] = self.ops
            if self.timing is not None and self.ops:
                out["ns_per_op"] = self.timing.median_ns / self.ops
        if self.note:
            out["note"] = self.note
        if self.same_as is not None:
            out["same_as"] = self.same_as
        return out


class Runner:
    """Base class: subclasses set the names and implement `prepare` (or override `open`)."""

    name: str = ""
    label: str = ""
    kind: str = "tier"  # tier | baseline | peer
    description: str = ""

    def unavailable(self) -> str | None:
        """Why this runner cannot run on this machine, or None when it can."""
        return None

    def prepare(self, w: Workload) -> Prepared:
        raise NotImplementedError

    def open(self, w: Workload, settings: Settings) -> Session:
        """A session timing `w` in this column (raises NotApplicable when it does not apply)."""
        return InProcess(self.prepare(w), settings.clock)


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
    vm.rewind()
    vm.slots[:len(slots)] = slots


def interp_call(chunk: Chunk, slots: tuple[Any, ...] = (),
                reuse_vm: bool = True, baseline: bool = False) -> Callable[[], Any]:
    """One measured interpreter call.

    With `reuse_vm` (a warm call), the VM and its step closures are made once and each
    call only rewinds it (`rewind`) and runs. Without it, each call is `VM(chunk)` +
    `run()`. `baseline` lets the VM use the baseline tier (the default of `VM()`);
    without it every op runs in the interpreter proper.
    """
    if reuse_vm:
        vm = VM(chunk, baseline=baseline)
        if baseline:
            # Warm means compiled: every region at its second entry, not once it has
            # paid for its compile (a straight-line root would take a thousand runs).
            vm._tiers.eager = True  # type: ignore[union-attr]
        vm.prepare()
        stack, frames, root = vm.stack, vm.frames, vm.root.slots
        n = len(slots)

        def rerun() -> Any:
            # A run that ended normally left an empty stack and the root frame alone:
            # then putting the ip and the inputs back is all the rewinding there is (the
            # call's cost beyond `vm.run()` is a few attribute stores, ~0.05 us).
            if stack or len(frames) > 1 or vm.slots is not root:
                rewind(vm, slots)
            else:
                vm.ip = 0
                vm.halted = False
                if n:
                    root[:n] = slots
            return vm.run()
        return rerun
    n = len(slots)

    def run() -> Any:
        vm = VM(chunk, baseline=baseline)
        vm.slots[:n] = slots
        return vm.run()
    return run


_first_runs = itertools.count()


def fresh_copy(chunk: Chunk) -> Chunk:
    """The same program as a chunk object no cache has seen, for timing a first run.

    The VM verifies each chunk object once (by identity); the baseline tier, the JIT and
    the loop analysis cache per chunk by content (its digest). The copy carries one extra
    constant no op refers to, which changes its digest and nothing it does.
    """
    return Chunk(chunk.ops, (*chunk.constants, f"<first run {next(_first_runs)}>"),
                 chunk.names, chunk.lines, chunk.slot_count,
                 [fresh_copy(sub) for sub in chunk.sub_chunks], chunk.block_ranges,
                 chunk.sub_entries, chunk.source)


class InterpRunner(Runner):
    """The interpreter (with or without the baseline tier) on one of the workload's chunks."""

    def __init__(self, name: str, label: str, description: str,
                 chunk: Callable[[Workload], Chunk], *, first_run: bool = False,
                 count: bool = False, baseline: bool = False,
                 unavailable: Callable[[], str | None] | None = None) -> None:
        self.name = name
        self.label = label
        self.description = description
        self._chunk = chunk
        self._first_run = first_run
        self._count = count
        self._baseline = baseline
        self._unavailable = unavailable

    def unavailable(self) -> str | None:
        return self._unavailable() if self._unavailable is not None else None

    def prepare(self, w: Workload) -> Prepared:
        chunk = self._chunk(w)
        # (by content: a constant may be a list, which a tuple key cannot hold)
        key = ("interp", self._first_run, self._baseline, chunk.digest(), chunk.names,
               chunk.sub_entries)
        count = (lambda: count_dispatches(chunk, w.slots)) if self._count else None
        if not self._first_run:
            return Prepared(interp_call(chunk, w.slots, True, self._baseline), key, count)
        if w.reuse_vm:
            raise NotApplicable("a first run of it (verify and prepare every op) is not "
                                "timed, see †")
        baseline = self._baseline

        def fresh() -> Callable[[], Any]:
            return interp_call(fresh_copy(chunk), w.slots, False, baseline)
        return Prepared(lambda: fresh()(), key, count, fresh=fresh)


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
    description = ("the same algorithm as a plain Python function (twins.py), in this "
                   "process: the CPython reference every ratio is taken to")

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
    description = ("VM(chunk); vm.enable_jit(); vm.run() per call, after warm-up calls "
                   "(VM construction included)")

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
    """The interpreter columns: warm and first run, alone and with the baseline tier."""
    return [
        InterpRunner("interp", "interp",
                     "the interpreter alone (baseline off) on the listing as written, "
                     "hand-fused ops kept: one VM built and prepared beforehand, rewound "
                     "per call (dispatch only)",
                     lambda w: w.reference(), count=True),
        InterpRunner("interp-first", "interp\nfirst run",
                     "the interpreter alone, first run: a chunk object no cache has seen, "
                     "VM() + run() per call (verify, prepare the steps, run)",
                     lambda w: w.reference(), first_run=True),
        InterpRunner("baseline", "baseline\nfirst run",
                     "the baseline tier (the default of VM()), first run: a chunk object "
                     "no cache has seen, VM() + run() per call (verify, prepare, compile "
                     "the regions that get hot, run)",
                     lambda w: w.reference(), first_run=True, baseline=True),
        InterpRunner("baseline-warm", "baseline\nwarm",
                     "the baseline tier on one VM built beforehand and rewound per call: "
                     "its regions compiled and bound already",
                     lambda w: w.reference(), baseline=True),
    ]


def fusion_runners() -> list[Runner]:
    """The interpreter, warm, on the plain-op build and on that build through the pass."""
    return [
        InterpRunner("interp-unfused", "unfused",
                     "interpreter, warm: every fused op expanded to its table `fuses` ops; "
                     "build(fuse=False)",
                     lambda w: w.build(fuse=False)),
        InterpRunner("interp-fused", "fused (pass)",
                     "interpreter, warm: the expanded program through build(fuse=True), "
                     "the fusion pass's work",
                     lambda w: w.build(fuse=True), unavailable=fusion_unavailable),
    ]


#: Runner names the report's ratios use.
INTERP: Final = "interp"
INTERP_FIRST: Final = "interp-first"
BASELINE: Final = "baseline"
BASELINE_WARM: Final = "baseline-warm"
UNFUSED: Final = "interp-unfused"
FUSED: Final = "interp-fused"
PYTHON: Final = "python"
