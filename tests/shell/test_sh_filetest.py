"""File tests with bash semantics (D12; parity facts 62-69 adjusted: -r/-w/-x are real access
checks, -S/-p/-b/-c follow symlinks like test(1))."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from fusevm.ops.shell_codes import FileTest as T
from fusevm.shell.filetest import test_file as check

ALL = list(T)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "full").write_text("x")
    (tmp_path / "empty").write_text("")
    (tmp_path / "dir").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "full")
    (tmp_path / "broken").symlink_to(tmp_path / "missing")
    (tmp_path / "dirlink").symlink_to(tmp_path / "dir")
    exe = tmp_path / "exe"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o555)
    plain = tmp_path / "plain"
    plain.write_text("data")
    plain.chmod(0o644)
    os.mkfifo(tmp_path / "fifo")
    return tmp_path


def test_regular_file(tree: Path) -> None:
    p = str(tree / "full")
    assert check(T.EXISTS, p) and check(T.IS_FILE, p) and check(T.IS_NONEMPTY, p)
    assert not check(T.IS_DIR, p) and not check(T.IS_SYMLINK, p)
    assert check(T.IS_READABLE, p) and check(T.IS_WRITABLE, p)


def test_missing_path_is_false_for_every_code(tree: Path) -> None:
    assert not any(check(code, str(tree / "missing")) for code in ALL)


def test_directory(tree: Path) -> None:
    assert check(T.IS_DIR, str(tree / "dir")) and not check(T.IS_FILE, str(tree / "dir"))
    assert check(T.IS_DIR, str(tree))
    assert check(T.IS_EXECUTABLE, str(tree / "dir"))  # searchable


def test_empty_and_nonempty(tree: Path) -> None:
    assert not check(T.IS_NONEMPTY, str(tree / "empty"))
    assert check(T.IS_NONEMPTY, str(tree / "full"))


def test_symlinks(tree: Path) -> None:
    link = str(tree / "link")
    assert check(T.IS_SYMLINK, link) and check(T.EXISTS, link) and check(T.IS_FILE, link)
    broken = str(tree / "broken")
    assert check(T.IS_SYMLINK, broken) and not check(T.EXISTS, broken)
    assert check(T.IS_DIR, str(tree / "dirlink"))


def test_executable_bits(tree: Path) -> None:
    assert check(T.IS_EXECUTABLE, str(tree / "exe")) and check(T.IS_FILE, str(tree / "exe"))
    assert not check(T.IS_EXECUTABLE, str(tree / "plain"))


def test_special_files(tree: Path) -> None:
    assert check(T.IS_CHAR_DEV, os.devnull) and check(T.EXISTS, os.devnull)
    for code in (T.IS_FILE, T.IS_DIR, T.IS_FIFO, T.IS_SOCKET, T.IS_BLOCK_DEV):
        assert not check(code, os.devnull)
    assert check(T.IS_FIFO, str(tree / "fifo"))
    sock_path = tree / "sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock_path))
        assert check(T.IS_SOCKET, str(sock_path))
        (tree / "socklink").symlink_to(sock_path)
        assert check(T.IS_SOCKET, str(tree / "socklink"))  # follows, like test -S


def test_plain_paths_are_not_special(tree: Path) -> None:
    for p in ("full", "missing"):
        for code in (T.IS_SOCKET, T.IS_FIFO, T.IS_BLOCK_DEV, T.IS_CHAR_DEV):
            assert not check(code, str(tree / p))


@pytest.mark.parametrize("code", [12, 200, 255, -1])
def test_unknown_codes_are_false(tree: Path, code: int) -> None:
    assert not check(code, str(tree / "full"))


@pytest.mark.parametrize("path", ["", "a\0b", "x" * 5000])
def test_odd_paths_never_raise(path: str) -> None:
    assert not any(check(code, path) for code in ALL)


def _as_nobody(where: Path, paths: list[str]) -> list[int] | None:
    """Run the -r/-w/-x tests in a forked child whose effective ids are nobody's, on paths
    relative to `where` (pytest's base directory is private to root, so the child enters
    `where` before dropping its ids)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        try:
            os.close(r)
            os.chdir(where)
            os.setegid(65534)
            os.seteuid(65534)
            got = " ".join(str(int(check(c, p))) for p in paths for c in (2, 3, 4))
            os.write(w, got.encode())
            os._exit(0)
        except BaseException:
            os._exit(1)
    os.close(w)
    with os.fdopen(r) as f:
        out = f.read()
    _, status = os.waitpid(pid, 0)
    return [int(x) for x in out.split()] if status == 0 else None


@pytest.mark.process
def test_access_checks_are_real_for_an_unprivileged_user(tmp_path: Path) -> None:
    """-r/-w/-x ask access(2) with the effective ids; checked as user nobody when the suite
    runs as root (root itself may read and write anything)."""
    locked = tmp_path / "locked"
    locked.write_text("secret")
    locked.chmod(0o000)
    readonly = tmp_path / "readonly"
    readonly.write_text("r")
    readonly.chmod(0o444)
    tmp_path.chmod(0o755)  # the directory must be searchable for nobody
    if os.geteuid() != 0:
        got: list[int] | None = [int(check(c, str(p))) for p in (locked, readonly)
                                 for c in (2, 3, 4)]
    else:
        got = _as_nobody(tmp_path, ["locked", "readonly"])
        if got is None:
            pytest.skip("cannot switch the effective user to nobody")
    assert got == [0, 0, 0, 1, 0, 0]
