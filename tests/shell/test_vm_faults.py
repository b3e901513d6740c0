"""Shell faults become clear errors (issue 17): NUL bytes in argv, descriptor exhaustion
(EMFILE), bodies nobody reads, broken pipes. Never a raw OSError/ValueError, never a thread
traceback, never a status without a message.

EMFILE is real, not patched: the soft RLIMIT_NOFILE is lowered and the table filled.
"""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from vmkit import command, lit

from fusevm import VM
from fusevm.asm import assemble
from fusevm.errors import HostError, OutputClosed, VMError
from fusevm.shell import process
from fusevm.values import Status


@contextmanager
def no_free_fds() -> Iterator[None]:
    """Every descriptor number is in use while the block runs (then all are released)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    used = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, used + 64), hard))
    held: list[int] = []
    try:
        while True:
            try:
                held.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                break
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Exceptions that escaped any thread (they would print a traceback)."""
    seen: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", seen.append)
    return seen


def vm_for(text: str) -> VM:
    return VM(assemble(text, source="fault.fasm"))


def test_exec_with_a_nul_in_an_argument_is_a_host_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    spawned: list[Any] = []
    monkeypatch.setattr(process, "spawn", lambda *a, **k: spawned.append(a) or 0)
    vm = vm_for(command("echo", "a\0b"))
    with pytest.raises(HostError, match="NUL") as info:
        vm.run()
    vm.close()
    assert info.value.op == "Exec" and info.value.line is not None
    assert spawned == []


@pytest.mark.parametrize("op", ["ProcessSubIn", "ProcessSubOut", "CmdSubst"])
def test_substitution_under_emfile_is_a_host_error(op: str, thread_errors: list[Any]) -> None:
    vm = vm_for(f'.chunk b\nLoadConst "x"\nPrintLn 1\n.end\n{op} b')
    with no_free_fds(), pytest.raises(HostError) as info:
        vm.run()
    vm.close()
    assert info.value.op == op
    assert "Too many open files" in str(info.value)
    assert thread_errors == []


def test_pipeline_under_emfile_is_a_host_error() -> None:
    vm = vm_for("PipelineBegin 2\n" + command("true") + "\nPipelineStage\n" + command("true")
                + "\nPipelineEnd")
    with no_free_fds(), pytest.raises(HostError) as info:
        vm.run()
    vm.close()
    assert info.value.op == "PipelineBegin"


@pytest.mark.process
def test_heredoc_under_emfile_fails_with_a_message(capfd: pytest.CaptureFixture[str]) -> None:
    vm = vm_for("HereDoc " + lit("text\n") + "\n" + command("cat", keep=True))
    with no_free_fds():
        result = vm.run()
    vm.close()
    assert result == Status(1)
    assert "here-document" in capfd.readouterr().err


def test_unread_process_substitution_closes_without_a_traceback(
        thread_errors: list[Any], capfd: pytest.CaptureFixture[str]) -> None:
    """The body writes more than a pipe holds; nobody reads; close() ends it quietly."""
    vm = vm_for(""".chunk b
        LoadInt 0
        SetSlot 0
    top:
        LoadConst "%s"
        PrintLn 1
        PreIncSlotVoid 0
        SlotLtIntJumpIfFalse 0 64 done
        Jump top
    done:
    .end
    ProcessSubIn b
    Pop""" % ("x" * 4096))
    vm.run()
    vm.close()
    assert thread_errors == []
    assert "Traceback" not in capfd.readouterr().err


def test_error_in_a_process_substitution_body_is_reported_not_raised_in_its_thread(
        thread_errors: list[Any], capfd: pytest.CaptureFixture[str]) -> None:
    vm = vm_for('.chunk b\nLoadInt 1\nLoadInt 0\nDiv\nPop\n.end\nProcessSubIn b\nPop')
    vm.run()
    vm.close()
    assert thread_errors == []
    err = capfd.readouterr().err
    assert "Traceback" not in err and "division by zero" in err.lower()


class _Closed:
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_broken_pipe_on_output_is_a_located_vm_error() -> None:
    vm = VM(assemble('LoadConst "x"\nPrintLn 1', source="pipe.fasm"), stdout=_Closed())
    with pytest.raises(OutputClosed) as info:
        vm.run()
    err = info.value
    assert isinstance(err, VMError) and err.op == "PrintLn" and err.line == 2
    assert isinstance(err.__cause__, BrokenPipeError)


def test_runs_after_emfile_recover(tmp_path: Path) -> None:
    """Nothing leaks from a failed substitution: the next one works."""
    vm = vm_for('.chunk b\nLoadConst "x"\nPrintLn 1\n.end\nCmdSubst b')
    with no_free_fds(), pytest.raises(HostError):
        vm.run()
    vm.reset()
    assert vm.run() == "x"
    vm.close()


@pytest.mark.parametrize("op", ["PipelineBegin 2", "SubshellBegin",
                                'LoadConst "1"\nRedirect 2 >&\nWithRedirectsBegin 1'])
def test_a_loop_that_never_closes_stops_before_exhausting_descriptors(op: str) -> None:
    """Under Caps.NONE, opening pipelines, subshells or scopes in a loop is a HostError at
    MAX_NESTING, not an fd table the embedder can no longer open files in."""
    from fusevm.limits import MAX_NESTING
    from fusevm.shell.caps import Caps
    before = len(os.listdir("/proc/self/fd"))
    vm = VM(assemble(f"top:\n{op}\nJump top", source="loop.fasm"), caps=Caps.NONE)
    with pytest.raises(HostError, match="open at once") as info:
        vm.run()
    assert str(MAX_NESTING) in info.value.message
    vm.close()
    assert len(os.listdir("/proc/self/fd")) <= before


def test_command_substitution_output_is_bounded() -> None:
    from fusevm.errors import MemoryLimit
    from fusevm.shell import subst

    def chatty(chunk: object, stdout_fd: int, stdin_fd: int = 0) -> int:
        for _ in range(40):
            os.write(stdout_fd, b"x" * 1000)
        return 0
    with pytest.raises(MemoryLimit, match="command substitution"):
        subst.capture(chatty, None, limit=10_000)
    assert subst.capture(chatty, None, limit=40_000) == ("x" * 40_000, 0)
