"""Command substitution capture and the bodies of process substitutions.

`capture` runs a chunk (through the host's runner) with its stdout on a pipe that a reader
thread drains, so a body that writes more than a pipe holds never blocks. `ProcessSubs` keeps
the `<(...)`/`>(...)` bodies, which run on worker threads concurrently with the command that
uses their path, and releases their fds, FIFOs and threads once that command is done.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from fusevm.errors import OutputClosed
from fusevm.limits import DEFAULT_MAX_SIZE, check_size
from fusevm.shell import text

if TYPE_CHECKING:
    from fusevm.shell.protocol import ChunkRef, ChunkRunner

__all__ = ["ProcessSubs", "capture"]

#: How long shutting down waits for one substitution body to finish.
JOIN_TIMEOUT: Final = 5.0


def _ignore(message: str) -> None:
    """The default `report` of a body's error: drop it."""


def capture(runner: ChunkRunner, sub: ChunkRef,
            limit: int = DEFAULT_MAX_SIZE) -> tuple[str, int]:
    """Run `sub` with stdout on a pipe; (its output minus trailing newlines, its status).

    NUL bytes are dropped and undecodable bytes kept as surrogate escapes. The pipe reaches
    EOF only when every process that inherited its write end has exited, as in a shell.

    Raises:
        MemoryLimit: the output is longer than `limit` bytes (it is read to the end, so the
            body never blocks, but not kept).
    """
    chunks: list[bytes] = []
    size = 0
    r, w = os.pipe()

    def drain() -> None:
        nonlocal size
        while data := os.read(r, 65536):
            size += len(data)
            if size <= limit:
                chunks.append(data)

    reader = threading.Thread(target=drain, name="fusevm-cmdsubst", daemon=True)
    reader.start()
    try:
        status = runner(sub, w)
    finally:
        os.close(w)
        reader.join()
        os.close(r)
    check_size(size, limit, "command substitution output")
    data = b"".join(chunks).replace(b"\0", b"")
    return text.decode(data).rstrip("\n"), status


@dataclass(slots=True)
class _Body:
    """A running substitution body and the fd (or FIFO) its consumer uses."""

    thread: threading.Thread
    fd: int | None = None  # the consumer's pipe end, open in this process
    fifo_dir: str | None = None
    body_writes: bool = True
    opened: threading.Event = field(default_factory=threading.Event)


class ProcessSubs:
    """Process substitutions whose consumer has not run yet, and finished-but-unjoined ones.

    With /dev/fd the consumer's pipe end stays open here, close-on-exec, and the host maps it
    into each child at the same number; it is closed once the consuming command is done. With
    FIFOs the body opens the FIFO itself (the open blocks until the consumer opens the other
    side); a FIFO nobody opened is unblocked from this side before it is removed.
    """

    def __init__(self) -> None:
        self.active: list[_Body] = []
        self.finished: list[_Body] = []

    def consumer_fds(self) -> list[int]:
        """Fds children must inherit so that the `/dev/fd/N` paths resolve."""
        return [b.fd for b in self.active if b.fd is not None]

    def start(self, runner: ChunkRunner, sub: ChunkRef, *, body_writes: bool, stdout: int,
              use_fifo: bool, report: Callable[[str], None] = _ignore) -> str:
        """Start a body on a thread; the path the consumer opens.

        `body_writes` is `<(...)` (the body's stdout is the pipe); otherwise `>(...)` (its
        stdin is the pipe, its stdout is `stdout`). An error that ends the body is passed to
        `report` as a message (the thread has nobody to raise it to); a body whose reader
        went away just stops, as a shell's would on SIGPIPE.

        Raises:
            OSError: no pipe or FIFO could be made (EMFILE and the like); nothing started.
        """
        if use_fifo:
            return self._start_fifo(runner, sub, body_writes, stdout, report)
        r, w = os.pipe()
        body_fd, consumer_fd = (w, r) if body_writes else (r, w)

        def body() -> None:
            try:
                if body_writes:
                    runner(sub, body_fd)
                else:
                    runner(sub, stdout, body_fd)
            except (OutputClosed, BrokenPipeError):
                pass
            except Exception as exc:
                report(f"process substitution: {exc}")
            finally:
                os.close(body_fd)

        thread = threading.Thread(target=body, name="fusevm-procsub", daemon=True)
        self.active.append(_Body(thread, fd=consumer_fd))
        thread.start()
        return f"/dev/fd/{consumer_fd}"

    def _start_fifo(self, runner: ChunkRunner, sub: ChunkRef, body_writes: bool,
                    stdout: int, report: Callable[[str], None]) -> str:
        directory = tempfile.mkdtemp(prefix="fusevm-procsub-")
        path = os.path.join(directory, "fifo")
        os.mkfifo(path, 0o600)
        record = _Body(threading.Thread(), fifo_dir=directory, body_writes=body_writes)

        def body() -> None:
            try:
                fd = os.open(path, os.O_WRONLY if body_writes else os.O_RDONLY)
            except OSError as exc:
                record.opened.set()
                report(f"process substitution: {path}: {exc.strerror or exc}")
                return
            record.opened.set()
            try:
                if body_writes:
                    runner(sub, fd)
                else:
                    runner(sub, stdout, fd)
            except (OutputClosed, BrokenPipeError):
                pass
            except Exception as exc:
                report(f"process substitution: {exc}")
            finally:
                os.close(fd)

        record.thread = threading.Thread(target=body, name="fusevm-procsub", daemon=True)
        self.active.append(record)
        record.thread.start()
        return path

    def release(self, *, wait: bool) -> None:
        """After the consuming command: close consumer fds, unblock and remove FIFOs, and
        join the bodies that finished (all of them, up to a timeout each, with `wait`)."""
        for body in self.active:
            if body.fd is not None:
                os.close(body.fd)
                body.fd = None
            if body.fifo_dir is not None:
                if not body.opened.is_set():
                    _unblock_fifo(body)
                shutil.rmtree(body.fifo_dir, ignore_errors=True)
                body.fifo_dir = None
        self.finished.extend(self.active)
        self.active.clear()
        still: list[_Body] = []
        for body in self.finished:
            if wait:
                body.thread.join(JOIN_TIMEOUT)
            if body.thread.is_alive():
                still.append(body)
        self.finished = still


def _unblock_fifo(body: _Body) -> None:
    """Open the far side of a FIFO nobody used, so the body's blocked open returns."""
    assert body.fifo_dir is not None
    path = os.path.join(body.fifo_dir, "fifo")
    flags = os.O_RDONLY if body.body_writes else os.O_WRONLY
    try:
        fd = os.open(path, flags | os.O_NONBLOCK)
    except OSError:
        return
    body.opened.wait(JOIN_TIMEOUT)
    os.close(fd)
