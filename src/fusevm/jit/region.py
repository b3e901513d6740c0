"""Regions: a loop nest or a function body cut out of a chunk as a chunk of its own.

A region is entered at one hot point (a loop header, a function entry or a block start;
`fusevm.loops`) with the interpreter's state there. Its ops are copied in order, entry
first, with jump targets renumbered, into a chunk the existing tiers compile like any
other:

* the `depth` values the verifier proved on the operand stack at the entry come in
  through scratch slots after the chunk's own (`GetSlot` ops at the start), since a unit's
  inputs are slots;
* every way out (a branch or fall-through to an op outside the region, a `Return`, the
  end of a block) becomes an exit stub `LoadInt <ip>; Jump <end>`: the unit finishes with
  the original ip to resume at on top of its stack, above the values the interpreter
  gets back;
* a deopt reports the index of the region op it stopped before, which `ips` maps back to
  the original op: the interpreter resumes exactly there (D15).
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.instr import decode, with_operands
from fusevm.loops import code_from, crossed_end, loop_facts, natural_loop, predecessors
from fusevm.ops import F, Op
from fusevm.records import dataclass
from fusevm.verify import verify


@dataclass(frozen=True, slots=True)
class Region:
    """A region of a chunk and the chunk it was cut into."""

    chunk: Chunk  # the region as a chunk of its own
    entry: int  # original ip of the entry
    kind: str  # "loop", "function" or "block"
    ips: tuple[int, ...]  # region op index -> original ip to resume at
    depth: int  # operand-stack values taken from the interpreter at the entry
    base_slots: int  # the frame's slot count; scratch slots start here
    size: int  # original ops inside the region

    def describe(self) -> str:
        what = {"loop": "loop at op", "function": "function at op",
                "block": "block at op"}[self.kind]
        return f"{what} {self.entry}"


def cut(chunk: Chunk, entry: int) -> Region | str:
    """The region entered at hot point `entry`, or why there is none."""
    facts = loop_facts(chunk)
    if entry in facts.back_edges:
        kind = "loop"
        body = set(natural_loop(facts, entry, predecessors(chunk, facts)))
    elif entry in facts.entries:
        kind = "block" if entry in facts.block_ends else "function"
        # Ops that leave the function stay with the interpreter, which knows the frames.
        body = set(code_from(facts, entry) - facts.returns)
    else:
        return f"op {entry} is not a loop header, function entry or block start"
    if entry not in body:
        return f"the {kind} at op {entry} starts with a return"
    end = crossed_end(facts, body)
    if end is not None:
        return f"the {kind} at op {entry} runs on past the end ({end}) of a block sharing its code"
    try:
        an = verify(chunk)
    except VMError as e:
        return f"the chunk does not verify: {e}"
    shared = an.mixed.intersection(body)
    if shared:
        # The region's code is written for one stack depth per op.
        return f"op {min(shared)} is reached at different stack depths by two regions"
    depth = an.depth[entry]
    if depth is None:
        return f"op {entry} is unreachable"
    return _build(chunk, entry, kind, body, depth)


def _build(chunk: Chunk, entry: int, kind: str, body: set[int], depth: int) -> Region:
    order = [entry] + sorted(body - {entry})
    base = chunk.slot_count
    # Layout: scratch loads, then each body op followed by a Jump when its fall-through
    # is not the next op laid out, then the exit stubs.
    layout: list[tuple[str, int]] = [("load", k) for k in range(depth)]
    for pos, ip in enumerate(order):
        layout.append(("op", ip))
        d = decode(chunk.ops[ip])
        if not d.spec.has(F.TERMINATOR):
            nxt = order[pos + 1] if pos + 1 < len(order) else None
            if nxt != ip + 1:
                layout.append(("fall", ip + 1))
    exits = sorted({t for what, ip in layout if what == "op"
                    for t in _targets_of(chunk, ip) if t not in body}
                   | {t for what, t in layout if what == "fall" and t not in body})
    where: dict[int, int] = {}
    for index, (what, ip) in enumerate(layout):
        if what == "op":
            where[ip] = index
    stub_at: dict[int, int] = {}
    end = len(layout) + 2 * len(exits)
    for k, x in enumerate(exits):
        stub_at[x] = len(layout) + 2 * k

    def place(t: int) -> int:
        return where[t] if t in body else stub_at[t]

    ops: list[tuple[object, ...]] = []
    lines: list[int] = []
    ips: list[int] = []
    for what, ip in layout:
        if what == "load":
            ops.append((Op.GetSlot, base + ip))
            lines.append(chunk.line_of(entry) or 0)
            ips.append(entry)
        elif what == "fall":
            ops.append((Op.Jump, place(ip)))
            lines.append(0)
            ips.append(ip)
        else:
            d = decode(chunk.ops[ip])
            operands = list(d.operands)
            for i in d.spec.targets:
                operands[i] = place(operands[i])
            ops.append(with_operands(d, tuple(operands)))
            lines.append(chunk.line_of(ip) or 0)
            ips.append(ip)
    for x in exits:
        ops.append((Op.LoadInt, x))
        ops.append((Op.Jump, end))
        lines.extend((0, 0))
        ips.extend((x, x))
    region_chunk = Chunk(ops, chunk.constants, chunk.names, lines, base + depth,
                         source=f"{chunk.source} ({kind} at op {entry})")
    return Region(region_chunk, entry, kind, tuple(ips), depth, base, len(body))


def _targets_of(chunk: Chunk, ip: int) -> tuple[int, ...]:
    d = decode(chunk.ops[ip])
    return d.targets() if d.spec.has(F.BRANCH) else ()
