"""The op table and its derived views: `Op`, `OPS`, `BY_NAME`, sections and flags."""

from __future__ import annotations

from fusevm.ops.derive import (
    BRANCH_OPS,
    BY_NAME,
    EXTENDED_OPS,
    FUSED_OPS,
    OPS,
    SCHEMA_HASH,
    SECTIONS,
    SHELL_OPS,
    Op,
    ops_with,
)
from fusevm.ops.spec import F, Kind, Operand, OpSpec

__all__ = [
    "BRANCH_OPS", "BY_NAME", "EXTENDED_OPS", "FUSED_OPS", "OPS", "SCHEMA_HASH", "SECTIONS",
    "SHELL_OPS",
    "F", "Kind", "Op", "OpSpec", "Operand", "ops_with",
]
