"""Test support for the awk frontend: running the reference `gawk --posix` in batches.

Differential tests evaluate many awk expressions in one gawk process (a separate
process per case would blow the suite's time budget). They are marked `process` and
skip when gawk is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence

import pytest

from fusevm.lang.awk import ast
from fusevm.lang.awk.parser import parse

GAWK = shutil.which("gawk")

needs_gawk = pytest.mark.skipif(GAWK is None, reason="gawk is not installed")

# Field/record separator for batched results: an ASCII control character no test uses.
SEP = "\x1e"


def awk_string(text: str) -> str:
    """`text` as an awk string literal."""
    out = ['"']
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def run_gawk(program: str, stdin: str = "", *, posix: bool = True) -> str:
    """Run gawk on `program` with `stdin`; returns stdout (UTF-8, C.UTF-8 locale)."""
    assert GAWK is not None
    with tempfile.NamedTemporaryFile("w", suffix=".awk", encoding="utf-8") as prog:
        prog.write(program)
        prog.flush()
        argv = [GAWK, "--posix", "-f", prog.name] if posix else [GAWK, "-f", prog.name]
        env = dict(os.environ, LC_ALL="C.UTF-8")
        result = subprocess.run(
            argv,
            input=stdin.encode("utf-8"),
            capture_output=True,
            env=env,
            timeout=60,
            check=True,
        )
    return result.stdout.decode("utf-8", "surrogateescape")


def gawk_strings(exprs: Sequence[str], *, prelude: str = "", posix: bool = True) -> list[str]:
    """The string value of each awk expression, all evaluated in one BEGIN of one gawk."""
    body = "".join(f'printf "%s{SEP}", ({expr});\n' for expr in exprs)
    out = run_gawk(f"BEGIN {{\n{prelude}\n{body}}}", posix=posix)
    results = out.split(SEP)
    assert results[-1] == "", out[-200:]
    assert len(results) == len(exprs) + 1
    return results[:-1]


# -- AST rendering -------------------------------------------------------------------


def show(node: ast.Node | None) -> str:
    """A compact prefix rendering of an expression, making grouping visible."""
    if node is None:
        return "_"
    if isinstance(node, ast.Num):
        return str(int(node.value)) if node.value.is_integer() else repr(node.value)
    if isinstance(node, ast.Str):
        return '"' + node.value + '"'
    if isinstance(node, ast.Regex):
        return "/" + node.source + "/"
    if isinstance(node, ast.RecordMatch):
        return f"($0~ {show(node.regex)})"
    if isinstance(node, ast.Field):
        return f"($ {show(node.index)})"
    if isinstance(node, ast.Var):
        return node.name
    if isinstance(node, ast.Index):
        return f"{node.name}[{','.join(show(s) for s in node.subscripts)}]"
    if isinstance(node, ast.In):
        return f"(in ({','.join(show(s) for s in node.subscripts)}) {node.array})"
    if isinstance(node, ast.Group):
        return f"(g {show(node.expr)})"
    if isinstance(node, ast.Unary):
        return f"({node.op} {show(node.operand)})"
    if isinstance(node, ast.Binary | ast.Compare | ast.Logical):
        return f"({node.op} {show(node.left)} {show(node.right)})"
    if isinstance(node, ast.Match):
        return f"({'!~' if node.negated else '~'} {show(node.subject)} {show(node.regex)})"
    if isinstance(node, ast.Concat):
        return f"(cat {show(node.left)} {show(node.right)})"
    if isinstance(node, ast.Cond):
        return f"(? {show(node.test)} {show(node.if_true)} {show(node.if_false)})"
    if isinstance(node, ast.Assign):
        return f"({node.op} {show(node.target)} {show(node.value)})"
    if isinstance(node, ast.IncDec):
        if node.prefix:
            return f"({node.op}pre {show(node.target)})"
        return f"(post{node.op} {show(node.target)})"
    if isinstance(node, ast.Call):
        return f"(call {node.name}{''.join(' ' + show(a) for a in node.args)})"
    if isinstance(node, ast.Builtin):
        return f"({node.name}{''.join(' ' + show(a) for a in node.args)})"
    if isinstance(node, ast.Getline):
        return f"(getline-{node.kind} {show(node.target)} {show(node.source)})"
    raise TypeError(f"not an expression: {node!r}")


def parse_expr(source: str) -> ast.Expr:
    """The expression of the single expression statement in `BEGIN { source }`."""
    program = parse(f"BEGIN {{ {source} }}")
    (item,) = program.items
    assert isinstance(item, ast.BeginAction)
    (stmt,) = item.body.body
    assert isinstance(stmt, ast.ExprStmt), stmt
    return stmt.expr


def parse_stmt(source: str) -> ast.Stmt:
    """The single statement of `BEGIN { source }`."""
    program = parse(f"BEGIN {{ {source} }}")
    (item,) = program.items
    assert isinstance(item, ast.BeginAction)
    (stmt,) = item.body.body
    return stmt
