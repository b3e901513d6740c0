"""Writing a cache file: a new file of this process's, whole, readable by this user only."""

from __future__ import annotations

import os

#: Descriptors of cache files are never inherited by a child process (a shell's commands).
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def write_new(path: str, data: bytes) -> None:
    """Write `data` to a file that must not exist yet (a temporary name of this
    process's: `O_EXCL` refuses one left by another), readable by this user only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
