"""What a lowering rule is: a function over the lowering context, and its slot effects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fusevm.instr import Decoded
from fusevm.jit.lower.cx import Cx
from fusevm.records import dataclass

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
