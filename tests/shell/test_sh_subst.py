"""Command and process substitution through a bound chunk runner (docs/shell.md#subshells)."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from shellkit import read, text_runner

from fusevm.errors import HostError
from fusevm.ops.shell_codes import Redir
from fusevm.shell.posix import PosixHost


@pytest.fixture(autouse=True)
def fifos_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """FIFOs for process substitution are made with tempfile: keep them inside tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    yield
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("fusevm-procsub-")]


@pytest.mark.parametrize(("body", "want"), [
    ("a\n\nb\n\n\n", "a\n\nb"), ("  t  ", "  t  "), ("", ""), ("\n\n", ""),
    ("x\r\n", "x\r"), ("tab\t\n", "tab\t"), ("nul\0byte\n", "nulbyte"),
])
def test_strips_all_trailing_newlines_only(host: PosixHost, body: str, want: str) -> None:
    assert host.cmd_subst(body) == want


def test_status_is_recorded(host: PosixHost) -> None:
    assert host.cmd_subst("out\n#status=5") == "out"
    assert host.last_subst_status == 5 and host.last_status == 5


def test_undecodable_bytes_round_trip(host: PosixHost) -> None:
    def runner(chunk: object, out: int, inp: int = 0) -> int:
        os.write(out, b"\xff\xfeok\n")
        return 0

    host.bind_runner(runner)
    text = host.cmd_subst(None)
    assert os.fsencode(text) == b"\xff\xfeok"


def test_large_output_does_not_block(host: PosixHost) -> None:
    assert len(host.cmd_subst("x" * 1_000_000 + "\n")) == 1_000_000


@pytest.mark.process
def test_runner_gets_a_fresh_pending_queue(host: PosixHost, in_tmp: Path) -> None:
    seen: list[int] = []

    def runner(chunk: object, out: int, inp: int = 0) -> int:
        seen.append(len(host._pending))
        return 0

    host.redirect(1, Redir.WRITE, "for_outer")
    host.bind_runner(runner)
    host.cmd_subst(None)
    assert seen == [0]
    host.exec(["echo", "outer"])
    assert read(in_tmp / "for_outer") == "outer\n"


@pytest.mark.process
def test_real_command_output_is_captured(host: PosixHost) -> None:
    def runner(chunk: object, out: int, inp: int = 0) -> int:
        child = host.child(stdout=out)
        try:
            return child.exec(list(chunk))  # type: ignore[call-overload]
        finally:
            child.close()

    host.bind_runner(runner)
    assert host.cmd_subst(["printf", "a\\nb\\n\\n"]) == "a\nb"
    assert host.cmd_subst(["sh", "-c", "exit 3"]) == "" and host.last_subst_status == 3


def test_no_runner_is_a_clear_error(in_tmp: Path) -> None:
    bare = PosixHost()
    with pytest.raises(HostError, match="runner"):
        bare.cmd_subst(None)
    with pytest.raises(HostError, match="runner"):
        bare.process_sub_in(None)
    bare.close()


@pytest.mark.process
@pytest.mark.parametrize("use_fifo", [False, True])
def test_process_substitution_in_is_readable_by_cat(in_tmp: Path, use_fifo: bool) -> None:
    host = PosixHost(runner=text_runner, use_fifo=use_fifo)
    try:
        p1 = host.process_sub_in("first\n")
        p2 = host.process_sub_in("second\n")
        assert p1 != p2
        if not use_fifo:
            assert p1.startswith("/dev/fd/")
        host.redirect(1, Redir.WRITE, "out")
        assert host.exec(["cat", p1, p2]) == 0
        assert read(in_tmp / "out") == "first\nsecond\n"
        if use_fifo:
            assert not os.path.exists(p1)  # removed after the command
    finally:
        host.close()


@pytest.mark.process
@pytest.mark.parametrize("use_fifo", [False, True])
def test_process_substitution_out_feeds_the_body(in_tmp: Path, use_fifo: bool) -> None:
    received: list[bytes] = []
    done = threading.Event()

    def runner(chunk: object, out: int, inp: int = 0) -> int:
        data = b""
        while block := os.read(inp, 4096):
            data += block
        received.append(data)
        done.set()
        return 0

    host = PosixHost(runner=runner, use_fifo=use_fifo)
    try:
        path = host.process_sub_out(None)
        assert host.exec(["sh", "-c", f"echo fed > {path}"]) == 0
        assert done.wait(10)
        assert received == [b"fed\n"]
    finally:
        host.close()


@pytest.mark.process
def test_unused_fifo_does_not_hang(in_tmp: Path) -> None:
    host = PosixHost(runner=text_runner, use_fifo=True)
    host.process_sub_in("never read\n")
    host.process_sub_out(None)
    assert host.exec(["true"]) == 0
    assert host.wait_all() == 0
    host.close()


@pytest.mark.process
def test_process_substitution_fd_does_not_leak_to_later_commands(host: PosixHost,
                                                                  in_tmp: Path) -> None:
    path = host.process_sub_in("x\n")
    host.redirect(1, Redir.WRITE, os.devnull)
    host.exec(["cat", path])
    host.redirect(2, Redir.WRITE, "err")
    assert host.exec(["cat", path]) == 1  # closed after the command that used it
    assert not os.path.exists(path)
