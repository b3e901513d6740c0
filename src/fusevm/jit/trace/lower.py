"""A trace tree to a chunk the block tier compiles natively, and the exits it can take.

A tree is a root trace (a loop) and the side traces stitched to its exits, recursively.
It lowers to one chunk: the root's ops from op 0, looping back to op 0, then each side
trace's ops, which its parent's exit branches to and which jump back to op 0 when they
reach the loop header. Guards keep the recorded op (so its semantics are the
interpreter's, fused ops included) with its targets rearranged: the recorded direction
continues, the other one goes to the side trace stitched there or to an exit stub.

An exit stub spills the operand-stack values above the trace's start into slots of its
own, pushes the exit id and jumps to the end, so every way out of the unit ends with the
same stack depth (the unit's end is one join) and the exit id on top. A deopt inside the
unit (overflow, a kind the unit does not handle, no fuel left) stops before a lowered op
whose `snaps` entry says where that is in the original chunk (D15).

The native unit is the block tier's (typeflow, guards, fuel polls at loop headers), under
the tier name "trace" so its counters and cache files are its own.
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.instr import decode
from fusevm.jit import block
from fusevm.jit.config import TraceJitConfig
from fusevm.jit.trace.ir import Snapshot, TraceIR
from fusevm.jit.unit import Analysis, Unit, build_unit
from fusevm.ops import F, Op, OpSpec
from fusevm.records import dataclass, field
from fusevm.verify import verify

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

NAME: Final = "trace"


@dataclass(eq=False, slots=True)
class Part:
    """One trace of a tree: its IR and the side traces stitched to its local exits."""

    ir: TraceIR
    children: dict[int, Part] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Lowered:
    """A lowered tree: its chunk, the snapshot before each of its ops, and its exits."""

    chunk: Chunk
    snaps: tuple[Snapshot, ...]  # lowered op index -> state before it (deopt resumes)
    exits: tuple[Snapshot, ...]  # exit id -> where the interpreter resumes
    owners: tuple[tuple[Part, int], ...]  # exit id -> (trace, its local exit number)
    spills: tuple[tuple[int, ...], ...]  # exit id -> slots holding its stack, bottom first
    #: The slot counting trips round the loop (an Int, 0 on entry): what the tier's
    #: short-loop back-off reads at exit. None for a side trace compiled alone.
    trips: int | None = None


if TYPE_CHECKING:
    Ref = tuple[str, Any]  # ("op", index) | ("exit", exit id) | ("part", Part)


def local_exits(ir: TraceIR, header: int | None = None) -> list[Snapshot]:
    """A trace's exits in local order (what side traces attach to); with `header`, the
    closing branch's way back to the loop header is one more, the last."""
    return [s for s, _ in _emit_part(ir, [], [], [], None, header)]


def lower(root: Part, chunk: Chunk, slot_count: int, header: int | None = None) -> Lowered:
    """Lower a tree (see the module docstring); `slot_count` covers every trace's layout.

    With `header` the root is a side trace compiled alone (linked to its parent's exit by
    the tier): where it reaches the loop header at op `header` it leaves by its last
    exit instead of looping to its own start."""
    ops: list[list[Any]] = []
    snaps: list[Snapshot] = []
    lines: list[int] = []
    patches: list[tuple[int, int, Ref]] = []
    exits: list[Snapshot] = []
    owners: list[tuple[Part, int]] = []
    starts: dict[int, int] = {}
    trips = slot_count if header is None else None
    queue = [root]
    while queue:
        part = queue.pop(0)
        starts[id(part)] = len(ops)
        outs = _emit_part(part.ir, ops, snaps, lines, chunk, header, trips)
        for k, (snap, ref_at) in enumerate(outs):
            child = part.children.get(k)
            if child is not None:
                queue.append(child)
                for at, pos in ref_at:
                    patches.append((at, pos, ("part", child)))
            else:
                for at, pos in ref_at:
                    patches.append((at, pos, ("exit", len(exits))))
                exits.append(snap)
                owners.append((part, k))
    resolved = [(at, pos, starts[id(ref[1])] if ref[0] == "part" else ref)
                for at, pos, ref in patches]
    # Every exit stub must leave the same stack depth: first find each stub's depth.
    name = f"{chunk.source or '<chunk>'} (trace at op {root.ir.recording.start})"
    first_spill = slot_count + (trips is not None)
    probe = _finish(ops, lines, exits, resolved, chunk, name, first_spill, ())
    depth = verify(probe).depth
    spills: list[tuple[int, ...]] = []
    next_slot = first_spill
    for k in range(len(exits)):
        d = depth[len(ops) + 2 * k] or 0
        spills.append(tuple(range(next_slot, next_slot + d)))
        next_slot += d
    lowered = _finish(ops, lines, exits, resolved, chunk, name, next_slot, tuple(spills))
    stub_snaps = [exits[k] for k, sp in enumerate(spills) for _ in range(len(sp) + 2)]
    return Lowered(lowered, tuple(snaps + stub_snaps), tuple(exits), tuple(owners),
                   tuple(spills), trips)


def _emit_part(ir: TraceIR, ops: list[list[Any]], snaps: list[Snapshot], lines: list[int],
               chunk: Chunk | None,
               header: int | None = None,
               trips: int | None = None) -> list[tuple[Snapshot, list[tuple[int, int]]]]:
    """Emit one trace's ops; returns, per local exit, its snapshot and the (op index,
    operand position) places that branch to it (with `header`, the way back to the loop
    header last). With `trips`, each way back to op 0 first increments that slot."""
    outs: list[tuple[Snapshot, list[tuple[int, int]]]] = []
    back: list[tuple[Snapshot, list[tuple[int, int]]]] = []

    def emit(instr: tuple[Any, ...], snap: Snapshot) -> int:
        ops.append(list(instr))
        snaps.append(snap)
        lines.append((chunk.line_of(snap.ip) or 0) if chunk is not None else 0)
        return len(ops) - 1

    def branch(instr: tuple[Any, ...], snap: Snapshot, target: int | None,
               exit_snap: Snapshot | None) -> None:
        """Emit a one-target branch going to op `target` or to a new exit."""
        d = decode(instr)
        pos = d.spec.targets[0] + 1  # operand positions count from the instruction's [1]
        at = emit(instr, snap)
        if exit_snap is not None:
            outs.append((exit_snap, [(at, pos)]))
        else:
            ops[at][pos] = target

    def jump(snap: Snapshot, target: int | None, exit_snap: Snapshot | None) -> None:
        branch((Op.Jump, 0), snap, target, exit_snap)

    def loop_back(instr: tuple[Any, ...], snap: Snapshot) -> None:
        """`instr` (a branch) going back to the loop header: op 0, or the last exit."""
        if header is None:
            if trips is not None:
                emit((Op.PreIncSlotVoid, trips), snap)
            branch(instr, snap, 0, None)
            return
        d = decode(instr)
        at = emit(instr, snap)
        back.append((Snapshot(header), [(at, d.spec.targets[0] + 1)]))

    for node in ir.nodes:
        snap = node.snap
        kind = node.kind
        if kind in ("enter", "jump"):
            continue
        if kind == "leave":
            for _ in range(node.pops):
                emit((Op.Pop,), snap)
            continue
        if kind in ("op", "global_get", "global_set", "entry_read"):
            d = decode(node.instr)
            if d.spec.has(F.BRANCH):  # a conditional branch to its own fall-through
                branch(node.instr, snap, len(ops) + 1, None)
            else:
                emit(node.instr, snap)
            continue
        d = decode(node.instr)
        is_branch = d.spec.has(F.BRANCH)
        conditional = is_branch and not d.spec.has(F.TERMINATOR)
        if kind == "guard":
            assert node.exit is not None
            if node.taken:
                branch(node.instr, snap, len(ops) + 2, None)
                jump(snap, None, node.exit)
            else:
                branch(node.instr, snap, None, node.exit)
            continue
        # The close: back to op 0, the loop header (side traces close there too).
        if not is_branch:
            emit(node.instr, snap)
            loop_back((Op.Jump, 0), snap)
        elif not conditional:
            loop_back((Op.Jump, 0), snap)
        elif node.taken:
            loop_back(node.instr, snap)
            jump(snap, None, Snapshot(node.ip + 1))
        else:
            branch(node.instr, snap, None, Snapshot(d.targets()[0]))
            loop_back((Op.Jump, 0), snap)
    return outs + back


def _finish(body: list[list[Any]], lines: list[int], exits: list[Snapshot],
            patches: list[tuple[int, int, Any]], chunk: Chunk, name: str, slot_count: int,
            spills: tuple[tuple[int, ...], ...]) -> Chunk:
    """The lowered chunk: the body, then one stub per exit (spills, exit id, jump to end)."""
    ops = [list(instr) for instr in body]
    all_lines = list(lines)
    stub_at: list[int] = []
    stubs: list[tuple[Any, ...]] = []
    start = len(ops)
    for k in range(len(exits)):
        stub_at.append(start + len(stubs))
        for slot in reversed(spills[k] if spills else ()):
            stubs.append((Op.SetSlot, slot))
        stubs.append((Op.LoadInt, k))
        stubs.append((Op.Jump, -1))
    end = start + len(stubs)
    for instr in stubs:
        ops.append([instr[0], end] if instr[0] is Op.Jump else list(instr))
    all_lines.extend(0 for _ in stubs)
    for at, pos, ref in patches:
        ops[at][pos] = stub_at[ref[1]] if isinstance(ref, tuple) else ref
    return Chunk([tuple(instr) for instr in ops], chunk.constants, chunk.names, all_lines,
                 slot_count, source=name)


# -- the tier module the runtime compiles lowered traces with ----------------------------

def op_refusal(spec: OpSpec) -> str | None:
    return block.op_refusal(spec)


def select(an: Analysis) -> str | None:
    return block.select(an)


def check(an: Analysis, typing: Any) -> None:
    block.check(an, typing)


def compile(an: Analysis, kinds: tuple[int, ...], strict: bool,
            config: TraceJitConfig) -> Unit:
    """Compile a lowered trace tree for these live-in kinds; raises Refuse.

    Straight to the optimising pipeline: a trace is hot by construction, and one entry
    usually runs the whole loop, so the run count that re-optimises other units would
    come too late (an awk BEGIN loop ran 5x slower in the first code)."""
    best = config.replace(first_pipeline=config.reopt_pipeline,
                          first_codegen=config.reopt_codegen)
    return build_unit(an, NAME, kinds, strict, best, lambda t: check(an, t))
