"""The module pack: a package's compiled modules in one file, imported without a search.

Every command line imports some fifty of the package's modules, and for each one the import
system searches the package's directory, then opens, reads and checks a `.pyc`: about half
of what importing a small module costs, and a sixth of what `fusevm awk 'BEGIN{}'` costs on
top of bare CPython. The pack holds the code objects of those `.pyc` files in one file
beside them (`__pycache__/modules.<tag>.pack`) with an index by module name, and a finder
first in `sys.meta_path` serves the package's modules from it: a `stat` of the source (the
check a `.pyc` gets, here on the exact modification time and size), one read and a
`marshal.loads`. Whatever the pack cannot serve is left to the import system: a module
whose source changed or that the pack lacks (and the process then writes the pack anew at
exit, from the `.pyc` files that are current), a pack replaced since its index was read, or
one that does not read back. So a pack never outlives its sources, and a broken one costs
time, never a wrong module.

A pack is trusted as a `.pyc` is: written to a temporary file and renamed into place, tagged
with the interpreter's magic number and cache tag (the optimisation level included), and
written only where `.pyc` files are (not under `sys.dont_write_bytecode`, nor where the
directory is read-only). No file stays open while a program runs: a shell on the VM owns
every descriptor a script can name. A command line's entry point holds the pack open while
the command loads (`hold`, then `release` before the user's program starts, as
`fusevm.entry` pauses the cycle collector), so each module then costs one read, not an
open, a check and a close as well (together about 8 us on a small virtual machine, for
each of the fifty-odd modules a command loads).
A process about to be left with no descriptor to spare (a shell's `ulimit -n`) reads the
package's code into memory first (`pin`): the pack, and the source of each module the
pack does not serve, so its later imports open nothing.
`FUSEVM_MODULE_PACK=off` leaves every import to the import system.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False  # (not typing's: importing typing costs start-up)
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from importlib.machinery import ModuleSpec
    from types import CodeType, ModuleType

    #: An index entry: the source's path, st_mtime_ns and st_size, the code's offset in
    #: the pack and its length, whether the module is a package, the path of its .pyc
    #: (both paths are kept: working them out again costs more than reading them).
    Entry = tuple[str, int, int, int, int, bool, str]

# The import system's own modules, always loaded: `importlib.machinery` would cost start-up.
_external = sys.modules["_frozen_importlib_external"]
_bootstrap = sys.modules["_frozen_importlib"]
_imp = sys.modules["_imp"]

#: A pack's first bytes: this format's name and version and the interpreter's `.pyc` magic
#: number, then the index's length (8 bytes, little-endian), the index and the code.
MAGIC = b"fusevm-module-pack-3\n" + _external.MAGIC_NUMBER
_HEADER = len(MAGIC) + 8

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_READ = os.O_RDONLY | _CLOEXEC
_CODE = type(_external.cache_from_source.__code__)  # (types.CodeType; `types` costs start-up)
_Module = type(sys)  # (types.ModuleType)


class PackLoader(_external.SourceFileLoader):  # type: ignore[misc,name-defined]
    """The import system's source loader, but its code comes from the pack (`entry`), or
    from the source `Finder.pin` read into memory (`source`, compiled; no `.pyc` is read):
    the module's `__file__`, `__cached__`, source and resources are the ones it would have
    had."""

    def __init__(self, name: str, path: str, finder: Finder, entry: Entry | None,
                 source: bytes | None = None) -> None:
        super().__init__(name, path)
        self.finder = finder
        self.entry = entry
        self.source = source

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        # The module the import system would make, with the two attributes it looks up
        # before setting them already set: a missing module attribute costs two formatted
        # AttributeError messages (about 10 us a module at start-up, under callgrind).
        module = _Module(spec.name)
        module.__file__ = spec.origin
        module.__cached__ = spec.cached  # type: ignore[attr-defined]
        return module

    def get_code(self, fullname: str) -> CodeType | None:
        code = (self.finder.code(self.name, self.entry, self.path)
                if fullname == self.name and self.entry is not None else None)
        if code is None:  # (pinned, the pack changed under us, or its bytes do not read back)
            code = super().get_code(fullname)
        return code

    def get_data(self, path: str) -> bytes:
        if self.source is None:
            return super().get_data(path)  # type: ignore[no-any-return]
        if path == self.path:
            return self.source
        raise OSError(f"{path}: not read into memory")  # (the .pyc: compiled anew)


class Finder:
    """Serves the modules of package `package`, whose directory is `root`, from the pack at
    `path` (a meta-path finder). `served` counts the modules it loaded, `missed` names the
    package's modules it left to the import system, `checked` holds the (size, mtime in
    ns) each source it served a module of had when checked, by the source's path."""

    def __init__(self, package: str, root: str, path: str) -> None:
        self.package = package
        self.prefix = package + "."
        self.root = root
        self.path = path
        self.index: dict[str, Entry] | None = None  # read with the first module asked for
        self.identity: tuple[int, int, int, int] | None = None  # the pack file read
        self.served = 0
        self.checked: dict[str, tuple[int, int]] = {}
        self.missed: list[str] = []  # the package's modules left to the import system
        self.rewrite_pending = False
        #: While held (`hold`): the pack's descriptor once a module has been read through
        #: it (-1 before), checked to be the pack indexed.
        self.held: int | None = None
        #: Once pinned (`pin`): the whole pack read into memory (None without a pack that
        #: reads), and the sources of the modules it does not serve, by module name.
        self.pinned: bytes | None = None
        self.pinned_sources: dict[str, tuple[str, bytes, bool]] | None = None

    def open(self) -> dict[str, Entry]:
        """Read the pack's index (empty when there is no pack of this interpreter for this
        package) and keep it."""
        self.index = {}
        try:
            fd = os.open(self.path, _READ)
        except OSError:
            return self.index
        try:
            st = os.fstat(fd)
            head = os.pread(fd, _HEADER, 0)
            if len(head) != _HEADER or head[:len(MAGIC)] != MAGIC:
                return self.index
            size = int.from_bytes(head[len(MAGIC):], "little")
            index = marshal.loads(os.pread(fd, size, _HEADER))
        except (OSError, ValueError, EOFError, TypeError):
            return self.index
        finally:
            os.close(fd)
        if type(index) is not dict or index.get(None) != self.root:
            return self.index
        del index[None]
        self.index = index
        self.identity = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        return index

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if not name.startswith(self.prefix):
            return None
        pinned = self.pinned_sources
        if pinned is not None and name in pinned:
            origin, source, is_package = pinned[name]
            loader = PackLoader(name, origin, self, None, source)
            cached = _external.cache_from_source(origin)
        else:
            index = self.index
            if index is None:
                index = self.open()
            entry = index.get(name)
            if entry is None:
                if self._has_source(name):
                    self._miss(name)
                return None
            try:
                origin, mtime_ns, size, _, _, is_package, cached = entry
            except (ValueError, TypeError):  # (a damaged index)
                self._miss(name)
                return None
            try:
                st = os.stat(origin)
            except (OSError, ValueError, TypeError):
                return None  # (no source: not ours to import)
            if st.st_mtime_ns != mtime_ns or st.st_size != size:
                self._miss(name)
                return None
            self.checked[origin] = (size, mtime_ns)
            loader = PackLoader(name, origin, self, entry)
        spec: ModuleSpec = _bootstrap.ModuleSpec(name, loader, origin=origin,
                                                 is_package=is_package)
        spec.has_location = True
        spec.cached = cached
        if is_package:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        return spec

    def code(self, name: str, entry: Entry, source: str) -> CodeType | None:
        """The code object of module `name` (whose source is `source`) from its `entry`, or
        None (counted as a miss) if the pack is no longer the one indexed or does not read
        back."""
        code = None
        pinned = self.pinned
        if pinned is not None:
            try:
                code = marshal.loads(memoryview(pinned)[entry[3]:entry[3] + entry[4]])
            except (ValueError, EOFError, TypeError):
                pass
        else:
            fd = self.held
            if fd is not None and fd < 0:  # (the first read since `hold`)
                fd = self._opened()
                self.held = fd if fd >= 0 else None  # (the pack changed: read as if not held)
            kept = fd is not None and fd >= 0
            if not kept:
                fd = self._opened()
            if fd is not None and fd >= 0:
                try:
                    code = marshal.loads(os.pread(fd, entry[4], entry[3]))
                except (OSError, ValueError, EOFError, TypeError):
                    pass
                finally:
                    if not kept:
                        os.close(fd)
        if type(code) is not _CODE:
            self._miss(name)
            return None
        _imp._fix_co_filename(code, source)  # (as the import system does for a .pyc)
        self.served += 1
        return code  # type: ignore[no-any-return]

    def pin(self) -> None:
        """Read the package's code into memory (once), so that its modules not imported yet
        load from then on with no descriptor opened: for a process about to have none to
        spare (a shell's `ulimit -n`). The whole pack, if it reads; the source of each
        module it does not serve (none, stale, or missing from it), compiled when
        imported."""
        if self.pinned_sources is not None:
            return
        index = self.index if self.index is not None else self.open()
        data = self._read_pack() if index else None
        if data is None:
            index = self.index = {}  # (every module from its source, as read now)
        sources: dict[str, tuple[str, bytes, bool]] = {}
        for name, source, is_package in modules(self.package, self.root):
            entry = index.get(name)
            if name in sys.modules or entry is not None and _current(entry):
                continue
            try:
                with open(source, "rb") as f:
                    sources[name] = (source, f.read(), is_package)
            except OSError:
                continue  # (left to the import system)
        self.pinned, self.pinned_sources = data, sources

    def _read_pack(self) -> bytes | None:
        """The whole pack, if it is still the one indexed and reads whole."""
        fd = self._opened()
        if fd < 0:
            return None
        try:
            assert self.identity is not None  # (`_opened` compared the file with it)
            data = os.pread(fd, self.identity[3], 0)
        except OSError:
            return None
        finally:
            os.close(fd)
        return data if len(data) == self.identity[3] else None

    def _opened(self) -> int:
        """A new descriptor of the pack if it is still the one indexed, else -1."""
        try:
            fd = os.open(self.path, _READ)
        except OSError:
            return -1
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size) == self.identity:
                return fd
        except OSError:
            pass
        os.close(fd)
        return -1

    def hold(self) -> None:
        """Keep the pack open from the next module read until `release`."""
        if self.held is None:
            self.held = -1

    def release(self) -> None:
        """Close the pack if `hold` kept it open; modules are read as before."""
        fd, self.held = self.held, None
        if fd is not None and fd >= 0:
            os.close(fd)

    def _has_source(self, name: str) -> bool:
        """Whether the package has a module `name` (probing for an absent one is no miss)."""
        return os.path.isfile(self._source(name))

    def _miss(self, name: str) -> None:
        self.missed.append(name)
        if self.rewrite_pending or sys.dont_write_bytecode:
            return
        self.rewrite_pending = True
        import atexit  # noqa: PLC0415 (only a process that found the pack out of date)
        atexit.register(self.rewrite)

    def rewrite(self) -> bool:
        """Write the pack anew from the package's current `.pyc` files if one of the modules
        missed has one now; False when nothing was written (the pack is only a cache)."""
        try:
            if not os.access(os.path.dirname(self.path), os.W_OK) or not any(
                    _current_pyc(self._source(name)) for name in self.missed):
                return False  # (else a module whose .pyc is never written costs every run)
            index, chunks = collect(self.package, self.root)
            return write(self.path, self.root, index, chunks)
        except (OSError, ValueError, MemoryError):
            return False

    def source_path(self, name: str, is_package: bool) -> str:
        """The source file of module `name` of the package."""
        base = self.root + name[len(self.package):].replace(".", os.sep)
        return os.path.join(base, "__init__.py") if is_package else base + ".py"

    def _source(self, name: str) -> str:
        module = self.source_path(name, False)
        return module if os.path.isfile(module) else self.source_path(name, True)


def _current(entry: Entry) -> bool:
    """Whether the source of a pack entry is still the one it was made from."""
    try:
        st = os.stat(entry[0])
    except (OSError, ValueError, TypeError):
        return False
    return st.st_mtime_ns == entry[1] and st.st_size == entry[2]


def modules(package: str, root: str) -> Iterator[tuple[str, str, bool]]:
    """(name, source path, whether a package) of every module of `package` (whose directory
    is `root`) but the package itself, which puts the finder in place."""
    for folder, dirs, files in os.walk(root):
        if "__init__.py" not in files:
            dirs[:] = []  # (not a package: nothing under it is importable as ours)
            continue
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        dotted = package + folder[len(root):].replace(os.sep, ".")
        for file in sorted(files):
            if not file.endswith(".py") or "." in file[:-3]:
                continue
            is_package = file == "__init__.py"
            name = dotted if is_package else f"{dotted}.{file[:-3]}"
            if name != package:
                yield name, os.path.join(folder, file), is_package


def collect(package: str, root: str) -> tuple[dict[str, Entry], list[bytes]]:
    """The index (offsets from the start of the code) and the marshalled code, in order, of
    every module of `package` but its `__init__` whose `.pyc` is current. A module without
    one is left to the import system, which writes it; the next rewrite takes it."""
    index: dict[str, Entry] = {}
    chunks: list[bytes] = []
    offset = 0
    for name, source, is_package in modules(package, root):
        found = _current_pyc(source)
        if found is None:
            continue
        st, code = found
        index[name] = (source, st.st_mtime_ns, st.st_size, offset, len(code), is_package,
                       _external.cache_from_source(source))
        chunks.append(code)
        offset += len(code)
    return index, chunks


def _current_pyc(source: str) -> tuple[os.stat_result, bytes] | None:
    """The stat of `source` and its .pyc's marshalled code, if the .pyc is current as the
    import system checks it (timestamp and size); else None."""
    try:
        cached = _external.cache_from_source(source)
        st = os.stat(source)
        with open(cached, "rb") as f:
            data = f.read()
    except (OSError, NotImplementedError, ValueError):
        return None
    if (len(data) < 16 or data[:4] != _external.MAGIC_NUMBER
            or int.from_bytes(data[4:8], "little") != 0  # (hash-based .pyc: not a stat check)
            or int.from_bytes(data[8:12], "little") != int(st.st_mtime) & 0xFFFFFFFF
            or int.from_bytes(data[12:16], "little") != st.st_size & 0xFFFFFFFF):
        return None
    return st, data[16:]


def write(path: str, root: str, index: dict[str, Entry], chunks: list[bytes]) -> bool:
    """Write a pack of `index` (offsets from the start of the code) and `chunks` to `path`,
    atomically; False if it could not be written."""
    # The index's length depends on the offsets it holds, so settle it before placing code.
    base = 0
    for _ in range(4):
        placed = {name: (e[0], e[1], e[2], e[3] + base, e[4], e[5], e[6])
                  for name, e in index.items()}
        body = marshal.dumps({None: root, **placed})
        if _HEADER + len(body) == base:
            break
        base = _HEADER + len(body)
    else:
        return False
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o644)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + len(body).to_bytes(8, "little") + body)
            for chunk in chunks:
                f.write(chunk)
        os.replace(temp, path)
    except OSError:
        try:
            os.unlink(temp)
        except OSError:
            pass
        return False
    return True


def pack_path(root: str) -> str | None:
    """Where the pack of the package at `root` lives: beside its `__init__`'s .pyc, tagged as
    that is (None for an interpreter that writes no .pyc files)."""
    try:
        init_cached: str = _external.cache_from_source(os.path.join(root, "__init__.py"))
    except (NotImplementedError, ValueError):
        return None
    folder, base = os.path.split(init_cached)
    return os.path.join(folder, "modules" + base[len("__init__"):-len(".pyc")] + ".pack")


#: package name -> the finder serving its modules, once `install` has put it in place.
finders: dict[str, Finder] = {}


def install(package: str, root: str) -> Finder | None:
    """Put a finder of `package`'s pack (its directory is `root`) first in `sys.meta_path`,
    once per process; None when packs are off or this interpreter writes no .pyc files."""
    if package in finders:
        return finders[package]
    if os.environ.get("FUSEVM_MODULE_PACK") == "off":
        return None
    path = pack_path(root)
    if path is None:
        return None
    finder = finders[package] = Finder(package, root, path)
    sys.meta_path.insert(0, finder)
    return finder


def hold() -> None:
    """Hold every installed pack open while a command loads (`Finder.hold`)."""
    for finder in finders.values():
        finder.hold()


def release() -> None:
    """Close every pack `hold` kept open."""
    for finder in finders.values():
        finder.release()


class Holding:
    """`with Holding():` every installed pack not held already is held open while a batch
    of modules loads mid-run (the baseline compiler's thirty-odd), then closed: each
    module costs one read instead of an open, a check and a close (about 5 us a module).
    No program code runs inside, so the descriptor is never one a program could see."""

    __slots__ = ("taken",)

    def __enter__(self) -> None:
        self.taken = [f for f in finders.values() if f.held is None]
        for finder in self.taken:
            finder.hold()

    def __exit__(self, *exc: object) -> None:
        for finder in self.taken:
            finder.release()


def pin() -> bool:
    """Read the code of every package with a finder into memory (`Finder.pin`): whether
    there was one (False when packs are off: nothing was read)."""
    for finder in finders.values():
        finder.pin()
    return bool(finders)
