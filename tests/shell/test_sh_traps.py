"""Traps: handlers only record signals; trap_check hands out due handlers in order
(docs/shell.md#traps)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from shellkit import text_runner

from fusevm.errors import HostError
from fusevm.shell.posix import PosixHost
from fusevm.shell.traps import parse_signal


@dataclass
class FakeChunk:
    """Stands in for a handler chunk: the host only looks at `ops` (empty = ignore)."""

    name: str
    ops: list[str] = field(default_factory=lambda: ["op"])


@pytest.fixture
def host(in_tmp: Path) -> Iterator[PosixHost]:
    before = {s: signal.getsignal(s) for s in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM)}
    h = PosixHost(runner=text_runner)
    try:
        yield h
    finally:
        h.close()
        for sig, handler in before.items():
            assert signal.getsignal(sig) == handler  # close() restored everything


def test_sigusr1_runs_its_handler_via_trap_check(host: PosixHost) -> None:
    handler = FakeChunk("usr1")
    host.trap_set("USR1", handler)
    assert host.trap_check() == []
    os.kill(os.getpid(), signal.SIGUSR1)
    assert host.trap_check() == [handler]
    assert host.trap_check() == []


def test_handlers_come_in_arrival_order_once_per_signal(host: PosixHost) -> None:
    a, b = FakeChunk("a"), FakeChunk("b")
    host.trap_set("SIGUSR1", a)
    host.trap_set("12", b)  # SIGUSR2 by number
    for sig in (signal.SIGUSR2, signal.SIGUSR1, signal.SIGUSR2):
        os.kill(os.getpid(), sig)
    assert host.trap_check() == [b, a, b]


def test_empty_handler_ignores_and_none_resets(host: PosixHost) -> None:
    host.trap_set("USR1", FakeChunk("empty", ops=[]))
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN
    os.kill(os.getpid(), signal.SIGUSR1)
    assert host.trap_check() == []
    host.trap_set("USR1", None)
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL


@pytest.mark.process
def test_ignored_signals_stay_ignored_in_children(host: PosixHost) -> None:
    host.trap_ignore("TERM")
    assert host.exec(["sh", "-c", "kill -TERM $$; exit 9"]) == 9
    host.trap_reset("TERM")
    assert host.exec(["sh", "-c", "kill -TERM $$; exit 9"]) == 143


@pytest.mark.process
def test_trapped_signals_are_default_in_children(host: PosixHost) -> None:
    host.trap_set("TERM", FakeChunk("term"))
    assert host.exec(["sh", "-c", "kill -TERM $$; exit 9"]) == 143
    assert host.trap_check() == []


def test_exit_trap_runs_once_through_the_runner(in_tmp: Path) -> None:
    out = os.open("exit_out", os.O_WRONLY | os.O_CREAT)
    host = PosixHost(runner=text_runner, stdout=out)
    host.trap_set("EXIT", "bye\n")
    host.trap_set("0", "bye again\n")  # EXIT by number replaces it
    assert host.run_exit_traps() == 0
    assert host.run_exit_traps() is None
    host.close()
    os.close(out)
    assert Path("exit_out").read_text() == "bye again\n"


def test_no_exit_trap(host: PosixHost) -> None:
    assert host.run_exit_traps() is None


def test_pseudo_signals_are_stored(host: PosixHost) -> None:
    err = FakeChunk("err")
    host.trap_set("ERR", err)
    assert host.trap_handler("ERR") is err and host.trap_handler("DEBUG") is None


@pytest.mark.parametrize(("name", "want"), [
    ("INT", signal.SIGINT), ("SIGINT", signal.SIGINT), ("int", signal.SIGINT),
    ("2", signal.SIGINT), ("0", "EXIT"), ("EXIT", "EXIT"), ("sigexit", "EXIT"), ("ERR", "ERR"),
    ("DEBUG", "DEBUG"), ("RETURN", "RETURN"), (" TERM ", signal.SIGTERM),
])
def test_signal_names(name: str, want: int | str) -> None:
    assert parse_signal(name) == want


@pytest.mark.parametrize("name", ["", "NOPE", "999", "SIG"])
def test_bad_signal_names(host: PosixHost, name: str) -> None:
    with pytest.raises(HostError, match="invalid signal"):
        host.trap_set(name, FakeChunk("x"))


@pytest.mark.parametrize("name", ["KILL", "STOP"])
def test_untrappable_signals(host: PosixHost, name: str) -> None:
    with pytest.raises(HostError):
        host.trap_set(name, FakeChunk("x"))


def test_traps_reset_inside_a_subshell_and_come_back(host: PosixHost) -> None:
    handler = FakeChunk("usr1")
    host.trap_set("USR1", handler)
    host.trap_ignore("USR2")
    host.subshell_begin()
    assert host.trap_handler("USR1") is None
    os.kill(os.getpid(), signal.SIGUSR1)
    assert host.trap_check() == []  # deferred to the enclosing shell
    inner = FakeChunk("inner")
    host.trap_set("TERM", inner)
    assert host.subshell_end() is None
    assert host.trap_handler("TERM") is None
    assert signal.getsignal(signal.SIGUSR2) == signal.SIG_IGN
    assert host.trap_check() == [handler]
