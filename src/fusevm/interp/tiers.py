"""How the interpreter reaches the tiers above it without importing them.

A tier provider is named here as `module:function` data; `attach(vm, name)` imports it on
first use and calls `function(vm, **options)`, which installs a tier hook with
`vm.set_tier_hook()`. The interpreter depends only on that hook's small protocol
(`try_run`, `region_step`, `region_threshold`, `start_run`, `interrupt`, `per_run`; see
`VM.set_tier_hook`), never on a tier's modules.
"""

from __future__ import annotations

import os
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
    found = _resolved.get(name)
    if found is None:
        module, _, function = PROVIDERS[name].partition(":")
        __import__(module)  # (the importlib package costs start-up time)
        found = _resolved[name] = getattr(sys.modules[module], function)
    return found


#: The default tier's compiler (`fusevm.baseline`'s), and what loading it and compiling a
#: first region cost a process, in interpreted ops: about 8 ms of imports and 5-8 ms of
#: compiling, at 100-180 ns an op. Until it is loaded, a VM counts no hot point before it
#: has run LOAD_COST ops (`cold_ops`): counting an entry is a Python call, as long as a
#: short loop's body, and a run shorter than that would lose more to the load (the first
#: look at a hot point loads it) than compiled code could win back (awk's record loop on a
#: 1,000-line file: 2x slower).
COMPILER: Final = "fusevm.baseline.compiler"
LOAD_COST: Final = 160_000
#: The environment variable that sets the default tier's mode (`fusevm.baseline`), as the
#: key of `os.environ`'s own mapping on POSIX.
BASELINE_VARIABLE: Final = b"FUSEVM_BASELINE"
#: The environment as `os.environ` keeps it (POSIX: bytes keys), which `os.environ`'s item
#: assignment updates too: looking a variable up there skips encoding the name and
#: decoding the value, most of what reading it costs (about 2 us, every VM).
ENVIRON: dict[Any, Any] | None = (getattr(os.environ, "_data", None) if os.name == "posix"
                                   else None)


def cold_ops() -> int:
    """Ops a VM runs before it counts the hot points of a chunk nothing of which is
    compiled: LOAD_COST while the default tier's compiler is not loaded, else 0."""
    return 0 if COMPILER in sys.modules else LOAD_COST


def pending_cold_ops() -> int:
    """`cold_ops` for a VM whose default tiers are still to be attached, which attaches
    them only once it counts; 0 (attach now) when FUSEVM_BASELINE is set at all: the
    tier reads it then."""
    if ENVIRON is None or BASELINE_VARIABLE in ENVIRON:
        return 0
    return cold_ops()


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
