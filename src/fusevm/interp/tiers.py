"""How the interpreter reaches the tiers above it without importing them.

A tier provider is named here as `module:function` data; `attach(vm, name)` imports it on
first use and calls `function(vm, **options)`, which installs a tier hook with
`vm.set_tier_hook()`. The interpreter depends only on that hook's small protocol
(`try_run`, `region_step`, `region_threshold`, `start_run`, `interrupt`; see
`VM.set_tier_hook`), never on a tier's modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from fusevm.interp.vm import VM

#: The providers by name: the native tiers (linear and block; `tracing=True` asks for the
#: trace tier too) come from `fusevm.jit`.
PROVIDERS: Final[dict[str, str]] = {"native": "fusevm.jit.policy:attach"}


def attach(vm: VM, name: str, **options: Any) -> None:
    """Let provider `name` install its tier hook on `vm`."""
    module, _, function = PROVIDERS[name].partition(":")
    getattr(importlib.import_module(module), function)(vm, **options)
