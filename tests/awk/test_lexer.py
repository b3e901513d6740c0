"""The awk lexer: token kinds and positions, regex vs division, newlines, escapes, numbers."""

from __future__ import annotations

import pytest

from fusevm.lang.awk.errors import AwkSyntaxError
from fusevm.lang.awk.lexer import Lexer, Tok, Token, decode_escape, tokenize


def kinds(source: str) -> list[Tok]:
    return [t.kind for t in tokenize(source)][:-1]  # drop EOF


def texts(source: str) -> list[str]:
    return [t.text for t in tokenize(source)][:-1]


def only(source: str) -> Token:
    tokens = tokenize(source)
    assert len(tokens) == 2, tokens
    return tokens[0]


# -- positions -------------------------------------------------------------------


def test_tokens_carry_line_and_column() -> None:
    tokens = tokenize('BEGIN {\n  x = "a"\n}')
    where = [(t.kind, t.line, t.col) for t in tokens]
    assert where == [
        (Tok.BEGIN, 1, 1),
        (Tok.LBRACE, 1, 7),
        (Tok.NAME, 2, 3),
        (Tok.ASSIGN, 2, 5),
        (Tok.STRING, 2, 7),
        (Tok.NEWLINE, 2, 10),
        (Tok.RBRACE, 3, 1),
        (Tok.EOF, 3, 2),
    ]


def test_offsets_index_the_source() -> None:
    source = "x += 10"
    for tok in tokenize(source)[:-1]:
        assert source[tok.offset : tok.end] == tok.text


# -- regex versus division ---------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    ["/re/", "x ~ /re/", "(/re/)", "!/re/", "a && /re/", "a, /re/", "{ /re/ }", "print /re/"],
)
def test_slash_where_an_operand_is_expected_opens_an_ere(source: str) -> None:
    assert Tok.ERE in kinds(source)
    assert Tok.DIV not in kinds(source)


@pytest.mark.parametrize(
    "source", ["a / b", "a[1] / 2", "(a) / 2", "3 / 4", "length / 2", "x++ / 2"]
)
def test_slash_after_an_operand_divides(source: str) -> None:
    assert Tok.DIV in kinds(source)
    assert Tok.ERE not in kinds(source)


def test_division_chain_is_not_a_regex() -> None:
    assert kinds("x /2/ 1") == [Tok.NAME, Tok.DIV, Tok.NUMBER, Tok.DIV, Tok.NUMBER]


def test_slash_equals_after_operand_is_divide_assign() -> None:
    assert kinds("x /= 2") == [Tok.NAME, Tok.DIV_ASSIGN, Tok.NUMBER]


def test_slash_equals_in_operand_position_is_a_regex() -> None:
    tok = tokenize("$0 ~ /=/")[3]
    assert (tok.kind, tok.text) == (Tok.ERE, "=")


def test_regex_keeps_escapes_but_unescapes_slash() -> None:
    assert only(r"/a\/b\.c\n/").text == r"a/b\.c\n"


def test_slash_inside_bracket_does_not_end_the_regex() -> None:
    assert only("/[/]x/").text == "[/]x"
    assert only("/[]/]/").text == "[]/]"
    assert only("/[^]/]/").text == "[^]/]"
    assert only("/[[:alpha:]/]/").text == "[[:alpha:]/]"


def test_rescan_turns_a_division_token_into_a_regex() -> None:
    lexer = Lexer("/= 1/ x")
    lexer.prev = Tok.NAME  # as if an operand preceded, so the lexer says "divide"
    slash = lexer.next_token()
    assert slash.kind is Tok.DIV_ASSIGN
    ere = lexer.read_regex(slash)
    assert (ere.kind, ere.text, ere.col) == (Tok.ERE, "= 1", 1)
    assert lexer.next_token().kind is Tok.NAME


@pytest.mark.parametrize(
    ("source", "detail"),
    [("/abc", "non-terminated regular expression"), ("/a\nb/", "newline in regular expression")],
)
def test_bad_regex_literals(source: str, detail: str) -> None:
    with pytest.raises(AwkSyntaxError, match=detail):
        tokenize(source)


# -- newlines ----------------------------------------------------------------------


@pytest.mark.parametrize("opener", ["{", "&&", "||", ",", "do", "else", ";"])
def test_newlines_after_continuation_tokens_are_skipped(opener: str) -> None:
    assert Tok.NEWLINE not in kinds(f"a {opener}\n\n  # note\n b")


def test_newline_elsewhere_is_a_terminator() -> None:
    assert kinds("a\nb") == [Tok.NAME, Tok.NEWLINE, Tok.NAME]


def test_backslash_newline_continues_the_line() -> None:
    assert kinds("a \\\n b") == [Tok.NAME, Tok.NAME]
    assert kinds("a \\\r\n b") == [Tok.NAME, Tok.NAME]
    assert tokenize("a \\\n b")[1].line == 2


def test_comment_runs_to_end_of_line_and_keeps_the_newline() -> None:
    assert kinds("a # c / d\nb") == [Tok.NAME, Tok.NEWLINE, Tok.NAME]


def test_stray_backslash_is_an_error() -> None:
    with pytest.raises(AwkSyntaxError, match="backslash"):
        tokenize("a \\ b")


# -- names and keywords --------------------------------------------------------------


def test_name_immediately_followed_by_paren_is_a_function_name() -> None:
    assert kinds("foo(1)")[0] is Tok.FUNC_NAME
    assert kinds("foo (1)")[0] is Tok.NAME


def test_builtins_are_builtin_tokens_with_or_without_paren() -> None:
    assert kinds("length") == [Tok.BUILTIN]
    assert kinds("substr (s, 1)")[0] is Tok.BUILTIN


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("BEGIN", Tok.BEGIN), ("END", Tok.END), ("function", Tok.FUNCTION),
        ("func", Tok.FUNCTION), ("getline", Tok.GETLINE), ("in", Tok.IN),
        ("nextfile", Tok.NEXTFILE), ("delete", Tok.DELETE), ("printf", Tok.PRINTF),
    ],
)  # fmt: skip
def test_keywords(word: str, kind: Tok) -> None:
    assert only(word).kind is kind


def test_keywords_are_case_sensitive() -> None:
    assert only("begin").kind is Tok.NAME


# -- operators -------------------------------------------------------------------------


def test_longest_operator_wins() -> None:
    assert kinds("a **= b ** c ^= d") == [
        Tok.NAME, Tok.POW_ASSIGN, Tok.NAME, Tok.POW, Tok.NAME, Tok.POW_ASSIGN, Tok.NAME,
    ]  # fmt: skip
    assert kinds("a >> b !~ c != d") == [
        Tok.NAME, Tok.APPEND, Tok.NAME, Tok.NOMATCH, Tok.NAME, Tok.NE, Tok.NAME,
    ]  # fmt: skip


def test_minus_minus_is_one_token() -> None:
    assert kinds("2--1") == [Tok.NUMBER, Tok.DECR, Tok.NUMBER]


def test_single_ampersand_is_an_error() -> None:
    with pytest.raises(AwkSyntaxError, match="unexpected character '&'"):
        tokenize("a & b")


# -- numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "value"),
    [("0", 0.0), ("42", 42.0), ("3.25", 3.25), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0),
     ("1E-2", 0.01), ("2.5e+2", 250.0), ("011", 11.0)],
)  # fmt: skip
def test_decimal_numbers(source: str, value: float) -> None:
    tok = only(source)
    assert (tok.kind, tok.number, tok.text) == (Tok.NUMBER, value, source)


def test_hex_is_not_a_number_literal() -> None:
    assert texts("0x1A") == ["0", "x1A"]
    assert kinds("0x1A") == [Tok.NUMBER, Tok.NAME]


def test_exponent_without_digits_is_not_consumed() -> None:
    assert texts("1e") == ["1", "e"]
    assert texts("1e+") == ["1", "e", "+"]


def test_second_dot_starts_a_new_number() -> None:
    assert texts("1.2.3") == ["1.2", ".3"]


# -- strings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "value"),
    [
        (r'"a\"b"', 'a"b'), (r'"a\\b"', "a\\b"), (r'"a\/b"', "a/b"), (r'"\n\t\r"', "\n\t\r"),
        (r'"\b\f\v\a"', "\b\f\v\a"), (r'"\101\102"', "AB"), (r'"\0"', "\0"), (r'"\1234"', "S4"),
        (r'"\q"', "q"), ('"x\\\ny"', "xy"), ('""', ""), (r'"\x41\x4142\x1."', "AA42\x01."),
        (r'"\xg"', "xg"), (r'"\xFF"', "\xff"),
    ],
)  # fmt: skip
def test_string_escapes(source: str, value: str) -> None:
    tok = only(source)
    assert (tok.kind, tok.text) == (Tok.STRING, value)


def test_decode_escape_reports_where_it_stopped() -> None:
    assert decode_escape(r"\101x", 0) == ("A", 4)
    assert decode_escape(r"\78", 0) == ("\x07", 2)
    assert decode_escape("\\", 0) == ("\\", 1)


@pytest.mark.parametrize(
    ("source", "detail"),
    [('"abc', "non-terminated string"), ('"a\nb"', "newline in string")],
)
def test_bad_strings(source: str, detail: str) -> None:
    with pytest.raises(AwkSyntaxError, match=detail) as info:
        tokenize(source)
    assert (info.value.line, info.value.col) == (1, 1)


def test_error_context_marks_the_token() -> None:
    with pytest.raises(AwkSyntaxError) as info:
        tokenize("x = 1 @ 2")
    err = info.value
    assert (err.line, err.col) == (1, 7)
    assert err.context == "x = 1  >>> @ <<<  2"
    assert str(err).startswith("syntax error at source line 1: unexpected character '@'")
