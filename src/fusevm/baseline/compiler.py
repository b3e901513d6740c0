"""When a region is worth compiling, compiling it (once per chunk), binding it to a VM.

The decision (`worth_after`) weighs what compiling costs against what is left to run: the
iterations left of a counted loop (`tripcount`), else what has run so far. Compiled code
is cached per chunk object and region; each VM binds it to its own stack, globals and
interpreter steps (`make(vm, plain, code)`), and installs the region's entry points in its
code array; `fault` locates an error it raises. Stats go to `stats()` (`"baseline"` in
`JitCompiler.stats()`).
"""

from __future__ import annotations

import sys
import time
from _weakref import ref

from fusevm.baseline import calls, direct, thin
from fusevm.baseline.codegen import Guard, generate, generate_generic, places
from fusevm.baseline.looks import COMPILED
from fusevm.baseline.regions import ChunkPlan, Region, inline, plan
from fusevm.baseline.session import Memo
from fusevm.baseline.twins import Twins
from fusevm.baseline.types import KNOWN, Env
from fusevm.chunk import Chunk
from fusevm.entry import NoCycleCollection
from fusevm.errors import StackUnderflow, VMError
from fusevm.interp.bodies import ENV
from fusevm.interp.names import op_name
from fusevm.interp.vm import frame_cap
from fusevm.loops import LoopFacts, loop_facts
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from functools import partial
    from types import CodeType
    from typing import Any, Final

    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM
else:
    from _functools import partial  # (built in: `functools` costs start-up time)



@dataclass(slots=True)
class Counters:
    """The baseline tier's counters: regions compiled, compile time, regions bound to a VM
    (`runs`), regions whose generic code was compiled (`generic`: a guard of their
    specialised code failed) and `deopts`, always 0 (baseline code never gives up on a
    region)."""

    compiles: int = 0
    compile_seconds: float = 0.0
    runs: int = 0
    generic: int = 0
    deopts: int = 0

    def as_dict(self) -> dict[str, float]:
        return {"compiles": self.compiles, "compile_ms": round(self.compile_seconds * 1e3, 3),
                "runs": self.runs, "generic": self.generic, "deopts": self.deopts}


COUNTERS = Counters()

#: Compiled `make` functions per chunk (an equal chunk object shares them), by region
#: index. (Deciding about a chunk no chunk of its size compiled hashes nothing: its
#: digest costs more than a small decision.)
_made: Twins[dict[int, Any]] = Twins("baseline.made")


def stats() -> dict[str, float]:
    """Counters of the baseline tier: regions compiled, compile time, regions bound."""
    return {**COUNTERS.as_dict(), **calls.STATS.as_dict()}


def compile_region(chunk: Chunk, index: int, seen: tuple[int, Env] | None = None) -> Any:
    """The `make` function of region `index` of `chunk` (compiled on first use), its code
    specialised for the types `seen` at an entry when it was first needed (`codegen`)."""
    table = _made.get(chunk)
    if table is None:
        table = _made.add(chunk, {})
    make = table.get(index)
    if make is None:
        make = table[index] = _compile(chunk, index, seen, None)
        COUNTERS.compiles += 1
    # (also for a chunk object whose equal twin compiled the region: `compiled_at`)
    chunk.derived[COMPILED] = True
    return make


def _compile(chunk: Chunk, index: int, seen: tuple[int, Env] | None,
             generic: dict[int, Guard] | None) -> Any:
    """The `make` function of region `index`: its specialised code (`seen`, from the disk
    cache when it is there), or with `generic` (the specialised code's guards) its
    generic code; the time it takes is counted."""
    started = time.perf_counter()
    cp = plan(chunk)
    region = cp.regions[index]
    ret = None if generic is not None or seen is None else \
        thin.applies(chunk, cp, region, seen[0])
    if ret is not None:  # a function entry its direct form runs whole (`thin`)
        bind = thin.make(chunk, cp, region, ret)
        COUNTERS.compile_seconds += time.perf_counter() - started
        direct.compiled(chunk)  # (as for region code calling them, timed apart)
        return bind
    # (The disk cache serves only a process that loaded its machinery: `diskcache`.)
    cache = None if generic is not None or _CACHE not in sys.modules else _diskcache()
    found = None if cache is None else cache.load(chunk, cp, index, seen)
    memo = None
    if found is not None:
        code, line_ip, written, consts, guards = found
    else:
        memo = Memo()
        with NoCycleCollection():
            if generic is None:
                gen = generate(chunk, cp, region, seen, memo)
                name = f"<baseline {chunk.source} @{region.entry}>"
            else:
                gen = generate_generic(chunk, cp, region, generic)
                name = f"<generic {chunk.source} @{region.entry}>"
            code = compile(gen.source, name, "exec")
        line_ip, written, consts, guards = gen.line_ip, gen.written, gen.constants, gen.guards
        if cache is not None:
            cache.store(chunk, cp, index, seen, code, line_ip, written, consts, guards)
    namespace: dict[str, Any] = dict(ENV)
    namespace.update(consts)
    if guards is not None:
        namespace["GENERIC"] = _generic(ref(chunk), index, guards)
    make = _load(code, namespace, line_ip, written, cp.analysis.depth)
    COUNTERS.compile_seconds += time.perf_counter() - started
    if memo is not None and gen.calls:
        # Its `make` binds the direct forms at once: they are compiled now, with the
        # statements of the ops the region's code made (the same function's, mostly).
        direct.compiled(chunk, memo, gen.generic_calls)
    return make


#: The module whose presence turns the disk cache on (`diskcache._store_module`).
_CACHE: Final = "fusevm.jit.cache"


def _diskcache() -> Any:
    """`diskcache`, loaded with the first region compiled by a process that has the disk
    cache's machinery: one that has not would find nothing there."""
    from fusevm.baseline import diskcache
    return diskcache


#: What region code making direct calls (`calls`) refers to: fixed names, so a region's
#: cached code (`diskcache`) needs no constants of its own for them.
_CALL_NAMES: Final = {"forms": direct.bind, "Unwind": calls.Unwind, "resume": calls.resume,
                      "frame_cap": frame_cap, "STATS": calls.STATS, "room": calls.room,
                      "partial": partial}


def _load(code: CodeType, namespace: dict[str, Any], line_ip: dict[int, tuple[int, int, bool]],
          written: tuple[int, ...], depth: list[int | None]) -> Any:
    """Execute a region's code in `namespace` (the names it binds); its `make`."""
    namespace["fault"] = fault
    namespace.update(_CALL_NAMES)
    namespace["LINE_IP"] = line_ip
    namespace["DEPTH"] = depth
    namespace["WRITTEN"] = written
    exec(code, namespace)  # noqa: S102 - our own code
    return namespace["make"]


def _generic(chunk_ref: ref[Chunk], index: int,
             guards: dict[int, Guard]) -> Callable[..., Any]:
    """`make(vm, plain, code, steps)` of a region's generic code, generated and compiled on
    its first call (a guard of the specialised code failed) and kept for every later VM.
    (The chunk is held weakly: this lives in the per-chunk table of compiled regions.)"""
    made: list[Any] = []

    def make(vm: VM, plain: list[Step], code: list[Step], steps: dict[int, Step]) -> Any:
        if not made:
            chunk = chunk_ref()
            assert chunk is not None  # a VM running its code holds it
            made.append(_compile(chunk, index, None, guards))
            COUNTERS.generic += 1
        return made[0](vm, plain, code, steps)
    return make


#: What compiling costs, in interpreted ops (CPU time, a busy machine: an interpreted op
#: takes 80-100 ns and compiled code saves about 85% of it): about this many per op of the
#: region (generating its source, Python's compile) and LOOP_COST times as many again per
#: op in a loop (the interval analysis goes round the region's loops a few times).
#: Measured: about 60 us an op of straight code and of direct forms, 400 us an op of a
#: loop (counter, nested, branchy and collatz loops all fit within 10%).
COMPILE_COST: Final = 800
LOOP_COST: Final = 8
#: A counted loop (`tripcount`) compiles when what is left of it saves this many times
#: what compiling costs: the estimate is rough, and a run must not end up slower.
MARGIN: Final = 1.5


def compiled_at(chunk: Chunk, h: int) -> bool:
    """Whether the region entered at hot point `h` is compiled for this chunk object."""
    if COMPILED not in chunk.derived:
        return False
    table = _made.get(chunk)
    if not table:
        return False
    return _region_index(plan(chunk), h) in table


def _region_index(cp: ChunkPlan, h: int) -> int | None:
    """The region entered at hot point `h`: the one starting there, else the first one
    holding it; None when no region does."""
    # A loop, not next() over a generator: every hot point of every new VM asks this.
    for i, r in enumerate(cp.regions):
        if r.entry == h:
            return i
    return cp.region_of.get(h)


def worth_after(chunk: Chunk, index: int, h: int, entered: int,
                slots: list[Any] | None = None, final: bool = True) -> int | None:
    """How many more entries of hot point `h` before compiling region `index` pays for
    itself (0: now; None: never, compiled code would not run an entry of `h` faster).
    At a loop header whose loops are counted (`tripcount`; `slots` is the frame there),
    what is left of them is known: compile now if it saves more than compiling costs;
    else never when this is the only run of that code (`final`: the root's, run once),
    or, when it may run again (a function, a block, a VM run again), wait as below.
    Otherwise wait until the interpreter has done about as much work there as compiling
    costs. Compiled once, a region is bound to every VM at once."""
    table = _made.get(chunk)
    if table is not None and index in table:
        return 0
    cp = plan(chunk)
    region = cp.regions[index]
    facts = loop_facts(chunk)
    cost = compile_cost(chunk, cp, region, h)
    if slots is not None and h in facts.back_edges:
        left = counted_saving(chunk, cp, region, facts, h, slots, entered)
        if left is not None and (final or left > MARGIN * cost):
            return 0 if left > MARGIN * cost else None
    bodies, steps = least_work(chunk, cp, region, facts, h)
    saved = bodies - STEP_COST * steps - (0 if h in facts.back_edges else ENTRY_COST)
    if h == region.entry and h in calls.eligible(chunk, cp):
        saved += CALL_COST  # its calls from compiled code skip the frame protocol
    if saved <= 0:
        return None
    after = cost // saved if h in facts.back_edges else ENTRY_RISK * cost // saved
    if after > CALLS_WORTH_COUNTING and h not in facts.back_edges:
        # Counting a call costs about what compiling would save on it: stop counting.
        return None
    return max(after - entered, 0)


#: What compiled code loses, in interpreted ops, at each op it runs as the interpreter's
#: own step (its stack and slot locals written back, read again, the next op checked)
#: and at each entry from the interpreter (the step, its guard, the function's set-up).
#: Measured: call-bound code (fib, ackermann) runs about as fast compiled as interpreted.
STEP_COST: Final = 3
ENTRY_COST: Final = 2
#: What the interpreter's frame protocol costs a call, in interpreted ops (the Call step's
#: frame, the return's unwind): measured, fib(20) interpreted spends about 1.2 us a call
#: of which its ~11 ops take ~0.7 us. A direct form's calls (`calls`) do without it.
CALL_COST: Final = 8
#: How much longer a function entry waits than a loop header for the same saving: what a
#: call saves is the least sure (call-bound code may leave its direct forms, recursion
#: deeper than they nest, and then save little; within them it saves much: the calls of
#: `ackermann_3_4` and `fib_recursive_20` left after their compile run 10-20x faster).
ENTRY_RISK: Final = 2
#: Entries of a function entry (or block start) beyond which the tier stops counting
#: them: each count is one more Python call per call of the function, and a function
#: that needs this many calls to pay for its compile saves little on each.
CALLS_WORTH_COUNTING: Final = 8 * COMPILE_COST


def compile_cost(chunk: Chunk, cp: ChunkPlan, region: Region, h: int | None = None) -> int:
    """What compiling `region` costs in interpreted ops (`COMPILE_COST`, `LOOP_COST`), its
    direct forms included (`_direct_ops`); for hot point `h` its direct forms alone, when
    they run it whole (`thin`)."""
    facts = loop_facts(chunk)
    looped: set[int] = set()
    for g in region.hot:
        if g in facts.back_edges:
            from fusevm.baseline import tripcount  # (loaded with the first loop)
            looped |= tripcount.loop_body(chunk, facts, g)
    looped &= set(region.ops)
    own = 0 if h is not None and thin.applies(chunk, cp, region, h) is not None \
        else len(region.ops)
    return COMPILE_COST * (own + LOOP_COST * len(looped) + _direct_ops(chunk, cp, region))


def short_loop(chunk: Chunk, h: int, slots: list[Any], entered: int = 1) -> tuple[int, ...]:
    """The loop at header `h` and the loops around it (innermost first) when each is
    counted (`tripcount`), none holds a loop but the next inner one of them, and they end
    too soon for compiling to pay, whatever their region; else (). Cheap (no region is
    planned): short runs ask it at a loop's first look (`entered`: the entries of `h` so
    far).

    Each op of them costs at least (1 + LOOP_COST) * COMPILE_COST to compile and saves at
    most one interpreted op each time it runs; none runs more often than an op of the
    innermost loop, which runs `_iterations_left` more times (each run of an inner loop
    as long as its current one, as `counted_saving` takes it). Fewer than MARGIN times
    that never pay (`worth_after` would say so too).
    """
    facts = loop_facts(chunk)
    if len(facts.back_edges) == 1:  # the chunk's only loop: no nest to find
        left = _left(chunk, facts, h, slots)
        return (h,) if left is not None and left <= SHORT else ()
    nest = _nest(chunk, facts, h)
    if not nest:
        return ()
    left = _iterations_left(chunk, facts, nest, slots, entered)
    if left is None or left > SHORT:
        return ()
    return nest


#: Iterations left of a loop's innermost loop that never pay for compiling it
#: (`short_loop`).
SHORT: Final = MARGIN * (1 + LOOP_COST) * COMPILE_COST


def _left(chunk: Chunk, facts: LoopFacts, g: int, slots: list[Any]) -> int | None:
    """The iterations left of the loop at header `g` by its counter in `slots`, or None
    when it is not counted (`tripcount`) or its counter's value tells nothing."""
    from fusevm.baseline import tripcount
    counted = tripcount.counted(chunk, facts, g)
    if counted is None or counted.slot >= len(slots):
        return None
    left: int | None = counted.remaining(slots[counted.slot])
    return left


def _iterations_left(chunk: Chunk, facts: LoopFacts, nest: tuple[int, ...],
                     slots: list[Any], entered: int) -> int | None:
    """How many more times the innermost of the nested loops `nest` runs an iteration
    (each run of it as long as its current one), or None when a counter is unknown."""
    total = run = 0
    for k, g in enumerate(nest):
        left = _left(chunk, facts, g, slots)
        if left is None:
            return None
        if k == 0:
            total, run = left, left + entered
        else:
            total += left * run
            run *= left + 1
    return total


def _root(chunk: Chunk, h: int) -> bool:
    """Whether hot point `h` is in the root's code (which runs once a run), not in a
    function or block (which may run any number of times)."""
    if not chunk.sub_entries and not chunk.block_ranges:
        return True  # all of it is the root's (no region needs planning to know)
    cp = plan(chunk)
    index = cp.region_of.get(h)
    return index is not None and cp.regions[index].root


def _nest(chunk: Chunk, facts: LoopFacts, h: int) -> tuple[int, ...]:
    """The loop at header `h` and those around it, innermost first, when no loop among
    them holds a loop that is not one of them; else ()."""
    from fusevm.baseline import tripcount
    headers = facts.back_edges
    around = [(len(body), g) for g in headers
              if h in (body := tripcount.loop_body(chunk, facts, g))]
    around.sort()
    outermost = tripcount.loop_body(chunk, facts, around[-1][1])
    nest = tuple(g for _, g in around)
    if any(g in outermost and g not in nest for g in headers):
        return ()
    return nest


def counted_saving(chunk: Chunk, cp: ChunkPlan, region: Region, facts: LoopFacts, h: int,
                   slots: list[Any], entered: int) -> int | None:
    """What compiled code saves, in interpreted ops, on the rest of the loop at header `h`
    and the loops around it in `region`, when each is counted (`tripcount`) and its
    counter is in `slots` now; else None. An inner loop's every run is taken to be as long
    as its current one (`entered` entries so far and what is left of it)."""
    from fusevm.baseline import tripcount
    loops = sorted((g for g in region.hot if g in facts.back_edges
                    and h in tripcount.loop_body(chunk, facts, g)),
                   key=lambda g: len(tripcount.loop_body(chunk, facts, g)))
    if not loops or loops[0] != h or any(g != h and g in tripcount.loop_body(chunk, facts, h)
                                         for g in facts.back_edges):
        return None  # (a loop inside: how often its runs repeat is not known here)
    saving = inner = 0
    for k, g in enumerate(loops):
        left = _left(chunk, facts, g, slots)
        if left is None:
            return None
        bodies, steps = least_work(chunk, cp, region, facts, g)
        per = bodies - STEP_COST * steps + inner
        saving += left * per
        inner = (left + (entered if k == 0 else 1)) * per
    return saving


def _direct_ops(chunk: Chunk, cp: ChunkPlan, region: Region) -> int:
    """The ops compiling `region` also compiles as direct forms (`direct.form_ops`,
    once per chunk), when the region calls one and they are not compiled yet."""
    forms = calls.eligible(chunk, cp)
    if not forms or direct.is_compiled(chunk):
        return 0
    decoded = cp.analysis.decoded
    if region.entry not in forms and all(
            calls.direct_callee(chunk, forms, decoded[ip]) is None for ip in region.ops):
        return 0
    return direct.form_ops(chunk, cp, forms)


def least_work(chunk: Chunk, cp: ChunkPlan, region: Region, facts: LoopFacts,
               h: int) -> tuple[int, int]:
    """What an entry of hot point `h` runs at least: on the way from `h` back to it (a
    loop header: one iteration) or out of the region (a function entry or block start:
    one call) with the fewest ops that have a body (`regions.inline`: compiled code runs
    those faster), how many of those and how many of the interpreter's own steps. A
    conservative measure of what compiling saves per entry: a path taken rarely does not
    count. In a function with a direct form (`calls.eligible`), a `Call` of another such
    function and a return count as ops with a body: compiled code runs them as a Python
    call and return, without the interpreter's frame protocol."""
    decoded = cp.analysis.decoded
    forms = calls.eligible(chunk, cp)
    direct = region.entry in forms
    inside = frozenset(region.ops)
    loop = h in facts.back_edges
    done: set[int] = set()
    # Paths in order of (bodies, steps), the op a path reaches last being counted when it
    # is taken: one round per count of bodies, each taking the paths it starts with
    # (sorted) and the paths it makes longer by a step, which come in order. (-1: out.)
    bodies = 0
    level: list[tuple[int, int]] = [(0, h)]
    while level:
        level.sort()
        nxt: list[tuple[int, int]] = []
        made: list[tuple[int, int]] = []
        i = j = 0
        while i < len(level) or j < len(made):
            if j < len(made) and (i == len(level) or made[j] < level[i]):
                steps, ip = made[j]
                j += 1
            else:
                steps, ip = level[i]
                i += 1
            if ip < 0:
                return bodies, steps
            if ip in done:
                continue
            done.add(ip)
            d = decoded[ip]
            if inline(d) or direct and (d.spec in calls.RETURNS
                                        or calls.direct_callee(chunk, forms, d) is not None):
                out, after = nxt, steps
            else:
                out, after = made, steps + 1
            succs = facts.succs[ip]
            if not succs and not loop:
                out.append((after, -1))
            for t in succs:
                if t == h and loop or t not in inside and not loop:
                    out.append((after, -1))
                elif t in inside and t not in done:
                    out.append((after, t))
        level = nxt
        bodies += 1
    return len(region.ops), 0


def region_step(vm: VM, bound: dict[int, tuple[Any, Any, dict[int, Any]]],
                h: int, entered: int | None = None,
                again: bool = False) -> Step | int | tuple[int, ...] | None:
    """Bind the region around hot point `h` to `vm` (once) and return `h`'s step; or,
    with `entered` (the entries of `h` so far) and compiling not yet worth it
    (`worth_after`), how many more entries to wait (None: stop counting them; a tuple of
    loop headers, `h` first: stop counting them all, the root's short loops around `h`
    included, `short_loop`). `again`: this VM stopped counting `h` before and runs its
    code again (after `reset`)."""
    chunk = vm.chunk
    if entered is not None and COMPILED not in chunk.derived:
        # (The hook asks with `entered` only from a hot point's first look on: `looks`.)
        if h in loop_facts(chunk).back_edges and not again:
            nest = short_loop(chunk, h, vm.slots, entered)
            if nest and _root(chunk, h):
                return nest
    cp = plan(chunk)
    index = _region_index(cp, h)
    if index is None:
        return None
    found = bound.get(index)
    if found is None or found[0] is not vm._code:
        if entered is not None:
            final = not again and cp.regions[index].root
            wait = worth_after(chunk, index, h, entered, vm.slots, final)
            if wait is None or wait:
                return wait
        make = compile_region(chunk, index, (h, _seen(vm, cp.analysis.depth[h] or 0,
                                                      places(chunk, cp, cp.regions[index])[0])))
        code = vm.prepare()
        run, steps = make(vm, vm._plain, code)
        COUNTERS.runs += 1
        region = cp.regions[index]
        plain = vm._plain
        for e in region.entries:
            # A hot point still counted asks for its step itself; one no longer counted
            # (a short loop: `short_loop`) gets it now, or the code would leave there.
            # (A thin entry's function has no step elsewhere: `thin`.)
            if e != h and e in steps and (e not in region.hot or code[e] is plain[e]):
                vm.install_step(e, steps[e])
        found = (code, run, steps)
        bound[index] = found
    return found[2].get(h)


def _seen(vm: VM, depth: int, named: frozenset[int]) -> Env:
    """The exact types of the frame's slots and the top `depth` stack values, by the names
    of the locals the generated code keeps them in, and of the globals `named` (`G<k>`)."""
    seen: Env = {f"l{k}": type(v) for k, v in enumerate(vm.slots) if type(v) in KNOWN}
    values = vm.globals
    seen.update((f"G{k}", type(values[k])) for k in sorted(named)
                if k < len(values) and type(values[k]) in KNOWN)
    if depth and len(vm.stack) >= depth:
        seen.update((f"s{k}", type(v)) for k, v in enumerate(vm.stack[-depth:])
                    if type(v) in KNOWN)
    return seen


def fault(vm: VM, exc: BaseException, line_ip: dict[int, tuple[int, int, bool]],
          depth: list[int | None], written: tuple[int, ...]) -> BaseException:
    """Leave the VM as the interpreter's step for the op that raised would have (its stack
    on vm.stack, the frame's slots written back, `vm.ip` after it) and locate the error
    there; the exception to raise."""
    tb = exc.__traceback__
    if tb is None:
        return exc
    found = line_ip.get(tb.tb_lineno)
    if found is None:
        return exc
    ip, keep, flushed = found[:3]
    values = tb.tb_frame.f_locals
    if len(found) > 3:  # (stack locals its op read from the slot locals they copy)
        values = {**values, **{local: values.get(slot) for local, slot in found[3]}}
    if keep:
        vm.stack.extend(values.get(f"s{k}") for k in range(keep))
    if not flushed:
        slots = vm.slots
        for k in written:
            slots[k] = values.get(f"l{k}")
    vm._fault_ip = ip
    chunk = vm.chunk
    where: dict[str, Any] = {"op": op_name(chunk, ip), "ip": ip, "source": chunk.source,
                             "line": chunk.line_of(ip)}
    if isinstance(exc, VMError):
        return exc.locate(**where)
    if isinstance(exc, IndexError):
        return StackUnderflow(f"stack underflow ({exc})", **where)
    return exc
