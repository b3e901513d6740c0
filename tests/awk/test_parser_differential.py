"""Random expressions, parsed here and evaluated with the runtime, must agree with gawk.

Trees are printed with only the parentheses POSIX precedence requires, so a parser that
groups differently from gawk computes a different value. A small evaluator over the AST
(side-effect free expressions only) stands in for the compiler, which does not exist yet.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import pytest

from fusevm.lang.awk import ast
from fusevm.lang.awk.format import sprintf, to_str
from fusevm.lang.awk.regex import compile_ere
from fusevm.lang.awk.runtime import array_key, awk_pow, relop
from fusevm.lang.awk.values import UNINIT, AwkValue, make_strnum, to_bool, to_num

from .support import gawk_strings, needs_gawk, parse_expr

# -- random trees, printed with minimal parentheses ------------------------------------

# Levels, tightest first: 0 primary, 1 ^, 2 unary, 3 * , 4 + -, 5 concatenation,
# 6 relational, 7 ~ !~, 8 in, 9 &&, 10 ||, 11 ?:
PRIMARIES = ["0", "1", "2", "10", "0.5", '"a"', '"10"', '" 5"', '""', "x", "s", "t", "u",
             "$1", "$2", "$3", "/x/", "/^3/"]  # fmt: skip


@dataclass
class Printed:
    text: str
    level: int


def _wrap(child: Printed, max_level: int) -> str:
    return child.text if child.level <= max_level else f"({child.text})"


def _concat_right(child: Printed) -> str:
    text = _wrap(child, 4)
    # a leading sign would make the operator binary, a leading `/` a division
    return f"({text})" if text[0] in "+-/" else text


def random_expr(rng: random.Random, depth: int) -> Printed:
    if depth == 0 or rng.random() < 0.2:
        return Printed(rng.choice(PRIMARIES), 0)
    kind = rng.randrange(11)

    def sub() -> Printed:
        return random_expr(rng, depth - 1)

    if kind == 0:
        base, exponent = sub(), sub()
        right = exponent.text if exponent.level <= 1 else f"({exponent.text})"
        if exponent.text.startswith("!"):
            right = f"({exponent.text})"
        return Printed(f"{_wrap(base, 0)}^{right}", 1)
    if kind == 1:
        op = rng.choice(["-", "+", "!"])
        operand = _wrap(sub(), 2)
        return Printed(f"{op} {operand}", 2)
    if kind == 2:
        return Printed(f"{_wrap(sub(), 3)} * {_wrap(sub(), 2)}", 3)
    if kind == 3:
        op = rng.choice(["+", "-"])
        return Printed(f"{_wrap(sub(), 4)} {op} {_wrap(sub(), 3)}", 4)
    if kind == 4:
        return Printed(f"{_wrap(sub(), 5)} {_concat_right(sub())}", 5)
    if kind == 5:
        op = rng.choice(["<", "<=", "==", "!=", ">", ">="])
        return Printed(f"{_wrap(sub(), 5)} {op} {_wrap(sub(), 5)}", 6)
    if kind == 6:
        op = rng.choice(["~", "!~"])
        right = rng.choice(["/x/", "/^[0-9]+$/", '"a"', "s", "/1/"])
        return Printed(f"{_wrap(sub(), 7)} {op} {right}", 7)
    if kind == 7:
        return Printed(f"{_wrap(sub(), 8)} in arr", 8)
    if kind == 8:
        return Printed(f"{_wrap(sub(), 9)} && {_wrap(sub(), 8)}", 9)
    if kind == 9:
        return Printed(f"{_wrap(sub(), 10)} || {_wrap(sub(), 9)}", 10)
    return Printed(f"{_wrap(sub(), 10)} ? {_wrap(sub(), 11)} : {_wrap(sub(), 11)}", 11)


# -- a side-effect free evaluator over the AST ----------------------------------------------

PRELUDE = 'x = 5; s = "10"; t = "abc"; $0 = "3 x 10"; arr[1]; arr["a"]; arr[""]'
RECORD = "3 x 10"
FIELDS: list[AwkValue] = [make_strnum(f) for f in [RECORD, *RECORD.split()]]
GLOBALS: dict[str, AwkValue] = {"x": 5.0, "s": "10", "t": "abc"}
ARRAY = {"1", "a", ""}


class _Overflow(Exception):
    """Raised by the evaluator when a value becomes infinite."""


def evaluate(node: ast.Expr) -> AwkValue:
    if isinstance(node, ast.Num):
        return node.value
    if isinstance(node, ast.Str):
        return node.value
    if isinstance(node, ast.Var):
        return GLOBALS.get(node.name, UNINIT)
    if isinstance(node, ast.Field):
        index = int(to_num(evaluate(node.index)))
        return FIELDS[index] if index < len(FIELDS) else UNINIT
    if isinstance(node, ast.Group):
        return evaluate(node.expr)
    if isinstance(node, ast.RecordMatch):
        return float(compile_ere(node.regex.source).test(RECORD))
    if isinstance(node, ast.Unary):
        value = evaluate(node.operand)
        if node.op == "!":
            return float(not to_bool(value))
        return -to_num(value) if node.op == "-" else to_num(value)
    if isinstance(node, ast.Binary):
        left, right = to_num(evaluate(node.left)), to_num(evaluate(node.right))
        if node.op == "^":
            result = awk_pow(left, right)
        else:
            result = {"+": left + right, "-": left - right, "*": left * right}[node.op]
        if math.isinf(result):
            # gawk compares a string against an infinity inconsistently with "+inf",
            # so a case that makes one is not a parse test
            raise _Overflow
        return result
    if isinstance(node, ast.Concat):
        return to_str(evaluate(node.left)) + to_str(evaluate(node.right))
    if isinstance(node, ast.Compare):
        return float(relop(node.op, evaluate(node.left), evaluate(node.right)))
    if isinstance(node, ast.Match):
        subject = to_str(evaluate(node.subject))
        if isinstance(node.regex, ast.Regex):
            ere = node.regex.source
        else:
            ere = to_str(evaluate(node.regex))
        return float(compile_ere(ere).test(subject) != node.negated)
    if isinstance(node, ast.In):
        return float(array_key([evaluate(s) for s in node.subscripts], "\x1c") in ARRAY)
    if isinstance(node, ast.Logical):
        left_true = to_bool(evaluate(node.left))
        if node.op == "&&":
            return float(left_true and to_bool(evaluate(node.right)))
        return float(left_true or to_bool(evaluate(node.right)))
    if isinstance(node, ast.Cond):
        return evaluate(node.if_true if to_bool(evaluate(node.test)) else node.if_false)
    raise TypeError(node)


def result_text(source: str) -> str | None:
    """The printed value, or None if it overflowed on the way."""
    expr = parse_expr(f"r = {source}")
    assert isinstance(expr, ast.Assign)
    try:
        value = evaluate(expr.value)
    except _Overflow:
        return None
    if isinstance(value, float) and math.isnan(value):
        return "nan"  # NaN's sign differs between C's pow and Python's; not a parse matter
    return sprintf("%s", [value])


def test_evaluator_sanity() -> None:
    assert result_text('1 " " -1') == "1-1"
    assert result_text("2^3^2") == "512"
    assert result_text("-2^2") == "-4"
    assert result_text("$1 < $3") == "1"
    assert result_text('s < "9"') == "1"
    assert result_text("/x/ + 1") == "2"


@pytest.mark.process
@needs_gawk
def test_random_expressions_agree_with_gawk() -> None:
    rng = random.Random(7)
    sources = [random_expr(rng, 5).text for _ in range(2500)]
    got = gawk_strings([f"(r = {s}) == r ? r : r" for s in sources], prelude=PRELUDE, posix=True)
    mismatches = []
    for source, want in zip(sources, got):
        if "nan" in want:
            want = "nan"
        mine = result_text(source)
        if mine is not None and mine != want:
            mismatches.append((source, want, mine))
    assert mismatches == []
