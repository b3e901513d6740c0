"""The one place that orders the tiers: linear, block, trace, then the interpreter.

`attach(vm)` installs a `JitHook` as the VM's tier hook (VM.enable_jit /
enable_tracing_jit). Two ways in, both leaving at an exact op with the interpreter's state
(D15):

* a whole run: at the start of a run, in the root frame, the first tier in `plan.ORDER`
  that takes the chunk whole runs it (after `block_threshold` runs);
* regions: the interpreter counts entries of its hot points (loop headers, function
  entries, block starts; `fusevm.loops`) and after `region_threshold` asks
  `region_step`, which cuts the region there (`region.py`), picks a tier for it once per
  chunk and hot point, and returns the step that enters its unit. So a chunk with calls,
  I/O or extension ops around a numeric loop still runs the loop natively. A hot point
  whose region no tier takes goes to the trace tier (`fusevm.jit.trace`) when the VM
  asked for tracing: block-eligible regions never record.

The decisions and the steps live in `plan.py`, which imports the tiers; this module is
what a VM holds, and it loads `plan` by name (as the interpreter loads tiers, see
`fusevm.interp.tiers`) only when a decision is needed: when a hot point gets hot, or when a
chunk starts a run that could be compiled. A run that cannot be (the first
`block_threshold` runs of a chunk, in a process that has not loaded the JIT runtime yet)
is only noted, and counted when `plan` loads, exactly as it would have been counted then.
So a short program (`fusevm awk 'BEGIN{...}'`) starts without the JIT's modules.

Without llvmlite, or with FUSEVM_JIT=off, no hook is installed and the VM says so once
through the log (D13).
"""

from __future__ import annotations

import sys

from fusevm.jit.config import find_spec, get_config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, Final

    from fusevm.chunk import Chunk
    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM
    from fusevm.jit.unit import Analysis

#: The module that makes the decisions (imported on first use, see above).
PLANNER: Final = "fusevm.jit.plan"
#: Loaded with the planner; while it is not, no run can have been counted by a tier yet.
_RUNTIME: Final = "fusevm.jit.runtime"

_available: bool | None = None
_planner: ModuleType | None = None
#: Whole runs not yet counted, by chunk digest: the slots, strict_int and forced tier of
#: the first run of that content (at most one each, see `JitHook.try_run`).
_uncounted: dict[str, tuple[list[Any], bool, str | None]] = {}


def _find(name: str) -> bool:
    """Whether top-level module `name` can be imported (`config.find_spec`)."""
    return find_spec(name) is not None


def llvmlite_available() -> bool:
    """True when llvmlite is installed (checked once, without importing it)."""
    global _available
    if _available is None:
        try:
            _available = _find("llvmlite")
        except Exception:  # a broken installation counts as missing
            _available = False
    return _available


def jit_usable(announce: bool = True) -> bool:
    """True when the JIT may run: llvmlite present and FUSEVM_JIT not off (says why once)."""
    if _available and get_config().enabled:
        return True
    if not get_config().enabled:
        if announce:
            from fusevm.jit import runtime
            runtime.log_once("config", "FUSEVM_JIT=off: every chunk runs in the interpreter")
        return False
    if not llvmlite_available():
        if announce:
            from fusevm.jit import runtime
            if ("config", "no-llvmlite") not in runtime._said:
                import logging
                runtime._said.add(("config", "no-llvmlite"))
                message = "llvmlite is not installed: every chunk runs in the interpreter"
                logging.getLogger("fusevm.jit").warning(message)
                runtime.log(message)
        return False
    return True


#: Modules that register what the tiers need from a front end (its extension ops' native
#: lowerings), imported with the planner: see `load_with_tiers`.
_companions: list[str] = []
#: The key in `Chunk.derived` of the hot points a native tier runs, one set per chunk
#: (`VM.native_points` of its JIT VMs): kept with the chunk, so no weak table (whose
#: module costs every start-up) and no content hash of the chunk.
_NATIVE_POINTS: Final = "jit.native_points"


def load_with_tiers(module: str) -> None:
    """Import `module` when the tiers load (at once if they have): a front end's native
    lowerings (`fusevm.lang.awk.jit`) cost nothing to a run that never gets hot."""
    if PLANNER in sys.modules:
        __import__(module)
    elif module not in _companions:
        _companions.append(module)


def load_companions() -> None:
    """Import the modules `load_with_tiers` named (`plan.py` calls this as it loads)."""
    for module in _companions:
        __import__(module)


def planner() -> ModuleType:
    """The decision module (`plan.py`), imported on first use."""
    global _planner
    if _planner is None:
        # (__import__, not importlib.import_module: the importlib package costs start-up)
        __import__(PLANNER)
        _planner = sys.modules[PLANNER]
        # The decisions from here on may enter native code, which holds the main thread:
        # a command's Ctrl-C now needs its watcher thread.
        from fusevm.interp.signals import native_code_may_run
        native_code_may_run()
    return _planner


class JitHook:
    """A VM's tier hook when the native tiers are on (see `VM.set_tier_hook`).

    `try_run` may run a whole run natively from the root frame's first op (a chunk the
    tiers take whole, after `block_threshold` runs); `region_step` gives a hot point the
    step that enters its compiled region. Both resume the interpreter at the exact op
    where native code stopped. `fuel` is the word native loops poll (abi.py), made when
    native code is first entered.
    """

    __slots__ = ("tracing", "force", "fallback", "_chunk", "_plan", "_fuel", "_stopped")

    def __init__(self, tracing: bool, force: str | None = None, fallback: Any = None) -> None:
        self.tracing = tracing
        self.force = force  # a tier name: use only that tier (tests, benchmarks)
        #: The hook that was there before (the baseline tier's): asked for what no native
        #: tier takes, so the order is native tiers, then baseline, then the interpreter.
        self.fallback = fallback
        self._chunk: Chunk | None = None
        self._plan: tuple[ModuleType, Analysis] | None = None
        self._fuel: Any = None
        #: Interrupted since the run started (what the fuel word says once it exists).
        self._stopped = False

    @property
    def fuel(self) -> Any:
        """The fuel word (a ctypes int64), positive while native loops may run."""
        if self._fuel is None:
            import ctypes

            from fusevm.jit.unit import FUEL_MAX
            fuel = ctypes.c_int64(FUEL_MAX)
            self._fuel = fuel
            # After publishing the word: an interrupt from another thread either saw it or
            # set _stopped before this reads it.
            if self._stopped:
                fuel.value = -FUEL_MAX
        return self._fuel

    @property
    def fuel_addr(self) -> int:
        import ctypes
        return ctypes.addressof(self.fuel)

    # -- what the VM calls -------------------------------------------------------------

    @property
    def region_threshold(self) -> int:
        return get_config().region_threshold

    def threshold_at(self, vm: VM, h: int) -> int:
        """Entries of hot point `h` a fresh VM interprets first: none when a tier already
        took `h` in this chunk (hotness belongs to the code, not to one VM: a program
        making VMs for the same chunk would otherwise interpret every VM's first
        `region_threshold` entries; fib(20) made 50 of its calls interpreted per run)."""
        # Nothing is taken before the runtime loads (a process's first hot point).
        runtime = sys.modules.get(_RUNTIME)
        taken = runtime.hot_points_taken(vm.chunk, False) if runtime is not None else None
        if taken is not None and h in taken:
            return 1
        return get_config().region_threshold

    def start_run(self, vm: VM) -> None:
        self._stopped = False
        if self._fuel is not None:
            from fusevm.jit.unit import FUEL_MAX
            self._fuel.value = FUEL_MAX
        if self.fallback is not None:
            self.fallback.start_run(vm)

    def interrupt(self, vm: VM) -> None:
        self._stopped = True
        if self._fuel is not None:
            from fusevm.jit.unit import FUEL_MAX
            self._fuel.value = -FUEL_MAX
        if self.fallback is not None:
            self.fallback.interrupt(vm)

    def try_run(self, vm: VM) -> bool:
        """Run the chunk natively from its start if a tier takes it whole; True when the
        run is over, False to interpret from `vm.ip` (moved when native code stopped
        before an op, with the state there handed back)."""
        if vm.ip != 0 or len(vm.frames) != 1:
            return False
        cfg = get_config()
        if not cfg.enabled:
            return False
        if _planner is None and _RUNTIME not in sys.modules and cfg.block_threshold > 0:
            # No tier has counted a run of any chunk in this process, so the first run of
            # this content is a warm-up whatever the tiers decide: note it instead.
            digest = vm.chunk.digest()
            if digest not in _uncounted:
                _uncounted[digest] = (list(vm.slots), vm.strict_int, self.force)
                return False
        plan = planner()
        if _uncounted:
            noted = _uncounted.pop(vm.chunk.digest(), None)
            if noted is not None:
                plan.warm_up(vm, *noted)
        ran: bool = plan.try_run(self, vm)
        return ran

    def region_step(self, vm: VM, h: int, original: Step) -> Step | int | None:
        """The step that runs the region entered at hot point `h`, or None to keep
        interpreting it (a number, from the baseline tier: ask again after that many
        more entries)."""
        found: Step | int | None = \
            planner().native_step(vm, self, h, original) if get_config().enabled else None
        if found is not None:
            vm.native_points.add(h)
        elif self.fallback is not None:
            found = self.fallback.region_step(vm, h, original)
        if found is not None and type(found) is not int:
            from fusevm.jit import runtime
            taken = runtime.hot_points_taken(vm.chunk, True)
            assert taken is not None
            taken.add(h)
        return found


def attach(vm: VM, *, tracing: bool, force: str | None = None) -> None:
    """Install the JIT hook on a VM (nothing happens when the JIT cannot run).

    `force` names the only tier to use (tests and benchmarks); by default ORDER decides.
    """
    if force is not None:
        from fusevm.jit.eligibility import tier_module
        tier_module(force)
    if jit_usable():
        current = vm._tiers
        fallback = current.fallback if isinstance(current, JitHook) else current
        vm.set_tier_hook(JitHook(tracing, force, fallback))
        # Native code of a function entry serves every VM of the chunk: compiled Python
        # code in a VM that never entered it through the interpreter must not call its
        # own direct form instead.
        points: set[int] = vm.chunk.derived.setdefault(_NATIVE_POINTS, set())
        points |= vm.native_points
        vm.native_points = points


def detach(vm: VM) -> None:
    """Remove the JIT hook: the tiers below it (the baseline tier) stay."""
    current = vm._tiers
    if isinstance(current, JitHook):
        vm.set_tier_hook(current.fallback)
