"""`fusevm.pyast` against the `ast` module it stands in for: `unparse` writes the very text
`ast.unparse` writes (on every op body, on every tree the baseline tier prints while it
compiles programs, and on generated trees), and the helpers behave as `ast`'s do."""

from __future__ import annotations

import ast
import io
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusevm import VM, pyast
from fusevm.bench.runners import fresh_copy
from fusevm.bench.workloads import WORKLOADS
from fusevm.interp.bodies import BODIES

SRC = Path(__file__).resolve().parent.parent / "src"


#: `pyast.unparse` writes what Python 3.11's `ast.unparse` writes; on a later Python the two
#: must read back as the same tree.
EXACT = sys.version_info[:2] == (3, 11)


def same(node: Any, unparse: Any = None, native: bool = True) -> str:
    if native:  # (written by `pyast` itself, not handed to `ast`)
        pyast._Writer().traverse(node)
    text, theirs = (unparse or pyast.unparse)(node), ast.unparse(node)
    if EXACT:
        assert text == theirs
    else:
        assert ast.dump(ast.parse(text)) == ast.dump(ast.parse(theirs))
    return text


def extension_bodies() -> list[Any]:
    """Every extension op written as statements (awk's and the example set's)."""
    from fusevm.examples.tiny.tiny import TINY
    from fusevm.lang.awk import ops_io  # noqa: F401 (declares awk's I/O ops' bodies)
    from fusevm.lang.awk.ops import AWK
    return [b for s in (AWK, TINY) for b in s.bodies.values()]


def test_every_op_body_prints_as_ast_prints_it() -> None:
    trees = [BODIES[op].tree for op in BODIES] + [b.tree for b in extension_bodies()]
    assert len(trees) >= 60
    for tree in trees:
        same(tree)
        same(tree.body)
        for node in ast.walk(tree):
            if isinstance(node, (ast.expr, ast.stmt)):
                same(node)


def test_the_trees_the_baseline_prints_while_it_compiles_print_as_ast_prints_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Every tree the generators print (the region code of the bench workloads and of awk
    # programs, compiled eagerly) is printed by `ast` too, and the two must agree.
    printed: list[str] = []
    own = pyast.unparse

    def checked(node: Any) -> str:
        printed.append(same(node, own))
        return printed[-1]
    monkeypatch.setattr(pyast, "unparse", checked)
    monkeypatch.setenv("FUSEVM_BASELINE", "eager")
    monkeypatch.setenv("FUSEVM_JIT_CACHE_DIR", "off")
    for w in WORKLOADS:
        if w.name.startswith(("dispatch_nop", "sum_1m")):
            continue  # (long in the interpreter; their ops are in the others)
        vm = VM(fresh_copy(w.reference()))  # (one no cache of this process has seen)
        vm.slots[:len(w.slots)] = w.slots
        vm.run()
    from fusevm.lang.awk.main import main as awk
    data = tmp_path / "in.txt"
    data.write_text("a 1 x\nb 2 y\nc 3.5 z\n")
    out = io.BytesIO()
    assert awk(['{ n[$1] += $2; s = s $3 } length($0) > 3 { c++ } '
                'END { for (k in n) t += n[k]; printf "%d %s %d\\n", t, s, c }',
                str(data)], stdout=out) == 0
    assert out.getvalue() == b"6 xyz 3\n"
    out = io.BytesIO()
    assert awk(['/[ab]/ { k = substr($3, 1, 1) toupper($1); sub(/x/, "X"); m = m k } '
                '$2 ~ /^[0-9]+$/ && NF == 3 { q = q + $2 * 2 - -1 } '
                'END { n = split("p:q:r", parts, ":"); print m, q, n, index(m, "A") }',
                str(data)], stdout=out) == 0
    assert out.getvalue() == b"xAyB 8 3 2\n"
    monkeypatch.setattr(pyast, "unparse", own)
    assert len(printed) > 100 and any("_st." in text for text in printed)  # (awk's state)


# -- generated trees --------------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "l0", "s1", "x_y", "slots", "vm"])
CONSTANTS = st.one_of(
    st.integers(-10**20, 10**20), st.booleans(), st.none(), st.just(...),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6), st.binary(max_size=4),
    st.complex_numbers(allow_nan=False, max_magnitude=1e6),
    st.tuples(st.integers(-5, 5), st.floats(allow_nan=True)), st.tuples(st.text(max_size=3)))
BINOPS = st.sampled_from([ast.Add, ast.Sub, ast.Mult, ast.MatMult, ast.Div, ast.Mod,
                          ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd,
                          ast.FloorDiv, ast.Pow])
UNARY = st.sampled_from([ast.Invert, ast.Not, ast.UAdd, ast.USub])
CMPOPS = st.sampled_from([ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is,
                          ast.IsNot, ast.In, ast.NotIn])


def name(ctx: type = ast.Load) -> st.SearchStrategy[ast.Name]:
    return NAMES.map(lambda n: ast.Name(n, ctx()))


def _compound(e: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    small = st.lists(e, min_size=0, max_size=3)
    return st.one_of(
        st.builds(lambda a, op, b: ast.BinOp(a, op(), b), e, BINOPS, e),
        st.builds(lambda op, a: ast.UnaryOp(op(), a), UNARY, e),
        st.builds(lambda a, rest: ast.Compare(a, [op() for op, _ in rest], [c for _, c in rest]),
                  e, st.lists(st.tuples(CMPOPS, e), min_size=1, max_size=3)),
        st.builds(lambda op, vs: ast.BoolOp(op(), vs), st.sampled_from([ast.And, ast.Or]),
                  st.lists(e, min_size=2, max_size=5)),
        st.builds(ast.IfExp, e, e, e),
        st.builds(lambda f, args, star, kws: ast.Call(
            f, args + ([ast.Starred(star, ast.Load())] if star is not None else []),
            [ast.keyword(k, v) for k, v in kws]),
            e, small, st.none() | e,
            st.lists(st.tuples(st.none() | st.sampled_from(["key", "n"]), e), max_size=2)),
        st.builds(lambda v, a: ast.Attribute(v, a, ast.Load()), e,
                  st.sampled_from(["real", "append", "x"])),
        st.builds(lambda v, s: ast.Subscript(v, s, ast.Load()), e, st.one_of(
            e, st.builds(lambda es: ast.Tuple(es, ast.Load()), small),
            st.builds(ast.Slice, st.none() | e, st.none() | e, st.none() | e))),
        st.builds(lambda es: ast.Tuple(es, ast.Load()), small),
        st.builds(lambda es: ast.List(es, ast.Load()), small),
        st.builds(lambda kvs: ast.Dict([k for k, _ in kvs], [v for _, v in kvs]),
                  st.lists(st.tuples(st.none() | e, e), max_size=3)),
        st.builds(lambda t, v: ast.NamedExpr(t, v), name(ast.Store), e))


EXPRS = st.recursive(st.one_of(name(), CONSTANTS.map(ast.Constant)), _compound, max_leaves=12)


def _statements(body: st.SearchStrategy[list[Any]]) -> st.SearchStrategy[Any]:
    targets = st.one_of(name(ast.Store),
                        st.lists(name(ast.Store), min_size=1, max_size=3).map(
                            lambda ns: ast.Tuple(ns, ast.Store())),
                        st.builds(lambda v, s: ast.Subscript(v, s, ast.Store()), name(), EXPRS))
    return st.one_of(
        st.builds(lambda ts, v: ast.Assign(ts, v, lineno=1), st.lists(targets, min_size=1,
                                                                       max_size=2), EXPRS),
        st.builds(lambda t, op, v: ast.AugAssign(t, op(), v), name(ast.Store), BINOPS, EXPRS),
        st.builds(ast.Expr, EXPRS),
        st.builds(ast.Return, st.none() | EXPRS),
        st.sampled_from([ast.Pass, ast.Break, ast.Continue]).map(lambda t: t()),
        st.builds(ast.Raise, EXPRS, st.none() | EXPRS),
        st.builds(ast.If, EXPRS, body, st.one_of(st.just([]), body)),
        st.builds(ast.While, EXPRS, body, st.one_of(st.just([]), body)),
        st.builds(lambda t, it, b, e: ast.For(t, it, b, e, lineno=1), targets, EXPRS, body,
                  st.one_of(st.just([]), body)),
        st.builds(lambda b, hs, e, f: ast.Try(b, hs, e, f), body,
                  st.lists(st.builds(lambda t, n, hb: ast.ExceptHandler(t, n, hb),
                                     st.none() | EXPRS, st.none() | st.just("e"), body),
                           min_size=1, max_size=2),
                  st.one_of(st.just([]), body), st.one_of(st.just([]), body)))


STMTS = st.recursive(
    st.lists(st.builds(lambda v: ast.Assign([ast.Name("a", ast.Store())], v, lineno=1), EXPRS),
             min_size=1, max_size=2),
    lambda body: st.lists(_statements(body), min_size=1, max_size=3), max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(EXPRS)
def test_generated_expressions_print_as_ast_prints_them(e: ast.expr) -> None:
    same(e)
    same(ast.Expr(e))


@settings(max_examples=250, deadline=None)
@given(STMTS)
def test_generated_statements_print_as_ast_prints_them(body: list[ast.stmt]) -> None:
    same(body)
    # (a module whose first statement is a string is one with a docstring, which
    # `pyast.unparse` leaves to `ast.unparse` rather than writing itself)
    docstring = (type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant
                 and isinstance(body[0].value.value, str))
    same(ast.Module(body, []), native=not docstring)


def test_a_node_reached_twice_prints_with_the_last_precedence_given_it() -> None:
    # `ast` keeps precedences by node: a node shared by two parents prints as the later
    # one set it.
    x = ast.BinOp(ast.Name("a", ast.Load()), ast.Add(), ast.Name("b", ast.Load()))
    shared = ast.Compare(x, [ast.Lt()], [x])
    same(ast.BinOp(x, ast.Mult(), shared))
    same(ast.BoolOp(ast.And(), [x, shared, x, ast.UnaryOp(ast.Not(), x)]))


def test_floats_and_constants_print_as_ast_prints_them() -> None:
    for value in (math.inf, -math.inf, math.nan, -0.0, 1e300, 3j, complex(math.inf, 1),
                  (1, math.inf), (), ("a",), b"\x00'", "it's \"q\"\n", ..., True, None):
        same(ast.Constant(value))
    same(ast.Attribute(ast.Constant(3), "real", ast.Load()))
    same(ast.Attribute(ast.Constant(True), "real", ast.Load()))
    same(ast.Constant("x", kind="u"))


def test_what_generated_code_does_not_hold_is_printed_by_ast() -> None:
    for source in ('"""doc"""\nx = 1', "f = lambda y: y + 1", "s = f'{a!r:>4}'",
                   "def g(a, *b):\n    return [i for i in b if i]", "x: int = 1",
                   "with a as b:\n    del c", "for i in range(3):\n    yield i",
                   "try:\n    pass\nexcept* E as e:\n    raise", "s = {1, 2}"):
        tree = ast.parse(source)
        with pytest.raises(pyast._Unsupported):
            pyast._Writer().traverse(tree)
        assert pyast.unparse(tree) == ast.unparse(tree)  # (written by `ast` itself)


def test_the_helpers_behave_as_ast_s() -> None:
    source = "x = a + b[1]\nif x:\n    y = -x\nelse:\n    z = f(x, k=2)\n"
    mine, theirs = pyast.parse(source), ast.parse(source)
    assert ast.dump(mine, include_attributes=True) == ast.dump(theirs, include_attributes=True)
    assert [type(n) for n in pyast.walk(mine)] == [type(n) for n in ast.walk(theirs)]
    assert [type(n) for n in pyast.iter_child_nodes(mine.body[1])] == \
        [type(n) for n in ast.iter_child_nodes(theirs.body[1])]
    assert list(pyast.iter_fields(mine.body[0]))[0][0] == "targets"
    new = pyast.copy_location(ast.Name("q", ast.Load()), mine.body[0].value)
    assert (new.lineno, new.col_offset, new.end_col_offset) == (1, 4, 12)
    assert pyast.Name is ast.Name and pyast.AST is ast.AST  # the very classes

    class Rename(pyast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> Any:
            return None if node.id == "y" else ast.Name(node.id.upper(), node.ctx)

        def visit_If(self, node: ast.If) -> Any:
            self.generic_visit(node)
            return [node, ast.Pass()]

    class RenameAst(ast.NodeTransformer):
        visit_Name = Rename.visit_Name
        visit_If = Rename.visit_If
    a, b = Rename().visit(mine), RenameAst().visit(theirs)
    assert ast.dump(a) == ast.dump(b)

    seen: list[str] = []

    class Names(pyast.NodeVisitor):
        def visit_Name(self, node: ast.Name) -> None:
            seen.append(node.id)
    Names().visit(pyast.parse("f(a, b.c, [d])"))
    assert seen == ["f", "a", "b", "d"]


def test_loading_the_compiler_loads_neither_ast_nor_its_imports(tmp_path: Path) -> None:
    # What `ast` would cost a one-shot run that compiles (about 7 ms), and the other
    # modules the compiler's load could pull in, stay unloaded through a compile.
    prog = tmp_path / "loop.fasm"
    prog.write_text("LoadInt 0\nSetSlot 0\nloop:\nGetSlot 0\nLoadInt 3000\nNumLt\n"
                    "JumpIfFalse done\nPreIncSlotVoid 0\nJump loop\ndone:\nGetSlot 0\n"
                    "PrintLn 1\n")
    data = tmp_path / "in.txt"
    data.write_text("".join(f"r {i} {i / 2}\n" for i in range(200)))
    env = {**os.environ, "PYTHONPATH": str(SRC), "FUSEVM_JIT_CACHE_DIR": "off",
           "FUSEVM_BASELINE": "eager"}
    # A core program, and an awk program whose ops' bodies hold `try` and `for`.
    for argv, expected in ((["run", str(prog)], "3000"),
                           (["awk", "{ s += $3; n = n length($1) } END { print s, n }",
                             str(data)], "9950 " + "1" * 200)):
        script = ("import sys\nfrom fusevm.cli import main\n"
                  f"assert main({argv!r}) == 0\nprint(sorted(sys.modules))")
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True,
                              text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        out, modules = proc.stdout.split("\n", 1)
        assert out == expected
        loaded = set(ast.literal_eval(modules))
        assert "fusevm.baseline.compiler" in loaded
        assert not {"ast", "enum", "contextlib", "functools", "collections", "weakref",
                    "types", "typing", "inspect", "operator"} & loaded, argv
