"""Op handlers, one module per concept; importing one fills the registry with its factories.

Every module loads when a chunk first uses an op of a section it serves
(`registry.FACTORIES` imports it on the first lookup): the steps generated from the ops'
bodies, one module per section (`generated.MODULES`: constants, stack, variables,
arithmetic, comparisons, jumps, the fused slot ops, ...), then the section's hand-written
handlers, so a chunk of a few core ops loads the steps of those sections only and never
the math, container, higher-order or shell machinery.
"""

from __future__ import annotations

from fusevm.interp.handlers.generated import MODULES as GENERATED_MODULES
from fusevm.interp.registry import FACTORIES, LAZY
from fusevm.ops import SECTIONS, F, ops_with

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

#: The modules holding the handlers of each op-table section's ops without a body
#: (sections whose every op has a body need none).
SECTION_MODULES: Final[dict[str, tuple[str, ...]]] = {
    "Stack": ("stack",),
    "Variables": ("variables",),
    "Arrays": ("containers",),
    "Hashes": ("containers",),
    "Collections": ("containers",),
    "Arithmetic": ("arith",),
    "String": ("compare",),
    "Comparison": ("compare",),
    "Logical / Bitwise": ("compare", "arith"),
    "Functions": ("control",),
    "Scope": ("control",),
    "I/O": ("io",),
    "Higher-order": ("higher_order",),
    "Fused": ("fused",),
    "Builtins": ("extended",),
    "Extension point": ("extended",),
    "Shell": ("shell",),
    "Math": ("math",),
}


#: The module of the shell section's generic ops (those the op table gives no SHELL flag:
#: `SetStatus`, `GetStatus`), which need none of the shell machinery.
GENERIC_SHELL_MODULE: Final = "status"


def load_all() -> None:
    """Name, for every op, the modules to import on its first lookup: its section's
    generated steps first, then its hand-written handlers."""
    generic = (f"{__name__}.{GENERIC_SHELL_MODULE}",)
    shell = ops_with(F.SHELL)
    for section, ops in SECTIONS.items():
        generated = GENERATED_MODULES.get(section)
        modules = ((f"{__name__}.{generated}",) if generated is not None else ()) + \
            tuple(f"{__name__}.{m}" for m in SECTION_MODULES.get(section, ()))
        for op in ops:
            if op not in FACTORIES:
                LAZY[op] = generic if section == "Shell" and op not in shell else modules

