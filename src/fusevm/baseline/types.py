"""Exact types of the values a region's code holds, and the specialisation they allow.

A body is written for any value (`if type(a) is int and type(b) is int: ... else:
sem.add(...)`). Where the generator can prove the exact type of a local (a constant, the
result of `int + int`, a comparison of numbers, a `sem` function whose annotation says it
returns `int`, or a frame slot the region checked on entry), the type test is decided and
only the path that can run is written out: the meaning cannot change, only the tests go.

`specialize(stmts, env)` folds an op's statements in order, each with the types known
before it, and returns the statements and the types known after them. An `Env` maps a
local's name to its exact type (`int`, `float`, `bool`, `str`, `list` or `dict`); a name
not in it may hold anything. It also holds facts about where the VM keeps values, under
names no code assigns: `G<k>` for global `k` (`globals_[k]`), which the region's own
stores, its entry guards and the tests of the container ops' bodies give (a global keeps
its type until a store or a step that may store: only the interpreter's steps and calls
do), and `K<k>` for constant `k` (`consts[k]`), which never changes.
"""

from __future__ import annotations

from fusevm import pyast as ast
from fusevm.interp import semantics as sem
from fusevm.interp.bodies import ENV

from .fold import TYPES, Folder, read_type_test
from .pieces import local_index
from .ranges import Bounds, decide, hull, value_local, value_range
from .trees import copy_tree, name_nodes, names, stored

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

Env = dict[str, type]

KNOWN: frozenset[type] = frozenset(TYPES.values())

_INT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift,
            ast.RShift, ast.FloorDiv, ast.Mod)
_FLOAT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)


def _returns(fn: Any) -> type | None:
    """The exact type a function's return annotation names (int, float, bool, str)."""
    note = getattr(fn, "__annotations__", {}).get("return")
    if isinstance(note, str):
        return TYPES.get(note)
    return note if note in KNOWN else None


#: What the names a body may call return, from their own annotations (one source of truth:
#: a function's signature). `sem.<name>` and the ENV functions.
_SEM_RETURNS: dict[str, type] = {
    name: t for name, fn in vars(sem).items() if not name.startswith("_") and callable(fn)
    and getattr(fn, "__module__", None) == sem.__name__  # its own, not imported helpers
    and (t := _returns(fn)) is not None}
_ENV_RETURNS: dict[str, type] = {
    name: t for name, fn in ENV.items() if callable(fn) and (t := _returns(fn)) is not None}
_ENV_RETURNS.update({"len": int, "int": int, "float": float, "str": str, "bool": bool})
_ENV_CONSTS: Env = {name: type(v) for name, v in ENV.items() if type(v) in KNOWN}


#: `sem` functions of two numbers that return a Float unless both are Ints (they add,
#: subtract or multiply `to_float` of each; `tests/baseline/test_baseline_types.py`).
_FLOAT_UNLESS_INTS = frozenset({"add", "sub", "mul"})


#: Where a fact's name says the value is: `G<k>` is `globals_[k]`, `K<k>` is `consts[k]`.
_PLACES = {"globals_": "G", "consts": "K"}


def place(e: ast.expr) -> str | None:
    """The fact name of `globals_[<int>]` or `consts[<int>]` (`G<int>`, `K<int>`), else
    None."""
    if (isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name)
            and e.value.id in _PLACES and isinstance(e.slice, ast.Constant)
            and type(e.slice.value) is int):
        return f"{_PLACES[e.value.id]}{e.slice.value}"
    return None


def place_source(name: str) -> str | None:
    """Where a fact name (`place`'s) says the value is: `globals_[2]` for `G2`; None for a
    local's name."""
    for where, prefix in _PLACES.items():
        if name[0] == prefix and name[1:].isdigit():
            return f"{where}[{name[1:]}]"
    return None


def without_globals(env: Env) -> Env:
    """The facts left after code that may store any global (a step, a call)."""
    return {k: t for k, t in env.items() if k[0] != "G"}


def join(a: Env, b: Env) -> Env:
    """What is known after either of two paths: the names both know to be the same type."""
    return {k: t for k, t in a.items() if b.get(k) is t}


def expr_type(e: ast.expr, env: Env) -> type | None:
    """The exact type of `e`'s value when `env` holds, or None."""
    if isinstance(e, ast.Constant):
        const: type = type(e.value)
        return const if const in KNOWN else None
    if isinstance(e, ast.Name):
        return env.get(e.id) or _ENV_CONSTS.get(e.id)
    if isinstance(e, ast.Subscript):
        at = place(e)
        return None if at is None else env.get(at)
    if isinstance(e, ast.List):
        return list
    if isinstance(e, ast.Dict):
        return dict
    if isinstance(e, ast.BinOp):
        lt, rt = expr_type(e.left, env), expr_type(e.right, env)
        if lt is int and rt is int:
            if isinstance(e.op, _INT_OPS):
                return int
            return float if isinstance(e.op, ast.Div) else None
        if (lt is float and rt in (float, int) or lt is int and rt is float) and \
                isinstance(e.op, _FLOAT_OPS):
            return float  # (a Float with an Int: Python converts the Int, as to_float)
        if lt is str and rt is str and isinstance(e.op, ast.Add):
            return str
        return None
    if isinstance(e, ast.UnaryOp):
        if isinstance(e.op, ast.Not):
            return bool
        t = expr_type(e.operand, env)
        if isinstance(e.op, (ast.USub, ast.UAdd)) and t in (int, float):
            return t
        return int if isinstance(e.op, ast.Invert) and t is int else None
    if isinstance(e, ast.Compare):
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in e.ops):
            return bool
        # Comparisons of builtin values are bools; other objects may return anything.
        types = [expr_type(x, env) for x in (e.left, *e.comparators)]
        return bool if all(t in KNOWN for t in types) else None
    if isinstance(e, ast.BoolOp):
        found = {expr_type(v, env) for v in e.values}
        return found.pop() if len(found) == 1 else None
    if isinstance(e, ast.IfExp):
        bt, ot = expr_type(e.body, env), expr_type(e.orelse, env)
        return bt if bt is ot else None
    if isinstance(e, ast.Call):
        f = e.func
        if isinstance(f, ast.Name):
            return _ENV_RETURNS.get(f.id)
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and \
                f.value.id == "sem":
            if f.attr in _FLOAT_UNLESS_INTS and len(e.args) >= 2:
                kinds = [expr_type(x, env) for x in e.args[:2]]
                if all(k in (int, float, bool) for k in kinds) and kinds != [int, int]:
                    return float
            return _SEM_RETURNS.get(f.attr)
    return None


class _TypedFolder(Folder):
    """`Folder` that also decides type tests of locals of known type, and truth tests of
    known bools (`b is True` is `b`)."""

    def __init__(self, env: Env, bounds: Bounds | None = None) -> None:
        self.env = env
        self.bounds: Bounds = bounds or {}

    def visit_Compare(self, node: ast.Compare) -> Any:
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            left, right = node.left, node.comparators[0]
            is_ = isinstance(node.ops[0], ast.Is)
            parts = read_type_test(node)
            if parts is not None:
                t = expr_type(parts[0], self.env)
                if t is not None:
                    return ast.copy_location(ast.Constant((t is parts[1]) is is_), node)
            if (isinstance(left, ast.Name) and self.env.get(left.id) is bool
                    and isinstance(right, ast.Constant) and type(right.value) is bool):
                truth = right.value is is_
                name = ast.Name(left.id, ast.Load())
                return ast.copy_location(
                    name if truth else ast.UnaryOp(ast.Not(), name), node)
            if (isinstance(left, ast.Name) and self.env.get(left.id) in (int, float, str)
                    and isinstance(right, ast.Constant) and type(right.value) is bool):
                # A number or string is never the True or False singleton.
                return ast.copy_location(ast.Constant(not is_), node)
        if self.bounds:
            decided = decide(node, self.bounds)
            if decided is not None:
                return ast.copy_location(decided, node)
        return self.fold_compare(node)

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        # `truthy` of a number is Python's own truth (NaN true, -0.0 false): `x != 0`.
        if (isinstance(node.func, ast.Name) and node.func.id == "truthy"
                and len(node.args) == 1 and not node.keywords
                and isinstance(node.args[0], ast.Name)
                and self.env.get(node.args[0].id) in (int, float)):
            return ast.copy_location(
                ast.Compare(node.args[0], [ast.NotEq()], [ast.Constant(0)]), node)
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        out = super().visit_UnaryOp(node)
        if (isinstance(out, ast.UnaryOp) and isinstance(out.op, ast.Not)
                and isinstance(out.operand, ast.Compare) and len(out.operand.ops) == 1
                and isinstance(out.operand.ops[0], ast.NotEq)):
            c = out.operand
            return ast.copy_location(ast.Compare(c.left, [ast.Eq()], c.comparators), out)
        return out

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        out = super().visit_BoolOp(node)
        if not isinstance(out, ast.BoolOp):
            return out
        # `a or (a and b)` is `a`, and `a and (a or b)` is `a`, for a pure `a`.
        kept: list[ast.expr] = []
        seen: set[str] = set()
        for v in out.values:
            if (isinstance(v, ast.BoolOp) and type(v.op) is not type(out.op)
                    and _pure(v.values[0]) and _pure_key(v.values[0]) in seen):
                continue
            if _pure(v):
                seen.add(_pure_key(v))
            kept.append(v)
        if len(kept) == 1:
            return kept[0]
        out.values = kept
        return out


def _pure(e: ast.expr) -> bool:
    """A name, or `not` of one: evaluating it again gives the same value, calls nothing."""
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
        e = e.operand
    return isinstance(e, ast.Name)


def _pure_key(e: ast.expr) -> str:
    """What tells two `_pure` expressions apart: the name, `not` or not."""
    if isinstance(e, ast.UnaryOp) and isinstance(e.operand, ast.Name):
        return "not " + e.operand.id
    return e.id if isinstance(e, ast.Name) else ""


def _assign(target: ast.expr, t: type | None, env: Env) -> None:
    name = target.id if isinstance(target, ast.Name) else place(target)
    if name is not None:
        if t is None:
            env.pop(name, None)
        else:
            env[name] = t
    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and \
            target.value.id == "globals_":
        for k in [k for k in env if k[0] == "G"]:  # (an index that is not a constant)
            del env[k]
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _assign(elt, None, env)


def specialize(stmts: list[ast.stmt], env: Env, bounds: Bounds | None = None,
               bind: Callable[[Any], Any] | None = None) -> tuple[list[ast.stmt], Env]:
    """`stmts` with the type tests `env` decides folded, in order; and the env after.
    With `bounds` (the intervals known of int locals), the comparisons they decide fold
    too (the 64-bit range checks of values that provably stay in range), and `bounds` is
    updated to what holds after `stmts`. With `bind` (`pieces.bind`'s), `stmts` are an op
    body's own statements, each bound as it is reached (an `if`'s test first, then only
    the branches it does not decide against): the same statements as binding them all
    first, without copying what is left out."""
    env = dict(env)
    known: Bounds = {} if bounds is None else bounds
    out: list[ast.stmt] = []
    sides: dict[str, str] = {}  # a name holding int ± constant -> the bound it can pass
    for s in stmts:
        # (An `if` is bound a part at a time unless `_OneSided` is to rewrite it whole.)
        inner = bind if bind is not None and type(s) is ast.If and not sides else None
        if bind is not None and inner is None:
            s = bind(s)
        if sides:
            s = _OneSided(sides).visit(s)
        if isinstance(s, ast.If):
            test = _TypedFolder(env, known).visit(s.test if inner is None else inner(s.test))
            if isinstance(test, ast.Constant) and type(test.value) is bool:
                chosen, env = specialize(s.body if test.value else s.orelse, env, known,
                                         inner)
                out.extend(chosen)
                continue
            after_b, after_o = dict(known), dict(known)
            body, env_b = specialize(s.body, env, after_b, inner)
            orelse, env_o = specialize(s.orelse, env, after_o, inner)
            if inner is not None:
                s = _bound_position(s)
            out.append(ast.copy_location(
                ast.If(test, body or [ast.Pass()], orelse), s))
            known.clear()
            # A branch that raises (a body's `sem.not_a_container`) leaves the other's
            # facts, and what its test then says: `type(x) is not list` failed.
            if _raises(body):
                env = _narrowed(env_o, test, False)
                known.update(after_o)
            elif orelse and _raises(orelse):
                env = _narrowed(env_b, test, True)
                known.update(after_b)
            else:
                env = join(env_b, env_o)
                known.update(hull(after_b, after_o))
            continue
        s = _TypedFolder(env, known).visit(s)
        out.append(s)
        _track(s, env, known)
        if isinstance(s, ast.Assign):
            value = s.value
            if len(s.targets) == 1 and isinstance(s.targets[0], ast.Tuple) and \
                    isinstance(value, ast.Tuple) and \
                    len(value.elts) == len(s.targets[0].elts):
                types = [expr_type(v, env) for v in value.elts]
                for target, t in zip(s.targets[0].elts, types):
                    _assign(target, t, env)
                continue
            t = expr_type(value, env)
            for target in s.targets:
                _assign(target, t, env)
                if isinstance(target, ast.Name):
                    sides.pop(target.id, None)
                    side = _side(value, env, known)
                    if side is not None:
                        sides[target.id] = side
        elif isinstance(s, ast.AugAssign):
            t = expr_type(ast.BinOp(s.target, s.op, s.value), env) \
                if isinstance(s.target, ast.Name) else None
            _assign(s.target, t, env)
        elif not isinstance(s, (ast.Expr, ast.Pass)):
            for name in stored(s):
                env.pop(name, None)
    return out, env


def _raises(stmts: list[ast.stmt]) -> bool:
    """Whether `stmts` end raising: a `raise`, or a call of a `sem` function that never
    returns (its annotation says so)."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, ast.Raise):
        return True
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)):
        return False
    f = last.value.func
    if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
            and f.value.id == "sem"):
        return False
    fn = getattr(sem, f.attr, None)
    # (`semantics` postpones its annotations: the name is a string)
    return getattr(fn, "__annotations__", {}).get("return") == "NoReturn"


def _narrowed(env: Env, test: ast.expr, truth: bool) -> Env:
    """`env` with what `test` (`type(x) is T` / `is not T`) having been `truth` says."""
    parts = read_type_test(test)
    if parts is None:
        return env
    subject, t, is_ = parts
    name = subject.id if isinstance(subject, ast.Name) else place(subject)
    if name is None or is_ != truth:
        return env
    return {**env, name: t}


def _bound_position(s: ast.stmt) -> ast.stmt:
    """A statement with the position a bound copy of body statement `s` has
    (`pieces.bind_names`: its line only), for `copy_location` to give what it gives."""
    out = ast.Pass()
    out.lineno = s.lineno
    return out


def _track(s: ast.stmt, env: Env, bounds: Bounds) -> None:
    """Update `bounds` for statement `s` (run after it; `env` is the types before it)."""
    if not bounds and not isinstance(s, ast.Assign):
        return
    if isinstance(s, ast.Assign) and len(s.targets) == 1 and \
            isinstance(s.targets[0], ast.Name):
        r = value_range(s.value, bounds) if expr_type(s.value, env) is int else None
        if r is None:
            bounds.pop(s.targets[0].id, None)
        else:
            bounds[s.targets[0].id] = r
        return
    for name in writes(s):
        bounds.pop(name, None)


def _side(e: ast.expr, env: Env, bounds: Bounds) -> str | None:
    """For `x + y` or `x - y` with x an int (every VM int is within 64 bits, D4) and y an
    int whose interval has one sign (a constant, or what `bounds` gives): the one bound
    of the 64-bit range the result can pass ("max" or "min"); else None."""
    if not isinstance(e, ast.BinOp) or not isinstance(e.op, (ast.Add, ast.Sub)):
        return None
    pairs = [(e.left, e.right)]
    if isinstance(e.op, ast.Add):
        pairs.append((e.right, e.left))
    for left, right in pairs:
        # (a VM value: a stack or slot local, not an op's unchecked exact result)
        if not (isinstance(left, ast.Name) and local_index(left.id, "sl") is not None
                and env.get(left.id) is int
                and expr_type(right, env) is int):
            continue
        r = value_range(right, bounds)
        if r is None or (r[0] < 0 < r[1]):
            continue
        up = (r[0] >= 0) == isinstance(e.op, ast.Add)
        return "max" if up else "min"
    return None


class _OneSided(ast.NodeTransformer):
    """`INT_MIN <= t <= INT_MAX` -> the one comparison that can fail, for a name `t`
    that `_side` bounded."""

    def __init__(self, sides: dict[str, str]) -> None:
        self.sides = sides

    def visit_Compare(self, node: ast.Compare) -> Any:
        self.generic_visit(node)
        if not (len(node.ops) == 2 and all(isinstance(op, ast.LtE) for op in node.ops)
                and isinstance(node.left, ast.Name) and node.left.id == "INT_MIN"):
            return node
        middle, high = node.comparators
        if not (isinstance(middle, ast.Name) and middle.id in self.sides
                and isinstance(high, ast.Name) and high.id == "INT_MAX"):
            return node
        if self.sides[middle.id] == "max":
            return ast.copy_location(ast.Compare(middle, [ast.LtE()], [high]), node)
        return ast.copy_location(ast.Compare(node.left, [ast.LtE()], [middle]), node)


_SAFE_INT = (ast.Add, ast.Sub, ast.Mult, ast.BitAnd, ast.BitOr, ast.BitXor)
_SAFE_FLOAT = (ast.Add, ast.Sub, ast.Mult)
_NUMBERS = (int, float, bool)


def _safe(e: ast.expr, env: Env) -> bool:
    """True when evaluating `e` cannot raise or have an effect, given `env`."""
    if isinstance(e, ast.Constant):
        return True
    if isinstance(e, ast.Name):
        # (a slot local is always bound, loaded at a region's entry or Undef in a direct
        # form until set, and a stack local is read only where its op's input is: reading
        # either has no effect whatever its type)
        return e.id in env or e.id in _ENV_CONSTS or local_index(e.id, "sl") is not None
    if isinstance(e, ast.Compare):
        if not _safe(e.left, env) or not all(_safe(c, env) for c in e.comparators):
            return False
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in e.ops):
            return True
        types = {expr_type(x, env) for x in (e.left, *e.comparators)}
        return types <= {str} or all(t in _NUMBERS for t in types)
    if isinstance(e, ast.Subscript):
        # (a global or constant with a known type is there: reading it cannot raise)
        at = place(e)
        return at is not None and at in env
    if isinstance(e, ast.BoolOp):
        return all(_safe(v, env) for v in e.values)
    if isinstance(e, ast.UnaryOp):
        return _safe(e.operand, env) and (
            isinstance(e.op, ast.Not) or expr_type(e.operand, env) in (int, float))
    if isinstance(e, ast.BinOp):
        lt, rt = expr_type(e.left, env), expr_type(e.right, env)
        ok = (lt is int and rt is int and (isinstance(e.op, _SAFE_INT) or (
            isinstance(e.op, (ast.LShift, ast.RShift)) and _small_count(e.right)) or (
            isinstance(e.op, (ast.Mod, ast.FloorDiv)) and isinstance(e.right, ast.Constant)
            and e.right.value != 0))) or \
            (lt is float and rt is float and isinstance(e.op, _SAFE_FLOAT))
        return ok and _safe(e.left, env) and _safe(e.right, env)
    if isinstance(e, ast.IfExp):
        return _safe(e.test, env) and _safe(e.body, env) and _safe(e.orelse, env)
    return False


def _small_count(e: ast.expr) -> bool:
    """A shift count in [0, 63] (a 64-bit int shifted by it is never negative-counted or
    huge): a constant there, or any int masked by `& 63`, as the shift ops' bodies do."""
    if isinstance(e, ast.Constant):
        return type(e.value) is int and 0 <= e.value < 64
    return (isinstance(e, ast.BinOp) and isinstance(e.op, ast.BitAnd)
            and isinstance(e.right, ast.Constant) and e.right.value == 63)


def safe_stmts(stmts: list[ast.stmt], env: Env) -> bool:
    """True when running `stmts` cannot raise and only assigns locals, given `env`: such
    code may be reordered (`forward`) without the fault handler ever seeing it."""
    env = dict(env)
    for s in stmts:
        if isinstance(s, ast.Pass):
            continue
        if not (isinstance(s, ast.Assign) and len(s.targets) == 1
                and isinstance(s.targets[0], ast.Name) and _safe(s.value, env)):
            return False
        _assign(s.targets[0], expr_type(s.value, env), env)
    return True


def reads(node: ast.AST, name: str) -> int:
    """How many times `node` reads local `name`."""
    return sum(1 for n in name_nodes(node) if n.id == name and type(n.ctx) is ast.Load)


def writes(node: ast.AST) -> set[str]:
    """The locals `node` assigns."""
    return stored(node)


def forward(stmts: list[ast.Assign], dead: set[str]) -> list[ast.Assign]:
    """Assignments (of `safe_stmts` code) with each stack local that is read once and then
    dead (`dead`: not read after these statements) replaced by its value where it is read:
    `s0 = l0; s0 = s0 < 10` becomes `s0 = l0 < 10`."""
    out = list(stmts)
    uses = _Uses()
    i = 0
    while i < len(out):
        s = out[i]
        name = s.targets[0].id if isinstance(s.targets[0], ast.Name) else ""
        if not value_local(name):
            i += 1
            continue
        if _depth(s.value) > _MAX_DEPTH:
            i += 1  # (a long chain of ops folded into one expression: Python's compiler
            continue  # recurses on its depth)
        inputs = names(s.value)
        use = None
        for j in range(i + 1, len(out)):
            later = out[j]
            count = uses.reads(later.value, name)
            if count:
                use = j if count == 1 else None
                break
            written = uses.writes(later)
            if name in written or not inputs.isdisjoint(written):
                break
        if use is None:
            i += 1
            continue
        if _live_after(out, use, name, dead, uses):
            i += 1
            continue
        target = out[use]
        # (on a copy: the statements given are not changed in place)
        value = copy_tree(target.value, {name: s.value})
        out[use] = ast.Assign(target.targets, value)
        ast.copy_location(out[use], target)
        del out[i]
    _into_slots(out, dead)
    # Stores nothing reads: a constant the next op took as a literal (`LoadInt 5`).
    return [s for k, s in enumerate(out) if not _dead_store(out, k, dead, uses)]


def forward_into(stmts: list[ast.Assign], inputs: list[str],
                 dead: set[str]) -> tuple[list[ast.stmt], dict[str, str]]:
    """`forward` of `stmts` followed by an op that reads the stack locals `inputs` once
    (a call's arguments, a returned value; `dead` names them but the first, which holds
    what the op gives): the statements left, and the inputs whose values were folded into
    that use (local -> source of its value), for the op to read instead of the local."""
    if not inputs:
        return list(forward(stmts, dead)), {}
    # The op reading them, as a statement for `forward` to fold them into.
    use = ast.Assign([ast.Name(inputs[0], ast.Store())],
                     ast.Call(ast.Name("_use", ast.Load()),
                              [ast.Name(k, ast.Load()) for k in inputs], []), lineno=0)
    out: list[ast.stmt] = list(forward([*stmts, use], dead))
    last = out.pop()
    assert isinstance(last, ast.Assign) and isinstance(last.value, ast.Call)
    return out, {name: ast.unparse(value) for name, value in zip(inputs, last.value.args)
                 if not (isinstance(value, ast.Name) and value.id == name)}


def drop_copies(stmts: list[ast.stmt], copies: frozenset[str]) -> dict[str, str]:
    """In place: leave out each `s<k> = l<j>` of a local in `copies` (inputs of the op
    after `stmts`, which can read them from the slot local) that neither local is written
    after, nor the stack local read; those left out (stack local -> slot local)."""
    dropped: dict[str, str] = {}
    for k in range(len(stmts) - 1, -1, -1):
        st = stmts[k]
        if not (isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name)
                and st.targets[0].id in copies and isinstance(st.value, ast.Name)
                and local_index(st.value.id, "l") is not None):
            continue
        local, slot = st.targets[0].id, st.value.id
        if local not in dropped and not any(
                reads(later, local) or {local, slot} & writes(later)
                for later in stmts[k + 1:]):
            dropped[local] = slot
            del stmts[k]
    return dropped


def _into_slots(stmts: list[ast.Assign], dead: set[str]) -> None:
    """In place: `t = <value>; l2 = t` (a value computed, then stored in a slot local)
    becomes `l2 = <value>`, and the reads of t after it read l2, while it holds the same
    value: `t = l2 + 1; l2 = t; taken = t < 100` is `l2 = l2 + 1; taken = l2 < 100`."""
    i = 0
    while i + 1 < len(stmts):
        s, copy_ = stmts[i], stmts[i + 1]
        name = s.targets[0].id if isinstance(s.targets[0], ast.Name) else ""
        slot = copy_.targets[0].id if isinstance(copy_.targets[0], ast.Name) else ""
        if not (value_local(name) and name in dead and local_index(slot, "l") is not None
                and isinstance(copy_.value, ast.Name)
                and copy_.value.id == name):
            i += 1
            continue
        # Every later read of `name` must come before `slot` or `name` is written again.
        rest = stmts[i + 2:]
        ok = True
        for later in rest:
            if name in writes(later):
                ok = False  # (a second value under the same name: left as it is)
                break
            if slot in writes(later):
                ok = reads(later, name) == 0 and all(
                    reads(after, name) == 0 for after in rest[rest.index(later) + 1:])
                break
        if not ok:
            i += 1
            continue
        stmts[i] = ast.copy_location(ast.Assign([ast.Name(slot, ast.Store())], s.value), s)
        del stmts[i + 1]
        for k in range(i + 1, len(stmts)):
            later = stmts[k]
            if reads(later, name):
                value = copy_tree(later.value, {name: ast.Name(slot, ast.Load())})
                stmts[k] = ast.copy_location(ast.Assign(later.targets, value), later)
            if slot in writes(stmts[k]):
                break
        i += 1


#: How deep `forward` nests the expressions it folds together.
_MAX_DEPTH = 24


def _depth(e: ast.AST) -> int:
    """How deep expressions nest in `e` (its child expressions', `ast.iter_child_nodes`,
    each one deeper)."""
    deepest = 0
    for field in e._fields:
        value = getattr(e, field, None)
        if type(value) is list:
            for v in value:
                if isinstance(v, ast.expr):
                    deepest = max(deepest, _depth(v))
        elif isinstance(value, ast.expr):
            deepest = max(deepest, _depth(value))
    return 1 + deepest


class _Uses:
    """`reads` and `writes` of the statements `forward` goes over, each worked out once
    (a statement is not changed in place there: one rewritten is a new one)."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[int, tuple[ast.AST, dict[str, int], set[str]]] = {}

    def _of(self, node: ast.AST) -> tuple[ast.AST, dict[str, int], set[str]]:
        found = self.seen.get(id(node))
        if found is None or found[0] is not node:  # (held here: its id stays its own)
            loads: dict[str, int] = {}
            stores: set[str] = set()
            for n in name_nodes(node):
                if type(n.ctx) is ast.Load:
                    loads[n.id] = loads.get(n.id, 0) + 1
                elif type(n.ctx) is ast.Store:
                    stores.add(n.id)
            found = self.seen[id(node)] = (node, loads, stores)
        return found

    def reads(self, node: ast.AST, name: str) -> int:
        return self._of(node)[1].get(name, 0)

    def writes(self, node: ast.AST) -> set[str]:
        return self._of(node)[2]


def _dead_store(stmts: list[ast.Assign], k: int, dead: set[str], uses: _Uses) -> bool:
    target = stmts[k].targets[0]
    if not (isinstance(target, ast.Name) and value_local(target.id)):
        return False
    for later in stmts[k + 1:]:
        if uses.reads(later, target.id):
            return False
        if target.id in uses.writes(later):
            return True
    return target.id in dead


def _live_after(stmts: list[ast.Assign], use: int, name: str, dead: set[str],
                uses: _Uses) -> bool:
    """Whether `name`'s value is read again after statement `use` (which reads it)."""
    if name in uses.writes(stmts[use]):
        return False  # the reading statement binds it anew
    for later in stmts[use + 1:]:
        if uses.reads(later, name):
            return True
        if name in uses.writes(later):
            return False
    return name not in dead


def result_into(stmts: list[ast.stmt], out: str, into: str) -> list[ast.stmt] | None:
    """An op's statements with its result, stack local `out`, assigned to local `into`
    instead (the slot local a `SetSlot` right after it stores it in: one store and load
    less); None unless every path through them ends in a plain `out = ...` (bodies assign
    their outputs last, after whatever may raise) and nothing else writes either name."""
    if not stmts or not _ends_assigning(stmts, out):
        return None
    *before, last = stmts
    if any({out, into} & writes(st) for st in before):
        return None
    if isinstance(last, ast.If):
        body = result_into(last.body, out, into)
        orelse = result_into(last.orelse, out, into)
        if body is None or orelse is None or {out, into} & writes(last.test):
            return None
        return [*before, ast.copy_location(ast.If(last.test, body, orelse), last)]
    assert isinstance(last, ast.Assign)
    if {out, into} & writes(last.value):
        return None
    return [*before, ast.copy_location(ast.Assign([ast.Name(into, ast.Store())], last.value),
                                       last)]


def _ends_assigning(stmts: list[ast.stmt], out: str) -> bool:
    """Whether each path through `stmts` ends with `out = <expr>` (one plain target)."""
    last = stmts[-1] if stmts else None
    if isinstance(last, ast.Assign):
        target = last.targets[0]
        return len(last.targets) == 1 and isinstance(target, ast.Name) and target.id == out
    if isinstance(last, ast.If):
        return _ends_assigning(last.body, out) and _ends_assigning(last.orelse, out)
    return False
