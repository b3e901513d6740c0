"""EREs: translation to Python, matching, match(), sub/gsub, split by regex."""

from __future__ import annotations

import time

import pytest

from fusevm.lang.awk.errors import AwkRegexError
from fusevm.lang.awk.regex import (
    AwkRegex,
    compile_ere,
    ere_to_re2,
    match,
    split_on_regex,
    subst,
)

from .awkrun import awk
from .support import awk_string, gawk_strings, needs_gawk


def matches(ere: str, text: str) -> bool:
    return compile_ere(ere).test(text)


# -- translation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ere", "pattern"),
    [
        ("abc", "abc"),
        ("a.c", "a(?s:.)c"),
        ("^a$", "\\Aa\\z"),
        ("(a|b)+", "(?:a|b)+"),
        ("a**", "(?:a*)*"),
        ("a?*", "(?:a?)*"),
        ("a+?", "(?:a+)?"),
        ("a{2,}", "a{2,}"),
        ("a{,3}", "a{0,3}"),
        ("a{x", "a\\x{7b}x"),
        ("{", "\\x{7b}"),
        ("a)", "a\\x{29}"),
        ("[]a]", "[\\x{5d}a]"),
        ("[^]a-]", "[^\\x{5d}a\\x{2d}]"),
        ("[[:digit:]x]", "[0-9x]"),
        ("[a\\]]", "[a\\x{5d}]"),
        ("\\.\\$\\y", "\\x{2e}\\x{24}y"),
        ("\\101\\t", "A\\x{9}"),
        ("^*", "\\A\\x{2a}"),
        ("[z-a]", "(?:\\b\\B)"),  # (matches nothing: one atom a quantifier takes whole)
    ],
)
def test_translation(ere: str, pattern: str) -> None:
    assert ere_to_re2(ere) == pattern


@pytest.mark.parametrize(
    ("ere", "detail"),
    [
        ("*a", "Invalid preceding regular expression"),
        ("a|*b", "Invalid preceding regular expression"),
        ("(*a)", "Invalid preceding regular expression"),
        ("(a", "Unmatched \\("),
        ("[a", "Unmatched \\["),
        ("[[:alpha:]", "Unmatched \\["),
        ("[[:foo:]]", "Invalid character class name"),
        ("a{2,1}", "Invalid content"),
    ],
)
def test_invalid_eres(ere: str, detail: str) -> None:
    with pytest.raises(AwkRegexError, match=detail):
        ere_to_re2(ere)


@pytest.mark.parametrize("ere", ["[[]", "[a&&b]", "[a||b]", "[~~]", "[--/]", "[[:punct:]]",
                                 "[\\\\-]", "[(?:]", "[(?i)]a", "\\(?P<x>", "a{1,}?"])
def test_no_input_character_escapes_the_translation(ere: str) -> None:
    """RE2 syntax in the input is data: every such ERE compiles and means what awk says."""
    compile_ere(ere)


# -- matching --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ere", "text", "result"),
    [
        ("a.c", "a\nc", True),  # `.` matches newline
        ("[^x]", "\n", True),
        ("^b", "a\nb", False),  # anchors only at the ends of the string
        ("a$", "a\nb", False),
        ("a$", "b\na", True),
        ("a$", "a\n", False),
        ("x[[:space:]]y", "x\ty", True),
        ("[[:upper:]][[:lower:]]+", "Hello", True),
        ("[[:alpha:]]", "é", False),  # classes are the C locale's
        ("[[:punct:]]", "\\", True),
        ("[[:xdigit:]]+$", "BEEF", True),
        ("[[:cntrl:]]", "\x7f", True),
        ("[[:blank:]]", "\n", False),
        ("[a-]", "-", True),
        ("[-a]", "-", True),
        ("[]a]", "]", True),
        ("[^]a]", "]", False),
        ("[\\/]", "/", True),
        ("[\\n]", "n", False),
        ("[[.a.]]", "a", True),
        ("[[=b=]]", "b", True),
        ("a{2}", "aa", True),
        ("a{2}", "a{2}", False),
        ("a{,2}", "a{,2}", True),
        ("x{2,3}y", "xxy", True),
        ("a{x", "a{x", True),
        ("()", "", True),
        ("a||b", "x", True),
        ("a)", "a)", True),
        ("\\y", "y", True),
        ("[z-a]x", "x", False),  # a reversed range matches nothing
        ("x[z-a]?y", "xy", True),  # ... and made optional, the empty string (onetrue-awk)
        ("[\\x30-\\x32\\x35-6\\71]", "9", True),  # hex and octal escapes in brackets
        ("[\\x30-\\x32\\x35-6\\71]", "3", False),
        ("\\x41+", "AA", True),
    ],
)
def test_matching(ere: str, text: str, result: bool) -> None:
    assert matches(ere, text) is result


def test_compile_is_cached() -> None:
    assert compile_ere("a+b") is compile_ere("a+b")
    assert isinstance(compile_ere("a"), AwkRegex)
    assert "a+b" in repr(compile_ere("a+b"))


@pytest.mark.parametrize(
    ("ere", "text", "span"),
    [
        ("ab|abcd", "xabcd", (2, 4)),  # leftmost-longest, not leftmost-first
        ("(a|ab)(c|bcd)", "abcd", (1, 4)),
        ("foo|foobar", "foobarx", (1, 6)),
        ("x*", "abc", (1, 0)),
        ("b+", "abbbc", (2, 3)),
        ("z", "abc", (0, -1)),
        ("(a|ab)$", "ab", (1, 2)),
        ("c(a|b$)", "cab", (1, 2)),
    ],
)
def test_match_gives_rstart_and_rlength(ere: str, text: str, span: tuple[int, int]) -> None:
    assert match(text, ere) == span
    assert match(text, compile_ere(ere)) == span


def test_search_keeps_anchor_at_string_start() -> None:
    regex = compile_ere("^a")
    assert regex.search("aaa", 0) == (0, 1)
    assert regex.search("aaa", 1) is None


# -- sub and gsub --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ere", "repl", "text", "result"),
    [
        ("x*", "-", "abc", ("-a-b-c-", 4)),
        ("b*", "-", "abc", ("-a-c-", 3)),
        ("", "-", "abc", ("-a-b-c-", 4)),
        ("x*", "-", "", ("-", 1)),
        ("l", "[&]", "hello", ("he[l][l]o", 2)),
        ("l", "\\&", "hello", ("he&&o", 2)),
        ("a", "\\\\&", "a", ("\\a", 1)),
        ("a", "\\\\\\&", "a", ("\\&", 1)),
        ("a", "\\q", "a", ("\\q", 1)),
        ("a", "\\\\q", "a", ("\\q", 1)),
        ("a", "x\\\\y", "a", ("x\\y", 1)),
        ("a", "\\", "a", ("\\", 1)),
        ("^a", "b", "aaa", ("baa", 1)),
        ("$", "X", "abab", ("ababX", 1)),
        ("a|ab", "<&>", "abab", ("<ab><ab>", 2)),
        ("z", "y", "abc", ("abc", 0)),
    ],
)
def test_gsub(ere: str, repl: str, text: str, result: tuple[str, int]) -> None:
    assert subst(ere, repl, text) == result


def test_sub_replaces_only_the_first_match() -> None:
    assert subst("o", "0", "foo boo", global_=False) == ("f0o boo", 1)
    assert subst("x*", "-", "abc", global_=False) == ("-abc", 1)
    assert subst("z", "-", "abc", global_=False) == ("abc", 0)


# -- split by regex -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ere", "fields"),
    [
        ("a1b22c", "[0-9]+", ["a", "b", "c"]),
        ("1a2", "[0-9]*", ["", "a", ""]),
        ("a.b.c", ".", ["", "", "", "", "", ""]),
        ("abc", "x*", ["abc"]),
        ("", ",", []),
        (":a:", ":", ["", "a", ""]),
    ],
)
def test_split_on_regex(text: str, ere: str, fields: list[str]) -> None:
    assert split_on_regex(text, ere) == fields


# -- differential against gawk --posix -----------------------------------------------------------

EREs = ["a", "a*", "a+", "a?", "ab|abcd", "(a|ab)(c|bcd)", "x*", "b*", "^a", "a$", "^$", "$",
        ".", "a.c", "[abc]", "[^abc]", "[]a]", "[^]a]", "[a-c]+", "[a-]", "[-a]",
        "[[:alpha:]]+", "[[:digit:]]+", "[[:space:]]", "[[:punct:]]+", "[[:upper:][:digit:]]+",
        "[[:alnum:]_]+", "a{2}", "a{2,}", "a{1,2}", "a{,2}", "(ab){2}", "a{x", "a{", "a}",
        "x{2,3}y", "\\.", "\\$", "\\^a", "a\\+", "\\(", "\\)", "a)", "[.]", "[\\]]", "[\\\\]",
        "[a\\-z]", "\\101", "\\t", "[\\t]", "a|b|c", "(a|b)*c", "(ab|a)(bc|c)?", "a**", "a?*",
        "a+?", "(a*)*", "(a*)+b", "(|a)", "a||b", "()", "[[.a.]]", "[[=b=]]", "[^\\n]+",
        "[ab]{2,3}", "(foo|foobar)", "(foobar|foo)x?", "x+$", "^x+", "(^a|b)", "(a|^b)",
        "c(a|b$)", "[0-9]+\\.[0-9]*", "[%--]", "[!--]+"]  # fmt: skip
TEXTS = ["", "a", "aa", "aaa", "abc", "abcd", "xabcdx", "b", "ba", "aab", "a\nb", "hello world",
         "foobar", "foo", "x.y", "a+b", "$", "^a", "(x)", "a)", "]", "A1b2", "  \t", "a{2}",
         "a{x", "a}", "xxy", "abab", "a-z", "\\", "tab\there", "3.14", "cab", "b\n"]  # fmt: skip


@pytest.mark.process
@needs_gawk
def test_regex_functions_match_gawk() -> None:
    exprs: list[str] = []
    mine: list[str] = []
    for ere in EREs:
        literal = "/" + ere + "/"
        for text in TEXTS:
            s = awk_string(text)
            exprs.append(f'({s} ~ {literal}) " " match({s}, {literal}) " " RLENGTH')
            start, length = match(text, ere)
            mine.append(f"{int(matches(ere, text))} {start} {length}")
            exprs.append(f'((s = {s}) && 0) + gsub({literal}, "<&>", s) " " s')
            mine.append("{1} {0}".format(*subst(ere, "<&>", text)))
            exprs.append(f'((s = {s}) && 0) + sub({literal}, "[\\\\&]", s) " " s')
            mine.append("{1} {0}".format(*subst(ere, "[\\&]", text, global_=False)))
            if ere not in ("^",):  # gawk's split on a lone /^/ drops characters
                fields = split_on_regex(text, ere)
                exprs.append(f'split({s}, arr, {literal}) ":" arr[1] ":" arr[2]')
                mine.append(f"{len(fields)}:" + ":".join((fields + ["", ""])[:2]))
    got = gawk_strings(exprs)
    mismatches = [(e, g, m) for e, g, m in zip(exprs, got, mine) if g != m]
    assert mismatches == []


# -- leftmost-longest and linear time (issue 16) --------------------------------------------------


@pytest.mark.parametrize(
    ("ere", "text", "span"),
    [
        ("a?(ab)*", "ab", (1, 2)),  # leftmost-first would stop after "a"
        ("(a|b)*(bc)?", "abc", (1, 3)),
        ("(a|ab)(bc|c)?", "abc", (1, 3)),
        ("x*(xy)?", "xy", (1, 2)),
        ("(a*)(ab)*b", "aabab", (1, 3)),
    ],
)
def test_matches_are_leftmost_longest(ere: str, text: str, span: tuple[int, int]) -> None:
    assert match(text, ere) == span


def test_gsub_and_split_use_the_longest_match() -> None:
    assert subst("(a|b)*(bc)?", "<&>", "abc") == ("<abc>", 1)
    assert split_on_regex("1abc2", "(a|b)*(bc)?") == ["1", "2"]


@pytest.mark.parametrize("ere", ["(a*)*b", "(a|aa)*b", "(a+)+b", "((a*)*)*c", "(a|a?)+b"])
def test_pathological_patterns_answer_fast(ere: str) -> None:
    text = "a" * 28
    began = time.perf_counter()
    for _ in range(10):
        assert match(text, ere) == (0, -1)
        assert subst(ere, "x", text) == (text, 0)
    # a backtracking engine needs minutes here; the bound is generous for a loaded machine
    assert time.perf_counter() - began < 2.0


def test_text_beyond_latin1_falls_back_to_utf8() -> None:
    assert match("x\u263a\u263ay", "\u263a+y") == (2, 3)
    assert subst("[^a]", "-", "a\u263ab") == ("a--", 2)


def test_literal_substitution_agrees_with_the_general_path() -> None:
    """A literal pattern is replaced with str.count and str.replace; the same pattern
    in parentheses (an operator, so no literal) takes the match-by-match path."""
    import random

    from fusevm.lang.awk.regex import substituter
    rng = random.Random(3)
    for _ in range(400):
        lit = "".join(rng.choice("ab&") for _ in range(rng.randint(1, 3)))
        repl = "".join(rng.choice(["x", "&", "\\\\&", "\\\\\\\\", "\\\\", "y"])
                       for _ in range(rng.randint(0, 3)))
        text = "".join(rng.choice("aab&c") for _ in range(rng.randint(0, 12)))
        fast, general = compile_ere(lit), compile_ere(f"({lit})")
        assert fast.literal == lit and general.literal is None
        for every in (True, False):
            assert substituter(fast, repl, every)(text) == \
                substituter(general, repl, every)(text), (lit, repl, text, every)


def test_dynamic_regex_and_replacement_change_per_call() -> None:
    """An op remembers its last regex and replacement strings; values that change from
    record to record (and numbers, which are never remembered) still count each time."""
    program = '{ n = gsub($1, $2); m = sub(/ /, x); x = x "z"; print n, m, $0 }'
    text = "a b aaa\nb c bab\na b aaa\n1 2 121\n"
    assert awk(program, text) == "4 1 bb bbb\n3 1 czc cac\n4 1 bzzb bbb\n3 1 2zzz2 222\n"


def test_gsub_on_an_assigned_number_uses_the_current_convfmt() -> None:
    """$0 given a number reads as text by CONVFMT when gsub runs, as in every awk."""
    program = 'BEGIN { $0 = 3.14159; CONVFMT = "%.2g"; n = gsub(/1/, "x"); print n, $0 }'
    assert awk(program) == "1 3.x\n"
