"""Rewrites of an op's generated statements: frame slots in locals, known types folded.

* `localize`: `slots[3]` with a constant index becomes the local `l3`, which the region
  function loads from the frame on entry and writes back whenever control leaves it (the
  frame stays the interpreter's own; only its use inside the function is faster).
* `Folder`: where a body's input is a constant the generator knows (`LoadInt 1` just
  before `Add`), `type(1) is int` is True, and the `if`/`and`/`or` around it shrink to
  the one path that can run. Only pure tests of constants are folded, so the meaning
  cannot change.
"""

from __future__ import annotations

import _operator as operator  # (what `operator` re-exports, built in; the module costs 0.4 ms)

from fusevm import pyast as ast

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: The exact types a body's type tests name.
TYPES: dict[str, type] = {"int": int, "float": float, "bool": bool, "str": str,
                         "list": list, "dict": dict}


class Localize(ast.NodeTransformer):
    """`slots[<int>]` -> `l<int>`, recording which slots are read and written."""

    def __init__(self) -> None:
        self.read: set[int] = set()
        self.written: set[int] = set()

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        self.generic_visit(node)
        return self.local(node)

    def local(self, node: ast.Subscript) -> ast.expr:
        """`node` (its parts done already) as a slot local, if it is `slots[<int>]`."""
        if (isinstance(node.value, ast.Name) and node.value.id == "slots"
                and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int):
            k = node.slice.value
            (self.written if isinstance(node.ctx, ast.Store) else self.read).add(k)
            return ast.copy_location(ast.Name(f"l{k}", node.ctx), node)
        return node


def read_type_test(node: ast.expr) -> tuple[ast.expr, type, bool] | None:
    """For `type(x) is T` (or `is not T`, T one of `TYPES`): x, T and whether it is `is`;
    else None."""
    if not (isinstance(node, ast.Compare) and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.Is, ast.IsNot))):
        return None
    left, right = node.left, node.comparators[0]
    if not (isinstance(left, ast.Call) and isinstance(left.func, ast.Name)
            and left.func.id == "type" and len(left.args) == 1
            and isinstance(right, ast.Name) and right.id in TYPES):
        return None
    return left.args[0], TYPES[right.id], isinstance(node.ops[0], ast.Is)


def _const_type_test(node: ast.expr) -> bool | None:
    """The value of `type(<constant>) is <int|float|bool|str>` (or `is not`), else None."""
    parts = read_type_test(node)
    if parts is None:
        return None
    subject, t, is_ = parts
    if not isinstance(subject, ast.Constant):
        return None
    return (type(subject.value) is t) is is_


#: A comparison node's Python operator (also what `tripcount` reads loop tests with).
ORDER: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne}


def _const_order(node: ast.Compare) -> bool | None:
    """The value of a comparison of two number constants (`65537 > 0`, a Float's NaN test
    `0.5 == 0.5`), else None."""
    if len(node.ops) != 1 or type(node.ops[0]) not in ORDER:
        return None
    left, right = node.left, node.comparators[0]
    if not (isinstance(left, ast.Constant) and isinstance(right, ast.Constant)
            and type(left.value) in (int, float) and type(right.value) in (int, float)):
        return None
    return bool(ORDER[type(node.ops[0])](left.value, right.value))


class Folder(ast.NodeTransformer):
    """Fold type tests of constants and the boolean structure they decide."""

    def visit_Compare(self, node: ast.Compare) -> Any:
        self.generic_visit(node)
        return self.fold_compare(node)

    def fold_compare(self, node: ast.Compare) -> Any:
        """`node` (its operands visited already) folded when its constants decide it."""
        value = _const_type_test(node)
        if value is None and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            left, right = node.left, node.comparators[0]
            if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
                # Only None/True/False are compared by identity in bodies: singletons.
                same = left.value is right.value
                value = same if isinstance(node.ops[0], ast.Is) else not same
        if value is None:
            value = _const_order(node)
        return node if value is None else ast.copy_location(ast.Constant(value), node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Constant) and \
                type(node.operand.value) is bool:
            return ast.copy_location(ast.Constant(not node.operand.value), node)
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        self.generic_visit(node)
        is_and = isinstance(node.op, ast.And)
        kept: list[ast.expr] = []
        for v in node.values:
            if isinstance(v, ast.Constant) and type(v.value) is bool:
                if v.value is is_and:
                    continue  # True in `and`, False in `or`: no effect
                return ast.copy_location(ast.Constant(not is_and), node)
            kept.append(v)
        if not kept:
            return ast.copy_location(ast.Constant(is_and), node)
        if len(kept) == 1:
            return kept[0]
        node.values = kept
        return node

    def visit_If(self, node: ast.If) -> Any:
        self.generic_visit(node)
        test = node.test
        if isinstance(test, ast.Constant) and type(test.value) is bool:
            chosen = node.body if test.value else node.orelse
            return chosen or [ast.Pass()]
        return node

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant) and type(node.test.value) is bool:
            return node.body if node.test.value else node.orelse
        return node
