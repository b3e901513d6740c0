"""How errors name an op: its mnemonic, an extension op's own mnemonic included."""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.ops import Op
from fusevm.ops.extension import lookup


def op_name(chunk: Chunk, ip: int) -> str | None:
    """The mnemonic of op `ip` of `chunk` (None outside the chunk)."""
    if not 0 <= ip < len(chunk.ops):
        return None
    instr = chunk.ops[ip]
    if instr[0] is Op.Extended or instr[0] is Op.ExtendedWide:
        ext = lookup(instr[1])
        return ext.name if ext is not None else instr[0].name
    return str(instr[0].name)
