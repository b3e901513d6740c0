"""The awk syntax tree: frozen records for program items, statements and expressions.

Every node's first field is `line`, the 1-based source line it starts on, so the compiler
can attach lines to the code it emits. Nodes are immutable and hold tuples, never lists.
The parser has already resolved awk's surface quirks: `**` is `^`, `**=` is `^=`, a bare
regex used as a value is a `RecordMatch`, and `length` without parentheses is
`Builtin("length", ())`.

A node class lists its fields as annotations, after those of its bases, and gets what
`@dataclass(frozen=True, slots=True)` would give it (positional `__init__`, `__eq__`,
`__hash__`, `__repr__`, `__match_args__`, slots, no assignment) from `_NodeType`, which
costs a small part of what creating 48 dataclasses costs each process that compiles awk.
`FIELDS[cls]`, like `dataclasses.fields`, names a class's fields in order.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, dataclass_transform
else:
    # `typing` costs each compile its import; the marker only informs the type checker.
    def dataclass_transform(**_: object) -> object:
        return lambda cls: cls

_set = object.__setattr__

#: Every node class's fields, in order (bases' first).
FIELDS: dict[type, tuple[str, ...]] = {}
#: The fields of each node class that hold nodes (a node, a tuple of them, or None where
#: the annotation allows it): the others, by their annotation, hold plain values.
CHILDREN: dict[type, tuple[str, ...]] = {}
_PLAIN = frozenset({"int", "str", "bool", "float", "tuple[str, ...]"})


class FrozenNodeError(AttributeError):
    """Assignment to a field of a node (nodes are immutable)."""


@dataclass_transform(frozen_default=True, eq_default=True)
class _NodeType(type):
    """The metaclass of nodes: fields from annotations, slots, and the record methods."""

    def __new__(mcs, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> _NodeType:
        notes = ns.get("__annotations__", {})
        own = tuple(notes)
        ns["__slots__"] = own
        fields = tuple(f for b in bases for f in FIELDS.get(b, ())) + own
        ns["__match_args__"] = fields
        cls = super().__new__(mcs, name, bases, ns)
        FIELDS[cls] = fields
        CHILDREN[cls] = tuple(f for b in bases for f in CHILDREN.get(b, ())) + tuple(
            f for f in own if notes[f] not in _PLAIN)
        return cls


class Node(metaclass=_NodeType):
    """Base of every node."""

    line: int

    def __init__(self, *args: Any) -> None:
        fields = FIELDS[type(self)]
        if len(args) != len(fields):
            raise TypeError(f"{type(self).__name__}({', '.join(fields)}) takes "
                            f"{len(fields)} arguments, got {len(args)}")
        for name, value in zip(fields, args):
            _set(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in FIELDS[type(self)])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in FIELDS[type(self)])
        return f"{type(self).__qualname__}({inner})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenNodeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenNodeError(f"cannot delete field {name!r}")


# -- expressions -------------------------------------------------------------


class Expr(Node):
    """Base of expressions."""


class Num(Expr):
    """A numeric constant."""

    value: float


class Str(Expr):
    """A string constant, escapes already decoded."""

    value: str


class Regex(Expr):
    """An ERE literal `/source/`, as written (escapes kept, `\\/` already `/`).

    Appears only where a regex is wanted: `Match.regex`, or the regex argument of split
    (3rd), sub/gsub (1st) and match (2nd). Elsewhere the parser emits `RecordMatch`.
    """

    source: str


class RecordMatch(Expr):
    """A bare regex used as a value: `$0 ~ /re/`."""

    regex: Regex


class Field(Expr):
    """`$index`."""

    index: Expr


class Var(Expr):
    """A scalar variable (global, special, or a function parameter) or a whole array."""

    name: str


class Index(Expr):
    """`name[s1, s2, ...]`; several subscripts are joined with SUBSEP."""

    name: str
    subscripts: tuple[Expr, ...]


class In(Expr):
    """`key in name` or `(k1, k2) in name`."""

    subscripts: tuple[Expr, ...]
    array: str


class Group(Expr):
    """A parenthesised expression; transparent to evaluation."""

    expr: Expr


class Unary(Expr):
    """`op operand` with op one of `!`, `-`, `+`."""

    op: str
    operand: Expr


class Binary(Expr):
    """Arithmetic: op one of `+ - * / % ^`."""

    op: str
    left: Expr
    right: Expr


class Compare(Expr):
    """Relational: op one of `< <= == != > >=`."""

    op: str
    left: Expr
    right: Expr


class Logical(Expr):
    """Short-circuit: op `&&` or `||`."""

    op: str
    left: Expr
    right: Expr


class Match(Expr):
    """`subject ~ regex` (or `!~` when negated); regex is a Regex or any dynamic Expr."""

    negated: bool
    subject: Expr
    regex: Expr


class Concat(Expr):
    """String concatenation (juxtaposition)."""

    left: Expr
    right: Expr


class Cond(Expr):
    """`test ? if_true : if_false`."""

    test: Expr
    if_true: Expr
    if_false: Expr


class Assign(Expr):
    """`target op value`, op one of `= += -= *= /= %= ^=`; target is Var, Index or Field."""

    op: str
    target: Expr
    value: Expr


class IncDec(Expr):
    """`++x`, `--x` (prefix) or `x++`, `x--`; op is `++` or `--`."""

    op: str
    prefix: bool
    target: Expr


class Call(Expr):
    """A user function call `name(args)`."""

    name: str
    args: tuple[Expr, ...]


class Builtin(Expr):
    """A builtin function call; `length` without parentheses has no args."""

    name: str
    args: tuple[Expr, ...]


class Getline(Expr):
    """Every getline form.

    kind is "simple" (`getline [var]`, reads the main input), "file" (`getline [var] <
    source`) or "command" (`source | getline [var]`). target is the lvalue read into,
    or None for `$0`. source is None for "simple".
    """

    kind: str
    target: Expr | None
    source: Expr | None


# -- statements --------------------------------------------------------------


class Stmt(Node):
    """Base of statements."""


class Redirect(Node):
    """Output redirection of print/printf: mode is `>`, `>>` or `|`."""

    mode: str
    target: Expr


class Print(Stmt):
    """`print args [redirect]`; no args means `$0`."""

    args: tuple[Expr, ...]
    redirect: Redirect | None


class Printf(Stmt):
    """`printf format, args [redirect]`; args[0] is the format.

    A bare `printf` (no args) prints nothing, as onetrue-awk accepts it.
    """

    args: tuple[Expr, ...]
    redirect: Redirect | None


class ExprStmt(Stmt):
    """An expression evaluated for its effect."""

    expr: Expr


class Block(Stmt):
    """`{ body }`; also the empty statement `;` (empty body)."""

    body: tuple[Stmt, ...]


class If(Stmt):
    """`if (test) then [else otherwise]`."""

    test: Expr
    then: Stmt
    otherwise: Stmt | None


class While(Stmt):
    """`while (test) body`."""

    test: Expr
    body: Stmt


class Do(Stmt):
    """`do body while (test)`."""

    body: Stmt
    test: Expr


class For(Stmt):
    """`for (init; test; step) body`; each part may be missing."""

    init: Stmt | None
    test: Expr | None
    step: Stmt | None
    body: Stmt


class ForIn(Stmt):
    """`for (var in array) body`."""

    var: str
    array: str
    body: Stmt


class Next(Stmt):
    """`next`."""


class NextFile(Stmt):
    """`nextfile`."""


class Exit(Stmt):
    """`exit [status]`."""

    status: Expr | None


class Return(Stmt):
    """`return [value]` (only inside a function)."""

    value: Expr | None


class Break(Stmt):
    """`break` (only inside a loop)."""


class Continue(Stmt):
    """`continue` (only inside a loop)."""


class Delete(Stmt):
    """`delete name[subscripts]`, or `delete name` (whole array) when subscripts is None."""

    name: str
    subscripts: tuple[Expr, ...] | None


# -- program items -----------------------------------------------------------


class Item(Node):
    """Base of top-level items."""


class BeginAction(Item):
    """`BEGIN { ... }`."""

    body: Block


class EndAction(Item):
    """`END { ... }`."""

    body: Block


class PatternAction(Item):
    """`pattern { ... }`; pattern None matches every record, body None means `print`."""

    pattern: Expr | None
    body: Block | None


class RangePattern(Item):
    """`start, stop { ... }`; body None means `print`."""

    start: Expr
    stop: Expr
    body: Block | None


class Function(Item):
    """`function name(params) { ... }`."""

    name: str
    params: tuple[str, ...]
    body: Block


class Program(Node):
    """A whole program; items keep source order (several BEGINs run in that order)."""

    items: tuple[Item, ...]

    @property
    def begins(self) -> tuple[BeginAction, ...]:
        """The BEGIN actions, in source order."""
        return tuple(i for i in self.items if isinstance(i, BeginAction))

    @property
    def ends(self) -> tuple[EndAction, ...]:
        """The END actions, in source order."""
        return tuple(i for i in self.items if isinstance(i, EndAction))

    @property
    def rules(self) -> tuple[PatternAction | RangePattern, ...]:
        """The per-record rules, in source order."""
        return tuple(i for i in self.items if isinstance(i, (PatternAction, RangePattern)))

    @property
    def functions(self) -> dict[str, Function]:
        """The function definitions by name."""
        return {i.name: i for i in self.items if isinstance(i, Function)}


LVALUE_TYPES: tuple[type[Expr], ...] = (Var, Index, Field)
