"""External commands: started with posix_spawn, their redirections applied by the shell
and undone once the command has started, signals and statuses as a forked child's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
    ("trap 'echo caught' USR1; /bin/sh -c 'kill -USR1 $$; exit 7'; echo $?", "138\n", 0),
    # statuses of commands that cannot start
    ("./; echo $?", "126\n", 0),
    ("nosuchcommand 2>/dev/null; echo $?", "127\n", 0),
    ("{ /no/such/cmd; } 2>&1 | wc -l | tr -d ' '", "1\n", 0),
]


@pytest.mark.parametrize(("script", "expected", "status"), CASES)
def test_external(sh, script: str, expected: str, status: int) -> None:  # type: ignore[no-untyped-def]
    sh(script, expected, status)


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
