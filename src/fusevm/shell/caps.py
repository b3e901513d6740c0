"""The capability set a shell host may use: processes, files, signals, foreign descriptors.

A VM created without a capability must never touch the system through it (D12). The VM checks
the op's flags; the host checks again (defence in depth) with `require`, which raises
`CapabilityError` before any system call is made.

Descriptors: the VM's own are its stdio (0, 1 and 2, or the fds a host was given for them)
and the fds it placed itself (an earlier redirection, an open redirection scope, a pipeline's
pipes, a process substitution). Any other descriptor belongs to the embedding application:
reading, writing, duplicating, replacing or closing it (`<&N`, `>&N`, `N>&-`, `N>file` in
a scope) needs `host_fds`. See docs/security.md for the whole threat model.
"""

from __future__ import annotations

from fusevm.errors import CapabilityError
from fusevm.records import dataclass, replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Caps:
    """Which kinds of system access are allowed. Immutable; `Caps.ALL` and `Caps.NONE` exist."""

    spawn: bool = True
    fs_read: bool = True
    fs_write: bool = True
    #: Change signal dispositions (TrapSet on a real signal; EXIT and ERR need nothing).
    signals: bool = True
    #: Use descriptors the VM did not open itself (see the module docstring).
    host_fds: bool = True

    ALL: ClassVar[Caps]
    NONE: ClassVar[Caps]

    def replace(self, **changes: bool) -> Caps:
        """A copy with some capabilities changed: `Caps.NONE.replace(fs_read=True)`."""
        return replace(self, **changes)

    def require(self, name: str, what: str) -> None:
        """Raise CapabilityError unless capability `name` is granted; `what` names the action.

        Raises:
            CapabilityError: the capability is withheld.
        """
        if not getattr(self, name):
            raise CapabilityError(f"capability {name!r} withheld: cannot {what}")


Caps.ALL = Caps()
Caps.NONE = Caps(spawn=False, fs_read=False, fs_write=False, signals=False, host_fds=False)
