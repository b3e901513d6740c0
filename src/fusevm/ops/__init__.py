"""The op table and its derived views: `Op`, `OPS`, `BY_NAME`, sections and flags."""

from __future__ import annotations

from fusevm.ops.derive import (
    BRANCH_OPS,
    BY_NAME,
    EXTENDED_OPS,
    FUSED_OPS,
    SECTIONS,
    SHELL_OPS,
    Op,
    ops_with,
)
from fusevm.ops.spec import F, Kind, Operand, OpSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fusevm.ops.derive import OPS, SCHEMA_HASH

__all__ = [
    "BRANCH_OPS", "BY_NAME", "EXTENDED_OPS", "FUSED_OPS", "OPS", "SCHEMA_HASH", "SECTIONS",
    "SHELL_OPS",
    "F", "Kind", "Op", "OpSpec", "Operand", "ops_with",
]


def __getattr__(name: str) -> object:
    # `OPS` (every row's spec) and `SCHEMA_HASH` are made on first use: see
    # `fusevm.ops.derive`.
    if name in ("OPS", "SCHEMA_HASH"):
        from fusevm.ops import derive
        return getattr(derive, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
