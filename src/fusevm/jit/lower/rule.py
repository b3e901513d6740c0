"""What a lowering rule is: a function over the lowering context, and its slot effects."""

from __future__ import annotations

from fusevm.instr import Decoded
from fusevm.jit.lower.cx import Cx
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    RuleFn = Callable[[Cx, Decoded], None]


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered lowering: the function, and whether it reads/writes its SLOT operands."""

    fn: RuleFn
    reads_slots: bool = True
    writes_slots: bool = True
    origin: str = "core"


def wrap_extension(fn: Callable[..., Any], origin: str) -> Rule:
    """A Rule around an extension lowering (SLOT operands conservatively read and written)."""
    return Rule(fn, True, True, origin)


#: Bumped whenever the set of extension lowerings changes (`fusevm.jit.extension`), so
#: analyses and units made before are not reused for chunks with extension ops.
_generation = 0


def generation() -> int:
    """Changes whenever the set of extension lowerings changes."""
    return _generation


def bump_generation() -> None:
    """The set of extension lowerings changed (`fusevm.jit.extension` registered one)."""
    global _generation
    _generation += 1
