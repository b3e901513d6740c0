"""The one place that orders the tiers: linear, block, trace, then the interpreter.

`attach(vm)` installs a `JitHook` as the VM's tier hook (VM.enable_jit /
enable_tracing_jit). Two ways in, both leaving at an exact op with the interpreter's state
(D15):

* a whole run: at the start of a run, in the root frame, the first tier in `ORDER` that
  takes the chunk whole runs it (after `block_threshold` runs);
* regions: the interpreter counts entries of its hot points (loop headers, function
  entries, block starts; `fusevm.loops`) and after `region_threshold` asks
  `region_step`, which cuts the region there (`region.py`), picks a tier for it once per
  chunk and hot point, and returns the step that enters its unit. So a chunk with calls,
  I/O or extension ops around a numeric loop still runs the loop natively. A hot point
  whose region no tier takes goes to the trace tier (`fusevm.jit.trace`) when the VM
  asked for tracing: block-eligible regions never record.

Without llvmlite, or with FUSEVM_JIT=off, no hook is installed and the VM says so once
through the log (D13).
"""

from __future__ import annotations

import importlib.util
import logging
import weakref
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.jit import block, linear, runtime
from fusevm.jit.abi import SlotKind
from fusevm.jit.config import get_config
from fusevm.jit.eligibility import kinds_for, static_refusal, tier_module
from fusevm.jit.lower.cx import Refuse
from fusevm.jit.region import Region, cut
from fusevm.jit.trace.tier import describe as trace_describe
from fusevm.jit.trace.tier import trace_step
from fusevm.jit.typeflow import describe_kinds
from fusevm.jit.unit import FUEL_MAX, Analysis
from fusevm.loops import loop_facts

if TYPE_CHECKING:
    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM

#: Tier order for whole runs. The trace tier works on hot points only (`region_step`).
ORDER: Final[tuple[ModuleType, ...]] = (linear, block)

_available: bool | None = None
_logger = logging.getLogger("fusevm.jit")


def llvmlite_available() -> bool:
    """True when llvmlite is installed (checked once, without importing it)."""
    global _available
    if _available is None:
        try:
            _available = importlib.util.find_spec("llvmlite") is not None
        except Exception:  # a broken installation counts as missing
            _available = False
    return _available


def jit_usable(announce: bool = True) -> bool:
    """True when the JIT may run: llvmlite present and FUSEVM_JIT not off (says why once)."""
    if _available and get_config().enabled:
        return True
    if not get_config().enabled:
        if announce:
            runtime.log_once("config", "FUSEVM_JIT=off: every chunk runs in the interpreter")
        return False
    if not llvmlite_available():
        if announce and ("config", "no-llvmlite") not in runtime._said:
            runtime._said.add(("config", "no-llvmlite"))
            message = "llvmlite is not installed: every chunk runs in the interpreter"
            _logger.warning(message)
            runtime.log(message)
        return False
    return True


def choose(an: Analysis) -> tuple[ModuleType | None, list[str]]:
    """The first tier in ORDER that accepts the chunk, and why the earlier ones did not."""
    reasons: list[str] = []
    for tier in ORDER:
        refusal = static_refusal(an, tier.NAME)
        if refusal is None:
            return tier, reasons
        reasons.append(f"{tier.NAME}: {refusal}")
    return None, reasons


class JitHook:
    """A VM's tier hook when the native tiers are on (see `VM.set_tier_hook`).

    `try_run` may run a whole run natively from the root frame's first op (a chunk the
    tiers take whole, after `block_threshold` runs); `region_step` gives a hot point the
    step that enters its compiled region. Both resume the interpreter at the exact op
    where native code stopped. `fuel` is the word native loops poll (abi.py).
    """

    __slots__ = ("tracing", "force", "fallback", "_chunk", "_plan", "fuel", "fuel_addr")

    def __init__(self, tracing: bool, force: str | None = None, fallback: Any = None) -> None:
        import ctypes
        self.tracing = tracing
        self.force = force  # a tier name: use only that tier (tests, benchmarks)
        #: The hook that was there before (the baseline tier's): asked for what no native
        #: tier takes, so the order is native tiers, then baseline, then the interpreter.
        self.fallback = fallback
        self._chunk: Chunk | None = None
        self._plan: tuple[ModuleType, Analysis] | None = None
        self.fuel = ctypes.c_int64(FUEL_MAX)
        self.fuel_addr = ctypes.addressof(self.fuel)

    # -- what the VM calls -------------------------------------------------------------

    @property
    def region_threshold(self) -> int:
        return get_config().region_threshold

    def start_run(self, vm: VM) -> None:
        self.fuel.value = FUEL_MAX
        if self.fallback is not None:
            self.fallback.start_run(vm)

    def interrupt(self, vm: VM) -> None:
        self.fuel.value = -FUEL_MAX
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
        chunk = vm.chunk
        if chunk is not self._chunk:
            self._plan = self._choose(vm)
            self._chunk = chunk
        plan = self._plan
        if plan is None:
            return False
        tier, an = plan
        out = runtime.enter(tier, an, vm.slots, vm.strict_int, cfg.block_threshold,
                            self.fuel_addr)
        if out is None:
            return False
        ip, values = out
        vm.stack.extend(values)
        if ip < 0:
            vm.ip = an.n_ops
            return True
        vm.ip = ip
        return False

    def region_step(self, vm: VM, h: int, original: Step) -> Step | None:
        """The step that runs the region entered at hot point `h`, or None to keep
        interpreting it."""
        found = self._native_step(vm, h, original) if get_config().enabled else None
        if found is None and self.fallback is not None:
            found = self.fallback.region_step(vm, h, original)
        return found

    def _native_step(self, vm: VM, h: int, original: Step) -> Step | None:
        plan = region_plan(vm, h, self.force)
        if plan is not None:
            tier, an, region = plan
            slots = vm.slots if not region.depth else vm.slots + vm.stack[-region.depth:]
            if runtime.unit_for(tier, an, slots, vm.strict_int, 0) is not None:
                return _region_step(vm, self, tier, an, region, original)
        if self.tracing and self.force is None:
            # Block-eligible regions went first; the trace tier takes the rest. What runs
            # the loop while it counts, records, or once it has given up is the baseline's
            # step when there is one (a loop the trace tier cannot take, such as awk's
            # record loop, still runs compiled), else the interpreter's.
            below = None if self.fallback is None else \
                self.fallback.region_step(vm, h, original)
            return trace_step(vm, h, original if below is None else below, self.fuel_addr)
        return None

    # -- whole-chunk plans ---------------------------------------------------------------

    def _choose(self, vm: VM) -> tuple[ModuleType, Analysis] | None:
        chunk = vm.chunk
        try:
            an = runtime.analysis(chunk)
        except VMError as e:
            runtime.log_once(str(id(chunk)), f"{chunk.source}: interpreter (the chunk does not "
                             f"verify: {e})")
            return None
        if not an.ext_ids:
            decided = an.decisions.get(self.force, False)
            if decided is not False:
                return None if decided is None else (decided, an)
        if not _handlers_present(vm, an):
            return None
        tier, reasons = tier_for(an, self.force)
        an.decisions[self.force] = tier
        if tier is None:
            runtime.log_once(an.digest, f"{chunk.source}: interpreter ({'; '.join(reasons)})")
            return None
        runtime.log_once(an.digest, f"{chunk.source}: {tier.NAME} tier chosen")
        return tier, an


def _handlers_present(vm: VM, an: Analysis) -> bool:
    for ext_id in an.ext_ids:
        try:
            vm.ext_handler(ext_id, f"{ext_id:#x}")
        except VMError:
            runtime.log_once(an.digest, f"{an.source}: interpreter (extension op "
                             f"{ext_id:#x} has no handler in this VM)")
            return False
    return True


# -- regions ----------------------------------------------------------------------------------

RegionPlan = tuple[ModuleType, Analysis, Region]

#: Per chunk object: hot point -> its plan, or None when no tier takes its region.
_regions: weakref.WeakKeyDictionary[Chunk, dict[tuple[int, str | None],
                                                RegionPlan | None]] = \
    weakref.WeakKeyDictionary()


def region_plan(vm: VM, h: int, force: str | None = None) -> RegionPlan | None:
    """The tier and analysis of the region entered at hot point `h` (decided once per
    chunk and hot point, and logged)."""
    chunk = vm.chunk
    table = _regions.get(chunk)
    if table is None:
        table = _regions.setdefault(chunk, {})
    key = (h, force)
    if key in table:
        return table[key]
    plan = _plan_region(vm, chunk, h, force)
    table[key] = plan
    return plan


def _plan_region(vm: VM, chunk: Chunk, h: int, force: str | None) -> RegionPlan | None:
    plan, said = decide_region(chunk, h, force)
    if plan is not None and not _handlers_present(vm, plan[1]):
        return None
    runtime.log(f"{chunk.source}: {said}")
    return plan


def decide_region(chunk: Chunk, h: int,
                  force: str | None = None) -> tuple[RegionPlan | None, str]:
    """The plan for the region at hot point `h` (None when no tier takes it) and the
    decision in words, as `--jit-log` prints it."""
    region = cut(chunk, h)
    if isinstance(region, str):
        return None, f"op {h}: interpreter ({region})"
    where = region.describe()
    try:
        an = runtime.analysis(region.chunk)
    except VMError as e:
        return None, f"{where}: interpreter (the region does not stand alone: {e.message})"
    tier, reasons = tier_for(an, force)
    if tier is None:
        return None, f"{where}: interpreter ({'; '.join(reasons)})"
    return (tier, an, region), f"{where}: {tier.NAME} tier ({region.size} ops)"


def tier_for(an: Analysis, force: str | None) -> tuple[ModuleType | None, list[str]]:
    """The tier that takes `an` (only `force` when given) and why the others did not."""
    if force is None:
        return choose(an)
    refusal = static_refusal(an, force)
    if refusal is None:
        return tier_module(force), []
    return None, [f"{force}: {refusal}"]


def region_refusals(chunk: Chunk, tier: str | None = None) -> dict[int, str | None]:
    """For each hot point of a chunk: None when a tier (only `tier`, when given) takes its
    region, else the decision in words (`JitCompiler.why_not_regions`)."""
    out: dict[int, str | None] = {}
    for h in loop_facts(chunk).hot_points:
        plan, said = decide_region(chunk, h, tier)
        out[h] = None if plan is not None else said
    return out


def _region_step(vm: VM, hook: JitHook, tier: ModuleType, an: Analysis, region: Region,
                 original: Step) -> Step:
    fuel_addr = hook.fuel_addr
    strict = vm.strict_int
    depth = region.depth
    base = region.base_slots
    ips = region.ips
    enter = runtime.enter

    def step() -> int:
        if vm._budget is not None:
            # A budget counts every instruction, which only the interpreter does.
            return original()
        stack = vm.stack
        if depth:
            slots = vm.slots + stack[-depth:]
            out = enter(tier, an, slots, strict, 0, fuel_addr)
            if out is not None:
                del stack[-depth:]
                vm.slots[:base] = slots[:base]
        else:
            out = enter(tier, an, vm.slots, strict, 0, fuel_addr)
        if out is None:
            return original()
        ip, values = out
        target = values.pop() if ip < 0 else ips[ip]
        stack.extend(values)
        return target  # type: ignore[no-any-return]
    return step


def attach(vm: VM, *, tracing: bool, force: str | None = None) -> None:
    """Install the JIT hook on a VM (nothing happens when the JIT cannot run).

    `force` names the only tier to use (tests and benchmarks); by default ORDER decides.
    """
    if force is not None:
        tier_module(force)
    if jit_usable():
        current = vm._tiers
        fallback = current.fallback if isinstance(current, JitHook) else current
        vm.set_tier_hook(JitHook(tracing, force, fallback))


def detach(vm: VM) -> None:
    """Remove the JIT hook: the tiers below it (the baseline tier) stay."""
    current = vm._tiers
    if isinstance(current, JitHook):
        vm.set_tier_hook(current.fallback)


# -- diagnostics ---------------------------------------------------------------------------

def describe(chunk: Chunk, _depth: int = 0) -> str:
    """The tier decision for a chunk and the LLVM IR of its unit for a fresh VM's slots."""
    lines = [f"; chunk {chunk.source!r}: {len(chunk.ops)} ops"]
    try:
        an = runtime.analysis(chunk)
    except VMError as e:
        lines.append(f"; decision: interpreter (the chunk does not verify: {e})")
        return "\n".join(lines) + "\n"
    lines[0] += f", digest {an.digest}"
    tier, reasons = choose(an)
    lines.extend(f"; refused by {r}" for r in reasons)
    if tier is None:
        lines.append("; decision: interpreter")
    else:
        kinds = kinds_for(an, None)
        lines.append(f"; decision: {tier.NAME} tier")
        lines.append(f"; live-in slots {list(an.live_in)}, kinds for a fresh VM: "
                     f"{describe_kinds([SlotKind(k) for k in kinds])}")
        ir_text = _ir_for(an, kinds, tier, lines)
        if ir_text:
            lines.append(ir_text)
    for key, entry in runtime.entries():
        if key[0] == an.digest and entry.unit is not None:
            info = entry.unit.info
            lines.append(f"; compiled: {info.tier} unit, kinds "
                         f"{describe_kinds([SlotKind(k) for k in info.kinds])}, "
                         f"{info.pipeline}/cg{info.codegen}, runs {entry.unit.runs}, "
                         f"deopts {entry.unit.deopts}")
    traces = trace_describe(chunk)
    if traces:
        lines.append("; traces recorded in this process:")
        lines.append(traces)
    out = "\n".join(lines) + "\n"
    for i, sub in enumerate(chunk.sub_chunks):
        out += f"\n; sub-chunk {i}\n" + describe(sub, _depth + 1)
    return out


def _ir_for(an: Analysis, kinds: tuple[int, ...], tier: ModuleType,
            lines: list[str]) -> str | None:
    from fusevm.jit.unit import emit_text, infer_for
    try:
        typing = infer_for(an, kinds, False)
        tier.check(an, typing)
    except Refuse as e:
        lines.append(f"; refused for these kinds: {e}")
        return None
    if not llvmlite_available():
        lines.append("; (llvmlite is not installed: no IR)")
        return None
    text, _ = emit_text(an, typing, False)
    return text
