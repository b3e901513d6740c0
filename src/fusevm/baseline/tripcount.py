"""Counted loops: how many more times a loop runs, read from its exit test and the frame.

A loop is counted when one frame slot (its counter) is written once on every iteration,
by its own value plus a constant, and an exit test compares it with a constant. From the
counter's value at the loop header, the iterations left are then known exactly, which is
what the baseline tier's compile decision needs (`compiler.worth_after`): a loop that ends
soon is not worth compiling, one that runs on pays at once.

What each op does is read from its one definition (`fusevm.interp.bodies`: the Int path of
its body), fused ops through their `fuses` sequence (`peephole.pattern`), so nothing here
restates an op's meaning; an extension op declared as a function or a body (which names no
frame slot) only takes and leaves values. Anything else in the loop (a call, an extension
op with a handler, an op writing the counter any other way) leaves it uncounted: None.
"""

from __future__ import annotations

import _operator as operator  # (what `operator` re-exports, built in; the module costs 0.4 ms)

from fusevm import pyast as ast
from fusevm.chunk import Chunk
from fusevm.instr import Instr, decode
from fusevm.interp.bodies import BODIES, ENV, Body
from fusevm.loops import LoopFacts, contiguous_loop, entered_at, natural_loop, predecessors
from fusevm.ops import F, Kind, Op
from fusevm.records import dataclass

from .fold import ORDER
from .regions import inline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from typing import Any, Final

    #: ("lin", slot, c): the slot's header value + c; ("k", c)
    Sym = tuple[Any, ...] | None
    #: An op's effect in a loop: (the chunk's instruction, its op's effect function
    #: (`_follow`), or for an extension op the values it takes and leaves).
    _Op = tuple[Instr, Any]

#: A loop that runs at least this many more times is long (counts are capped there).
LONG: Final = 1 << 40


@dataclass(slots=True)
class Counted:
    """A counted loop: `slot` changes by `step` per iteration; the exit test compares the
    counter plus `offset` (what the iteration has added before the test) with `limit`,
    and the loop goes on while `relation(x, limit)` (or `(limit, x)` when `swapped`) is
    `stay`. (Not frozen, though nothing changes it: a frozen record's fields are set
    through `object.__setattr__`, which doubles what making one costs at a loop's first
    look.)"""

    slot: int
    step: int
    offset: int
    limit: int
    relation: Callable[[Any, Any], Any]
    swapped: bool
    stay: bool

    def goes_on(self, counter: int, iteration: int) -> bool:
        """Whether the exit test keeps the loop going on iteration `iteration` from an
        entry with the counter at `counter`."""
        x = counter + iteration * self.step + self.offset
        truth = self.relation(self.limit, x) if self.swapped else self.relation(x, self.limit)
        return bool(truth) == self.stay

    def remaining(self, counter: Any) -> int | None:
        """Entries of the header from one with the counter at `counter` on (this one
        included; at most `LONG`), or None when it is not an Int."""
        if type(counter) is not int:
            return None
        if not self.goes_on(counter, 0):
            return 1
        bound = BOUNDS.get((self.relation, self.swapped, self.stay))
        if bound is not None:
            # The loop goes on while x < B (sign 1) or x > B (sign -1), x moving by `step`.
            sign, shift = bound
            if self.step * sign <= 0:
                return LONG  # moving away from the bound: it never fails
            gap = (self.limit + shift - counter - self.offset) * sign
            first = -(-gap // (self.step * sign))  # the first iteration past the bound
            return min(first + 1, LONG)
        # An (in)equality: x == limit goes on for this iteration only (the counter
        # moves); x != limit until the counter lands on it, if it ever does.
        if (self.relation is operator.eq) == self.stay:
            return 2
        gap = self.limit - counter - self.offset
        if gap % self.step == 0 and gap // self.step > 0:
            return min(gap // self.step + 1, LONG)
        return LONG


#: The ordering tests as a bound the counter stays on one side of: (relation, swapped,
#: the truth that goes on) -> (1: x < limit + shift, -1: x > limit + shift).
BOUNDS: Final[dict[tuple[Any, bool, bool], tuple[int, int]]] = {
    (operator.lt, False, True): (1, 0), (operator.le, False, True): (1, 1),
    (operator.gt, False, True): (-1, 0), (operator.ge, False, True): (-1, -1),
    (operator.lt, False, False): (-1, -1), (operator.le, False, False): (-1, 0),
    (operator.gt, False, False): (1, 1), (operator.ge, False, False): (1, 0),
    (operator.gt, True, True): (1, 0), (operator.ge, True, True): (1, 1),
    (operator.lt, True, True): (-1, 0), (operator.le, True, True): (-1, -1),
    (operator.gt, True, False): (-1, -1), (operator.ge, True, False): (-1, 0),
    (operator.lt, True, False): (1, 1), (operator.le, True, False): (1, 0)}


# -- What the ops do, read from their bodies -------------------------------------------

#: ("get" | "set" | "const" | "copy" | "step" | "sum" | "rel" | "branch" | "other", detail)
#: per op (for "get", "set" and "const" the detail is the index of the operand it uses, for
#: "sum" +1 or -1: the sum or difference of its two inputs), or None for an op this
#: cannot follow.
_kinds: dict[Op, tuple[str, Any] | None] = {}


def _int_path(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """A body's statements on its Int path: the first branch of a leading type test."""
    if len(stmts) == 1 and isinstance(stmts[0], ast.If):
        return stmts[0].body
    return stmts


def op_kind(op: Op) -> tuple[str, Any] | None:
    """What core op `op` does to the values followed (see `_kinds`), read once per op."""
    if op in _kinds:
        return _kinds[op]
    b = BODIES.get(op)
    found = None
    if b is not None:
        # An op this does not follow is fine unless it writes a slot (then its count
        # cannot be trusted): its results are unknown values.
        found = _read(b) or (None if _writes_slots(b) else ("other", None))
    _kinds[op] = found
    return found


def _writes_slots(b: Body) -> bool:
    return any(isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and _is_slot(n)
               for n in ast.walk(b.tree))


def _read(b: Body) -> tuple[str, Any] | None:
    stmts = b.tree.body
    if b.branches:
        if len(stmts) != 1 or not isinstance(stmts[0], ast.Assign) or len(b.inputs) != 1:
            return None
        test = compile(ast.Expression(stmts[0].value), "<branch>", "eval")
        taken = {truth: bool(eval(test, {**ENV, b.inputs[0]: truth}))  # noqa: S307
                 for truth in (True, False)}
        return ("branch", taken[True]) if taken[True] != taken[False] else None
    path = _int_path(stmts)
    sign = _sum_sign(b, path)
    if sign is not None:
        return "sum", sign
    if len(path) != 1 or not isinstance(path[0], ast.Assign) or len(path[0].targets) != 1:
        return None
    target, value = path[0].targets[0], path[0].value
    if isinstance(target, ast.Subscript) and _is_slot(target) and isinstance(value, ast.Name):
        return "set", _slot_index(b)
    if not isinstance(target, ast.Name):
        return None
    if isinstance(value, ast.Name) and len(b.inputs) == 1 and \
            b.outputs == (b.inputs[0], target.id) and value.id == b.inputs[0]:
        return "copy", None
    if b.outputs != (target.id,):
        return None
    if isinstance(value, ast.Subscript) and _is_slot(value):
        return "get", _slot_index(b)
    if isinstance(value, ast.Name) and value.id in b.operands:
        return "const", b.operands.index(value.id)
    if (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub))
            and isinstance(value.left, ast.Name) and b.inputs == (value.left.id,)
            and isinstance(value.right, ast.Constant) and type(value.right.value) is int):
        c = value.right.value
        return "step", c if isinstance(value.op, ast.Add) else -c
    if (isinstance(value, ast.Compare) and len(value.ops) == 1
            and type(value.ops[0]) in ORDER and isinstance(value.left, ast.Name)
            and isinstance(value.comparators[0], ast.Name)
            and b.inputs == (value.left.id, value.comparators[0].id)):
        return "rel", ORDER[type(value.ops[0])]
    return None


def _sum_sign(b: Body, path: list[ast.stmt]) -> int | None:
    """+1 for a body whose Int path is the sum of its two inputs (`exact = a + b`, then
    its 64-bit check into the output), -1 for their difference, else None."""
    if len(b.inputs) != 2 or len(b.outputs) != 1 or len(path) != 2:
        return None
    first, second = path
    if not (isinstance(first, ast.Assign) and isinstance(first.value, ast.BinOp)
            and isinstance(first.value.op, (ast.Add, ast.Sub))
            and isinstance(first.value.left, ast.Name)
            and isinstance(first.value.right, ast.Name)
            and (first.value.left.id, first.value.right.id) == b.inputs
            and isinstance(second, ast.Assign) and isinstance(second.targets[0], ast.Name)
            and second.targets[0].id == b.outputs[0]):
        return None
    return 1 if isinstance(first.value.op, ast.Add) else -1


def _slot_index(b: Body) -> int:
    return next(i for i, o in enumerate(b.op.spec.operands) if o.kind is Kind.SLOT)


def _is_slot(node: ast.Subscript) -> bool:
    return isinstance(node.value, ast.Name) and node.value.id == "slots"


# -- Ops as core ops (for `growth` and `direct`) -------------------------------------------

def core_ops(instr: Instr, ip: int) -> list[Instr] | None:
    """Op `ip` as core ops (a fused op's `fuses` sequence), or None for an extension op."""
    op = instr[0]
    spec = op.spec
    if spec.has(F.EXTENDED):
        return None
    if not spec.has(F.FUSED):
        return [instr]
    from fusevm.peephole.pattern import BY_OP, expand
    return expand(BY_OP[op], instr[1:], ip, ip + 1)



# -- The loop ---------------------------------------------------------------------------

#: Each op's effect on the values followed, worked out once per op (not per instruction):
#: its core ops' kinds (a fused op's `fuses` sequence) as micro-steps
#: (kind, detail, operand index, literal), where the operand a "get", "set" or "const"
#: uses is `instr[index]` (a pattern's literal when index is _LIT, the fused op's own ip
#: or the next with _TOP, _END); and the slot operands it writes. None: an op this
#: cannot follow; _EXT: an extension op (its instruction decides).
_templates: dict[Op, Any] = {}


class _Follow(dict[Op, "Any"]):
    """`_follow`: an op's entry is made the first time it is asked for."""

    def __missing__(self, op: Op) -> Any:
        _template(op)
        return self[op]


#: Each op as a look follows it, made with its template: (effect, the slot operands it
#: writes, whether a slot is written after a branch) for an op followed, where
#: effect(instr, ip, stack, slots) applies its micro-steps to the values followed
#: (`_effect`) and says whether they end at a branch (its test, then on top of `stack`,
#: is where a straight run of ops ends); _EXT for an extension op; _UNFOLLOWED for an op
#: this cannot follow.
_follow: dict[Op, Any] = _Follow()


def _ends(instr: Instr, ip: int, stack: list[Any], slots: dict[int, Any]) -> bool:
    """The effect of an op no run of ops follows through (`_EXT`, `_UNFOLLOWED`): it
    ends the run, with its writes unknown (`_one_exit` tests nothing else)."""
    return True


_UNFOLLOWED: Final = (_ends, (), True, "unfollowed")
_LIT: Final = -1
_TOP: Final = -2
_END: Final = -3
_EXT: Final = (_ends, (), True, "ext")


def _template(op: Op) -> Any:
    if op in _templates:
        return _templates[op]
    spec = op.spec
    found: Any
    if spec.has(F.EXTENDED):
        found = _EXT
    elif not spec.has(F.FUSED):
        found = _micro([(op, tuple((i + 1, None) for i in range(len(spec.operands))))])
    else:
        from fusevm.peephole.pattern import BY_OP, Bind, LabelRef
        index = {o.name: i + 1 for i, o in enumerate(spec.operands)}
        found = _micro([(step.op, tuple(
            (index[a.name], None) if isinstance(a, Bind)
            else ((_END if a.at_end else _TOP), None) if isinstance(a, LabelRef)
            else (_LIT, a.value) for a in step.args)) for step in BY_OP[op].steps])
    _follow[op] = (_UNFOLLOWED if found is None else found if found is _EXT
                   else (_effect(found[0]), found[1], _late_writes(found[0])))
    _templates[op] = found
    return found


def _late_writes(steps: tuple[tuple[str, Any, int, Any], ...]) -> bool:
    """Whether micro-steps `steps` write a slot after a branch (which ends what their
    effect follows, `_effect`)."""
    names = [name for name, *_ in steps]
    return "branch" in names and "set" in names[names.index("branch"):]


def _effect(steps: tuple[tuple[str, Any, int, Any], ...]) -> Any:
    """The function applying micro-steps `steps` to the values followed (`_follow`),
    written out once per op: a look at a loop then makes one call per op, not a test of
    each micro-step's kind (an eighth of the bytecodes of a short loop's look)."""
    lines = ["def effect(instr, ip, stack, slots):"]
    names: dict[str, Any] = {"_operand": _operand, "_sized": _sized}
    for n, (name, detail, index, literal) in enumerate(steps):
        names[f"D{n}"] = detail
        names[f"L{n}"] = literal
        ref = f"instr[{index}]" if index > 0 else f"_operand(instr, ip, {index}, L{n})"
        if name == "get":
            lines += [f"    k = {ref}",
                      "    stack.append(slots[k] if k in slots else ('lin', k, 0))"]
        elif name == "const":
            lines += [f"    v = {ref}", "    stack.append(('k', v) if type(v) is int else None)"]
        elif name == "set":
            lines += [f"    slots[{ref}] = stack.pop() if stack else None"]
        elif name == "copy":
            lines += ["    stack.append(stack[-1] if stack else None)"]
        elif name == "step":
            lines += ["    a = stack.pop() if stack else None",
                      f"    stack.append(('lin', a[1], a[2] + D{n}) if a and a[0] == 'lin' "
                      "else None)"]
        elif name == "sum":  # a counter plus or minus a constant is a counter too
            lines += ["    b = stack.pop() if stack else None",
                      "    a = stack.pop() if stack else None",
                      "    if a and b and a[0] == 'lin' and b[0] == 'k':",
                      f"        stack.append(('lin', a[1], a[2] + D{n} * b[1]))",
                      f"    elif a and b and a[0] == 'k' and b[0] == 'lin' and D{n} > 0:",
                      "        stack.append(('lin', b[1], b[2] + a[1]))",
                      "    else:",
                      "        stack.append(None)"]
        elif name == "rel":
            lines += ["    b = stack.pop() if stack else None",
                      "    a = stack.pop() if stack else None",
                      f"    stack.append(('rel', D{n}, a, b))"]
        elif name == "branch":
            lines += [f"    stack.append(('test', stack.pop() if stack else None, D{n}))",
                      "    return True"]
            break
        elif type(detail[0]) is int:  # "other": values this does not follow
            pops, pushes = detail
            lines += [f"    del stack[max(len(stack) - {pops}, 0):]"]
            lines += [f"    stack.extend([None] * {pushes})"] if pushes else []
        else:  # sized by operands: counted for each instruction
            lines += [f"    _sized(D{n}, instr, ip, stack)"]
    else:
        lines.append("    return False")
    exec("\n".join(lines), names)  # noqa: S102 - our own code, from the op table
    return names["effect"]


def _sized(detail: Any, instr: Instr, ip: int, stack: list[Any]) -> None:
    """An "other" micro-step whose values taken and left depend on the operands."""
    spec, refs = detail
    operands = tuple(_operand(instr, ip, i, lit) for i, lit in refs)
    del stack[max(len(stack) - spec.effect.pops(spec, operands), 0):]
    stack.extend([None] * spec.effect.pushes(spec, operands))


def _micro(core: list[tuple[Op, tuple[tuple[int, Any], ...]]]) -> Any:
    """The template of a sequence of core ops, each with its operands' references."""
    steps: list[tuple[str, Any, int, Any]] = []
    writes: list[tuple[int, Any]] = []
    for op, args in core:
        kind = op_kind(op)
        if kind is None:
            return None
        name, detail = kind
        if name in ("get", "set", "const"):
            steps.append((name, None, *args[detail]))
            if name == "set":
                writes.append(args[detail])
        elif name == "other":
            spec = op.spec
            effect = spec.effect
            if all(sized is None for _, sized in effect.inputs + effect.outputs):
                steps.append((name, (len(effect.inputs), len(effect.outputs)), 0, None))
            else:  # sized by operands: counted for each instruction
                steps.append((name, (spec, args), 0, None))
        else:
            steps.append((name, detail, 0, None))
    return tuple(steps), tuple(writes)


def _operand(instr: Instr, ip: int, index: int, literal: Any) -> Any:
    if index > 0:
        return instr[index]
    return literal if index == _LIT else ip if index == _TOP else ip + 1


#: Keys of the per-chunk-object tables in `Chunk.derived` (a table by content would hash
#: the chunk: its digest costs more than a short loop's analysis).
_FOUND: Final = "tripcount.counted"
_BODIES: Final = "tripcount.bodies"


def counted(chunk: Chunk, facts: LoopFacts, header: int) -> Counted | None:
    """The counted loop at `header`, or None (worked out once per chunk and header)."""
    table: dict[int, Counted | None] | None = chunk.derived.get(_FOUND)
    if table is None:
        table = chunk.derived[_FOUND] = {}
    elif header in table:
        return table[header]
    sources = facts.back_edges.get(header)
    fast: Any = _counted_range(chunk.ops, facts, header, max(sources)) if sources else _GENERAL
    found: Counted | None = (
        _counted_general(chunk, facts, header, loop_body(chunk, facts, header))
        if fast is _GENERAL else fast)
    table[header] = found
    return found


def loop_body(chunk: Chunk, facts: LoopFacts, header: int) -> frozenset[int]:
    """The natural loop of `header` (`loops.natural_loop`), once per chunk and header."""
    table: dict[int, frozenset[int]] | None = chunk.derived.get(_BODIES)
    if table is None:
        table = chunk.derived[_BODIES] = {}
    found = table.get(header)
    if found is None:
        found = table[header] = (contiguous_loop(facts, header)
                                 or natural_loop(facts, header, predecessors(chunk, facts)))
    return found


def _counted_general(chunk: Chunk, facts: LoopFacts, header: int,
                     body: frozenset[int]) -> Counted | None:
    """`_counted` for any loop: each exit's block followed from its start, then the
    block of the counter's write."""
    ops = chunk.ops
    succs = facts.succs
    effects: dict[int, _Op] = {}
    writers: dict[int, list[int]] = {}  # slot -> ops writing it
    exits: list[int] = []
    starts = {header}  # the loop's block starts
    get = _follow.get
    for ip in sorted(body):
        instr = ops[ip]
        follow = get(instr[0]) or _follow[instr[0]]
        if follow is _UNFOLLOWED:
            return None
        if follow is _EXT:
            # An extension op declared as a function of its stack values or as a body
            # (which names no frame slot): values this does not follow. Any other may
            # do anything.
            d = decode(instr)
            if not inline(d):
                return None
            effect = d.spec.effect
            effects[ip] = (instr, (effect.pops(d.spec, d.operands),
                                   effect.pushes(d.spec, d.operands)))
        else:
            effects[ip] = (instr, follow[0])
            if follow[1]:
                _note_writes(instr, ip, follow[1], writers)
        out = succs[ip]
        if len(out) != 1 or out[0] != ip + 1:
            starts.update(out)
            if len(out) > 1 and not body.issuperset(out):
                exits.append(ip)
    for ip in exits:
        found = _exit_test(facts, body, effects, writers, starts, header, ip)
        if found is not None:
            # Another exit may leave sooner: this one's count is an upper bound, which
            # errs towards compiling (what the tier did before it counted anything).
            return found
    return None


def _note_writes(instr: Instr, ip: int, refs: Any, writers: dict[int, list[int]]) -> list[int]:
    """Add op `ip` to `writers` under each slot its template (`refs`) says it writes;
    those slots."""
    written = []
    for index, literal in refs:
        k = instr[index] if index > 0 else _operand(instr, ip, index, literal)
        if k in writers:
            writers[k].append(ip)
        else:
            writers[k] = [ip]
        written.append(k)
    return written


#: `_counted_range`'s answer for a loop it leaves to the general way.
_GENERAL: Final = ("general",)


def _counted_range(ops: Sequence[Instr], facts: LoopFacts, header: int, last: int) -> Any:
    """`_counted` for a loop whose body is the ops from `header` to its last back edge
    `last` (`loops.contiguous_loop`: the common shape, and what a loop's first look
    asks, so it is found without the loop's body), in one pass: each block's values are
    followed as its ops come (a block starts at the header, a branch target or after a
    branch, all seen before it when no branch inside goes back but to the header).
    _GENERAL when the loop has another shape, an inner loop or an extension op."""
    succs = facts.succs
    if not entered_at(facts, header, last):
        return _GENERAL
    found = _one_exit(ops, facts, header, last)
    if found is not _GENERAL:
        return found
    get = _follow.get  # (an entry is never empty: `or` calls only for an op's first time)
    starts = {header}
    writers: dict[int, list[int]] = {}
    #: (op, slot) per write of a slot: its block's start, what the slot holds after it
    wrote: dict[tuple[int, int], tuple[int, Sym]] = {}
    exits: list[tuple[int, int, Sym]] = []  # (op, its block's start, the top it leaves)
    stack: list[Sym] = []
    slots: dict[int, Sym] = {}
    start = header
    stopped = False  # a branch in the block ended its run (as `_run` ends there)
    followed = True  # every op is one this follows (else, the loop being this range: None)
    for ip, out in zip(range(header, last + 1), succs[header:last + 1]):
        instr = ops[ip]
        follow = get(instr[0]) or _follow[instr[0]]
        if follow is _EXT:
            return _GENERAL
        if ip in starts and ip != start:
            stack = []
            slots = {}
            start = ip
            stopped = False
        if follow is _UNFOLLOWED:
            followed = False
        elif followed:
            if not stopped:
                stopped = follow[0](instr, ip, stack, slots)
            if follow[1]:
                for k in _note_writes(instr, ip, follow[1], writers):
                    wrote[ip, k] = (start, slots.get(k))
        if out != (ip + 1,):
            if ip < last and (not out or out[-1] != ip + 1):
                return _GENERAL  # (an op before the back edge that does not fall through)
            leaves = False
            for t in out:
                if header < t <= ip:
                    return _GENERAL  # a loop inside: its header was passed as no start
                if t < header or t > last:
                    leaves = True
                else:
                    starts.add(t)
            if leaves and len(out) > 1:
                exits.append((ip, start, stack[-1] if stack else None))
            starts.add(ip + 1)
    if not followed:
        return None
    body = range(header, last + 1)
    for ip, begins, top in exits:
        test = _relation(top)
        if test is None:
            continue
        k, offset, limit, relation, swapped, taken = test
        found = writers.get(k, [])
        if len(found) != 1:
            continue
        writer = found[0]
        if not _passes(facts, body, header, writer):
            continue
        begun, value = wrote[writer, k]
        step = _advance(value, k)
        if step is None:
            continue
        if begins <= writer <= ip or begins == header:
            pass  # the test comes after the write, or it comes later
        elif begun == header:
            offset += step  # every iteration writes it first
        else:
            continue
        return _verdict(facts, body, ip, k, step, offset, limit, relation, swapped, taken)
    return None


def _one_exit(ops: Sequence[Instr], facts: LoopFacts, header: int, last: int) -> Any:
    """`_counted_range` for a loop whose one exit is its back edge `last` (falling through
    out of the loop) and whose other branches all go forward within it: what
    `_counted_range` answers, from a run of its first block and one of its last, with no
    table of writes or blocks (the common shapes, and what a short loop's first look
    costs: `compiler.short_loop`). _GENERAL when an op is not one this follows, a run
    stops before its block's end, or the counter's write is in neither block.

    Every way round passes both blocks (no branch lands inside the last but at its
    start), so the one write of the counter in either is on every iteration, and the
    slot values a block's run leaves are each slot's value after its one write there."""
    succs = facts.succs
    if succs[last] != (header, last + 1):
        return _GENERAL
    # (bisect is a C extension module: loading it costs a process about as much as
    # importing a module of ours, so only code with loops to count loads it.)
    from bisect import bisect_left  # noqa: PLC0415

    branches = facts.branches
    first = bisect_left(branches, header)
    inner = branches[first:bisect_left(branches, last, first)]
    head_end = last  # the first block's last op
    exit_start = header  # the last block's first op
    if inner:
        head_end = inner[0]
        for b in inner:
            for t in succs[b]:
                if t <= b or t > last:
                    return _GENERAL  # (another exit, or a loop inside)
                if t > exit_start:
                    exit_start = t
            if b + 1 > exit_start:
                exit_start = b + 1
    writers: list[int] = []
    head: dict[int, Sym] = {}
    stack: list[Sym] = []
    if not _run_block(ops, header, head_end, stack, head, writers):
        return _GENERAL
    slots = head
    if inner:
        table = _follow
        for ip in range(head_end + 1, exit_start):  # (values not followed: their writes)
            follow = table[ops[ip][0]]
            if follow[2]:
                return _GENERAL  # (not followed, or writes it leaves unknown)
            if follow[1]:
                writers.append(ip)
        stack = []
        slots = {}
        if not _run_block(ops, exit_start, last, stack, slots, writers):
            return _GENERAL
    test = _relation(stack[-1] if stack else None)
    if test is None:
        return None
    k, offset, limit, relation, swapped, taken = test
    writes = 0
    writer = header
    for ip in writers:
        instr = ops[ip]
        for index, literal in _follow[instr[0]][1]:
            if (instr[index] if index > 0 else _operand(instr, ip, index, literal)) == k:
                writes += 1
                writer = ip
    if writes != 1:
        return None
    if writer >= exit_start:
        step = _advance(slots.get(k), k)  # (the test comes after the write, or later)
    elif writer <= head_end:
        step = _advance(head.get(k), k)
        if step is not None and exit_start != header:
            offset += step  # every iteration writes it before the test's block
    else:
        return _GENERAL
    if step is None:
        return None
    # (The back edge's target is the header: the loop goes on when the test is `taken`.)
    return Counted(k, step, offset, limit, relation, swapped, taken)


def _run_block(ops: Sequence[Instr], start: int, end: int, stack: list[Sym],
               slots: dict[int, Sym], writers: list[int]) -> bool:
    """Follow the ops `start` to `end` (a block ending at a branch) on `stack` and
    `slots`, adding those that write a slot to `writers`; whether each ran its whole
    effect, the last up to its branch and with no write after it."""
    table = _follow
    for ip in range(start, end):
        instr = ops[ip]
        follow = table[instr[0]]
        if follow[0](instr, ip, stack, slots):
            return False  # (a branch inside an op before the block's end: another shape)
        if follow[1]:
            writers.append(ip)
    instr = ops[end]
    follow = table[instr[0]]
    if follow[2] or not follow[0](instr, end, stack, slots):
        return False
    if follow[1]:
        writers.append(end)
    return True


def _block_of(starts: set[int], body: frozenset[int], ip: int) -> list[int]:
    first = ip
    while first not in starts and first - 1 in body:
        first -= 1
    return list(range(first, ip + 1))


def _run(effects: dict[int, _Op], ips: list[int]) -> tuple[list[Sym], dict[int, Sym]]:
    """The values one straight run of ops leaves: its stack and the slots it set."""
    stack: list[Sym] = []
    slots: dict[int, Sym] = {}
    for ip in ips:
        instr, effect = effects[ip]
        if type(effect) is tuple:  # an extension op: (pops, pushes)
            del stack[max(len(stack) - effect[0], 0):]
            stack.extend([None] * effect[1])
            continue
        if effect(instr, ip, stack, slots):
            break
    return stack, slots


def _relation(top: Sym) -> tuple[int, int, int, Callable[[Any, Any], Any], bool, bool] | None:
    """What an exit's test compares, when it is a counter (plus a constant) with a
    constant: (the counter's slot, that constant, the limit, the relation, whether the
    limit is its left side, the truth on which the branch is taken)."""
    if top is None or top[0] != "test":
        return None
    _, cond, taken_if_true = top
    if cond is None or cond[0] != "rel":
        return None
    _, relation, a, b = cond
    if a and b and a[0] == "lin" and b[0] == "k":
        return a[1], a[2], b[1], relation, False, taken_if_true
    if a and b and a[0] == "k" and b[0] == "lin":
        return b[1], b[2], a[1], relation, True, taken_if_true
    return None


def _exit_test(facts: LoopFacts, body: frozenset[int], effects: dict[int, _Op],
               writers: dict[int, list[int]], starts: set[int], header: int,
               exit_ip: int) -> Counted | None:
    ops = _block_of(starts, body, exit_ip)
    stack, set_here = _run(effects, ops)
    test = _relation(stack[-1] if stack else None)
    if test is None:
        return None
    k, offset, limit, relation, swapped, taken = test
    found = writers.get(k, [])
    if len(found) != 1:
        return None
    writer = found[0]
    if not _passes(facts, body, header, writer):
        return None
    # (The run above went through the write when it is in this block: the block's one
    # write of the counter, and only its last op may branch.)
    step = _advance((set_here if writer in ops
                     else _run(effects, _block_of(starts, body, writer))[1]).get(k), k)
    if step is None:
        return None
    if writer in ops or ops[0] == header:
        pass  # the run above went through the write, or it comes later
    elif _block_of(starts, body, writer)[0] == header:
        offset += step  # every iteration writes it first
    else:
        return None
    return _verdict(facts, body, exit_ip, k, step, offset, limit, relation, swapped, taken)


def _verdict(facts: LoopFacts, body: Collection[int], exit_ip: int, k: int, step: int,
             offset: int, limit: int, relation: Callable[[Any, Any], Any], swapped: bool,
             taken_if_true: bool) -> Counted | None:
    # Which way stays in the loop: the branch's target or its fall-through.
    target = None
    for t in facts.succs[exit_ip]:
        if t != exit_ip + 1:
            target = t
            break
    if target is None:
        return None
    # The loop goes on when the branch is taken (its target is in the loop) or when it
    # is not: the truth of the relation that makes it so.
    stay = taken_if_true if target in body else not taken_if_true
    return Counted(k, step, offset, limit, relation, swapped, stay)


def _passes(facts: LoopFacts, body: Collection[int], header: int, writer: int) -> bool:
    """Whether every way round the loop passes op `writer`: without it the header is
    not reached."""
    seen = {header, writer}
    work = [header] if writer != header else []
    while work:
        ip = work.pop()
        for t in facts.succs[ip]:
            if t == header:
                return False
            if t in body and t not in seen:
                seen.add(t)
                work.append(t)
    return True


def _advance(value: Sym, k: int) -> int | None:
    """What the one write of slot `k` adds to it each iteration (`value`: what the slot
    holds after it, from the header's value), or None."""
    if value is None or value[0] != "lin" or value[1] != k or value[2] == 0:
        return None
    step: int = value[2]
    return step
