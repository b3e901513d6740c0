"""The command line's SIGINT guard starts its watcher thread only once native code may run."""

from __future__ import annotations

import os
import signal

import pytest

from fusevm.interp import signals


class _VM:
    def __init__(self) -> None:
        self.interrupts = 0

    def interrupt(self) -> None:
        self.interrupts += 1


def test_the_watcher_starts_when_the_tiers_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signals, "_native_may_run", False)
    vm = _VM()
    guard = signals.sigint_interrupts(vm)  # type: ignore[arg-type]
    with guard:
        assert guard.watcher is None and signals._idle == [guard]
        os.kill(os.getpid(), signal.SIGINT)  # the Python-level handler, between bytecodes
        assert vm.interrupts == 1
        signals.native_code_may_run()
        assert guard.watcher is not None and not signals._idle
    assert not signals._idle
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_guard_made_once_native_code_may_run_starts_its_watcher_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signals, "_native_may_run", True)
    guard = signals.sigint_interrupts(_VM())  # type: ignore[arg-type]
    with guard:
        assert guard.watcher is not None and not signals._idle
