"""Starting and reaping child processes: PATH search, posix_spawn, exit codes, the job table.

All children are started with `os.posix_spawn` (thread-safe, no fork of a threaded Python)
and reaped with `os.waitpid` on their own pid, never `waitpid(-1)`, so this module is the one
owner of every child it starts. Exit codes follow bash (D12): the child's own
code, 128+N after signal N, 127 when the command is not found and 126 when it is found but
cannot be executed, each failure with a message on stderr.
"""

from __future__ import annotations

import errno
import os
import stat

from fusevm.records import dataclass
from fusevm.shell import csignal as signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Final

__all__ = [
    "DEFAULT_PATH",
    "Jobs",
    "Resolved",
    "exit_code",
    "resolve",
    "spawn",
    "wait_pid",
]

#: The search path used when PATH is unset (bash's default, minus the current directory).
DEFAULT_PATH: Final = "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"

NOT_FOUND: Final = 127
NOT_EXECUTABLE: Final = 126


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a command name leads: a path to execute, or a status and message for failure."""

    path: str | None
    status: int = 0
    message: str = ""


def _executable_file(path: str) -> bool:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(st.st_mode) and os.access(path, os.X_OK)


def _check_path(path: str) -> Resolved:
    """Classify an explicit path (one containing '/') the way bash reports it."""
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not found"
        return Resolved(None, NOT_FOUND, f"{path}: {reason}")
    if stat.S_ISDIR(st.st_mode):
        return Resolved(None, NOT_EXECUTABLE, f"{path}: Is a directory")
    if not os.access(path, os.X_OK):
        return Resolved(None, NOT_EXECUTABLE, f"{path}: Permission denied")
    return Resolved(path)


def resolve(name: str, path_var: str | None) -> Resolved:
    """Find command `name`: as a path if it contains '/', otherwise on `path_var`.

    A PATH entry that holds a non-executable file with the name is remembered; if no entry
    holds an executable one, that file is reported as "Permission denied" (126), as bash does.
    An empty PATH entry means the current directory.
    """
    if "/" in name:
        return _check_path(name)
    if not name:
        return Resolved(None, NOT_FOUND, f"{name}: command not found")
    fallback: str | None = None
    for entry in (DEFAULT_PATH if path_var is None else path_var).split(":"):
        candidate = os.path.join(entry or ".", name)
        if _executable_file(candidate):
            return Resolved(candidate)
        if fallback is None and os.path.isfile(candidate):
            fallback = candidate
    if fallback is not None:
        return Resolved(None, NOT_EXECUTABLE, f"{fallback}: Permission denied")
    return Resolved(None, NOT_FOUND, f"{name}: command not found")


def exit_code(wait_status: int) -> int:
    """Shell status of a wait status: the exit code, or 128+N for death by signal N."""
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    if os.WIFSTOPPED(wait_status):
        return 128 + os.WSTOPSIG(wait_status)
    return os.WEXITSTATUS(wait_status)


def wait_pid(pid: int) -> int:
    """Block until child `pid` ends and return its shell status.

    A KeyboardInterrupt (the terminal's ^C also reached the child) still reaps the child
    before it propagates, so no zombie is left behind.
    """
    try:
        _, status = os.waitpid(pid, 0)
    except KeyboardInterrupt:
        os.waitpid(pid, 0)
        raise
    except ChildProcessError:
        return NOT_FOUND
    return exit_code(status)


def spawn(
    path: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    actions: Sequence[tuple[int, ...]],
    *,
    sigdef: frozenset[int],
    new_group: bool = False,
) -> int:
    """Start `path` with `argv` and fd file actions; returns the pid.

    A script without a `#!` line fails exec with ENOEXEC and is retried under /bin/sh, as
    every POSIX shell does.

    Raises:
        OSError: the exec failed (ENOENT for a bad interpreter, EACCES, E2BIG, ...).
    """
    kwargs: dict[str, object] = {"file_actions": list(actions), "setsigdef": tuple(sigdef)}
    if new_group:
        kwargs["setpgroup"] = 0
    try:
        return os.posix_spawn(path, list(argv), env, **kwargs)  # type: ignore[arg-type]
    except OSError as exc:
        if exc.errno != errno.ENOEXEC:
            raise
    return os.posix_spawn("/bin/sh", ["sh", path, *argv[1:]], env,
                          **kwargs)  # type: ignore[arg-type]


def spawn_error(path: str, exc: OSError) -> tuple[int, str]:
    """Status and message for an exec that failed after the path was resolved."""
    if exc.errno == errno.ENOENT:
        # The file exists (resolve checked), so its `#!` interpreter is what is missing.
        return NOT_EXECUTABLE, f"{path}: bad interpreter: No such file or directory"
    return NOT_EXECUTABLE, f"{path}: {exc.strerror or exc}"


#: Signals CPython sets to SIG_IGN at start-up; children must get them back at default.
PYTHON_IGNORED: Final = frozenset(
    s for s in (getattr(signal, "SIGPIPE", None), getattr(signal, "SIGXFSZ", None))
    if s is not None
)


class Jobs:
    """Background children: started, reaped without blocking, waited for on request.

    Statuses of reaped jobs are kept (the most recent `KEEP`) so `wait PID` still works
    after the child was reaped by `reap()`.
    """

    KEEP: Final = 4096

    def __init__(self) -> None:
        self.running: dict[int, None] = {}
        self.done: dict[int, int] = {}
        self.last_pid: int = 0

    def __len__(self) -> int:
        return len(self.running)

    def add(self, pid: int) -> None:
        self.running[pid] = None
        self.last_pid = pid

    def _finish(self, pid: int, status: int) -> None:
        self.running.pop(pid, None)
        self.done[pid] = status
        while len(self.done) > self.KEEP:
            del self.done[next(iter(self.done))]

    def reap(self) -> list[tuple[int, int]]:
        """Collect every finished background child without blocking; returns (pid, status)."""
        finished: list[tuple[int, int]] = []
        for pid in list(self.running):
            try:
                got, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                self._finish(pid, NOT_FOUND)
                continue
            if got:
                code = exit_code(status)
                self._finish(pid, code)
                finished.append((pid, code))
        return finished

    def wait(self, pid: int) -> int | None:
        """Wait for background child `pid`; None if it is not (or no longer) known."""
        if pid in self.running:
            self._finish(pid, wait_pid(pid))
        return self.done.pop(pid, None)

    def wait_all(self) -> int:
        """Wait for every background child; the status of the last one started, else 0."""
        last = self.last_pid
        status = 0
        for pid in list(self.running):
            code = wait_pid(pid)
            self._finish(pid, code)
        if last in self.done:
            status = self.done[last]
        return status
