"""The handler registry: one factory per op, checked for completeness against `Op`.

A factory is called once per instruction when a VM prepares a chunk:
`factory(vm, operands, ip) -> step`, where `step()` executes the op and returns the index
of the next op to run (or HALT). Binding operands, the next index and the VM's stack
methods into the closure at preparation time is what makes dispatch one indexed call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from fusevm.ops import OPS, Op

if TYPE_CHECKING:
    from fusevm.interp.vm import VM

Step = Callable[[], int]
Factory = Callable[["VM", tuple[Any, ...], int], Step]

#: Returned by a step to stop the run loop (any value >= len(ops) would do; this is unique).
HALT: Final = 1 << 62

FACTORIES: dict[Op, Factory] = {}


def handler(*ops: Op) -> Callable[[Factory], Factory]:
    """Register the decorated factory for one or more ops."""

    def register(factory: Factory) -> Factory:
        for op in ops:
            if op in FACTORIES:
                raise ValueError(f"{op.name} has two handlers")
            FACTORIES[op] = factory
        return factory

    return register


def check_complete() -> None:
    """Every core op has exactly one handler (the registry's exhaustiveness check)."""
    missing = [OPS[n].name for n in OPS if Op(n) not in FACTORIES]
    if missing:
        raise RuntimeError(f"ops without a handler: {', '.join(missing)}")
