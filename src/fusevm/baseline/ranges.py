"""Intervals of int locals, so that checks which cannot fail are not written.

Every VM int lies in the 64-bit range (D4), so each Int op's code checks its exact result
(`r if INT_MIN <= r <= INT_MAX else sem.int_result(...)`). Where the generator knows an
interval for each input (a constant, a loop counter that its loop test bounds, a remainder
by a positive constant) it knows one for the result, and a check the interval decides is
folded away (`types.specialize`). Intervals come from three places only: constants and
the ops' arithmetic (`value_range`), the branch that was taken at a block's end
(`refine`), and the join of the edges into a block (`hull`, and `widen` on back edges, so
the analysis ends). An entry from outside brings none unless its guard checks them.

`Bounds` maps a local's name to a closed interval (lo, hi); a name not in it is unknown.
"""

from __future__ import annotations

from fusevm import pyast as ast
from fusevm.values import INT_MAX, INT_MIN

from .trees import copy_tree, names
from .trees import stored as names_stored

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

Bounds = dict[str, tuple[int, int]]

_LIMITS = {"INT_MAX": INT_MAX, "INT_MIN": INT_MIN}


def value_range(e: ast.expr, bounds: Bounds) -> tuple[int, int] | None:
    """The interval of int expression `e`'s value when `bounds` holds, or None."""
    if isinstance(e, ast.Constant):
        return (e.value, e.value) if type(e.value) is int else None
    if isinstance(e, ast.Name):
        if e.id in _LIMITS:
            return _LIMITS[e.id], _LIMITS[e.id]
        return bounds.get(e.id)
    if isinstance(e, ast.IfExp):
        a, b = value_range(e.body, bounds), value_range(e.orelse, bounds)
        return None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        a = value_range(e.operand, bounds)
        return None if a is None else (-a[1], -a[0])
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "len":
        return 0, _LIMITS["INT_MAX"]  # (a Py_ssize_t: at most sys.maxsize, 2**63 - 1)
    if not isinstance(e, ast.BinOp):
        return None
    a, b = value_range(e.left, bounds), value_range(e.right, bounds)
    op = _BIT_OPS.get(type(e.op))
    if op is not None and a is not None and b is not None and a[0] == a[1] and \
            b[0] == b[1] and b[0] >= 0:
        v = op(a[0], b[0])  # (both known exactly: `b & 63` of a constant shift count)
        return v, v
    if isinstance(e.op, ast.BitAnd):
        # `x & m` with m >= 0 lies in [0, m], whatever x is.
        known = [r[1] for r in (a, b) if r is not None and r[0] >= 0]
        if known:
            return 0, min(known)
    if a is None or b is None:
        return None
    if isinstance(e.op, ast.Add):
        return a[0] + b[0], a[1] + b[1]
    if isinstance(e.op, ast.Sub):
        return a[0] - b[1], a[1] - b[0]
    if isinstance(e.op, ast.Mult):
        corners = [x * y for x in a for y in b]
        return min(corners), max(corners)
    if isinstance(e.op, ast.Mod) and b[0] > 0:
        # Python's `%` by a positive divisor lies in [0, divisor); at most a non-negative
        # dividend.
        return 0, (min(a[1], b[1] - 1) if a[0] >= 0 else b[1] - 1)
    if isinstance(e.op, (ast.BitOr, ast.BitXor)) and a[0] >= 0 and b[0] >= 0:
        # No bit above the higher operand's highest.
        return 0, (1 << max(a[1].bit_length(), b[1].bit_length())) - 1
    if isinstance(e.op, ast.RShift) and a[0] >= 0 and b[0] >= 0:
        return a[0] >> b[1], a[1] >> b[0]
    if isinstance(e.op, ast.LShift) and a[0] >= 0 and 0 <= b[0] and b[1] < 64:
        return a[0] << b[0], a[1] << b[1]
    return None


#: Operators whose result `value_range` computes when both operands are known exactly
#: (a non-negative right operand: no shift raises).
_BIT_OPS: dict[type, Callable[[int, int], int]] = {
    ast.BitAnd: lambda x, y: x & y, ast.BitOr: lambda x, y: x | y,
    ast.BitXor: lambda x, y: x ^ y, ast.RShift: lambda x, y: x >> y}


_TESTS: dict[type, Callable[[tuple[int, int], tuple[int, int]], bool | None]] = {
    ast.Lt: lambda a, b: True if a[1] < b[0] else False if a[0] >= b[1] else None,
    ast.LtE: lambda a, b: True if a[1] <= b[0] else False if a[0] > b[1] else None,
    ast.Gt: lambda a, b: True if a[0] > b[1] else False if a[1] <= b[0] else None,
    ast.GtE: lambda a, b: True if a[0] >= b[1] else False if a[1] < b[0] else None,
    ast.Eq: lambda a, b: (True if a[0] == a[1] == b[0] == b[1]
                          else False if a[1] < b[0] or b[1] < a[0] else None),
    ast.NotEq: lambda a, b: (False if a[0] == a[1] == b[0] == b[1]
                             else True if a[1] < b[0] or b[1] < a[0] else None),
}


def decide(node: ast.Compare, bounds: Bounds) -> ast.expr | None:
    """A comparison (chain) of ints the intervals decide: its constant value, or the one
    link they leave open (`INT_MIN <= x <= INT_MAX` with x >= 0 is `x <= INT_MAX`);
    None when they decide nothing."""
    if not all(type(op) in _TESTS for op in node.ops):
        return None
    items = [node.left, *node.comparators]
    ranges = [value_range(x, bounds) for x in items]
    open_links: list[int] = []
    for k, op in enumerate(node.ops):
        a, b = ranges[k], ranges[k + 1]
        result = None if a is None or b is None else _TESTS[type(op)](a, b)
        if result is False:
            return ast.Constant(False)
        if result is None:
            open_links.append(k)
    if not open_links:
        return ast.Constant(True)
    if len(open_links) == len(node.ops) or len(open_links) > 1:
        return None
    k = open_links[0]
    if not all(isinstance(x, (ast.Name, ast.Constant)) for x in items):
        return None  # dropping a link must not drop an evaluation with an effect
    return ast.Compare(items[k], [node.ops[k]], [items[k + 1]])


def hull(a: Bounds, b: Bounds) -> Bounds:
    """What holds after either of two paths: each name both bound, in both intervals."""
    return {k: (min(r[0], b[k][0]), max(r[1], b[k][1])) for k, r in a.items() if k in b}


def meet(a: Bounds, b: Bounds) -> Bounds:
    """What holds when both hold: each name bound in either, in both intervals (where
    they share nothing, `b`'s: a guard checked it, the code there cannot run)."""
    out = dict(a)
    for k, r in b.items():
        old = out.get(k)
        if old is None or max(old[0], r[0]) > min(old[1], r[1]):
            out[k] = r
        else:
            out[k] = (max(old[0], r[0]), min(old[1], r[1]))
    return out


def widen(old: Bounds, new: Bounds, marks: Iterable[int]) -> Bounds:
    """`hull(old, new)` with each interval that grew pushed out to the next of `marks`
    (the region's constants, and the 64-bit limits): a loop's bounds settle in a few
    rounds instead of one per iteration."""
    steps = sorted({INT_MIN, INT_MAX, *marks})
    out: Bounds = {}
    for k, (lo, hi) in hull(old, new).items():
        was = old[k]
        if lo < was[0]:
            lo = max((m for m in steps if m <= lo), default=INT_MIN)
        if hi > was[1]:
            hi = min((m for m in steps if m >= hi), default=INT_MAX)
        out[k] = lo, hi
    return out


def refine(bounds: Bounds, stmts: list[ast.stmt], cond: ast.expr, truth: bool) -> Bounds:
    """`bounds` after a branch whose condition `cond` (computed by `stmts`, an op's code)
    was `truth`: a test of a bound name against a constant or another bound name (a
    loop's `i < n`, n a length) narrows each name and the names that hold its value."""
    if isinstance(cond, ast.UnaryOp) and isinstance(cond.op, ast.Not):
        return refine(bounds, stmts, cond.operand, not truth)
    if not (isinstance(cond, ast.Compare) and len(cond.ops) == 1
            and type(cond.ops[0]) in _NARROW):
        return bounds
    left, op, right = cond.left, type(cond.ops[0]), cond.comparators[0]
    if not truth:
        op = _NOT[op]
    out = bounds
    for this, test, other in ((left, op, right), (right, _FLIP[op], left)):
        if not (isinstance(this, ast.Name) and this.id in bounds):
            continue
        if isinstance(other, ast.Constant) and type(other.value) is int:
            c_lo = c_hi = other.value
        elif isinstance(other, ast.Name) and other.id in bounds:
            c_lo, c_hi = bounds[other.id]
        else:
            continue
        lo, hi = bounds[this.id]
        lo, hi = {ast.Lt: (lo, min(hi, c_hi - 1)), ast.LtE: (lo, min(hi, c_hi)),
                  ast.Gt: (max(lo, c_lo + 1), hi), ast.GtE: (max(lo, c_lo), hi),
                  ast.Eq: (max(lo, c_lo), min(hi, c_hi)), ast.NotEq: (lo, hi)}[test]
        if lo > hi:
            return bounds  # this edge cannot run: nothing to learn
        out = dict(out)
        for name in same_value(stmts, this.id):
            if name in out:
                out[name] = lo, hi
    return out


_NARROW = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_FLIP = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE,
         ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
_NOT = {ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt,
        ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def same_value(stmts: list[ast.stmt], name: str) -> set[str]:
    """The names that hold `name`'s value after `stmts` (copies `a = b`), `name` included."""
    version: dict[str, int] = {}
    fresh = 0
    for s in stmts:
        stored = names_stored(s)
        if (isinstance(s, ast.Assign) and len(s.targets) == 1
                and isinstance(s.targets[0], ast.Name) and isinstance(s.value, ast.Name)):
            source = s.value.id
            if source not in version:
                fresh += 1
                version[source] = -fresh
            version[s.targets[0].id] = version[source]
            continue
        for target in stored:
            fresh += 1
            version[target] = fresh
    mine = version.get(name)
    if mine is None:
        return {name}
    return {k for k, v in version.items() if v == mine} | {name}


def resolve(stmts: list[ast.stmt], e: ast.expr) -> ast.expr:
    """`e`, evaluated after `stmts` (a block's code), with each stack local or temporary
    that `stmts` set to a name, constant or comparison of those replaced by that value,
    as long as no name it reads was set again since: the test a branch makes in terms of
    the values it compares (`s0 = l0; s0 = s0 < 10` then `taken = s0` is `l0 < 10`), so
    `refine` can narrow them."""
    defs: dict[str, ast.expr] = {}
    for s in stmts:
        stored = names_stored(s)
        value, target = None, ""
        if (isinstance(s, ast.Assign) and len(s.targets) == 1
                and isinstance(s.targets[0], ast.Name) and value_local(s.targets[0].id)):
            target = s.targets[0].id
            value = copy_tree(s.value, defs)
            if not _simple(value) or _reads(value) & stored:
                value = None
        for name in stored:
            defs.pop(name, None)
        if stored and defs:
            defs = {k: v for k, v in defs.items() if not _reads(v) & stored}
        if value is not None:
            defs[target] = value
    out: ast.expr = copy_tree(e, defs)
    return out


def value_local(name: str) -> bool:
    """A stack local (`s3`) or an op's temporary (`t12_old`): locals only the generated
    code of a few ops reads (`types.forward` may fold them away)."""
    return len(name) > 1 and name[0] in "st" and name[1].isdigit()


def _reads(e: ast.expr) -> set[str]:
    return names(e)


def _simple(e: ast.expr) -> bool:
    """A name, a constant, a comparison of those, or `not` of one of these."""
    if isinstance(e, (ast.Name, ast.Constant)):
        return True
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
        return _simple(e.operand)
    return isinstance(e, ast.Compare) and all(
        isinstance(x, (ast.Name, ast.Constant)) for x in (e.left, *e.comparators))
