"""The trace IR: a recorded path as straight-line nodes with snapshots, and its text form.

A `Recording` is what the recorder saw: the original ips run in order from the trace's
start, the operand-stack depth before each (relative to the depth at the start) and where
control went after the last one. `build` turns it into a `TraceIR` whose nodes say what
each recorded op becomes:

* `op`: runs as is (its slot operands renumbered, see below);
* `guard`: a conditional branch that must go the way it went while recording; the other
  way is a side exit, described by the node's `exit` snapshot;
* `enter` / `leave`: a `Call` / `Return` of an inlined callee (nothing runs: arguments
  stay on the stack for the callee's own ops, exactly as in the interpreter);
* `global_get` / `global_set`: a global read or written (carried in a slot while the trace
  runs);
* `entry_read`: an extension op declared an entry read (`register_entry_read`), whose
  value depends only on host state no lowerable op changes (awk's `$3`, `NF`): the trace
  runs it once on entry and carries its value in a slot;
* `close`: the last op, which goes back to the start (a loop) or to the close anchor.

Every node carries the `Snapshot` of the state before it: the original ip and the inlined
frames open there. An exit rebuilds the interpreter's frames from it (D15).

Slot layout while a trace runs: the frame's own slots first (the frame the trace started
in), then one slot per referenced global, one per entry read, then `nslots` slots per
inlining depth.
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.instr import decode, with_operands
from fusevm.jit.trace.states import Abort
from fusevm.ops import F, Kind, Op
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Aborted(Exception):
    """A recording or an IR build that cannot become a trace."""

    def __init__(self, reason: Abort, detail: str = "") -> None:
        super().__init__(f"{reason.value}{': ' + detail if detail else ''}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Recording:
    """A recorded path: ips run in order, stack depth before each, where control went."""

    start: int
    ips: tuple[int, ...]
    depths: tuple[int, ...]
    close: int  # ip control reached after the last op (the start, for a root trace)

    @property
    def loops(self) -> bool:
        return self.close == self.start


@dataclass(frozen=True, slots=True)
class InlineFrame:
    """An inlined call open at some point of the trace."""

    entry: int  # callee entry ip
    return_ip: int
    slot_base: int  # where its slots start in the trace's slot layout
    stack_base: int  # operand-stack depth (relative to the trace's start) of its frame


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state to resume from: original ip, open inlined frames (outermost first) and,
    per frame, the slots its call has written so far (the others are still Undef)."""

    ip: int
    frames: tuple[InlineFrame, ...] = ()
    written: tuple[frozenset[int], ...] = ()


@dataclass(frozen=True, slots=True)
class Node:
    kind: str  # op, guard, enter, leave, global_get, global_set, close
    ip: int
    instr: tuple[Any, ...]  # the op to run (renumbered), or the original for enter/leave
    snap: Snapshot
    exit: Snapshot | None = None  # guard: where the other direction resumes
    taken: bool = False  # guard/close: the branch was taken while recording
    pops: int = 0  # leave: values dropped above the frame (a Return's leftovers)


@dataclass(frozen=True, slots=True)
class TraceIR:
    """A trace ready to lower: nodes, slot layout and what it reads on entry."""

    recording: Recording
    nodes: tuple[Node, ...]
    nslots: int  # the frame's own slots
    globals: tuple[int, ...]  # global name indices, carried in slots nslots + i
    inline_depth: int  # deepest inlined call
    source: str = ""
    #: The inlined frames open where a side trace starts (its parent's exit).
    entry_frames: tuple[InlineFrame, ...] = ()
    reads: tuple[tuple[Any, ...], ...] = ()  # entry-read instructions, after the globals

    @property
    def slot_count(self) -> int:
        return self.nslots + len(self.globals) + len(self.reads) + \
            self.inline_depth * self.nslots

    def global_slot(self, g: int) -> int:
        return self.nslots + self.globals.index(g)

    def exits(self) -> list[Snapshot]:
        return [n.exit for n in self.nodes if n.exit is not None]


_GLOBAL_GET = frozenset({Op.GetVar})
_GLOBAL_SET = frozenset({Op.SetVar, Op.DeclareVar})

#: Extension ops that read the global named by their first operand and then act like
#: another (lowerable, never-deoptimising) op on it: ext id -> that op's instruction.
GLOBAL_READS: dict[int, tuple[Any, ...]] = {}


def register_global_read(ext_id: int, then: tuple[Any, ...]) -> None:
    """Declare extension op `ext_id` as "push globals[operand 0], then run `then`"
    (awk's AwkVarNum is GetVar + AwkNum), so traces carry that global in a slot."""
    GLOBAL_READS[ext_id] = then


#: Extension ops (ids) whose value the trace reads once on entry (see the module doc).
ENTRY_READS: set[int] = set()


def register_entry_read(ext_id: int) -> None:
    """Declare extension op `ext_id` (no stack inputs, one result) an entry read: its value
    depends only on host state that no lowerable op changes, so within one trace entry it
    is a constant. The trace runs its interpreter step on entry."""
    ENTRY_READS.add(ext_id)


def is_entry_read(instr: tuple[Any, ...]) -> bool:
    if instr[0] is Op.Extended or instr[0] is Op.ExtendedWide:
        d = decode(instr)
        return d.ext is not None and d.ext.id in ENTRY_READS
    return False


def reads_of(chunk: Chunk, ips: tuple[int, ...], known: list[tuple[Any, ...]]
             ) -> list[tuple[Any, ...]]:
    """`known` extended by the entry reads at `ips`, in first-use order."""
    for ip in ips:
        instr = chunk.ops[ip]
        if is_entry_read(instr) and instr not in known:
            known.append(instr)
    return known


def global_read(instr: tuple[Any, ...]) -> tuple[int, tuple[Any, ...]] | None:
    """(global index, the op that follows) when `instr` is a declared global read."""
    if instr[0] is Op.Extended or instr[0] is Op.ExtendedWide:
        d = decode(instr)
        if d.ext is not None and d.ext.id in GLOBAL_READS:
            return d.operands[0], GLOBAL_READS[d.ext.id]
    return None


def globals_of(chunk: Chunk, ips: tuple[int, ...], known: list[int]) -> list[int]:
    """`known` extended by the globals the ops at `ips` use, in first-use order."""
    for ip in ips:
        instr = chunk.ops[ip]
        g: int | None = None
        if instr[0] in _GLOBAL_GET or instr[0] in _GLOBAL_SET:
            g = instr[1]
        else:
            read = global_read(instr)
            if read is not None:
                g = read[0]
        if g is not None and g not in known:
            known.append(g)
    return known


def build(chunk: Chunk, rec: Recording, max_inline_recursion: int,
          entry: Snapshot | None = None, globals_: tuple[int, ...] | None = None,
          reads: tuple[tuple[Any, ...], ...] | None = None) -> TraceIR:
    """The IR of a recording; raises Aborted when the path cannot be a trace.

    A side trace starts from its parent's exit snapshot `entry` (inlined frames may be
    open there). Traces of one tree share one slot layout: `globals_` orders the globals
    of all of them, and `reads` their entry reads.
    """
    nslots = chunk.slot_count
    if globals_ is None:
        globals_ = tuple(globals_of(chunk, rec.ips, []))
    if reads is None:
        reads = tuple(reads_of(chunk, rec.ips, []))
    first_reads = nslots + len(globals_)
    first_scratch = first_reads + len(reads)
    frames: list[InlineFrame] = []
    written: list[set[int]] = []
    if entry is not None:
        for j, f in enumerate(entry.frames):
            frames.append(InlineFrame(f.entry, f.return_ip, first_scratch + j * nslots,
                                      f.stack_base))
            written.append(set(entry.written[j]))
    entry_frames = tuple(frames)
    nodes: list[Node] = []
    deepest = len(frames)
    count = len(rec.ips)
    for pos, ip in enumerate(rec.ips):
        nxt = rec.ips[pos + 1] if pos + 1 < count else rec.close
        depth = rec.depths[pos]
        snap = Snapshot(ip, tuple(frames), tuple(frozenset(w) for w in written))
        instr = chunk.ops[ip]
        op = instr[0]
        d = decode(instr)
        last = pos + 1 == count
        if op is Op.Call:
            callee = chunk.find_sub(instr[1])
            if callee is None:
                raise Aborted(Abort.UNKNOWN_CALL, chunk.names[instr[1]])
            if nxt != callee:
                raise Aborted(Abort.BAD_METADATA, f"op {ip} calls {callee}, not {nxt}")
            if sum(1 for f in frames if f.entry == callee) >= max_inline_recursion:
                raise Aborted(Abort.RECURSION, chunk.names[instr[1]])
            frames.append(InlineFrame(callee, ip + 1, first_scratch + len(frames) * nslots,
                                      depth - instr[2]))
            written.append(set())
            deepest = max(deepest, len(frames))
            nodes.append(Node("enter", ip, instr, snap))
            continue
        if op is Op.Return or op is Op.ReturnValue:
            if not frames:
                raise Aborted(Abort.LEAVES_FRAME)
            frame = frames.pop()
            written.pop()
            keep = 1 if op is Op.ReturnValue else 0
            extra = depth - keep - frame.stack_base
            if extra and keep:
                raise Aborted(Abort.RETURN_STACK, f"op {ip}")
            if nxt != frame.return_ip:
                raise Aborted(Abort.BAD_METADATA, f"op {ip} returns to {frame.return_ip}")
            nodes.append(Node("leave", ip, instr, snap, pops=extra))
            continue
        if d.spec.has(F.RETURN) or d.spec.has(F.SCOPE):
            raise Aborted(Abort.SCOPE if d.spec.has(F.SCOPE) else Abort.LEAVES_FRAME,
                          d.name)
        base = frames[-1].slot_base if frames else 0
        read = global_read(instr)
        if read is not None:
            slot = nslots + globals_.index(read[0])
            nodes.append(Node("global_get", ip, (Op.GetSlot, slot), snap))
            nodes.append(Node("op", ip, read[1], snap))
            if last:
                raise Aborted(Abort.BAD_METADATA, "the trace ends on a global op")
            continue
        if is_entry_read(instr):
            nodes.append(Node("entry_read", ip, (Op.GetSlot, first_reads + reads.index(instr)),
                              snap))
            if last:
                raise Aborted(Abort.BAD_METADATA, "the trace ends on an entry read")
            continue
        if op in _GLOBAL_GET or op in _GLOBAL_SET:
            slot = nslots + globals_.index(instr[1])
            kind = "global_get" if op in _GLOBAL_GET else "global_set"
            nodes.append(Node(kind, ip, (Op.GetSlot if kind == "global_get" else Op.SetSlot,
                                         slot), snap))
            if last:
                raise Aborted(Abort.BAD_METADATA, "the trace ends on a global op")
            continue
        operands = list(d.operands)
        if base:
            for i, o in enumerate(d.spec.operands):
                if o.kind is Kind.SLOT:
                    operands[i] = operands[i] + base
        if frames:
            for i, o in enumerate(d.spec.operands):
                if o.kind is Kind.SLOT:
                    local = operands[i] - base
                    if op is not Op.SetSlot and local not in written[-1]:
                        raise Aborted(Abort.UNSET_SLOT, f"op {ip} ({d.name}) slot {local}")
                    written[-1].add(local)
        if d.spec.has(F.BRANCH):
            targets = d.targets()
            if len(targets) != 1:
                raise Aborted(Abort.MULTI_TARGET, d.name)
            target = targets[0]
            conditional = not d.spec.has(F.TERMINATOR)
            taken = nxt == target
            if not taken and (not conditional or nxt != ip + 1):
                raise Aborted(Abort.BAD_METADATA, f"op {ip} does not lead to {nxt}")
            renumbered = with_operands(d, tuple(operands))
            if last:
                kind = "close"
            elif not conditional:
                kind = "jump"
            else:
                kind = "guard" if target != ip + 1 else "op"
            other = ip + 1 if taken else target
            exit_snap = Snapshot(other, snap.frames, snap.written) if conditional else None
            nodes.append(Node(kind, ip, renumbered, snap, exit_snap, taken))
            continue
        if nxt != ip + 1:
            raise Aborted(Abort.BAD_METADATA, f"op {ip} does not lead to {nxt}")
        nodes.append(Node("close" if last else "op", ip, with_operands(d, tuple(operands)),
                          snap))
    if frames:
        raise Aborted(Abort.BAD_METADATA, "the trace ends inside an inlined call")
    return TraceIR(rec, tuple(nodes), nslots, globals_, deepest, chunk.source or "<chunk>",
                   entry_frames, reads)


def format_ir(ir: TraceIR, chunk: Chunk | None = None, path: tuple[int, ...] = ()) -> str:
    """The IR as text, one node a line (what `fusevm jit-dump` prints)."""
    rec = ir.recording
    kind = "loop" if not path else f"side trace at exit path {list(path)}, back to op " \
        f"{rec.close}"
    lines = [f"; trace at op {rec.start} ({kind}): {len(ir.nodes)} nodes, globals "
             f"{[_name(chunk, g) for g in ir.globals]}, inline depth {ir.inline_depth}"]
    for i, n in enumerate(ir.nodes):
        indent = "  " * (len(n.snap.frames) + 1)
        orig = decode(chunk.ops[n.ip]).name if chunk is not None else str(n.instr[0])
        text = f"{i:4d} {indent}{n.kind:<10} op {n.ip:<5} {orig}"
        if n.kind == "entry_read":
            text += f" -> slot {n.instr[1]} (read on entry)"
        elif n.kind in ("global_get", "global_set") and chunk is not None:
            text += f" {_name(chunk, chunk.ops[n.ip][1])} -> slot {n.instr[1]}"
        elif n.kind in ("op", "guard", "close", "jump"):
            d = decode(n.instr)
            if d.operands:
                text += " " + " ".join(str(o) for o in d.operands)
        if n.kind == "guard" and n.exit is not None:
            text += f"   ; expect {'taken' if n.taken else 'fall-through'}, else exit " \
                    f"to op {n.exit.ip}"
        if n.kind == "enter" and chunk is not None:
            text += f"   ; inline {_name(chunk, chunk.ops[n.ip][1])}"
        lines.append(text)
    return "\n".join(lines)


def _name(chunk: Chunk | None, g: int) -> str:
    if chunk is None or not 0 <= g < len(chunk.names):
        return f"#{g}"
    return str(chunk.names[g])
