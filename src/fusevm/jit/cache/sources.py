"""Which fusevm sources made an entry, and whether they are still the ones on disk.

The fusevm version does not change while the code is worked on, or between two installs of
one version, so an entry also records the source files that made it: (path under `ROOT`,
size, mtime) of every fusevm module loaded in the process that wrote it (`loaded`). A
later process takes the entry only while each of those files is unchanged (`unchanged`),
so a change to a lowering rule, the baseline compiler or the awk compiler never meets code
made before it. A module this process also loaded was checked by its import (the module
pack compares the source's size and mtime with the code it serves: `fusevm.modpack`), so
its row is compared with what the import found and costs no system call; the others are
stat-ed once per process. Listing what ran, not the whole source tree, is what keeps a
check to a few stats: scanning the package's 250 files costs a process 2 ms.
"""

from __future__ import annotations

import os
import sys

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

#: The row of each fusevm module seen loaded, by module name (`_imported`).
_rows: dict[str, Row] = {}
#: Rows this process found to hold: those of `_rows`, and those a stat confirmed.
_checked: set[object] = set()
#: How many modules `sys.modules` held when `_rows` was last brought up to date.
_seen_modules = 0


def _imported() -> dict[str, Row]:
    """The row of each fusevm module loaded, by module name: from what the module pack
    checked when it served the module, else from a stat of its source."""
    global _seen_modules
    if len(sys.modules) == _seen_modules:
        return _rows
    _seen_modules = len(sys.modules)
    for name, module in list(sys.modules.items()):
        if name in _rows or name != "fusevm" and not name.startswith("fusevm."):
            continue
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.startswith(ROOT):
            continue
        spec = getattr(module, "__spec__", None)
        entry = getattr(getattr(spec, "loader", None), "entry", None)
        if type(entry) is tuple and len(entry) > 2 and entry[0] == path:
            # (a module-pack entry: source path, mtime, size, ...: see fusevm.modpack)
            row = (path[len(ROOT):], entry[2], entry[1])
        else:
            try:
                st = os.stat(path)
            except OSError:
                continue
            row = (path[len(ROOT):], st.st_size, st.st_mtime_ns)
        _rows[name] = row
        _checked.add(row)
    return _rows


def loaded() -> tuple[Row, ...]:
    """The row of the source of every fusevm module loaded, sorted: a superset of the code
    that made what this process is about to store."""
    return current()[0]


#: (module count, `loaded()`, its digest) as last made.
_current: tuple[int, tuple[Row, ...], bytes] = (-1, (), b"")


def current() -> tuple[tuple[Row, ...], bytes]:
    """`loaded()` and its digest (BLAKE2b-256 of its `marshal` form), made again only when
    modules were loaded since."""
    global _current
    rows = _imported()
    if _current[0] != len(rows):
        import marshal
        listed = tuple(sorted(rows.values()))
        _current = (len(rows), listed, blake2b(marshal.dumps(listed), digest_size=32).digest())
    return _current[1], _current[2]


def unchanged(rows: object) -> bool:
    """Whether every file of `rows` (as `loaded` made them) is still there with its size
    and mtime."""
    if type(rows) is not tuple or not rows:
        return False
    _imported()
    checked = _checked
    for row in rows:
        if type(row) is not tuple:
            return False
        if row in checked:
            continue
        try:
            path, size, mtime = row
            st = os.stat(ROOT + path)
        except (OSError, ValueError, TypeError):
            return False
        if st.st_size != size or st.st_mtime_ns != mtime:
            return False
        checked.add(row)
    return True
