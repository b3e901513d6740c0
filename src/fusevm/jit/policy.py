"""The one place that orders the tiers: linear, then block, then the interpreter.

`attach(vm)` installs a `JitHook` as `vm._jit` (VM.enable_jit / enable_tracing_jit). On
every `vm.run()` the hook checks that the VM is at the start of its chunk in its root
frame, picks the first tier in `ORDER` whose static check accepts the chunk (once per
chunk), and hands the run to `runtime.run`; on None the interpreter runs as if the JIT did
not exist. Without llvmlite, or with FUSEVM_JIT=off, no hook is installed and the VM says
so once through the log (D13).
"""

from __future__ import annotations

import importlib.util
import logging
from types import ModuleType
from typing import TYPE_CHECKING, Final

from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.jit import block, linear, runtime
from fusevm.jit.abi import SlotKind
from fusevm.jit.config import get_config
from fusevm.jit.eligibility import kinds_for, static_refusal, tier_module
from fusevm.jit.lower.cx import Refuse
from fusevm.jit.typeflow import describe_kinds
from fusevm.jit.unit import Analysis

if TYPE_CHECKING:
    from fusevm.interp.vm import VM

#: Tier order for `VM.run()`. The trace tier will slot in before the interpreter.
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
    """What `vm._jit` holds: `try_run(vm)` runs the whole chunk natively or returns False."""

    __slots__ = ("tracing", "force", "_chunk", "_plan")

    def __init__(self, tracing: bool, force: str | None = None) -> None:
        self.tracing = tracing
        self.force = force  # a tier name: use only that tier (tests, benchmarks)
        self._chunk: Chunk | None = None
        self._plan: tuple[ModuleType, Analysis] | None = None

    def try_run(self, vm: VM) -> bool:
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
        results = runtime.run(tier, an, vm.slots, vm.strict_int, cfg.block_threshold)
        if results is None:
            return False
        vm.stack.extend(results)
        vm.ip = an.n_ops
        return True

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
        for ext_id in an.ext_ids:
            try:
                vm.ext_handler(ext_id, f"{ext_id:#x}")
            except VMError:
                runtime.log_once(an.digest, f"{chunk.source}: interpreter (extension op "
                                 f"{ext_id:#x} has no handler in this VM)")
                return None
        if self.force is not None:
            forced = tier_module(self.force)
            refusal = static_refusal(an, self.force)
            tier, reasons = (forced, []) if refusal is None else (None, [f"{self.force}: "
                                                                        f"{refusal}"])
        else:
            tier, reasons = choose(an)
        an.decisions[self.force] = tier
        if tier is None:
            runtime.log_once(an.digest, f"{chunk.source}: interpreter ({'; '.join(reasons)})")
            return None
        runtime.log_once(an.digest, f"{chunk.source}: {tier.NAME} tier chosen")
        return tier, an


def attach(vm: VM, *, tracing: bool, force: str | None = None) -> None:
    """Install the JIT hook on a VM (nothing happens when the JIT cannot run).

    `force` names the only tier to use (tests and benchmarks); by default ORDER decides.
    """
    if force is not None:
        tier_module(force)
    if tracing:
        runtime.log_once("config", "the trace tier is not available yet: linear and block "
                         "tiers only")
    if jit_usable():
        vm._jit = JitHook(tracing, force)


def detach(vm: VM) -> None:
    """Remove the JIT hook: the VM interprets everything again."""
    vm._jit = None


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
