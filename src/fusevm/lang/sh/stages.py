"""Pipeline stages, `$(...)` and background jobs started from the shell's own process,
without a fork where that cannot be told apart.

Every stage of a pipeline, every `$(...)` and every `&` job runs in a process of its own.
Forking the shell, a Python process of 30-40 MB, copies its page tables and faults in
every page the child touches before the program is exec'd: about a millisecond of CPU
each. When that code (`ShPipe start stop`, a `CmdSubst` chunk, `ShBg start stop`) is one
simple command whose words expand with no effect on the shell, as the compiler marks it
on its `ShRun` (`PURE_WORDS`: literals, quoting, parameter expansions without `=` or `?`,
no `$(( ))`, `$(...)`, LINENO or prefix assignment), the shell expands its words itself,
as its child would have, and starts a program with posix_spawn, the pipe's end as its
stdin or stdout (`runtime.start_external`). A background job's program gets /dev/null as
its stdin and SIGINT and SIGQUIT ignored, as the job's forked child would give it
(`start_job`). An `echo` or `printf` (a builtin whose only effect is its text:
`runtime.WRITERS`) with its stdout on the stage's pipe and no redirection is run by the
shell itself: its text and status are made here, its errors reported as its child would
report them, and the text is written into the pipe, which takes `PIPE_BUF` bytes without
a reader (a longer text is written by a forked child); the stage is then `Done`. Any
other builtin or a function still runs in a forked child, with the words expanded, and
so does a program with a redirection from or to a FIFO (its open waits for the other
end, which another stage may open). Under `set -u` (an expansion may fail),
`-x` (the trace) and `-n` the shell forks as before.
"""

from __future__ import annotations

import os
from stat import S_ISFIFO

from fusevm.instr import decode
from fusevm.lang.sh import runtime
from fusevm.lang.sh.hotops import run_argv, take_words
from fusevm.lang.sh.opset import DIRECT, PURE_WORDS, SH
from fusevm.lang.sh.state import Pending, ShState, write
from fusevm.ops import F, Op
from fusevm.ops.shell_codes import Redir
from fusevm.shell import csignal as signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.chunk import Chunk
    from fusevm.lang.sh.runtime import Writer

_RUN: Final = SH["ShRun"].id
_EXTENDED: Final = (Op.Extended, Op.ExtendedWide)
#: The ShRun flags of a lone simple command whose words the shell may expand itself.
_SPAWNABLE: Final = DIRECT | PURE_WORDS
#: Redirection kinds that open a file by name (the others duplicate or close an fd, or
#: are here-documents).
_NAMES_FILE: Final = frozenset(int(k) for k in (
    Redir.WRITE, Redir.APPEND, Redir.READ, Redir.READ_WRITE, Redir.CLOBBER, Redir.WRITE_BOTH,
    Redir.APPEND_BOTH))


class Done:
    """A pipeline stage or `$(...)` the shell ran itself, where a started one has a pid
    to wait for: its exit status (`state.wait_child` gives it)."""

    __slots__ = ("status",)

    def __init__(self, status: int) -> None:
        self.status = status


def spawnable(chunk: Chunk, start: int, stop: int) -> tuple[int, int, int] | None:
    """The operands of the `ShRun` ending the code [start, stop) when the compiler marked
    it a lone simple command whose words expand with no effect on the shell (DIRECT and
    PURE_WORDS: everything before it in [start, stop) only expands them), else None.
    The command must be the code's own: a subshell's last command is marked DIRECT too
    (it may exec), so code holding an op that runs commands or code of its own before it
    (`(cmd)` as a pipeline stage) is no lone command."""
    ops = chunk.ops
    last = ops[stop - 1] if start < stop <= len(ops) else None
    if last is None or last[0] not in _EXTENDED or last[1] != _RUN:
        return None
    argc, flags, line = decode(last).operands
    if flags & _SPAWNABLE != _SPAWNABLE:
        return None
    for ip in range(start, stop - 1):
        instr = ops[ip]
        if instr[0] in _EXTENDED and instr[1] in _RUNS_CODE:
            return None
    return argc, flags, line


#: The ops that run a command or a segment of code of their own: those that may start
#: processes (the table's SPAWN flag).
_RUNS_CODE: Final = frozenset(op.id for op in SH.ops_with(F.SPAWN))


def spawnable_now(state: ShState, chunk: Chunk, start: int, stop: int,
                  pipes: tuple[int | None, ...]) -> tuple[int, int, int] | None:
    """`spawnable`, when this shell's options and the stage's pipe fds (`pipes`) let it be
    started from here: not under `set -u`, `-x` or `-n`, and with no pipe end on fds 0-2
    (a shell started with one of them closed: a stage's child moves them itself)."""
    opts = state.opts
    if opts["u"] or opts["x"] or opts["n"] or any(fd is not None and fd <= 2 for fd in pipes):
        return None
    return spawnable(chunk, start, stop)


def start_stage(state: ShState, vm: Any, start: int, stop: int, run: tuple[int, int, int],
                stdio: tuple[tuple[int, int], ...], close: int | None,
                ignore: tuple[int, ...] = ()) -> int | Done:
    """Start the stage [start, stop) (`spawnable`: `run` are its ShRun's operands) with
    `stdio` ((fd, target fd): its pipe ends) and the signals `ignore` ignored; the pid to
    wait for, or `Done` when the shell ran it itself. `close`: the read end of the
    stage's own pipe, which a forked child closes."""
    argc, flags, line = run
    lineno = state.lineno
    vm._dispatch(start, stop - 1, len(vm.frames))
    argv = take_words(vm.stack, argc)
    state.lineno = line
    try:
        if argv and runtime.runs_program(state, argv[0]) and not _may_wait(state.pending):
            return _spawned(state, argv, stdio, ignore)
        out = next((fd for fd, target in stdio if target == 1), None)
        writer = None if out is None else _writer(state, argv)
        if out is not None and writer is not None:
            text, status = writer(state, argv)
            data = text.encode("utf-8", "surrogateescape")
            if len(data) <= (_pipe_buf or _load_pipe_buf(out)):
                if data:  # (into the stage's empty pipe: it never waits)
                    os.write(out, data)
                return Done(status)

            def written() -> int:
                write(1, text)
                return status
        pid = os.fork()
        if pid == 0:
            runtime.enter_stage(state, vm, stdio, close)
            for sig in ignore:
                signal.signal(sig, signal.SIG_IGN)
            vm.host_data["sh.loops"] = []

            def command() -> int:
                run_argv(state, vm, argv, flags, stop)
                return int(vm.last_status)
            runtime.child_run(state, command if writer is None else written)
        state.pending.clear()  # (the child's)
        return pid
    finally:
        state.lineno = lineno


def _writer(state: ShState, argv: list[str]) -> Writer | None:
    """The text of the command `argv` when it is a builtin whose only effect is its text
    (`runtime.WRITERS`), not a function's name, with no redirection queued; else None."""
    if not argv or state.pending:
        return None
    name = argv[0]
    if name in state.functions or runtime.find_builtin(name) is None:
        return None
    return runtime.WRITERS.get(name)


#: What a pipe takes without a reader (`PIPE_BUF`), asked of the first stage's pipe (the
#: `select` module has the constant, but loading it costs a short script more).
_pipe_buf = 0


def _load_pipe_buf(fd: int) -> int:
    global _pipe_buf
    try:
        _pipe_buf = os.fpathconf(fd, "PC_PIPE_BUF")
    except (OSError, ValueError):
        _pipe_buf = 512  # (POSIX's least `PIPE_BUF`)
    return _pipe_buf


def start_subst(state: ShState, chunk: Chunk, status: int, out: int, close: int
                ) -> int | Done | None:
    """`ShHost.start_subst`: a `$(...)` whose chunk is one spawnable command, started as a
    pipeline stage is (`start_stage`) with its stdout on `out`; None to fork."""
    stop = len(chunk.ops)
    run = spawnable_now(state, chunk, 0, stop, (out, close))
    if run is None:
        return None
    vm = runtime.borrow_vm(state, chunk, status)
    try:
        return start_stage(state, vm, 0, stop, run, ((out, 1),), close)
    finally:
        runtime.give_back(state, chunk, vm)


def start_job(state: ShState, vm: Any, start: int, stop: int,
              run: tuple[int, int, int]) -> int | None:
    """`ShBg start stop` of a non-interactive shell, when [start, stop) is `spawnable`
    (`run`): started as a pipeline stage is, with its stdin /dev/null and SIGINT and
    SIGQUIT ignored (`runtime.job_signals`), as the job's forked child would run it; its
    pid, or None to fork (a thread that cannot set signal actions)."""
    ignore = runtime.job_signals(state)
    if not runtime.may_ignore(ignore):
        return None
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    try:
        pid = start_stage(state, vm, start, stop, run, ((null, 0),), None, ignore)
    finally:
        os.close(null)
    assert type(pid) is int  # (with no stdout pipe, no stage is run here)
    return pid


def _may_wait(redirs: list[Pending]) -> bool:
    """Whether opening a file these redirections name may wait for another process: a
    FIFO's open waits for its other end, which a later stage of the same pipeline may be
    the one to open (the stage's own child, not the shell, must wait for it)."""
    for r in redirs:
        if r.kind in _NAMES_FILE:
            try:
                if S_ISFIFO(os.stat(r.target).st_mode):
                    return True
            except (OSError, ValueError):
                pass  # (no such file: the open creates it or fails, without waiting)
    return False


def _spawned(state: ShState, argv: list[str], stdio: tuple[tuple[int, int], ...],
             ignore: tuple[int, ...]) -> int:
    """Start program `argv` with the queued redirections; the pid to wait for (of a child
    that exits with the status when it could not start). The program is looked up as
    the stage's child would look it up: the shell's `hash` table is not added to."""
    pid, status = runtime.start_external(state, argv,
                                         runtime.resolve(state, argv[0], remember=False),
                                         state.take_pending(), state.environ(), stdio,
                                         ignore)
    if pid is None:
        pid = os.fork()
        if pid == 0:
            os._exit(status)
    return pid
