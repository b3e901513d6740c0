"""The shell parity facts (numbered as collected) that concern the host layer, adjusted for D12.

Checked here (host-layer facts; the expected values follow D12 where it overrides the
reference's DefaultHost): 9, 47, 49, 52, 54, 57, 59, 61, and 62-70 (file tests and codes,
in test_sh_filetest.py and test_sh_codes.py).

Skipped, because they pin the VM layer (stack effects, op routing, what the VM does with or
without a host, JIT eligibility, builtin ids), which lives in the interpreter, not here:
1-8, 10-46, 48, 50, 51, 53, 55, 56, 58, 60, 71-73.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fusevm.ops.shell_codes import ParamMod
from fusevm.shell.posix import PosixHost

pytestmark = pytest.mark.process


def test_fact_9_empty_and_missing_commands(host: PosixHost, in_tmp: Path) -> None:
    from fusevm.ops.shell_codes import Redir

    assert host.exec([]) == 0 and host.exec_bg([]) == 0
    host.redirect(2, Redir.WRITE, "err")
    host.with_redirects_begin(1)
    try:
        assert host.exec(["/this/path/should/not/exist/anywhere"]) == 127
        assert host.exec_bg(["/this/path/should/not/exist/anywhere"]) == 0
    finally:
        host.with_redirects_end()
    # D12: a message, where a silent default host would say nothing.
    assert (in_tmp / "err").read_text().count("No such file or directory") == 2


def test_fact_47_expand_param_is_real(host: PosixHost) -> None:
    """A stub host would answer "" for everything; D12 gives real expansions."""
    assert host.expand_param("X", ParamMod.DEFAULT, ["d"]).value == "d"
    assert host.expand_param("X", ParamMod.LENGTH, [], value="abc").value == 3
    assert host.expand_param("X", 255, [], value="v").value == "v"


def test_fact_49_tilde() -> None:
    host = PosixHost(env={"HOME": "/home/u"})
    assert host.tilde_expand("~/code") == "/home/u/code"
    assert host.tilde_expand("~") == "/home/u"
    assert host.tilde_expand("") == ""


def test_fact_52_word_split_default_ifs(host: PosixHost) -> None:
    assert host.word_split("a b c") == ["a", "b", "c"]
    assert host.word_split("a  b\tc\nd") == ["a", "b", "c", "d"]
    assert host.word_split("") == [] and host.word_split("   \t\n  ") == []
    assert len(host.word_split("  hello\t world\n  there ")) == 3


def test_fact_54_and_61_str_match_is_a_glob(host: PosixHost) -> None:
    assert host.str_match("foo", "foo") and not host.str_match("abc", "xyz")
    assert host.str_match("foo", "f*")  # not mere string equality
    assert host.str_match("anything", "*")  # a real pattern match
    assert host.str_match("*", "*") and host.str_match("", "")
    assert not host.str_match("x", "")


def test_fact_57_regex(host: PosixHost) -> None:
    assert host.regex_match("anything", ".*")  # a real regex match
    assert not host.regex_match("foo123", "\\d+")  # not ERE: `\d` is a literal d, as in bash
    assert host.regex_match("foo123", "[[:digit:]]+")


def test_fact_59_and_61_glob(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "Cargo.toml").write_text("")
    (in_tmp / "src").mkdir()
    for name in ("a.rs", "b.rs", "c.rs", "d.rs", "e.rs"):
        (in_tmp / "src" / name).write_text("")
    assert host.glob("Cargo.toml", False) == ["Cargo.toml"]
    assert host.glob("zzz_no_match_xyzzy_*.rs", False) == []
    assert len(host.glob("src/*.rs", False)) >= 4
    assert host.glob("/this/path/should/not/exist/*.xyz123", False) == []
    assert host.glob("src/[invalid", False) == []
    assert host.glob("", False) == []
    assert host.glob("src/*.rs", False) == host.glob("src/*.rs", True)
