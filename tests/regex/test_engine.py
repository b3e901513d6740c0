"""fusevm.regex: the bracket-class table, the two ERE dialects, shell patterns, the engine."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fusevm.records import replace
from fusevm.regex import (
    CLASSES,
    SHELL_ERE,
    Dialect,
    Regex,
    RegexError,
    compile_ere,
    compile_pattern,
    translate_ere,
    translate_pattern,
)
from fusevm.regex.stars import star_match

AWK_LIKE = Dialect("plain")

_C_LOCALE = {
    "alpha": str.isalpha, "digit": str.isdigit, "alnum": str.isalnum, "upper": str.isupper,
    "lower": str.islower, "space": lambda c: c in " \t\n\r\f\v", "blank": lambda c: c in " \t",
    "punct": lambda c: c in string.punctuation, "print": str.isprintable,
    "graph": lambda c: c.isprintable() and c != " ",
    "cntrl": lambda c: ord(c) < 32 or ord(c) == 127, "xdigit": lambda c: c in string.hexdigits,
}


@pytest.mark.parametrize("name", sorted(_C_LOCALE))
def test_class_table_matches_the_c_locale(name: str) -> None:
    ranges = CLASSES[name].ranges(False)
    for code in range(128):
        member = any(lo <= code <= hi for lo, hi in ranges)
        assert member == _C_LOCALE[name](chr(code)), (name, code)
        assert compile_ere(f"^[[:{name}:]]$").test(chr(code)) == member


def test_unicode_classes_in_patterns_only() -> None:
    assert compile_pattern("[[:alpha:]]").fullmatch("\u00e9")
    assert compile_pattern("[[:upper:]]").fullmatch("\u00c9")
    assert not compile_ere("[[:alpha:]]").test("\u00e9")  # EREs use the C locale
    # a pattern for the C locale (the shell's, there) has the ASCII classes
    for name, char in (("alpha", "\u00e9"), ("upper", "\u00c9"), ("print", "\u00e9")):
        assert not compile_pattern(f"[[:{name}:]]", unicode=False).fullmatch(char)
    assert compile_pattern("[[:alpha:]]?", unicode=False).fullmatch("a\u00e9")


def test_leftmost_longest_and_anchors() -> None:
    rx = compile_ere("(a|ab)(c|bcd)(d*)")
    assert rx.search("xabcd") == (1, 5)
    assert rx.match("abcd") == (0, 4)
    assert rx.fullmatch("abcd") and not rx.fullmatch("abcdx")
    assert compile_ere("^a").search("aa", 1) is None
    assert compile_ere("a$").search("a\n") is None  # `$` is the end of the text only


def test_shell_dialect_groups_and_gnu_escapes() -> None:
    assert compile_ere("(a)|(b)", SHELL_ERE).search_groups("b") == ["b", None, "b"]
    assert compile_ere("\\<wo\\w+", SHELL_ERE).search_groups("a word") == ["word"]
    assert translate_ere("\\d", SHELL_ERE).literal == "d"  # not a GNU escape
    with pytest.raises(RegexError, match="Back-references"):
        compile_ere("(a)\\1", SHELL_ERE)


def test_literal_patterns_skip_the_engine() -> None:
    rx = compile_ere("a.b", SHELL_ERE)
    assert rx.literal is None
    plain = compile_ere("abc", SHELL_ERE)
    assert plain.literal == "abc"
    assert plain.scanner("xabcabc").search(2) == (4, 7)


def test_scanner_agrees_with_search() -> None:
    rx = compile_ere("[0-9]+")
    text = "a12b345c\u263a6"
    scan = rx.scanner(text)
    for pos in range(len(text) + 1):
        assert scan.search(pos) == rx.search(text, pos)


@pytest.mark.parametrize("ere", ["[0-9]+", "abc", "a*", "(ab|a)(c|bcd)?", "^a|b$", "x{0}"])
@pytest.mark.parametrize("text", ["a12b345c\u263a6", "xabcabc", "abcd", "", "aab"])
def test_scanner_matches_agree_with_the_regex(ere: str, text: str) -> None:
    """A scanner's match and fullmatch (literal, excluded and engine paths) are the
    Regex's own."""
    rx = compile_ere(ere, SHELL_ERE)
    scan = rx.scanner(text)
    for pos in range(len(text) + 1):
        assert scan.match(pos) == rx.match(text, pos)
        for end in range(pos, len(text) + 1):
            assert scan.fullmatch(pos, end) == rx.fullmatch(text, pos, end)


def test_errors_name_the_pattern() -> None:
    for bad in ("(a", "a{3,2}", "[[:nope:]]", "a{1001}"):
        with pytest.raises(RegexError, match=r"/"):
            compile_ere(bad, SHELL_ERE)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab()|*+?[]^$.{}1,\\-", max_size=10),
       st.text(alphabet="ab\u00e9\u263a", max_size=8))
def test_any_input_compiles_or_fails_cleanly(ere: str, text: str) -> None:
    """Nothing in a pattern reaches RE2 as syntax it did not mean; Latin-1 and UTF-8 text
    give the same answers."""
    try:
        rx = compile_ere(ere, SHELL_ERE)
    except RegexError:
        return
    span = rx.search(text)
    wide = rx.search(text + "\u263a")
    if span is not None and wide is not None and "$" not in ere:
        assert wide[0] <= span[0]


def test_direct_and_public_re2_paths_agree() -> None:
    """The engine calls RE2's C++ match directly on bytes when the package exposes it;
    the public methods must give the same answers (they are the fallback)."""
    cases = [("(a|ab)(c|bcd)", "xabcd abc"), ("^a", "aaa"), ("a$", "aa\\na"), ("x*", "abc"),
             ("[[:digit:]]+", "a12b345")]
    for ere, text in cases:
        fast = compile_ere(ere)
        slow = Regex(translate_ere(ere, AWK_LIKE), "test")
        slow._prepare()  # (an exact pattern compiles when first searched)
        assert slow._latin1.low is not None  # this google-re2 has the direct path
        slow._latin1.low = None
        for pos in range(len(text) + 1):
            assert fast.search(text, pos) == slow.search(text, pos)
            assert fast.match(text, pos) == slow.match(text, pos)
            assert fast.fullmatch(text, pos) == slow.fullmatch(text, pos)
            assert fast.scanner(text).search(pos) == slow.scanner(text).search(pos)


def test_required_literals_of_each_branch() -> None:
    assert translate_ere("foo[0-9]+bar|^key1[0-9]*7 ", AWK_LIKE).required == ("foo", "key1")
    assert translate_ere("ab*c", AWK_LIKE).required == ("a",)  # b* may be absent
    assert translate_ere("a{2}bc", AWK_LIKE).required == ("bc",)
    assert translate_ere("x|(a|b)+", AWK_LIKE).required is None  # a branch needs no literal
    assert translate_ere("^(GET|POST) /", AWK_LIKE).required == ("GET /", "POST /")
    assert translate_ere("x|", AWK_LIKE).required is None


def _bare(ere: str, dialect: Any) -> Regex:
    """The pattern without its literal tests: RE2's own answers."""
    bare = Regex(translate_ere(ere, dialect), "test")
    bare.required = None
    return bare


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab()|*+?[]^$.{}1,\\-", max_size=10),
       st.text(alphabet="ab1-\u00e9", max_size=8))
def test_required_literals_never_change_an_answer(ere: str, text: str) -> None:
    """The literal tests (the prefilter, and the whole test of an exact shape) only skip
    texts that cannot match: every answer equals RE2's own without them, for `test`, the
    block scanner and searches."""
    try:
        rx = compile_ere(ere, SHELL_ERE)
    except RegexError:
        return
    bare = _bare(ere, SHELL_ERE)
    want = bare._test_engine(text)
    assert rx.test(text) == want
    texts = ["", "xyz", text]
    assert rx.block_scanner()(texts, 0) == [
        j for j, t in enumerate(texts) if bare._test_engine(t)]
    assert (rx.search(text) is not None) == want
    assert rx.tester()(text) == bare.test(text)
    for pos in range(len(text) + 1):
        assert rx.search(text, pos) == bare.search(text, pos)
        assert rx.scanner(text).search(pos) == bare.search(text, pos)


@settings(max_examples=300, deadline=None)
# (a newline, which no line holds, made optional: the empty match is still a match)
@example("\n?", [""], 0)
@example("[\n]*b|a", ["", "b", "xa"], 0)
@given(st.text(alphabet="ab()|*+?[]^$.{}1,\\-\n", max_size=10),
       st.lists(st.text(alphabet="ab1- \u00e9\u0101", max_size=6), max_size=8),
       st.integers(0, 3))
def test_the_block_scanner_agrees_with_re2(ere: str, block: list[str], start: int) -> None:
    """The block scanner (the literal tests on each line, then one RE2 call per run of
    matching lines, in line mode) gives the indices of the lines RE2 matches in, from a
    line on."""
    try:
        rx = compile_ere(ere, AWK_LIKE)
    except RegexError:
        return
    bare = _bare(ere, AWK_LIKE)
    k = min(start, len(block))
    assert rx.block_scanner()(block, k) == [
        j for j in range(k, len(block)) if bare._test_engine(block[j])]


def test_star_patterns_match_without_the_engine() -> None:
    """A shell pattern is matched whole as runs of one-character atoms around its stars:
    RE2 is not compiled for it (a script's `case -*)` would otherwise load it)."""
    for pattern, yes, no in (("-*.sh", ["-x.sh", "-.sh"], ["x-.sh", "-x.shx"]),
                             ("-[hv]", ["-h", "-v"], ["-x", "-hv", "h"]),
                             ("[0-9]*", ["7", "12x"], ["", "x1"]),
                             ("?*", ["a", "ab"], [""]),
                             ("[!a-c]?[[:digit:]]", ["d.1", "zz9"], ["a.1", "dd", "d.x"])):
        rx = Regex(translate_pattern(pattern), "test")
        assert rx._latin1 is None and rx._utf8 is None
        assert all(rx.fullmatch(t) for t in yes) and not any(rx.fullmatch(t) for t in no)
        assert rx._latin1 is None  # still
    assert translate_pattern("a?*").star_runs == (("a", None), "")
    assert translate_pattern("[!ab]*").star_runs == (((True, ((97, 97), (98, 98)), ()),), "")
    unclosed = translate_pattern("[ab")  # (a literal `[`: the pattern is literal text)
    assert unclosed.star_runs is None and unclosed.literal == "[ab"
    assert translate_pattern("a\\*b*").star_runs == ("a*b", "")
    assert translate_pattern("a*b/c*", path_mode=True).star_runs is None


def test_a_class_property_above_ascii_is_left_to_the_engine() -> None:
    """A character above ASCII against a class a Unicode locale widens with a property
    (`[[:alpha:]]` and `é`) is the engine's to decide: `star_match` says None, and
    `fullmatch` asks RE2."""
    translation = translate_pattern("[[:alpha:]]*")
    assert translation.star_runs is not None
    assert star_match(translation.star_runs, True, "\u00e9t\u00e9") is None
    assert star_match(translation.star_runs, True, "x\u00e9") is True  # (the star takes it)
    assert star_match(translation.star_runs, True, "1\u00e9") is False
    rx = Regex(translation, "test")
    assert rx.fullmatch("\u00e9t\u00e9") and rx._latin1 is not None
    assert not Regex(translate_pattern("[[:alpha:]]"), "t").fullmatch("\u00e91")
    # In the C locale a class holds ASCII only: decided here.
    ascii_only = translate_pattern("[[:alpha:]]*", unicode=False)
    assert star_match(ascii_only.star_runs or (), True, "\u00e9t\u00e9") is False


_TOKENS = ["a", "b", "*", "?", "/", "\\", "[", "]", "!", "^", "-", "[:alpha:]", "[:digit:]",
           "[:upper:]", "[:punct:]", "[:nope:]", "[=a=]", "[.b.]", "\u00e9", "1"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=8).map("".join),
       st.text(alphabet="ab/-]!^1A.\u00e9\u00c9\u0101", max_size=7),
       st.booleans(), st.booleans())
def test_star_patterns_agree_with_re2(pattern: str, text: str, path_mode: bool,
                                      unicode: bool) -> None:
    """The match of a pattern's runs (`star_match`: literals, `?`, brackets with ranges,
    negation and classes, around stars) gives RE2's answer for every text and slice, in
    path mode (where nothing matches `/`) and out of it, with Unicode classes and without:
    where it says None, `fullmatch` asks RE2."""
    translation = translate_pattern(pattern, path_mode, unicode)
    if translation.star_runs is None:
        return
    rx = Regex(translation, "test")
    bare = Regex(replace(translation, star_runs=None), "bare")
    for pos in range(len(text) + 1):
        for end in range(pos, len(text) + 1):
            assert rx.fullmatch(text, pos, end) == bare.fullmatch(text, pos, end)
