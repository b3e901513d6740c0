"""The one place that orders the tiers: linear, block, trace, then the interpreter.

A VM's `JitHook` is made by `decide` when the VM's pending hook (`jit/hook.py`, what
VM.enable_jit / enable_tracing_jit install) first needs a decision. Two ways in, both
leaving at an exact op with the interpreter's state (D15):

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

Without llvmlite, or with FUSEVM_JIT=off, `decide` gives the tier below instead (the
baseline tier's hook, or none) and the VM says so once through the log (D13).
"""

from __future__ import annotations

import sys

from fusevm.jit.config import find_spec, get_config
from fusevm.jit.hook import PLANNER, RUNTIME, PendingHook, note_warm_up, uncounted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

    from fusevm.chunk import Chunk
    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM
    from fusevm.jit.unit import Analysis

__all__ = ["PLANNER", "JitHook", "decide", "detach", "jit_usable", "llvmlite_available",
           "planner"]

_available: bool | None = None
_planner: ModuleType | None = None


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
        loaded = sys.modules.get(RUNTIME)
        if announce and loaded is not None:
            # (a log can only have been set through the runtime: not loaded, none to tell)
            loaded.log_once("config", "FUSEVM_JIT=off: every chunk runs in the interpreter")
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
        runtime = sys.modules.get(RUNTIME)
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
        if _planner is None and note_warm_up(vm, self.force):
            return False
        plan = planner()
        if uncounted:
            noted = uncounted.pop(vm.chunk.digest(), None)
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


def decide(pending: PendingHook, stopped: bool) -> Any:
    """The hook a VM's `PendingHook` hands its questions to from now on: a `JitHook`, or
    (the JIT cannot run: said once through the log) the tier below it."""
    if not jit_usable():
        return pending.fallback
    hook = JitHook(pending.tracing, pending.force, pending.fallback)
    hook._stopped = stopped
    return hook


def detach(vm: VM) -> None:
    """Remove the JIT hook: the tiers below it (the baseline tier) stay."""
    current = vm._tiers
    if isinstance(current, (JitHook, PendingHook)):
        vm.set_tier_hook(current.fallback)
