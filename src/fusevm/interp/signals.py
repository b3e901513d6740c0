"""SIGINT as `vm.interrupt()` for command-line front ends (`fusevm run`, `fusevm awk`).

The first Ctrl-C asks the running VM to stop at its next hot point, so the command exits
130 with its output flushed; a second one raises KeyboardInterrupt as Python would (for a
VM blocked in a system call). Native code holds the main thread, where Python runs signal
handlers, so the signal also reaches a watcher thread through the wakeup fd (written by
the C-level handler at once); native units release the GIL, and the watcher's
`vm.interrupt()` sets the fuel word they poll at loop headers.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fusevm.interp.vm import VM


class sigint_interrupts:  # noqa: N801 - used as a function: `with sigint_interrupts(vm):`
    """While the block runs, SIGINT interrupts `vm` instead of raising KeyboardInterrupt.

    A class rather than `contextlib.contextmanager`, which costs start-up its import."""

    __slots__ = ("vm", "asked", "previous", "read_fd", "write_fd", "old_wakeup", "watcher")

    def __init__(self, vm: VM) -> None:
        self.vm = vm
        self.asked = False
        self.watcher: threading.Thread | None = None

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self.previous: Any = signal.signal(signal.SIGINT, self._on_sigint)
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)
        self.old_wakeup = signal.set_wakeup_fd(self.write_fd, warn_on_full_buffer=False)
        self.watcher = threading.Thread(target=self._watch, name="fusevm-sigint", daemon=True)
        self.watcher.start()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
        self.vm.interrupt()

    def _watch(self) -> None:
        read_fd, vm = self.read_fd, self.vm
        while True:
            try:
                data = os.read(read_fd, 64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data:
                vm.interrupt()

    def __exit__(self, *exc: object) -> None:
        if self.watcher is None:
            return
        signal.set_wakeup_fd(self.old_wakeup)
        os.close(self.write_fd)
        self.watcher.join(1.0)
        os.close(self.read_fd)
        signal.signal(signal.SIGINT, self.previous)
