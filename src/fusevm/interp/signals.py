"""SIGINT as `vm.interrupt()` for command-line front ends (`fusevm run`, `fusevm awk`).

The first Ctrl-C asks the running VM to stop at its next hot point, so the command exits
130 with its output flushed; a second one raises KeyboardInterrupt as Python would (for a
VM blocked in a system call). Native code holds the main thread, where Python runs signal
handlers, so the signal also reaches a watcher thread through the wakeup fd (written by
the C-level handler at once); native units release the GIL, and the watcher's
`vm.interrupt()` sets the fuel word they poll at loop headers.

This runs in every command, so it uses the C modules under `signal` and `threading`
(`_signal`, `_thread`): those two wrappers import `enum`, `functools` and `collections`,
about a third of starting Python, for enum signal names and Thread objects not needed here.
The watcher thread starts only once native code may run (`native_code_may_run`, called
as the JIT's tiers load): until then the main thread runs the Python-level handler between
bytecodes, and a thread started and stopped for nothing costs a short command a few
percent of its start-up.
"""

from __future__ import annotations

import _thread
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal  # the same functions, as the type checker knows them
    from types import FrameType
    from typing import Any

    from fusevm.interp.vm import VM
else:
    import _signal


class sigint_interrupts:  # noqa: N801 - used as a function: `with sigint_interrupts(vm):`
    """While the block runs, SIGINT interrupts `vm` instead of raising KeyboardInterrupt.

    A class rather than `contextlib.contextmanager`, which costs start-up its import."""

    __slots__ = ("vm", "asked", "installed", "previous", "read_fd", "write_fd", "old_wakeup",
                 "watcher")

    def __init__(self, vm: VM) -> None:
        self.vm = vm
        self.asked = False
        #: Whether the handler and the wakeup pipe are in place (not in a thread's run).
        self.installed = False
        #: Held by the watcher thread while it runs (None: no watcher was started).
        self.watcher: Any = None

    def __enter__(self) -> None:
        try:
            self.previous: Any = _signal.signal(_signal.SIGINT, self._on_sigint)
        except ValueError:  # not the main thread: signals are not ours to handle
            return
        self.installed = True
        # The wakeup fd is set here, in the main thread (the only one that may set it);
        # the thread reading it starts when native code may run.
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)
        self.old_wakeup = _signal.set_wakeup_fd(self.write_fd, warn_on_full_buffer=False)
        with _idle_lock:
            if _native_may_run:
                self._start_watcher()
            else:
                _idle.append(self)

    def _start_watcher(self) -> None:
        self.watcher = _thread.allocate_lock()
        self.watcher.acquire()
        # Not joined at exit, like a daemon thread: it ends when the pipe closes.
        _thread.start_new_thread(self._watch, ())

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
        self.vm.interrupt()

    def _watch(self) -> None:
        read_fd, vm, sigint = self.read_fd, self.vm, _signal.SIGINT
        try:
            while True:
                try:
                    data = os.read(read_fd, 64)
                except OSError:
                    return
                if not data:
                    return
                if sigint in data:
                    vm.interrupt()
        finally:
            self.watcher.release()

    def __exit__(self, *exc: object) -> None:
        if not self.installed:
            return
        self.installed = False
        with _idle_lock:  # a watcher starting in another thread has started, or never will
            try:
                _idle.remove(self)
            except ValueError:  # its watcher started
                pass
            watcher = self.watcher
        _signal.set_wakeup_fd(self.old_wakeup)
        os.close(self.write_fd)
        if watcher is not None:
            watcher.acquire(timeout=1.0)
        os.close(self.read_fd)
        _signal.signal(_signal.SIGINT, self.previous)


#: Whether native code may run in this process (the JIT's tiers have loaded).
_native_may_run = False
#: Guards in effect whose watcher waits for that.
_idle: list[sigint_interrupts] = []
#: Held while `_idle` changes or a waiting guard's watcher starts: the tiers may load in
#: another thread while the main thread leaves a guard (and closes its pipe).
_idle_lock = _thread.allocate_lock()


def native_code_may_run() -> None:
    """From now on native code may hold the main thread: start the watcher of every guard
    in effect, and of every later one at once (`fusevm.jit.policy` calls this as it loads
    the tiers)."""
    global _native_may_run
    with _idle_lock:
        _native_may_run = True
        while _idle:
            _idle.pop()._start_watcher()
