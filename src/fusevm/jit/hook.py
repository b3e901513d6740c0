"""The native tiers' hook until its first decision: a VM that never gets hot loads no policy.

`VM.enable_jit()` / `enable_tracing_jit()` install a `PendingHook` (`attach`, named in
`fusevm.interp.tiers.PROVIDERS`). It answers what every run asks without loading
`policy.py`: a run's start and end, an interrupt, and a chunk's first whole run, which is a
warm-up noted for the tiers (`note_warm_up`, the same note `policy.JitHook` takes). The
first question that needs a decision (a chunk with hot points being prepared, a region
step, a whole run the tiers could take) makes the real hook (`resolve`); until then a hot
point is counted to the fewest entries any hook could want (`threshold_at`): whether the JIT
can run at all (llvmlite, FUSEVM_JIT, said once through the log) is asked then,
and without it the tier below (the baseline tier's hook, or none) answers from then on.
So `fusevm awk 'BEGIN{...}'` loads the configuration and nothing else of the JIT's hook.
A loop's region step makes no decision before the loop has run about `LOAD_COST` ops
(loading the tiers costs about that), and none at all for a loop no native tier can run
(`native_ops`): the tier below answers for it.
"""

from __future__ import annotations

import sys

from fusevm.jit.config import get_config
from fusevm.loops import loop_facts, ops_per_entry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.chunk import Chunk
    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM

#: The module that makes the decisions, and the runtime loaded with it: while neither is
#: loaded, no run can have been counted by a tier yet.
PLANNER: Final = "fusevm.jit.plan"
RUNTIME: Final = "fusevm.jit.runtime"
#: The key in `Chunk.derived` of the hot points a native tier runs, one set per chunk
#: (`VM.native_points` of its JIT VMs): kept with the chunk, so no weak table (whose
#: module costs every start-up) and no content hash of the chunk.
NATIVE_POINTS: Final = "jit.native_points"
#: What makes the real hook, named as data as `fusevm.interp.tiers` names the providers:
#: the policy imports this module (a lower layer), not the other way round.
DECIDER: Final = "fusevm.jit.policy:decide"
#: What loading the native tiers costs a process, in interpreted ops (the first decision
#: loads them): about 15 ms of imports and a trace's recording and loading from the disk
#: cache, at ~90 ns an op. Until they are loaded, a loop is decided about only once the
#: interpreter has run about this many ops in it: a shorter loop loses less by running
#: on than the load would cost (an awk BEGIN loop of 100 trips: 41 ms with the load, 26
#: without).
LOAD_COST: Final = 170_000
#: A hot point's threshold when no tier is left to ask (the JIT cannot run and the VM has
#: no baseline tier): never reached.
_NEVER: Final = 1 << 62

#: Whole runs not yet counted, by chunk digest: the slots, strict_int and forced tier of
#: the first run of that content (at most one each); the planner counts them as it loads.
uncounted: dict[str, tuple[list[Any], bool, str | None]] = {}

#: Modules that register what the tiers need from a front end (its extension ops' native
#: lowerings), imported with the planner: see `load_with_tiers`.
_companions: list[str] = []


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


def note_warm_up(vm: VM, force: str | None) -> bool:
    """Note a run from the root frame's first op as a warm-up, and say so, when no tier
    has counted a run of any chunk in this process yet (the planner is not loaded) and
    this is the first run of this content: whatever the tiers decide, it is interpreted,
    and it is counted when the planner loads (`plan.warm_up`)."""
    if PLANNER in sys.modules or RUNTIME in sys.modules or get_config().block_threshold <= 0:
        return False
    digest = vm.chunk.digest()
    if digest in uncounted:
        return False
    uncounted[digest] = (list(vm.slots), vm.strict_int, force)
    return True


#: `PendingHook._real` before the decision.
_UNDECIDED: Final[Any] = object()


class PendingHook:
    """A VM's tier hook for the native tiers until a decision is needed (see above)."""

    __slots__ = ("tracing", "force", "fallback", "_real", "_stopped", "_given")

    #: Runs are asked about (a whole run may be taken by a tier, once decided).
    per_run: Final = True

    def __init__(self, tracing: bool, force: str | None, fallback: Any) -> None:
        self.tracing = tracing
        self.force = force
        #: The hook below (the baseline tier's, or None): it answers when the JIT cannot
        #: run, and the real hook falls back on it.
        self.fallback = fallback
        self._real: Any = _UNDECIDED
        self._stopped = False  # interrupted since the run started, before the decision
        #: (chunk id, hot point) -> the entries `threshold_at` gave it while undecided.
        self._given: dict[tuple[int, int], int] = {}

    def resolve(self, vm: VM) -> Any:
        """The hook that decides: a `policy.JitHook`, or the tier below it when the JIT
        cannot run (made once, on first need)."""
        real = self._real
        if real is _UNDECIDED:
            module, _, function = DECIDER.partition(":")
            __import__(module)  # (the importlib package costs start-up time)
            real = self._real = getattr(sys.modules[module], function)(self, self._stopped)
        return real

    @property
    def region_threshold(self) -> int:
        return get_config().region_threshold

    def threshold_at(self, vm: VM, h: int) -> int:
        """Entries of hot point `h` before it is asked about. Undecided (and no tier has
        taken a hot point in this process: the planner is not loaded; the runtime alone
        may be, for `set_log`), the fewest any hook could want: the JIT's threshold or
        the tier below's; `region_step` then makes up the difference the real hook asks
        for."""
        if self._real is _UNDECIDED and PLANNER not in sys.modules:
            given = get_config().region_threshold
            if self.fallback is not None:
                given = min(given, int(self.fallback.threshold_at(vm, h)))
            self._given[(id(vm.chunk), h)] = given
            return given
        real = self.resolve(vm)
        return _NEVER if real is None else int(real.threshold_at(vm, h))

    def region_step(self, vm: VM, h: int, original: Step) -> Step | int | None:
        if self._real is _UNDECIDED and PLANNER not in sys.modules:
            chunk = vm.chunk
            facts = loop_facts(chunk)
            if h in facts.back_edges:
                if _never_native(chunk, h):
                    # No native tier will ever run this loop: the tier below answers for
                    # it, and the tiers stay unloaded until another hot point needs them.
                    self._given.pop((id(chunk), h), None)
                    fallback = self.fallback
                    return None if fallback is None else fallback.region_step(vm, h, original)
                # Loading the tiers is the decision's cost: not before the interpreter has
                # run about as much work in this loop (its entries so far are what the
                # VM was told to count, `_given`).
                key = (id(chunk), h)
                need = LOAD_COST // ops_per_entry(facts, h, len(chunk.ops))
                entered = self._given.get(key, 0)
                if entered < need:
                    self._given[key] = need
                    return need - entered
        real = self.resolve(vm)
        given = self._given.pop((id(vm.chunk), h), None) if self._given else None
        if given is not None:
            wanted = _NEVER if real is None else int(real.threshold_at(vm, h))
            if wanted > given:  # ask again when the real hook would first have been asked
                return wanted - given
        found: Step | int | None = None if real is None else real.region_step(vm, h, original)
        return found

    def start_run(self, vm: VM) -> None:
        real = self._real
        if real is _UNDECIDED:
            self._stopped = False
            real = self.fallback
        if real is not None:
            real.start_run(vm)

    def interrupt(self, vm: VM) -> None:
        real = self._real
        if real is _UNDECIDED:
            self._stopped = True
            real = self.fallback
        if real is not None:
            real.interrupt(vm)

    def try_run(self, vm: VM) -> bool:
        """As `policy.JitHook.try_run`; a run the JIT cannot take (it is off, or this is
        a first run noted as a warm-up) is interpreted without a decision."""
        if self._real is _UNDECIDED:
            if vm.ip != 0 or len(vm.frames) != 1 or not get_config().enabled:
                return False
            if note_warm_up(vm, self.force):
                return False
        real = self.resolve(vm)
        return real is not None and bool(real.try_run(vm))


def _never_native(chunk: Chunk, h: int) -> bool:
    """Whether the loop at header `h` is one no native tier will ever run (`native_ops`)."""
    from fusevm.jit.native_ops import loop_never_native
    return loop_never_native(chunk, h)


def attach(vm: VM, *, tracing: bool, force: str | None = None) -> None:
    """Install the native tiers' hook on a VM (a tier provider, see
    `fusevm.interp.tiers`); whether the JIT can run is decided on first need.

    `force` names the only tier to use (tests and benchmarks); by default ORDER decides.
    """
    if force is not None:
        from fusevm.jit.eligibility import tier_module
        tier_module(force)
    current = vm._tiers
    fallback = getattr(current, "fallback", current) if _is_native(current) else current
    vm.set_tier_hook(PendingHook(tracing, force, fallback))
    # Native code of a function entry serves every VM of the chunk: compiled Python code
    # in a VM that never entered it through the interpreter must not call its own direct
    # form instead.
    points: set[int] = vm.chunk.derived.setdefault(NATIVE_POINTS, set())
    points |= vm.native_points
    vm.native_points = points


def _is_native(hook: Any) -> bool:
    """Whether `hook` is the native tiers' (pending here, or `policy.JitHook`)."""
    if type(hook) is PendingHook:
        return True
    policy = sys.modules.get("fusevm.jit.policy")
    return policy is not None and isinstance(hook, policy.JitHook)
