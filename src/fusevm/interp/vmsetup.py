"""What a VM is made with: its arguments checked, the stdin it reads by default, its host.

`VM(...)` checks every argument that would otherwise fail only mid-run (`check_arguments`),
reads `sys.stdin` through one shared UTF-8 wrapper when it was given no stdin
(`default_stdin`), and takes a shell host through `as_shell_host`.
"""

from __future__ import annotations

import io
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from fusevm.shell.protocol import ShellHost


#: (sys.stdin it wraps, wrapper): one wrapper per process, shared by every VM. It is never
#: garbage-collected while current, because collecting a TextIOWrapper closes the buffer
#: under it, which would close the process's stdin; a per-VM wrapper would also lose the
#: input it had read ahead when its VM went away.
_stdin_wrapper: list[tuple[Any, io.TextIOWrapper]] = []


def _is_instance(value: object, module: str, name: str) -> bool:
    """Whether `value` is an instance of class `name` of `module`, without importing it
    (an instance of it exists only once the module is loaded)."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(value, getattr(loaded, name))


def check_arguments(stdout: Any, stdin: Any, max_depth: Any, max_size: Any,
                    caps: Any) -> None:
    """TypeError or ValueError for a `VM(...)` argument that would fail only mid-run (its
    extensions are `ops.extension.set_list`'s to check)."""
    if caps is not None and not _is_instance(caps, "fusevm.shell.caps", "Caps"):
        raise TypeError(f"caps must be a fusevm.shell.caps.Caps, not {type(caps).__name__}")
    for name, value, least in (("max_depth", max_depth, 1), ("max_size", max_size, 0)):
        if type(value) is not int or value < least:
            raise ValueError(f"{name} must be an int of at least {least}, not {value!r:.40}")
    if stdout is not None and not callable(getattr(stdout, "write", None)):
        raise TypeError(f"stdout must be a text stream (with write), not "
                        f"{type(stdout).__name__}")
    if stdin is not None and not callable(getattr(stdin, "readline", None)):
        raise TypeError(f"stdin must be a text stream (with readline), not "
                        f"{type(stdin).__name__}")


def default_stdin() -> TextIO:
    """The text stream ReadLine uses when a VM was given no stdin (see VM.readline)."""
    source = sys.stdin
    if _stdin_wrapper and _stdin_wrapper[0][0] is source:
        return _stdin_wrapper[0][1]
    buffer = getattr(source, "buffer", None)
    if buffer is None:  # a text stream with no bytes under it, e.g. an io.StringIO
        return source
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8", errors="surrogateescape",
                               newline="\n")
    if _stdin_wrapper:
        # sys.stdin was replaced: let go of the old wrapper without closing its buffer.
        old = _stdin_wrapper.pop()[1]
        try:
            old.detach()
        except (ValueError, OSError):
            pass
    _stdin_wrapper.append((source, wrapper))
    return wrapper


def as_shell_host(host: object) -> ShellHost:
    from fusevm.shell.hostbase import ShellHostBase
    if isinstance(host, ShellHostBase):
        return host  # type: ignore[return-value]
    # Checking a host against the Protocol needs `typing` at run time: not for the
    # shell's own host, which derives from the base class.
    from fusevm.shell.protocol import as_shell_host
    return as_shell_host(host)
