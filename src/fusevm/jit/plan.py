"""Tier decisions and the steps that enter native code, for the hook in `policy.py`.

Whole runs: the first tier in `ORDER` that takes the chunk whole runs it from the root
frame's first op (after `block_threshold` runs). Regions: the region at a hot point is cut
out (`region.py`), a tier is picked for it once per chunk and hot point, and the step
returned enters its unit; a hot point whose region no tier takes goes to the trace tier
when the VM asked for tracing. Everything leaves at an exact op with the interpreter's
state (D15). `describe` is what `fusevm jit-dump` prints.

`policy.JitHook` loads this module on the first decision it needs, so a VM that never
gets hot never imports the tiers.
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.jit import block, linear, runtime
from fusevm.jit.abi import SlotKind
from fusevm.jit.config import get_config
from fusevm.jit.eligibility import kinds_for, static_refusal, tier_module
from fusevm.jit.hook import load_companions
from fusevm.jit.lower.cx import Refuse
from fusevm.jit.policy import llvmlite_available
from fusevm.jit.unit import Analysis
from fusevm.loops import loop_facts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, Final

    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM
    from fusevm.jit.policy import JitHook
    from fusevm.jit.region import Region

#: Tier order for whole runs. The trace tier works on hot points only (`region_step`).
ORDER: Final[tuple[ModuleType, ...]] = (linear, block)


def choose(an: Analysis) -> tuple[ModuleType | None, list[str]]:
    """The first tier in ORDER that accepts the chunk, and why the earlier ones did not."""
    reasons: list[str] = []
    for tier in ORDER:
        refusal = static_refusal(an, tier.NAME)
        if refusal is None:
            return tier, reasons
        reasons.append(f"{tier.NAME}: {refusal}")
    return None, reasons


# -- whole runs -------------------------------------------------------------------------------

def try_run(hook: JitHook, vm: VM) -> bool:
    """`JitHook.try_run` once the JIT is loaded: run the chunk natively from its start if a
    tier takes it whole; True when the run is over, False to interpret from `vm.ip` (moved
    when native code stopped before an op, with the state there handed back)."""
    cfg = get_config()
    chunk = vm.chunk
    if chunk is not hook._chunk:
        hook._plan = whole_plan(vm, hook.force)
        hook._chunk = chunk
    plan = hook._plan
    if plan is None:
        # Root code calling functions the trace tier made native may run whole; a chunk
        # without functions has none to call, and its runs do not load that code.
        if not hook.tracing or hook.force is not None or not chunk.sub_entries:
            return False
        from fusevm.jit.trace.main import try_run as run_main
        return run_main(vm, hook.fuel_addr)
    tier, an = plan
    out = runtime.enter(tier, an, vm.slots, vm.strict_int, cfg.block_threshold,
                        hook.fuel_addr)
    if out is None:
        return False
    ip, values = out
    vm.stack.extend(values)
    if ip < 0:
        vm.ip = an.n_ops
        return True
    vm.ip = ip
    return False


def warm_up(vm: VM, slots: list[Any], strict: bool, force: str | None) -> None:
    """Count a whole run that the hook let the interpreter do before this module was
    loaded, as `try_run` would have counted it then (a warm-up: nothing was compiled yet)."""
    plan = whole_plan(vm, force)
    if plan is not None:
        tier, an = plan
        runtime.unit_for(tier, an, slots, strict, get_config().block_threshold)


def whole_plan(vm: VM, force: str | None) -> tuple[ModuleType, Analysis] | None:
    """The tier that takes the VM's chunk whole (only `force` when given), decided once per
    chunk content and logged; None when none does."""
    chunk = vm.chunk
    try:
        an = runtime.analysis(chunk)
    except VMError as e:
        runtime.log_once(str(id(chunk)), f"{chunk.source}: interpreter (the chunk does not "
                         f"verify: {e})")
        return None
    if not an.ext_ids:
        decided = an.decisions.get(force, False)
        if decided is not False:
            return None if decided is None else (decided, an)
    if not _handlers_present(vm, an):
        return None
    tier, reasons = tier_for(an, force)
    an.decisions[force] = tier
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

if TYPE_CHECKING:
    RegionPlan = tuple[ModuleType, Analysis, Region]

#: The key of a chunk object's region plans in `Chunk.derived` (hot point and forced
#: tier -> its plan, or None when no tier takes its region): they go with the chunk.
_REGIONS: Final = "jit.regions"


def region_plan(vm: VM, h: int, force: str | None = None) -> RegionPlan | None:
    """The tier and analysis of the region entered at hot point `h` (decided once per
    chunk and hot point, and logged)."""
    chunk = vm.chunk
    table: dict[tuple[int, str | None], RegionPlan | None] | None = \
        chunk.derived.get(_REGIONS)
    if table is None:
        table = chunk.derived.setdefault(_REGIONS, {})
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
    from fusevm.jit.region import cut  # (a chunk run whole never cuts a region)
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


def native_step(vm: VM, hook: JitHook, h: int, original: Step) -> Step | None:
    """The step entering a native unit (or a trace) for the region at hot point `h`, or
    None when no native tier takes it."""
    plan = region_plan(vm, h, hook.force)
    if plan is not None:
        tier, an, region = plan
        slots = vm.slots if not region.depth else vm.slots + vm.stack[-region.depth:]
        if runtime.unit_for(tier, an, slots, vm.strict_int, 0) is not None:
            return _region_step(vm, hook, tier, an, region, original)
    if hook.tracing and hook.force is None:
        # Block-eligible regions went first; the trace tier takes the rest. What runs the
        # loop while it counts, records, or once it has given up is the baseline's step
        # when there is one (a loop the trace tier cannot take, such as awk's record
        # loop, still runs compiled: the loop is hot, so it is compiled now), else the
        # interpreter's.
        fallback = hook.fallback
        below = None if fallback is None else (lambda: fallback.step_now(vm, h))
        # Imported here: a process whose hot code all runs in the region tiers (or comes
        # from the disk cache) never loads the trace tier (its import is about a third of
        # the JIT's).
        from fusevm.jit.trace.tier import trace_step
        return trace_step(vm, h, original, hook.fuel_addr, below)
    return None


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


# -- diagnostics ---------------------------------------------------------------------------

def describe(chunk: Chunk, _depth: int = 0) -> str:
    """The tier decision for a chunk and the LLVM IR of its unit for a fresh VM's slots."""
    lines = [f"; chunk {chunk.source!r}: {len(chunk.ops)} ops"]
    try:
        an = runtime.analysis(chunk)
    except VMError as e:
        lines.append(f"; decision: interpreter (the chunk does not verify: {e})")
        return "\n".join(lines) + "\n"
    from fusevm.jit.typeflow import describe_kinds  # (kind inference: compiles only)
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
    from fusevm.jit.trace.tier import describe as trace_describe
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


# What front ends asked to load with the tiers (their extension ops' lowerings), now that
# the tiers are here.
load_companions()
