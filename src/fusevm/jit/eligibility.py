"""JIT eligibility, derived: `op_refusal(op, tier)`, `can_compile`, `static_refusal`, `why_not`.

An op can be compiled by a tier when the lowering registry has a rule for it (or, for a
fused op, for every op of its `fuses` expansion) and the tier's predicate over the op's
table flags accepts it. There is no list of JIT-able ops anywhere: adding a rule is what
makes an op eligible. `why_not` names the first refusing op and the reason; past the
per-op check it runs kind inference for the given slots, so it also reports refusals that
depend on kinds (a Str slot read by the loop, Int and Float meeting in one slot).
"""

from __future__ import annotations

from fusevm.instr import Decoded, decode
from fusevm.jit import block, linear
from fusevm.jit.cfg import expand
from fusevm.jit.lower.cx import Refuse
from fusevm.jit.lower.registry import rule_for
from fusevm.jit.unit import KIND_OF, OTHER, Analysis, infer_for
from fusevm.ops import F, Op
from fusevm.values import Undef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, Final

#: Tier modules by name. Their order is decided in policy.py, not here.
TIERS: Final[dict[str, ModuleType]] = {linear.NAME: linear, block.NAME: block}

_HINTS: Final = ((F.CALL, "calls are not compiled by the linear and block tiers"),
                 (F.RETURN, "returns are not compiled by the linear and block tiers"),
                 (F.SCOPE, "scope frames are not compiled"),
                 (F.IO, "it does I/O"), (F.SHELL, "it is a shell op"),
                 (F.EXTENDED, "no JIT lowering is registered for this extension op"),
                 (F.BLOCK_CALL, "it runs a block in the interpreter"))


def tier_module(tier: str) -> ModuleType:
    try:
        return TIERS[tier]
    except KeyError:
        raise ValueError(f"unknown tier {tier!r} (expected one of {', '.join(TIERS)})") \
            from None


def op_refusal(d: Decoded, tier: str) -> str | None:
    """Why `tier` cannot compile this instruction (any operand kinds), or None."""
    refusal: str | None = tier_module(tier).op_refusal(d.spec)
    if refusal is not None:
        return refusal
    if rule_for(d) is not None:
        return None
    if d.spec.has(F.FUSED):
        for part, _ in expand(d):
            inner = op_refusal(part, tier)
            if inner is not None:
                return f"its expansion's {part.name}: {inner}"
        return None
    hint = next((text for flag, text in _HINTS if d.spec.has(flag)), None)
    return f"no lowering rule for {d.name}" + (f" ({hint})" if hint else "")


def can_compile(op: Op | Decoded, tier: str) -> bool:
    """True when `tier` has a way to lower `op` (for some operand kinds)."""
    d = op if isinstance(op, Decoded) else Decoded(op.spec, (0,) * len(op.spec.operands))
    return op_refusal(d, tier) is None


def static_refusal(an: Analysis, tier: str) -> str | None:
    """The first reachable op `tier` refuses (by op and flags alone), or a whole-chunk reason."""
    cached = an.static_refusal.get(tier, "")
    if cached != "":
        return cached
    result: str | None = None
    if an.mixed:
        # Lowering gives each op one stack depth (`verify.Analysis.mixed`).
        result = f"op {min(an.mixed)} is reached at different stack depths by two regions"
    for ip, instr in enumerate(an.ops if result is None else ()):
        if an.depth[ip] is None:
            continue
        d = decode(instr)
        refusal = op_refusal(d, tier)
        if refusal is not None:
            result = f"op {ip} ({d.name}): {refusal}"
            break
    if result is None:
        result = an.cfg.refusal or tier_module(tier).select(an)
    an.static_refusal[tier] = result
    return result


def kinds_for(an: Analysis, slots: list[Any] | None) -> tuple[int, ...]:
    """Live-in kinds for these slot values (None: a fresh VM, every slot Undef)."""
    if slots is None:
        slots = [Undef] * max(an.nslots, an.slot_count)
    get = KIND_OF.get
    return tuple(get(type(slots[s]), OTHER) if s < len(slots) else KIND_OF[type(Undef)]
                 for s in an.live_in)


def refusal(an: Analysis, tier: str, slots: list[Any] | None, strict: bool) -> str | None:
    """Static refusal, then kind inference for `slots`: None when the tier would compile."""
    static = static_refusal(an, tier)
    if static is not None:
        return static
    try:
        typing = infer_for(an, kinds_for(an, slots), strict)
        tier_module(tier).check(an, typing)
    except Refuse as e:
        return str(e)
    return None
