"""Signal numbers and dispositions for the shell, from the C module under `signal`.

The `signal` module wraps `_signal` to turn numbers and dispositions into enum members,
building its enum classes at import (and loading `enum` for them): most of what `fusevm
sh -c :` spends on signals. The shell needs the plain numbers and calls, so its modules
import this one as `signal`; the type checker sees the `signal` module itself.
`SIGNAL_NAMES` lists the names `signal.Signals` does (`NUMBER_NAMES` the other way
round), `SIGNAL_NUMBERS` the aliases too.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
    from signal import *  # noqa: F403
    from typing import Final
else:
    import _signal
    from _signal import *  # noqa: F403


def _numbers() -> dict[str, int]:
    # Every SIG* name (aliases such as IOT for ABRT included) sorted by (number, name): the
    # order in which enum's _convert_ makes `signal.Signals`, where the first name of a
    # number is its member and the others are aliases.
    found = sorted((number, name) for name, number in vars(_signal).items()
                   if name.isupper() and name.startswith("SIG") and not name.startswith("SIG_"))
    return {name[3:]: number for number, name in found}


#: Every signal name without "SIG" (aliases included) and its number.
SIGNAL_NUMBERS: Final = _numbers()


def _members() -> dict[int, str]:
    first: dict[int, str] = {}
    for name, number in SIGNAL_NUMBERS.items():  # in number order
        first.setdefault(number, name)
    return first


#: Each signal number and its name without "SIG" (one name a number, in number order).
NUMBER_NAMES: Final = _members()
#: Each signal's name without "SIG" and its number, one name a number, in number order:
#: the members of `signal.Signals`.
SIGNAL_NAMES: Final = {name: number for number, name in NUMBER_NAMES.items()}
