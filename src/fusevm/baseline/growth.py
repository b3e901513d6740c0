"""How fast a counted loop's integers can grow: the guard that lets its code skip 64-bit checks.

Every VM int lies in the 64-bit range (D4), so each `Add` or `Sub` of ints checks its exact
result, and in a loop whose values the interval analysis cannot bound (`ranges`: an
accumulator, fib's pair) that check runs on every iteration. A counted loop
(`tripcount`) whose integer slots change only by sums and differences of slots and
constants is different: from the values of those slots and the count of iterations left,
both known when the loop is entered, a bound on every value it will compute is known too.
Code written for the loop under the assumption that its slots stay within `bound` (so that
no sum it computes leaves 64 bits, and the checks fold away) is then correct whenever the
guard at its entry (`guard_source`) finds that assumption holds for every iteration to
come; loop versioning, as optimising compilers do it. Where the guard fails, the code
without the assumption runs (`loopcode`, `direct`). A loop qualifies when it holds no
other loop and is entered at its header alone (the header dominates its body).

What each op does is read from its one definition (`fusevm.interp.bodies`, the Int path
of its body) through `tripcount`'s reading of ops (a "sum" is the sum or difference of
two inputs). Each value is bounded by a linear form in the magnitudes of the slots'
values at the loop header: |v| <= sum(coef * |slot|) + const. Anything else (a product,
a call's result, a value of another type) is unknown, and a slot that may be written
with an unknown value is no longer bounded, nor is any slot computed from it.

The bound after n more iterations, per slot, in order of their dependencies: a slot that
adds to itself (`x = x + ...`, coefficient 1) grows by at most n times what is added, a
slot written from others only is bounded by them; slots that feed each other otherwise
(fib's `a, b = b, a + b`) grow geometrically, by at most the largest sum of coefficients
per iteration.
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.loops import LoopFacts, loop_facts
from fusevm.records import dataclass
from fusevm.values import INT_MAX

from . import tripcount
from .regions import Region
from .tripcount import Counted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

    from .ranges import Bounds
    from .types import Env

    #: |v| <= sum(coef * |slot at the header|) + const: ((slot, coef), ...), const.
    Form = tuple[dict[int, int], int] | None

#: Iterations of geometric growth worth guarding (a doubling slot leaves 64 bits sooner).
_MAX_SHIFT = 62


@dataclass(frozen=True, slots=True)
class Growth:
    """A counted loop's integer slots and how they grow: `forms[k]` bounds slot k's value
    at the next entry of the header by the values at this one (coefficients, constant);
    `reads` are the slots it reads but never writes; every int value the body computes is
    at most `spread` times the largest slot magnitude plus `offset`, so with every slot
    within `bound` none leaves 64 bits."""

    header: int
    counted: Counted
    body: frozenset[int]
    forms: dict[int, tuple[dict[int, int], int]]
    reads: frozenset[int]
    spread: int
    offset: int
    bound: int
    #: Slots in the order their bounds are worked out (each after those it depends on),
    #: or None when they feed each other (geometric growth, one bound for all).
    order: tuple[int, ...] | None

    @property
    def slots(self) -> frozenset[int]:
        """Every slot the guard bounds (and the loop's code may assume bounded)."""
        return frozenset(self.forms) | self.reads

    def assumed(self) -> Bounds:
        """The intervals the loop's code assumes at its header: each slot within bound."""
        return {f"l{k}": (-self.bound, self.bound) for k in self.slots}

    @property
    def growth_bits(self) -> int:
        """With slots that feed each other (`order` None), the bits their magnitudes may
        grow by per iteration (their largest sum of coefficients is at most 2 ** bits); 0
        when they grow by additions alone."""
        if self.order is not None:
            return 0
        spread = max(sum(coefs.values()) for coefs, _ in self.forms.values())
        return (spread - 1).bit_length() if spread > 1 else 0

    @property
    def most_entries(self) -> int | None:
        """The most entries of the header that the guard lets code assuming it make, from
        one entry of the loop: a geometric growth's guard bounds the iterations left
        (`guard_source`); None where it bounds values only."""
        bits = self.growth_bits
        return _MAX_SHIFT // bits if bits else None

    @property
    def counter_only(self) -> bool:
        """Whether the counter is the only slot that grows: the guard then saves at most
        the checks of its steps that the exit test's interval does not settle (a fused
        step-and-test op's), worth it for a loop entered once, not for one entered again
        and again (an inner loop, a function's)."""
        return set(self.forms) == {self.counted.slot}


#: The key of a chunk object's growths in `Chunk.derived` (by header and stack depth).
_FOUND: Final = "growth.growth"


def growth(chunk: Chunk, facts: LoopFacts, header: int, depth: int) -> Growth | None:
    """The growth of the counted loop at `header` (operand stack `depth` there), or None
    when it is not counted, holds another loop, or its integers cannot be bounded; worked
    out once per chunk object and header."""
    table: dict[tuple[int, int], Growth | None] | None = chunk.derived.get(_FOUND)
    if table is None:
        table = chunk.derived[_FOUND] = {}
    key = (header, depth)
    if key not in table:
        table[key] = _growth(chunk, facts, header, depth)
    return table[key]


def _growth(chunk: Chunk, facts: LoopFacts, header: int, depth: int) -> Growth | None:
    counted = tripcount.counted(chunk, facts, header)
    if counted is None or depth != 0 or counted.relation not in _ORDERED:
        return None
    body = tripcount.loop_body(chunk, facts, header)
    if any(g != header and g in body for g in facts.back_edges):
        return None
    if not _dominates(facts, header, body):
        return None
    found = _walk(chunk, facts, body, header)
    if found is None:
        return None
    ends, spread, offset = found
    written = {k for state in ends for k in state}
    forms: dict[int, tuple[dict[int, int], int]] = {}
    unknown: set[int] = set()
    for k in written:
        joined = _join_all([state.get(k, ({k: 1}, 0)) for state in ends])
        if joined is None:
            unknown.add(k)
        else:
            forms[k] = joined
    # A slot computed from one that is not bounded is not bounded either.
    changed = True
    while changed:
        changed = False
        for k in list(forms):
            if any(y in unknown for y in forms[k][0]):
                unknown.add(k)
                del forms[k]
                changed = True
    # A slot whose value at the header no iteration reads (written first on every path:
    # a temporary) needs no bound there, nor does it feed the others' growth.
    live = {y for coefs, _ in forms.values() for y in coefs}
    forms = {k: f for k, f in forms.items() if k in live}
    if counted.slot not in forms:
        return None
    reads = frozenset(live - set(forms))
    bound = (INT_MAX - offset) // max(spread, 1)
    if bound < 0:
        return None  # a constant beyond INT_MAX in magnitude (INT_MIN): no slot passes
    return Growth(header, counted, body, forms, reads, spread, offset, bound, _order(forms))


def _dominates(facts: LoopFacts, header: int, body: frozenset[int]) -> bool:
    """Whether the loop is entered at its header alone (where the guard is): from no
    entry of the chunk (its start, a function entry, a block start) does a path reach an
    op of `body` without passing `header`."""
    starts = [0, *facts.entries]
    seen: set[int] = set()
    work = [ip for ip in starts if ip != header]
    while work:
        ip = work.pop()
        if ip in seen or ip >= len(facts.succs):
            continue
        if ip in body:
            return False
        seen.add(ip)
        work.extend(t for t in facts.succs[ip] if t != header)
    return True


def region_loops(chunk: Chunk, region: Region, depth: list[int | None]) -> dict[int, Growth]:
    """The loops of `region` (at its hot points, wholly inside it, with an empty operand
    stack at the header) whose growth a guard can bound and pays to, by header."""
    facts = loop_facts(chunk)
    inside = frozenset(region.ops)
    out: dict[int, Growth] = {}
    for h in sorted(region.hot):
        if h in facts.back_edges and not depth[h]:
            found = growth(chunk, facts, h, 0)
            if found is None or not found.body <= inside or \
                    any(e != h and e in found.body for e in region.entries):
                continue
            inner = any(g != h and h in tripcount.loop_body(chunk, facts, g)
                        for g in facts.back_edges)
            if not (found.counter_only and inner):
                out[h] = found
    return out


#: The exit tests whose count of iterations `guard_source` can write.
_ORDERED = frozenset(rel for rel, _, _ in tripcount.BOUNDS)


def _order(forms: dict[int, tuple[dict[int, int], int]]) -> tuple[int, ...] | None:
    """The slots, each after the slots it depends on, when no two depend on each other
    and none depends on itself but by adding to itself once (coefficient 1)."""
    order: list[int] = []
    state: dict[int, int] = {}  # 1: being visited, 2: done

    def visit(k: int) -> bool:
        if state.get(k) == 2:
            return True
        if state.get(k) == 1:
            return False
        state[k] = 1
        for y, coef in forms[k][0].items():
            if y == k:
                if coef != 1:
                    return False
                continue
            if y in forms and not visit(y):
                return False
        state[k] = 2
        order.append(k)
        return True

    return tuple(order) if all(visit(k) for k in sorted(forms)) else None


def _join(a: Form, b: Form) -> Form:
    if a is None or b is None:
        return None
    coefs = dict(a[0])
    for k, c in b[0].items():
        coefs[k] = max(coefs.get(k, 0), c)
    return coefs, max(a[1], b[1])


def _join_all(forms: list[Form]) -> Form:
    out = forms[0]
    for f in forms[1:]:
        out = _join(out, f)
    return out


def _sum(a: Form, b: Form) -> Form:
    if a is None or b is None:
        return None
    coefs = dict(a[0])
    for k, c in b[0].items():
        coefs[k] = coefs.get(k, 0) + c
    return coefs, a[1] + b[1]


State = tuple[list["Form"], dict[int, "Form"]]


def _walk(chunk: Chunk, facts: LoopFacts, body: frozenset[int],
          header: int) -> tuple[list[dict[int, Form]], int, int] | None:
    """The slots each back edge carries to the header (as forms in the header's values),
    and the largest coefficient sum and constant of any int value the body computes;
    None when an op cannot be followed. The body holds no other loop, so in op order
    every edge but those back to the header goes forward."""
    states: dict[int, State] = {header: ([], {})}
    ends: list[dict[int, Form]] = []
    spread = offset = 0
    for ip in sorted(body):
        state = states.pop(ip, None)
        if state is None:
            continue  # reached only from outside the body
        stack, slots = list(state[0]), dict(state[1])
        core = tripcount.core_ops(chunk.ops[ip], ip)
        if core is None:
            return None  # an extension op that may do anything (its own handler)
        for instr in core:
            op = instr[0]
            kind = tripcount.op_kind(op)
            if kind is None:
                return None
            name, detail = kind
            if name == "get":
                k = instr[1 + detail]
                stack.append(slots[k] if k in slots else ({k: 1}, 0))
            elif name == "set":
                slots[instr[1 + detail]] = stack.pop() if stack else None
            elif name == "const":
                v = instr[1 + detail]
                stack.append(({}, abs(v)) if type(v) is int else None)
            elif name == "copy":
                stack.append(stack[-1] if stack else None)
            elif name == "step":
                a = stack.pop() if stack else None
                stack.append(None if a is None else (a[0], a[1] + abs(detail)))
            elif name == "sum" and len(stack) >= 2:
                b, a = stack.pop(), stack.pop()
                stack.append(_sum(a, b))
            else:
                spec = op.spec
                del stack[max(len(stack) - spec.effect.pops(spec, instr[1:]), 0):]
                stack.extend([None] * spec.effect.pushes(spec, instr[1:]))
            top = stack[-1] if stack else None
            if top is not None:  # (a value this op computed, or one it left)
                spread = max(spread, sum(top[0].values()))
                offset = max(offset, top[1])
        for t in facts.succs[ip]:
            if t == header:
                ends.append(slots)
            elif t in body:
                if t <= ip:
                    return None
                old = states.get(t)
                if old is None:
                    states[t] = (stack, slots)
                elif len(old[0]) != len(stack):
                    return None
                else:
                    keys = set(old[1]) | set(slots)
                    states[t] = ([_join(x, y) for x, y in zip(old[0], stack, strict=True)],
                                 {k: _join(old[1].get(k, ({k: 1}, 0)),
                                           slots.get(k, ({k: 1}, 0))) for k in keys})
    return (ends, spread, offset) if ends else None


def guard_source(g: Growth, name: Callable[[int], str], tag: str,
                 types: Env | None = None, intervals: Bounds | None = None) -> str:
    """A Python test that, with slot k's value in local `name(k)` at the loop's entry,
    every slot `g` bounds is an int and stays within `g.bound` for every iteration left
    (`tag` names its own temporaries). What the generator knows there of slot k's local
    `l<k>` (its exact type in `types`, its interval in `intervals`) leaves its type test
    and its magnitude out."""
    types = types or {}
    ints = frozenset(k for k in g.slots if types.get(f"l{k}") is int)
    known = {k: r for k in g.slots if (r := (intervals or {}).get(f"l{k}")) is not None}

    def size(k: int) -> str:
        if k in known:
            return str(max(abs(known[k][0]), abs(known[k][1])))
        x = name(k)
        return f"({x} if {x} >= 0 else -{x})"  # (`abs` is a call: this is not)

    c = g.counted
    x = name(c.slot)
    sign, shift = tripcount.BOUNDS[(c.relation, c.swapped, c.stay)]
    per = c.step * sign
    if per <= 0:
        return "False"  # (it moves away from its bound: it never ends)
    edge = c.limit + shift - c.offset
    gap = (f"{edge} - {x}" if edge else f"-{x}") if sign > 0 else \
        (f"{x} - {edge}" if edge else x)
    left = f"{gap} + 1" if per == 1 else f"-(-({gap}) // {per}) + 1"
    n = f"{tag}n"
    parts = [f"type({name(k)}) is int" for k in sorted(g.slots) if k not in ints]
    # The header's entries left, this one too (written without `max`, a call).
    parts.append(f"({n} := {left} if {gap} > 0 else 1)")
    if g.order is None:
        bits = g.growth_bits
        constant = max(const for _, const in g.forms.values())
        fixed = [int(t) for t in map(size, g.slots) if t.isdigit()]
        sizes = sorted({t for t in map(size, g.slots) if not t.isdigit()})
        sizes += [str(max(fixed))] if fixed else []
        start = sizes[0] if len(sizes) == 1 else _max(sizes)
        if not bits:
            parts.append(f"{start} + {n} * {constant} <= {g.bound}")
        else:
            times = n if bits == 1 else f"{n} * {bits}"
            parts.append(f"{times} <= {_MAX_SHIFT}")
            parts.append(f"({start} + {constant}) << {times} <= {g.bound}")
        return " and ".join(parts)
    bounds = {k: size(k) for k in g.reads}
    for k in g.order:
        coefs, const = g.forms[k]
        others = [f"{coef} * {bounds[y]}" for y, coef in sorted(coefs.items()) if y != k]
        step = " + ".join([*others, str(const)])
        own = f"{tag}{k}"
        if coefs.get(k):
            parts.append(f"({own} := {size(k)} + {n} * ({step})) <= {g.bound}")
        else:
            parts.append(f"({own} := {_max([size(k), f'({step})'])}) <= {g.bound}")
        bounds[k] = own
    parts.extend(f"{size(k)} <= {g.bound}" for k in sorted(g.reads))
    return " and ".join(parts)


def _max(terms: list[str]) -> str:
    """The largest of `terms` (Python expressions): a conditional for two (`max` is a call)."""
    if len(terms) == 2:
        a, b = terms
        return f"({a} if {a} > {b} else {b})"
    return f"max({', '.join(terms)})"
