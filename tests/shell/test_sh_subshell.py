"""Subshell snapshots: state changed inside `( ... )` is put back (docs/shell.md#subshells)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fusevm.errors import HostError
from fusevm.ops.shell_codes import Redir
from fusevm.shell.posix import PosixHost


def test_cwd_env_umask_and_options_are_restored(in_tmp: Path) -> None:
    (in_tmp / "sub").mkdir()
    host = PosixHost(env={"V": "1"})
    old_umask = os.umask(0o022)
    try:
        host.subshell_begin()
        os.chdir("sub")
        assert host.env is not None
        host.env["V"] = "2"
        host.env["NEW"] = "x"
        os.umask(0o077)
        host.noclobber = host.pipefail = True
        host.ifs = ":"
        host.functions["f"] = lambda args: 0
        assert host.subshell_end() is None
        assert Path.cwd() == in_tmp
        assert host.env == {"V": "1"}
        assert os.umask(0o022) == 0o022
        assert not host.noclobber and not host.pipefail and host.ifs is None
        assert "f" not in host.functions
    finally:
        os.umask(old_umask)
        host.close()


def test_exit_inside_gives_the_status(in_tmp: Path) -> None:
    host = PosixHost()
    assert not host.request_exit(3)  # top level: nothing to end
    host.subshell_begin()
    assert host.request_exit(4)
    assert host.subshell_end() == 4 and host.last_status == 4
    host.subshell_begin()
    host.subshell_begin()
    assert host.request_exit(0)
    assert host.subshell_end() == 0
    assert host.subshell_end() is None
    with pytest.raises(HostError):
        host.subshell_end()
    host.close()


def test_redirect_scopes_opened_inside_are_closed(in_tmp: Path) -> None:
    host = PosixHost()
    before = os.fstat(1)
    host.subshell_begin()
    host.redirect(1, Redir.WRITE, "inside")
    host.with_redirects_begin(1)
    host.subshell_end()
    after = os.fstat(1)
    assert (before.st_ino, before.st_dev) == (after.st_ino, after.st_dev)
    host.close()
