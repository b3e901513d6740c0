"""PosixHost: the default shell host, behaving like a real POSIX shell (D12).

It owns the shell's process-level state: the queue of pending redirections, the stack of
redirection scopes, open pipelines, background jobs, process-substitution pipes, traps and
subshell snapshots. Commands run as real children (`process.spawn`); redirections apply to
the child only unless a scope (`with_redirects_begin`) applies them to the shell itself.
Statuses follow bash: 127/126 with a message on stderr, 128+N after a signal, 1 when a
redirection fails (the command is then not run).

A host either owns this process's fds 0-2 (the default) or, when built with explicit
`stdin`/`stdout`/`stderr` fds (`child()`), keeps a private fd table instead, so a host used
on a worker thread never changes fds other threads rely on.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from fusevm.errors import HostError
from fusevm.limits import MAX_NESTING
from fusevm.ops.shell_codes import Redir
from fusevm.regex import RegexError
from fusevm.shell import expand, filetest, glob, process, subst
from fusevm.shell.caps import Caps
from fusevm.shell.hostbase import ShellHostBase
from fusevm.shell.redirect import (
    DOCUMENT,
    FdTable,
    ProcessFds,
    RedirectError,
    Redirection,
    flush_std,
)
from fusevm.shell.traps import IGNORE, Traps, parse_signal

if TYPE_CHECKING:
    from fusevm.shell.protocol import ChunkRef, ChunkRunner

__all__ = ["PosixHost"]

_HAS_DEV_FD: Final = os.path.isdir("/dev/fd")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _pipe(what: str) -> tuple[int, int]:
    """os.pipe(), or a HostError saying why not (EMFILE, ENFILE)."""
    try:
        return os.pipe()
    except OSError as exc:
        raise HostError(f"cannot {what}: {_reason(exc)}") from None


def _check_open(what: str, count: int) -> None:
    """Refuse to nest deeper than MAX_NESTING: each level holds descriptors of this process,
    and a loop that never closes them would exhaust the embedder's fd table."""
    if count >= MAX_NESTING:
        raise HostError(f"more than {MAX_NESTING} {what} open at once")


def _check_argv(argv: Sequence[str]) -> None:
    """A NUL cannot be passed to exec (C strings end there): refuse instead of truncating."""
    for i, word in enumerate(argv):
        if "\0" in word:
            raise HostError(f"argument {i} of {argv[0]!r} contains a NUL byte")


@dataclass(slots=True)
class _Pipeline:
    """One open pipeline: its pipe ends in this process and what each stage started."""

    stages: int
    index: int = 0
    prev_read: int | None = None  # stdin of the current stage
    write: int | None = None  # stdout of the current stage
    read: int | None = None  # the other end of `write`, stdin of the next stage
    # Per stage: ("pid", pid) for a started child, ("status", code) for one that failed.
    runs: list[list[tuple[str, int]]] = field(default_factory=lambda: [[]])

    def close_ends(self, *names: str) -> None:
        for name in names:
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)


@dataclass(slots=True)
class _Snapshot:
    """What a subshell may change and `subshell_end` puts back."""

    cwd: str
    env: dict[str, str]
    umask: int
    options: tuple[bool, bool, str | None]
    traps: dict[int | str, object]
    functions: dict[str, Callable[[list[str]], int]]
    scopes: int
    exit_status: int | None = None


class PosixHost(ShellHostBase):
    """The default `ShellHost`: real processes, pipes, redirections, traps and globbing.

    Args:
        caps: the capabilities this host may use; a withheld one raises CapabilityError
            before any system call.
        runner: runs sub-chunks (`$(...)`, `<(...)`, traps); also settable with
            `bind_runner`. Without one, those methods raise HostError.
        env: the environment for children (None: this process's `os.environ`, live).
        stdin, stdout, stderr: fds standing for 0, 1 and 2; giving any makes the fd table
            private to this host (see the module docstring).
        name: the prefix of error messages (`fusevm: x: command not found`).
        use_fifo: use named pipes instead of /dev/fd paths for process substitution.

    Shell options are plain attributes: `noclobber`, `pipefail`, `ifs` (None means unset),
    `patsub_replacement`. Results beyond the protocol's return values are attributes too:
    `pipestatus` (PIPESTATUS of the last pipeline), `last_status` (status of the last thing
    this host ran or failed to run, the side channel for `x=$(cmd)` and failed redirect
    scopes), `last_subst_status`, `last_bg_pid` ($!), and `rematch` (BASH_REMATCH).
    """

    def __init__(
        self,
        *,
        caps: Caps = Caps.ALL,
        runner: ChunkRunner | None = None,
        env: dict[str, str] | None = None,
        stdin: int | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
        name: str = "fusevm",
        use_fifo: bool = False,
    ) -> None:
        self.caps = caps
        self.env = env
        self.name = name
        self.use_fifo = use_fifo or not _HAS_DEV_FD
        self.noclobber = False
        self.pipefail = False
        self.ifs: str | None = None
        self.patsub_replacement = True
        self.functions: dict[str, Callable[[list[str]], int]] = {}
        self.pipestatus: list[int] = []
        self.last_status = 0
        self.last_subst_status: int | None = None
        self.rematch: list[str] = []
        self._runner = runner
        base = {fd: src for fd, src in ((0, stdin), (1, stdout), (2, stderr)) if src is not None}
        self._private = bool(base)
        self._fds: dict[int, int] = base  # private mode: this host's fd table
        self._private_scopes: list[tuple[dict[int, int], list[int]]] = []
        self._permanent_fds: list[int] = []
        self._process_fds = ProcessFds(host_fds=caps.host_fds)
        self._pending: list[Redirection] = []
        self._pipelines: list[_Pipeline] = []
        self._jobs = process.Jobs()
        self._traps = Traps()
        self._procsubs = subst.ProcessSubs()
        self._subshells: list[_Snapshot] = []
        self._exit_trap_done = False

    # -- Set-up and shutdown -----------------------------------------------------------------

    def bind_runner(self, runner: ChunkRunner) -> None:
        """Install the callback that runs sub-chunks (replaces any previous one)."""
        self._runner = runner

    def child(self, *, stdin: int | None = None, stdout: int | None = None) -> PosixHost:
        """A host for a child VM: same options, environment copy, functions and runner, with
        stdin/stdout replaced as given and a private fd table (safe on another thread)."""
        host = PosixHost(
            caps=self.caps, runner=self._runner,
            env=dict(self._environ()),
            stdin=self._fd(0) if stdin is None else stdin,
            stdout=self._fd(1) if stdout is None else stdout,
            stderr=self._fd(2), name=self.name, use_fifo=self.use_fifo)
        host.noclobber, host.pipefail, host.ifs = self.noclobber, self.pipefail, self.ifs
        host.patsub_replacement = self.patsub_replacement
        host.functions = dict(self.functions)
        return host

    @property
    def stdout_fd(self) -> int:
        """The fd this host's commands write to (where in-process output belongs)."""
        return self._fd(1)

    @property
    def stderr_fd(self) -> int:
        """The fd this host's commands and error messages write to as stderr."""
        return self._fd(2)

    @property
    def last_bg_pid(self) -> int:
        """`$!`: the pid of the last background command (0 if none)."""
        return self._jobs.last_pid

    def close(self) -> None:
        """Release everything: restore fds and signal handlers, close pipes, reap children.

        Background jobs still running are handed to daemon threads that wait for them, so
        none becomes a zombie.
        """
        while self._private_scopes:
            self.with_redirects_end()
        for fd in self._permanent_fds:
            os.close(fd)
        self._permanent_fds.clear()
        self._process_fds.pop_all()
        for pipeline in self._pipelines:
            pipeline.close_ends("prev_read", "write", "read")
            for stage in pipeline.runs:
                for what, value in stage:
                    if what == "pid":
                        process.wait_pid(value)
        self._pipelines.clear()
        self._pending.clear()
        self._procsubs.release(wait=True)
        self._traps.close()
        self._jobs.reap()
        for pid in list(self._jobs.running):
            threading.Thread(target=process.wait_pid, args=(pid,), daemon=True).start()
        self._jobs.running.clear()

    def __enter__(self) -> PosixHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- Small helpers -----------------------------------------------------------------------

    def _fd(self, fd: int) -> int:
        return self._fds.get(fd, fd)

    def _environ(self) -> Mapping[str, str]:
        return os.environ if self.env is None else self.env

    def _error(self, message: str, fd: int | None = None) -> None:
        """Print `name: message` on this host's stderr (or on `fd`)."""
        flush_std()
        try:
            os.write(self._fd(2) if fd is None else fd,
                     f"{self.name}: {message}\n".encode(errors="surrogateescape"))
        except OSError:
            pass

    def _need_runner(self) -> ChunkRunner:
        if self._runner is None:
            raise HostError("no chunk runner bound to the shell host (see bind_runner)")
        return self._runner

    def _take_pending(self) -> list[Redirection]:
        pending, self._pending = self._pending, []
        return pending

    def _own_fds(self) -> frozenset[int]:
        """Fds beyond 0-2 that this host placed: open pipelines' pipes, process
        substitutions' ends and (in-process) redirection scopes (see `fusevm.shell.caps`)."""
        fds = set(self._procsubs.consumer_fds()) | self._process_fds.claimed()
        for p in self._pipelines:
            fds.update(fd for fd in (p.prev_read, p.write, p.read) if fd is not None)
        return frozenset(fds)

    def _table(self) -> FdTable:
        """A child fd table starting from this host's fds, keeping the sandbox's fd rule."""
        return FdTable(self._fds, host_fds=self.caps.host_fds, own=self._own_fds())

    def _sigdef(self) -> frozenset[int]:
        return process.PYTHON_IGNORED - self._traps.ignored()

    # -- Expansion and matching (no system access beyond reading) -----------------------------

    def glob(self, pattern: str, recursive: bool) -> list[str]:
        """Pathname expansion (see `fusevm.shell.glob.glob`); `**` walks in parallel."""
        self.caps.require("fs_read", f"glob {pattern!r}")
        return glob.glob(pattern, recursive)

    def tilde_expand(self, s: str) -> str:
        """`~` from this host's HOME, `~user` from the password database, `~+`, `~-`.

        Raises:
            CapabilityError: the password database is needed (`~user`, or `~` with HOME
                unset) and fs_read is withheld.
        """
        env = self._environ()
        if expand.tilde_reads_passwd(s, env):
            self.caps.require("fs_read", f"expand {s.split('/', 1)[0]!r}")
        return expand.tilde_expand(s, env=env)

    def brace_expand(self, s: str) -> list[str]:
        """Bash brace expansion of one word."""
        return expand.brace_expand(s)

    def word_split(self, s: str, ifs: str | None = None) -> list[str]:
        """IFS splitting with `ifs`, or with the `ifs` attribute when None is passed."""
        return expand.word_split(s, self.ifs if ifs is None else ifs)

    def expand_param(
        self,
        name: str,
        modifier: int,
        args: Sequence[object],
        *,
        value: expand.ParamValue = None,
        is_set: bool | None = None,
        lookup: Callable[[str], expand.ParamValue] | None = None,
    ) -> expand.Expansion:
        """`${name<modifier>args}`; see `fusevm.shell.expand.expand_param`."""
        return expand.expand_param(name, modifier, args, value=value, is_set=is_set,
                                   lookup=lookup, ampersand=self.patsub_replacement)

    def str_match(self, s: str, pattern: str) -> bool:
        """Whole-string shell pattern match with POSIX bracket classes."""
        return glob.str_match(s, pattern)

    def regex_match(self, s: str, regex: str) -> bool:
        """ERE search; on a match `rematch` holds the match and its groups. An invalid
        regex is False with `last_status` 2 (bash's `[[ =~ ]]` status)."""
        try:
            groups = glob.regex_search(s, regex)
        except RegexError:
            self.last_status = 2
            self.rematch = []
            return False
        self.rematch = [g or "" for g in groups] if groups is not None else []
        return groups is not None

    def test_file(self, code: int, path: str) -> bool:
        """`test -X path` with real access checks (see `fusevm.shell.filetest`)."""
        self.caps.require("fs_read", f"test {path!r}")
        return filetest.test_file(code, path)

    # -- Redirections ---------------------------------------------------------------------

    def redirect(self, fd: int, kind: int, target: str) -> None:
        """Queue `fd kind target` for the next command (a `Redir` code).

        Raises:
            HostError: unknown kind.
            CapabilityError: a file redirection without fs_read / fs_write.
        """
        try:
            redir = Redir(kind)
        except ValueError:
            raise HostError(f"unknown redirect kind {kind}") from None
        if redir.opens_file:
            if redir.writes:
                self.caps.require("fs_write", f"redirect to {target!r}")
            if redir in (Redir.READ, Redir.READ_WRITE):
                self.caps.require("fs_read", f"redirect from {target!r}")
        self._pending.append(Redirection(fd, redir, target))

    def heredoc(self, content: str) -> None:
        """Make `content` the next command's stdin."""
        self._pending.append(Redirection(0, DOCUMENT, content))

    def herestring(self, content: str) -> None:
        """Make `content` and a newline the next command's stdin."""
        self._pending.append(Redirection(0, DOCUMENT, content + "\n"))

    def with_redirects_begin(self, n: int) -> None:
        """Apply the last `n` queued redirections until `with_redirects_end`.

        A redirection that fails prints its message and sets `last_status` to 1; the scope is
        still opened (empty) so the matching end stays balanced.

        Raises:
            HostError: fewer than `n` redirections are queued.
        """
        if n > len(self._pending):
            raise HostError(f"with_redirects_begin({n}) but only {len(self._pending)} queued")
        _check_open("redirection scopes", len(self._private_scopes) + len(self._process_fds))
        scope = self._pending[len(self._pending) - n:]
        del self._pending[len(self._pending) - n:]
        self._open_scope(scope)

    def with_redirects_end(self) -> None:
        """Undo the innermost redirection scope.

        Raises:
            HostError: no scope is open.
        """
        if self._private:
            if not self._private_scopes:
                raise HostError("with_redirects_end without with_redirects_begin")
            self._fds, owned = self._private_scopes.pop()
            for fd in owned:
                os.close(fd)
            return
        if not self._process_fds.frames:
            raise HostError("with_redirects_end without with_redirects_begin")
        self._process_fds.pop()

    def _open_scope(self, redirs: list[Redirection]) -> bool:
        """Open a redirection scope; False (and an empty scope) if a redirection failed."""
        if self._private:
            table = self._table()
            try:
                table.apply_all(redirs, noclobber=self.noclobber)
            except RedirectError as exc:
                self._error(str(exc))
                self.last_status = 1
                self._private_scopes.append((self._fds, []))
                return False
            self._private_scopes.append((self._fds, table.owned))
            self._fds = table.map
            return True
        try:
            self._process_fds.push(redirs, noclobber=self.noclobber, own=self._own_fds())
        except RedirectError as exc:
            self._error(str(exc))
            self.last_status = 1
            self._process_fds.push([])
            return False
        return True

    def make_redirects_permanent(self) -> int:
        """`exec >file` with no command: apply the queued redirections to the shell for good.

        Returns 0, or 1 after printing the message if one failed.
        """
        pending = self._take_pending()
        try:
            if self._private:
                table = self._table()
                table.apply_all(pending, noclobber=self.noclobber)
                self._fds = table.map
                self._permanent_fds.extend(table.owned)  # open until close()
            else:
                self._process_fds.push(pending, noclobber=self.noclobber, permanent=True,
                                       own=self._own_fds())
        except RedirectError as exc:
            self._error(str(exc))
            return 1
        return 0

    # -- Commands -------------------------------------------------------------------------

    def _child_table(self) -> FdTable:
        """The fd table a new child starts from: this host's fds, the pipeline's pipes, and
        the process-substitution fds its arguments may name."""
        table = self._table()
        if self._pipelines:
            pipeline = self._pipelines[-1]
            if pipeline.prev_read is not None:
                table.map[0] = pipeline.prev_read
            if pipeline.write is not None:
                table.map[1] = pipeline.write
        for fd in self._procsubs.consumer_fds():
            table.map[fd] = fd
        return table

    def _launch(self, argv: list[str], pending: list[Redirection], *,
                background: bool) -> tuple[int, int]:
        """Start argv; (pid, 0) on success, (0, status) after printing why it failed.

        Redirections are performed first (as in the forked child of a shell), so a failing
        one wins over a missing command.
        """
        table = self._child_table()
        err: int | None = None
        try:
            table.apply_all(pending, noclobber=self.noclobber)
            # Failures after this point are reported on the command's own stderr, which its
            # redirections may have changed (`cmd 2>/dev/null` is silent in a shell too).
            err = table.source(2)
            resolved = process.resolve(argv[0], self._environ().get("PATH"))
            if resolved.path is None:
                if err is not None:
                    self._error(resolved.message, err)
                return 0, resolved.status
            if background and 0 not in table.map and not self._pipelines:
                # No job control: a background command reads /dev/null (POSIX).
                devnull = os.open(os.devnull, os.O_RDONLY)
                table.owned.append(devnull)
                table.map[0] = devnull
            actions = table.file_actions()
            flush_std()
            pid = process.spawn(resolved.path, argv, self._environ(), actions,
                                sigdef=self._sigdef(), new_group=background)
        except RedirectError as exc:
            self._error(str(exc))
            return 0, 1
        except OSError as exc:
            status, message = process.spawn_error(argv[0], exc)
            if err is not None:
                self._error(message, err)
            return 0, status
        finally:
            table.close()
        return pid, 0

    def _null_command(self, pending: list[Redirection]) -> int:
        """Perform redirections with no command (`>file`): create/truncate, then close."""
        if not pending:
            return 0
        table = self._table()
        try:
            table.apply_all(pending, noclobber=self.noclobber)
        except RedirectError as exc:
            self._error(str(exc))
            return 1
        table.close()
        return 0

    def exec(self, argv: list[str]) -> int:
        """Run argv with the queued redirections and wait; inside a pipeline, start it as the
        current stage and return 0 (the status comes from `pipeline_end`).

        Raises:
            CapabilityError: spawn is withheld.
        """
        self.caps.require("spawn", f"run {argv[0]!r}" if argv else "run a command")
        _check_argv(argv)
        pending = self._take_pending()
        if not argv:
            return self._null_command(pending)
        self._jobs.reap()
        pid, status = self._launch(argv, pending, background=False)
        if self._pipelines:
            self._pipelines[-1].runs[-1].append(("pid", pid) if pid else ("status", status))
            return 0
        if pid:
            status = process.wait_pid(pid)
        self._command_done(status)
        return status

    def exec_bg(self, argv: list[str]) -> int:
        """Start argv in the background (own process group, stdin /dev/null unless
        redirected); its pid, or 0 if it could not be started."""
        self.caps.require("spawn", f"run {argv[0]!r}" if argv else "run a command")
        _check_argv(argv)
        pending = self._take_pending()
        if not argv:
            self._null_command(pending)
            return 0
        self._jobs.reap()
        pid, _ = self._launch(argv, pending, background=True)
        if pid:
            self._jobs.add(pid)
        self._procsubs.release(wait=False)
        return pid

    def call_function(self, name: str, args: list[str]) -> int | None:
        """Run a function registered in `functions` with the queued redirections (and, in a
        pipeline, the stage's pipes) applied to the shell for its duration; None, with the
        redirections still queued, if there is no such function."""
        fn = self.functions.get(name)
        if fn is None:
            return None
        redirs = self._take_pending()
        if self._pipelines:
            # A function stage runs in this process, before the later stages start, so its
            # output must fit in the pipe (64 KiB on Linux); a real fork would not need that.
            p = self._pipelines[-1]
            wiring = [Redirection(fd, Redir.DUP_WRITE, str(src))
                      for fd, src in ((0, p.prev_read), (1, p.write)) if src is not None]
            redirs = wiring + redirs
        if not self._open_scope(redirs):
            self.with_redirects_end()
            self._command_done(1)
            return 1
        try:
            status = fn(list(args))
        finally:
            self.with_redirects_end()
        self._command_done(status)
        return status

    def _command_done(self, status: int) -> None:
        self.last_status = status
        self._procsubs.release(wait=False)

    def wait(self, pid: int) -> int | None:
        """`wait PID`: the background job's status; None if the pid is not a known job."""
        return self._jobs.wait(pid)

    def wait_all(self) -> int:
        """`wait`: wait for every background job and process substitution; the status of
        the last background job (0 if none)."""
        self._procsubs.release(wait=True)
        return self._jobs.wait_all()

    def reap(self) -> list[tuple[int, int]]:
        """Collect finished background jobs without blocking; the (pid, status) pairs
        collected by this call (every command start also reaps, silently)."""
        return self._jobs.reap()

    @property
    def running_jobs(self) -> list[int]:
        """Pids of background jobs not yet known to have finished."""
        return list(self._jobs.running)

    # -- Pipelines ---------------------------------------------------------------------------

    def pipeline_begin(self, n: int) -> None:
        """Open a pipeline of `n` stages; stage 0's stdout is the first pipe."""
        _check_open("pipelines", len(self._pipelines))
        pipeline = _Pipeline(max(n, 1))
        if pipeline.stages > 1:
            pipeline.read, pipeline.write = _pipe("start a pipeline")
        self._pipelines.append(pipeline)

    def pipeline_stage(self) -> None:
        """Finish the current stage's wiring in this process and move to the next stage.

        Raises:
            HostError: no pipeline is open.
        """
        if not self._pipelines:
            raise HostError("pipeline_stage without pipeline_begin")
        p = self._pipelines[-1]
        # The children hold their own copies; keeping ours would hide EOF from the readers.
        p.close_ends("write", "prev_read")
        p.prev_read, p.read = p.read, None
        p.index += 1
        p.runs.append([])
        if p.index < p.stages - 1:
            p.read, p.write = _pipe("continue a pipeline")

    def pipeline_end(self) -> int:
        """Wait for every stage; the last stage's status (with `pipefail`, the rightmost
        non-zero one). `pipestatus` gets every stage's status.

        Raises:
            HostError: no pipeline is open.
        """
        if not self._pipelines:
            raise HostError("pipeline_end without pipeline_begin")
        p = self._pipelines.pop()
        p.close_ends("write", "prev_read", "read")
        statuses = []
        for stage in p.runs:
            status = 0
            for what, value in stage:
                status = process.wait_pid(value) if what == "pid" else value
            statuses.append(status)
        self.pipestatus = statuses
        result = statuses[-1]
        if self.pipefail:
            result = next((s for s in reversed(statuses) if s != 0), 0)
        self._command_done(result)
        return result

    # -- Substitutions --------------------------------------------------------------------

    def cmd_subst(self, sub: ChunkRef) -> str:
        """Run `sub` with its stdout on a pipe; the text minus all trailing newlines.

        NUL bytes are dropped (as bash does) and undecodable bytes survive as surrogate
        escapes. The body's status is left in `last_subst_status` and `last_status`. Queued
        redirections and open pipelines belong to the enclosing command and are kept aside
        while the body runs.

        Raises:
            HostError: no runner is bound.
        """
        runner = self._need_runner()
        pending, self._pending = self._pending, []
        pipelines, self._pipelines = self._pipelines, []
        try:
            text, status = subst.capture(runner, sub)
        except OSError as exc:
            raise HostError(f"cannot run a command substitution: {_reason(exc)}") from None
        finally:
            self._pending, self._pipelines = pending, pipelines
        self.last_subst_status = self.last_status = status
        return text

    def process_sub_in(self, sub: ChunkRef) -> str:
        """Start `sub` with its stdout on a pipe; a path (`/dev/fd/N`, or a FIFO) reading it."""
        self.caps.require("spawn", "start a process substitution")
        return self._start_procsub(sub, body_writes=True)

    def process_sub_out(self, sub: ChunkRef) -> str:
        """Start `sub` with its stdin on a pipe; a path (`/dev/fd/N`, or a FIFO) feeding it."""
        self.caps.require("spawn", "start a process substitution")
        return self._start_procsub(sub, body_writes=False)

    def _start_procsub(self, sub: ChunkRef, *, body_writes: bool) -> str:
        runner = self._need_runner()
        try:
            return self._procsubs.start(runner, sub, body_writes=body_writes,
                                        stdout=self._fd(1), use_fifo=self.use_fifo,
                                        report=self._error)
        except OSError as exc:
            raise HostError(f"cannot start a process substitution: {_reason(exc)}") from None

    # -- Subshells --------------------------------------------------------------------------

    def subshell_begin(self) -> None:
        """Snapshot cwd, environment, umask, options, traps, functions and redirection
        scopes; traps other than ignored ones are reset inside (docs/shell.md#traps)."""
        _check_open("subshells", len(self._subshells))
        umask = os.umask(0o022)
        os.umask(umask)
        self._subshells.append(_Snapshot(
            cwd=os.getcwd(), env=dict(self._environ()), umask=umask,
            options=(self.noclobber, self.pipefail, self.ifs),
            traps=self._traps.enter_subshell(), functions=dict(self.functions),
            scopes=len(self._private_scopes) + len(self._process_fds)))

    def request_exit(self, status: int) -> bool:
        """Record `exit status` run inside a subshell; True if there is a subshell to end
        (the compiler then jumps to SubshellEnd), False at top level."""
        if not self._subshells:
            return False
        self._subshells[-1].exit_status = status
        return True

    def subshell_end(self) -> int | None:
        """Restore the snapshot; the status passed to `request_exit` inside it, else None.

        Raises:
            HostError: no subshell is open.
        """
        if not self._subshells:
            raise HostError("subshell_end without subshell_begin")
        snap = self._subshells.pop()
        while len(self._private_scopes) + len(self._process_fds) > snap.scopes:
            self.with_redirects_end()
        try:
            os.chdir(snap.cwd)
        except OSError as exc:
            self._error(f"{snap.cwd}: {exc.strerror}")
        environ = os.environ if self.env is None else self.env
        if dict(environ) != snap.env:
            environ.clear()
            environ.update(snap.env)
        os.umask(snap.umask)
        self.noclobber, self.pipefail, self.ifs = snap.options
        self._traps.leave_subshell(snap.traps)
        self.functions = snap.functions
        if snap.exit_status is not None:
            self.last_status = snap.exit_status
        return snap.exit_status

    # -- Traps ------------------------------------------------------------------------------

    def trap_set(self, sig: str, handler: ChunkRef) -> None:
        """Trap `sig` (INT, SIGINT, 2, EXIT/0, ERR, DEBUG, RETURN) with a handler chunk.

        A chunk with no ops means ignore (`trap '' INT`) and None restores the default
        (`trap - INT`). Signals are only recorded when they arrive; `trap_check` hands out
        the handlers.

        Raises:
            HostError: bad signal name, untrappable signal, or not on the main thread.
        """
        ops = getattr(handler, "ops", None)
        if handler is not None and ops is not None and len(ops) == 0:
            handler = IGNORE
        self._set_trap(sig, handler)

    def trap_ignore(self, sig: str) -> None:
        """`trap '' sig`: ignore it here and in children."""
        self._set_trap(sig, IGNORE)

    def trap_reset(self, sig: str) -> None:
        """`trap - sig`: back to the default disposition."""
        self._set_trap(sig, None)

    def _set_trap(self, sig: str, handler: object) -> None:
        """Traps of real signals change the process's dispositions: capability `signals`."""
        if not self.caps.signals and isinstance(parse_signal(sig), int):
            self.caps.require("signals", f"trap {sig}")
        self._traps.set(sig, handler)

    def trap_handler(self, sig: str) -> ChunkRef | None:
        """The handler chunk trapped for `sig` (ERR, DEBUG and RETURN are run by the VM)."""
        return self._traps.handler(sig)

    def trap_check(self) -> list[ChunkRef]:
        """Reap finished background jobs; the handler chunks of signals that arrived since
        the last check, one per arrival, in order. The VM runs them."""
        self._jobs.reap()
        return self._traps.due()

    def run_exit_traps(self) -> int | None:
        """Run the EXIT trap once (through the runner, stdout to this host's fd 1); its
        status, or None if there is no EXIT trap or it already ran."""
        if self._exit_trap_done:
            return None
        self._exit_trap_done = True
        handler = self._traps.handler("EXIT")
        if handler is None:
            return None
        self._traps.set("EXIT", None)
        return self._need_runner()(handler, self._fd(1))


if TYPE_CHECKING:
    from fusevm.shell.protocol import ShellHost

    # mypy proves here that PosixHost satisfies the protocol with its own signatures.
    _CONFORMS: ShellHost = PosixHost()
