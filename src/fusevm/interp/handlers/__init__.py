"""Op handlers, one module per table section; importing them fills the registry."""

from __future__ import annotations

import importlib

_MODULES = ("generated", "stack", "variables", "containers", "arith", "compare", "control",
            "io", "higher_order", "fused", "extended", "shell", "math")


def load_all() -> None:
    """Import every handler module (each registers its factories on import)."""
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}")
