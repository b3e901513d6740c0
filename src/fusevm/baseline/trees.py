"""Syntax trees of generated code: the names they use and copies of them, without the
generic costs of `ast.walk`, `copy.deepcopy` and `ast.NodeTransformer`.

A compile asks which names an op's statements read, write or mention, and copies them to
rewrite, thousands of times (`types`, `ranges`, `groups`, the generators): the generic
walks make a generator and a field list per node, deepcopy keeps a memo of every object
it copies; a plain loop over a node's fields costs a fraction of that.
"""

from __future__ import annotations

from fusevm import pyast as ast
from fusevm.ops.bodytext import name_nodes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LEAVES = ast.LEAVES  # (nodes copies share: an operator, a context)

#: What `copy_tree` reads where a node has no such field or attribute.
_UNSET: Any = object()

__all__ = ["LEAVES", "copy_tree", "name_nodes", "names", "stored"]


def names(node: ast.AST) -> set[str]:
    """The names `node` mentions."""
    return {n.id for n in name_nodes(node)}


def stored(node: ast.AST) -> set[str]:
    """The names `node` assigns."""
    return {n.id for n in name_nodes(node) if type(n.ctx) is ast.Store}


def copy_tree(node: Any, reads: dict[str, ast.expr] | None = None) -> Any:
    """A copy of `node` (`copy.deepcopy`'s, a field left unset staying unset), each read
    of a name in `reads` replaced by a copy of the expression it maps to."""
    t: Any = type(node)
    if t is ast.Name and reads and type(node.ctx) is ast.Load:
        replaced = reads.get(node.id)
        if replaced is not None:
            return copy_tree(replaced)
    out = t.__new__(t)
    for field in node._fields:
        value: Any = getattr(node, field, _UNSET)
        if value is _UNSET:
            continue
        if type(value) is list:
            value = [copy_tree(v, reads) if isinstance(v, ast.AST) else v for v in value]
        elif isinstance(value, ast.AST) and not isinstance(value, LEAVES):
            value = copy_tree(value, reads)
        setattr(out, field, value)
    # (With a default, a missing attribute raises no AttributeError to catch: the trees a
    # compile makes have no positions but a statement's line, and an exception made and
    # caught for each of the others costs about a microsecond.)
    for attribute in node._attributes:
        value = getattr(node, attribute, _UNSET)
        if value is not _UNSET:
            setattr(out, attribute, value)
    return out
