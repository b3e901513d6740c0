"""The call stack of a running VM as `VMError.backtrace` frames.

Read from `vm.frames` when an error leaves the dispatch loop: each call frame's
`return_ip - 1` is its call site, whose Call operand names the callee, and the caller's
line is that site's line; the innermost frame's line is the failing op's. Scope frames
belong to the function around them; a block frame (the body of a higher-order op) is
shown as `<block N>`.
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.errors import BacktraceFrame, VMError
from fusevm.instr import decode
from fusevm.ops import F

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


def backtrace(chunk: Chunk, frames: Sequence[Any], ip: int) -> list[BacktraceFrame]:
    """Frames from `<main>` (first) to the function running op `ip` (last).

    `frames` is the VM's frame list (`vm.frames`, root first) at the time of the error.
    """
    source = chunk.source
    names = ["<main>"]
    lines: list[int | None] = []
    for frame in frames[1:]:
        if frame.kind == frame.SCOPE:
            continue
        if frame.kind == frame.BLOCK:
            index = next((i for i, (_, end) in enumerate(chunk.block_ranges)
                          if end == frame.return_ip), None)
            names.append("<block>" if index is None else f"<block {index}>")
            lines.append(None)  # the higher-order op that ran it is not on record
            continue
        site = frame.return_ip - 1
        names.append(_callee(chunk, site))
        lines.append(chunk.line_of(site))
    lines.append(chunk.line_of(ip))
    return [(name, source, line) for name, line in zip(names, lines)]


def _callee(chunk: Chunk, site: int) -> str:
    if 0 <= site < len(chunk.ops):
        try:
            d = decode(chunk.ops[site])
        except VMError:  # an unknown extension id: the callee cannot be named
            return "?"
        if d.spec.has(F.CALL) and d.operands and d.operands[0] < len(chunk.names):
            return str(chunk.names[d.operands[0]])
    return "?"
