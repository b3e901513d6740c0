"""The lowering registry: which ops have a lowering rule, shared by every tier.

`@lowers(Op.Add)` registers a rule `rule(cx, decoded)` (see `cx.py`) for core ops; an
extension op's rule comes from its `ExtensionSet.lowerings` or from a globally registered
`JitExtension` (`fusevm.jit.extension`). A fused op with no rule of its own is lowered as
its `fuses` expansion (`fusevm.jit.cfg`). JIT eligibility is derived from this registry and
the tiers' flag predicates (`fusevm.jit.eligibility`); there is no other list of JIT ops.

Each rule also declares how it uses its SLOT operands (`slots="r"`, `"w"` or `"rw"`), which
is all the liveness analysis needs to know about an op.
"""

from __future__ import annotations

from fusevm.instr import Decoded
from fusevm.jit.lower.rule import Rule, wrap_extension
from fusevm.ops import Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

    from fusevm.jit.lower.rule import RuleFn

__all__ = ["Rule", "core_rule", "load_rules", "lowers", "rule_for", "rules",
           "wrap_extension"]

_RULES: dict[str, Rule] = {}

_RULE_MODULES: Final = ("rules_stack", "rules_arith", "rules_compare", "rules_math",
                        "rules_slots", "rules_control")
_loaded = False


def lowers(*ops: Op, slots: str = "rw") -> Callable[[RuleFn], RuleFn]:
    """Register the decorated function as the lowering of core `ops`."""
    if slots not in ("r", "w", "rw"):
        raise ValueError(f"slots must be 'r', 'w' or 'rw', not {slots!r}")

    def register(fn: RuleFn) -> RuleFn:
        for op in ops:
            if op.name in _RULES:
                raise ValueError(f"{op.name} has two lowering rules")
            _RULES[op.name] = Rule(fn, "r" in slots, "w" in slots)
        return fn

    return register


def load_rules() -> None:
    """Import the rule modules (idempotent). They do not need llvmlite."""
    global _loaded
    if not _loaded:
        for name in _RULE_MODULES:
            __import__(f"fusevm.jit.lower.{name}")
        _loaded = True


def rule_for(d: Decoded) -> Rule | None:
    """The rule lowering this decoded instruction, or None."""
    load_rules()
    if d.ext is not None:
        # (the extension machinery loads with the first extension op a tier looks at)
        from fusevm.jit.extension import extension_rule
        return extension_rule(d)
    return _RULES.get(d.spec.name)


def core_rule(op: Op) -> Rule | None:
    """The rule registered for a core op, or None."""
    load_rules()
    return _RULES.get(op.name)


def rules() -> dict[str, Rule]:
    """A snapshot of every core rule by mnemonic."""
    load_rules()
    return dict(_RULES)
