"""Tier 1, linear: a straight-line chunk that leaves exactly one value, as one block.

It shares everything with the block tier (micro-ops, kind inference, emission, ABI) and
differs only in what it accepts: no op that branches, no fused op whose expansion loops,
exactly one value on the stack at the end. Frontends call it through
`JitCompiler.try_run_linear` (no warm-up); `VM.run()` uses it when the policy picks it.
"""

from __future__ import annotations

from fusevm.jit.config import TraceJitConfig
from fusevm.jit.lower.cx import Refuse
from fusevm.jit.unit import Analysis, Unit, build_unit
from fusevm.ops import F, OpSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

    from fusevm.jit.typeflow import Typing

NAME: Final = "linear"


def op_refusal(spec: OpSpec) -> str | None:
    """The tier's predicate over an op's flags (rule existence is checked elsewhere)."""
    if spec.has(F.BRANCH) or spec.has(F.TERMINATOR):
        return "the linear tier takes straight-line code only, and this op branches"
    return None


def select(an: Analysis) -> str | None:
    """Why the chunk as a whole does not fit this tier, or None."""
    if an.n_ops == 0:
        return "the chunk is empty"
    if not an.cfg.straight_line:
        return "the chunk is not straight-line code"
    if an.end_depth != 1:
        return (f"the linear tier needs exactly one value left on the stack, the chunk "
                f"leaves {an.end_depth}")
    return None


def check(an: Analysis, typing: Typing) -> None:
    """Refuse a typed chunk this tier cannot run: it must leave exactly one value."""
    n = len(typing.results())
    if n != 1:
        raise Refuse(f"the linear tier needs exactly one value left on the stack, "
                     f"the chunk leaves {n}")


def compile(an: Analysis, kinds: tuple[int, ...], strict: bool,
            config: TraceJitConfig) -> Unit:
    """Compile for these live-in kinds; raises Refuse."""
    return build_unit(an, NAME, kinds, strict, config, lambda t: check(an, t))
