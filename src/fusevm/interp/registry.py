"""The handler registry: one factory per op, checked for completeness against `Op`.

A factory is called once per instruction when a VM prepares a chunk:
`factory(vm, operands, ip) -> step`, where `step()` executes the op and returns the index
of the next op to run (or HALT). Binding operands, the next index and the VM's stack
methods into the closure at preparation time is what makes dispatch one indexed call.
"""

from __future__ import annotations

from fusevm.errors import VMError
from fusevm.ops import Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

    from fusevm.chunk import Chunk
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


def binders(chunk: Chunk) -> tuple[tuple[Factory, tuple[Any, ...]], ...]:
    """Each op's factory and operands: the part of preparing a VM that depends on the
    chunk alone (immutable), worked out for its first VM."""
    found: tuple[tuple[Factory, tuple[Any, ...]], ...] | None = chunk.derived.get(_BINDERS)
    if found is None:
        try:
            found = tuple((FACTORIES[instr[0]], instr[1:]) for instr in chunk.ops)
        except (OSError, ImportError) as e:
            raise _unloadable(chunk, e) from e
        chunk.derived[_BINDERS] = found
    return found


def _unloadable(chunk: Chunk, e: Exception) -> VMError:
    """The error of a chunk whose op's handler module could not be loaded (say, the
    process has no descriptor left to read it with), at the first such op."""
    ip = next((ip for ip, instr in enumerate(chunk.ops)
               if not dict.__contains__(FACTORIES, instr[0])), None)
    err = VMError(f"cannot load an op's handler: {type(e).__name__}: {e}")
    if ip is None:
        return err
    return err.locate(op=chunk.ops[ip][0].name, ip=ip, source=chunk.source,
                      line=chunk.line_of(ip))


_BINDERS: Final = "binders"
