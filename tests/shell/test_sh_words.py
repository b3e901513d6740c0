"""IFS field splitting, brace expansion and tilde expansion (docs/shell.md#words), against
`bash --posix` where it has the same feature."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shellkit import needs_bash, run_bash, split_records

from fusevm.errors import ResourceLimit
from fusevm.shell.expand import brace_expand, tilde_expand, word_split
from fusevm.shell.posix import PosixHost

# -- IFS ----------------------------------------------------------------------------------

SPLIT_CASES: list[tuple[str | None, str]] = [
    (None, "  a  b\tc\nd  "), (":", "a::b:"), (":", ":a:b"), (": ", " a : b  c :: d "),
    ("", "a b c"), (":", ""), (" ", "a\tb c"), (":", ":"), (":", "::"), (": ", "a : : b"),
    (" :", "a: :b"), (":", " a "), ("x", "axxbx"), (" \t", "\t a \t b"), (":,", ":,a,:b"),
    (": ", "  :  "), (":", " : "), (None, ""), (None, "   "), (":", "a:"), (":", "a::"),
    (" :", " : a"), (" :", "a  :  :  b "), ("\n", "l1\n\nl2\n"), ("-", "--a--"),
    (None, "a b c"), (None, "  hello\t world\n  there "), ("", ""),
]


def test_table_from_the_spec() -> None:
    assert word_split("  a  b\tc\nd  ") == ["a", "b", "c", "d"]
    assert word_split("a::b:", ":") == ["a", "", "b"]
    assert word_split(":a:b", ":") == ["", "a", "b"]
    assert word_split(" a : b  c :: d ", ": ") == ["a", "b", "c", "", "d"]
    assert word_split("a b c", "") == ["a b c"]
    assert word_split("", ":") == [] and word_split("", "") == []
    assert word_split("a\tb c", " ") == ["a\tb", "c"]


def test_whitespace_defaults_match_parity_fact_52() -> None:
    assert word_split("a b c") == ["a", "b", "c"]
    assert word_split("a  b\tc\nd") == ["a", "b", "c", "d"]
    assert word_split("") == [] and word_split("   \t\n  ") == []
    assert len(word_split("  hello\t world\n  there ")) == 3


@needs_bash
def test_split_matches_bash() -> None:
    lines = []
    for i, (ifs, _) in enumerate(SPLIT_CASES, start=1):
        set_ifs = "unset IFS" if ifs is None else f"IFS=$(printf '{ifs}')"
        if ifs == "\n":
            set_ifs = "IFS='\n'"
        lines.append(f'({set_ifs}; x="${{{i}}}"; for w in $x; do printf "%s\\x1f" "$w"; '
                     'done); printf "\\x1e"')
    out = run_bash("\n".join(lines), *(s for _, s in SPLIT_CASES)).stdout
    records = split_records(out)
    assert len(records) == len(SPLIT_CASES)
    for (ifs, s), record in zip(SPLIT_CASES, records, strict=True):
        assert word_split(s, ifs) == record.split("\x1f")[:-1], (ifs, s)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab :\t", max_size=12))
def test_split_invariants(s: str) -> None:
    fields = word_split(s, ": \t")
    assert all(":" not in f and " " not in f and "\t" not in f for f in fields)
    assert "".join(fields) == s.replace(":", "").replace(" ", "").replace("\t", "")
    assert word_split(s, "") == ([s] if s else [])


def test_host_uses_its_ifs_attribute() -> None:
    host = PosixHost()
    assert host.word_split("a:b c") == ["a:b", "c"]
    host.ifs = ":"
    assert host.word_split("a:b c") == ["a", "b c"]
    assert host.word_split("a:b c", " ") == ["a:b", "c"]


# -- Braces -------------------------------------------------------------------------------

BRACE_CASES = [
    "a{b,c}d", "{a,b{c,d}}", "{a,b}{1,2}", "x{a,}y", "{,a,b}", "{a}", "{}", "x{a{b,c}}y",
    "{1..10}", "{5..1}", "{-3..3}", "{-1..-3}", "{01..10}", "{1..010}", "{-05..5..5}",
    "{1..10..3}", "{10..1..3}", "{0..10..5}", "{1..10..-3}", "{1..2..0}", "{a..e}", "{e..a}",
    "{a..k..3}", "{1..a}", "{a..1}", "a{1..3}b{x,y}", "{a,b", "a,b}", "{a,b}}", "{{a,b}",
    "{a..}", "{..a}", "{1..}", "{1...3}", "{1..3..}", "{1..3..x}", "{1..3..2..4}", "{aa..c}",
    "{a..cc}", "a{,}b", "{a,b,}", "{0..0}", "{3..3}", "{-0..3}", "{00..3}", "{+1..3}",
    "{1..+3}", "{1..3..+2}", "{1..3..-1}", "pre{1..3}post{a,b}end", "{a,b}{c..e}",
    "{{1..3},x}", "{x,{1..3}}", "{1..3}{x}", "{x}{1..3}", "a{b,c}d{e,f}g", "{A..z..10}",
    "{9..11}", "{09..11}", "{-1..1}", "{-01..1}", "{1..-01}", "{a,b}{,}", "{{a,b},{c,d}}",
    "{1..3}{1..2}", "x{{a,b}}y", "{a,{b}}", "{a{,}}", "}{a,b}{",
]


def test_spec_examples() -> None:
    assert brace_expand("pre{x,y,z}post") == ["prexpost", "preypost", "prezpost"]
    assert brace_expand("{a,b{c,d}}") == ["a", "bc", "bd"]
    assert brace_expand("{a,b}{1,2}") == ["a1", "a2", "b1", "b2"]
    assert brace_expand("x{a,}y") == ["xay", "xy"]
    assert brace_expand("{,a,b}") == ["", "a", "b"]
    assert brace_expand("{01..10}")[:2] == ["01", "02"] and brace_expand("{01..10}")[-1] == "10"
    assert brace_expand("{1..010}")[0] == "001"
    assert brace_expand("{-05..5..5}") == ["-05", "000", "005"]
    assert brace_expand("{1..10..3}") == ["1", "4", "7", "10"]
    assert brace_expand("{10..1..3}") == ["10", "7", "4", "1"]
    assert brace_expand("{1..10..-3}") == ["1", "4", "7", "10"]
    assert brace_expand("{1..2..0}") == ["1", "2"]
    assert brace_expand("{X..c}") == ["X", "Y", "Z", "[", "\\", "]", "^", "_", "`", "a", "b",
                                      "c"]
    assert brace_expand("{a..k..3}") == ["a", "d", "g", "j"]
    for literal in ("{a}", "{}", "{1..a}", "${a,b}", "a{b", "{a,b"):
        assert brace_expand(literal) == [literal]
    assert brace_expand("x{a{b,c}}y") == ["x{ab}y", "x{ac}y"]
    assert brace_expand("\\{a,b}") == ["\\{a,b}"]
    assert brace_expand("'{a,b}'") == ["'{a,b}'"]
    assert brace_expand("$(echo {a,b})") == ["$(echo {a,b})"]


@needs_bash
def test_brace_matches_bash() -> None:
    # Each case is expanded by bash itself, with globbing off.
    lines = [f'set -- {case}; for x in "$@"; do printf "%s\\x1f" "$x"; done; printf "\\x1e"'
             for case in BRACE_CASES]
    out = run_bash("set -f\n" + "\n".join(lines)).stdout
    records = split_records(out)
    assert len(records) == len(BRACE_CASES)
    for case, record in zip(BRACE_CASES, records, strict=True):
        # bash drops the empty words an unquoted expansion produces.
        got = [w for w in brace_expand(case) if w != ""]
        assert got == record.split("\x1f")[:-1], case


def test_huge_ranges_are_refused() -> None:
    with pytest.raises(ResourceLimit):
        brace_expand("{1..100000000}")
    with pytest.raises(ResourceLimit):
        brace_expand("{1..3000}{1..3000}")


# -- Tildes -------------------------------------------------------------------------------

ENV = {"HOME": "/home/u", "PWD": "/work/here", "OLDPWD": "/work/before"}


def _home_of(user: str) -> str | None:
    return {"alice": "/home/alice"}.get(user)


@pytest.mark.parametrize(("word", "want"), [
    ("~", "/home/u"), ("~/code", "/home/u/code"), ("~alice", "/home/alice"),
    ("~alice/x", "/home/alice/x"), ("~bob/x", "~bob/x"), ("~+", "/work/here"),
    ("~+/f", "/work/here/f"), ("~-", "/work/before"), ("~9", "~9"), ("a~", "a~"),
    ("", ""), ("x/~", "x/~"),
])
def test_tilde_forms(word: str, want: str) -> None:
    assert tilde_expand(word, env=ENV, home_of=_home_of) == want


def test_tilde_fallbacks() -> None:
    assert tilde_expand("~-", env={}) == "~-"
    assert tilde_expand("~", env={}).startswith("/")  # HOME unset: the password database
    assert tilde_expand("~someone", home_of=lambda user: None) == "~someone"
    host = PosixHost(env={"HOME": "/h"})
    assert host.tilde_expand("~/f") == "/h/f"
