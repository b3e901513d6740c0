"""The disk cache for compiled code: one process-wide `Store` and the calls the tiers make.

Entry kinds, all in one directory under one size cap (see `store.py` for the file format):

| tag | what | module |
|---|---|---|
| `lin`, `blk` | a linear or block unit's pre-linked machine code (a pack record) | `native.py` |
| `trc` | a trace's machine code (the trace tier calls `native_key`, `store_native`) | `native.py` |
| `code` | a Python code object keyed like a .pyc (the baseline tier) | `frontend.py` |
| `chunk` | a front end's compiled chunk (awk) | `frontend.py` |
| `script` | a front end's chunks of one text (a long sh script's commands) | `frontend.py` |

Native entries are records of one pack file per key space, mapped once per process
(`pack.py`); the others are files of their own (`store.py`). The directory is
FUSEVM_JIT_CACHE_DIR (default `$XDG_CACHE_HOME/fusevm-jit`, else
`~/.cache/fusevm-jit`; `off` disables), the cap FUSEVM_JIT_CACHE_MAX_BYTES (default
256 MiB), both read by `jit/config.py` and overridable here. The cache changes only how
long code takes to get: tier choice, thresholds and results are the same without it.
"""

from __future__ import annotations

import os

from fusevm.jit.cache.store import DiskStats, Store, key_label
from fusevm.ops import extbody

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path
    from types import CodeType, ModuleType
    from typing import Final

    from fusevm.chunk import Chunk
    from fusevm.jit.cache.native import NATIVE_TAGS, native_key, trace_key
    from fusevm.jit.config import TraceJitConfig
    from fusevm.jit.loader import Native
    from fusevm.jit.unit import Analysis, Unit

__all__ = [
    "KINDS", "NATIVE_TAGS", "STORE", "DiskStats", "Store", "cache_dir", "cached_chunk",
    "cached_code", "clear", "find_unit", "key_label", "load_native", "load_unit",
    "native_key", "prune", "set_dir", "set_enabled", "set_max_bytes", "size_bytes", "stats",
    "store_native", "store_unit", "trace_key", "unit_key",
]

#: The process's cache directory handle.
STORE = Store()

#: What the entries of each tag hold, in words (`fusevm cache`).
KINDS: Final = {
    "lin": "native code, linear tier", "blk": "native code, block tier",
    "trc": "native code, traces", "code": "baseline-tier Python code",
    "chunk": "compiled awk programs", "script": "compiled commands of long sh scripts",
    "src": "lists of the fusevm sources that made native code"}


def __getattr__(name: str) -> object:
    # Native entries need the JIT's ABI and loader: they load with the first native entry,
    # so a front end's chunk comes from disk without them.
    if name in ("NATIVE_TAGS", "native_key", "trace_key"):
        return getattr(_native_mod or _native(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def set_dir(path: str | Path | None) -> None:
    """Use this directory (None: back to FUSEVM_JIT_CACHE_DIR or the default)."""
    if path is not None:
        text = os.fspath(path)  # (TypeError for what is not a path)
        if type(text) is not str:
            raise TypeError(f"the cache directory must be a str path, not {path!r:.60}")
        if not text or "\0" in text:
            raise ValueError(f"the cache directory must be a non-empty path without NUL, "
                             f"not {path!r:.60}")
        path = text
    STORE.dir_override = path
    if path is not None:
        STORE.disabled_override = None


def set_enabled(enabled: bool | None) -> None:
    """Turn the cache off (False) or on (True) for this process; None: the configuration
    decides. An explicit state, distinct from "no directory override"."""
    if enabled is not None and type(enabled) is not bool:
        raise TypeError(f"enabled must be a bool or None, not {type(enabled).__name__}")
    STORE.disabled_override = None if enabled is None else not enabled


def cache_dir() -> Path | None:
    """The directory in use, or None when the cache is off."""
    return STORE.directory()


def set_max_bytes(n: int | None) -> None:
    """Cap the directory at n bytes (0 or None: no cap)."""
    if n is not None and (type(n) is not int or n < 0):
        raise ValueError(f"the cache's cap must be an int of at least 0 (or None), not "
                         f"{n!r:.40}")
    STORE.has_max_override = True
    STORE.max_bytes_override = n or None


def size_bytes() -> int | None:
    return STORE.size_bytes()


def prune() -> int:
    return STORE.prune()


def clear() -> int:
    return STORE.clear()


def stats() -> dict[str, float]:
    return STORE.stats.as_dict()


def _native() -> ModuleType:
    """`native.py`, imported on first use (a function-level import costs a lookup per
    call, and these calls are on every unit's way to its code)."""
    global _native_mod
    if _native_mod is None:
        from fusevm.jit.cache import native
        _native_mod = native
    return _native_mod


_native_mod: ModuleType | None = None


def unit_key(tier: str, an: Analysis, kinds: tuple[int, ...], strict: bool,
             cfg: TraceJitConfig) -> bytes | None:
    """The key of a linear or block unit, or None when the cache is off."""
    if not STORE.enabled():
        return None
    key: bytes = (_native_mod or _native()).unit_key(tier, an, kinds, strict, cfg)
    return key


def find_unit(tier: str, an: Analysis, kinds: tuple[int, ...], strict: bool,
              cfg: TraceJitConfig) -> tuple[bytes | None, Unit | None]:
    """The key of a linear or block unit (None when the cache is off) and the unit from
    disk (None: a miss or a counted reject): what the runtime asks before it compiles."""
    found: tuple[bytes | None, Unit | None] = (_native_mod or _native()).find_unit(
        STORE, tier, an, kinds, strict, cfg)
    return found


def load_unit(tier: str, key: bytes, an: Analysis, kinds: tuple[int, ...],
              strict: bool) -> Unit | None:
    unit: Unit | None = (_native_mod or _native()).load_unit(STORE, tier, key, an, kinds,
                                                             strict)
    return unit


def store_unit(key: bytes, unit: Unit) -> bool:
    stored: bool = (_native_mod or _native()).store_unit(STORE, key, unit)
    return stored


def store_native(tag: str, key: bytes, code: Native, meta: dict[str, object]) -> bool:
    """Write any tier's pre-linked code under `key` (from `native_key`) with metadata
    (JSON values) the tier needs to rebuild its unit; False when not cached."""
    stored: bool = (_native_mod or _native()).store_native(STORE, tag, key, code, meta)
    return stored


def load_native(tag: str, key: bytes,
                check: Callable[[dict[str, object]], None] | None = None
                ) -> tuple[Native, dict[str, object]] | None:
    """The mapped code and metadata stored under `key`, or None (a miss or a reject).
    llvmlite is not imported."""
    found: tuple[Native, dict[str, object]] | None = \
        (_native_mod or _native()).load_native(STORE, tag, key, check)
    return found


def cached_chunk(frontend_name: str, key_parts: Iterable[object],
                 build: Callable[[], Chunk]) -> Chunk:
    """A front end's compiled chunk, from disk when built before (see frontend.py)."""
    from fusevm.jit.cache import frontend  # (a VM running cached native code needs none)
    return frontend.cached_chunk(STORE, frontend_name, key_parts, build)


def cached_code(name: str, source: bytes | str, build: Callable[[], CodeType],
                extra: Iterable[object] = ()) -> CodeType:
    """A code object keyed like a .pyc, from disk when built before (see frontend.py)."""
    from fusevm.jit.cache import frontend
    return frontend.cached_code(STORE, name, source, build, extra)


# The interpreter's functions of extension-op bodies come from here too, once loaded.
extbody.code_cache = cached_code
