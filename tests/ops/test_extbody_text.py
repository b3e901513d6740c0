"""The op-body text helpers of `fusevm.ops.bodytext` against the standard library ones they
stand in for on the start-up path: `dedent` is `textwrap.dedent`, `name_nodes` finds the
`ast.Name` nodes `ast.walk` finds."""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given
from hypothesis import strategies as st

from fusevm.ops.bodytext import dedent, name_nodes

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


#: Syntax with every kind of field around names: strings in lists (`global`), None in
#: lists (`**` in a dict), patterns, f-strings, async forms, handlers and defaults.
_WIDE = """
global a, b
x = {**d, 'k': v}
f(*a, k=w, **kw)
match x:
    case [a, *rest] if a: pass
    case {'k': v, **r}: pass
    case P(x=y) as z: pass
    case None: pass
async def g(p: q = r, *, s=t) -> u:
    async for i in j:
        await k
    async with m as n: pass
    return [o async for o in pp if o]
y = lambda s=t: u
y = f'{y!r:{z}}'
try:
    pass
except E as e:
    del e
class C(B, metaclass=M):
    attr: int = 3
"""


def test_name_nodes_are_the_names_ast_walk_finds_in_every_op_body_and_wide_syntax() -> None:
    from fusevm.interp.bodies import BODIES

    for source in [*(BODIES[op].source for op in BODIES), _WIDE]:
        tree = ast.parse(dedent(source))
        walked = sorted(id(n) for n in ast.walk(tree) if isinstance(n, ast.Name))
        assert sorted(id(n) for n in name_nodes(tree)) == walked, source
