"""Quoting and each expansion, in POSIX order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusevm.lang.sh import ops as sh_ops

CASES = [
    # quoting
    ("echo 'a  b' \"c  d\" e\\ \\ f", "a  b c  d e  f\n"),
    ("x='$y'; echo \"$x\" '$x' \\$x", "$y $x $x\n"),
    ("echo \"a\\$b\\\"c\\\\d\\q\"", "a$b\"c\\d\\q\n"),
    # parameters
    ("set -- a 'b c' d; echo $#; for a in \"$@\"; do echo \"<$a>\"; done", "3\n<a>\n<b c>\n<d>\n"),
    ("set -- a 'b c'; IFS=:; echo \"$*\"", "a:b c\n"),
    ("set --; for a in \"$@\"; do echo x; done; echo done", "done\n"),
    ("u=; echo ${u-d1} ${u:-d2} ${n-d3} ${n:+p} ${u+set}", "d2 d3 set\n"),
    ("echo ${x:=5} $x; echo ${#x}", "5 5\n1\n"),
    ("v=path/to/file.tar.gz; echo ${v#*/} ${v##*/} ${v%.*} ${v%%.*}",
     "to/file.tar.gz file.tar.gz path/to/file.tar path/to/file\n"),
    ("v='a*b'; echo \"${v#\"a*\"}\" ${v#a\\*}", "b b\n"),
    # command substitution and arithmetic
    ("x=$(printf 'a\\n\\n'); echo \"[$x]\"; echo `echo b`", "[a]\nb\n"),
    ("x=$(exit 3); echo $?", "3\n"),
    ("i=5; echo $((i * 2 + 1)) $((7 / 2)) $((-7 % 3)) $((1 << 4)) $((2 > 1 ? 10 : 20))",
     "11 3 -1 16 10\n"),
    ("echo $((x = 4, x + 1))", None),
    ("a=1; : $((a += 2)); echo $a $((0x10)) $((010))", "3 16 8\n"),
    # field splitting
    ("x='a  b'; printf '<%s>' $x; echo", "<a><b>\n"),
    ("IFS=:; x='a::b:'; printf '<%s>' $x; echo", "<a><><b>\n"),
    ("IFS=' :'; x=' a : b '; printf '<%s>' $x; echo", "<a><b>\n"),
    ("x=''; printf '<%s>' $x \"$x\"; echo", "<>\n"),
    # pathname expansion
    ("touch b a c; echo *; echo '*'; set -f; echo *", "a b c\n*\n*\n"),
    ("echo nomatch*", "nomatch*\n"),
    # tilde
    ("HOME=/h; echo ~ ~/x '~'", "/h /h/x ~\n"),
]


@pytest.mark.parametrize(("script", "expected"), CASES)
def test_expansion(sh, script: str, expected: str | None) -> None:  # type: ignore[no-untyped-def]
    if expected is None:
        pytest.skip("not POSIX (comma operator)")
    sh(script, expected)


def test_nounset(sh) -> None:  # type: ignore[no-untyped-def]
    sh("set -u; echo $nope; echo after", "", 2)


# `${v#p}` and its kin find the longest cut with one leftmost-longest match (`##`) or
# search (`%%`) and try cut after cut for the shortest; each case is compared with dash.
TRIMS = [
    "x=path/to/file.tar.gz; echo ${x#*/} ${x##*/} ${x%.*} ${x%%.*} ${x#p} ${x##nomatch}",
    "x=path/to/file.tar.gz; echo ${x%%*} ${x#*} ${x##*} ${x%*} ${x%%/*} ${x%/*}",
    "x=aaa; echo ${x#a*} ${x##a*} ${x%a*} ${x%%a*} \"[${x%%?}]\" ${x#??} ${x%%a}",
    "x=abcabc; echo ${x%b*} ${x%%b*} ${x#*b} ${x##*b} ${x%%c} ${x##a} ${x%%[bc]*}",
    "x='a b.c'; echo \"${x%%[.]*}\" \"${x#*[[:space:]]}\" \"${x%%\"b\"*}\"",
    "x=; echo \"[${x#*}][${x%%*}][${x##a}]\"; set -- 'a*b'; echo ${1%\\**} ${1#*\\*}",
    "x=/a/b/c/; echo ${x%/} ${x##*/}x ${x%%/*}y ${x#/*/}",
    # patterns with no star: a fixed number of characters (`_fixed_trim`)
    "x=abc; echo ${x%?} ${x#?} ${x##?} ${x%%?} ${x#[ab]} ${x%[!c]} ${x%??} ${x#[[:alpha:]]}",
    "x='a?c'; echo \"${x#\\?}\" \"${x%\\?c}\" \"${x#\"?\"}\" \"${x#[}\" \"${x%]}\"",
    "x=; echo \"[${x%?}][${x#[a]}]\"",
    "x='[ab]'; echo \"${x#[}\" \"${x%]}\" \"${x#'[a'}\" \"${x#[[]}\" \"${x%[]]}\"",
]


@settings(max_examples=400, deadline=None)
@given(value=st.text("ab./*é\udce9", max_size=8),
       pat=st.tuples(st.sampled_from(["", "*"]), st.text("ab./", max_size=3),
                     st.sampled_from(["", "*"])).map("".join),
       code=st.sampled_from([5, 6, 7, 8]))
def test_a_literal_trim_cuts_where_the_pattern_match_does(value: str, pat: str,
                                                          code: int) -> None:
    """A trim by an ASCII text with a `*` at one end (`${p##*/}`, `${f%.*}`) is cut with
    `str` methods; where it applies, it must cut where matching the pattern does."""
    cut = sh_ops._literal_trim(value, pat, code)
    assert (cut is not None) == (pat.count("*") <= 1)
    assert cut is None or cut == sh_ops._pattern_trim(value, pat, code)


@settings(max_examples=400, deadline=None)
@given(value=st.text("ab1?[]é\udce9", max_size=6),
       pat=st.lists(st.sampled_from(["a", "b", "?", "[ab]", "[!a]", "[[:alpha:]]", "\\?", "[",
                                     "]", "é"]), max_size=3).map("".join),
       code=st.sampled_from([5, 6, 7, 8]))
def test_a_fixed_trim_cuts_where_the_pattern_match_does(value: str, pat: str,
                                                        code: int) -> None:
    """A trim by a pattern with no star (`${v%?}`, `${v#[ab]}`) is cut by testing the one
    part of the value it can match; it must cut where matching the pattern does (or
    leave the cut to it)."""
    cut = sh_ops._fixed_trim(value, pat, code)
    assert cut is None or cut == sh_ops._pattern_trim(value, pat, code)


# Words that are one quoted string or one unquoted expansion split by IFS white space take
# a path of their own in `words.fields`; compared with dash.
FIELDS = [
    "x=' a  b\tc\nd '; set -- $x; echo $# \"$1|$4\"; set -- \"$x\"; echo $#",
    "IFS=' '; x='a\tb c'; set -- $x; echo $#; IFS='\t'; set -- $x; echo $#",
    "IFS=; x='a b'; set -- $x; echo $#; x=; set -- $x; echo $#; set -- \"$x\"; echo $#",
    "x='*.none q*'; touch q1 q2; set -- $x; echo $# \"$@\"; set -f; set -- $x; echo $#",
    "x='   '; set -- $x; echo $#; x='a\\*'; echo $x; set -- \"\" \"\"; echo $#",
    "w=; set -- \"$w\" \"$w\"\"$w\"; echo $#; x='a b'; set -- \"$x\"'c d'; echo $# \"$1\"",
    "touch a1 a2; set -- \"a\"*; echo $# \"$@\"; set -- \"*\"; echo \"$1\"",
    "x=1; set -- \"$x\"$x\"$x\"; echo $1",
]

# A pattern component with a leading literal '.' matches a directory's '.' and '..' entries
# (POSIX's rule, and dash), which `scandir` never lists; a wildcard alone does not.
DOTS = [
    "touch .a b; mkdir -p d/.e; echo .*; echo .?; echo .*/; echo d/.*; echo */.*; echo *",
    "mkdir d; cd d; echo .* \\.*; echo '.'*; echo [.]*; echo ..*; echo .[!.]*",
]


@pytest.mark.parametrize("script", DOTS)
def test_dot_entries_like_dash(sh, script: str) -> None:  # type: ignore[no-untyped-def]
    sh(script, None)


@pytest.mark.parametrize("script", TRIMS + FIELDS)
def test_like_dash(sh, script: str) -> None:  # type: ignore[no-untyped-def]
    sh(script, None)
