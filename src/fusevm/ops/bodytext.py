"""An op body's text: its statements dedented, parsed and checked, and the names its tree holds.

Core op bodies (`fusevm.interp.bodies`) and extension ones (`fusevm.ops.extbody`) are
statements over the names of the op's stack items, operands and environment: these read
them (`parse_statements`, `item_names`, `check_known`) and find the names in their trees,
and in the trees the baseline tier makes of them (`name_nodes`). Compiling a region parses
the bodies of the core ops it holds: it loads this module, not the extension bodies'
machinery.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.ops.spec import OpSpec

#: The builtins an op body may name (an extension op's may also use `isinstance`): to
#: call, and the types its `type(x) is ...` tests name.
BODY_BUILTINS: Final = frozenset({"type", "int", "float", "bool", "str", "len", "list",
                                  "dict", "IndexError"})


#: Fields of a syntax tree that never hold a name: a node's context, operator or
#: comparison operators, and the strings and numbers of identifiers, constants and
#: positions (`_walked`).
_NO_NAMES: Final = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "kind", "name",
                              "asname", "module", "level", "is_async", "conversion",
                              "type_comment", "tag"})
#: Per node class, the fields `name_nodes` walks (a class of no syntax node: none).
_WALKED: dict[type, tuple[str, ...]] = {}
_Name: Any = None  # (`ast.Name`, set with the first walk: this module loads at start-up)


def _load_name() -> Any:
    global _Name
    from fusevm import pyast as ast
    _Name = ast.Name
    return _Name


def _walked(cls: type) -> tuple[str, ...]:
    from fusevm import pyast as ast
    fields = _WALKED[cls] = (
        tuple(f for f in cls._fields  # type: ignore[attr-defined]
              if f not in _NO_NAMES and not (cls is ast.Constant and f == "value"))
        if issubclass(cls, ast.AST) else ())
    return fields


def name_nodes(node: Any) -> list[Any]:
    """Every `ast.Name` in syntax tree `node` (itself included), in no particular order:
    `ast.walk`'s, without its generator and field list per node, and past the fields that
    never hold one (the baseline tier asks about a hundred times a compile)."""
    name, walked = _Name or _load_name(), _WALKED
    out: list[Any] = []
    todo = [node]
    while todo:
        n = todo.pop()
        cls = type(n)
        if cls is name:
            out.append(n)
            continue
        fields = walked.get(cls)
        if fields is None:
            fields = _walked(cls)
        for field in fields:
            value: Any = getattr(n, field, None)
            kind = type(value)
            if kind is list:
                todo += value  # (a non-node item walks no field)
            elif kind is name:  # (taken at once: most single fields hold a name)
                out.append(value)
            elif value is not None:
                todo.append(value)
    return out


def dedent(source: str) -> str:
    """`textwrap.dedent(source)` (lines of blanks and tabs only emptied, the indentation
    all other lines share removed), without loading `textwrap` (and the regular
    expressions it compiles): a process's first compile parses bodies."""
    lines = ["" if not line.strip(" \t") else line for line in source.split("\n")]
    margin: str | None = None
    for line in lines:
        if not line:
            continue
        indent = line[:len(line) - len(line.lstrip(" \t"))]
        if margin is None or margin.startswith(indent):
            margin = indent
        elif not indent.startswith(margin):
            k = 0
            while margin[k] == indent[k]:
                k += 1
            margin = margin[:k]
    if margin:
        lines = [line[len(margin):] for line in lines]
    return "\n".join(lines)


def parse_statements(spec: OpSpec,
                     source: str) -> tuple[str, Any, set[str], set[str], frozenset[str]]:
    """An op body's statements (core, `fusevm.interp.bodies`, or an extension's): the
    dedented text, its tree, the names it assigns, the names it reads and every name it
    mentions; ValueError when it leaves an output unassigned."""
    from fusevm import pyast as ast
    text = dedent(source).strip("\n")
    tree = ast.parse(text)
    assigned: set[str] = set()
    read: set[str] = set()
    named: set[str] = set()
    for n in name_nodes(tree):
        named.add(n.id)
        if isinstance(n.ctx, ast.Store):
            assigned.add(n.id)
        elif isinstance(n.ctx, ast.Load):
            read.add(n.id)
    missing = {n for n, _ in spec.effect.outputs} - assigned - \
        {n for n, _ in spec.effect.inputs}
    if missing:
        raise ValueError(f"{spec.name}: the body never assigns {sorted(missing)}")
    return text, tree, assigned, read, frozenset(named)


def item_names(spec: OpSpec) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The names a body gives the op's stack inputs, its outputs and its operands;
    ValueError for an op that takes or leaves an operand-sized run of values."""
    if spec.effect.counts is None:
        raise ValueError(f"{spec.name}: a body cannot take an operand-sized run of values")
    return (tuple(n for n, _ in spec.effect.inputs), tuple(n for n, _ in spec.effect.outputs),
            tuple(o.name for o in spec.operands))


def check_known(spec: OpSpec, read: set[str], known: set[str]) -> None:
    """ValueError when the body reads a name outside `known`."""
    unknown = read - known
    if unknown:
        raise ValueError(f"{spec.name}: the body names {sorted(unknown)}, which it may not")
