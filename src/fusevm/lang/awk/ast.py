"""The awk syntax tree: frozen dataclasses for program items, statements and expressions.

Every node's first field is `line`, the 1-based source line it starts on, so the compiler
can attach lines to the code it emits. Nodes are immutable and hold tuples, never lists.
The parser has already resolved awk's surface quirks: `**` is `^`, `**=` is `^=`, a bare
regex used as a value is a `RecordMatch`, and `length` without parentheses is
`Builtin("length", ())`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every node."""

    line: int


# -- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expr(Node):
    """Base of expressions."""


@dataclass(frozen=True, slots=True)
class Num(Expr):
    """A numeric constant."""

    value: float


@dataclass(frozen=True, slots=True)
class Str(Expr):
    """A string constant, escapes already decoded."""

    value: str


@dataclass(frozen=True, slots=True)
class Regex(Expr):
    """An ERE literal `/source/`, as written (escapes kept, `\\/` already `/`).

    Appears only where a regex is wanted: `Match.regex`, or the regex argument of split
    (3rd), sub/gsub (1st) and match (2nd). Elsewhere the parser emits `RecordMatch`.
    """

    source: str


@dataclass(frozen=True, slots=True)
class RecordMatch(Expr):
    """A bare regex used as a value: `$0 ~ /re/`."""

    regex: Regex


@dataclass(frozen=True, slots=True)
class Field(Expr):
    """`$index`."""

    index: Expr


@dataclass(frozen=True, slots=True)
class Var(Expr):
    """A scalar variable (global, special, or a function parameter) or a whole array."""

    name: str


@dataclass(frozen=True, slots=True)
class Index(Expr):
    """`name[s1, s2, ...]`; several subscripts are joined with SUBSEP."""

    name: str
    subscripts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class In(Expr):
    """`key in name` or `(k1, k2) in name`."""

    subscripts: tuple[Expr, ...]
    array: str


@dataclass(frozen=True, slots=True)
class Group(Expr):
    """A parenthesised expression; transparent to evaluation."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    """`op operand` with op one of `!`, `-`, `+`."""

    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    """Arithmetic: op one of `+ - * / % ^`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    """Relational: op one of `< <= == != > >=`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Logical(Expr):
    """Short-circuit: op `&&` or `||`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Match(Expr):
    """`subject ~ regex` (or `!~` when negated); regex is a Regex or any dynamic Expr."""

    negated: bool
    subject: Expr
    regex: Expr


@dataclass(frozen=True, slots=True)
class Concat(Expr):
    """String concatenation (juxtaposition)."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Cond(Expr):
    """`test ? if_true : if_false`."""

    test: Expr
    if_true: Expr
    if_false: Expr


@dataclass(frozen=True, slots=True)
class Assign(Expr):
    """`target op value`, op one of `= += -= *= /= %= ^=`; target is Var, Index or Field."""

    op: str
    target: Expr
    value: Expr


@dataclass(frozen=True, slots=True)
class IncDec(Expr):
    """`++x`, `--x` (prefix) or `x++`, `x--`; op is `++` or `--`."""

    op: str
    prefix: bool
    target: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A user function call `name(args)`."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Builtin(Expr):
    """A builtin function call; `length` without parentheses has no args."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Stmt(Node):
    """Base of statements."""


@dataclass(frozen=True, slots=True)
class Redirect(Node):
    """Output redirection of print/printf: mode is `>`, `>>` or `|`."""

    mode: str
    target: Expr


@dataclass(frozen=True, slots=True)
class Print(Stmt):
    """`print args [redirect]`; no args means `$0`."""

    args: tuple[Expr, ...]
    redirect: Redirect | None


@dataclass(frozen=True, slots=True)
class Printf(Stmt):
    """`printf format, args [redirect]`; args[0] is the format.

    A bare `printf` (no args) prints nothing, as onetrue-awk accepts it.
    """

    args: tuple[Expr, ...]
    redirect: Redirect | None


@dataclass(frozen=True, slots=True)
class ExprStmt(Stmt):
    """An expression evaluated for its effect."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class Block(Stmt):
    """`{ body }`; also the empty statement `;` (empty body)."""

    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class If(Stmt):
    """`if (test) then [else otherwise]`."""

    test: Expr
    then: Stmt
    otherwise: Stmt | None


@dataclass(frozen=True, slots=True)
class While(Stmt):
    """`while (test) body`."""

    test: Expr
    body: Stmt


@dataclass(frozen=True, slots=True)
class Do(Stmt):
    """`do body while (test)`."""

    body: Stmt
    test: Expr


@dataclass(frozen=True, slots=True)
class For(Stmt):
    """`for (init; test; step) body`; each part may be missing."""

    init: Stmt | None
    test: Expr | None
    step: Stmt | None
    body: Stmt


@dataclass(frozen=True, slots=True)
class ForIn(Stmt):
    """`for (var in array) body`."""

    var: str
    array: str
    body: Stmt


@dataclass(frozen=True, slots=True)
class Next(Stmt):
    """`next`."""


@dataclass(frozen=True, slots=True)
class NextFile(Stmt):
    """`nextfile`."""


@dataclass(frozen=True, slots=True)
class Exit(Stmt):
    """`exit [status]`."""

    status: Expr | None


@dataclass(frozen=True, slots=True)
class Return(Stmt):
    """`return [value]` (only inside a function)."""

    value: Expr | None


@dataclass(frozen=True, slots=True)
class Break(Stmt):
    """`break` (only inside a loop)."""


@dataclass(frozen=True, slots=True)
class Continue(Stmt):
    """`continue` (only inside a loop)."""


@dataclass(frozen=True, slots=True)
class Delete(Stmt):
    """`delete name[subscripts]`, or `delete name` (whole array) when subscripts is None."""

    name: str
    subscripts: tuple[Expr, ...] | None


# -- program items -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item(Node):
    """Base of top-level items."""


@dataclass(frozen=True, slots=True)
class BeginAction(Item):
    """`BEGIN { ... }`."""

    body: Block


@dataclass(frozen=True, slots=True)
class EndAction(Item):
    """`END { ... }`."""

    body: Block


@dataclass(frozen=True, slots=True)
class PatternAction(Item):
    """`pattern { ... }`; pattern None matches every record, body None means `print`."""

    pattern: Expr | None
    body: Block | None


@dataclass(frozen=True, slots=True)
class RangePattern(Item):
    """`start, stop { ... }`; body None means `print`."""

    start: Expr
    stop: Expr
    body: Block | None


@dataclass(frozen=True, slots=True)
class Function(Item):
    """`function name(params) { ... }`."""

    name: str
    params: tuple[str, ...]
    body: Block


@dataclass(frozen=True, slots=True)
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
