"""Python syntax trees for the code generators, without the cost of importing `ast`.

The baseline tier and the op bodies (`fusevm.interp.bodies`, `fusevm.ops.extbody`) parse
Python statements, rewrite their trees and print them back as source. Importing the `ast`
module costs about 7 ms (it loads `enum`, `contextlib`, `functools` and `collections`):
nearly half of what loading the baseline compiler costs a process, paid by every one-shot
run that compiles a region. The node classes are the interpreter's own (`_ast`, built
in, the very classes `ast` exports); this module adds, over them, the few functions of
`ast` the generators call: `parse`, `walk`, `iter_fields`, `iter_child_nodes`,
`copy_location`, `NodeVisitor`, `NodeTransformer` and `unparse`.

`unparse` writes exactly what Python 3.11's `ast.unparse` writes (its precedence rules,
quirks included) for the nodes generated code is made of: simple statements, `if`,
`while`, `for` and `try`, and the expressions but comprehensions, lambdas, f-strings,
`await` and `yield`. A tree holding any other node, or a module with a docstring, is
printed by `ast.unparse` itself, which loads `ast`. `tests/test_pyast.py` compares the two
on every op body, on the trees the baseline tier prints while it compiles programs (none
of which needs `ast`) and on generated trees.
"""

from __future__ import annotations

import sys
from _ast import *  # noqa: F403 (the node classes, which `ast` re-exports)
from _ast import (
    AST,
    Add,
    And,
    Assign,
    Attribute,
    AugAssign,
    BinOp,
    BitAnd,
    BitOr,
    BitXor,
    BoolOp,
    Break,
    Call,
    Compare,
    Constant,
    Continue,
    Del,
    Dict,
    Div,
    Eq,
    ExceptHandler,
    Expr,
    FloorDiv,
    For,
    Gt,
    GtE,
    If,
    IfExp,
    In,
    Invert,
    Is,
    IsNot,
    List,
    Load,
    LShift,
    Lt,
    LtE,
    MatMult,
    Mod,
    Module,
    Mult,
    Name,
    NamedExpr,
    Not,
    NotEq,
    NotIn,
    Pass,
    Pow,
    PyCF_ONLY_AST,
    Raise,
    Return,
    RShift,
    Slice,
    Starred,
    Store,
    Sub,
    Subscript,
    Try,
    Tuple,
    UAdd,
    UnaryOp,
    USub,
    While,
    boolop,
    cmpop,
    expr_context,
    keyword,
    operator,
    unaryop,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TypeVar

    _Node = TypeVar("_Node", bound=AST)


def parse(source: str | bytes, filename: str = "<unknown>", mode: str = "exec") -> Any:
    """The syntax tree of `source` (`ast.parse`)."""
    return compile(source, filename, mode, PyCF_ONLY_AST)


def iter_fields(node: AST) -> Iterator[tuple[str, Any]]:
    """(name, value) of each field of `node` that is set (`ast.iter_fields`)."""
    for field in node._fields:
        try:
            yield field, getattr(node, field)
        except AttributeError:
            pass


def iter_child_nodes(node: AST) -> Iterator[AST]:
    """The nodes directly under `node` (`ast.iter_child_nodes`)."""
    for _, field in iter_fields(node):
        if isinstance(field, AST):
            yield field
        elif isinstance(field, list):
            for item in field:
                if isinstance(item, AST):
                    yield item


def walk(node: AST) -> Iterator[AST]:
    """`node` and every node under it, breadth first as `ast.walk` yields them."""
    todo = [node]
    i = 0
    while i < len(todo):
        node = todo[i]
        i += 1
        todo.extend(iter_child_nodes(node))
        yield node


#: The position attributes of a statement and an expression, in `copy_location`'s order.
_POSITIONS = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def copy_location(new_node: _Node, old_node: AST) -> _Node:
    """`new_node`, given the source position of `old_node` (`ast.copy_location`)."""
    if old_node._attributes == _POSITIONS and new_node._attributes == _POSITIONS:
        # (Both a statement or an expression: the loop below, unrolled. The end positions
        # are optional: copied when unset too.)
        value = getattr(old_node, "lineno", None)
        if value is not None:
            new_node.lineno = value  # type: ignore[attr-defined]
        value = getattr(old_node, "col_offset", None)
        if value is not None:
            new_node.col_offset = value  # type: ignore[attr-defined]
        if hasattr(old_node, "end_lineno"):
            new_node.end_lineno = old_node.end_lineno  # type: ignore[attr-defined]
        if hasattr(old_node, "end_col_offset"):
            new_node.end_col_offset = old_node.end_col_offset  # type: ignore[attr-defined]
        return new_node
    for attr in _POSITIONS:
        if attr in old_node._attributes and attr in new_node._attributes:
            value = getattr(old_node, attr, None)
            # (The end positions are optional: copied when unset too.)
            if value is not None or (hasattr(old_node, attr) and attr.startswith("end_")):
                setattr(new_node, attr, value)
    return new_node


#: Nodes that are only an operator or a context: they hold no node, and copies of a tree
#: may share them (nothing changes one in place).
LEAVES = (expr_context, operator, unaryop, cmpop, boolop)
#: Nodes that hold no node: a visit of one that has no method of its own changes nothing
#: and finds nothing.
_INERT = (*LEAVES, Constant)


class _Methods(dict):  # type: ignore[type-arg]
    """One visitor class's method by node class, found the first time a node of that
    class is met (`__missing__`): its `visit_<name>`, else `generic_visit`, or None when
    that visit would only walk nodes none of which has a method of its own (a name, a
    constant, an operator), which the walks then pass over. A hit is one dict lookup."""

    __slots__ = ("visitor",)

    def __init__(self, visitor: type[NodeVisitor]) -> None:
        super().__init__()
        self.visitor = visitor

    def __missing__(self, cls: type) -> Callable[[Any, Any], Any] | None:
        visitor = self.visitor
        method: Callable[[Any, Any], Any] | None = getattr(
            visitor, "visit_" + cls.__name__, None)
        if method is None and visitor.visit is NodeVisitor.visit and (
                issubclass(cls, _INERT) or cls is Name and not any(
                    hasattr(visitor, "visit_" + c.__name__) for c in (Load, Store, Del))):
            found = None
        else:
            found = method or visitor.generic_visit
        self[cls] = found
        return found


class _ByVisitor(dict):  # type: ignore[type-arg]
    """Each visitor class's `_Methods`, made the first time it visits."""

    __slots__ = ()

    def __missing__(self, visitor: type[NodeVisitor]) -> _Methods:
        table = self[visitor] = _Methods(visitor)
        return table


_METHODS = _ByVisitor()


class NodeVisitor:
    """`ast.NodeVisitor`: `visit` calls the class's `visit_<node class name>`, else
    `generic_visit`. Both are found once per visitor class and node class, not by
    building and looking up the name at every node, and the walks read the fields in a
    plain loop (`iter_fields` is a generator per node) and call the methods of the nodes
    under it themselves, passing over those that have none to call (`_Methods`): the
    baseline tier's transformers visit every op's statements in every analysis round of
    a compile."""

    def visit(self, node: AST) -> Any:
        method = _METHODS[type(self)][type(node)]
        if method is None:
            return node if isinstance(self, NodeTransformer) else None
        return method(self, node)

    def generic_visit(self, node: AST) -> Any:
        visitor = type(self)
        table = _METHODS[visitor]
        own = visitor.visit is NodeVisitor.visit  # (else every node goes through it)
        for field in node._fields:
            try:
                value = getattr(node, field)
            except AttributeError:
                continue
            for item in value if isinstance(value, list) else (value,):
                if not isinstance(item, AST):
                    continue
                if not own:
                    self.visit(item)
                    continue
                method = table[type(item)]
                if method is not None:
                    method(self, item)


class NodeTransformer(NodeVisitor):
    """`ast.NodeTransformer`: what a visit returns replaces the node (None removes it, a
    list stands for several statements)."""

    def generic_visit(self, node: AST) -> Any:
        visitor = type(self)
        table = _METHODS[visitor]
        own = visitor.visit is NodeVisitor.visit  # (else every node goes through it)
        for field in node._fields:
            try:
                old_value = getattr(node, field)
            except AttributeError:
                continue
            if isinstance(old_value, list):
                new_values = []
                for value in old_value:
                    if isinstance(value, AST):
                        if own:
                            method = table[type(value)]
                            if method is None:
                                new_values.append(value)
                                continue
                            value = method(self, value)
                        else:
                            value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, AST):
                            new_values.extend(value)
                            continue
                    new_values.append(value)
                old_value[:] = new_values
            elif isinstance(old_value, AST):
                if own:
                    method = table[type(old_value)]
                    if method is None:
                        continue
                    new_node = method(self, old_value)
                else:
                    new_node = self.visit(old_value)
                if new_node is None:
                    delattr(node, field)
                else:
                    setattr(node, field, new_node)
        return node


# -- unparse ----------------------------------------------------------------------------

# Precedences, as `ast._Precedence` numbers them (`_BOR` is `_EXPR`).
(_NAMED_EXPR, _TUPLE, _YIELD, _TEST, _OR, _AND, _NOT, _CMP, _EXPR, _BXOR, _BAND, _SHIFT,
 _ARITH, _TERM, _FACTOR, _POWER, _AWAIT, _ATOM) = range(1, 19)
_BOR = _EXPR

_BINOPS: dict[type, tuple[str, int]] = {
    Add: ("+", _ARITH), Sub: ("-", _ARITH), Mult: ("*", _TERM), MatMult: ("@", _TERM),
    Div: ("/", _TERM), Mod: ("%", _TERM), LShift: ("<<", _SHIFT), RShift: (">>", _SHIFT),
    BitOr: ("|", _BOR), BitXor: ("^", _BXOR), BitAnd: ("&", _BAND), FloorDiv: ("//", _TERM),
    Pow: ("**", _POWER),
}
_UNARY: dict[type, tuple[str, int]] = {
    Invert: ("~", _FACTOR), Not: ("not ", _NOT), UAdd: ("+", _FACTOR), USub: ("-", _FACTOR),
}
_COMPARE: dict[type, str] = {
    Eq: " == ", NotEq: " != ", Lt: " < ", LtE: " <= ", Gt: " > ", GtE: " >= ", Is: " is ",
    IsNot: " is not ", In: " in ", NotIn: " not in ",
}
# What `ast` writes for an infinite float: a literal that overflows.
_INFSTR = f"1e{sys.float_info.max_10_exp + 1}"


class _Unsupported(Exception):
    """A node `_Writer` does not print (`ast.unparse` does)."""


class _Writer:
    """`ast._Unparser` for the nodes of generated code, without its context managers."""

    __slots__ = ("out", "indent", "prec")

    def __init__(self) -> None:
        self.out: list[str] = []
        self.indent = 0
        # A node's precedence, set by its parent before it is written (by node, as
        # `ast` keeps it: a node reached twice has the last one set).
        self.prec: dict[AST, int] = {}

    def traverse(self, node: Any) -> None:
        if type(node) is list:
            for item in node:
                self.traverse(item)
            return
        write = _WRITE.get(type(node))
        if write is None:
            raise _Unsupported(type(node).__name__)
        write(self, node)

    def fill(self, text: str = "") -> None:
        if self.out:
            self.out.append("\n")
        self.out.append("    " * self.indent + text)

    def block(self, body: list[Any]) -> None:
        self.out.append(":")
        self.indent += 1
        self.traverse(body)
        self.indent -= 1

    def clause(self, keyword: str, body: list[Any]) -> None:
        """`else:`, `finally:` and its block, where there is one."""
        if body:
            self.fill(keyword)
            self.block(body)

    def items(self, nodes: list[Any]) -> None:
        """Items separated by commas, a single one followed by one (`items_view`)."""
        if len(nodes) == 1:
            self.traverse(nodes[0])
            self.out.append(",")
            return
        for i, node in enumerate(nodes):
            if i:
                self.out.append(", ")
            self.traverse(node)

    # Statements.

    def module(self, node: Module) -> None:
        body = node.body
        if (body and type(body[0]) is Expr and type(body[0].value) is Constant
                and isinstance(body[0].value.value, str)):
            raise _Unsupported("docstring")
        if node.type_ignores:
            raise _Unsupported("type_ignores")
        self.traverse(body)

    def expr_stmt(self, node: Expr) -> None:
        self.fill()
        self.prec[node.value] = _YIELD
        self.traverse(node.value)

    def assign(self, node: Any) -> None:
        if node.type_comment is not None:
            raise _Unsupported("type_comment")
        self.fill()
        for target in node.targets:
            self.prec[target] = _TUPLE
            self.traverse(target)
            self.out.append(" = ")
        self.traverse(node.value)

    def aug_assign(self, node: Any) -> None:
        self.fill()
        self.traverse(node.target)
        self.out.append(" " + _BINOPS[type(node.op)][0] + "= ")
        self.traverse(node.value)

    def return_(self, node: Return) -> None:
        self.fill("return")
        if node.value:
            self.out.append(" ")
            self.traverse(node.value)

    def keyword_stmt(self, node: AST) -> None:
        self.fill(type(node).__name__.lower())

    def raise_(self, node: Raise) -> None:
        self.fill("raise")
        if not node.exc:
            if node.cause:
                raise _Unsupported("cause without exception")
            return
        self.out.append(" ")
        self.traverse(node.exc)
        if node.cause:
            self.out.append(" from ")
            self.traverse(node.cause)

    def if_(self, node: If) -> None:
        self.fill("if ")
        self.traverse(node.test)
        self.block(node.body)
        # Nested ifs as elifs, as `ast` writes them.
        while node.orelse and len(node.orelse) == 1 and type(node.orelse[0]) is If:
            node = node.orelse[0]
            self.fill("elif ")
            self.traverse(node.test)
            self.block(node.body)
        self.clause("else", node.orelse)

    def for_(self, node: For) -> None:
        if node.type_comment is not None:
            raise _Unsupported("type_comment")
        self.fill("for ")
        self.prec[node.target] = _TUPLE
        self.traverse(node.target)
        self.out.append(" in ")
        self.traverse(node.iter)
        self.block(node.body)
        self.clause("else", node.orelse)

    def try_(self, node: Try) -> None:
        self.fill("try")
        self.block(node.body)
        for handler in node.handlers:
            self.traverse(handler)
        self.clause("else", node.orelse)
        self.clause("finally", node.finalbody)

    def except_handler(self, node: ExceptHandler) -> None:
        self.fill("except")
        if node.type:
            self.out.append(" ")
            self.traverse(node.type)
        if node.name:
            self.out.extend((" as ", node.name))
        self.block(node.body)

    def while_(self, node: While) -> None:
        self.fill("while ")
        self.traverse(node.test)
        self.block(node.body)
        self.clause("else", node.orelse)

    # Expressions.

    def open_if(self, parens: bool) -> None:
        if parens:
            self.out.append("(")

    def close_if(self, parens: bool) -> None:
        if parens:
            self.out.append(")")

    def name(self, node: Name) -> None:
        self.out.append(node.id)

    def constant(self, node: Constant) -> None:
        value = node.value
        if isinstance(value, tuple):
            self.out.append("(")
            if len(value) == 1:
                self.out.extend((_constant_text(value[0]), ","))
            else:
                self.out.append(", ".join(map(_constant_text, value)))
            self.out.append(")")
        elif value is ...:
            self.out.append("...")
        else:
            if node.kind == "u":
                self.out.append("u")
            self.out.append(_constant_text(value))

    def binop(self, node: BinOp) -> None:
        text, p = _BINOPS[type(node.op)]
        parens = self.prec.get(node, _TEST) > p
        self.open_if(parens)
        if p == _POWER:  # (right-associative)
            self.prec[node.left] = p + 1
            right = p
        else:
            self.prec[node.left] = p
            right = p + 1
        self.traverse(node.left)
        self.out.append(f" {text} ")
        self.prec[node.right] = right
        self.traverse(node.right)
        self.close_if(parens)

    def unaryop(self, node: UnaryOp) -> None:
        text, p = _UNARY[type(node.op)]
        parens = self.prec.get(node, _TEST) > p
        self.open_if(parens)
        self.out.append(text)
        self.prec[node.operand] = p
        self.traverse(node.operand)
        self.close_if(parens)

    def compare(self, node: Compare) -> None:
        parens = self.prec.get(node, _TEST) > _CMP
        self.open_if(parens)
        prec = self.prec
        prec[node.left] = _CMP + 1
        for e in node.comparators:
            prec[e] = _CMP + 1
        self.traverse(node.left)
        for op, e in zip(node.ops, node.comparators):
            self.out.append(_COMPARE[type(op)])
            self.traverse(e)
        self.close_if(parens)

    def boolop(self, node: BoolOp) -> None:
        text, p = (" and ", _AND) if type(node.op) is And else (" or ", _OR)
        parens = self.prec.get(node, _TEST) > p
        self.open_if(parens)
        # Each value one level above the one before it, as `ast` writes them.
        for i, value in enumerate(node.values):
            if i:
                self.out.append(text)
            p = min(p + 1, _ATOM)
            self.prec[value] = p
            self.traverse(value)
        self.close_if(parens)

    def ifexp(self, node: IfExp) -> None:
        parens = self.prec.get(node, _TEST) > _TEST
        self.open_if(parens)
        self.prec[node.body] = self.prec[node.test] = _TEST + 1
        self.traverse(node.body)
        self.out.append(" if ")
        self.traverse(node.test)
        self.out.append(" else ")
        self.prec[node.orelse] = _TEST
        self.traverse(node.orelse)
        self.close_if(parens)

    def call(self, node: Call) -> None:
        self.prec[node.func] = _ATOM
        self.traverse(node.func)
        self.out.append("(")
        comma = False
        for e in (*node.args, *node.keywords):
            if comma:
                self.out.append(", ")
            comma = True
            self.traverse(e)
        self.out.append(")")

    def keyword(self, node: keyword) -> None:
        self.out.append("**" if node.arg is None else node.arg + "=")
        self.traverse(node.value)

    def attribute(self, node: Attribute) -> None:
        self.prec[node.value] = _ATOM
        self.traverse(node.value)
        # (`3.real` does not parse: `ast` writes `3 .real`.)
        if type(node.value) is Constant and isinstance(node.value.value, int):
            self.out.append(" ")
        self.out.extend((".", node.attr))

    def subscript(self, node: Subscript) -> None:
        self.prec[node.value] = _ATOM
        self.traverse(node.value)
        self.out.append("[")
        s = node.slice
        if type(s) is Tuple and s.elts:
            self.items(s.elts)
        else:
            self.traverse(s)
        self.out.append("]")

    def tuple_(self, node: Tuple) -> None:
        parens = not node.elts or self.prec.get(node, _TEST) > _TUPLE
        self.open_if(parens)
        self.items(node.elts)
        self.close_if(parens)

    def list_(self, node: List) -> None:
        self.out.append("[")
        for i, e in enumerate(node.elts):
            if i:
                self.out.append(", ")
            self.traverse(e)
        self.out.append("]")

    def dict_(self, node: Dict) -> None:
        self.out.append("{")
        for i, (k, v) in enumerate(zip(node.keys, node.values)):
            if i:
                self.out.append(", ")
            if k is None:  # `**v`
                self.out.append("**")
                self.prec[v] = _EXPR
            else:
                self.traverse(k)
                self.out.append(": ")
            self.traverse(v)
        self.out.append("}")

    def starred(self, node: Starred) -> None:
        self.out.append("*")
        self.prec[node.value] = _EXPR
        self.traverse(node.value)

    def slice_(self, node: Slice) -> None:
        if node.lower:
            self.traverse(node.lower)
        self.out.append(":")
        if node.upper:
            self.traverse(node.upper)
        if node.step:
            self.out.append(":")
            self.traverse(node.step)

    def named_expr(self, node: NamedExpr) -> None:
        parens = self.prec.get(node, _TEST) > _NAMED_EXPR
        self.open_if(parens)
        self.prec[node.target] = self.prec[node.value] = _ATOM
        self.traverse(node.target)
        self.out.append(" := ")
        self.traverse(node.value)
        self.close_if(parens)


#: How `_Writer` writes each node class it writes.
_WRITE: dict[type, Callable[[_Writer, Any], None]] = {
    Module: _Writer.module, Expr: _Writer.expr_stmt, Assign: _Writer.assign,
    AugAssign: _Writer.aug_assign, Return: _Writer.return_, Pass: _Writer.keyword_stmt,
    Break: _Writer.keyword_stmt, Continue: _Writer.keyword_stmt, Raise: _Writer.raise_,
    If: _Writer.if_, While: _Writer.while_, For: _Writer.for_, Try: _Writer.try_,
    ExceptHandler: _Writer.except_handler,
    Name: _Writer.name, Constant: _Writer.constant, BinOp: _Writer.binop,
    UnaryOp: _Writer.unaryop, Compare: _Writer.compare, BoolOp: _Writer.boolop,
    IfExp: _Writer.ifexp, Call: _Writer.call, Attribute: _Writer.attribute,
    Subscript: _Writer.subscript, Tuple: _Writer.tuple_, List: _Writer.list_,
    Dict: _Writer.dict_, Starred: _Writer.starred, Slice: _Writer.slice_,
    NamedExpr: _Writer.named_expr, keyword: _Writer.keyword,
}


def _constant_text(value: Any) -> str:
    if isinstance(value, (float, complex)):
        # (An infinity as a literal that overflows, a NaN as inf - inf, as `ast` does.)
        return repr(value).replace("inf", _INFSTR).replace("nan", f"({_INFSTR}-{_INFSTR})")
    return repr(value)


def unparse(node: AST | list[AST]) -> str:
    """The source of syntax tree `node` (or of a list of statements), exactly as
    `ast.unparse` writes it."""
    w = _Writer()
    try:
        w.traverse(node)
    except _Unsupported:
        import ast  # noqa: PLC0415 (only for a node generated code does not hold)
        return ast.unparse(node)  # type: ignore[arg-type]
    return "".join(w.out)
