"""Withheld capabilities raise CapabilityError before any system call (D12)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from shellkit import text_runner

from fusevm.errors import CapabilityError, VMError
from fusevm.ops.shell_codes import FileTest, Redir
from fusevm.shell.caps import Caps
from fusevm.shell.posix import PosixHost


def test_caps_constants() -> None:
    assert Caps.ALL == Caps(True, True, True, True, True)
    assert Caps.NONE == Caps(False, False, False, False, False)
    with pytest.raises(AttributeError):
        Caps.ALL.spawn = False  # type: ignore[misc]


def test_capability_error_is_a_vm_error() -> None:
    with pytest.raises(VMError, match="spawn"):
        Caps.NONE.require("spawn", "run 'ls'")


def test_no_spawn_means_no_process(in_tmp: Path) -> None:
    host = PosixHost(caps=Caps(spawn=False), runner=text_runner)
    try:
        for call in (lambda: host.exec(["touch", "made"]),
                     lambda: host.exec_bg(["touch", "made"]),
                     lambda: host.process_sub_in("x")):
            with pytest.raises(CapabilityError):
                call()
        assert not (in_tmp / "made").exists()
    finally:
        host.close()


def test_no_fs_write_refuses_output_redirects_before_opening(in_tmp: Path) -> None:
    host = PosixHost(caps=Caps(fs_write=False))
    for kind in (Redir.WRITE, Redir.APPEND, Redir.CLOBBER, Redir.READ_WRITE,
                 Redir.WRITE_BOTH, Redir.APPEND_BOTH):
        with pytest.raises(CapabilityError):
            host.redirect(1, kind, "created")
    assert not (in_tmp / "created").exists()
    # Reading and fd duplication need no write access.
    host.redirect(0, Redir.READ, "x")
    host.redirect(2, Redir.DUP_WRITE, "1")
    host.close()


def test_no_fs_read_refuses_glob_tests_and_input_redirects(in_tmp: Path) -> None:
    host = PosixHost(caps=Caps(fs_read=False))
    with pytest.raises(CapabilityError):
        host.glob("*", False)
    with pytest.raises(CapabilityError):
        host.test_file(FileTest.EXISTS, ".")
    with pytest.raises(CapabilityError):
        host.redirect(0, Redir.READ, "in")
    host.close()


def test_none_still_allows_pure_expansions() -> None:
    host = PosixHost(caps=Caps.NONE)
    assert host.brace_expand("a{b,c}") == ["ab", "ac"]
    assert host.word_split(" a b ") == ["a", "b"]
    assert host.str_match("foo", "f*")
    assert os.getpid() > 0
    host.close()
