"""Loops no native tier will ever run, told apart without loading the tiers.

Loading the native tiers costs a process tens of milliseconds of imports; for a loop whose
every iteration runs an op none of them can run (awk's record loop reads input; its
`for (k in a)` steps a key list), they would load only to refuse it, or record a trace
and abort it again and again. `never_native(instr)` answers from the op lists
`fusevm.tools.gen_native` writes from the trace recorder's own test (a trace holds what
any tier can run), and from what was registered since (a lowering added to a set at run
time, a JitExtension, a trace read). `loop_never_native` asks it of the ops every
iteration of a loop runs: those of its header's block.
"""

from __future__ import annotations

import sys

from fusevm.instr import decode
from fusevm.jit.native_generated import CORE, EXTENSIONS
from fusevm.ops import F, Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fusevm.chunk import Chunk


def never_native(instr: tuple[Any, ...]) -> bool:
    """Whether no native tier can run this instruction, whatever its operands."""
    op = instr[0]
    if op is not Op.Extended and op is not Op.ExtendedWide:
        return op.name not in CORE
    ext = decode(instr).ext
    if ext is None:
        return False
    owner = ext.owner
    known = EXTENSIONS.get(owner.name)
    if known is None or known[0] != owner.lowerings_from:
        return False  # not a set of the package's: its lowerings are not known here
    if ext.name in known[1] or ext.id in owner.lowerings:
        return False
    # Registered since, in modules a process loads only with the tiers.
    extension = sys.modules.get("fusevm.jit.extension")
    if extension is not None and extension.claims(ext.id):
        return False
    ir = sys.modules.get("fusevm.jit.trace.ir")
    return ir is None or (ext.id not in ir.GLOBAL_READS and ext.id not in ir.ENTRY_READS)


def loop_never_native(chunk: Chunk, header: int) -> bool:
    """Whether every iteration of the loop at `header` runs an op no native tier can run:
    one of its header's block (from the header to the first op that may branch), which
    each iteration runs from its start."""
    ops = chunk.ops
    for ip in range(header, len(ops)):
        instr = ops[ip]
        if never_native(instr):
            return True
        spec = decode(instr).spec
        if spec.has(F.BRANCH) or spec.has(F.TERMINATOR) or spec.has(F.RETURN):
            return False
    return False
