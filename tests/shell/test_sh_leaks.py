"""Hundreds of commands, pipelines and substitutions leave no fd and no child behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from shellkit import text_runner

from fusevm.ops.shell_codes import Redir
from fusevm.shell.posix import PosixHost

pytestmark = pytest.mark.process


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def children() -> set[int]:
    """Pids (zombies included) whose parent is this process."""
    me = os.getpid()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # Field 4 is the ppid; the command name (field 2) may contain spaces, so split after it.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me:
            found.add(int(entry))
    return found


def test_no_fd_or_process_leaks(in_tmp: Path) -> None:
    host = PosixHost(runner=text_runner)
    host.exec(["true"])  # warm up anything created once
    host.cmd_subst("warm")
    time.sleep(0.05)
    fds_before, kids_before = open_fds(), children()
    for i in range(500):
        assert host.exec(["true"]) == 0
        host.pipeline_begin(2)
        host.exec(["echo", "x"])
        host.pipeline_stage()
        host.redirect(1, Redir.WRITE, os.devnull)
        host.exec(["cat"])
        assert host.pipeline_end() == 0
        assert host.cmd_subst(f"{i}\n") == str(i)
        if i % 50 == 0:
            host.herestring("doc")
            host.redirect(1, Redir.WRITE, "o")
            host.exec(["cat", host.process_sub_in("ps\n")])
            host.redirect(1, Redir.WRITE, "scoped")
            host.with_redirects_begin(1)
            host.with_redirects_end()
            host.exec_bg(["true"])
    host.wait_all()
    host.close()
    assert open_fds() == fds_before
    assert children() <= kids_before
