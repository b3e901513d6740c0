"""Static array-or-scalar inference for awk names: globals, parameters and locals.

awk decides whether a name is an array by how it is used, and a function parameter can
be either depending on what its callers pass. Each global and each (function, parameter)
is a node; using a name as `a[i]`, `k in a`, `delete a`, `for (k in a)` or split()'s
target marks it an array, using it as a value marks it a scalar, and passing a bare name
to a user function joins it with that parameter (union-find), which is the fixpoint over
the call graph. A node marked both ways is an array whose scalar uses fail at run time
(the compiler emits the error there); an unmarked node is a scalar. `length(x)` marks
nothing, since it takes either.
"""

from __future__ import annotations

from fusevm.lang.awk import ast
from fusevm.lang.awk.errors import AwkSemanticError
from fusevm.lang.awk.state import SPECIAL_INDEX
from fusevm.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

Key = tuple[str, str, int]  # ("g", name, 0) or ("p", function, index)

_BUILTIN_ARRAYS = ("ARGV", "ENVIRON")


@dataclass
class Info:
    """What the compiler needs: which globals exist and which names are arrays."""

    global_arrays: set[str] = field(default_factory=set)
    global_scalars: set[str] = field(default_factory=set)
    param_arrays: dict[str, set[int]] = field(default_factory=dict)

    def is_array(self, func: str | None, params: tuple[str, ...], name: str) -> bool:
        if func is not None and name in params:
            return params.index(name) in self.param_arrays.get(func, set())
        return name in self.global_arrays


class _Inference:
    def __init__(self, program: ast.Program) -> None:
        self.functions = program.functions
        self.parent: dict[Key, Key] = {}
        self.marks: dict[Key, set[str]] = {}
        self.lines: dict[Key, int] = {}
        self.func: ast.Function | None = None

    def find(self, k: Key) -> Key:
        parent = self.parent.setdefault(k, k)
        if parent != k:
            parent = self.parent[k] = self.find(parent)
        return parent

    def union(self, a: Key, b: Key) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb
            self.marks.setdefault(rb, set()).update(self.marks.pop(ra, set()))

    def key(self, name: str) -> Key | None:
        if self.func is not None and name in self.func.params:
            return ("p", self.func.name, self.func.params.index(name))
        if name in SPECIAL_INDEX:
            return None
        return ("g", name, 0)

    def mark(self, name: str, kind: str, line: int) -> None:
        k = self.key(name)
        if k is None:
            if kind == "array":
                raise AwkSemanticError(f"can't use {name} as an array", line)
            return
        root = self.find(k)
        self.marks.setdefault(root, set()).add(kind)
        self.lines.setdefault(k, line)

    # -- walking -------------------------------------------------------------------

    def run(self, program: ast.Program) -> Info:
        for name in _BUILTIN_ARRAYS:
            self.mark(name, "array", 0)
        for item in program.items:
            self.func = item if isinstance(item, ast.Function) else None
            if self.func is not None:
                for i in range(len(self.func.params)):
                    self.find(("p", self.func.name, i))
            self.visit(item)
        info = Info()
        for k in list(self.parent):
            # A name used both ways is an array (onetrue-awk decides the same way before
            # running); each scalar use of it fails when it runs, so output before it
            # still appears, as in every awk.
            is_array = "array" in self.marks.get(self.find(k), set())
            if k[0] == "g":
                (info.global_arrays if is_array else info.global_scalars).add(k[1])
            elif is_array:
                info.param_arrays.setdefault(k[1], set()).add(k[2])
        return info

    def visit(self, root: object) -> None:
        # a worklist, not recursion: flat chains of operators make deep trees
        stack = [root]
        while stack:
            node = stack.pop()
            if self.visit_one(node):
                stack.extend(reversed(children(node)))

    def visit_one(self, node: object) -> bool:
        """Mark what `node` itself says; True when its children still need a visit."""
        if type(node) not in _MARKING:  # (most nodes say nothing of names)
            return True
        if isinstance(node, ast.Var):
            self.mark(node.name, "scalar", node.line)
            return False
        if isinstance(node, ast.Index):
            self.mark(node.name, "array", node.line)
        elif isinstance(node, ast.In):
            self.mark(node.array, "array", node.line)
        elif isinstance(node, ast.ForIn):
            self.mark(node.array, "array", node.line)
            self.mark(node.var, "scalar", node.line)
        elif isinstance(node, ast.Delete):
            self.mark(node.name, "array", node.line)
        elif isinstance(node, ast.Builtin):
            self.builtin(node)
            return False
        elif isinstance(node, ast.Call):
            self.call(node)
            return False
        return True

    def builtin(self, node: ast.Builtin) -> None:
        for i, arg in enumerate(node.args):
            if node.name == "split" and i == 1 and isinstance(arg, ast.Var):
                self.mark(arg.name, "array", arg.line)
            elif node.name == "length" and isinstance(arg, ast.Var):
                k = self.key(arg.name)
                if k is not None:
                    self.find(k)
            else:
                self.visit(arg)

    def call(self, node: ast.Call) -> None:
        callee = self.functions.get(node.name)
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Var) and callee is None:
                continue  # an undefined function: a runtime error, if ever reached
            if isinstance(arg, ast.Var) and callee is not None and i < len(callee.params):
                k = self.key(arg.name)
                if k is not None:
                    self.union(k, ("p", callee.name, i))
                    continue
            self.visit(arg)


#: The node classes that say something of a name (`_Inference.visit_one`).
_MARKING = frozenset({ast.Var, ast.Index, ast.In, ast.ForIn, ast.Delete, ast.Builtin,
                      ast.Call})


def children(node: object) -> list[object]:
    """The child nodes of a syntax node, in field order."""
    out: list[object] = []
    for name in ast.CHILDREN.get(type(node), ()):
        value = getattr(node, name)
        if type(value) is tuple:
            out += value
        elif value is not None:
            out.append(value)
    return out


def nodes(root: object) -> list[object]:
    """Every node of the tree under `root`, `root` first (a worklist, not recursion: flat
    chains of operators make deep trees). A program's analyses each read the list
    `walk` made once; this is for a part of it."""
    out: list[object] = []
    stack = [root]
    while stack:
        n = stack.pop()
        out.append(n)
        stack += children(n)
    return out


def walk(program: ast.Program) -> tuple[object, ...]:
    """Every node of `program`: what its analyses (`writes_argv`, `numeric_globals`,
    the compiler's record-loop questions) read, walked once (nodes are immutable)."""
    return tuple(nodes(program))


#: The node classes that may assign something (`target_of`).
_ASSIGNING = frozenset({ast.Assign, ast.IncDec, ast.Getline, ast.Builtin})


def target_of(n: object) -> object:
    """What node `n` assigns, groups unwrapped (a variable, field or element; None: $0, by
    a plain getline or a sub/gsub without a target), or False when it assigns nothing."""
    if type(n) not in _ASSIGNING:  # (most nodes: the walks ask of every one)
        return False
    target: object
    if isinstance(n, (ast.Assign, ast.IncDec, ast.Getline)):
        target = n.target
    elif isinstance(n, ast.Builtin) and n.name in ("sub", "gsub"):
        target = n.args[2] if len(n.args) > 2 else None
    else:
        return False
    while isinstance(target, ast.Group):
        target = target.expr
    return target


def infer(program: ast.Program) -> Info:
    """Classify every name of the program; raises AwkSemanticError on misuse."""
    return _Inference(program).run(program)


_NUMERIC_BUILTINS = frozenset({
    "length", "index", "split", "sub", "gsub", "match", "int", "sqrt", "exp", "log", "sin",
    "cos", "atan2", "rand", "srand", "system", "close", "fflush"})


def is_numeric_expr(e: ast.Expr) -> bool:
    """Whether e certainly evaluates to a number (a Float, never a Bool or string)."""
    while isinstance(e, ast.Group):
        e = e.expr
    if isinstance(e, (ast.Num, ast.Binary, ast.IncDec)):
        return True
    if isinstance(e, ast.Unary):
        return e.op != "!"
    if isinstance(e, ast.Assign):
        return e.op != "=" or is_numeric_expr(e.value)
    if isinstance(e, ast.Builtin):
        return e.name in _NUMERIC_BUILTINS
    return False


def _names_argv(e: object) -> bool:
    while isinstance(e, ast.Group):
        e = e.expr
    return isinstance(e, (ast.Index, ast.Var)) and e.name == "ARGV"


def writes_argv(walked: Sequence[object]) -> bool:
    """Whether the program whose nodes are `walked` may store into ARGV (an element it
    stores can be a `var=value` operand, which assigns a variable the compiler cannot
    name)."""
    for n in walked:
        if type(n) not in _STORING:  # (most nodes: one test each)
            continue
        if isinstance(n, (ast.Assign, ast.IncDec)) and _names_argv(n.target):
            return True
        if isinstance(n, ast.Getline) and n.target is not None and _names_argv(n.target):
            return True
        if isinstance(n, ast.Builtin) and n.name in ("split", "sub", "gsub") and any(
                _names_argv(arg) for arg in n.args[1:]):
            return True
        if isinstance(n, ast.Call) and any(
                isinstance(arg, ast.Var) and arg.name == "ARGV" for arg in n.args):
            return True  # a function may fill its array parameter
    return False


#: The node classes that may store into an array they name (`writes_argv`).
_STORING = _ASSIGNING | {ast.Call}


def numeric_globals(program: ast.Program, info: Info, excluded: set[str],
                    walked: Sequence[object]) -> set[str]:
    """Global scalars that only ever hold numbers once assigned: every assignment is
    numeric and nothing else (getline, for-in, sub/gsub, -v, `var=value` operands) stores
    into them. Reading one that is certainly assigned needs no conversion, so core
    arithmetic can take it.

    `excluded` names the variables that -v and the command line's `var=value` operands
    assign: those hold strnums (POSIX), whatever the program stores. When the program
    itself writes ARGV, any variable may be assigned by an operand, so none qualifies.
    `walked`: the program's nodes (`walk`).
    """
    if writes_argv(walked):
        return set()
    candidates = set(info.global_scalars) - excluded
    for fn in program.functions.values():
        candidates -= set(fn.params)  # shadowed somewhere: keep it simple, skip the name
    for n in walked:
        if isinstance(n, ast.Assign) and isinstance(n.target, ast.Var):
            if n.op == "=" and not is_numeric_expr(n.value):
                candidates.discard(n.target.name)
        elif isinstance(n, ast.Getline) and isinstance(n.target, ast.Var):
            candidates.discard(n.target.name)
        elif isinstance(n, ast.ForIn):
            candidates.discard(n.var)
        elif isinstance(n, ast.Builtin) and n.name in ("sub", "gsub") and len(n.args) > 2:
            target = n.args[2]
            while isinstance(target, ast.Group):
                target = target.expr
            if isinstance(target, ast.Var):
                candidates.discard(target.name)
    return candidates
