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
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fusevm.interp.vm import VM


@contextmanager
def sigint_interrupts(vm: VM) -> Iterator[None]:
    """While the block runs, SIGINT interrupts `vm` instead of raising KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    asked = False

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal asked
        if asked:
            raise KeyboardInterrupt
        asked = True
        vm.interrupt()

    previous: Any = signal.signal(signal.SIGINT, on_sigint)
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    old_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            try:
                data = os.read(read_fd, 64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data:
                vm.interrupt()

    watcher = threading.Thread(target=watch, name="fusevm-sigint", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(old_wakeup)
        os.close(write_fd)
        watcher.join(1.0)
        os.close(read_fd)
        signal.signal(signal.SIGINT, previous)
