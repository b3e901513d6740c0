"""fusevm.shell.csignal: the shell's signals without the `signal` module's enums."""

from __future__ import annotations

import signal

from fusevm.shell import csignal


def test_signal_names_are_those_of_the_signals_enum() -> None:
    expected = {s.name[3:]: int(s) for s in signal.Signals
                if s.name.startswith("SIG") and not s.name.startswith("SIG_")}
    assert list(csignal.SIGNAL_NAMES.items()) == list(expected.items())


def test_numbers_and_dispositions_are_the_plain_values() -> None:
    assert csignal.SIGINT == int(signal.SIGINT) and csignal.SIG_IGN == int(signal.SIG_IGN)
    previous = csignal.signal(csignal.SIGUSR1, csignal.SIG_IGN)
    try:
        assert signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN
        assert csignal.getsignal(csignal.SIGUSR1) is csignal.SIG_IGN
    finally:
        csignal.signal(csignal.SIGUSR1, previous)
