"""The trace tier's dispatch: anchors, their traces, exits, side traces and counters.

`trace_step(vm, h, original, fuel_addr)` is what the policy installs at a hot point no
region tier takes. Per anchor (chunk digest, hot point) a `Lifecycle` decides: count
entries, record once hot, run the compiled trace, or step aside for good. Running a trace
is a chain: the root trace runs until an exit; an exit that owns a side trace continues
in it (no interpreter in between), a side trace that reaches the loop header re-enters
the root, and any other exit hands the interpreter the exact state at the exit's op.

* A loop exit (the resume op is outside the loop, with no inlined frame open) ends the
  chain and counts nothing.
* A side exit counts per exit; at `HOT_EXIT` a side trace is recorded from there (up to
  `max_trace_chain` deep); every side exit no side trace absorbs counts toward the root's
  `max_side_exits`, after which the anchor is blacklisted.
* An entry whose kinds do not compile (an Int slot now holding a Str, ...) is a guard
  mismatch; `MAX_MISMATCHES` in a row blacklist the anchor.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.jit import runtime
from fusevm.jit.config import TraceJitConfig, get_config
from fusevm.jit.eligibility import static_refusal
from fusevm.jit.trace import lower as lowering
from fusevm.jit.trace.ir import Aborted, Recording, Snapshot, TraceIR, build, format_ir
from fusevm.jit.trace.lower import Lowered, lower
from fusevm.jit.trace.meta import TraceMetadata
from fusevm.jit.trace.recorder import Steps, record
from fusevm.jit.trace.states import Abort, Lifecycle, Phase
from fusevm.jit.unit import KIND_OF, Analysis
from fusevm.loops import loop_facts, natural_loop
from fusevm.values import Undef

if TYPE_CHECKING:
    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM

#: Side exits taken from one exit before a side trace is recorded there (LuaJIT's hotexit).
HOT_EXIT: Final = 10
#: Consecutive entries refused by every compiled kind variant before the anchor gives up.
MAX_MISMATCHES: Final = 5

_COUNTERS: Final = ("recordings", "aborts", "traces", "side_traces", "entries",
                    "side_exits", "loop_exits", "deopts", "guard_mismatches", "blacklisted",
                    "imported")


@dataclass(eq=False, slots=True)
class Trace:
    """A built trace (root or side) and the state of its exits."""

    ir: TraceIR
    low: Lowered
    an: Analysis
    chain: int  # 0 for a root trace, else how many side traces deep
    path: tuple[int, ...] = ()  # exit ids from the root to here
    kinds: tuple[int, ...] = ()
    exit_counts: list[int] = field(default_factory=list)
    children: list[Trace | None] = field(default_factory=list)
    refused: list[bool] = field(default_factory=list)
    runs: int = 0

    def __post_init__(self) -> None:
        k = len(self.low.exits)
        self.exit_counts = [0] * k
        self.children = [None] * k
        self.refused = [False] * k


@dataclass(eq=False, slots=True)
class Anchor:
    """One hot point of one chunk (by digest) and its traces."""

    digest: str
    start: int
    source: str
    loop: frozenset[int]
    life: Lifecycle = field(default_factory=Lifecycle)
    root: Trace | None = None
    side_exits: int = 0
    mismatches: int = 0


_lock = threading.RLock()
_anchors: dict[tuple[str, int], Anchor] = {}
_pending: dict[tuple[str, int], list[TraceMetadata]] = {}
_steps: weakref.WeakKeyDictionary[Any, Steps] = weakref.WeakKeyDictionary()
COUNTS: Counter[str] = Counter()
ABORTS: Counter[str] = Counter()


def stats() -> dict[str, float]:
    """The trace tier's counters (jit.stats()["trace"] adds the unit counters)."""
    out: dict[str, float] = {name: COUNTS[name] for name in _COUNTERS}
    out["abort_reasons"] = len(ABORTS)
    return out


def abort_reasons() -> dict[str, int]:
    return dict(ABORTS)


def reset() -> None:
    """Forget every anchor, pending import and counter (tests, benchmarks)."""
    with _lock:
        _anchors.clear()
        _pending.clear()
        COUNTS.clear()
        ABORTS.clear()


def _anchor(chunk: Chunk, digest: str, h: int) -> Anchor:
    key = (digest, h)
    with _lock:
        a = _anchors.get(key)
        if a is None:
            facts = loop_facts(chunk)
            body = natural_loop(facts, h) if h in facts.back_edges else frozenset()
            a = _anchors[key] = Anchor(digest, h, chunk.source or "<chunk>", body)
            metas = _pending.pop(key, None)
            if metas:
                _install_imported(chunk, a, metas)
        return a


def _steps_for(vm: VM) -> Steps:
    s = _steps.get(vm)
    if s is None or s.code is not vm._code:
        s = _steps[vm] = Steps(vm)
    return s


def _where(a: Anchor, t: Trace | None = None) -> str:
    if t is None or t.chain == 0:
        return f"{a.source}: trace at op {a.start}"
    return f"{a.source}: side trace at op {t.ir.recording.start} (loop at op {a.start})"


# -- building -----------------------------------------------------------------------------

def make_trace(chunk: Chunk, rec: Recording, cfg: TraceJitConfig, chain: int = 0,
               path: tuple[int, ...] = ()) -> Trace:
    """IR, lowering and analysis of a recording; raises Aborted."""
    ir = build(chunk, rec, cfg.max_inline_recursion)
    low = lower(ir, chunk)
    try:
        an = runtime.analysis(low.chunk)
    except VMError as e:
        raise Aborted(Abort.COMPILE, f"the lowered trace does not verify: {e}") from None
    refusal = static_refusal(an, "block")
    if refusal is not None:
        raise Aborted(Abort.NOT_LOWERABLE, refusal)
    return Trace(ir, low, an, chain, path)


def _work(vm: VM, ir: TraceIR) -> list[Any]:
    g = vm.globals
    work = list(vm.slots)
    work.extend([g[i] for i in ir.globals])
    if ir.inline_depth:
        work.extend([Undef] * (ir.inline_depth * ir.nslots))
    return work


def _compile_now(vm: VM, t: Trace) -> str | None:
    """Compile `t` for the VM's current state; None, or why it does not compile."""
    work = _work(vm, t.ir)
    unit = runtime.unit_for(lowering, t.an, work, vm.strict_int, 0)
    if unit is None:
        e = t.an.entries.get((lowering.NAME, vm.strict_int, t.an.kinds_of(work)))
        return (e.failure if e is not None else None) or "the unit did not compile"
    t.kinds = unit.info.kinds
    return None


def _abort(a: Anchor, why: Aborted, threshold: int) -> None:
    COUNTS["aborts"] += 1
    ABORTS[why.reason.name] += 1
    runtime.log(f"{_where(a)}: recording aborted ({why})")
    if a.life.aborted(why.reason, threshold):
        COUNTS["blacklisted"] += 1
        runtime.log(f"{_where(a)}: blacklisted after {a.life.aborts} aborted recordings")


def _blacklist(a: Anchor, why: str) -> None:
    if a.life.phase is not Phase.BLACKLISTED:
        a.life.move(Phase.BLACKLISTED)
        COUNTS["blacklisted"] += 1
        runtime.log(f"{_where(a)}: blacklisted ({why})")


# -- running ------------------------------------------------------------------------------

def _enter(vm: VM, t: Trace, fuel: int) -> tuple[int | None, Snapshot] | None:
    """Run `t` from the VM's state; (exit id or None for a deopt, snapshot resumed at),
    with the interpreter's state rebuilt there, or None when it did not run."""
    ir = t.ir
    if ir.inline_depth and len(vm.frames) + ir.inline_depth > vm.max_depth:
        return None  # the interpreter would raise RecursionLimit inside: let it
    work = _work(vm, ir)
    out = runtime.enter(lowering, t.an, work, vm.strict_int, 0, fuel)
    if out is None:
        return None
    t.runs += 1
    COUNTS["entries"] += 1
    ip, values = out
    exit_id: int | None
    if ip < 0:
        exit_id = values.pop()
        snap = t.low.exits[exit_id]  # type: ignore[index]
    else:
        exit_id = None
        snap = t.low.snaps[ip]
        COUNTS["deopts"] += 1
    _materialize(vm, ir, work, snap, values)
    return exit_id, snap


def _materialize(vm: VM, ir: TraceIR, work: list[Any], snap: Snapshot,
                 values: list[Any]) -> None:
    """Write the trace's state back: frame slots, globals, stack, inlined frames."""
    from fusevm.interp.vm import Frame
    n = ir.nslots
    vm.slots[:] = work[:n]
    g = vm.globals
    for i, gi in enumerate(ir.globals):
        g[gi] = work[n + i]
    stack = vm.stack
    base = len(stack)
    stack.extend(values)
    if snap.frames:
        frames = vm.frames
        for f, written in zip(snap.frames, snap.written):
            slots: list[Any] = [Undef] * n
            for s in written:
                slots[s] = work[f.slot_base + s]
            frames.append(Frame(slots, f.return_ip, base + f.stack_base, Frame.CALL))
        vm.slots = frames[-1].slots


def trace_step(vm: VM, h: int, original: Step, fuel: int) -> Step | None:
    """The step for hot point `h`: counts, records, runs traces (see the module doc)."""
    chunk = vm.chunk
    try:
        digest = runtime.analysis(chunk).digest
    except VMError:
        return None
    a = _anchor(chunk, digest, h)
    if a.life.phase is Phase.BLACKLISTED:
        return None
    cfg = get_config()
    threshold = cfg.trace_threshold
    life = a.life

    def step() -> int:
        if vm._budget is not None:
            return original()  # a budget counts every instruction: only the interpreter
        phase = life.phase
        if phase is Phase.COMPILED:
            return _run_chain(vm, a, original, fuel, cfg)
        if phase is Phase.BLACKLISTED or phase is Phase.RECORDING:
            return original()
        if not life.hot(threshold):
            return original()
        return _record_root(vm, a, cfg)
    return step


def _record_root(vm: VM, a: Anchor, cfg: TraceJitConfig) -> int:
    a.life.move(Phase.RECORDING)
    COUNTS["recordings"] += 1
    runtime.log(f"{_where(a)}: recording started")
    try:
        nxt, rec = record(vm, _steps_for(vm), a.start, a.start, cfg.max_trace_len,
                          cfg.max_inline_recursion)
    except VMError:
        _abort(a, Aborted(Abort.ERROR), cfg.trace_threshold)
        raise
    if isinstance(rec, Aborted):
        _abort(a, rec, cfg.trace_threshold)
        return nxt
    try:
        t = make_trace(vm.chunk, rec, cfg)
    except Aborted as why:
        _abort(a, why, cfg.trace_threshold)
        return nxt
    if nxt == a.start:
        failure = _compile_now(vm, t)
        if failure is not None:
            _abort(a, Aborted(Abort.COMPILE, failure), cfg.trace_threshold)
            return nxt
    a.root = t
    a.life.move(Phase.COMPILED)
    COUNTS["traces"] += 1
    runtime.log(f"{_where(a)}: compiled ({len(t.ir.nodes)} nodes, {len(t.low.exits)} exits, "
                f"{len(t.ir.globals)} globals, inline depth {t.ir.inline_depth})")
    return nxt


def _run_chain(vm: VM, a: Anchor, original: Step, fuel: int, cfg: TraceJitConfig) -> int:
    t = a.root
    assert t is not None
    while True:
        res = _enter(vm, t, fuel)
        if res is None:
            if t.chain == 0:
                a.mismatches += 1
                COUNTS["guard_mismatches"] += 1
                if a.mismatches >= MAX_MISMATCHES:
                    _blacklist(a, f"{MAX_MISMATCHES} entries in a row with kinds no unit "
                               "takes")
                return original()
            # A side trace whose entry kinds do not compile: drop it, interpret from there.
            parent, k = _parent_of(a, t)
            parent.children[k] = None
            parent.refused[k] = True
            runtime.log(f"{_where(a, t)}: dropped (its entry kinds do not compile)")
            return t.ir.recording.start
        a.mismatches = 0
        exit_id, snap = res
        if exit_id is None:
            return snap.ip  # a deopt inside the unit, or fuel ran out: resume there
        if exit_id in t.low.closes:
            t = a.root  # a side trace came back to the loop header
            continue
        if not snap.frames and snap.ip not in a.loop:
            COUNTS["loop_exits"] += 1
            return snap.ip
        child = t.children[exit_id]
        if child is not None:
            t = child
            continue
        COUNTS["side_exits"] += 1
        t.exit_counts[exit_id] += 1
        count = t.exit_counts[exit_id]
        if count == 1:
            runtime.log(f"{_where(a, t)}: exit {exit_id} to op {snap.ip} taken")
        if count >= HOT_EXIT and not t.refused[exit_id] and not snap.frames:
            if t.chain + 1 <= cfg.max_trace_chain:
                return _record_side(vm, a, t, exit_id, snap.ip, cfg)
            t.refused[exit_id] = True
        a.side_exits += 1
        if a.side_exits >= cfg.max_side_exits:
            _blacklist(a, f"{a.side_exits} side exits no side trace absorbed")
        return snap.ip


def _parent_of(a: Anchor, t: Trace) -> tuple[Trace, int]:
    node = a.root
    assert node is not None
    for k in t.path[:-1]:
        child = node.children[k]
        assert child is not None
        node = child
    return node, t.path[-1]


def _record_side(vm: VM, a: Anchor, t: Trace, k: int, ip: int, cfg: TraceJitConfig) -> int:
    COUNTS["recordings"] += 1
    runtime.log(f"{_where(a, t)}: recording a side trace from exit {k} (op {ip})")
    t.refused[k] = True  # one attempt per exit, whatever happens
    try:
        nxt, rec = record(vm, _steps_for(vm), ip, a.start, cfg.max_trace_len,
                          cfg.max_inline_recursion)
    except VMError:
        COUNTS["aborts"] += 1
        ABORTS[Abort.ERROR.name] += 1
        raise
    if not isinstance(rec, Aborted):
        try:
            child = make_trace(vm.chunk, rec, cfg, t.chain + 1, t.path + (k,))
        except Aborted as why:
            rec = why
    if isinstance(rec, Aborted):
        COUNTS["aborts"] += 1
        ABORTS[rec.reason.name] += 1
        runtime.log(f"{_where(a, t)}: side trace from exit {k} aborted ({rec})")
        return nxt
    t.children[k] = child
    t.refused[k] = False
    COUNTS["side_traces"] += 1
    runtime.log(f"{_where(a, child)}: compiled, stitched to exit {k} "
                f"({len(child.ir.nodes)} nodes, chain {child.chain})")
    return nxt


# -- metadata -----------------------------------------------------------------------------

def export_all() -> list[TraceMetadata]:
    """Metadata of every compiled trace (roots first, then their side traces)."""
    out: list[TraceMetadata] = []
    with _lock:
        anchors = list(_anchors.values())
    for a in anchors:
        if a.root is None or a.life.phase is not Phase.COMPILED:
            continue
        work = [a.root]
        while work:
            t = work.pop(0)
            rec = t.ir.recording
            out.append(TraceMetadata(a.digest, a.source, rec.start, rec.close, rec.ips,
                                     rec.depths, a.start, t.path, t.kinds,
                                     {"runs": t.runs, "exits": sum(t.exit_counts)}))
            work.extend(c for c in t.children if c is not None)
    return out


def import_all(metas: list[TraceMetadata]) -> int:
    """Install traces from metadata; they are built when their chunk next runs (no
    recording). Returns how many were accepted."""
    n = 0
    with _lock:
        for m in sorted(metas, key=lambda m: len(m.path)):
            if not isinstance(m, TraceMetadata):
                raise TypeError(f"expected TraceMetadata, got {type(m).__name__}")
            key = (m.digest, m.root)
            a = _anchors.get(key)
            if a is not None and a.root is not None:
                continue
            _pending.setdefault(key, []).append(m)
            n += 1
    return n


def _install_imported(chunk: Chunk, a: Anchor, metas: list[TraceMetadata]) -> None:
    cfg = get_config()
    for m in sorted(metas, key=lambda m: len(m.path)):
        try:
            if not all(0 <= ip < len(chunk.ops) for ip in m.ips):
                raise Aborted(Abort.BAD_METADATA, "an ip outside the chunk")
            if not m.path:
                t = make_trace(chunk, m.recording, cfg)
                _precompile(t, m.kinds)
                a.root = t
                a.life.move(Phase.COMPILED)
            else:
                if a.root is None:
                    raise Aborted(Abort.BAD_METADATA, "a side trace without its root")
                parent, k = a.root, m.path[-1]
                for step in m.path[:-1]:
                    nxt = parent.children[step]
                    if nxt is None:
                        raise Aborted(Abort.BAD_METADATA, "a side trace without its parent")
                    parent = nxt
                if not 0 <= k < len(parent.children):
                    raise Aborted(Abort.BAD_METADATA, "no such exit")
                t = make_trace(chunk, m.recording, cfg, parent.chain + 1, m.path)
                _precompile(t, m.kinds)
                parent.children[k] = t
        except Aborted as why:
            ABORTS[why.reason.name] += 1
            runtime.log(f"{_where(a)}: imported trace refused ({why})")
            continue
        COUNTS["imported"] += 1
        runtime.log(f"{_where(a, t)}: imported and compiled without recording")


_SAMPLE: Final = {KIND_OF[int]: 0, KIND_OF[float]: 0.0, KIND_OF[bool]: False}


def _precompile(t: Trace, kinds: tuple[int, ...]) -> None:
    """Compile an imported trace for the kinds it was exported with (before any entry)."""
    if len(kinds) != len(t.an.live_in) or any(k not in _SAMPLE for k in kinds):
        return  # compiled on first entry instead
    slots: list[Any] = [Undef] * t.ir.slot_count
    for s, k in zip(t.an.live_in, kinds):
        slots[s] = _SAMPLE[k]
    unit = runtime.unit_for(lowering, t.an, slots, False, 0)
    if unit is not None:
        t.kinds = unit.info.kinds


# -- seeing it ----------------------------------------------------------------------------

def describe(chunk: Chunk) -> str:
    """Every trace of `chunk` (by digest) as IR text, with its counters."""
    digest = chunk.digest()
    with _lock:
        anchors = sorted((a for a in _anchors.values() if a.digest == digest),
                         key=lambda a: a.start)
    lines: list[str] = []
    for a in anchors:
        life = a.life
        head = f"; anchor op {a.start}: {life.phase.value}"
        if life.last_abort is not None:
            head += f", last abort: {life.last_abort.value}"
        lines.append(head + f", side exits {a.side_exits}")
        work = [a.root] if a.root is not None else []
        while work:
            t = work.pop(0)
            lines.append(format_ir(t.ir, chunk))
            lines.append(f"; runs {t.runs}, exits taken {t.exit_counts}, side traces at "
                         f"exits {[k for k, c in enumerate(t.children) if c is not None]}")
            work.extend(c for c in t.children if c is not None)
    return "\n".join(lines)
