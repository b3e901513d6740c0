"""fusevm: a language-agnostic bytecode VM with fused superinstructions, shell ops and a JIT.

The public surface (see docs/api.md): build a chunk with ChunkBuilder (or fusevm.asm.assemble),
run it with VM, extend it with an ExtensionSet.

Each name is imported from its module on first use, so `import fusevm` (and every command
line that starts with it) loads nothing it does not use: no op table, no VM, no JIT.
"""

from __future__ import annotations

import sys

from fusevm import modpack as _modpack

# The package's other modules are served from its module pack when it is current.
_modpack.install(__name__, __path__[0])

# Not `from typing import TYPE_CHECKING`: importing typing would be most of what
# `import fusevm` costs. Type checkers treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from fusevm.chunk import Chunk, ChunkBuilder, Label
    from fusevm.errors import (
        AsmError,
        BudgetExceeded,
        BuildError,
        CapabilityError,
        FormatError,
        IntegerOverflow,
        Interrupted,
        MemoryLimit,
        ResourceLimit,
        VMError,
    )
    from fusevm.interp.vm import VM
    from fusevm.ops import F, Kind, Op
    from fusevm.ops.extension import ExtensionSet, ExtOp
    from fusevm.peephole.fuse import fuse, unfuse
    from fusevm.shell.caps import Caps
    from fusevm.values import NativeFn, Ref, Status, Undef

__version__ = "0.1.0"

#: Where each public name lives.
_HOMES: dict[str, str] = {
    **dict.fromkeys(("Chunk", "ChunkBuilder", "Label"), "fusevm.chunk"),
    **dict.fromkeys(("AsmError", "BudgetExceeded", "BuildError", "CapabilityError",
                     "FormatError", "IntegerOverflow", "Interrupted", "MemoryLimit",
                     "ResourceLimit", "VMError"), "fusevm.errors"),
    "VM": "fusevm.interp.vm",
    **dict.fromkeys(("F", "Kind", "Op"), "fusevm.ops"),
    **dict.fromkeys(("ExtensionSet", "ExtOp"), "fusevm.ops.extension"),
    **dict.fromkeys(("fuse", "unfuse"), "fusevm.peephole.fuse"),
    "Caps": "fusevm.shell.caps",
    **dict.fromkeys(("NativeFn", "Ref", "Status", "Undef"), "fusevm.values"),
}


def _lazy_attributes(package: str, homes: dict[str, str], namespace: dict[str, object]
                     ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The PEP 562 `__getattr__` and `__dir__` of package `package` (this one,
    `fusevm.jit`, `fusevm.regex`), whose namespace is `namespace` and whose public names
    live in the modules `homes` gives by name: a name is imported from its module when
    first asked for, then kept in the namespace, so later lookups do not come here. (Here,
    where every package of fusevm finds it loaded already.)"""
    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        __import__(home)  # (not importlib.import_module: the importlib package costs start-up)
        value = getattr(sys.modules[home], name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__


__getattr__, __dir__ = _lazy_attributes(__name__, _HOMES, globals())


__all__ = [
    "AsmError", "BudgetExceeded", "BuildError", "CapabilityError", "Caps", "Chunk",
    "ChunkBuilder", "ExtOp", "ExtensionSet", "F", "FormatError", "IntegerOverflow",
    "Interrupted", "Kind", "Label", "MemoryLimit", "NativeFn", "Op", "Ref", "ResourceLimit",
    "Status", "Undef", "VM", "VMError", "__version__", "fuse", "unfuse",
]
