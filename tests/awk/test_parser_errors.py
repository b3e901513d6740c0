"""Programs the parser must reject, with onetrue-awk style messages and positions.

Each rejection here is shared by both reference awks (onetrue-awk and gawk --posix).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusevm.lang.awk.errors import AwkSyntaxError
from fusevm.lang.awk.parser import parse

from .support import GAWK, needs_gawk, run_gawk

FUZZ_VOCABULARY = [
    "BEGIN", "END", "{", "}", "(", ")", "[", "]", ";", "\n", ",", "+", "-", "*", "/", "%", "^",
    "!", ">", "<", "|", "?", ":", "~", "!~", "$", "=", "+=", "==", "<=", "++", "--", ">>", "&&",
    "||", "x", "a", "f(", "1", '"s"', "/re/", "getline", "print", "printf", "if", "else",
    "while", "for", "do", "in", "delete", "next", "exit", "return", "function", "length",
    "substr(", "split(", "sub(", "break", "continue", "#c\n", "\\\n",
]  # fmt: skip
FUZZ_FRAMES = ["{}", "BEGIN {{ {} }}", "{{ while (1) {{ {} }} }}", "function h(p) {{ {} }}"]

REJECTED = [
    ("BEGIN { print 1 ?\n2 : 3 }", "syntax error"),
    ("BEGIN { x = 1 +\n2 }", "syntax error"),
    ("BEGIN { if (1) { x = 1 }; else x = 2 }", "syntax error"),
    ("BEGIN { print 1 > 2 ? 3 : 4 }", "expected ';' or newline"),
    ("BEGIN { print (1 == 1 == 1) }", "non-associative"),
    ("BEGIN\n{ print 1 }", "BEGIN blocks must have an action part"),
    ("END", "END blocks must have an action part"),
    ("BEGIN { x = 2--1 }", "needs a variable"),
    ("BEGIN { break }", "break is not allowed outside a loop"),
    ("BEGIN { if (1) continue }", "continue is not allowed outside a loop"),
    ("BEGIN { return 1 }", "return used outside function context"),
    ("BEGIN { next }", "next used in BEGIN action"),
    ("END { nextfile }", "nextfile used in END action"),
    ("function f(a, a) { }", "duplicate parameter a"),
    ("function f(f) { }", "cannot use own name as parameter"),
    ("function f(a) { }\nfunction f(b) { }", "function f redefined"),
    ("function f(a) { }\nBEGIN { f = 1 }", "function f used as a variable"),
    ("function f(a) { return a }\nBEGIN { print f (1) }", "function f used as a variable"),
    ("function length(a) { }", "cannot redefine builtin"),
    ("BEGIN { print 1", "missing '}'"),
    ("BEGIN { x = (1, 2) }", "expected 'in'"),
    ("BEGIN { delete }", "expected array name"),
    ("BEGIN { for (k in ) x }", "syntax error"),
    ("x y z {", "missing '}'"),
    ("{ print } }", "syntax error"),
    ('BEGIN { s = "abc }', "non-terminated string"),
]


@pytest.mark.parametrize(("source", "detail"), REJECTED, ids=[s for s, _ in REJECTED])
def test_rejected(source: str, detail: str) -> None:
    with pytest.raises(AwkSyntaxError, match=detail):
        parse(source)


@pytest.mark.process
@needs_gawk
def test_gawk_rejects_them_too() -> None:
    import subprocess

    assert GAWK is not None
    for source, _ in REJECTED:
        result = subprocess.run(
            [GAWK, "--posix", source], capture_output=True, text=True, input="", timeout=10
        )
        assert result.returncode != 0, source


def test_message_names_line_and_marks_the_token() -> None:
    with pytest.raises(AwkSyntaxError) as info:
        parse("BEGIN {\n  x = 1\n  y = * 2\n}")
    err = info.value
    assert (err.line, err.col) == (3, 7)
    assert err.context == "  y =  >>> * <<<  2"
    assert str(err).startswith("syntax error at source line 3: syntax error, found '*'")
    assert "context is" in str(err)


def test_error_at_end_of_input() -> None:
    with pytest.raises(AwkSyntaxError, match="found end of file") as info:
        parse("BEGIN { x = ")
    assert info.value.line == 1


def test_next_is_allowed_in_functions_and_rules() -> None:
    parse("function f() { next }\n{ f(); next }")


def test_break_inside_nested_loop_body_block() -> None:
    parse("BEGIN { for (;;) { while (1) { if (x) break }; break } }")


def test_calls_to_undefined_functions_parse() -> None:
    # both reference awks fail only when such a call runs
    parse("BEGIN { if (0) nosuch(1) }")


@pytest.mark.process
@needs_gawk
def test_accepted_quirks_run_under_gawk() -> None:
    """Spot-check that programs this parser accepts are accepted by gawk --posix too."""
    out = run_gawk('BEGIN { x = 1; print x ++ 2; print length 1; print 1 " " -1; print (1)(2) }')
    assert out == "12\n01\n1-1\n12\n"


def test_absurd_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(AwkSyntaxError, match="nested too deeply"):
        parse("BEGIN { x = " + "(" * 5000 + "1" + ")" * 5000 + " }")


def test_moderate_nesting_parses() -> None:
    parse("BEGIN { x = " + "(" * 40 + "1" + ")" * 40 + " }")


@given(st.lists(st.sampled_from(FUZZ_VOCABULARY), max_size=25), st.sampled_from(FUZZ_FRAMES))
def test_token_soup_parses_or_raises_syntax_error(words: list[str], frame: str) -> None:
    try:
        parse(frame.format(" ".join(words)))
    except AwkSyntaxError:
        pass
