"""The capability set a shell host may use: starting processes, reading and writing files.

A VM created without a capability must never touch the system through it (D12). The VM checks
the op's flags; the host checks again (defence in depth) with `require`, which raises
`CapabilityError` before any system call is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fusevm.errors import CapabilityError


@dataclass(frozen=True, slots=True)
class Caps:
    """Which kinds of system access are allowed. Immutable; `Caps.ALL` and `Caps.NONE` exist."""

    spawn: bool = True
    fs_read: bool = True
    fs_write: bool = True

    ALL: ClassVar[Caps]
    NONE: ClassVar[Caps]

    def require(self, name: str, what: str) -> None:
        """Raise CapabilityError unless capability `name` is granted; `what` names the action.

        Raises:
            CapabilityError: the capability is withheld.
        """
        if not getattr(self, name):
            raise CapabilityError(f"capability {name!r} withheld: cannot {what}")


Caps.ALL = Caps()
Caps.NONE = Caps(spawn=False, fs_read=False, fs_write=False)
