"""Packs: the native entries of one key space in one file, mapped once, found by an index.

Every native entry (`lin`, `blk`, `trc`) of one process key space (one fusevm build, one
LLVM, one CPU: `native.process_key`) is a record of the pack file
`<space, 32 hex>.pack.fjit`. A process maps the pack read+execute once and indexes its
records by their full keys; a load after that is a dictionary lookup (the key compared
whole, byte for byte) and a pointer into the mapping, with no system call. A record's
checksum is checked on its first load only (`Record.checked_meta`); its metadata is the user's
(`marshal` for the generic entries, a fixed layout for units: see native.py). The layout
(little-endian):

| bytes | pack header (64) |
|---|---|
| 8 | magic `FUSEVMP\\x01` |
| 2 | format version (`PACK_VERSION`) |
| 2 | checksum kind of its records (`CHECKSUM_CRC32` = 1: CRC-32, as zlib computes it) |
| 4 | reserved |
| 16 | the key space |
| 8 | committed length: records end here (written last by each append) |
| 4 | record count |
| 20 | reserved |

| bytes | record (starts on a 64-byte boundary) |
|---|---|
| 4 | checksum: CRC-32 of everything after it up to the end of the body |
| 4 | magic `FJR\\x02` |
| 8 | tag, NUL-padded |
| 4, 4 | key length k, metadata length m |
| 4, 4 | body offset b (from the record, a multiple of 64), body length n |
| 8 | write time (float seconds: eviction goes oldest first) |
| m | metadata (`marshal` of a dict of plain values, or the unit layout of native.py) |
| k | the full key (`native.native_key`: the encoding of every part, not a digest of it) |
| ... | padding up to b, the body, padding up to a multiple of 64 |

The checksum guards against damage (a torn or corrupted file), not against a writer that
means harm (the directory must be this user's own and closed to others, see store.py):
CRC-32, one C call over the record, costs a first load a fraction of what a
cryptographic hash does. Keys are stored whole, so a record is found by the equality of
everything that changes its code, and a load hashes nothing but the dictionary key.

Writers append under an exclusive `flock` of the pack: the record is written past the
committed length, then the header's committed length and count. A reader maps only up to
the committed length it read, so it never sees a half-written record; bytes a failed
writer left past it are overwritten by the next append. A pack is never shortened or
rewritten in place (another process may have it mapped): it is created, compacted
(eviction, too many records) or replaced (a damaged header or record chain) by writing a
new file and renaming it over the old one, which mappings keep alive until unmapped.
A later record of a key supersedes an earlier one (re-optimised code, a replaced reject).
"""

from __future__ import annotations

import _thread  # (threading's import costs start-up: its locks are these)
import marshal
import os
import struct
import time
from binascii import crc32  # (zlib's CRC-32; binascii imports in half zlib's time)

from fusevm.jit.cache.files import O_CLOEXEC, write_new
from fusevm.jit.loader import PAGE, FileMapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

PACK_MAGIC: Final = b"FUSEVMP\x01"
PACK_VERSION: Final = 3
#: The checksum kind a pack's header names (the only one written and accepted).
CHECKSUM_CRC32: Final = 1
RECORD_MAGIC: Final = b"FJR\x02"
PACK_SUFFIX: Final = ".pack.fjit"
ALIGN: Final = 64  # record and body alignment (at least any section alignment LLVM uses)
#: A pack holding more records is compacted to the newest 3/4 of them: a first load indexes
#: every record, so this bounds its cost.
MAX_RECORDS: Final = 4096

_PHEAD: Final = struct.Struct("<8sHH4s16sQI20s")
PACK_HEADER: Final = _PHEAD.size
_COMMITTED_AT: Final = 32
_COMMIT: Final = struct.Struct("<QI")
#: A record's header: checksum, magic, tag, key length, metadata length, body offset and
#: length, write time.
_REC: Final = struct.Struct("<I4s8sIIIId")
_SUM: Final = 4
RECORD_HEADER: Final = _REC.size

assert PACK_HEADER == 64 and _PHEAD.size == 64 and RECORD_HEADER == 40


def _up(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def pack_name(space: bytes) -> str:
    return f"{space.hex()}{PACK_SUFFIX}"


def pack_header(space: bytes, committed: int, count: int) -> bytes:
    return _PHEAD.pack(PACK_MAGIC, PACK_VERSION, CHECKSUM_CRC32, b"", space, committed,
                       count, b"")


def encode_record(tag: str, key: bytes, meta_raw: bytes, body: bytes | memoryview,
                  written: float) -> bytes:
    """The bytes of one record, padded to a multiple of `ALIGN`."""
    raw_tag = tag.encode("ascii")
    if not 0 < len(raw_tag) <= 8 or not key:
        raise ValueError(f"bad cache tag {tag!r} or key")
    body_at = _up(RECORD_HEADER + len(meta_raw) + len(key))
    head = _REC.pack(0, RECORD_MAGIC, raw_tag, len(key), len(meta_raw), body_at, len(body),
                     written)[_SUM:]
    end = body_at + len(body)
    summed = b"".join((head, meta_raw, key,
                       b"\0" * (body_at - RECORD_HEADER - len(meta_raw) - len(key)), body))
    return b"".join((crc32(summed).to_bytes(_SUM, "little"), summed,
                     b"\0" * (_up(end) - end)))


class Record:
    """Where one record is in a mapping (`offset` from the mapping's start). Its checksum
    is checked once, on its first use (`checked_meta`, which gives the metadata bytes):
    then `damage` says why it must not be used, or is None. `meta` decodes its metadata
    as `marshal` (the generic entries; a unit record's user decodes its own layout), and
    `derived` is what its user made of the record once (the native loader keeps its
    checked unit description and its `Native` there). A plain class: a dataclass costs
    import time."""

    __slots__ = ("mapping", "offset", "tag", "meta_len", "body_at", "body_len", "written",
                 "checksum", "verified", "_meta", "damage", "derived")

    def __init__(self, mapping: FileMapping, offset: int, tag: str, meta_len: int,
                 body_at: int, body_len: int, written: float, checksum: int) -> None:
        self.mapping = mapping
        self.offset = offset
        self.tag = tag
        self.meta_len = meta_len
        self.body_at = body_at
        self.body_len = body_len
        self.written = written
        self.checksum = checksum  # as the record's header says
        self.verified = False
        self._meta: dict[str, Any] | None = None
        self.damage: str | None = None
        self.derived: Any = None

    @property
    def size(self) -> int:
        return _up(self.body_at + self.body_len)

    def verify(self) -> str | None:
        """Why the record must not be used (its checksum, checked once: `checked_meta`),
        or None."""
        try:
            self.checked_meta()
        except ValueError:
            pass
        return self.damage

    def checked_meta(self) -> memoryview:
        """The record's metadata bytes, its checksum checked on the first call: the
        committed part of a pack is never written again (appends go past it, anything
        else replaces the file), so later loads of the record need not. Done on first
        use, not when the pack is indexed: a process indexes every record of a pack (up
        to `MAX_RECORDS`) but uses few, and checking them all would cost its first load
        up to milliseconds. ValueError (kept in `damage`): the record must not be used."""
        view = self.mapping.view
        at = self.offset
        if not self.verified:
            self.verified = True
            if crc32(view[at + _SUM:at + self.body_at + self.body_len]) != self.checksum:
                self.damage = "checksum mismatch"
        if self.damage is not None:
            raise ValueError(self.damage)
        at += RECORD_HEADER
        return view[at:at + self.meta_len]

    @property
    def meta(self) -> dict[str, Any]:
        """The metadata decoded as `marshal` (once); ValueError when it does not decode
        to a dict (or the record must not be used)."""
        meta = self._meta
        if meta is None:
            raw = self.checked_meta()
            try:
                meta = marshal.loads(raw)
            except (ValueError, EOFError, TypeError) as e:
                raise ValueError(f"metadata does not decode ({e})") from None
            if type(meta) is not dict:
                raise ValueError("metadata is not a dict")
            self._meta = meta
        return meta

    def body(self) -> memoryview:
        at = self.offset + self.body_at
        return self.mapping.view[at:at + self.body_len]


def read_header(head: bytes, space: bytes | None, size: int) -> tuple[int, int] | str:
    """(committed length, record count) of a pack header, or why it is rejected."""
    if len(head) < PACK_HEADER:
        return "truncated pack header"
    magic, version, checksum, _, sp, committed, count, _ = _PHEAD.unpack_from(head)
    if magic != PACK_MAGIC:
        return "bad pack magic"
    if version != PACK_VERSION:
        return f"pack format version {version}"
    if checksum != CHECKSUM_CRC32:
        return f"pack checksum kind {checksum}"
    if space is not None and sp != space:
        return "pack of another key space"
    if not PACK_HEADER <= committed <= size or committed % ALIGN:
        return "truncated pack"
    return committed, count


def _bad_header(magic: bytes, key_len: int, meta_len: int, body_at: int, body_len: int,
                at: int, end: int) -> bool:
    """Whether a record header at `at` (of records ending at `end`) does not make sense."""
    return (magic != RECORD_MAGIC or not key_len or body_at % ALIGN != 0
            or body_at < RECORD_HEADER + meta_len + key_len or at + body_at + body_len > end)


def scan(mapping: FileMapping, start: int, end: int, into: dict[bytes, Record]) -> str | None:
    """Index the records in file offsets [start, end), held by a mapping of the file from
    `mapping.start`, by their keys (later records win; each is verified on first use);
    why the chain is broken, or None."""
    view = mapping.view
    unpack = _REC.unpack_from
    at = start - mapping.start
    end -= mapping.start
    while at < end:
        if at + RECORD_HEADER > end:
            return "truncated record"
        checksum, magic, tag, key_len, meta_len, body_at, body_len, written = unpack(view, at)
        if _bad_header(magic, key_len, meta_len, body_at, body_len, at, end):
            return "bad record header"
        key_at = at + RECORD_HEADER + meta_len
        into[view[key_at:key_at + key_len].tobytes()] = Record(
            mapping, at, tag.rstrip(b"\0").decode("latin-1"), meta_len, body_at, body_len,
            written, checksum)
        at += _up(body_at + body_len)
    return None


class Pack:
    """This process's view of one pack file: its mappings and its index."""

    def __init__(self, path: str, space: bytes) -> None:
        self.path = path
        self.space = space
        self.index: dict[bytes, Record] = {}
        self.identity: tuple[int, int] | None = None  # (device, inode) indexed
        self.scanned = 0  # committed length indexed so far
        #: Why the file cannot be appended to (the next write replaces it), or None.
        self.damage: str | None = None
        self.pinned: FileMapping | None = None  # the newest mapping of the indexed file
        #: Orders `refresh` and `drop` between threads: a refresh that read the header
        #: before another thread appended a newer record of a key must not index the
        #: older one after that thread dropped the key (its loads would keep the old one).
        self._lock = _thread.allocate_lock()

    def drop(self, digest: bytes) -> None:
        """Forget a key's record: rejected, or superseded by an append of this process
        (the next load of the key refreshes the index and finds the newest)."""
        with self._lock:
            self.index.pop(digest, None)

    def refresh(self) -> str | None:
        """Index whatever the file holds beyond what is indexed; why it is damaged (a
        reject, reported once per file), or None. A missing file is just empty."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> str | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | O_CLOEXEC)
        except OSError:
            return None
        try:
            # The header before the size: an append grows the file before it commits, so
            # the size read after the header covers every record the header commits.
            head = os.pread(fd, PACK_HEADER, 0)
            st = os.fstat(fd)
            ident = (st.st_dev, st.st_ino)
            if ident != self.identity:
                self.identity = ident
                self.index = {}
                self.scanned = PACK_HEADER
                self.damage = None
                self.pinned = None
            found = read_header(head, self.space, st.st_size)
            if isinstance(found, str):
                if found == self.damage:
                    return None  # reported already
                self.damage = found
                return found
            committed = found[0]
            if committed <= self.scanned:
                return None
            # Map from the page holding the first record not indexed yet.
            mapping = FileMapping(fd, self.scanned // PAGE * PAGE, committed)
        finally:
            os.close(fd)
        # While its mapping lives the file's inode cannot be reused by another file, so
        # `identity` keeps telling this file apart from a replacement.
        self.pinned = mapping
        broken = scan(mapping, self.scanned, committed, self.index)
        self.scanned = committed  # appends go past the committed length, even after damage
        if broken is not None:
            self.damage = broken
        return broken

# -- writing ------------------------------------------------------------------------------

_Row = tuple[float, bytes, bytes, int]


def _valid_records(fd: int, size: int) -> list[_Row]:
    """(write time, key, record bytes, file offset) of every undamaged record of an open
    pack, in file order; a damaged header keeps nothing, a broken chain keeps what precedes
    it."""
    data = os.pread(fd, size, 0)
    found = read_header(data, None, len(data))
    if isinstance(found, str):
        return []
    committed = found[0]
    out: list[_Row] = []
    at = PACK_HEADER
    view = memoryview(data)
    while at + RECORD_HEADER <= committed:
        checksum, magic, _, key_len, meta_len, body_at, body_len, written = \
            _REC.unpack_from(view, at)
        if _bad_header(magic, key_len, meta_len, body_at, body_len, at, committed):
            break
        end = at + body_at + body_len
        if crc32(view[at + _SUM:end]) == checksum:
            key_at = at + RECORD_HEADER + meta_len
            out.append((written, bytes(view[key_at:key_at + key_len]),
                        bytes(view[at:_up(end)]), at))
        at = _up(end)
    return out


def _latest(records: list[_Row]) -> list[_Row]:
    """The last record of each key, in file order."""
    last = {row[1]: i for i, row in enumerate(records)}
    return [r for i, r in enumerate(records) if last[r[1]] == i]


def _write_new(d: str, path: str, space: bytes, records: list[bytes], seq: str,
               replace: bool) -> bool:
    """Write a pack of these records to a temporary file, then rename it into place (or,
    with `replace` False, link it: False when a pack appeared meanwhile)."""
    tmp = f"{path}.{seq}.tmp"
    body = b"".join(records)
    data = pack_header(space, PACK_HEADER + len(body), len(records)) + body
    try:
        write_new(tmp, data)
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # no hard links here: a racing creator's first record may be lost
            os.replace(tmp, path)
        return True
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _locked(path: str) -> int | None:
    """An open, exclusively locked descriptor of the pack now at `path` (None: no pack)."""
    import fcntl  # (only writers lock: a warm process's loads never import it)
    for _ in range(16):
        try:
            fd = os.open(path, os.O_RDWR | O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            st = os.fstat(fd)
            now = os.stat(path)
        except FileNotFoundError:
            os.close(fd)
            continue
        except OSError:
            os.close(fd)
            raise
        if (st.st_dev, st.st_ino) == (now.st_dev, now.st_ino):
            return fd
        os.close(fd)  # replaced while we waited for the lock: lock the new one
    raise OSError(0, "the pack keeps being replaced")


def append(d: str, space: bytes, tag: str, key: bytes, meta_raw: bytes,
           body: bytes | memoryview, seq: str, rewrite: bool = False) -> tuple[int, int]:
    """Add a record to the space's pack in directory `d`; returns (bytes the directory
    grew by, records dropped). `rewrite`: the caller found the pack damaged, so it is
    replaced by its valid records and this one. Raises OSError when the write fails."""
    path = os.path.join(d, pack_name(space))
    record = encode_record(tag, key, meta_raw, body, time.time())
    for _ in range(16):
        fd = _locked(path)
        if fd is None:
            if _write_new(d, path, space, [record], seq, replace=False):
                return PACK_HEADER + len(record), 0
            continue
        try:
            size = os.fstat(fd).st_size
            found = read_header(os.pread(fd, PACK_HEADER, 0), space, size)
            if rewrite or isinstance(found, str) or found[1] >= MAX_RECORDS:
                kept = _latest(_valid_records(fd, size))
                dropped = max(0, len(kept) - MAX_RECORDS * 3 // 4)
                kept = kept[dropped:]
                rewrite = False
                _write_new(d, path, space, [r[2] for r in kept] + [record], seq, replace=True)
                return PACK_HEADER + sum(len(r[2]) for r in kept) + len(record) - size, dropped
            committed, count = found
            view = memoryview(record)
            at = committed
            while view:
                n = os.pwrite(fd, view, at)
                view = view[n:]
                at += n
            os.pwrite(fd, _COMMIT.pack(committed + len(record), count + 1), _COMMITTED_AT)
            return max(0, committed + len(record) - size), 0
        finally:
            os.close(fd)
    raise OSError(0, "could not create the pack")


class RecordInfo:
    """One valid record of a pack file, where it is and what it holds (a plain class:
    a NamedTuple costs this module's import a millisecond, on a warm process's way to
    its first native result)."""

    __slots__ = ("offset", "size", "written", "key", "tag", "body_at", "body_len")

    def __init__(self, offset: int, size: int, written: float, key: bytes, tag: str,
                 body_at: int, body_len: int) -> None:
        self.offset = offset
        self.size = size
        self.written = written
        self.key = key
        self.tag = tag
        self.body_at = body_at  # from `offset`
        self.body_len = body_len


def records(path: str) -> list[RecordInfo]:
    """Every valid record of a pack file (for size control and tests), in file order."""
    try:
        fd = os.open(path, os.O_RDONLY | O_CLOEXEC)
    except OSError:
        return []
    try:
        rows = _valid_records(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)
    out: list[RecordInfo] = []
    for written, key, raw, at in rows:
        _, _, tag, _, _, body_at, body_len, _ = _REC.unpack_from(raw)
        out.append(RecordInfo(at, len(raw), written, key,
                              tag.rstrip(b"\0").decode("ascii", "replace"), body_at, body_len))
    return out


def evict(path: str, keep: Any, seq: str) -> int:
    """Rewrite a pack keeping the valid records for which `keep(time, size, key)` is true
    (the latest of each key only); returns the records dropped."""
    fd = _locked(path)
    if fd is None:
        return 0
    try:
        size = os.fstat(fd).st_size
        head = os.pread(fd, PACK_HEADER, 0)
        if len(head) < PACK_HEADER:
            return 0
        space = _PHEAD.unpack_from(head)[4]
        rows = _valid_records(fd, size)
        kept = [r for r in _latest(rows) if keep(r[0], len(r[2]), r[1])]
        if len(kept) == len(rows):
            return 0
        if kept:
            _write_new(os.path.dirname(path), path, space, [r[2] for r in kept], seq,
                       replace=True)
        else:
            os.unlink(path)
        return len(rows) - len(kept)
    finally:
        os.close(fd)
