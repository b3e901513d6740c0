"""fusevm: a language-agnostic bytecode VM with fused superinstructions, shell ops and a JIT.

The public surface (see docs/api.md): build a chunk with ChunkBuilder (or fusevm.asm.assemble),
run it with VM, extend it with an ExtensionSet.
"""

from __future__ import annotations

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
from fusevm.shell.caps import Caps
from fusevm.values import NativeFn, Ref, Status, Undef

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # The fusion pass is imported on first use: most programs only need it via build().
    if name in ("fuse", "unfuse"):
        from fusevm.peephole import fuse as module
        return getattr(module, name)
    raise AttributeError(f"module 'fusevm' has no attribute {name!r}")

__all__ = [
    "AsmError", "BudgetExceeded", "BuildError", "CapabilityError", "Caps", "Chunk",
    "ChunkBuilder", "ExtOp", "ExtensionSet", "F", "FormatError", "IntegerOverflow",
    "Interrupted", "Kind", "Label", "MemoryLimit", "NativeFn", "Op", "Ref", "ResourceLimit",
    "Status", "Undef", "VM", "VMError", "__version__", "fuse", "unfuse",
]
