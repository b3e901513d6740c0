"""Hundreds of Exec, pipeline and CmdSubst ops run by VMs leave no fd, child process or thread
behind, whether one VM runs them all or many short-lived VMs each run a few."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import pytest
from vmkit import children, command, open_fds, run

from fusevm import VM
from fusevm.asm import assemble
from fusevm.values import Status

pytestmark = pytest.mark.process

N = 500
_PRINT_X = command("printf", "x\n")
_PRINT_PS = command("printf", "ps\n", keep=True)

# for i in 0..N-1: true; printf 'x\n' | cat >/dev/null; last=$(printf '%s\n' "$i")
LOOP = f"""
    .name i
    .name last
    .chunk body
      LoadConst "printf"
      LoadConst "%s\\n"
      GetVar i
      Exec 3
    .end
    LoadInt 0
    SetSlot 0
  top:
    GetSlot 0
    SetVar i
    {command("true", keep=True)}
    JumpIfFalse failed
    PipelineBegin 2
    {_PRINT_X}
    PipelineStage
    LoadConst "/dev/null"
    Redirect 1 >
    {command("cat")}
    PipelineEnd
    JumpIfFalse failed
    CmdSubst body
    SetVar last
    SlotIncLtIntJumpBack 0 {N} top
    GetVar last
    Jump done
  failed:
    LoadConst "a command failed"
  done:
"""

# One short-lived VM: a command reading a here-string, a process substitution, a pipeline,
# a substitution and a redirection scope. The VM (and its host) are simply dropped.
ONE_SHOT = f"""
    .chunk body
      {command("printf", "sub", keep=True)}
    .end
    .chunk feed
      {_PRINT_PS}
    .end
    LoadConst "hs"
    HereString
    LoadConst "/dev/null"
    Redirect 1 >
    {command("cat")}
    LoadConst "/dev/null"
    Redirect 1 >
    LoadConst "cat"
    ProcessSubIn feed
    Exec 2
    Pop
    PipelineBegin 2
    {command("true")}
    PipelineStage
    {command("true")}
    PipelineEnd
    Pop
    LoadConst "scoped"
    Redirect 1 >
    WithRedirectsBegin 1
    {command("true")}
    WithRedirectsEnd
    CmdSubst body
"""


def _settle(threads_before: int) -> None:
    """Let finished substitution threads and dropped VMs go."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        gc.collect()
        if threading.active_count() <= threads_before:
            return
        time.sleep(0.02)


def test_500_execs_pipelines_and_substitutions_leak_nothing(in_tmp: Path) -> None:
    warm, _ = run(ONE_SHOT)  # create anything made once (pools, caches)
    assert warm == "sub"
    gc.collect()
    time.sleep(0.05)
    fds_before, kids_before = open_fds(), children()
    threads_before = threading.active_count()

    result, vm = run(LOOP)
    assert result == str(N - 1)
    assert vm.last_status == 0

    for _ in range(50):
        vm = VM(assemble(ONE_SHOT))
        assert vm.run() == "sub"
    del vm
    _settle(threads_before)

    assert open_fds() == fds_before
    assert children() <= kids_before
    assert threading.active_count() <= threads_before


def test_background_jobs_are_reaped(in_tmp: Path) -> None:
    kids_before = children()
    text = "\n".join(["LoadConst \"true\"\nExecBg 1\nPop"] * 20) + "\nGetStatus"
    result, vm = run(text, close=False)
    assert result == Status(0)
    assert vm.shell.wait_all() == 0
    vm.shell.close()
    assert children() <= kids_before
