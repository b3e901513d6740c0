"""How a fusevm process starts and ends, and the cycle collector's pauses while it loads.

Loading a command creates tens of thousands of long-lived objects (module namespaces,
functions, op tables) and frees almost nothing, so the cycle collector, triggered by the
allocation count, would walk them again and again while they load and once more in the
interpreter's teardown: a sixth of `fusevm awk 'BEGIN{}'`'s instructions. An entry point
therefore pauses the collector while the command loads (`pause_collector`); right before
the user's program runs (`program_starts`), what was loaded is moved out of the
collector's reach (`gc.freeze`) and the collector runs again as usual, so a long program's
cyclic garbage is collected as in any Python process. The package's module pack is held
open over the same stretch (`fusevm.modpack.hold`) and closed before the program runs.

At the end (`exit_process`), a process whose teardown would only free memory (no other
non-daemon thread, no profiler or tracer, not interactive) runs its `atexit` callbacks,
flushes its output and ends with `os._exit`: the teardown would free every module one
object at a time before the process goes away. Otherwise it exits the usual way. Library
callers (tests, `fusevm.cli.main(argv)`) never go through here.

An entry point also puts back the environment's `LC_CTYPE` that CPython changed when it
started in the C locale (`restore_locale_environment`).

`NoCycleCollection` is the same pause for one stretch of code, in any process: preparing a
big chunk's steps, compiling a region or an awk program, unpacking a cached chunk, loading
the baseline compiler (whose objects then leave the young generations unwalked, where
nothing is frozen: `keep_made`).
"""

from __future__ import annotations

import gc
import os
import sys

from fusevm import modpack

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import MutableMapping
    from typing import NoReturn

_paused = False


class NoCycleCollection:
    """`with NoCycleCollection():` the cycle collector does not run (unless it was off, or
    `when` is false) while code makes many long-lived objects none of which is in a cycle
    (a big chunk's steps, its compiled code, a cached chunk's tuples): it would walk the
    whole heap over them again and again for nothing. With `kept`, what the code made
    stays for the process's life (modules loaded mid-run: the baseline compiler), and
    leaves the collector's young generations at the end without a walk (`keep_made`)."""

    __slots__ = ("paused", "kept")

    def __init__(self, when: bool = True, kept: bool = False) -> None:
        self.paused = when
        self.kept = kept

    def __enter__(self) -> None:
        self.paused = self.paused and gc.isenabled()
        if self.paused:
            gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.paused:
            if self.kept:
                keep_made()
            gc.enable()


def keep_made() -> None:
    """Move every object the cycle collector tracks out of its young generations without
    walking them: into the oldest generation, which only a full collection walks (a cycle
    among them is found then). The first collection after loading the baseline compiler
    mid-run would otherwise walk its few thousand objects (code constants, functions,
    classes), about a tenth of the load.

    Not in a process whose entry point froze what it loaded (`program_starts`): moving
    objects out takes every frozen one with them (`gc.unfreeze`), and freezing instead
    would also freeze the running program's objects, a cycle among which would then never
    be collected; there the collector walks them as it walks any."""
    if gc.get_freeze_count():
        return
    gc.freeze()
    gc.unfreeze()


def pause_collector() -> None:
    """Stop the cycle collector and hold the module pack open until `program_starts`,
    give standard streams closed at start their stand-ins, and put back the environment's
    LC_CTYPE (`restore_locale_environment`): first thing an entry point does."""
    global _paused
    if sys.stdin is None or sys.stdout is None or sys.stderr is None:
        from fusevm import stdstreams  # (only then: its class would cost every command)
        stdstreams.stand_ins()
    restore_locale_environment()
    modpack.hold()
    if gc.isenabled():
        gc.disable()
        _paused = True


#: The values CPython gives LC_CTYPE when it coerces a C locale (PEP 538).
_COERCED = ("C.UTF-8", "C.utf8", "UTF-8")


def restore_locale_environment(environ: MutableMapping[str, str] = os.environ,
                               started: str = "/proc/self/environ") -> None:
    """Put back the LC_CTYPE the process was started with. Started in the C locale
    (LC_CTYPE=C, or no locale variable at all), CPython coerces its own locale to UTF-8
    and says so in the environment (PEP 538: LC_CTYPE=C.UTF-8), which a shell's scripts,
    awk's ENVIRON and every child would otherwise see, and which would hide from the
    frontends that the user asked for the C locale (bytes, not characters). The
    environment the process started with is read back from `started` (Linux keeps it
    there); where it cannot be read, the environment is left as it is."""
    if "LC_ALL" in environ or environ.get("LC_CTYPE") not in _COERCED:
        return  # (no coercion happened: LC_ALL set, or LC_CTYPE is no coerced value)
    try:
        with open(started, "rb") as f:
            data = f.read()
    except OSError:
        return
    original = None
    for item in data.split(b"\0"):
        if item.startswith(b"LC_CTYPE="):
            original = os.fsdecode(item[len(b"LC_CTYPE="):])
    if original is None:
        del environ["LC_CTYPE"]
    elif original != environ["LC_CTYPE"]:
        environ["LC_CTYPE"] = original


def program_starts() -> None:
    """The command has loaded: close the module pack, freeze what it loaded and turn the
    collector back on.

    Undoes only what `pause_collector` did, so any code path may call it."""
    global _paused
    modpack.release()
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def exit_process(status: int | None) -> NoReturn:
    """End the process with `status` (see the module docstring)."""
    program_starts()
    code = 0 if status is None else status
    import atexit
    run_callbacks = getattr(atexit, "_run_exitfuncs", None)  # CPython's, as at teardown
    if run_callbacks is None or not _teardown_is_only_freeing():
        sys.exit(code)
    # What the teardown would do before it frees anything, in its order: the `atexit`
    # callbacks (then forgotten, so nothing runs them twice), then the standard streams.
    run_callbacks()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        # A closed pipe or stream: the usual exit reports it the way Python does.
        sys.exit(code)
    os._exit(code & 0xFF)


def _teardown_is_only_freeing() -> bool:
    """Whether, but for `atexit` callbacks and flushing, the interpreter's teardown would
    only free memory: no other non-daemon thread to wait for, no profiler or debugger
    to report when the program returns, no interactive prompt to come."""
    if sys.flags.interactive or sys.getprofile() is not None or sys.gettrace() is not None:
        return False
    threading = sys.modules.get("threading")
    if threading is not None:
        main = threading.main_thread()
        if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
            return False
    return True
