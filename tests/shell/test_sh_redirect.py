"""Redirections: all nine kinds, their order, their scope, errors, noclobber, here-docs and
here-strings, and in-process redirection scopes (docs/shell.md#redirections)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from shellkit import needs_bash, read

from fusevm.errors import HostError
from fusevm.ops.shell_codes import Redir
from fusevm.shell.posix import PosixHost

pytestmark = pytest.mark.process

SAY = ["sh", "-c", "echo out; echo err >&2"]


def test_write_truncates_and_creates(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "f").write_text("old contents that are longer\n")
    host.redirect(1, Redir.WRITE, "f")
    assert host.exec(["echo", "new"]) == 0
    assert read(in_tmp / "f") == "new\n"


def test_append(host: PosixHost, in_tmp: Path) -> None:
    for word in ("one", "two"):
        host.redirect(1, Redir.APPEND, "f")
        host.exec(["echo", word])
    assert read(in_tmp / "f") == "one\ntwo\n"


def test_read(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "in").write_text("from file\n")
    host.redirect(0, Redir.READ, "in")
    host.redirect(1, Redir.WRITE, "out")
    assert host.exec(["cat"]) == 0
    assert read(in_tmp / "out") == "from file\n"


def test_read_write_creates_without_truncating(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "rw").write_text("abcdef\n")
    host.redirect(3, Redir.READ_WRITE, "rw")
    assert host.exec(["sh", "-c", "printf XY >&3"]) == 0
    assert read(in_tmp / "rw") == "XYcdef\n"
    host.redirect(0, Redir.READ_WRITE, "fresh")
    assert host.exec(["true"]) == 0 and (in_tmp / "fresh").exists()


def test_clobber_ignores_noclobber(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "f").write_text("keep?\n")
    host.noclobber = True
    host.redirect(1, Redir.CLOBBER, "f")
    assert host.exec(["echo", "clobbered"]) == 0
    assert read(in_tmp / "f") == "clobbered\n"


def test_noclobber_refuses_existing_regular_files(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "f").write_text("precious\n")
    host.noclobber = True
    host.redirect(2, Redir.WRITE, "err")  # new file: allowed
    host.with_redirects_begin(1)
    try:
        host.redirect(1, Redir.WRITE, "f")
        assert host.exec(["echo", "nope"]) == 1
        host.redirect(1, Redir.WRITE, os.devnull)  # not a regular file: allowed
        assert host.exec(["echo", "fine"]) == 0
        host.redirect(1, Redir.APPEND, "f")  # appending is not clobbering
        assert host.exec(["echo", "more"]) == 0
    finally:
        host.with_redirects_end()
    assert read(in_tmp / "f") == "precious\nmore\n"
    assert read(in_tmp / "err") == "fusevm: f: cannot overwrite existing file\n"


def test_dup_write_and_order(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(1, Redir.WRITE, "both")
    host.redirect(2, Redir.DUP_WRITE, "1")
    host.exec(SAY)
    assert read(in_tmp / "both") == "out\nerr\n"
    # 2>&1 >file: stderr goes where stdout was (here: a capture file), stdout to the file.
    host.redirect(2, Redir.WRITE, "outer")
    host.with_redirects_begin(1)
    try:
        host.redirect(2, Redir.DUP_WRITE, "1")
        host.redirect(1, Redir.WRITE, "only_out")
        host.redirect(1, Redir.WRITE, "ignored_first")
        host.exec(["true"])
        host.redirect(1, Redir.WRITE, "outer1")
        host.with_redirects_begin(1)
        try:
            host.redirect(2, Redir.DUP_WRITE, "1")
            host.redirect(1, Redir.WRITE, "only_out")
            host.exec(SAY)
        finally:
            host.with_redirects_end()
    finally:
        host.with_redirects_end()
    assert read(in_tmp / "only_out") == "out\n"
    assert read(in_tmp / "outer1") == "err\n"


def test_dup_read(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "in").write_text("via fd 4\n")
    host.redirect(4, Redir.READ, "in")
    host.redirect(0, Redir.DUP_READ, "4")
    host.redirect(1, Redir.WRITE, "out")
    assert host.exec(["cat"]) == 0
    assert read(in_tmp / "out") == "via fd 4\n"


def test_close_with_dash(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(1, Redir.DUP_WRITE, "-")
    host.redirect(2, Redir.WRITE, "err")
    status = host.exec(["sh", "-c", "echo x || echo closed >&2"])
    assert status == 0 and "closed" in read(in_tmp / "err")


def test_write_both_and_append_both(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(1, Redir.WRITE_BOTH, "all")
    host.exec(SAY)
    assert read(in_tmp / "all") == "out\nerr\n"
    host.redirect(1, Redir.APPEND_BOTH, "all")
    host.exec(SAY)
    assert read(in_tmp / "all") == "out\nerr\nout\nerr\n"


def test_redirects_apply_to_one_command_only(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(1, Redir.WRITE, "first")
    host.exec(["echo", "1"])
    host.redirect(1, Redir.WRITE, "second")
    host.exec(["echo", "2"])
    assert read(in_tmp / "first") == "1\n" and read(in_tmp / "second") == "2\n"


def test_failed_redirect_skips_the_command(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(2, Redir.WRITE, "err")
    host.with_redirects_begin(1)
    try:
        host.redirect(0, Redir.READ, "missing")
        host.redirect(1, Redir.WRITE, "made")
        assert host.exec(["touch", "ran"]) == 1
        host.redirect(1, Redir.DUP_WRITE, str(_closed_fd()))
        assert host.exec(["touch", "ran"]) == 1
        host.redirect(1, Redir.DUP_WRITE, "word")
        assert host.exec(["touch", "ran"]) == 1
        host.redirect(1, Redir.WRITE, "nodir/x")
        assert host.exec(["nonexistent_cmd"]) == 1  # the redirect fails first, as in bash
    finally:
        host.with_redirects_end()
    assert not (in_tmp / "ran").exists() and not (in_tmp / "made").exists()
    assert read(in_tmp / "err").splitlines() == [
        "fusevm: missing: No such file or directory",
        f"fusevm: {_closed_fd()}: Bad file descriptor",
        "fusevm: word: ambiguous redirect", "fusevm: nodir/x: No such file or directory"]


def _closed_fd() -> int:
    return next(fd for fd in range(64, 250) if not os.path.exists(f"/proc/self/fd/{fd}"))


def test_redirect_only_command_creates_the_file(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "t").write_text("x")
    host.redirect(1, Redir.WRITE, "new")
    host.redirect(1, Redir.WRITE, "t")
    assert host.exec([]) == 0
    assert read(in_tmp / "new") == "" and read(in_tmp / "t") == ""


def test_unknown_kind_is_an_error(host: PosixHost) -> None:
    with pytest.raises(HostError, match="unknown redirect kind 9"):
        host.redirect(1, 9, "x")


def test_heredoc_and_herestring_feed_stdin(host: PosixHost, in_tmp: Path) -> None:
    host.heredoc("body\ntext\n")
    host.redirect(1, Redir.WRITE, "doc")
    host.exec(["cat"])
    host.herestring("hs")
    host.redirect(1, Redir.WRITE, "str")
    host.exec(["cat"])
    host.redirect(1, Redir.WRITE, "after")
    host.exec(["cat"])  # nothing left queued: stdin is the test's (empty) stdin
    assert read(in_tmp / "doc") == "body\ntext\n"
    assert read(in_tmp / "str") == "hs\n"


def test_large_heredoc_does_not_deadlock(host: PosixHost, in_tmp: Path) -> None:
    text = "line of text\n" * 20000  # 260 KB, far over a pipe's capacity
    host.heredoc(text)
    host.redirect(1, Redir.WRITE, "big")
    assert host.exec(["cat"]) == 0
    assert read(in_tmp / "big") == text
    host.heredoc(text)
    assert host.exec(["true"]) == 0  # a reader that never reads is fine too


def test_last_stdin_redirect_wins(host: PosixHost, in_tmp: Path) -> None:
    (in_tmp / "in").write_text("file\n")
    host.heredoc("doc\n")
    host.redirect(0, Redir.READ, "in")
    host.redirect(1, Redir.WRITE, "out")
    host.exec(["cat"])
    assert read(in_tmp / "out") == "file\n"


# -- Scopes applied to the shell itself -------------------------------------------------


def _cloexec(fd: int) -> bool:
    return bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)


def test_scope_redirects_the_process_and_restores_it(host: PosixHost, in_tmp: Path) -> None:
    before = os.fstat(1)
    open_before = set(os.listdir("/proc/self/fd"))
    host.redirect(1, Redir.WRITE, "scoped")
    host.with_redirects_begin(1)
    os.write(1, b"direct write\n")
    host.exec(["echo", "child"])
    saved = [int(fd) for fd in set(os.listdir("/proc/self/fd")) - open_before]
    # The saved copy of fd 1 sits at 10 or above and is not inherited by children.
    assert saved and all(fd >= 10 and _cloexec(fd) for fd in saved
                         if os.path.exists(f"/proc/self/fd/{fd}"))
    host.with_redirects_end()
    after = os.fstat(1)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
    assert read(in_tmp / "scoped") == "direct write\nchild\n"


def test_scopes_nest(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(1, Redir.WRITE, "outer")
    host.with_redirects_begin(1)
    host.exec(["echo", "a"])
    host.redirect(1, Redir.WRITE, "inner")
    host.with_redirects_begin(1)
    host.exec(["echo", "b"])
    host.with_redirects_end()
    host.exec(["echo", "c"])
    host.with_redirects_end()
    assert read(in_tmp / "outer") == "a\nc\n" and read(in_tmp / "inner") == "b\n"


def test_scope_takes_only_the_last_n(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(1, Redir.WRITE, "for_command")
    host.redirect(2, Redir.WRITE, "for_scope")
    host.with_redirects_begin(1)
    host.exec(SAY)
    host.with_redirects_end()
    assert read(in_tmp / "for_command") == "out\n" and read(in_tmp / "for_scope") == "err\n"
    with pytest.raises(HostError):
        host.with_redirects_begin(3)
    with pytest.raises(HostError):
        host.with_redirects_end()


@needs_bash
def test_scope_on_a_high_fd_and_a_closed_fd(host: PosixHost, in_tmp: Path) -> None:
    # Target numbers where the saved copies live must not lose those copies.
    host.redirect(10, Redir.WRITE, "ten")
    host.redirect(11, Redir.WRITE, "eleven")
    host.redirect(1, Redir.DUP_WRITE, "10")
    host.with_redirects_begin(3)
    # bash, because dash only knows single-digit fds in `>&n`.
    host.exec(["bash", "-c", "echo to-ten; echo to-eleven >&11"])
    host.with_redirects_end()
    assert read(in_tmp / "ten") == "to-ten\n" and read(in_tmp / "eleven") == "to-eleven\n"
    host.exec(["true"])


def test_failed_scope_is_reported_and_stays_balanced(host: PosixHost, in_tmp: Path) -> None:
    host.redirect(2, Redir.WRITE, "err")
    host.with_redirects_begin(1)
    host.redirect(0, Redir.READ, "missing")
    host.with_redirects_begin(1)
    assert host.last_status == 1
    host.with_redirects_end()
    host.with_redirects_end()
    assert read(in_tmp / "err") == "fusevm: missing: No such file or directory\n"


def test_permanent_redirects(in_tmp: Path) -> None:
    saved = os.dup(1)
    try:
        host = PosixHost()
        host.redirect(1, Redir.WRITE, "perm")
        assert host.make_redirects_permanent() == 0
        host.exec(["echo", "kept"])
        host.close()
        os.write(1, b"still\n")
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    assert read(in_tmp / "perm") == "kept\nstill\n"


def test_permanent_redirects_on_a_private_table(in_tmp: Path) -> None:
    before = set(os.listdir("/proc/self/fd"))
    fd = os.open("base", os.O_WRONLY | os.O_CREAT)
    host = PosixHost(stdout=fd)
    host.redirect(1, Redir.WRITE, "perm")
    assert host.make_redirects_permanent() == 0
    host.exec(["echo", "kept"])
    host.close()
    os.close(fd)
    assert read(in_tmp / "perm") == "kept\n" and read(in_tmp / "base") == ""
    assert set(os.listdir("/proc/self/fd")) == before


def test_private_fd_table_for_child_hosts(host: PosixHost, in_tmp: Path) -> None:
    fd = os.open("captured", os.O_WRONLY | os.O_CREAT)
    child = host.child(stdout=fd)
    assert child.stdout_fd == fd
    child.exec(["echo", "to the child's stdout"])
    child.redirect(1, Redir.WRITE, "scoped")
    child.with_redirects_begin(1)
    child.exec(["echo", "in scope"])
    child.with_redirects_end()
    child.exec(["echo", "back"])
    child.close()
    os.close(fd)
    assert read(in_tmp / "captured") == "to the child's stdout\nback\n"
    assert read(in_tmp / "scoped") == "in scope\n"
