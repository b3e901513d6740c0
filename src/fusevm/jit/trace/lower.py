"""Trace IR to a chunk the block tier compiles natively, and the exits it can take.

The lowered chunk is straight-line code that loops back to its op 0 (a root trace) or
ends at an exit stub (a side trace). Guards keep the recorded op (so its semantics are
the interpreter's, fused ops included) with its targets rearranged: the recorded
direction continues, the other one jumps to an exit stub `LoadInt <exit id>; Jump <end>`.
The unit therefore ends with the exit id on top of the operand stack, above the values the
interpreter gets back. A deopt inside the unit (overflow, a kind the unit does not
handle, no fuel left) stops before a lowered op whose `snaps` entry says where that is
in the original chunk.

The native unit is the block tier's (typeflow, guards, fuel polls at loop headers), under
the tier name "trace" so its counters and cache files are its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from fusevm.chunk import Chunk
from fusevm.instr import decode
from fusevm.jit import block
from fusevm.jit.config import TraceJitConfig
from fusevm.jit.trace.ir import Snapshot, TraceIR
from fusevm.jit.unit import Analysis, Unit, build_unit
from fusevm.ops import F, Op, OpSpec

NAME: Final = "trace"
_STUB: Final = -1  # a target to patch with an exit stub's position


@dataclass(frozen=True, slots=True)
class Lowered:
    """A lowered trace: its chunk, the snapshot before each of its ops, and its exits."""

    chunk: Chunk
    snaps: tuple[Snapshot, ...]  # lowered op index -> state before it (deopt resumes)
    exits: tuple[Snapshot, ...]  # exit id -> where the interpreter resumes
    closes: frozenset[int]  # exit ids that reach the close anchor (side traces)


def lower(ir: TraceIR, chunk: Chunk) -> Lowered:
    """Lower a trace to a chunk (see the module docstring)."""
    ops: list[list[Any]] = []
    snaps: list[Snapshot] = []
    lines: list[int] = []
    exits: list[Snapshot] = []
    closes: set[int] = set()
    patches: list[tuple[int, int, int]] = []  # (op index, operand position, exit id)
    loops = ir.recording.loops

    def emit(instr: tuple[Any, ...], snap: Snapshot) -> int:
        ops.append(list(instr))
        snaps.append(snap)
        lines.append(chunk.line_of(snap.ip) or 0)
        return len(ops) - 1

    def exit_to(snap: Snapshot, closing: bool = False) -> int:
        exits.append(snap)
        if closing:
            closes.add(len(exits) - 1)
        return len(exits) - 1

    def branch(instr: tuple[Any, ...], snap: Snapshot, target: int | None,
               exit_id: int | None) -> None:
        """Emit a one-target branch going to `target` (an op index) or an exit stub."""
        d = decode(instr)
        pos = d.spec.targets[0]
        at = emit(instr, snap)
        # Operand positions count from the instruction's second element.
        if exit_id is not None:
            patches.append((at, pos + 1, exit_id))
        else:
            ops[at][pos + 1] = target

    def jump(snap: Snapshot, target: int | None, exit_id: int | None) -> None:
        branch((Op.Jump, 0), snap, target, exit_id)

    for node in ir.nodes:
        snap = node.snap
        kind = node.kind
        if kind in ("enter", "jump"):
            continue
        if kind == "leave":
            for _ in range(node.pops):
                emit((Op.Pop,), snap)
            continue
        if kind in ("op", "global_get", "global_set"):
            d = decode(node.instr)
            if d.spec.has(F.BRANCH):  # a conditional branch to its own fall-through
                branch(node.instr, snap, len(ops) + 1, None)
            else:
                emit(node.instr, snap)
            continue
        assert node.exit is not None or kind == "close"
        d = decode(node.instr)
        is_branch = d.spec.has(F.BRANCH)
        conditional = is_branch and not d.spec.has(F.TERMINATOR)
        if kind == "guard":
            assert node.exit is not None
            leave = exit_to(node.exit)
            if node.taken:
                branch(node.instr, snap, len(ops) + 2, None)
                jump(snap, None, leave)
            else:
                branch(node.instr, snap, None, leave)
            continue
        # The close: back to op 0 (a loop) or out to the close anchor (a side trace).
        back = Snapshot(ir.recording.close)
        again: tuple[int | None, int | None] = (0, None) if loops else \
            (None, exit_to(back, closing=True))
        if not is_branch:
            emit(node.instr, snap)
            jump(snap, *again)
        elif not conditional:
            jump(snap, *again)
        elif node.taken:
            branch(node.instr, snap, *again)
            jump(snap, None, exit_to(Snapshot(node.ip + 1)))
        else:
            branch(node.instr, snap, None, exit_to(Snapshot(d.targets()[0])))
            jump(snap, *again)
    stub_at: list[int] = []
    end = len(ops) + 2 * len(exits)
    for k, snap in enumerate(exits):
        stub_at.append(len(ops))
        emit((Op.LoadInt, k), snap)
        emit((Op.Jump, end), snap)
    for at, pos, k in patches:
        ops[at][pos] = stub_at[k]
    final = [tuple(instr) for instr in ops]
    lowered = Chunk(final, chunk.constants, chunk.names, lines, ir.slot_count,
                    source=f"{chunk.source or '<chunk>'} (trace at op {ir.recording.start})")
    return Lowered(lowered, tuple(snaps), tuple(exits), frozenset(closes))


# -- the tier module the runtime compiles lowered traces with ----------------------------

def op_refusal(spec: OpSpec) -> str | None:
    return block.op_refusal(spec)


def select(an: Analysis) -> str | None:
    return block.select(an)


def check(an: Analysis, typing: Any) -> None:
    block.check(an, typing)


def compile(an: Analysis, kinds: tuple[int, ...], strict: bool,
            config: TraceJitConfig) -> Unit:
    """Compile a lowered trace for these live-in kinds; raises Refuse."""
    return build_unit(an, NAME, kinds, strict, config, lambda t: check(an, t))

