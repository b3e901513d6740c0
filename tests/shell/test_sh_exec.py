"""Running commands: statuses and messages like bash (D12), PATH search, background jobs."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from shellkit import needs_bash, read, run_bash

from fusevm.ops.shell_codes import Redir
from fusevm.shell.posix import PosixHost

pytestmark = pytest.mark.process


def _stderr_of(host: PosixHost, argv: list[str], path: Path) -> tuple[int, str]:
    """Run argv with the host's own stderr (where its messages go) captured in a file."""
    host.redirect(2, Redir.WRITE, str(path))
    host.with_redirects_begin(1)
    try:
        status = host.exec(argv)
    finally:
        host.with_redirects_end()
    return status, read(path)


def test_exit_codes_pass_through(host: PosixHost) -> None:
    assert host.exec(["true"]) == 0
    assert host.exec(["false"]) == 1
    assert host.exec(["sh", "-c", "exit 42"]) == 42
    assert host.last_status == 42


def test_empty_argv_is_success(host: PosixHost) -> None:
    assert host.exec([]) == 0 and host.exec_bg([]) == 0


def test_command_not_found_is_127_with_a_message(host: PosixHost, in_tmp: Path) -> None:
    status, err = _stderr_of(host, ["no_such_command_xyzzy"], in_tmp / "err")
    assert status == 127
    assert err == "fusevm: no_such_command_xyzzy: command not found\n"
    status, err = _stderr_of(host, ["/this/path/should/not/exist/x"], in_tmp / "err")
    assert status == 127 and "No such file or directory" in err


def test_messages_follow_the_commands_stderr_redirect(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(2, Redir.WRITE, "cmd_err")
    assert host.exec(["no_such_command_xyzzy"]) == 127
    assert read(in_tmp / "cmd_err") == "fusevm: no_such_command_xyzzy: command not found\n"
    host.redirect(2, Redir.DUP_WRITE, "-")
    assert host.exec(["no_such_command_xyzzy"]) == 127  # stderr closed: silent


def test_not_executable_is_126(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "data").write_text("just text\n")
    (in_tmp / "adir").mkdir()
    status, err = _stderr_of(host, ["./data"], in_tmp / "err")
    assert status == 126 and err == "fusevm: ./data: Permission denied\n"
    status, err = _stderr_of(host, ["./adir"], in_tmp / "err")
    assert status == 126 and err == "fusevm: ./adir: Is a directory\n"


def test_non_executable_on_path_is_126(host: PosixHost, in_tmp: Path) -> None:
    bindir = in_tmp / "bin"
    bindir.mkdir()
    (bindir / "tool").write_text("#!/bin/sh\necho tool\n")
    env = dict(os.environ, PATH=f"{bindir}:/usr/bin:/bin")
    h = PosixHost(env=env)
    try:
        status, err = _stderr_of(h, ["tool"], in_tmp / "err")
        assert status == 126 and "Permission denied" in err
        (bindir / "tool").chmod(0o755)
        h.redirect(1, Redir.WRITE, "out")
        assert h.exec(["tool"]) == 0 and read(in_tmp / "out") == "tool\n"
    finally:
        h.close()


def test_bad_interpreter_is_126(host: PosixHost, in_tmp: Path) -> None:
    script = in_tmp / "bad"
    script.write_text("#!/nonexistent/interp\n")
    script.chmod(0o755)
    status, err = _stderr_of(host, ["./bad"], in_tmp / "err")
    assert status == 126 and "bad interpreter" in err


def test_script_without_shebang_runs_under_sh(host: PosixHost, in_tmp: Path) -> None:
    script = in_tmp / "plain"
    script.write_text("echo from-sh $1\n")
    script.chmod(0o755)
    host.redirect(1, Redir.WRITE, "out")
    assert host.exec(["./plain", "arg"]) == 0
    assert read(in_tmp / "out") == "from-sh arg\n"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGKILL, 137),
                                           (signal.SIGINT, 130)])
def test_signal_death_is_128_plus_n(host: PosixHost, sig: int, code: int) -> None:
    assert host.exec(["sh", "-c", f"kill -{int(sig)} $$"]) == code


def test_sigpipe_is_default_in_children(host: PosixHost) -> None:
    # Python ignores SIGPIPE; children must get it back, so `yes` dies with 141.
    host.pipeline_begin(2)
    host.exec(["yes"])
    host.pipeline_stage()
    host.redirect(1, Redir.WRITE, os.devnull)
    host.exec(["head", "-1"])
    assert host.pipeline_end() == 0 and host.pipestatus == [141, 0]


def test_argv_reaches_the_child_verbatim(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(1, Redir.WRITE, "out")
    args = ["", "two words", "*", "$HOME", "é", "-n"]
    assert host.exec(["printf", "[%s]", *args]) == 0
    assert read(in_tmp / "out") == "".join(f"[{a}]" for a in args)


def test_environment_is_the_hosts(in_tmp: Path) -> None:
    h = PosixHost(env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ONLY": "this"})
    h.redirect(1, Redir.WRITE, "out")
    h.exec(["env"])
    h.close()
    assert "ONLY=this" in read(in_tmp / "out") and "HOME=" not in read(in_tmp / "out")


def test_background_job_returns_pid_and_is_reaped(host: PosixHost, in_tmp: Path) -> None:
    pid = host.exec_bg(["sh", "-c", "echo bg > out; exit 3"])
    assert pid > 0 and host.last_bg_pid == pid
    assert host.wait(pid) == 3
    assert read(in_tmp / "out") == "bg\n"
    assert host.wait(pid) is None  # already collected
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_background_stdin_is_dev_null(host: PosixHost, in_tmp: Path) -> None:
    pid = host.exec_bg(["sh", "-c", "cat > got; readlink /proc/self/fd/0 > which"])
    assert host.wait(pid) == 0
    assert read(in_tmp / "got") == ""


def test_background_spawn_failure_returns_zero(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(2, Redir.WRITE, str(in_tmp / "err"))
    host.with_redirects_begin(1)
    try:
        assert host.exec_bg(["/no/such/binary"]) == 0
    finally:
        host.with_redirects_end()


def test_finished_jobs_are_reaped_without_waiting(host: PosixHost) -> None:
    pids = [host.exec_bg(["sh", "-c", f"exit {i}"]) for i in range(5)]
    deadline = time.monotonic() + 10
    while host.running_jobs and time.monotonic() < deadline:
        host.reap()
        time.sleep(0.01)
    assert host.running_jobs == []
    for pid in pids:  # no zombies left: the kernel no longer knows them as our children
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    assert [host.wait(pid) for pid in pids] == [0, 1, 2, 3, 4]


def test_wait_all(host: PosixHost) -> None:
    host.exec_bg(["sh", "-c", "sleep 0.05; exit 4"])
    assert host.wait_all() == 4
    assert host.wait_all() == 4  # the last job's status is remembered, nothing is left
    assert not host.reap()


def test_registered_functions_run_before_path(host: PosixHost, in_tmp: Path) -> None:
    calls: list[list[str]] = []

    def greet(args: list[str]) -> int:
        calls.append(args)
        os.write(1, b"hello from a function\n")
        return 5

    host.functions["greet"] = greet
    host.redirect(1, Redir.WRITE, "fout")
    assert host.call_function("greet", ["a", "b"]) == 5
    assert calls == [["a", "b"]] and read(in_tmp / "fout") == "hello from a function\n"
    # Unknown: None, and the queued redirect is left for the exec that follows.
    host.redirect(1, Redir.WRITE, "eout")
    assert host.call_function("nofunc", []) is None
    assert host.exec(["echo", "fallback"]) == 0 and read(in_tmp / "eout") == "fallback\n"


@needs_bash
def test_statuses_agree_with_bash(in_tmp: Path) -> None:
    (in_tmp / "noexec").write_text("x\n")
    (in_tmp / "dir").mkdir()
    cases = [["true"], ["false"], ["sh", "-c", "exit 7"], ["nonexistent_cmd_q"],
             ["./noexec"], ["./dir"], ["sh", "-c", "kill -TERM $$"], ["./missing"]]
    host = PosixHost()
    host.redirect(2, Redir.WRITE, os.devnull)
    host.with_redirects_begin(1)
    try:
        ours = [host.exec(argv) for argv in cases]
    finally:
        host.with_redirects_end()
        host.close()
    script = "; ".join(
        " ".join(f"'{a}'" for a in argv) + ' 2>/dev/null; printf "%d " $?' for argv in cases)
    theirs = [int(x) for x in run_bash(script, cwd=in_tmp).stdout.split()]
    assert ours == theirs
