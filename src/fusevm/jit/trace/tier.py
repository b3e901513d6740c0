"""The trace tier's dispatch: anchors, their traces, exits, side traces and counters.

`trace_step(vm, h, original, fuel_addr)` is what the policy installs at a hot point no
region tier takes. Per anchor (chunk digest, loop header) a `Lifecycle` decides: count
entries, record once hot, run the compiled trace tree, or step aside for good (the op's
own step is put back). The root trace and the side traces stitched to its exits are one
native unit (`lower.py`): an exit that owns a side trace continues in it natively, a side
trace that reaches the loop header loops back, and any other exit hands the interpreter
the exact state at the exit's op (`tree.materialize`). Function entries go to `calls.py`
(native self-recursion).

* A new side trace that starts in the loop's frame with an empty stack is compiled alone
  (`build_tree` with `header`) and linked: the exit it hangs from materialises, its own
  unit is entered from there, and its last exit, back at the loop header, returns there
  to the interpreter, whose next step enters the tree. After `MERGE_AFTER` entries of a
  link the tree is rebuilt with every linked side trace stitched in (at the header, the
  state a tree compiles for). Any other side trace is stitched in at once.

* A loop exit (the resume op is outside the loop, with no inlined frame open) ends the
  chain and counts nothing.
* A side exit counts per exit; at `HOT_EXIT` a side trace is recorded from there (up to
  `max_trace_chain` deep); every side exit no side trace absorbs counts toward the root's
  `max_side_exits`, after which the anchor is blacklisted.
* An entry whose kinds do not compile (an Int slot now holding a Str, ...) is a guard
  mismatch; `MAX_MISMATCHES` in a row blacklist the anchor.
"""

from __future__ import annotations

import _thread

from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.jit import runtime
from fusevm.jit.config import TraceJitConfig, get_config
from fusevm.jit.eligibility import static_refusal
from fusevm.jit.trace import calls as native_calls
from fusevm.jit.trace import lower as lowering
from fusevm.jit.trace import main as native_main
from fusevm.jit.trace.calls import call_step
from fusevm.jit.trace.calls import describe as describe_functions
from fusevm.jit.trace.calls import forget as forget_native_functions
from fusevm.jit.trace.ir import (
    Aborted,
    Recording,
    Snapshot,
    build,
    format_ir,
    globals_of,
    reads_of,
)
from fusevm.jit.trace.lower import Part, local_exits, lower
from fusevm.jit.trace.main import describe as describe_main
from fusevm.jit.trace.main import forget as forget_native_mains
from fusevm.jit.trace.meta import TraceMetadata
from fusevm.jit.trace.recorder import record
from fusevm.jit.trace.states import Abort, Lifecycle, Phase
from fusevm.jit.trace.tree import Trace, Tree, materialize, steps_for, work_of
from fusevm.jit.unit import KIND_OF
from fusevm.loops import crossed_end, loop_facts, natural_loop, predecessors
from fusevm.records import dataclass, field
from fusevm.values import Undef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM

#: Side exits taken from one exit before a side trace is recorded there (LuaJIT's hotexit).
HOT_EXIT: Final = 10
#: Consecutive entries refused by every compiled kind variant before the anchor gives up.
MAX_MISMATCHES: Final = 5
#: Entries of a linked side trace's own unit before the tree is rebuilt with its linked
#: side traces stitched in natively (a hop between units goes through Python).
MERGE_AFTER: Final = 32
#: The short-loop back-off. A *run* of the loop ends at a loop exit of its trace; the
#: native trips since the previous one are counted (a slot the lowered loop increments,
#: `Lowered.trips`). After SHORT_SAMPLE runs, if they made fewer than SHORT_TRIPS trips
#: each on average, the tier below (baseline or interpreter) keeps the next `backoff`
#: entries of the loop, starting at SHORT_BACKOFF and doubling at each short verdict;
#: then the trace is entered again and measured afresh, so a loop whose trip count grows
#: is traced again. SHORT_VERDICTS short verdicts in a row blacklist the anchor: its hot
#: point is removed, so the tier below runs the loop without a trip through Python at
#: each header. Why 16: one entry costs several microseconds (state copied in and out,
#: the ctypes call, the exit rebuilt), a trip of a small body tens of nanoseconds
#: natively and a fraction of a microsecond in the tiers below, so a run of a few trips
#: costs more than it saves. Runs ending at side exits are judged by HOT_EXIT and
#: max_side_exits instead (a linked side trace's entries count toward the same run).
SHORT_SAMPLE: Final = 32
SHORT_TRIPS: Final = 16
SHORT_BACKOFF: Final = 1024
SHORT_VERDICTS: Final = 3

_COUNTERS: Final = ("recordings", "aborts", "traces", "side_traces", "entries",
                    "side_exits", "loop_exits", "deopt_exits", "guard_mismatches",
                    "blacklisted", "imported", "side_units", "link_entries", "merges",
                    "short_backoffs")


@dataclass(eq=False, slots=True)
class Anchor:
    """One hot point of one chunk (by digest) and its trace tree."""

    digest: str
    start: int
    source: str
    loop: frozenset[int]
    #: A block shares the loop's ops and ends inside them (`loops.crossed_end`): the
    #: block's frame runs the header too, and a trace would go on past the block's end,
    #: where the dispatch loop ends the block. Such a loop is not traced (as no region
    #: code is made for it, `jit.region.cut`).
    crosses: bool = False
    life: Lifecycle = field(default_factory=Lifecycle)
    root: Trace | None = None
    tree: Tree | None = None
    side_exits: int = 0
    mismatches: int = 0
    merge_due: bool = False  # a linked side trace is hot: stitch the links in
    merge_failed: bool = False  # ... which did not compile: links stay
    run_trips: int = 0  # native trips round the loop since it was last left
    sampled: int = 0  # loop exits since the last short-loop verdict
    trips: int = 0  # ... and the native trips round the loop before them
    skip: int = 0  # entries left to the tier below (the short-loop back-off)
    backoff: int = 0  # the last back-off (0: none yet)
    shorts: int = 0  # short verdicts in a row


_lock = _thread.RLock()
_anchors: dict[tuple[str, int], Anchor] = {}
_pending: dict[tuple[str, int], list[TraceMetadata]] = {}


class _Counts(dict[str, int]):
    """Counters by name, a missing one reading 0 (what `collections.Counter` gives these
    uses, without its import)."""

    def __missing__(self, key: str) -> int:
        return 0


COUNTS: dict[str, int] = _Counts()
ABORTS: dict[str, int] = _Counts()


def stats() -> dict[str, float]:
    """The trace tier's counters (jit.stats()["trace"] adds the unit counters)."""
    out: dict[str, float] = {name: COUNTS[name] for name in _COUNTERS}
    out["abort_reasons"] = len(ABORTS)
    # Native self-recursive functions (calls.py) and root code run whole (main.py).
    out["native_functions"] = native_calls.COUNTS["compiled"]
    out["native_calls"] = native_calls.COUNTS["calls"]
    out["native_whole_runs"] = native_main.COUNTS["runs"]
    return out


def abort_reasons() -> dict[str, int]:
    return dict(ABORTS)


def reset() -> None:
    """Forget every anchor, pending import, counter, hot point and native function (tests,
    benchmarks)."""
    runtime.forget_hot_points()
    forget_native_functions()
    forget_native_mains()
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
            body = natural_loop(facts, h, predecessors(chunk, facts)) \
                if h in facts.back_edges else frozenset()
            a = _anchors[key] = Anchor(digest, h, chunk.source or "<chunk>", body,
                                       crossed_end(facts, body) is not None)
            metas = _pending.pop(key, None)
            if metas:
                _install_imported(chunk, a, metas)
        return a


def _where(a: Anchor, t: Trace | None = None) -> str:
    if t is None or t.chain == 0:
        return f"{a.source}: trace at op {a.start}"
    return f"{a.source}: side trace at op {t.rec.start} (loop at op {a.start})"


# -- building -----------------------------------------------------------------------------

def build_tree(chunk: Chunk, root: Trace, cfg: TraceJitConfig,
               header: int | None = None) -> Tree:
    """(Re)build every trace's IR with one shared slot layout and lower the tree;
    raises Aborted (also for a bug here: the loop then stays with the interpreter).

    With `header`, `root` is a side trace compiled alone, to be linked to its parent's
    exit: its own unit, without its side traces, leaving by its last exit where it gets
    back to the loop header at op `header`."""
    try:
        return _build_tree(chunk, root, cfg, header)
    except Aborted:
        raise
    except Exception as x:  # a trace tier bug must not end the run
        raise Aborted(Abort.COMPILE, f"internal error: {type(x).__name__}: {x}") from x


def _build_tree(chunk: Chunk, root: Trace, cfg: TraceJitConfig, header: int | None) -> Tree:
    # (a side trace compiled alone, `header` set, has just been recorded: no children)
    assert header is None or not root.children
    traces = root.walk()
    shared: list[int] = []
    shared_reads: list[tuple[Any, ...]] = []
    for t in traces:
        globals_of(chunk, t.rec.ips, shared)
        reads_of(chunk, t.rec.ips, shared_reads)
    layout = tuple(shared)
    reads = tuple(shared_reads)
    parts: dict[int, Part] = {}
    exits_of: dict[int, list[Snapshot]] = {}
    parent_of: dict[int, tuple[Trace, int]] = {}
    for t in traces:
        for k, c in t.children.items():
            parent_of[id(c)] = (t, k)
    for t in traces:
        entry = None
        if id(t) in parent_of:
            p, k = parent_of[id(t)]
            entry = exits_of[id(p)][k]
        t.ir = build(chunk, t.rec, cfg.max_inline_recursion, entry, layout, reads)
        exits_of[id(t)] = local_exits(t.ir, header)
        n = len(exits_of[id(t)])
        if len(t.exit_counts) != n:  # a linked trace has one exit more (the last)
            t.exit_counts = (t.exit_counts + [0] * n)[:n]
        parts[id(t)] = Part(t.ir)
    by_part: dict[int, Trace] = {}
    for t in traces:
        part = parts[id(t)]
        by_part[id(part)] = t
        for k, c in t.children.items():
            part.children[k] = parts[id(c)]
    depth = max(t.ir.inline_depth for t in traces if t.ir is not None)
    nslots = chunk.slot_count
    low = lower(parts[id(root)], chunk,
                nslots + len(layout) + len(reads) + depth * nslots, header)
    try:
        an = runtime.analysis(low.chunk)
    except VMError as e:
        raise Aborted(Abort.COMPILE, f"the lowered trace does not verify: {e}") from None
    refusal = static_refusal(an, "block")
    if refusal is not None:
        raise Aborted(Abort.NOT_LOWERABLE, refusal)
    owners = tuple((by_part[id(p)], k) for p, k in low.owners)
    read_ips = tuple(next(ip for t in traces for ip in t.rec.ips if chunk.ops[ip] == r)
                     for r in reads)
    return Tree(low, an, owners, layout, nslots, low.chunk.slot_count, depth, read_ips)


def _compile_now(vm: VM, tree: Tree) -> str | None:
    """Compile `tree` for the VM's current state; None, or why it does not compile."""
    try:
        work = work_of(vm, tree)
    except VMError as err:
        return f"an entry read raised: {err}"
    unit = runtime.unit_for(lowering, tree.an, work, vm.strict_int, 0)
    if unit is None:
        e = tree.an.entries.get((lowering.NAME, vm.strict_int, tree.an.kinds_of(work)))
        return (e.failure if e is not None else None) or "the unit did not compile"
    tree.kinds = unit.info.kinds
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

def _enter(vm: VM, a: Anchor, tree: Tree,
           fuel: int) -> tuple[tuple[Trace, int] | None, Snapshot] | None:
    """Run the tree from the VM's state; (the trace and local exit it left by, or None
    for a deopt; the snapshot resumed at), with the interpreter's state rebuilt there, or
    None when it did not run (no unit for these kinds)."""
    if _reference:
        from fusevm.jit.trace.executor import execute
        if len(vm.frames) + tree.depth > vm.max_depth + 1:
            return None
        assert a.root is not None
        try:
            result = execute(vm, a.root, tree, fuel)
        except VMError:
            return None  # an entry read raised (the ops themselves deopt instead)
        tree.runs += 1
        COUNTS["entries"] += 1
        return result
    if len(vm.frames) + tree.depth > vm.max_depth + 1:
        return None  # an inlined call would pass the frame limit: the interpreter raises
    try:
        work = work_of(vm, tree)
    except VMError:
        return None  # an entry read raised: the interpreter reaches it and raises there
    out = runtime.enter(lowering, tree.an, work, vm.strict_int, 0, fuel)
    if out is None:
        return None
    tree.runs += 1
    COUNTS["entries"] += 1
    ip, values = out
    low = tree.low
    if low.trips is not None:
        a.run_trips += work[low.trips]
    if ip < 0:
        exit_id = values.pop()
        snap = low.exits[exit_id]
        values = [work[s] for s in low.spills[exit_id]]
        materialize(vm, tree, work, snap, values)
        return tree.owners[exit_id], snap
    snap = low.snaps[ip]
    COUNTS["deopt_exits"] += 1
    materialize(vm, tree, work, snap, values)
    return None, snap


#: Run trees in the IR executor instead of native code (tests without llvmlite).
_reference = False


def use_reference_executor(on: bool) -> bool:
    """Run every trace tree through `executor.execute` (True) or natively; returns the
    previous setting."""
    global _reference
    old, _reference = _reference, on
    return old


def trace_step(vm: VM, h: int, original: Step, fuel: int,
               below: Callable[[], Step | None] | None = None) -> Step | None:
    """The step for hot point `h`: counts, records, runs traces (see the module doc).

    `below` makes the step of a tier below (the baseline's), which runs `h` instead of
    `original` whenever native code does not, made the first time that happens: for a
    loop, once the trace tier has decided (its trace runs short trips or exits, or it has
    given up), not while it counts to its threshold and records (the interpreter runs
    those few trips: a loop whose trace comes from the disk cache and runs to the end
    never loads the baseline's compiler); for a function entry, on the first refused
    call (binding the baseline's region to a VM costs more than a native fib(20) runs).
    """
    chunk = vm.chunk
    facts = loop_facts(chunk)
    if h not in facts.back_edges:
        # Traces start at loop headers; a function entry may still compile whole with
        # native self-calls (deep recursion), block starts stay interpreted.
        if any(ip == h for _, ip in chunk.sub_entries):
            return call_step(vm, h, original if below is None else _lazy(below, original),
                             fuel)
        return None
    plain = original
    if below is not None:
        original = _lazy(below, original)
    try:
        digest = runtime.analysis(chunk).digest
    except VMError:
        return None
    a = _anchor(chunk, digest, h)
    if a.life.phase is Phase.BLACKLISTED or a.crosses:
        return None
    cfg = get_config()
    threshold = cfg.trace_threshold
    life = a.life

    code = vm._code

    def step() -> int:
        if vm._budget is not None:
            return original()  # a budget counts every instruction: only the interpreter
        phase = life.phase
        if phase is Phase.COMPILED:
            if a.skip:
                a.skip -= 1
                return original()
            return _run_chain(vm, a, original, fuel, cfg)
        if phase is Phase.BLACKLISTED:
            # Given up for good: put the tier below's step (or the op's own) in its place,
            # so the loop pays nothing.
            chosen = plain if below is None else (below() or plain)
            if vm._code is code and code is not None and code[h] is step \
                    and not vm._interrupt_pending:
                code[h] = vm._installed[h] = chosen
            return chosen()
        if phase is Phase.RECORDING or not life.hot(threshold):
            return plain()
        return _record_root(vm, a, cfg)
    return step


def _sample(a: Anchor) -> None:
    """At a loop exit, count the native trips since the previous one; after SHORT_SAMPLE
    loop exits, back off when they were short (see SHORT_TRIPS)."""
    a.sampled += 1
    a.trips += a.run_trips
    a.run_trips = 0
    if a.sampled < SHORT_SAMPLE:
        return
    if a.trips >= SHORT_TRIPS * a.sampled:
        a.shorts = a.backoff = 0
    else:
        a.shorts += 1
        COUNTS["short_backoffs"] += 1
        why = f"{a.trips} trips in {a.sampled} runs, under {SHORT_TRIPS} per run"
        if a.shorts >= SHORT_VERDICTS:
            _blacklist(a, f"{why}, {a.shorts} times in a row")
        else:
            a.backoff = max(a.backoff * 2, SHORT_BACKOFF)
            a.skip = a.backoff
            runtime.log(f"{_where(a)}: backed off for {a.backoff} entries ({why})")
    a.sampled = a.trips = 0


def _lazy(make: Callable[[], Step | None], original: Step) -> Step:
    """A step that runs what `make` returns (else `original`), made on its first call."""
    chosen: Step | None = None

    def step() -> int:
        nonlocal chosen
        if chosen is None:
            chosen = make() or original
        return chosen()
    return step


def _record_root(vm: VM, a: Anchor, cfg: TraceJitConfig) -> int:
    a.life.move(Phase.RECORDING)
    COUNTS["recordings"] += 1
    runtime.log(f"{_where(a)}: recording started")
    nxt, rec = record(vm, steps_for(vm), a.start, a.start, cfg.max_trace_len,
                      cfg.max_inline_recursion, loop=a.loop)
    if isinstance(rec, Aborted):
        _abort(a, rec, cfg.trace_threshold)
        return nxt
    root = Trace(rec, 0)
    try:
        tree = build_tree(vm.chunk, root, cfg)
    except Aborted as why:
        _abort(a, why, cfg.trace_threshold)
        return nxt
    failure = None if _reference else _compile_now(vm, tree)
    if failure is not None:
        _abort(a, Aborted(Abort.COMPILE, failure), cfg.trace_threshold)
        return nxt
    a.root, a.tree = root, tree
    a.life.move(Phase.COMPILED)
    COUNTS["traces"] += 1
    assert root.ir is not None
    runtime.log(f"{_where(a)}: compiled ({len(root.ir.nodes)} nodes, "
                f"{len(root.exit_counts)} exits, {len(tree.globals)} globals, inline depth "
                f"{root.ir.inline_depth})")
    return nxt


def _run_chain(vm: VM, a: Anchor, original: Step, fuel: int, cfg: TraceJitConfig) -> int:
    tree = a.tree
    assert tree is not None
    res = _enter(vm, a, tree, fuel)
    if res is None:
        a.mismatches += 1
        COUNTS["guard_mismatches"] += 1
        if a.mismatches >= MAX_MISMATCHES:
            _blacklist(a, f"{MAX_MISMATCHES} entries in a row with kinds no unit takes")
        return original()
    a.mismatches = 0
    while True:
        owner, snap = res
        if owner is None:
            return snap.ip  # a deopt inside the unit, or fuel ran out: resume there
        t, k = owner
        if not snap.frames and snap.ip == a.start and t.link is not None:
            # A linked side trace back at the loop header: the interpreter's next step
            # enters the tree there (stitched natively first, once a link is hot).
            if a.merge_due and not a.merge_failed:
                _merge(vm, a, cfg)
            return snap.ip
        if not snap.frames and snap.ip not in a.loop:
            COUNTS["loop_exits"] += 1
            _sample(a)
            return snap.ip
        child = t.children.get(k)
        if child is not None and child.link is not None:
            # A side trace in its own unit: entered from the state just materialised.
            linked = _enter(vm, a, child.link, fuel)
            if linked is not None:
                COUNTS["link_entries"] += 1
                child.link_runs += 1
                if child.link_runs >= MERGE_AFTER:
                    a.merge_due = True
                tree, res = child.link, linked
                continue
        COUNTS["side_exits"] += 1
        t.exit_counts[k] += 1
        count = t.exit_counts[k]
        if count == 1:
            runtime.log(f"{_where(a, t)}: exit {k} to op {snap.ip} taken")
        if count >= HOT_EXIT and k not in t.refused:
            if t.chain + 1 <= cfg.max_trace_chain:
                return _record_side(vm, a, tree, t, k, snap, cfg)
            t.refused.add(k)
        a.side_exits += 1
        if a.side_exits >= cfg.max_side_exits:
            _blacklist(a, f"{a.side_exits} side exits no side trace absorbed")
        return snap.ip


def _record_side(vm: VM, a: Anchor, tree: Tree, t: Trace, k: int, snap: Snapshot,
                 cfg: TraceJitConfig) -> int:
    """Record a side trace from exit `k` of trace `t` (of `tree`, the unit that left by
    it). One at the loop's own frame with no stack values is compiled alone and linked
    to the exit; any other is stitched in by rebuilding the tree."""
    assert a.root is not None
    COUNTS["recordings"] += 1
    runtime.log(f"{_where(a, t)}: recording a side trace from exit {k} (op {snap.ip})")
    t.refused.add(k)  # one attempt per exit, whatever happens
    # The side trace starts with the exit's stack values (those above the loop's start).
    depth = len(tree.low.spills[tree.owners.index((t, k))])
    nxt, rec = record(vm, steps_for(vm), snap.ip, a.start, cfg.max_trace_len,
                      cfg.max_inline_recursion, len(snap.frames), depth, a.loop)
    why: Aborted | None = rec if isinstance(rec, Aborted) else None
    if isinstance(rec, Recording):
        child = Trace(rec, t.chain + 1, t.path + (k,))
        if not snap.frames and not depth and not _reference:
            try:
                child.link = build_tree(vm.chunk, child, cfg, a.start)
            except Aborted as e:
                why = e
            else:
                t.children[k] = child
                COUNTS["side_traces"] += 1
                COUNTS["side_units"] += 1
                assert child.ir is not None
                runtime.log(f"{_where(a, child)}: compiled alone, linked to exit {k} "
                            f"({len(child.ir.nodes)} nodes, chain {child.chain})")
        else:
            why = _stitch(vm, a, t, k, child, nxt, cfg)
    if why is not None:
        COUNTS["aborts"] += 1
        ABORTS[why.reason.name] += 1
        runtime.log(f"{_where(a, t)}: side trace from exit {k} aborted ({why})")
    return nxt


def _stitch(vm: VM, a: Anchor, t: Trace, k: int, child: Trace, nxt: int,
            cfg: TraceJitConfig) -> Aborted | None:
    """Rebuild the tree with `child` stitched to exit `k` of `t` (and every linked side
    trace with it); why not, or None."""
    assert a.root is not None
    t.children[k] = child
    why = _rebuild(vm, a, cfg, nxt == a.start)
    if why is not None:
        del t.children[k]
        try:
            build_tree(vm.chunk, a.root, cfg)  # the previous traces' IR again
        except Aborted:
            pass  # IR text for jit-dump only: the units in use are built
        return why
    COUNTS["side_traces"] += 1
    assert child.ir is not None
    runtime.log(f"{_where(a, child)}: compiled, stitched to exit {k} "
                f"({len(child.ir.nodes)} nodes, chain {child.chain})")
    return None


def _merge(vm: VM, a: Anchor, cfg: TraceJitConfig) -> None:
    """Rebuild the tree with its linked side traces stitched in (the VM is at the loop
    header: the state a tree is compiled for); on failure the links stay."""
    assert a.root is not None
    why = _rebuild(vm, a, cfg, True)
    if why is not None:
        a.merge_failed = True
        runtime.log(f"{_where(a)}: linked side traces stay linked ({why})")
        return
    runtime.log(f"{_where(a)}: linked side traces stitched in ({len(a.root.walk())} "
                f"traces, one unit)")


def _rebuild(vm: VM, a: Anchor, cfg: TraceJitConfig, compile_now: bool) -> Aborted | None:
    """Rebuild the anchor's tree with every trace stitched in, compiled at once for the
    VM's state when `compile_now` (the VM is at the loop header); on success it is the
    anchor's tree from now on, its links gone; else why not (the old tree stays)."""
    assert a.root is not None
    try:
        new = build_tree(vm.chunk, a.root, cfg)
        failure = _compile_now(vm, new) if compile_now and not _reference else None
        if failure is not None:
            raise Aborted(Abort.COMPILE, failure)
    except Aborted as e:
        return e
    traces = a.root.walk()
    if any(t.link is not None for t in traces):
        COUNTS["merges"] += 1
    for t in traces:
        t.link = None
    a.tree = new
    a.merge_due = False
    return None


# -- metadata -----------------------------------------------------------------------------

def export_all() -> list[TraceMetadata]:
    """Metadata of every compiled trace (roots first, then their side traces)."""
    out: list[TraceMetadata] = []
    with _lock:
        anchors = list(_anchors.values())
    for a in anchors:
        if a.root is None or a.tree is None or a.life.phase is not Phase.COMPILED:
            continue
        for t in a.root.walk():
            rec = t.rec
            out.append(TraceMetadata(a.digest, a.source, rec.start, rec.close, rec.ips,
                                     rec.depths, a.start, t.path,
                                     a.tree.kinds if t is a.root else (),
                                     {"exits": sum(t.exit_counts)}))
    return out


def import_all(metas: list[TraceMetadata]) -> int:
    """Install traces from metadata; each tree is built and compiled when its chunk next
    reaches the anchor (no recording). Returns how many were accepted."""
    n = 0
    with _lock:
        for m in metas:
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
    root: Trace | None = None
    try:
        for m in sorted(metas, key=lambda m: len(m.path)):
            if not all(0 <= ip < len(chunk.ops) for ip in m.ips):
                raise Aborted(Abort.BAD_METADATA, "an ip outside the chunk")
            if not m.path:
                root = Trace(m.recording, 0)
                kinds = m.kinds
                continue
            if root is None:
                raise Aborted(Abort.BAD_METADATA, "a side trace without its root")
            parent = root
            for step in m.path[:-1]:
                if step not in parent.children:
                    raise Aborted(Abort.BAD_METADATA, "a side trace without its parent")
                parent = parent.children[step]
            parent.children[m.path[-1]] = Trace(m.recording, len(m.path), m.path)
        if root is None:
            raise Aborted(Abort.BAD_METADATA, "no root trace")
        tree = build_tree(chunk, root, cfg)
    except Aborted as why:
        ABORTS[why.reason.name] += 1
        runtime.log(f"{_where(a)}: imported traces refused ({why})")
        return
    _precompile(tree, kinds)
    a.root, a.tree = root, tree
    a.life.move(Phase.COMPILED)
    COUNTS["imported"] += len(metas)
    runtime.log(f"{_where(a)}: {len(metas)} imported traces compiled without recording")


_SAMPLE: Final = {KIND_OF[int]: 0, KIND_OF[float]: 0.0, KIND_OF[bool]: False}


def _precompile(tree: Tree, kinds: tuple[int, ...]) -> None:
    """Compile an imported tree for the kinds it was exported with (before any entry)."""
    if len(kinds) != len(tree.an.live_in) or any(k not in _SAMPLE for k in kinds):
        return  # compiled on first entry instead
    slots: list[Any] = [Undef] * tree.size
    for s, k in zip(tree.an.live_in, kinds):
        slots[s] = _SAMPLE[k]
    unit = runtime.unit_for(lowering, tree.an, slots, False, 0)
    if unit is not None:
        tree.kinds = unit.info.kinds


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
        if a.tree is not None:
            head += f", tree runs {a.tree.runs}"
        head += f", side exits {a.side_exits}"
        if a.backoff:
            head += f", short-loop back-off {a.backoff} entries ({a.skip} left)"
        lines.append(head)
        for t in a.root.walk() if a.root is not None else ():
            if t.ir is None:
                continue
            lines.append(format_ir(t.ir, chunk, t.path))
            lines.append(f"; exits taken {t.exit_counts}, side traces at exits "
                         f"{sorted(t.children)}")
            if t.link is not None:
                lines.append(f"; compiled alone, linked to its parent's exit: entered "
                             f"{t.link_runs} times")
    lines.extend(describe_functions(chunk))
    lines.extend(describe_main(chunk))
    return "\n".join(lines)
