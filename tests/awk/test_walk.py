"""The walk the awk analyses share: every node once, each node's children by its fields.

`children` reads only the fields whose annotation can hold a node (`ast.CHILDREN`); here
it is compared with reading every field, on a program that uses every kind of node.
"""

from __future__ import annotations

from fusevm.lang.awk import ast
from fusevm.lang.awk.infer import children, nodes, walk
from fusevm.lang.awk.parser import parse

PROGRAM = r"""
function f(a, b,   c) { c = a[1] b; delete a[2]; delete a; return c }
BEGIN { x = 1; y += 2; z = -x ^ 2 % 3; s = "a" "b"; n++; --n; print x, y > "/dev/null" }
BEGIN { printf "%d\n", 3 >> "/dev/null"; getline; getline v; getline w < "/dev/null" }
{ "echo" | getline u; close("echo"); if (1 in arr) next; else exit 1 }
/re/, $1 == "end" { for (k in arr) { if (k ~ /x/ && !(k !~ "y") || k) break } }
NR > 1 { while (i < 3) { i++; continue } do { j-- } while (j > 0) }
{ for (i = 0; i < NF; i++) $i = (i ? $i : f(arr, $0)); sub(/a/, "b", $2); gsub("c", "d") }
END { m = length; m = length(s); split(s, parts, ","); t = s ? 1 : 0; print }
$0 ~ "x" { print substr($0, 2, 3) | "cat" }
"""


def _all_field_children(node: object) -> list[object]:
    """The children `children` would give if it read every field of the node."""
    out: list[object] = []
    for name in ast.FIELDS.get(type(node), ()):
        value = getattr(node, name)
        if isinstance(value, tuple):
            out += [v for v in value if isinstance(v, ast.Node)]
        elif isinstance(value, ast.Node):
            out.append(value)
    return out


def test_children_read_the_fields_that_hold_nodes() -> None:
    program = parse(PROGRAM)
    seen: set[type] = set()
    for node in walk(program):
        seen.add(type(node))
        assert children(node) == _all_field_children(node), type(node).__name__
    # (the program above names every kind of node the parser makes but a few leaves)
    assert len(seen) >= 40, sorted(t.__name__ for t in seen)


def test_walk_gives_every_node_once_root_first() -> None:
    program = parse(PROGRAM)
    walked = walk(program)
    assert walked[0] is program
    assert len({id(n) for n in walked}) == len(walked)
    assert sorted(map(id, walked)) == sorted(map(id, nodes(program)))
