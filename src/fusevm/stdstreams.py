"""Stand-ins for the standard streams a command was started without (their fds closed).

Python sets such a stream to None; `fusevm.entry` then puts a `ClosedStream` in its place,
so a command reports a write to a closed stdout as any other write error, and runs as
usual when it never uses it. Loaded only for such a process.
"""

from __future__ import annotations

import errno
import os
import sys


class ClosedStream:
    """Stands in for a standard stream whose fd was closed when the process started (Python
    sets it to None): reading or writing fails as the closed fd does (OSError, EBADF),
    unless `discard` (standard error: a message to a closed stderr is lost, as in a
    shell), and flushing does nothing. `buffer` is the stream itself, for binary use."""

    def __init__(self, fd: int, discard: bool = False) -> None:
        self.fd = fd
        self.discard = discard
        self.buffer = self
        self.closed = False

    def _fail(self, *_: object) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    read = readline = readinto = readlines = fileno = _fail

    def write(self, data: object) -> int:
        if self.discard:
            return len(data)  # type: ignore[arg-type]
        return self._fail()

    def writelines(self, lines: object) -> None:
        for line in lines:  # type: ignore[attr-defined]
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def readable(self) -> bool:
        return self.fd == 0

    def writable(self) -> bool:
        return self.fd != 0

    def seekable(self) -> bool:
        return False


def stand_ins() -> None:
    """A `ClosedStream` for each standard stream the process was started without, so a
    command reports a write to a closed stdout as any write error (and runs as usual when
    it never uses it) instead of failing on None."""
    if sys.stdin is None:
        sys.stdin = ClosedStream(0)  # type: ignore[assignment]
    if sys.stdout is None:
        sys.stdout = ClosedStream(1)  # type: ignore[assignment]
    if sys.stderr is None:
        sys.stderr = ClosedStream(2, discard=True)  # type: ignore[assignment]
