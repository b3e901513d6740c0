"""Process-wide JIT state: chunk analyses, compiled units, warm-up counters, stats, the log.

Units are keyed by (chunk digest, tier, strict flag, live-in kinds, extension generation):
a content digest, never a field that deserialisation leaves empty, shared by
every thread. Each key counts its runs; the unit compiles on the run after `threshold`
interpreted ones, a refusal is remembered for the key (never retried), and a unit that
keeps deoptimising is dropped to the interpreter. `run()` is what the policy and the
`JitCompiler` entry points call; it never decides between tiers.
"""

from __future__ import annotations

import _thread  # (threading's import costs start-up: its locks are these)
import time
from _weakref import ref as weak_ref  # (the weakref module imports collections)

from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.jit import cache
from fusevm.jit.abi import TrapCode
from fusevm.jit.config import TraceJitConfig, get_config, using
from fusevm.jit.lower.cx import Refuse
from fusevm.jit.lower.rule import generation
from fusevm.jit.unit import Analysis, Unit
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any, Final

#: Consecutive deopts after which a unit is abandoned for its key.
MAX_CONSECUTIVE_DEOPTS: Final = 8

if TYPE_CHECKING:
    LogFn = Callable[[str], None]


@dataclass(slots=True)
class TierStats:
    """Counters of one tier."""

    compiles: int = 0
    compile_seconds: float = 0.0
    runs: int = 0
    cache_hits: int = 0
    deopts: int = 0
    refusals: int = 0
    warmups: int = 0
    reopts: int = 0

    def as_dict(self) -> dict[str, float]:
        return {"compiles": self.compiles, "compile_ms": round(self.compile_seconds * 1e3, 3),
                "runs": self.runs, "cache_hits": self.cache_hits, "deopts": self.deopts,
                "refusals": self.refusals, "warmups": self.warmups, "reopts": self.reopts}


@dataclass(slots=True)
class Entry:
    """One unit key: its warm-up count and its unit, or why it will not compile."""

    stats: TierStats
    count: int = 0
    unit: Unit | None = None
    failure: str | None = None
    deopt_streak: int = 0


_lock = _thread.RLock()
_analyses: dict[int, tuple[weak_ref[Chunk], Analysis | VMError]] = {}
_entries: dict[tuple[Any, ...], Entry] = {}  # oldest first (insertion order)
_stats: dict[str, TierStats] = {}
_log: LogFn | None = None
_said: set[tuple[str, str]] = set()
_last: tuple[Chunk | None, Any] = (None, None)  # the last chunk analysed (a fast path)


# -- logging ---------------------------------------------------------------------------

def set_log(fn: LogFn | None) -> None:
    """Install a callable receiving one line per tier decision, refusal, compile and deopt.

    Lines look like `demo.fasm: block unit compiled in 1.21 ms (...)`; the callable adds
    any prefix it wants (the CLI's --jit-log prints `jit: ` before each).
    """
    global _log
    if fn is not None and not callable(fn):
        raise TypeError(f"the log must be callable (or None), not {type(fn).__name__}")
    _log = fn


def log(message: str) -> None:
    fn = _log
    if fn is not None:
        fn(message)


cache.STORE.log = log


def log_once(key: str, message: str) -> None:
    """Log a decision once per (chunk digest or topic, message)."""
    if _log is not None and (key, message) not in _said:
        _said.add((key, message))
        log(message)


# -- analyses --------------------------------------------------------------------------------

def analysis(chunk: Chunk) -> Analysis:
    """The chunk's analysis (cached per chunk object); raises VMError if it does not verify."""
    global _last
    last = _last
    if last[0] is chunk and not _stale(last[1]):
        cached: Analysis = last[1]
        return cached
    key = id(chunk)
    hit = _analyses.get(key)
    if hit is not None and hit[0]() is chunk and not _stale(hit[1]):
        found = hit[1]
    else:
        try:
            found = Analysis(chunk, chunk.digest())
        except VMError as e:
            found = e
        with _lock:
            _analyses[key] = (weak_ref(chunk, _forget(key)), found)
    if isinstance(found, VMError):
        raise found
    _last = (chunk, found)
    return found


def _forget(key: int) -> Callable[[weak_ref[Chunk]], None]:
    # Binds the table now: module globals may be gone when a chunk dies at interpreter exit.
    table = _analyses

    def callback(_ref: weak_ref[Chunk]) -> None:
        table.pop(key, None)
    return callback


def _stale(found: Analysis | VMError) -> bool:
    """An analysis of extension ops made before the set of extension lowerings changed."""
    return isinstance(found, Analysis) and bool(found.ext_ids) and \
        found.generation != generation()


# -- hotness ---------------------------------------------------------------------------------

#: Per chunk digest: the hot points a tier took, in any VM (policy.JitHook.threshold_at);
#: the oldest chunks are forgotten past `max_units`.
_taken: dict[str, set[int]] = {}  # oldest first (insertion order)


def hot_points_taken(chunk: Chunk, create: bool) -> set[int] | None:
    """The hot points of `chunk` some tier took so far (None when none and not `create`)."""
    key = chunk.digest()
    taken = _taken.get(key)
    if taken is None and create:
        with _lock:
            taken = _taken.setdefault(key, set())
            while len(_taken) > get_config().max_units:
                del _taken[next(iter(_taken))]
    return taken


def forget_hot_points() -> None:
    """Every chunk counts its hot points from zero again (tests, benchmarks)."""
    _taken.clear()


# -- stats ------------------------------------------------------------------------------------

def tier_stats(tier: str) -> TierStats:
    s = _stats.get(tier)
    if s is None:
        s = _stats.setdefault(tier, TierStats())
    return s


def stats() -> dict[str, dict[str, float]]:
    """Counters per tier (a copy)."""
    with _lock:
        return {tier: s.as_dict() for tier, s in sorted(_stats.items())}


def reset(*, units: bool = True, counters: bool = True) -> None:
    """Forget compiled units and/or zero the counters (tests, benchmarks)."""
    with _lock:
        if units:
            global _last
            _entries.clear()
            _analyses.clear()
            _said.clear()
            _taken.clear()
            _last = (None, None)
        if counters:
            for counters_of_tier in _stats.values():
                counters_of_tier.__init__()  # type: ignore[misc]  # entries keep the object


def entries() -> list[tuple[tuple[Any, ...], Entry]]:
    with _lock:
        return list(_entries.items())


# -- running ----------------------------------------------------------------------------------

def _trim() -> None:
    """Forget the oldest entries beyond `max_units`."""
    cap = get_config().max_units
    with _lock:  # (a copy of the keys: another thread may add an entry meanwhile)
        for key in list(_entries)[:max(0, len(_entries) - cap)]:
            _entries.pop(key, None)


def unit_for(tier: ModuleType, an: Analysis, slots: list[Any], strict: bool,
             threshold: int) -> Unit | None:
    """The unit of `an` in `tier` for these slots' kinds, loaded from the disk cache or
    compiled once `threshold` calls have asked for it; None while warming up or when it
    will not compile."""
    kinds = an.kinds_of(slots)
    name: str = tier.NAME
    mine = (name, strict, kinds)
    e = an.entries.get(mine)
    cfg: TraceJitConfig | None = None
    if e is None:
        # The entry for the key, shared by every chunk object with the same digest
        # (threads asking at once get the one `setdefault` kept; trimming takes the lock).
        shared = (an.digest, name, strict, kinds, generation() if an.ext_ids else 0)
        e = _entries.get(shared)
        if e is None:
            e = _entries.setdefault(shared, Entry(_stats.get(name) or tier_stats(name)))
            cfg = get_config()
            if len(_entries) > cfg.max_units:
                _trim()
        an.entries[mine] = e
    unit = e.unit
    if unit is not None:
        e.stats.cache_hits += 1
        return unit
    if e.failure is not None:
        return None
    e.count += 1
    if e.count <= threshold:
        e.stats.warmups += 1
        return None
    if cfg is None:
        cfg = get_config()
    # The disk cache first, at the moment the unit would compile.
    key, unit = (_find_unit or _finder())(cache.STORE, name, an, kinds, strict, cfg)
    if unit is None:
        return _compile(tier, name, an, kinds, strict, e, cfg, key)
    # Loaded: re-optimised already, or later as a compiled unit would be.
    unit.cache_key = key
    info = unit.info
    if info.pipeline != cfg.reopt_pipeline or info.codegen != cfg.reopt_codegen:
        unit.reopt_at = cfg.reopt_after
        unit.reopt_seconds = cfg.reopt_after_seconds
        unit.ir_source = an
    e.unit = unit
    if _log is not None:  # the line costs more to format than the rest of a load
        log(f"{an.source}: {name} unit loaded from the disk cache ({info.ops} ops, "
            f"kinds {describe_kinds_int(kinds)}, {info.pipeline}/cg{info.codegen}, key "
            f"{cache.key_label(key or b'')})")
    return unit


def run(tier: ModuleType, an: Analysis, slots: list[Any], strict: bool,
        threshold: int) -> list[Any] | None:
    """Run `an`'s chunk in `tier` if it is (or now gets) compiled; None to interpret.

    `slots` are the frame's slots (long enough for the unit); on success the slots the
    unit wrote are updated in place and the final operand stack is returned (bottom
    first). On None nothing was changed.
    """
    unit = unit_for(tier, an, slots, strict, threshold)
    if unit is None:
        return None
    out: list[Any] | None = _timed(unit, tier.NAME, lambda: unit.run(slots))
    return _account(an, tier.NAME, unit, out)


def enter(tier: ModuleType, an: Analysis, slots: list[Any], strict: bool, threshold: int,
          fuel: int | None = None) -> tuple[int, list[Any]] | None:
    """Run `an`'s chunk in `tier`, resuming exactly: (-1, final stack) when it ran to its
    end, (op index, stack) when it stopped before that op with `slots` holding the state
    there, None when nothing ran. `fuel` is the address of the caller's fuel word."""
    unit = unit_for(tier, an, slots, strict, threshold)
    if unit is None:
        return None
    word = unit.default_fuel if fuel is None else fuel
    out: tuple[int, list[Any]] | None = _timed(unit, tier.NAME,
                                               lambda: unit.enter(slots, word))
    if out is None or out[0] < 0:
        _account(an, tier.NAME, unit, None if out is None else out[1])
        return out
    # Stopped before an op with its state written back: a deopt, unless fuel ran out.
    trap, ip = unit.trap()
    if trap is TrapCode.FUEL:
        return out
    _deopted(an, tier.NAME, unit, an.entries[(tier.NAME, strict, unit.info.kinds)], resumed=True)
    return out


def _timed(unit: Unit, name: str, call: Callable[[], Any]) -> Any:
    if not unit.reopt_at:
        return call()
    # Until the unit is re-optimised, time it: a long-running unit goes first.
    started = time.perf_counter()
    out = call()
    unit.native_seconds += time.perf_counter() - started
    if out is not None and (unit.runs >= unit.reopt_at
                            or unit.native_seconds >= unit.reopt_seconds):
        unit.reopt_at = 0
        _reoptimize(unit, name)
    return out


def _account(an: Analysis, name: str, unit: Unit,
             results: list[Any] | None) -> list[Any] | None:
    e = an.entries.get((name, unit.info.strict, unit.info.kinds))
    if e is None:
        return results
    if results is None:
        _deopted(an, name, unit, e)
        return None
    if e.deopt_streak:
        e.deopt_streak = 0
    e.stats.runs += 1
    return results


def _deopted(an: Analysis, name: str, unit: Unit, e: Entry, resumed: bool = False) -> None:
    e.stats.deopts += 1
    e.deopt_streak += 1
    trap, ip = unit.trap()
    then = "the interpreter resumes there" if resumed else "the interpreter re-runs the chunk"
    log(f"{an.source}: {name} unit deoptimised at op {ip} ({trap.message}); {then}")
    if e.deopt_streak >= MAX_CONSECUTIVE_DEOPTS:
        e.unit = None
        e.failure = f"deoptimised {e.deopt_streak} times in a row"
        log(f"{an.source}: {name} unit abandoned ({e.failure})")


def _compile(tier: ModuleType, name: str, an: Analysis, kinds: tuple[int, ...], strict: bool,
             e: Entry, cfg: TraceJitConfig, key: bytes | None) -> Unit | None:
    """Compile the unit the disk cache had not got, and write it under `key` (None: the
    cache is off)."""
    source = an.source
    try:
        compiled: Unit = tier.compile(an, kinds, strict, cfg)
    except Refuse as r:
        e.failure = str(r)
        e.stats.refusals += 1
        log(f"{source}: {name} tier refused (kinds {describe_kinds_int(kinds)}): {r}")
        return None
    except Exception as x:  # LLVM rejected the IR, llvmlite failed to load, ...: a JIT bug
        e.failure = f"compilation failed: {type(x).__name__}: {x}"
        e.stats.refusals += 1
        log(f"{source}: {name} {e.failure}")
        return None
    info = compiled.info
    optimised = (info.pipeline, info.codegen) == (cfg.reopt_pipeline, cfg.reopt_codegen)
    compiled.reopt_at = 0 if optimised else cfg.reopt_after
    compiled.reopt_seconds = cfg.reopt_after_seconds
    compiled.cache_key = key
    if key is not None:
        cache.store_unit(key, compiled)
    e.unit = compiled
    st = e.stats
    st.compiles += 1
    st.compile_seconds += info.compile_seconds
    log(f"{source}: {name} unit compiled in {info.compile_seconds * 1e3:.2f} ms "
        f"({info.ops} ops, {info.blocks} blocks, kinds "
        f"{describe_kinds_int(kinds)}, {info.pipeline}/cg{info.codegen})")
    return compiled


if TYPE_CHECKING:
    FindUnit = Callable[[cache.Store, str, Analysis, tuple[int, ...], bool, TraceJitConfig],
                        tuple[bytes | None, Unit | None]]
#: `cache.native.find_unit`, once imported (the disk cache's native half loads with the
#: first unit asked for; called directly, a load makes one call fewer).
_find_unit: FindUnit | None = None


def _finder() -> FindUnit:
    global _find_unit
    from fusevm.jit.cache.native import find_unit
    _find_unit = find_unit
    return find_unit


def describe_kinds_int(kinds: tuple[int, ...]) -> str:
    from fusevm.jit.abi import SlotKind
    from fusevm.jit.typeflow import describe_kinds  # (kind inference: compiles only)
    return describe_kinds([SlotKind(k) for k in kinds])


#: Seconds a process that ends with a re-optimisation under way waits for it, so the
#: optimised code reaches the disk cache: a process too short to finish one would leave
#: the first code there, which every later process would load and then optimise again,
#: importing LLVM, each as short.
EXIT_WAIT: Final = 2.0
_waits_at_exit = False


def _finish_at_exit(reoptimizer: Any) -> None:
    """Have the process wait (`EXIT_WAIT` at most) at exit for the re-optimisations it
    started, whose results are stored."""
    global _waits_at_exit
    if not _waits_at_exit:
        _waits_at_exit = True
        import atexit
        atexit.register(reoptimizer.wait, EXIT_WAIT)


def _reoptimize(unit: Unit, tier: str) -> None:
    from fusevm.jit.codegen import REOPTIMIZER, Native, compile_text
    cfg = get_config()
    started = time.perf_counter()

    def done(native: Native) -> None:
        with using(cfg):  # maybe on the re-optimiser's thread: the cache settings are ours
            installed(native)

    def installed(native: Native) -> None:
        unit.install(native)
        tier_stats(tier).reopts += 1
        if unit.cache_key is not None:
            cache.store_unit(unit.cache_key, unit)  # the newest code is what gets cached
        log(f"{unit.info.source}: {tier} unit re-optimised ({native.pipeline}/cg"
            f"{native.codegen}) in {(time.perf_counter() - started) * 1e3:.1f} ms")

    text = unit.info.ir_text
    if not text and unit.ir_source is not None:
        from fusevm.jit.unit import emit_text, infer_for
        an = unit.ir_source
        info = unit.info
        try:
            text = info.ir_text = emit_text(an, infer_for(an, info.kinds, info.strict),
                                            info.strict)[0]
        except Exception as x:  # the loaded code keeps running
            log(f"{unit.info.source}: {tier} re-optimisation failed: {type(x).__name__}: {x}")
            return
    if cfg.reopt_background:
        if unit.cache_key is not None:
            _finish_at_exit(REOPTIMIZER)
        REOPTIMIZER.submit(text, cfg.reopt_pipeline, cfg.reopt_codegen, done)
        return
    try:
        native = compile_text(text, cfg.reopt_pipeline, cfg.reopt_codegen)
    except Exception as x:  # the first code keeps running
        log(f"{unit.info.source}: {tier} re-optimisation failed: {type(x).__name__}: {x}")
        return
    done(native)
