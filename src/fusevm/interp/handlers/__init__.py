"""Op handlers, one module per table section; importing them fills the registry."""

from __future__ import annotations

import importlib

from fusevm.interp.registry import LAZY
from fusevm.ops import SECTIONS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

_MODULES = ("generated", "stack", "variables", "containers", "arith", "compare", "control",
            "io", "higher_order", "fused", "extended", "math")

#: Op-table sections whose handler module loads when a chunk first uses one of their ops:
#: the shell ops' handlers bring the shell's machinery (expansion, redirection, traps)
#: with them, which a chunk without shell ops never needs.
ON_FIRST_USE: Final = {"Shell": "shell"}


def load_all() -> None:
    """Import every handler module (each registers its factories on import), and name the
    module of each op whose module loads on first use."""
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}")
    for section, name in ON_FIRST_USE.items():
        for op in SECTIONS[section]:
            LAZY[op] = f"{__name__}.{name}"
