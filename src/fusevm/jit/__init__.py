"""The JIT's public surface: JitCompiler, configuration, extensions, dump() and set_log().

```python
from fusevm.jit import JitCompiler, TraceJitConfig, SlotKind
vm = VM(chunk); vm.enable_jit()          # linear + block tiers through vm.run()
jit = JitCompiler()
jit.why_not(chunk, tier="block")         # None, or the first refusing op and why
jit.try_run_block(chunk, slots)          # the result, or None when the tier did not run
jit.stats()                              # per tier: compiles, runs, cache hits, deopts, ...
jit.set_jit_cache_dir(path)              # the disk cache (jit/cache/): dir, cap, size, prune
```

llvmlite is imported only when a unit is compiled; eligibility, why_not() and the
configuration work without it, and without it every run is interpreted (D13).

Each name is imported from its module on first use (`JitCompiler`, `dump`, `stats` and
`wait_reoptimized` live in `api.py`), so a process that reaches only a submodule (the
disk cache for a front end's chunk, the configuration) does not load the tiers.
"""

from __future__ import annotations

from fusevm import _lazy_attributes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fusevm.jit.abi import SlotKind, TrapCode, jit_helper_id, register_jit_helper
    from fusevm.jit.api import JitCompiler, dump, stats, wait_reoptimized
    from fusevm.jit.config import TraceJitConfig, get_config, set_config
    from fusevm.jit.eligibility import can_compile
    from fusevm.jit.extension import (
        JitExtension,
        lower_extension,
        register_global_extension,
        unregister_global_extension,
    )
    from fusevm.jit.lower.cx import Cx, Val
    from fusevm.jit.policy import llvmlite_available
    from fusevm.jit.runtime import set_log
    from fusevm.jit.trace.meta import TraceMetadata

#: Where each public name lives.
_HOMES: dict[str, str] = {
    **dict.fromkeys(("SlotKind", "TrapCode", "jit_helper_id", "register_jit_helper"),
                    "fusevm.jit.abi"),
    **dict.fromkeys(("JitCompiler", "dump", "stats", "wait_reoptimized"), "fusevm.jit.api"),
    **dict.fromkeys(("TraceJitConfig", "get_config", "set_config"), "fusevm.jit.config"),
    "can_compile": "fusevm.jit.eligibility",
    **dict.fromkeys(("JitExtension", "lower_extension", "register_global_extension",
                     "unregister_global_extension"), "fusevm.jit.extension"),
    **dict.fromkeys(("Cx", "Val"), "fusevm.jit.lower.cx"),
    "llvmlite_available": "fusevm.jit.policy",
    "set_log": "fusevm.jit.runtime",
    "TraceMetadata": "fusevm.jit.trace.meta",
}


__getattr__, __dir__ = _lazy_attributes(__name__, _HOMES, globals())


__all__ = [
    "Cx", "JitCompiler", "JitExtension", "SlotKind", "TraceJitConfig", "TraceMetadata",
    "TrapCode", "Val",
    "can_compile", "dump", "get_config", "jit_helper_id", "llvmlite_available",
    "lower_extension", "register_global_extension", "register_jit_helper", "set_config",
    "set_log", "stats", "unregister_global_extension", "wait_reoptimized",
]
