"""The sandbox holds: descriptors the VM did not open, signal dispositions and the password
database are out of reach without a capability (issue 17).

Proofs without strace: fd tables (fstat identity, /proc/self/fd), `signal.getsignal`, and
patched `os`/`pwd` calls that fail the test if they are reached.
"""

from __future__ import annotations

import os
import pwd
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vmkit import command, run

from fusevm.errors import CapabilityError
from fusevm.shell import process
from fusevm.shell.caps import Caps

#: Everything but touching the embedder's descriptors.
NO_HOST_FDS = Caps(host_fds=False)


@pytest.fixture
def foreign() -> Iterator[tuple[int, int]]:
    """A pipe the embedding application owns (the VM never opened it), with data queued."""
    r, w = os.pipe()
    os.write(w, b"secret\n")
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def identity(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def scope(fd: int, kind: str, word: str, body: str = "") -> str:
    return (f'LoadConst "{word}"\nRedirect {fd} {kind}\nWithRedirectsBegin 1\n{body}\n'
            "WithRedirectsEnd")


@pytest.mark.parametrize("caps", [Caps.NONE, NO_HOST_FDS], ids=["NONE", "no-host-fds"])
@pytest.mark.parametrize("kind", [">&", "<&"])
def test_scope_cannot_dup_a_descriptor_the_vm_did_not_open(
        foreign: tuple[int, int], caps: Caps, kind: str) -> None:
    r, w = foreign
    src = w if kind == ">&" else r
    before = identity(1), identity(0)
    with pytest.raises(CapabilityError, match="host_fds") as info:
        run(scope(1 if kind == ">&" else 0, kind, str(src)), caps=caps)
    assert info.value.op == "WithRedirectsBegin"
    assert (identity(1), identity(0)) == before
    os.close(w)
    assert os.read(r, 100) == b"secret\n"  # nothing read from or written to the pipe


@pytest.mark.parametrize("caps", [Caps.NONE, NO_HOST_FDS], ids=["NONE", "no-host-fds"])
def test_scope_cannot_close_a_descriptor_the_vm_did_not_open(
        foreign: tuple[int, int], caps: Caps) -> None:
    r, _ = foreign
    with pytest.raises(CapabilityError, match="host_fds"):
        run(scope(r, ">&", "-"), caps=caps)
    assert os.read(r, 100) == b"secret\n"


def test_permanent_redirect_cannot_close_a_descriptor_the_vm_did_not_open(
        foreign: tuple[int, int]) -> None:
    r, _ = foreign
    _, vm = run("Nop", caps=NO_HOST_FDS, close=False)
    host = vm.shell
    try:
        host.redirect(r, 6, "-")
        with pytest.raises(CapabilityError):
            host.make_redirects_permanent()
    finally:
        host.close()
    assert os.read(r, 100) == b"secret\n"


def test_scope_cannot_overwrite_a_descriptor_the_vm_did_not_open(
        foreign: tuple[int, int], in_tmp: Path) -> None:
    r, _ = foreign
    with pytest.raises(CapabilityError, match="host_fds"):
        run(scope(r, ">", "out"), caps=NO_HOST_FDS)
    assert os.read(r, 100) == b"secret\n"
    assert not (in_tmp / "out").exists()


def test_exec_cannot_hand_a_descriptor_the_vm_did_not_open_to_a_child(
        foreign: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    r, _ = foreign
    spawned: list[Any] = []
    monkeypatch.setattr(process, "spawn", lambda *a, **k: spawned.append(a) or 0)
    text = f'LoadConst "{r}"\nRedirect 0 <&\n' + command("cat")
    with pytest.raises(CapabilityError, match="host_fds") as info:
        run(text, caps=NO_HOST_FDS)
    assert info.value.op == "Exec"
    assert spawned == []


def free_fd() -> int:
    fd = next(n for n in range(20, 200) if not os.path.exists(f"/proc/self/fd/{n}"))
    return fd


def test_stdio_and_descriptors_the_vm_opened_are_its_own(in_tmp: Path) -> None:
    """2>&1, and a dup of an fd an earlier redirection of the VM opened (at a number
    nobody uses), need nothing."""
    run(scope(2, ">&", "1"), caps=Caps.NONE)
    caps = Caps(spawn=True, fs_read=False, fs_write=True, signals=False, host_fds=False)
    n = free_fd()
    text = (f'LoadConst "out"\nRedirect {n} >\nLoadConst "{n}"\nRedirect 1 >&\n'
            "WithRedirectsBegin 2\n" + command("echo", "hi") + "\nWithRedirectsEnd")
    run(text, caps=caps)
    assert (in_tmp / "out").read_text() == "hi\n"


def test_with_host_fds_a_scope_may_use_the_embedders_descriptor(
        foreign: tuple[int, int]) -> None:
    r, w = foreign
    run(scope(5, ">&", str(w)), caps=Caps.ALL)
    os.close(w)
    assert os.read(r, 100) == b"secret\n"


# -- Signal dispositions ------------------------------------------------------------------

@pytest.mark.parametrize("caps", [Caps.NONE, Caps(signals=False)], ids=["NONE", "no-signals"])
def test_trap_set_cannot_change_a_signal_disposition(caps: Caps) -> None:
    before = signal.getsignal(signal.SIGTERM)
    text = '.chunk h\nNop\n.end\nLoadConst "TERM"\nTrapSet h'
    with pytest.raises(CapabilityError, match="signals") as info:
        run(text, caps=caps)
    assert info.value.op == "TrapSet"
    assert signal.getsignal(signal.SIGTERM) is before


def test_host_trap_methods_check_the_signals_capability() -> None:
    _, vm = run("Nop", caps=Caps.NONE, close=False)
    host = vm.shell
    before = signal.getsignal(signal.SIGUSR1)
    try:
        for call in (lambda: host.trap_ignore("USR1"), lambda: host.trap_reset("USR1"),
                     lambda: host.trap_set("USR1", object())):
            with pytest.raises(CapabilityError):
                call()
            assert signal.getsignal(signal.SIGUSR1) is before
    finally:
        host.close()


def test_exit_trap_needs_no_capability() -> None:
    _, vm = run('.chunk h\nNop\n.end\nLoadConst "EXIT"\nTrapSet h', caps=Caps.NONE,
                close=False)
    assert vm.shell.trap_handler("EXIT") is not None
    vm.shell.close()


# -- Tilde expansion ----------------------------------------------------------------------

def _no_pwd(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> Any:
        raise AssertionError("the password database was read")
    monkeypatch.setattr(pwd, "getpwnam", refuse)
    monkeypatch.setattr(pwd, "getpwuid", refuse)


def test_tilde_user_needs_fs_read(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_pwd(monkeypatch)
    with pytest.raises(CapabilityError, match="fs_read") as info:
        run('LoadConst "~root/x"\nTildeExpand', caps=Caps.NONE)
    assert info.value.op == "TildeExpand"


def test_tilde_without_home_needs_fs_read(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_pwd(monkeypatch)
    monkeypatch.delenv("HOME", raising=False)
    with pytest.raises(CapabilityError, match="fs_read"):
        run('LoadConst "~/x"\nTildeExpand', caps=Caps.NONE)


def test_tilde_from_home_needs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_pwd(monkeypatch)
    monkeypatch.setenv("HOME", "/home/sandboxed")
    result, _ = run('LoadConst "~/x"\nTildeExpand', caps=Caps.NONE)
    assert result == "/home/sandboxed/x"
