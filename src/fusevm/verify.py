"""The chunk verifier (D9): operand ranges, pool indices, jump targets and stack depth.

`verify(chunk)` raises BuildError naming the op, its index and source line for the first
problem found, and otherwise returns an `Analysis` with the stack depth before every
reachable op. Depth is tracked per region: the root code starts at depth 0, a function
entry at the number of arguments its Call sites pass (a function no Call names is never
entered, so not walked), and a block range (for the higher-order ops) at 0 in its own
frame. Every join point must be reached with one depth, and no path may pop below its
region's base, so the interpreter can pop without checks.
"""

from __future__ import annotations

import sys

from fusevm.errors import BuildError, UnknownExtension, VMError
from fusevm.instr import Decoded, check_operand, decode
from fusevm.limits import MAX_NESTING, MAX_SLOTS, chunk_depth_exceeds
from fusevm.ops import F, Kind, Op
from fusevm.ops.spec import POOL_KINDS, OpSpec
from fusevm.records import dataclass, field
from fusevm.values import constant_problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.chunk import Chunk


State = tuple[int, tuple[int, ...]]  # (depth, depths at which enclosing PushFrames began)


@dataclass(slots=True)
class Analysis:
    """What the verifier learned: decoded ops, depth before each op, function arities."""

    decoded: list[Decoded]
    depth: list[int | None]
    max_depth: int = 0
    arity: dict[int, int] = field(default_factory=dict)  # entry ip -> argument count
    returns_value: dict[int, bool] = field(default_factory=dict)  # entry ip -> ReturnValue?
    #: Ops two regions reach at different stack depths (the root falling into a block's
    #: or function's code; `depth` holds the largest): valid, as the interpreter checks
    #: nothing, but a tier compiling an op for one depth must leave these alone.
    mixed: set[int] = field(default_factory=set)


def _err(chunk: Chunk, ip: int, msg: str, d: Decoded | None = None,
         op: str | None = None) -> BuildError:
    return BuildError(msg, op=d.name if d else op, ip=ip, source=chunk.source,
                      line=chunk.line_of(ip))


def _check_fields(chunk: Chunk, built: bool = False) -> None:
    """The chunk's tables hold what the interpreter and the serializer expect (a chunk
    made by `Chunk(...)` rather than by the builder may hold anything). `built`: its
    lines and constants passed `ChunkBuilder`'s checks as they were added."""
    if type(chunk.source) is not str:
        raise BuildError(f"the chunk's source name {chunk.source!r:.40} is not a str")
    where = chunk.source
    if type(chunk.slot_count) is not int or not 0 <= chunk.slot_count <= MAX_SLOTS:
        raise BuildError(f"slot count {chunk.slot_count!r} is out of range", source=where)
    if not built and not all(type(line) is int and 0 <= line <= 0xFFFFFFFF for line in chunk.lines):
        raise BuildError("the line table holds something other than line numbers "
                         "(ints 0..2**32-1)", source=where)
    if not all(type(name) is str for name in chunk.names):
        raise BuildError("the name pool holds something other than a str", source=where)
    # (the chunk class, by its module: `fusevm.chunk` imports this module, and a chunk
    # here means that module is loaded)
    chunk_class = sys.modules["fusevm.chunk"].Chunk
    if not all(isinstance(sub, chunk_class) for sub in chunk.sub_chunks):
        raise BuildError("the sub-chunks hold something other than a Chunk", source=where)
    if built:
        return
    for k, value in enumerate(chunk.constants):
        problem = constant_problem(value)
        if problem is not None:
            raise BuildError(f"constant {k} {problem}", source=where)


def _static(chunk: Chunk, built: bool) -> tuple[list[Decoded], list[tuple[Any, ...]]]:
    """The instructions decoded, each checked on its own (operands, pools, targets,
    slots, callees), and each one's row facts (`_row_facts`: what the flow analysis asks
    of every op). `built`: each operand passed `ChunkBuilder.emit`'s check already."""
    n = len(chunk.ops)
    if len(chunk.lines) != n:
        raise BuildError(f"line table has {len(chunk.lines)} entries for {n} ops",
                         source=chunk.source)
    decoded: list[Decoded] = []
    rows: list[tuple[Any, ...]] = []
    for ip, instr in enumerate(chunk.ops):
        if not isinstance(instr, tuple) or not instr or not isinstance(instr[0], Op):
            raise _err(chunk, ip, f"op {ip} is not an instruction: {instr!r}")
        core = instr[0].spec
        if len(instr) - 1 != len(core.operands):
            raise _err(chunk, ip, f"{core.name} needs {len(core.operands)} operand(s), "
                       f"has {len(instr) - 1}", op=core.name)
        if not built:
            for i, v in enumerate(instr[1:]):
                try:
                    check_operand(core, i, v)
                except BuildError as e:
                    raise _err(chunk, ip, e.message, op=core.name) from None
        try:
            d = decode(instr)
        except UnknownExtension as e:  # (kept as the cause: a caller may load the set)
            raise _err(chunk, ip, e.message, op=core.name) from e
        facts = _row_facts(d.spec)
        operands = d.operands
        if d.ext is not None and not built:
            for i, v in enumerate(operands):
                try:
                    check_operand(d.spec, i, v)
                except BuildError as e:
                    raise _err(chunk, ip, e.message, d) from None
        for i, kind, pool in facts[1]:  # (the operands a check reads: pools, jumps, ...)
            v = operands[i]
            if pool is not None:
                if v >= len(getattr(chunk, pool)):
                    o = d.spec.operands[i]
                    raise _err(chunk, ip, f"{d.name}: {o.name} index {v} is out of range "
                               f"({len(getattr(chunk, pool))} {pool})", d)
            elif kind is Kind.TARGET:
                if v > n:
                    raise _err(chunk, ip, f"{d.name}: jump target {v} is past the end "
                               f"({n} ops)", d)
            elif kind is Kind.SLOT:
                if v >= chunk.slot_count:
                    raise _err(chunk, ip, f"{d.name}: slot {v} is not below the chunk's "
                               f"slot count {chunk.slot_count}", d)
            elif not _CODE_KINDS[kind](v):
                raise _err(chunk, ip, f"{d.name}: {v} is not a valid {kind.value} code", d)
        if facts[2] & _CALL and chunk.find_sub(operands[0]) is None:
            raise _err(chunk, ip, f"call to undefined function "
                       f"{chunk.names[operands[0]]!r}", d)
        decoded.append(d)
        rows.append(facts)
    for name, ip in chunk.sub_entries:
        if not (type(name) is int and 0 <= name < len(chunk.names)
                and type(ip) is int and 0 <= ip < n):
            raise BuildError(f"sub entry ({name}, {ip}) is out of range", source=chunk.source)
    for i, (start, end) in enumerate(chunk.block_ranges):
        if not 0 <= start <= end <= n:
            raise BuildError(f"block range {i} ({start}, {end}) is out of range",
                             source=chunk.source)
    return decoded, rows


_CALL: Final = F.CALL._value_
_BRANCH: Final = F.BRANCH._value_
_TERMINATOR: Final = F.TERMINATOR._value_
_RETURN: Final = F.RETURN._value_
_SCOPE: Final = F.SCOPE._value_
_BLOCK_CALL: Final = F.BLOCK_CALL._value_
#: Per table row, by identity (the row is kept in the entry, so its id is not reused):
#: (row, the operands a check reads as (position, kind, pool or None), the row's flag
#: bits, its TARGET positions, its pops and pushes when no operand sizes them (else
#: None)), worked out once: the verifier looks at every op of every chunk built.
_ROWS: dict[int, tuple[Any, ...]] = {}


def _row_facts(spec: OpSpec) -> tuple[Any, ...]:
    found = _ROWS.get(id(spec))
    if found is None or found[0] is not spec:
        checked = tuple((i, o.kind, POOL_KINDS.get(o.kind))
                        for i, o in enumerate(spec.operands)
                        if o.kind in POOL_KINDS or o.kind in _CODE_KINDS
                        or o.kind is Kind.TARGET or o.kind is Kind.SLOT)
        counts = spec.effect.counts or (None, None)
        found = _ROWS[id(spec)] = (spec, checked, spec.flags._value_, spec.targets, *counts)
    return found


def _code_checker(kind: Kind):  # type: ignore[no-untyped-def]
    def valid(value: int) -> bool:
        from fusevm.ops import shell_codes as codes
        enum_type = {Kind.REDIR: codes.Redir, Kind.FILETEST: codes.FileTest,
                     Kind.PARAMMOD: codes.ParamMod}[kind]
        return value in enum_type._value2member_map_
    return valid


_CODE_KINDS = {k: _code_checker(k) for k in (Kind.REDIR, Kind.FILETEST, Kind.PARAMMOD)}


def _successors(d: Decoded, ip: int, facts: tuple[Any, ...]) -> list[int]:
    """Where control may go after op `ip`, decoded as `d` (`facts`: its row's)."""
    bits = facts[2]
    out = [d.operands[i] for i in facts[3]] if bits & _BRANCH else []
    if not bits & _TERMINATOR:
        out.append(ip + 1)
    return out


def _returns(chunk: Chunk, decoded: list[Decoded], entry: int) -> set[bool]:
    """For the return ops reachable from a function entry (not following calls), whether
    each hands a value back (its table row pops one)."""
    seen: set[int] = set()
    todo = [entry]
    kinds: set[bool] = set()
    n = len(decoded)
    while todo:
        ip = todo.pop()
        if ip in seen or ip >= n:
            continue
        seen.add(ip)
        d = decoded[ip]
        facts = _row_facts(d.spec)
        if facts[2] & _RETURN:
            kinds.add(bool(d.spec.effect.inputs))
        todo.extend(_successors(d, ip, facts))
    return kinds


# Kept in `Chunk.derived`, so per chunk object (Chunk equality is by content) and gone
# with it: its Analysis (and `Chunk.VERIFIED`).
_ANALYSIS: Final = "analysis"


def verify(chunk: Chunk, *, built: bool = False) -> Analysis:
    """Validate a chunk (recursively, with its sub-chunks); raises BuildError.

    `built` (`ChunkBuilder.build` only): the chunk was made just now from what the
    builder checked as it was added (each operand, constant and line), so those checks
    are not made twice; everything that depends on the whole chunk still is."""
    if chunk_depth_exceeds(chunk, MAX_NESTING):
        raise BuildError(f"sub-chunks are nested more than {MAX_NESTING} deep",
                         source=chunk.source)
    return _verify_tree(chunk, built)


def _verify_tree(chunk: Chunk, built: bool = False) -> Analysis:
    an = _verify(chunk, built)
    chunk.derived[chunk.VERIFIED] = True
    chunk.derived[_ANALYSIS] = an
    return an


def analysis(chunk: Chunk) -> Analysis:
    """The verifier's facts about a chunk: verified once per chunk object."""
    found: Analysis | None = chunk.derived.get(_ANALYSIS)
    return found if found is not None else verify(chunk)


def check_tables(chunk: Chunk) -> list[Decoded]:
    """The checks of a chunk's tables and instructions alone, without its sub-chunks and
    before any flow analysis (what a tool that shows a chunk needs to read it): its
    instructions decoded; BuildError, at the op, for a chunk that cannot be read."""
    _check_fields(chunk)
    return _static(chunk, False)[0]


def _verify(chunk: Chunk, built: bool = False) -> Analysis:
    _check_fields(chunk, built)
    for sub in chunk.sub_chunks:
        if not sub.is_verified():
            _verify_tree(sub)
    decoded, rows = _static(chunk, built)
    n = len(decoded)
    an = Analysis(decoded, [None] * n)

    # Function arities from their call sites, and what their returns push.
    for ip, facts in enumerate(rows):
        if facts[2] & _CALL:
            d = decoded[ip]
            entry = chunk.find_sub(d.operands[0])
            assert entry is not None
            argc = d.operands[1]
            if an.arity.setdefault(entry, argc) != argc:
                raise _err(chunk, ip, f"calls to {chunk.names[d.operands[0]]!r} pass "
                           f"{an.arity[entry]} and {argc} arguments", d)
    for name, entry in chunk.sub_entries:
        if chunk.find_sub(name) != entry:
            continue
        kinds = _returns(chunk, decoded, entry)
        if kinds == {True, False}:
            raise BuildError(f"function {chunk.names[name]!r} returns both with and "
                             "without a value", source=chunk.source, ip=entry,
                             line=chunk.line_of(entry))
        an.returns_value[entry] = False not in kinds

    regions: list[tuple[int, int, int | None, str]] = [(0, 0, None, "the main code")]
    for name, entry in chunk.sub_entries:
        # A function no Call names is never entered, and without a call site there is no
        # argument count to start its stack at: its ops stay unreached (depth None).
        if entry in an.arity:
            regions.append((entry, an.arity[entry], None, f"function {chunk.names[name]!r}"))
    needs_result = {decoded[ip].operands[0] for ip, facts in enumerate(rows)
                    if facts[2] & _BLOCK_CALL and decoded[ip].name != "ForEachBlock"}
    for i, (start, end) in enumerate(chunk.block_ranges):
        regions.append((start, 0, end, f"block {i}"))

    for start, depth0, stop, what in regions:
        if start >= n:
            continue
        end_depth = _flow(chunk, an, rows, start, depth0, stop, what)
        if stop is not None:
            idx = [i for i, r in enumerate(chunk.block_ranges) if r == (start, stop)]
            if any(i in needs_result for i in idx) and (end_depth is None or end_depth < 1):
                raise BuildError(f"{what} ends with an empty stack but a higher-order op "
                                 "needs its result", source=chunk.source, ip=stop)
    return an


def _flow(chunk: Chunk, an: Analysis, rows: list[tuple[Any, ...]], start: int, depth0: int,
          stop: int | None, what: str) -> int | None:
    """Propagate stack depth through one region; returns the depth at `stop` if reached.
    `rows`: each op's row facts."""
    decoded = an.decoded
    n = len(decoded)
    states: dict[int, State] = {}
    came_from: dict[int, int] = {}
    todo: list[tuple[int, State, int]] = [(start, (depth0, ()), -1)]
    end_depth: int | None = None
    while todo:
        ip, state, src = todo.pop()
        if ip >= n or ip == stop:
            if ip == stop:
                if end_depth is not None and end_depth != state[0]:
                    raise _err(chunk, src, f"{what} reaches its end with stack depth "
                               f"{end_depth} and {state[0]}")
                end_depth = state[0]
            continue
        old = states.get(ip)
        if old is not None:
            if old != state:
                raise _err(chunk, ip, f"stack depth at join point {ip} in {what} differs: "
                           f"{old[0]} (from op {came_from[ip]}) vs {state[0]} (from op {src})",
                           decoded[ip])
            continue
        states[ip] = state
        came_from[ip] = src
        prev = an.depth[ip]
        if prev is None or prev < state[0]:
            an.depth[ip] = state[0]
        if prev is not None and prev != state[0]:
            an.mixed.add(ip)
        d = decoded[ip]
        depth, scopes = state
        spec = d.spec
        facts = rows[ip]
        bits = facts[2]
        pops = facts[4]
        if pops is not None:
            pushes = facts[5]
        else:
            try:
                pops = spec.effect.pops(spec, d.operands)
                pushes = spec.effect.pushes(spec, d.operands)
            except VMError as e:
                raise _err(chunk, ip, e.message, d) from None
        if bits & _CALL:
            entry = chunk.find_sub(d.operands[0])
            assert entry is not None
            pushes = 1 if an.returns_value.get(entry, True) else 0
        if depth < pops:
            raise _err(chunk, ip, f"stack underflow in {what}: {d.name} needs {pops} "
                       f"value(s), the stack holds {depth}", d)
        if bits & _RETURN:
            continue
        if bits & _SCOPE:
            if spec is Op.PushFrame.spec:
                scopes = scopes + (depth,)
            else:
                if not scopes:
                    raise _err(chunk, ip, f"PopFrame without a matching PushFrame in {what}", d)
                depth, scopes = scopes[-1], scopes[:-1]
        depth = depth - pops + pushes
        an.max_depth = max(an.max_depth, depth)
        for nxt in _successors(d, ip, facts):
            todo.append((nxt, (depth, scopes), ip))
    return end_depth
