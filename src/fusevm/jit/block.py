"""Tier 2, block: a whole chunk as a CFG of basic blocks, loops and branches included.

Leaders come from the op table's BRANCH/TERMINATOR flags, blocks are named after op
indices, operand-stack values flow across blocks as phis (`typeflow.py`), and every fused
op lowers through its rule or its expansion. A unit is specialised on the kinds of the
slots the chunk may read first (checked again at native entry); Bool results stay Bool.
`VM.run()` reaches it after `block_threshold` interpreted runs per kind vector.
"""

from __future__ import annotations

from fusevm.jit.config import TraceJitConfig
from fusevm.jit.unit import Analysis, Unit, build_unit
from fusevm.ops import F, OpSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

    from fusevm.jit.typeflow import Typing

NAME: Final = "block"


def op_refusal(spec: OpSpec) -> str | None:
    """The tier's predicate over an op's flags (rule existence is checked elsewhere)."""
    if spec.has(F.EXTENDED) and (spec.has(F.BRANCH) or spec.has(F.TERMINATOR)):
        return "extension ops that branch cannot be lowered"
    return None


def select(an: Analysis) -> str | None:
    """Why the chunk as a whole does not fit this tier, or None."""
    if an.n_ops == 0:
        return "the chunk is empty"
    return None


def check(an: Analysis, typing: Typing) -> None:
    """Refuse a typed chunk this tier cannot run (every typed chunk is fine)."""


def compile(an: Analysis, kinds: tuple[int, ...], strict: bool,
            config: TraceJitConfig) -> Unit:
    """Compile for these live-in kinds; raises Refuse."""
    return build_unit(an, NAME, kinds, strict, config, lambda t: check(an, t))
