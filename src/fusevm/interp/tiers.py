"""How the interpreter reaches the tiers above it without importing them.

A tier provider is named here as `module:function` data; `attach(vm, name)` imports it on
first use and calls `function(vm, **options)`, which installs a tier hook with
`vm.set_tier_hook()`. The interpreter depends only on that hook's small protocol
(`try_run`, `region_step`, `region_threshold`, `start_run`, `interrupt`, `per_run`; see
`VM.set_tier_hook`), never on a tier's modules.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.interp.vm import VM

#: The providers by name: the baseline tier (Python code, on by default) comes from
#: `fusevm.baseline`; the native tiers (linear and block; `tracing=True` asks for the trace
#: tier too) from `fusevm.jit`, whose hook falls back on the one already installed.
PROVIDERS: Final[dict[str, str]] = {"baseline": "fusevm.baseline:attach",
                                    "native": "fusevm.jit.hook:attach"}


#: Set in `Chunk.derived` by a tier once it has compiled code of that chunk object: until
#: then a VM's default tiers are attached only when a hot point needs counting
#: (`VM.prepare`), and a run that has none but the root's entry attaches nothing.
COMPILED: Final = "tiers.compiled"


#: When true, a tier that fails while compiling raises (the test suite sets it); otherwise
#: the failure is logged once per kind and the interpreter keeps running that code.
STRICT = False

_said: set[str] = set()


def failed(exc: Exception) -> None:
    """A tier failed to compile or bind a region: say so once; re-raise under STRICT."""
    if STRICT:
        raise exc
    key = f"{type(exc).__name__}: {exc}"
    if key not in _said:
        _said.add(key)
        import logging  # only on this path: the logging package costs start-up time
        logging.getLogger("fusevm.tiers").warning(
            "a tier failed, the interpreter runs that code instead: %s", key)


#: Each provider's function once imported (every VM attaches one: no import machinery
#: per VM).
_resolved: dict[str, Any] = {}


def _provider(name: str) -> Any:
    """Provider `name`'s function, or the function `name` gives as `module:function`."""
    found = _resolved.get(name)
    if found is None:
        module, _, function = PROVIDERS.get(name, name).partition(":")
        __import__(module)  # (the importlib package costs start-up time)
        found = _resolved[name] = getattr(sys.modules[module], function)
    return found


#: The function saying how many ops a VM runs before its default tiers count hot points
#: (`cold_ops`), as `module:function`.
COLD_OPS: Final = "fusevm.baseline:cold_ops"


def cold_ops(attach: Any) -> int:
    """Ops a VM whose tiers are still to be attached by `attach` (`attach_default` or
    `attach_baseline`) runs before it counts its hot points, with the tiers attached
    only then; 0 to attach them now."""
    return int((_resolved.get(COLD_OPS) or _provider(COLD_OPS))(attach is attach_default))


def attach_default(vm: VM) -> None:
    """Give a `VM(baseline=None)` its default tiers: the baseline tier, unless
    FUSEVM_BASELINE says off (read once per VM: reading the environment is most of what
    attaching costs)."""
    (_resolved.get("baseline") or _provider("baseline"))(vm, by_default=True)


def attach_baseline(vm: VM) -> None:
    """Give a `VM(baseline=True)` the baseline tier (`attach` without options: a keyword
    dict per VM is a fair part of what attaching costs)."""
    (_resolved.get("baseline") or _provider("baseline"))(vm)


def attach(vm: VM, name: str, **options: Any) -> None:
    """Let provider `name` install its tier hook on `vm`."""
    (_resolved.get(name) or _provider(name))(vm, **options)
