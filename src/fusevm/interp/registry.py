"""The handler registry: one factory per op, checked for completeness against `Op`.

A factory is called once per instruction when a VM prepares a chunk:
`factory(vm, operands, ip) -> step`, where `step()` executes the op and returns the index
of the next op to run (or HALT). Binding operands, the next index and the VM's stack
methods into the closure at preparation time is what makes dispatch one indexed call.
"""

from __future__ import annotations

from fusevm.ops import Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

    from fusevm.interp.vm import VM

    Step = Callable[[], int]
    Factory = Callable[["VM", tuple[Any, ...], int], Step]
else:
    # Run-time stand-ins: only the type checker reads them (modules import `Step` for
    # their annotations).
    Any = Step = Factory = object

#: Returned by a step to stop the run loop (any value >= len(ops) would do; this is unique).
HALT: Final = 1 << 62

#: The modules that register an op's factory, for ops whose modules load on first use
#: (filled by `fusevm.interp.handlers.load_all`).
LAZY: dict[Op, tuple[str, ...]] = {}


class _Factories(dict[Op, Factory]):
    """The factory of each op. Looking up an op whose handler module has not been imported
    yet (see LAZY) imports it, so a chunk that never uses such an op never loads that
    module."""

    def __missing__(self, op: Op) -> Factory:
        for module in LAZY.get(op, ()):  # until one registers it
            __import__(module)  # (not importlib.import_module: its package costs start-up)
            if dict.__contains__(self, op):
                break
        return dict.__getitem__(self, op)


FACTORIES: dict[Op, Factory] = _Factories()


def handler(*ops: Op) -> Callable[[Factory], Factory]:
    """Register the decorated factory for one or more ops."""

    def register(factory: Factory) -> Factory:
        for op in ops:
            if op in FACTORIES:
                raise ValueError(f"{op.name} has two handlers")
            FACTORIES[op] = factory
        return factory

    return register


def generated_handler(op: Op, factory: Factory) -> None:
    """Register a factory generated from `op`'s body (`fusevm.interp.handlers.bodies`),
    marked so (`from_body`) and documented as such."""
    factory.__doc__ = f"{op.name}, generated from its body in fusevm.interp.bodies."
    factory.from_body = True  # type: ignore[attr-defined]
    handler(op)(factory)


def check_complete() -> None:
    """Every core op has exactly one handler, registered or to be loaded with its module
    (the registry's exhaustiveness check)."""
    missing = [op.name for op in Op if op not in FACTORIES and not LAZY.get(op)]
    if missing:
        raise RuntimeError(f"ops without a handler: {', '.join(missing)}")
