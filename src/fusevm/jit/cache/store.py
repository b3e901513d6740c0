"""The cache directory: entry files, their header, atomic writes, size control, counters.

One directory holds every kind of entry. Native code (`lin`, `blk`, `trc`) goes into one
pack file per key space (`pack.py`; `load_packed`, `load_in`, `store_packed`); every other
entry is a file of its own named `<32 hex>.<tag>.fjit` after the BLAKE2b digest of its
full key. Such a file is:

| bytes | field |
|---|---|
| 8 | magic `FUSEVMC\\x01` |
| 2 | format version (`FORMAT_VERSION`) |
| 2 | flags (bit 0: the body starts on a page boundary, so it can be mapped) |
| 8 | tag, NUL-padded (`lin`, `blk`, `trc`, `code`, `chunk`, ...) |
| 32 | the full key digest (BLAKE2b-256) |
| 4 | metadata length m |
| 8 | body offset |
| 8 | body length n |
| 32 | checksum: BLAKE2b-256 over the fields above, the metadata and the body |
| m | metadata (`marshal` of a dict of plain values) |
| ... | padding up to the body offset |
| n | body |

Reading never trusts a file: a short read, a wrong magic, version, tag or key digest, a
bad checksum or a body that does not fit is a *reject* (counted, and the entry is rebuilt
and replaced by its writer), never an exception. Writes go to a unique temporary file in
the directory and are renamed over the final name, so a reader sees a whole old file or a
whole new one, and racing writers of one key all leave a valid file. The directory is
created 0700 and must be owned by this user and not writable by others; otherwise, and
after any failed write (a full disk, a read-only directory), the process runs without
the cache and says so once through the JIT log.

Size control: when a write takes the directory over its cap, the oldest entries go first
until the total is at most 80 % of the cap: entry files by mtime (a load refreshes it),
pack records by write time (a pack losing records is rewritten). The directory's total is
kept in a file of its own, `TOTAL_FILE`, which each write reads and adds its entry to:
working it out means a stat of every file, tens of thousands in a cache near its cap
(about 0.1 s of a process's CPU). It is an estimate, as two processes may add to the same
value and an entry written again is counted again; the directory is scanned instead when
the file is missing or unreadable, after a prune, and for about one write in 256 (those
whose key digest starts with a zero byte), so that whatever drifts is put right.
"""

from __future__ import annotations

import _thread  # (threading's import costs start-up: its locks are these)
import marshal
import os
import time
from time import perf_counter

from fusevm.digests import blake2b
from fusevm.jit.cache.files import O_CLOEXEC
from fusevm.jit.config import TraceJitConfig, default_cache_path, get_config
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any, Final

    from fusevm.jit.cache.pack import Pack, Record

MAGIC: Final = b"FUSEVMC\x01"
FORMAT_VERSION: Final = 1
FLAG_ALIGNED: Final = 1
SUFFIX: Final = ".fjit"
PAGE: Final = 4096  # body alignment of mappable entries (a multiple of every page size used)
LOW_WATER: Final = 0.8
#: The directory's estimated total of entry bytes (decimal ASCII; not an entry: no SUFFIX).
TOTAL_FILE: Final = "total"

#: A load refreshes a file's mtime (for least-recently-used eviction) when it is older.
TOUCH_AFTER: Final = 60.0

#: The fixed header, little-endian: magic (8 bytes), format version and flags (u16 each),
#: tag (8 bytes, NUL-padded), key digest (32 bytes), metadata length (u32), body offset
#: and length (u64 each); the checksum follows. (Read with int.from_bytes: the struct
#: module is an extension a short command would load for these two lines.)
_FIELDS: Final = ((0, 8), (8, 2), (10, 2), (12, 8), (20, 32), (52, 4), (56, 8), (64, 8))
_HEAD_SIZE: Final = _FIELDS[-1][0] + _FIELDS[-1][1]  # (72)
_SUM_LEN: Final = 32
HEADER_SIZE: Final = _HEAD_SIZE + _SUM_LEN
_BYTE_FIELDS: Final = frozenset((0, 3, 4))  # (magic, tag and key: the others are ints)


def _pack_head(*fields: Any) -> bytes:
    """The header of `fields` (in `_FIELDS` order; bytes fields padded with NULs)."""
    return b"".join(
        value.ljust(size, b"\0") if n in _BYTE_FIELDS else value.to_bytes(size, "little")
        for n, ((_, size), value) in enumerate(zip(_FIELDS, fields, strict=True)))


def _unpack_head(data: Any) -> tuple[Any, ...]:
    """The fields of the header at the start of `data` (bytes, or a buffer of them)."""
    return tuple(
        bytes(data[at:at + size]) if n in _BYTE_FIELDS
        else int.from_bytes(data[at:at + size], "little")
        for n, (at, size) in enumerate(_FIELDS))


@dataclass(slots=True)
class DiskStats:
    """Counters of the disk cache in this process."""

    loads: int = 0
    load_seconds: float = 0.0
    stores: int = 0
    misses: int = 0
    rejects: int = 0
    evictions: int = 0
    write_errors: int = 0

    def as_dict(self) -> dict[str, float]:
        return {"loads": self.loads, "load_ms": round(self.load_seconds * 1e3, 3),
                "stores": self.stores, "misses": self.misses, "rejects": self.rejects,
                "evictions": self.evictions, "write_errors": self.write_errors}


@dataclass(frozen=True, slots=True)
class Entry:
    """A valid entry read from disk: its metadata, the whole file, and where its body is."""

    path: str
    meta: dict[str, Any]
    data: bytes
    body_offset: int
    body_length: int

    @property
    def body(self) -> memoryview:
        return memoryview(self.data)[self.body_offset:self.body_offset + self.body_length]


def key_digest(*parts: object) -> bytes:
    """BLAKE2b-256 of a canonical encoding of `parts`.

    Parts are bytes, str, int, float, bool, None, or tuples/lists of those (nested). Plain
    values are encoded by `marshal` at version 2, which writes each type one way (no
    references, floats by their bits, so -0.0 and each NaN payload differ); a key holding
    anything else (an enum, counted as its number) takes a length-prefixed encoding of
    its own. Either way equal keys have equal digests and the two encodings never meet.
    """
    try:
        raw = marshal.dumps(parts, 2)  # type: ignore[arg-type]  # ValueError if not
    except ValueError:
        h = blake2b(b"f", digest_size=32)
        _feed(h, parts)
        return h.digest()
    return blake2b(b"m" + raw, digest_size=32).digest()


def key_label(key: bytes) -> str:
    """A short name of a key for the log (16 hex digits of its digest)."""
    return blake2b(key, digest_size=8).hexdigest()


def _feed(h: Any, part: object) -> None:
    if isinstance(part, bytes):
        h.update(b"b%d:" % len(part))
        h.update(part)
    elif isinstance(part, str):
        raw = part.encode("utf-8", "surrogatepass")
        h.update(b"s%d:" % len(raw))
        h.update(raw)
    elif isinstance(part, bool) or part is None:
        h.update(b"c" + repr(part).encode() + b";")
    elif isinstance(part, int):
        h.update(b"i%d;" % part)
    elif isinstance(part, float):
        import struct  # (floats in keys are rare: no start-up cost for them)
        h.update(b"f" + struct.pack("<d", part))
    elif isinstance(part, (tuple, list)):
        h.update(b"t%d(" % len(part))
        for p in part:
            _feed(h, p)
        h.update(b")")
    else:
        raise TypeError(f"cache key part of type {type(part).__name__}")


def _read_all(fd: int, size: int) -> bytes:
    data = os.read(fd, size)
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            break
        data += more
    return data


def file_name(tag: str, digest: bytes) -> str:
    return f"{digest[:16].hex()}.{tag}{SUFFIX}"


def file_tag(name: str) -> str:
    """The tag of an entry file's `name` (`file_name`'s)."""
    return name[:-len(SUFFIX)].rpartition(".")[2]


def encode(tag: str, digest: bytes, meta: dict[str, Any], body: bytes,
           aligned: bool = False) -> bytes:
    """The bytes of an entry file."""
    raw_tag = tag.encode("ascii")
    if not 0 < len(raw_tag) <= 8 or len(digest) != 32:
        raise ValueError(f"bad cache tag {tag!r} or digest")
    meta_raw = marshal.dumps(meta)
    offset = HEADER_SIZE + len(meta_raw)
    if aligned:
        offset = (offset + PAGE - 1) // PAGE * PAGE
    head = _pack_head(MAGIC, FORMAT_VERSION, FLAG_ALIGNED if aligned else 0, raw_tag, digest,
                      len(meta_raw), offset, len(body))
    h = blake2b(head, digest_size=_SUM_LEN)
    h.update(meta_raw)
    h.update(body)
    pad = b"\0" * (offset - HEADER_SIZE - len(meta_raw))
    return b"".join((head, h.digest(), meta_raw, pad, body))


def decode(data: bytes, tag: str, digest: bytes) -> tuple[dict[str, Any], int, int] | str:
    """(metadata, body offset, body length) of a file's bytes, or why it is rejected."""
    if len(data) < HEADER_SIZE:
        return "truncated header"
    magic, version, flags, raw_tag, key, meta_len, offset, length = _unpack_head(data)
    if magic != MAGIC:
        return "bad magic"
    if version != FORMAT_VERSION:
        return f"format version {version}"
    if raw_tag.rstrip(b"\0") != tag.encode("ascii"):
        return "wrong tag"
    if key != digest:
        return "key digest mismatch"
    meta_end = HEADER_SIZE + meta_len
    if meta_end > offset or offset + length != len(data):
        return "truncated or oversized"
    if flags & FLAG_ALIGNED and offset % PAGE:
        return "unaligned body"
    h = blake2b(data[:_HEAD_SIZE], digest_size=_SUM_LEN)
    h.update(data[HEADER_SIZE:meta_end])
    h.update(memoryview(data)[offset:])
    if h.digest() != data[_HEAD_SIZE:HEADER_SIZE]:
        return "checksum mismatch"
    try:
        meta = marshal.loads(data[HEADER_SIZE:meta_end])
    except (ValueError, EOFError, TypeError):
        return "bad metadata"
    if not isinstance(meta, dict):
        return "bad metadata"
    return meta, offset, length


class Store:
    """The process's view of the cache directory (see the module docstring)."""

    def __init__(self, config: Callable[[], TraceJitConfig] = get_config) -> None:
        #: The configuration of the calling thread (`get_config`; tests give their own).
        self.config = config
        self._lock = _thread.allocate_lock()
        self.stats = DiskStats()
        # The directory of the last configuration asked about (`dir_for`), with the
        # overrides' epoch it was worked out under: setting an override starts a new
        # epoch (a new object: no read-modify-write for two setters to interleave), so one
        # set while another thread works the directory out is never lost.
        self._epoch = object()
        self._memo: tuple[TraceJitConfig | None, object, str | None] = (None, None, None)
        self._dir_override: str | None = None
        self._disabled_override: bool | None = None
        self.max_bytes_override: int | None = None
        self.has_max_override = False
        # Directories are strings here: pathlib costs a start-up its import, and the
        # read path needs only os calls.
        self._checked: str | None = None  # the directory whose ownership passed
        self._broken: str | None = None  # a directory that failed: no cache there
        self._writes = 0
        self._total: int | None = None  # the directory's total this process last wrote
        self._seq = 0
        #: (directory, key space) -> this process's view of that pack.
        self._packs: dict[tuple[str, bytes], Pack] = {}
        self.log: Callable[[str], None] = lambda message: None

    # -- configuration -------------------------------------------------------------------

    @property
    def dir_override(self) -> str | None:
        """The directory set by the program (None: the configuration decides)."""
        return self._dir_override

    @dir_override.setter
    def dir_override(self, path: str | None) -> None:
        self._dir_override = path
        self._epoch = object()  # after the value: a thread reading this epoch reads it

    @property
    def disabled_override(self) -> bool | None:
        """The cache turned off (True) or on (False) by the program; None: not set."""
        return self._disabled_override

    @disabled_override.setter
    def disabled_override(self, disabled: bool | None) -> None:
        self._disabled_override = disabled
        self._epoch = object()

    def directory(self) -> Path | None:
        """The cache directory, or None when the cache is off."""
        d = self._directory()
        if d is None:
            return None
        from pathlib import Path
        return Path(d)

    def enabled(self) -> bool:
        """Whether the cache is on for this thread (without making a Path)."""
        return self._directory() is not None

    def _directory(self) -> str | None:
        return self.dir_for(self.config())

    def dir_for(self, cfg: TraceJitConfig) -> str | None:
        """The directory of a thread running with configuration `cfg` (None: the cache is
        off), worked out once for the last configuration asked about: every load asks."""
        memo = self._memo
        if memo[0] is cfg and memo[1] is self._epoch:
            return memo[2]
        epoch = self._epoch  # before the overrides it covers
        path, disabled = self._dir_override, self._disabled_override
        d: str | None
        if disabled is True:
            d = None
        elif path is not None:
            d = path
        elif not cfg.cache_enabled and disabled is None:
            d = None
        elif cfg.cache_dir is not None:
            d = os.fspath(cfg.cache_dir)
        else:
            d = default_cache_path()
        self._memo = (cfg, epoch, d)
        return d

    def max_bytes(self) -> int | None:
        """The size cap in bytes (None: no cap)."""
        if self.has_max_override:
            return self.max_bytes_override
        return self.config().cache_max_bytes

    def _usable(self, create: bool) -> str | None:
        d = self._directory()
        return None if d is None else self.usable_dir(d, create)

    def usable(self) -> str | None:
        """The directory loads may read (None: off, not created yet, or not safe)."""
        return self._usable(create=False)

    def usable_dir(self, d: str, create: bool = False) -> str | None:
        """`d` when the cache may use it (made first when `create`), else None: checked
        once per directory (owned by this user, not writable by others)."""
        if d is self._checked:
            return d
        if d == self._broken:
            return None
        if d == self._checked:
            self._checked = d
            return d
        try:
            if create:
                os.makedirs(d, mode=0o700, exist_ok=True)
            st = os.stat(d)
        except OSError as e:
            if create:
                self._fail(d, f"cannot create {d}: {e.strerror}")
            return None
        uid = os.getuid() if hasattr(os, "getuid") else st.st_uid
        if st.st_uid != uid or st.st_mode & 0o022:
            self._fail(d, f"{d} is not owned by this user or is writable by others")
            return None
        self._checked = d
        return d

    def _fail(self, d: str, why: str) -> None:
        self._broken = d
        self._checked = None
        self.log(f"disk cache off for this process: {why}")

    # -- reading ------------------------------------------------------------------------

    def load(self, tag: str, digest: bytes, use: Callable[[Entry, int], Any], *,
             count: bool = True) -> Any:
        """The value `use(entry, fd)` makes of the valid entry for a key, or None.

        A missing file is a miss; a file that does not decode, or `use` raising
        ValueError, OSError, KeyError or TypeError (a body that does not make sense, a
        mapping the system refuses), is a reject. Both are counted; a load counts its time.
        `fd` is the open file, for a caller that maps the body. With `count` false, only
        a reject is counted (the cache's own bookkeeping: `native.sources_hold`).
        """
        started = time.perf_counter()
        d = self._usable(create=False)
        if d is None:
            return None
        # From `d`, this thread's directory (the last one checked may be another's).
        path = os.path.join(d, f"{digest[:16].hex()}.{tag}{SUFFIX}")
        try:
            fd = os.open(path, os.O_RDONLY | O_CLOEXEC)
        except OSError:
            if count:
                self.stats.misses += 1
            return None
        try:
            st = os.fstat(fd)
            data = _read_all(fd, st.st_size)
            found = decode(data, tag, digest)
            if isinstance(found, str):
                self._reject(path, found)
                return None
            meta, offset, length = found
            try:
                value = use(Entry(path, meta, data, offset, length), fd)
            except (ValueError, OSError, KeyError, TypeError) as e:
                self._reject(path, f"{type(e).__name__}: {e}")
                return None
            if time.time() - st.st_mtime > TOUCH_AFTER:
                os.utime(fd)  # least recently used goes first
        except OSError:
            if count:
                self.stats.misses += 1
            return None
        finally:
            os.close(fd)
        if count:
            self.stats.loads += 1
            self.stats.load_seconds += time.perf_counter() - started
        return value

    def _reject(self, path: str, why: str) -> None:
        self.stats.rejects += 1
        self.log(f"disk cache: {os.path.basename(path)} rejected ({why}); it will be replaced")

    def pack_in(self, d: str, space: bytes) -> Pack:
        """This process's view of the pack of a key space in directory `d`."""
        # By directory too: threads may run with different cache directories (the
        # configuration is per thread), and a store must drop a superseded record from
        # the same view of the pack that the loads of its directory use.
        p = self._packs.get((d, space))
        if p is None:
            # Packs (and the mapping code they need) load with the first native entry: a
            # process that only reads front-end entries never imports them.
            from fusevm.jit.cache.pack import Pack, pack_name
            p = self._packs[d, space] = Pack(os.path.join(d, pack_name(space)), space)
        return p

    def load_packed(self, space: bytes, tag: str, digest: bytes,
                    use: Callable[..., Any], *args: Any) -> Any:
        """The value `use(record, *args)` makes of the valid record for a key in the pack of
        a key space (see pack.py), or None: a miss, or a counted reject (see `load_in`)."""
        d = self._usable(create=False)
        return None if d is None else self.load_in(d, space, tag, digest, use, *args)

    def load_in(self, d: str, space: bytes, tag: str, digest: bytes,
                use: Callable[..., Any], *args: Any) -> Any:
        """`load_packed` in directory `d` (checked by `_usable`), `use` called with the
        record and `args`: what every native load runs.

        The pack is mapped and indexed once; a key not in the index re-reads the pack's
        header and indexes what was appended since (a damaged header or record chain is
        a reject). A record's checksum is checked and its metadata decoded on its first
        use (`Record.checked_meta`); a bad one, a wrong tag, or `use` raising ValueError,
        OSError, KeyError, TypeError or EOFError is a reject: counted, logged, and the
        record is dropped from the index, so the unit is compiled and stored again.
        """
        started = perf_counter()
        rec = self.record(d, space, digest)
        if rec is None:
            return None
        if not rec.verified:
            rec.verify()
        why = rec.damage
        if why is None and rec.tag != tag:
            why = "wrong tag"
        if why is None:
            try:
                value = use(rec, *args)
            except (ValueError, OSError, KeyError, TypeError, EOFError) as e:
                why = f"{type(e).__name__}: {e}"
            else:
                stats = self.stats
                stats.loads += 1
                stats.load_seconds += perf_counter() - started
                return value
        self.rejected(d, space, digest, why)
        return None

    def record(self, d: str, space: bytes, digest: bytes) -> Record | None:
        """The record of `digest` in the pack of a key space in directory `d`, or None: a
        counted miss (after indexing what was appended), or `d` not usable (`usable_dir`,
        asked only when `d` is not the directory that passed last). The pack is mapped
        and indexed once."""
        pack = self._packs.get((d, space))
        if pack is None or d is not self._checked:
            if self.usable_dir(d) is None:
                return None
            if pack is None:
                pack = self.pack_in(d, space)
        return pack.index.get(digest) or self.refreshed(pack, digest)

    def refreshed(self, pack: Pack, digest: bytes) -> Record | None:
        """The record of a key not in the pack's index after indexing what was appended
        to the pack since (None: a counted miss)."""
        try:
            why = pack.refresh()
        except (OSError, ValueError) as e:
            why = f"{type(e).__name__}: {e}"
        if why is not None:
            self._reject(pack.path, why)
        rec = pack.index.get(digest)
        if rec is None:
            self.stats.misses += 1
        return rec

    def rejected(self, d: str, space: bytes, digest: bytes, why: str) -> None:
        """Count a record of the pack of `space` in `d` that does not make sense (it
        stays in the file until superseded)."""
        from fusevm.jit.cache.pack import pack_name
        pack = self._packs.get((d, space))
        if pack is not None:
            pack.drop(digest)
        self._reject(pack_name(space), f"record {key_label(digest)}: {why}")

    def store_packed(self, space: bytes, tag: str, digest: bytes,
                     meta: dict[str, Any] | bytes, body: bytes | memoryview) -> bool:
        """Append a record to a key space's pack, its metadata a dict (written by
        `marshal`) or bytes of the caller's own layout; False when the cache is off or
        the write failed (then the process runs without the cache)."""
        from fusevm.jit.cache import pack as pack_mod
        d = self._usable(create=True)
        if d is None:
            return False
        try:
            meta_raw = meta if isinstance(meta, bytes) else marshal.dumps(meta)
        except ValueError as e:
            self.log(f"disk cache: entry not written ({e})")
            return False
        pack = self.pack_in(d, space)
        rewrite = pack.damage is not None
        if rewrite:
            pack.damage = None
            pack.identity = None  # a new file: index it afresh
        try:
            grew, dropped = pack_mod.append(d, space, tag, digest, meta_raw, body,
                                            self._tmp_tag(), rewrite)
        except (OSError, ValueError) as e:
            self.stats.write_errors += 1
            self._fail(d, f"cannot write {os.path.basename(pack.path)}: "
                          f"{getattr(e, 'strerror', None) or e}")
            return False
        # The index may hold an earlier record of this key (say, before re-optimisation):
        # forget it, so the next load re-reads the pack and finds this one.
        pack.drop(digest)
        self.stats.stores += 1
        self.stats.evictions += dropped
        self._after_write(d, grew, rescan=digest[:1] == b"\0")
        return True

    def _tmp_tag(self) -> str:
        with self._lock:
            self._seq += 1
            seq = self._seq
        return f"{os.getpid()}.{_thread.get_ident()}.{seq}"

    # -- writing --------------------------------------------------------------------------

    def store(self, tag: str, digest: bytes, meta: dict[str, Any], body: bytes,
              aligned: bool = False, *, count: bool = True) -> str | None:
        """Write an entry atomically; its path, or None when the cache is off or the write
        failed. With `count` false it is not counted as a store (the cache's own
        bookkeeping: `native.sources_digest`)."""
        d = self._usable(create=True)
        if d is None:
            return None
        try:
            data = encode(tag, digest, meta, body, aligned)
        except ValueError as e:  # metadata marshal cannot write: a caller's bug, not fatal
            self.log(f"disk cache: entry not written ({e})")
            return None
        name = file_name(tag, digest)
        path = os.path.join(d, name)
        tmp = f"{path}.{self._tmp_tag()}.tmp"
        from fusevm.jit.cache.files import write_new  # writes are rare: not at start-up
        try:
            write_new(tmp, data)
            os.replace(tmp, path)
        except OSError as e:
            self.stats.write_errors += 1
            try:
                os.unlink(tmp)
            except OSError:
                pass
            self._fail(d, f"cannot write {name}: {e.strerror}")
            return None
        if count:
            self.stats.stores += 1
        self._after_write(d, len(data), rescan=digest[:1] == b"\0")
        return path

    def _after_write(self, d: str, size: int, rescan: bool = False) -> None:
        """Add a written entry's `size` to the directory's total (`TOTAL_FILE`; scanned
        when `rescan`, or when the file holds none) and prune over the cap."""
        cap = self.max_bytes()
        with self._lock:
            self._writes += 1
        total = None if rescan else self._read_total(d)
        total = self._scan_total(d) if total is None else total + size
        self._write_total(d, total)
        if cap is not None and total > cap:
            self.prune()

    def _read_total(self, d: str) -> int | None:
        """The total `TOTAL_FILE` holds, or None (missing, unreadable, not a number)."""
        try:
            fd = os.open(os.path.join(d, TOTAL_FILE), os.O_RDONLY | O_CLOEXEC)
        except OSError:
            return None
        try:
            text = os.read(fd, 32)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            total = int(text)
        except ValueError:
            return None
        return total if total >= 0 else None

    def _write_total(self, d: str, total: int) -> None:
        """Replace `TOTAL_FILE` with `total` (a failed write leaves it as it was: the next
        write scans if it is gone)."""
        path = os.path.join(d, TOTAL_FILE)
        tmp = f"{path}.{self._tmp_tag()}.tmp"
        from fusevm.jit.cache.files import write_new
        try:
            write_new(tmp, str(total).encode("ascii"))
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        with self._lock:
            self._total = total

    # -- size control ------------------------------------------------------------------------

    def _files(self, d: str) -> list[tuple[float, int, str]]:
        """(mtime, size, path) of every entry file (temporary files are not entries)."""
        out: list[tuple[float, int, str]] = []
        try:
            with os.scandir(d) as it:
                for e in it:
                    if not e.name.endswith(SUFFIX):
                        continue
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    out.append((st.st_mtime, st.st_size, e.path))
        except OSError:
            pass
        return out

    def _scan_total(self, d: str) -> int:
        return sum(size for _, size, _ in self._files(d))

    def contents(self) -> dict[str, tuple[int, int]]:
        """Per tag, the entries in the directory and their bytes (a pack's records by their
        own tags); empty when the cache is off or holds nothing (`fusevm cache`)."""
        from fusevm.jit.cache.pack import PACK_SUFFIX, records
        d = self._usable(create=False)
        found: dict[str, tuple[int, int]] = {}
        for _, size, path in [] if d is None else self._files(d):
            if path.endswith(PACK_SUFFIX):
                rows = [(rec.tag, rec.size) for rec in records(path)]
            else:
                rows = [(file_tag(os.path.basename(path)), size)]
            for tag, n in rows:
                count, total = found.get(tag, (0, 0))
                found[tag] = (count + 1, total + n)
        return found

    def size_bytes(self) -> int | None:
        """Bytes of entry files in the directory (None when the cache is off)."""
        d = self._usable(create=False)
        if d is None:
            return None if self._directory() is None else 0
        return self._scan_total(d)

    def prune(self, target: int | None = None) -> int:
        """Delete the oldest entries until the total is at most `target` bytes (default
        80 % of the cap); returns the bytes freed.

        Entry files go by mtime (a load refreshes it), pack records by write time; a pack
        losing records, or holding superseded or damaged ones, is rewritten.
        """
        from fusevm.jit.cache import pack as pack_mod
        d = self._usable(create=False)
        if d is None:
            return 0
        cap = self.max_bytes()
        if target is None:
            if cap is None:
                return 0
            target = int(cap * LOW_WATER)
        items: list[tuple[float, int, str, bytes | None]] = []
        total = 0
        before = 0
        packs: dict[str, set[bytes]] = {}
        for mtime, size, p in self._files(d):
            before += size
            if not p.endswith(pack_mod.PACK_SUFFIX):
                items.append((mtime, size, p, None))
                total += size
                continue
            latest: dict[bytes, tuple[float, int]] = {}
            for r in pack_mod.records(p):
                latest[r.key] = (r.written, r.size)
            held = sum(n for _, n in latest.values())
            total += pack_mod.PACK_HEADER + held
            if pack_mod.PACK_HEADER + held != size:
                packs[p] = set()  # superseded or damaged records: worth a rewrite
            items.extend((w, n, p, key) for key, (w, n) in latest.items())
        items.sort(key=lambda item: item[0])
        for _, size, p, key in items:
            if total <= target:
                break
            if key is None:
                try:
                    os.unlink(p)
                except OSError:
                    continue
            else:
                packs.setdefault(p, set()).add(key)
            total -= size
            self.stats.evictions += 1
        for p, dropped in packs.items():
            try:
                pack_mod.evict(p, lambda _w, _n, key, gone=dropped: key not in gone,
                               self._tmp_tag())
            except OSError as e:
                self.log(f"disk cache: cannot compact {os.path.basename(p)}: {e.strerror}")
        self._packs = {}
        after = self._scan_total(d)
        self._write_total(d, after)
        return max(0, before - after)

    def clear(self) -> int:
        """Delete every entry file, the stray temporary files of this store's writes and
        the total (files of other names, or a `total` that is no total, are left alone: a
        directory may be shared); returns the entries removed."""
        d = self._usable(create=False)
        if d is None:
            return 0
        removed = 0
        try:
            names = os.listdir(d)
        except OSError:
            return 0
        for name in names:
            # (temporary files are named `<file>.<tag>.tmp`: see `_tmp_tag`)
            if name.endswith(SUFFIX) or name.endswith(".tmp") and (
                    SUFFIX + "." in name or name.startswith(TOTAL_FILE + ".")):
                try:
                    os.unlink(os.path.join(d, name))
                except OSError:
                    continue
                removed += name.endswith(SUFFIX)
        if self._read_total(d) is not None:
            try:
                os.unlink(os.path.join(d, TOTAL_FILE))  # (the next write scans: none left)
            except OSError:
                pass
        with self._lock:
            self._total = 0
        self._packs = {}
        return removed

    def reset(self) -> None:
        """Zero the counters and forget the directory checks (tests)."""
        self.stats = DiskStats()
        self._checked = None
        self._broken = None
        self._total = None
        self._writes = 0
        self._packs = {}

