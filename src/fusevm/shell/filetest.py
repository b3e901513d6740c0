"""The file tests behind `TestFile` and `test`/`[[`: -f -d -r -w -x -e -s -L -S -p -b -c.

Semantics are bash's `test` (D12), not existence shortcuts: -r/-w/-x ask the kernel
with access(2) using the effective ids, and every test except -L follows symlinks. A test
never raises: a missing path, a path that is too long, an embedded NUL or an unknown code all
answer False.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Final

from fusevm.ops.shell_codes import FileTest

__all__ = ["test_file"]

_EFFECTIVE: Final = os.access in os.supports_effective_ids


def _access(path: str, mode: int) -> bool:
    return os.access(path, mode, effective_ids=_EFFECTIVE)


def _mode_is(check: Callable[[int], bool]) -> Callable[[str], bool]:
    return lambda path: check(os.stat(path).st_mode)


_TESTS: Final[dict[int, Callable[[str], bool]]] = {
    FileTest.IS_FILE: _mode_is(stat.S_ISREG),
    FileTest.IS_DIR: _mode_is(stat.S_ISDIR),
    FileTest.IS_READABLE: lambda p: _access(p, os.R_OK),
    FileTest.IS_WRITABLE: lambda p: _access(p, os.W_OK),
    FileTest.IS_EXECUTABLE: lambda p: _access(p, os.X_OK),
    FileTest.EXISTS: lambda p: (os.stat(p), True)[1],
    FileTest.IS_NONEMPTY: lambda p: os.stat(p).st_size > 0,
    FileTest.IS_SYMLINK: lambda p: stat.S_ISLNK(os.lstat(p).st_mode),
    FileTest.IS_SOCKET: _mode_is(stat.S_ISSOCK),
    FileTest.IS_FIFO: _mode_is(stat.S_ISFIFO),
    FileTest.IS_BLOCK_DEV: _mode_is(stat.S_ISBLK),
    FileTest.IS_CHAR_DEV: _mode_is(stat.S_ISCHR),
}


def test_file(code: int, path: str) -> bool:
    """Apply file test `code` (a `FileTest` value) to `path`; False on any error.

    access(2) with an empty path fails with ENOENT, so `-r ""` is False like the rest.
    """
    check = _TESTS.get(code)
    if check is None or not path:
        return False
    try:
        return check(path)
    except (OSError, ValueError):
        return False


# Keep pytest from collecting `test_file` as a test when a test module imports it by name.
test_file.__test__ = False  # type: ignore[attr-defined]
