"""The trap table: which handler chunk runs for which signal, and which signals are pending.

The OS-level handler installed for a trapped signal only records that the signal arrived;
handlers run later, in order, when the VM asks (`due`), never inside the signal handler
(docs/shell.md#traps). Pseudo-signals (EXIT, ERR, DEBUG, RETURN) are only stored here; the host
runs EXIT once at shutdown and leaves the others to the frontend. Python delivers signals
to the main thread only, so traps can be set only from it.
"""

from __future__ import annotations

from fusevm.errors import HostError
from fusevm.shell import csignal as signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any, Final, TypeAlias

__all__ = ["IGNORE", "PSEUDO_SIGNALS", "Traps", "is_pseudo_signal", "parse_signal"]

PSEUDO_SIGNALS: Final = frozenset({"EXIT", "ERR", "DEBUG", "RETURN"})

#: A handler value meaning "ignore the signal" (`trap '' INT`).
IGNORE: Final = object()

if TYPE_CHECKING:
    _Handler: TypeAlias = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def is_pseudo_signal(name: str) -> bool:
    """True for EXIT (or 0), ERR, DEBUG and RETURN, in any spelling `parse_signal` takes:
    the traps that change no signal disposition."""
    text = name.strip().upper()
    return text == "0" or text.removeprefix("SIG") in PSEUDO_SIGNALS


def parse_signal(name: str) -> int | str:
    """Signal number for "INT", "SIGINT", "int" or "2"; the name for EXIT (or "0"), ERR,
    DEBUG and RETURN.

    Raises:
        HostError: the name is not a signal (bash: "invalid signal specification").
    """
    text = name.strip()
    if text.isdecimal():
        number = int(text)
        if number == 0:
            return "EXIT"
        if number not in signal.NUMBER_NAMES:
            raise HostError(f"{name}: invalid signal specification")
        return number
    upper = text.upper()
    if upper.startswith("SIG"):
        upper = upper[3:]
    if upper in PSEUDO_SIGNALS:
        return upper
    found = signal.SIGNAL_NUMBERS.get(upper)
    if found is None:
        raise HostError(f"{name}: invalid signal specification")
    return found


class Traps:
    """Handlers by signal, the pending-signal queue, and the OS dispositions to restore."""

    def __init__(self) -> None:
        self.handlers: dict[int | str, object] = {}
        # A list, not a deque: `collections` costs every sh run its import, and a handful
        # of pending signals is all there ever is.
        self.pending: list[int] = []
        self._original: dict[int, _Handler] = {}

    def _record(self, signum: int, frame: FrameType | None) -> None:
        # Runs in the main thread between bytecodes; appending to the queue is all it may do.
        self.pending.append(signum)

    def _install(self, signum: int, disposition: _Handler) -> None:
        try:
            previous = signal.signal(signum, disposition)
        except ValueError as exc:
            raise HostError(f"cannot trap signal {signum}: {exc}") from None
        except OSError as exc:
            raise HostError(f"cannot trap signal {signum}: {exc.strerror}") from None
        self._original.setdefault(signum, previous)

    def set(self, name: str, handler: object) -> None:
        """Trap `name` with `handler`: a chunk, IGNORE, or None to restore the default.

        Raises:
            HostError: bad signal name, an untrappable signal (KILL, STOP), or a call from a
                thread other than the main one.
        """
        key = parse_signal(name)
        if handler is None:
            self.handlers.pop(key, None)
            if isinstance(key, int):
                self._restore_one(key)
            return
        self.handlers[key] = handler
        if isinstance(key, int):
            self._install(key, signal.SIG_IGN if handler is IGNORE else self._record)

    def _restore_one(self, signum: int) -> None:
        if signum not in self._original:
            return
        previous = self._original.pop(signum)
        try:
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        except (ValueError, OSError):
            pass

    def ignored(self) -> frozenset[int]:
        """Signals the user set to be ignored (they stay ignored in children)."""
        return frozenset(k for k, h in self.handlers.items()
                         if isinstance(k, int) and h is IGNORE)

    def due(self) -> list[object]:
        """Drain the pending signals; the handler chunks to run, one per arrival, in order.

        A signal with no handler in the current table (its trap was reset for a subshell)
        stays pending, so the enclosing shell handles it once the subshell is over.
        """
        chunks: list[object] = []
        kept: list[int] = []
        while self.pending:
            signum = self.pending.pop(0)
            handler = self.handlers.get(signum)
            if handler is None:
                if signum in self._original:
                    kept.append(signum)
            elif handler is not IGNORE:
                chunks.append(handler)
        self.pending.extend(kept)
        return chunks

    def handler(self, name: str) -> object | None:
        """The chunk trapped for `name` (a pseudo-signal or a signal), or None."""
        h = self.handlers.get(parse_signal(name))
        return None if h is IGNORE else h

    def enter_subshell(self) -> dict[int | str, object]:
        """Reset every trap except ignored ones (docs/shell.md#traps); returns the table to restore.

        The OS dispositions stay as they are, so a trapped signal that arrives inside the
        subshell is queued for the enclosing shell instead of killing this process.
        """
        saved = dict(self.handlers)
        self.handlers = {k: h for k, h in saved.items() if h is IGNORE}
        return saved

    def leave_subshell(self, saved: dict[int | str, object]) -> None:
        """Restore the table saved by `enter_subshell`, undoing traps set inside."""
        for key in set(self.handlers) | set(saved):
            handler = saved.get(key)
            if handler is None:
                self.handlers.pop(key, None)
                if isinstance(key, int):
                    self._restore_one(key)
                continue
            self.handlers[key] = handler
            if isinstance(key, int):
                self._install(key, signal.SIG_IGN if handler is IGNORE else self._record)

    def close(self) -> None:
        """Restore every OS disposition this table changed and forget all handlers."""
        for signum in list(self._original):
            self._restore_one(signum)
        self.handlers.clear()
        self.pending.clear()
