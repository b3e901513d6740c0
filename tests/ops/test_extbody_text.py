"""The op-body text helpers of `fusevm.ops.extbody` against the standard library ones they
stand in for on the start-up path: `dedent` is `textwrap.dedent`, `name_nodes` finds the
`ast.Name` nodes `ast.walk` finds."""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given
from hypothesis import strategies as st

from fusevm.ops.extbody import dedent, name_nodes

#: Lines built from the characters that decide indentation, with some text after them.
_LINES = st.lists(st.text(alphabet=" \tx#", max_size=8), max_size=8)


@given(_LINES)
def test_dedent_is_textwrap_dedent(lines: list[str]) -> None:
    source = "\n".join(lines)
    assert dedent(source) == textwrap.dedent(source)


def test_dedent_on_an_op_body() -> None:
    body = "\n        a = x + 1\n\n        if a:\n            b = a\n  \t\n"
    assert dedent(body) == textwrap.dedent(body)


def test_name_nodes_are_the_names_ast_walk_finds() -> None:
    tree = ast.parse("a = b + f(c, *d, k=e)[g]\nfor h in i:\n    j.k = [l for m in n]\n")
    walked = sorted(id(n) for n in ast.walk(tree) if isinstance(n, ast.Name))
    assert sorted(id(n) for n in name_nodes(tree)) == walked
