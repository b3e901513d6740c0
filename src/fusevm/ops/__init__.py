"""The op table and its derived views: `Op`, `OPS`, `BY_NAME`, sections and flags."""

from __future__ import annotations

from fusevm.ops.derive import BY_NAME, SECTIONS, Op, ops_with
from fusevm.ops.derive import LAZY as _LAZY
from fusevm.ops.spec import F, Kind, Operand, OpSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fusevm.ops.derive import (
        BRANCH_OPS,
        EXTENDED_OPS,
        FUSED_OPS,
        OPS,
        SCHEMA_HASH,
        SHELL_OPS,
    )

__all__ = [
    "BRANCH_OPS", "BY_NAME", "EXTENDED_OPS", "FUSED_OPS", "OPS", "SCHEMA_HASH", "SECTIONS",
    "SHELL_OPS",
    "F", "Kind", "Op", "OpSpec", "Operand", "ops_with",
]


def __getattr__(name: str) -> object:
    # `OPS` (every row's spec), `SCHEMA_HASH` and the tuples of ops with a flag are made on
    # first use: see `fusevm.ops.derive` (`LAZY`).
    if name in _LAZY:
        from fusevm.ops import derive
        return getattr(derive, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
