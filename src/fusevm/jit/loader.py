"""Executable memory for pre-linked blobs, and `Native`, the machine code of one unit.

A `CodeRegion` is mapped writable, filled, then switched to read+execute with `mprotect`
before anything can call into it; a `FileMapping` maps a cache pack straight from its file
read+execute and is never writable. So no page is ever writable and executable at once
(W^X). A region lives as long as its object; callers keep the region alive while any code
in it may run. Nothing here imports llvmlite: a process that only loads cached code
never does.
"""

from __future__ import annotations

import ctypes
import mmap

from fusevm.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

_PROT_READ: Final = 0x1
_PROT_WRITE: Final = 0x2
_PROT_EXEC: Final = 0x4
_MAP_FAILED: Final = ctypes.c_void_p(-1).value
#: The system's page size: file mappings start on a multiple of it.
PAGE: Final = mmap.PAGESIZE

_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                  ctypes.c_long]
_mprotect = _libc.mprotect
_mprotect.restype = ctypes.c_int
_mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_munmap = _libc.munmap
_munmap.restype = ctypes.c_int
_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


@dataclass(slots=True)
class Native:
    """Machine code for one unit: where to call it and what keeps it alive."""

    address: int
    keepalive: Any
    #: The pre-linked bytes (None when MCJIT had to link); for code loaded from the disk
    #: cache, a view of the mapping `keepalive` holds.
    blob: bytes | memoryview | None
    entry_offset: int
    pipeline: str
    codegen: int
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds

    @property
    def cacheable(self) -> bool:
        return self.blob is not None

    @property
    def compile_seconds(self) -> float:
        return sum(self.timings.values())


class CodeRegion:
    """One read+execute mapping holding a copy of a blob."""

    __slots__ = ("address", "size", "__weakref__")

    def __init__(self, code: bytes) -> None:
        page = mmap.PAGESIZE
        size = max(page, (len(code) + page - 1) // page * page)
        addr = _mmap(None, size, _PROT_READ | _PROT_WRITE,
                     mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
        if addr is None or addr == _MAP_FAILED:
            raise OSError(ctypes.get_errno(), "mmap of a code region failed")
        ctypes.memmove(addr, code, len(code))
        if _mprotect(addr, size, _PROT_READ | _PROT_EXEC) != 0:
            err = ctypes.get_errno()
            _munmap(addr, size)
            raise OSError(err, "mprotect of a code region to read+execute failed")
        self.address: int = addr
        self.size = size

    def __del__(self, _unmap: Any = _munmap) -> None:
        # `_unmap` is bound at definition: module globals may be gone at interpreter exit.
        if getattr(self, "address", 0):
            _unmap(self.address, self.size)
            self.address = 0


class FileMapping:
    """Part of a file mapped read+execute, private, never writable (a cache pack).

    `start` (a page multiple) to `end` of the file is mapped once; `view` reads it as
    bytes and code in it runs at `address + offset`. Where the system refuses executable
    file mappings (noexec mounts) it is mapped read-only and `executable` is False: code
    is then copied into a `CodeRegion` before it runs. The mapping lives as long as this
    object; whatever runs code from it keeps it alive.
    """

    __slots__ = ("address", "size", "start", "view", "executable", "_array", "__weakref__")

    def __init__(self, fd: int, start: int, end: int) -> None:
        size = end - start
        if size <= 0 or start % PAGE:
            raise ValueError("a file mapping needs a non-empty, page-aligned range")
        self.executable = True
        addr = _mmap(None, size, _PROT_READ | _PROT_EXEC, mmap.MAP_PRIVATE, fd, start)
        if addr is None or addr == _MAP_FAILED:
            self.executable = False
            addr = _mmap(None, size, _PROT_READ, mmap.MAP_PRIVATE, fd, start)
            if addr is None or addr == _MAP_FAILED:
                raise OSError(ctypes.get_errno(), "mapping a cache file failed")
        self.address: int = addr
        self.size = size
        self.start = start
        self._array = (ctypes.c_ubyte * size).from_address(addr)
        self.view = memoryview(self._array).cast("B")

    def __del__(self, _unmap: Any = _munmap) -> None:
        # Views of `view` are only used while a caller holds this object.
        if getattr(self, "address", 0):
            _unmap(self.address, self.size)
            self.address = 0
