"""`set -x` traces: words shown as written unless the shell would read them otherwise."""

from __future__ import annotations

import pytest

from fusevm.lang.sh.runtime import xquote


def test_test_brackets_are_traced_as_dash_traces_them(sh) -> None:  # type: ignore[no-untyped-def]
    sh("exec 2>&1; set -x; [ 0 -lt 2 ]; test 1 = 1; i=0; while [ $i -lt 1 ]; do i=1; done;"
       " [ x ] && [ a] = a] ]",
       "+ [ 0 -lt 2 ]\n+ test 1 = 1\n+ i=0\n+ [ 0 -lt 1 ]\n+ i=1\n+ [ 1 -lt 1 ]\n+ [ x ]\n"
       "+ [ a] = a] ]\n")


@pytest.mark.parametrize(("word", "shown"), [
    ("[", "["), ("]", "]"), ("x[", "x["), ("a]", "a]"), ("a][", "a]["), ("[a]", "'[a]'"),
    ("a[b]c", "'a[b]c'"), ("", "''"), ("a b", "'a b'"), ("*", "'*'"), ("it's", "'it'\\''s'"),
])
def test_a_word_is_quoted_only_when_it_must_be(word: str, shown: str) -> None:
    assert xquote(word) == shown
