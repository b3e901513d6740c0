"""Pieces of generated region source: stack locals, bound op bodies, guards, blocks.

The code generator (`codegen`) and the direct forms (`direct`) spell the same things the
same way: the operand stack's locals by depth (`s0, s1, ...`), moving them to and from
vm.stack, an op body's statements copied with its names bound (an operand that is not a
literal by a name of its own, which the disk cache reads back), where a local's value is
while the interpreter has it, and a guard's test of exact types.
"""

from __future__ import annotations

from fusevm import pyast as ast
from fusevm.lazymath import math
from fusevm.ops import Kind

from .fold import Localize
from .trees import LEAVES, copy_tree, name_nodes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

    from fusevm.instr import Decoded
    from fusevm.interp.bodies import Body

    from .regions import Region
    from .session import Bound
    from .types import Env


def stack_locals(first: int, count: int) -> list[str]:
    return [f"s{k}" for k in range(first, first + count)]


def local_index(name: str, kinds: str = "s") -> int | None:
    """k of a local named `<kind><k>` whose kind is one of `kinds` (`s`: a stack local of
    `stack_locals`, `l`: a slot local), else None."""
    if len(name) > 1 and name[0] in kinds and name[1:].isdigit():
        return int(name[1:])
    return None


def flush(depth: int) -> str:
    """A statement putting the locals of an operand stack of `depth` onto vm.stack."""
    if depth == 0:
        return ""
    if depth == 1:
        return "push(s0)"
    return f"extend(({', '.join(stack_locals(0, depth))},))"


def reload(depth: int) -> str:
    """Statements taking the top `depth` values of vm.stack back into the locals."""
    if depth == 0:
        return ""
    if depth == 1:
        return "s0 = pop()"
    return f"{', '.join(stack_locals(0, depth))} = stack[-{depth}:]\ndel stack[-{depth}:]"



#: Per node class, its fields and whether it is a statement; per class of a field's value,
#: whether `bind_names` copies it (a node but an operator or a context, which copies share).
_SHAPES: dict[type, tuple[tuple[str, ...], bool]] = {}
_COPIED: dict[type, bool] = {}
_Name, _Constant, _Subscript = ast.Name, ast.Constant, ast.Subscript


def bind_names(node: Any, names: dict[str, ast.expr], slots: Localize) -> Any:
    """A copy of a body's statement (its tree is the body's own, never changed) with
    `names` put in and `slots[<int>]` in locals (`Localize`, which records them): one
    pass over the tree instead of parsing the body again and transforming it twice."""
    t: Any = type(node)
    if t is _Name:
        new = names.get(node.id)
        if new is None:
            return _Name(node.id, node.ctx)
        if type(new) is _Name:
            return _Name(new.id, node.ctx)
        return new
    if t is _Constant:
        return _Constant(node.value)
    shape = _SHAPES.get(t)
    if shape is None:
        shape = _SHAPES[t] = (t._fields, issubclass(t, ast.stmt))
    out = t.__new__(t)
    for field in shape[0]:
        value: Any = getattr(node, field, None)
        kind = type(value)
        if kind is list:
            value = [bind_names(v, names, slots) if isinstance(v, ast.AST) else v for v in value]
        else:
            copied = _COPIED.get(kind)
            if copied is None:
                copied = _COPIED[kind] = issubclass(kind, ast.AST) and \
                    not issubclass(kind, LEAVES)
            if copied:
                value = bind_names(value, names, slots)
        setattr(out, field, value)
    if shape[1]:
        out.lineno = node.lineno  # `ast.unparse` looks a statement's up
    if t is _Subscript:
        return slots.local(out)
    return out


def bind(b: Body, d: Decoded, ip: int, depth: int, known: dict[str, Any]) -> tuple[
        list[ast.stmt], Callable[[Any], Any] | None, Bound]:
    """A new copy of op `ip`'s statements (`b`, the op `d` at stack depth `depth`) with its
    names bound (an input whose stack local holds a constant in `known` as that
    constant), and what binding them found (`Bound`). For a body that names no frame
    slot, the body's own statements instead and the function binding one of them
    (`bind_names` with the names): `types.specialize` binds each as it reaches it, and
    never copies the branches of an `if` its types decide against (most of an arithmetic
    op's body). A body that names slots is bound whole, here: binding records the slots
    it reads and writes, which the `Bound` gives."""
    p = len(b.inputs)
    names: dict[str, ast.expr] = {}
    consts: dict[str, Any] = {}
    for name, local in zip(b.inputs, stack_locals(depth - p, p)):
        if local in known and name not in b.stored:
            names[name] = ast.Constant(known[local])
        else:
            names[name] = ast.Name(local, ast.Load())
    for name, local in zip(b.outputs, stack_locals(depth - p, len(b.outputs))):
        names[name] = ast.Name(local, ast.Load())
    for operand, value in zip(d.spec.operands, d.operands):
        if operand.kind is Kind.TARGET:
            continue
        if is_literal(value):
            names[operand.name] = ast.Constant(value)
        else:
            local = operand_local(ip, operand.name)
            consts[local] = value
            names[operand.name] = ast.Name(local, ast.Load())
    for temp in b.temps:
        names[temp] = ast.Name(f"t{ip}_{temp}", ast.Load())
    slots = Localize()
    body: list[ast.stmt] = b.tree.body
    binder: Callable[[Any], Any] | None = None
    if "slots" in b.named:
        body = [bind_names(st, names, slots) for st in body]
    else:
        def binder(node: Any) -> Any:
            return bind_names(node, names, slots)
    # The names bound in, and the slot locals (`slots` too, where a slot became one: no
    # fact is ever known about it, so naming it changes no memo key).
    mentioned = {k for k in b.named if k not in names}
    mentioned.update(v.id for v in names.values() if type(v) is ast.Name)
    read, written = frozenset(slots.read), frozenset(slots.written)
    mentioned.update(f"l{k}" for k in read | written)
    if "globals_" in b.named:  # (the facts of the globals it names: `types.place`)
        mentioned.update(f"G{v}" for v in d.operands if type(v) is int)
    return body, binder, (frozenset(mentioned), consts, read, written)


def is_literal(value: Any) -> bool:
    """A value the generated source can spell as a literal."""
    if type(value) is float:
        return math.isfinite(value)
    return type(value) in (int, bool)


def operand_local(ip: int, operand: str) -> str:
    """The name region code binds op `ip`'s non-literal operand `operand` to (its value
    is a constant of the code's namespace; `operand_of` reads the name back)."""
    return f"k{ip}_{operand}"


def operand_of(name: str) -> tuple[int, str] | None:
    """The op and operand name of a name `operand_local` made, else None."""
    ip, sep, operand = name[1:].partition("_")
    if name[:1] != "k" or not sep or not (ip.isascii() and ip.isdigit()) \
            or not operand.isidentifier():
        return None
    return int(ip), operand


def unparse(stmts: list[ast.stmt], ints: frozenset[str] = frozenset()) -> str:
    """Statements as source (64-bit checks respelled: `_checked_as_if`, `_LimitTests`);
    `ints`: names that hold ints when they start running."""
    out = [_checked_as_if(st) for st in stmts if not isinstance(st, ast.Pass)]
    for k, st in enumerate(out):
        if any(n.id in ("INT_MIN", "INT_MAX") for n in name_nodes(st)):
            # (on a copy: the statements given are not changed in place)
            out[k] = _LimitTests(ints if k == 0 else frozenset()).visit(copy_tree(st))
    return "\n".join(ast.unparse(st) for st in out)


class _LimitTests(ast.NodeTransformer):
    """`x != INT_MIN` (`x` an int: `Dec`'s wrap test) spelled
    `x > -0x3fffffff or x != INT_MIN`, and `x != INT_MAX` likewise: CPython 3.11
    specialises a comparison of two one-digit ints (under 2**30), and compares an int
    with a multi-digit one through its generic path, about 20 ns slower (the usual
    counter decides at the first comparison; a value that large costs one more). Only
    where `x` is known to be an int: one of `ints` (in the first statement, which runs
    before anything is assigned), or tested by `type(x) is int and ...` before."""

    def __init__(self, ints: frozenset[str]) -> None:
        self.ints = ints

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        if not isinstance(node.op, ast.And):
            self.generic_visit(node)
            return node
        outer = self.ints
        values = []
        for value in node.values:
            values.append(self.visit(value))
            if (isinstance(value, ast.Compare) and isinstance(value.left, ast.Call)
                    and isinstance(value.left.func, ast.Name) and value.left.func.id == "type"
                    and len(value.left.args) == 1 and isinstance(value.left.args[0], ast.Name)
                    and isinstance(value.ops[0], ast.Is) and len(value.ops) == 1
                    and isinstance(value.comparators[0], ast.Name)
                    and value.comparators[0].id == "int"):
                self.ints = self.ints | {value.left.args[0].id}
        self.ints = outer
        return ast.BoolOp(ast.And(), values)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        if not (len(node.ops) == 1 and isinstance(node.ops[0], ast.NotEq)
                and isinstance(node.left, ast.Name) and node.left.id in self.ints
                and isinstance(node.comparators[0], ast.Name)
                and node.comparators[0].id in ("INT_MIN", "INT_MAX")):
            return node
        low = node.comparators[0].id == "INT_MIN"
        near = ast.Compare(ast.Name(node.left.id, ast.Load()),
                           [ast.Gt() if low else ast.Lt()],
                           [ast.Constant(-_ONE_DIGIT if low else _ONE_DIGIT)])
        return ast.BoolOp(ast.Or(), [near, node])


#: The largest int CPython stores in one 30-bit digit.
_ONE_DIGIT: Final = (1 << 30) - 1


def _checked_as_if(st: ast.stmt) -> ast.stmt:
    """`x = t if INT_MIN <= t <= INT_MAX else e` (an op body's 64-bit check, `t` a name)
    spelled `if <t fits> : x = t` / `else: x = e`: CPython 3.11 runs the statement about
    8 ns faster than the conditional expression (measured on fib's `Add` of two call
    results); the test itself is spelled by `_fits`."""
    if isinstance(st, ast.If):
        return ast.If(_fits(st.test, st.body, st.orelse), [_checked_as_if(s) for s in st.body],
                      [_checked_as_if(s) for s in st.orelse])
    if not (isinstance(st, ast.Assign) and len(st.targets) == 1
            and isinstance(st.value, ast.IfExp) and isinstance(st.value.body, ast.Name)
            and isinstance(st.value.test, ast.Compare)):
        return st
    test, t = st.value.test, st.value.body
    names = [n.id for n in (test.left, *test.comparators) if isinstance(n, ast.Name)]
    if "INT_MIN" not in names and "INT_MAX" not in names or t.id not in names:
        return st
    sides = zip((test.left, *test.comparators), test.ops, test.comparators)
    parts: list[ast.expr] = [ast.Compare(left, [op], [right]) for left, op, right in sides]
    cond: ast.expr = parts[0] if len(parts) == 1 else ast.BoolOp(ast.And(), parts)
    target = st.targets[0]
    slow: list[ast.stmt] = [ast.Assign([target], st.value.orelse, lineno=0)]
    return ast.If(_fits(cond, [], slow), [ast.Assign([target], t, lineno=0)], slow)


def _fits(test: ast.expr, body: list[ast.stmt], orelse: list[ast.stmt]) -> ast.expr:
    """The test of `if test: body else: orelse` that int `t` is in 64 bits,
    `INT_MIN <= t <= INT_MAX` (chained, or two comparisons joined by `and`; or its `not`),
    spelled `abs(t) < 2**63`: one call of a builtin, which CPython 3.11 specialises, and
    one generic comparison with a multi-digit int, where the chained test makes two and
    `t.bit_length() < 64` a method call (fib's `Add` of two call results: fib 9% faster
    than with `bit_length`, 5% than chained; a negative `t` costs `abs` a new int, about
    the time of the chained test). That leaves out INT_MIN itself, so only where the
    other branch is `x = sem.int_result(t, ...)`, which gives any int in 64 bits back as
    it is. Any other test is returned as is."""
    negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
    inner = test.operand if isinstance(test, ast.UnaryOp) and negated else test
    sides: list[tuple[ast.expr, ast.cmpop, ast.expr]] = []
    if isinstance(inner, ast.Compare):
        sides = list(zip((inner.left, *inner.comparators), inner.ops, inner.comparators))
    elif isinstance(inner, ast.BoolOp) and isinstance(inner.op, ast.And) and all(
            isinstance(v, ast.Compare) and len(v.ops) == 1 for v in inner.values):
        sides = [(v.left, v.ops[0], v.comparators[0])
                 for v in inner.values if isinstance(v, ast.Compare)]
    if len(sides) != 2 or not all(isinstance(op, ast.LtE) for _, op, _ in sides):
        return test
    (lo, _, t), (t2, _, hi) = sides
    if not (isinstance(lo, ast.Name) and lo.id == "INT_MIN" and isinstance(hi, ast.Name)
            and hi.id == "INT_MAX" and isinstance(t, ast.Name) and isinstance(t2, ast.Name)
            and t.id == t2.id and _wraps(body if negated else orelse, t.id)):
        return test
    fits = ast.Compare(ast.Call(ast.Name("abs", ast.Load()), [ast.Name(t.id, ast.Load())], []),
                       [ast.Lt()], [ast.Constant(1 << 63)])
    return ast.UnaryOp(ast.Not(), fits) if negated else fits


def _wraps(stmts: list[ast.stmt], t: str) -> bool:
    """Whether `stmts` is `x = sem.int_result(t, ...)`."""
    if len(stmts) != 1 or not isinstance(stmts[0], ast.Assign):
        return False
    call = stmts[0].value
    return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "int_result" and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "sem" and bool(call.args)
            and isinstance(call.args[0], ast.Name) and call.args[0].id == t)


def frame_spelling(depth: int) -> Callable[[str], str]:
    """Where a local's value is while the interpreter has it: slot `l3` in `slots[3]`,
    stack local `s1` at its place on vm.stack (`depth` deep there)."""
    def spell(name: str) -> str:
        k = int(name[1:])
        return f"slots[{k}]" if name[0] == "l" else f"stack[{k - depth}]"
    return spell


def type_test(types: Env, spell: Callable[[str], str]) -> str:
    """A test that each local holds a value of its type (`spell` says where it is)."""
    return " and ".join(f"type({spell(name)}) is {t.__name__}"
                        for name, t in sorted(types.items()))


def basic_blocks(region: Region) -> list[tuple[int, list[int]]]:
    blocks: list[tuple[int, list[int]]] = []
    for ip in region.ops:
        if ip in region.leaders or not blocks or blocks[-1][1][-1] != ip - 1:
            blocks.append((ip, [ip]))
        else:
            blocks[-1][1].append(ip)
    return blocks
