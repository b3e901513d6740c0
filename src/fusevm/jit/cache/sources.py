"""Which fusevm sources made an entry, and whether they are still the ones on disk.

The fusevm version does not change while the code is worked on, or between two installs of
one version, so an entry also records the source files that made it: (path under `ROOT`,
size, mtime) of every fusevm module loaded in the process that wrote it (`loaded`). A
later process takes the entry only while each of those files is unchanged (`unchanged`),
so a change to a lowering rule, the baseline compiler or the awk compiler never meets code
made before it. A module the module pack served this process was checked by its import
(the pack compares the source's size and mtime with the code it serves, and keeps what it
found: `modpack.Finder.checked`), so its row is compared with that and costs no system
call; the others are stat-ed once per process. Listing what ran, not the whole source
tree, is what keeps a check to a few stats: scanning the package's 250 files costs a
process 2 ms.
"""

from __future__ import annotations

import os
import sys

from fusevm import modpack
from fusevm.digests import blake2b

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

    #: A source file: its path under ROOT, its size and its mtime in ns.
    Row = tuple[str, int, int]

#: The directory holding the `fusevm` package, with a trailing separator: a row's path is
#: relative to it.
ROOT: Final = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))), "")

#: Rows this process found to hold (by its imports or a stat).
_checked: set[object] = set()
#: What the module pack checked of the sources of the modules it served this process:
#: (size, mtime) by path (`modpack.Finder.checked`; empty when packs are off).
_served: dict[str, tuple[int, int]] = getattr(modpack.finders.get("fusevm"), "checked", {})


def _imported() -> dict[str, Row]:
    """The row of each fusevm module loaded, by module name: what the module pack checked
    of its source when it served the module, else a stat of it."""
    rows: dict[str, Row] = {}
    for name, module in list(sys.modules.items()):
        if name != "fusevm" and not name.startswith("fusevm."):
            continue
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.startswith(ROOT):
            continue
        found = _served.get(path)
        if found is None:
            try:
                st = os.stat(path)
            except OSError:
                continue
            found = (st.st_size, st.st_mtime_ns)
        rows[name] = (path[len(ROOT):], *found)
    return rows


def loaded() -> tuple[Row, ...]:
    """The row of the source of every fusevm module loaded, sorted: a superset of the code
    that made what this process is about to store."""
    return current()[0]


#: (modules loaded, `loaded()`, its digest) as last made.
_current: tuple[int, tuple[Row, ...], bytes] = (-1, (), b"")


def current() -> tuple[tuple[Row, ...], bytes]:
    """`loaded()` and its digest (BLAKE2b-256 of its `marshal` form), made again only when
    modules were loaded since."""
    global _current
    count = len(sys.modules)
    if _current[0] != count:
        import marshal
        listed = tuple(sorted(_imported().values()))
        _current = (count, listed, blake2b(marshal.dumps(listed), digest_size=32).digest())
    return _current[1], _current[2]


def unchanged(rows: object) -> bool:
    """Whether every file of `rows` (as `loaded` made them) is still there with its size
    and mtime: for a module the module pack served this process, as the pack found it."""
    if type(rows) is not tuple or not rows:
        return False
    checked = _checked
    served = _served
    for row in rows:
        if row in checked:
            continue
        try:
            path, size, mtime = row
            full = ROOT + path
            found = served.get(full)
            if found is None:
                st = os.stat(full)
                found = (st.st_size, st.st_mtime_ns)
        except (OSError, ValueError, TypeError):
            return False
        if found != (size, mtime):
            return False
        checked.add(row)
    return True
