"""Pieces of generated region source: stack locals, bound op bodies, guards, blocks.

The code generator (`codegen`) and the direct forms (`direct`) spell the same things the
same way: the operand stack's locals by depth (`s0, s1, ...`), moving them to and from
vm.stack, an op body's statements copied with its names bound (an operand that is not a
literal by a name of its own, which the disk cache reads back), where a local's value is
while the interpreter has it, and a guard's test of exact types.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

from .fold import Localize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .regions import Region
    from .types import Env


def stack_locals(first: int, count: int) -> list[str]:
    return [f"s{k}" for k in range(first, first + count)]


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


_OPERATORS = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def bind_names(node: Any, names: dict[str, ast.expr], slots: Localize) -> Any:
    """A copy of a body's statement (its tree is the body's own, never changed) with
    `names` put in and `slots[<int>]` in locals (`Localize`, which records them): one
    pass over the tree instead of parsing the body again and transforming it twice."""
    t: Any = type(node)
    if t is ast.Name:
        new = names.get(node.id)
        if new is None:
            return ast.Name(node.id, node.ctx)
        if type(new) is ast.Name:
            return ast.Name(new.id, node.ctx)
        return new
    if t is ast.Constant:
        return ast.Constant(node.value)
    out = t.__new__(t)
    for field in node._fields:
        value = getattr(node, field, None)
        if type(value) is list:
            value = [bind_names(v, names, slots) if isinstance(v, ast.AST) else v for v in value]
        elif isinstance(value, ast.AST) and not isinstance(value, _OPERATORS):
            value = bind_names(value, names, slots)
        setattr(out, field, value)
    if isinstance(node, ast.stmt):
        out.lineno = node.lineno  # `ast.unparse` looks a statement's up
    if t is ast.Subscript:
        return slots.local(out)
    return out


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


def unparse(stmts: list[ast.stmt]) -> str:
    return "\n".join(ast.unparse(_checked_as_if(st)) for st in stmts
                     if not isinstance(st, ast.Pass))


def _checked_as_if(st: ast.stmt) -> ast.stmt:
    """`x = t if INT_MIN <= t <= INT_MAX else e` (an op body's 64-bit check, `t` a name)
    spelled `if INT_MIN <= t and t <= INT_MAX: x = t` / `else: x = e`: the same tests,
    but CPython 3.11 runs the statement about 8 ns faster than the chained comparison in
    a conditional expression (measured on fib's `Add` of two call results)."""
    if isinstance(st, ast.If):
        return ast.If(st.test, [_checked_as_if(s) for s in st.body],
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
    return ast.If(cond, [ast.Assign([target], t, lineno=0)],
                  [ast.Assign([target], st.value.orelse, lineno=0)])


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
