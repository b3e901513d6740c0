"""External commands: started with posix_spawn, their redirections applied by the shell
and undone once the command has started, signals and statuses as a forked child's; the
pipeline stages that are one such command, their words expanded by the shell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fusevm.lang.sh import main as _main  # noqa: F401 (registers the shell's ops)
from fusevm.lang.sh import runtime
from fusevm.lang.sh.state import Pending, new_state
from fusevm.ops.shell_codes import Redir

CASES = [
    # what the command reads and writes, and the shell's own fds after it
    ("/bin/echo a > f; /bin/echo b >> f; /bin/cat < f; echo after", "a\nb\nafter\n", 0),
    ("/bin/cat <<EOF\nx $((1 + 2))\nEOF", "x 3\n", 0),
    ("exec 3>f3; /bin/sh -c 'echo via3 >&3'; exec 3>&-; /bin/cat f3", "via3\n", 0),
    ("{ /bin/sh -c 'echo out; echo err >&2' 2>&1 >/dev/null; } | /bin/cat", "err\n", 0),
    ("x=1 /bin/sh -c 'echo $x'; echo ${x-unset}", "1\nunset\n", 0),
    # no copy the shell keeps of a redirected fd reaches the command (ls's own is 3)
    ("/bin/ls /proc/self/fd 2>/dev/null >o; tr '\\n' ' ' <o", "0 1 2 3 ", 0),
    # a file without #!: a fresh shell runs it, with the redirections
    ("printf 'echo \"plain $1\"\\n' > s; chmod +x s; ./s arg > o; /bin/cat o",
     "plain arg\n", 0),
    # SIGPIPE at its default action (CPython ignores it); an ignored SIGINT stays so
    ("/bin/sh -c 'kill -PIPE $$; exit 7'; echo $?", "141\n", 0),
    ("/bin/sh -c 'kill -INT $$; exit 7'; echo $?", "130\n", 0),
    ("trap '' INT; /bin/sh -c 'kill -INT $$; exit 7'; echo $?", "7\n", 0),
    # `trap '' PIPE` passes SIGPIPE ignored to commands (in a subshell too, and a
    # pipeline's stages), `trap - PIPE` defaulted again
    ("trap '' PIPE; /bin/sh -c 'kill -PIPE $$; exit 7'; echo $?", "7\n", 0),
    ("(trap '' PIPE; /bin/sh -c 'kill -PIPE $$; exit 7'); echo $?", "7\n", 0),
    ("trap '' PIPE; /bin/sh -c 'kill -PIPE $$; exit 7' | /bin/cat; echo ${?}",
     "0\n", 0),
    ("trap '' PIPE; trap - PIPE; /bin/sh -c 'kill -PIPE $$; exit 7'; echo $?", "141\n", 0),
    ("trap 'echo caught' USR1; /bin/sh -c 'kill -USR1 $$; exit 7'; echo $?", "138\n", 0),
    # statuses of commands that cannot start
    ("./; echo $?", "126\n", 0),
    ("nosuchcommand 2>/dev/null; echo $?", "127\n", 0),
    ("{ /no/such/cmd; } 2>&1 | wc -l | tr -d ' '", "1\n", 0),
]


@pytest.mark.parametrize(("script", "expected", "status"), CASES)
def test_external(sh, script: str, expected: str, status: int) -> None:  # type: ignore[no-untyped-def]
    sh(script, expected, status)


def test_stage_lineno(sh) -> None:  # type: ignore[no-untyped-def]
    """The shell's LINENO is its own after a stage it expanded (dash has no LINENO)."""
    sh("/bin/echo a |\n/bin/cat\necho $LINENO", "a\n3\n", 0, like_dash=False)


# A redirection that fails: its message is written with the redirections before it in
# effect, as a forked child applying them would write it (status 1, as bash; dash says 2).
FAILED = [
    ("{ /bin/echo x 2>/dev/null >/no/such/f; echo $?; } 2>&1", "1\n"),
    ("{ /bin/echo x >/no/such/f 2>/dev/null; echo $?; } 2>&1 | wc -l | tr -d ' '", "2\n"),
    ("/bin/echo x >/no/such/f 2>/dev/null; /bin/echo still", "still\n"),
]


@pytest.mark.parametrize(("script", "expected"), FAILED)
def test_failed_redirection(sh, script: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    sh(script, expected, 0, like_dash=False)


# Pipeline stages: the shell expands a stage's words itself where its child would get the
# same (`lang/sh/stages.py`), and forks for the others.
STAGES = [
    ("x='a  b'; /bin/echo $x \"$x\" \"${y-def}\" ${x%b} ~root | /bin/cat", None, 0),
    ("touch p.t q.t; /bin/echo *.t | /bin/cat; set -f; /bin/echo *.t | /bin/cat", None, 0),
    ("set -- 1 '2 3'; /bin/echo \"$#\" \"$@\" | /bin/tr ' ' _", "2_1_2_3\n", 0),
    ("/bin/echo a 2>/dev/null >f | /bin/cat; /bin/cat f", "a\n", 0),
    ("x=hi; /bin/cat <<EOF | /usr/bin/tr a-z A-Z\n$x there\nEOF", "HI THERE\n", 0),
    ("X=1 /usr/bin/env | /bin/grep '^X='; echo ${X-unset}", "X=1\nunset\n", 0),
    ("nosuch 2>/dev/null | /bin/cat; echo $?; /bin/echo a | nosuch 2>/dev/null; echo $?",
     "0\n127\n", 0),
    ("f() { echo \"f $1\"; }; v=2; f $v | /bin/cat; echo $((1 + 1)) | /bin/cat",
     "f 2\n2\n", 0),
    ("exit_in_stage() { exit 3; }; exit_in_stage | /bin/cat; echo still", "still\n", 0),
    ("/usr/bin/yes | /usr/bin/head -n 1; echo $?", "y\n0\n", 0),
    ("false; /bin/echo $? | /bin/cat; true | /bin/false; echo $?", "1\n1\n", 0),
    ("set -u; /bin/echo $nope | /bin/cat; echo after", "after\n", 0),
    ("set -x; /bin/echo traced | /bin/cat", "traced\n", 0),
    # a FIFO's open waits for its other end, here the next stage
    ("mkfifo p; /bin/echo hi > p | /bin/cat < p; echo $?", "hi\n0\n", 0),
    # what a stage assigns stays in its subshell
    ("/bin/echo ${v=set} | /bin/cat; echo ${v-unset}", "set\nunset\n", 0),
    ("readonly R=1; R=2 /bin/echo x 2>/dev/null | /bin/cat; echo still $R", "still 1\n", 0),
    # $(...) of one program: started the same way, `$?` inside it the one before it
    ("x=$(/bin/echo a  b); echo \"[$x]\"; y=$(/bin/false); echo $?", "[a b]\n1\n", 0),
    ("false; q=$(/bin/sh -c 'echo $1' sh $?); echo $q", "1\n", 0),
    ("z=$(nosuch 2>/dev/null); echo $?; w=$(/bin/echo $((2 + 3))); echo $w", "127\n5\n", 0),
    ("f() { echo \"fn $1\"; }; w=$(f 1); echo $w; n=$(/usr/bin/printf 'a\\n\\n'); echo \"[$n]\"",
     "fn 1\n[a]\n", 0),
    ("echo $(/bin/echo out; /bin/echo err >&2) 2>/dev/null", "out\n", 0),
]


@pytest.mark.parametrize(("script", "expected", "status"), STAGES)
def test_stage(sh, script: str, expected: str | None, status: int) -> None:  # type: ignore[no-untyped-def]
    sh(script, expected, status)


def test_started_without_fork(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The shell process is not forked to start a command (a fork copies its page tables
    and faults in what the child touches: about twice the CPU of a spawn)."""
    def no_fork() -> int:
        raise AssertionError("the shell forked to start a command")

    monkeypatch.setattr(os, "fork", no_fork)
    out = tmp_path / "o"
    status = runtime.run_external(new_state(), ["/bin/sh", "-c", "echo hi; exit 3"],
                                  [Pending(1, int(Redir.WRITE), str(out))])
    assert status == 3
    assert out.read_text() == "hi\n"


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the children this process forks from here on."""
    found: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            found.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return found


def test_program_stages_without_fork(forks: list[int], tmp_path: Path) -> None:
    """A pipeline of programs whose words need no shell code is started with no fork, and
    so is a `$(...)` of one program; a stage with `$(( ))` in it forks."""
    out = tmp_path / "o"
    s = new_state()
    s.vars["x"] = "a b"
    assert runtime.run_text(s, f"/bin/echo $x | /usr/bin/tr a-z A-Z | /bin/cat > {out}") == 0
    assert (out.read_text(), forks) == ("A B\n", [])
    assert runtime.run_text(s, f"/bin/echo $((6 * 7)) | /bin/cat > {out}") == 0
    assert (out.read_text(), len(forks)) == ("42\n", 1)
    assert runtime.run_text(s, f"y=$(/bin/echo $x); /bin/echo \"$y\" > {out}") == 0
    assert (out.read_text(), len(forks)) == ("a b\n", 1)


# Background jobs: one program whose words need no shell code is started as a pipeline
# stage is (`stages.start_job`), its stdin /dev/null and SIGINT and SIGQUIT ignored.
JOBS = [
    ("/bin/sleep 0.1 & /bin/echo started; wait $!; echo $?", "started\n0\n", ""),
    ("/bin/sh -c 'exit 3' & wait $!; echo $?", "3\n", ""),
    ("nosuch 2>/dev/null & wait $!; echo $?", "127\n", ""),
    ("x='a  b'; /bin/echo \"$x\" $x > f & wait; /bin/cat f", "a  b a b\n", ""),
    ("/bin/cat & wait; echo end", "end\n", "data\n"),
    ("echo in > f; /bin/cat < f & wait", "in\n", "data\n"),
    ("trap 'echo t' INT; /bin/sh -c 'kill -INT $$; echo survived' & wait", "survived\n", ""),
    ("echo x & /bin/sh -c 'kill -QUIT $$; echo survived' & wait", "x\nsurvived\n", ""),
]


@pytest.mark.parametrize(("script", "expected", "stdin"), JOBS)
def test_job(sh, script: str, expected: str, stdin: str) -> None:  # type: ignore[no-untyped-def]
    sh(script, expected, 0, stdin=stdin)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_jobs_without_fork(forks: list[int], tmp_path: Path) -> None:
    """A background job of one program is started with no fork, and gets what the forked
    child of another job gets: SIGINT and SIGQUIT ignored, /dev/null as its stdin."""
    s = new_state()
    spawned = (f"/bin/grep -E '^SigIgn' /proc/self/status > {tmp_path}/a & "
               f"/bin/readlink /proc/self/fd/0 > {tmp_path}/b & wait")
    assert runtime.run_text(s, spawned) == 0
    assert forks == []
    forked = (f"{{ /bin/grep -E '^SigIgn' /proc/self/status; }} > {tmp_path}/c & "
              f"{{ /bin/readlink /proc/self/fd/0; }} > {tmp_path}/d & wait")
    assert runtime.run_text(s, forked) == 0
    assert len(forks) == 2
    ignored = int((tmp_path / "a").read_text().split()[1], 16)
    assert ignored & 0b110 == 0b110  # (bits of signals 2 and 3: SIGINT and SIGQUIT)
    assert (tmp_path / "a").read_text() == (tmp_path / "c").read_text()
    assert (tmp_path / "b").read_text() == (tmp_path / "d").read_text() == "/dev/null\n"


def test_idle_vms_are_kept_for_the_last_chunks_only() -> None:
    """Every top-level command and `eval` text makes a chunk that runs once: the pool of
    idle VMs keeps those of the last POOL_CHUNKS chunks, and a function's stays while it
    is called (it held every chunk a script ever ran, and grew with it)."""
    s = new_state()
    assert runtime.run_text(s, "f() { n=$((n + 1)); }; i=0; while [ $i -lt 300 ]; do "
                               "eval \"v$i=$i\"; f; i=$((i + 1)); done") == 0
    assert s.vars["n"] == "300" and s.vars["v299"] == "299"
    assert len(runtime._pool) <= runtime.POOL_CHUNKS
    assert (id(s.functions["f"]), id(s)) in runtime._pool


def test_a_scripts_commands_leave_no_cyclic_garbage() -> None:
    """A command of a script or an `eval` runs once: its VM is closed, not pooled, and with
    it go its chunk and steps, freed at once. Left to the cycle collector, a 2,000-line
    script's commands were a fifth of its time."""
    import gc
    s = new_state()
    script = "".join(f"v{i}=$((i + {i})); eval 'w{i}=x'; f{i}() {{ :; }}; f{i}\n"
                     for i in range(100))
    gc.collect()
    gc.disable()
    try:
        assert runtime.run_text(s, script) == 0
        found = gc.collect()
    finally:
        gc.enable()
    assert s.vars["v99"] == "99" and s.vars["w99"] == "x"
    assert found < 100  # (was about 110 objects a command)


def test_pipelines_run_under_a_low_descriptor_limit(sh) -> None:  # type: ignore[no-untyped-def]
    # (the shell's own modules load before a pipe takes the last free descriptors)
    sh("ulimit -n 5; printf '%s\\n' a b | while read l; do echo $l; done; "
       "printf '%s\\n' c | cat; echo $(echo d)", "a\nb\nc\nd\n")
