"""Native code on disk: keys, tier-tagged entries (`lin`, `blk`, `trc`), loading without LLVM.

A native entry's body is a pre-linked, relocation-free blob (`objlink.py`) stored as a
record of its key space's pack (`pack.py`), which a warm process maps read+execute once
(`loader.py`) and indexes: a load is the key, an index lookup, the checks that the record
fits the chunk and a Unit pointing into the mapping (a record's checksum, the decoding of
its metadata, the lookup of its helpers and its `Native` happen on its first load only,
and what they give is kept with it), and llvmlite is never imported. A unit record's
metadata is the tuple a load uses as it is (`encode_unit_meta`), checked when written.
Its key covers everything that changes the code:

* the process part, computed once: cache format, JIT ABI version, helper table, op-table
  schema, fusevm version and the directory of its package, the installed llvmlite (its
  version file and the LLVM library's size and mtime, read without importing it), the
  machine and the CPU's identity and feature flags (from /proc/cpuinfo: what LLVM's host
  CPU name and features derive from);
* the unit part: the tier, the chunk's semantic digest, the strict flag, the entry kinds,
  the compile pipelines of the configuration, and for each extension op the unit uses its
  set's schema and the identity of its lowering's code.

Each record also names the fusevm sources that made it: the digest of the list of the
source files loaded in the process that wrote it (`sources.current`), a list kept as an
entry of its own (tag `src`: written by the first store naming it, touched by each,
`sources_digest`). A record is used only while those files are unchanged, checked once
per process and list (`sources_hold`): so a change to a lowering rule never meets code
compiled before it, and a warm process stats only the files of modules it has not
imported, where a digest of the whole source tree in the key would scan 250.

The tracing tier keys its units with `native_key("trc", chunk_digest, strict, recording)`,
where `recording` is a tuple of the recorded ops, their ips, the slot (and global) kinds
at the anchor, the constants the trace reads and whether it is a side trace, and calls
`store_native` / `load_native` with it (see docs/jit-cache.md).
"""

from __future__ import annotations

import marshal
import os
import sys
from time import perf_counter

from fusevm import __version__
from fusevm.jit.abi import ABI_VERSION, Helper, SlotKind, TrapCode, helper_address
from fusevm.jit.cache import sources
from fusevm.jit.cache.files import O_CLOEXEC
from fusevm.jit.cache.pack import Record
from fusevm.jit.cache.store import Store, file_name, key_digest
from fusevm.jit.config import find_spec
from fusevm.jit.loader import CodeRegion, Native
from fusevm.jit.unit import Analysis, Unit, UnitInfo
from fusevm.ops import SCHEMA_HASH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Final

    from fusevm.jit.cache.store import Entry
    from fusevm.jit.config import TraceJitConfig

NATIVE_TAGS: Final = {"linear": "lin", "block": "blk", "trace": "trc"}

_CPU_KEYS: Final = frozenset({
    "vendor_id", "cpu family", "model", "model name", "stepping", "flags",
    "Features", "CPU implementer", "CPU architecture", "CPU variant", "CPU part",
    "CPU revision", "isa", "uarch", "cpu model", "features"})

_CPUINFO_MAX: Final = 1 << 16

_prefix: tuple[object, ...] | None = None
_prefix_digest: bytes | None = None
_space: bytes | None = None


def cpu_identity() -> tuple[str, ...]:
    """The CPU's model and feature flags (Linux: the first processor of /proc/cpuinfo)."""
    out = [sys.platform, os.uname().machine if hasattr(os, "uname") else ""]
    # Read until the first processor's block ends (at most 64 KiB): the kernel writes the
    # file as it is read, and a machine with many processors has a long one.
    data = b""
    try:
        fd = os.open("/proc/cpuinfo", os.O_RDONLY | O_CLOEXEC)
        try:
            while b"\n\n" not in data and len(data) < _CPUINFO_MAX:
                more = os.read(fd, 4096)
                if not more:
                    break
                data += more
        finally:
            os.close(fd)
    except OSError:
        return tuple(out)
    head = data[:_CPUINFO_MAX].decode("latin-1")
    for line in head.split("\n\n", 1)[0].splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() in _CPU_KEYS:
            out.append(f"{name.strip()}={value.strip()}")
    return tuple(out)


def llvm_identity() -> tuple[object, ...]:
    """The installed llvmlite and its LLVM library, found without importing llvmlite."""
    try:
        spec = find_spec("llvmlite")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return ("no-llvmlite",)
    root = list(spec.submodule_search_locations)[0]
    parts: list[object] = []
    try:
        with open(os.path.join(root, "_version.py"), "rb") as f:
            parts.append(f.read())
    except OSError:
        parts.append("no-version-file")
    binding = os.path.join(root, "binding")
    try:
        names = sorted(n for n in os.listdir(binding) if n.startswith("libllvmlite"))
    except OSError:
        names = []
    for name in names:
        st = os.stat(os.path.join(binding, name))
        parts.append((name, st.st_size, st.st_mtime_ns))
    return tuple(parts)


def _helper_table() -> tuple[object, ...]:
    return tuple((h.name, int(h)) for h in Helper)


def process_key() -> tuple[object, ...]:
    """The part of every native key that depends on this process only (computed once)."""
    global _prefix
    if _prefix is None:
        from fusevm.jit.cache.store import FORMAT_VERSION
        _prefix = ("fusevm-native", FORMAT_VERSION, ABI_VERSION, _helper_table(), SCHEMA_HASH,
                   __version__, sources.ROOT, llvm_identity(), cpu_identity())
    return _prefix


def _process_digest() -> bytes:
    global _prefix_digest, _space
    prefix = _prefix_digest
    if prefix is None:
        prefix = _prefix_digest = key_digest(process_key())
        _space = prefix[:16]
    return prefix


def key_space() -> bytes:
    """The key space of this process's native entries (they share one pack, see pack.py):
    16 bytes of the digest of `process_key()`."""
    return _space or _process_digest()[:16]


def full_key(*parts: object) -> bytes:
    """The key of a native record: `parts` encoded whole, as `key_digest` would hash them
    (`b"m"` and `marshal` at version 2); where `marshal` cannot write a part (an enum),
    `key_digest` of them instead (32 bytes: never the length of an encoding, which holds
    the 32-byte process digest and more). A pack finds a record by comparing its key
    whole, so a load computes no hash."""
    try:
        return b"m" + marshal.dumps(parts, 2)  # type: ignore[arg-type]
    except ValueError:
        return key_digest(*parts)


def native_key(tag: str, chunk_digest: str, strict: bool, *parts: object) -> bytes:
    """The full key of a native entry: the process part, then these parts."""
    return full_key(_prefix_digest or _process_digest(), tag, chunk_digest, strict, parts)


def trace_key(chunk_digest: str, strict: bool, *, anchor_ip: int, ops: object,
              ips: object, slot_kinds: object, global_kinds: object = (),
              constants: object = (), side: bool = False, extra: object = ()) -> bytes:
    """The key of a trace: everything its machine code depends on besides the process.

    `ops` is the recorded op list (instruction tuples; enums count as their numbers),
    `ips` their ips, `slot_kinds`/`global_kinds` the kinds at the anchor, `constants` the
    constant values the trace reads (floats by bit pattern), `side` whether it is a side
    trace; `extra` anything else the tier's code depends on (its own version, knobs).
    """
    return native_key(NATIVE_TAGS["trace"], chunk_digest, strict, anchor_ip, ops, ips, slot_kinds,
                      global_kinds, constants, side, extra)


# -- extension lowerings ---------------------------------------------------------------

def _code_identity(fn: Any) -> tuple[object, ...]:
    code = getattr(fn, "__code__", None)
    name = (getattr(fn, "__module__", "?"), getattr(fn, "__qualname__", type(fn).__qualname__))
    if code is None:
        return name + (type(fn).__module__, type(fn).__qualname__)
    return name + (marshal.dumps(code),)


def extension_identity(ext_ids: tuple[int, ...]) -> tuple[object, ...]:
    """For each extension op: its set, its schema row and the code of its lowering."""
    if not ext_ids:
        return ()
    from fusevm.jit import extension
    from fusevm.ops.extension import lookup
    out: list[object] = []
    for ext_id in ext_ids:
        ext = lookup(ext_id)
        if ext is None:
            out.append((ext_id, "unknown"))
            continue
        spec = ext.spec
        row = (ext.owner.name, spec.number, spec.name,
               ",".join(k.value for k in spec.kinds), spec.effect.text, spec.flags.value)
        fn = ext.owner.lowerings.get(ext_id)
        if fn is not None:
            out.append((row, "rule", _code_identity(fn)))
            continue
        lowerer = next((e for e in extension.registered() if e.can_jit(ext_id)), None)
        if lowerer is None:
            out.append((row, "none"))
        else:
            out.append((row, "protocol", lowerer.name(),
                        _code_identity(type(lowerer).emit_extended)))
    return tuple(out)


#: (configuration, its pipelines): the key part of the last configuration asked about.
_pipes: tuple[object, tuple[object, ...]] = (None, ())


def unit_key(tier: str, an: Analysis, kinds: tuple[int, ...], strict: bool,
             cfg: TraceJitConfig) -> bytes:
    """The key of a linear or block unit of a chunk analysis for these entry kinds: a
    `native_key` whose parts are the entry kinds, the configuration's pipelines and the
    identity of the extension ops the unit uses. Made in one step (every load makes
    one): the pipelines are kept for the last configuration asked about, and `full_key`
    encodes the parts."""
    global _pipes
    pipes = _pipes
    if pipes[0] is not cfg:
        pipes = _pipes = (cfg, (cfg.first_pipeline, cfg.first_codegen, cfg.reopt_pipeline,
                                cfg.reopt_codegen))
    return full_key(_prefix_digest or _process_digest(), NATIVE_TAGS[tier], an.digest,
                    strict,
                    (kinds, pipes[1], extension_identity(an.ext_ids) if an.ext_ids else ()))


# -- the sources that made a record ------------------------------------------------------

#: The tag of an entry listing the fusevm sources that made native records.
SOURCES_TAG: Final = "src"
#: Digests of the lists of sources this process found unchanged, or wrote itself.
_good_sources: set[bytes] = set()


def sources_digest(store: Store) -> bytes | None:
    """The digest of the sources this process has loaded (`sources.current`), their list
    written to the cache directory first unless it is there (not counted as a store: the
    cache's own bookkeeping); None when it cannot be written."""
    rows, digest = sources.current()
    d = store.usable()
    try:
        if d is None:
            raise FileNotFoundError
        # Touched at each store (a compile's end): the list is then as new as the newest
        # record naming it, so the size cap evicts it after them (oldest first).
        os.utime(os.path.join(d, file_name(SOURCES_TAG, digest)))
    except OSError:  # (not written yet, or evicted by another process)
        if store.store(SOURCES_TAG, digest, {}, marshal.dumps(rows), count=False) is None:
            return None
    _good_sources.add(digest)
    return digest


def sources_hold(store: Store, digest: object) -> bool:
    """Whether the sources listed under `digest` are unchanged (`sources.unchanged`): read
    and checked once per process and list, not counted as a load."""
    if digest in _good_sources:
        return True
    if type(digest) is not bytes:
        return False

    def use(entry: Entry, _fd: int) -> bool:
        return sources.unchanged(marshal.loads(entry.body))

    if store.load(SOURCES_TAG, digest, use, count=False):
        _good_sources.add(digest)
        return True
    return False


_CHANGED: Final = "made by fusevm sources that have changed since (or are not listed)"


# -- generic native entries (every tier) -------------------------------------------------

def store_native(store: Store, tag: str, key: bytes, native: Native,
                 meta: dict[str, Any]) -> bool:
    """Append a unit's pre-linked blob with its metadata to the key space's pack; False
    when it cannot be cached (no blob: MCJIT linked it) or the cache is off."""
    if native.blob is None:
        return False
    made_by = sources_digest(store)
    if made_by is None:
        return False
    record = dict(meta, entry=native.entry_offset, pipeline=native.pipeline,
                  codegen=native.codegen, sources=made_by)
    return store.store_packed(key_space(), tag, key, record, native.blob)


def load_native(store: Store, tag: str, key: bytes,
                check: Callable[[dict[str, Any]], None] | None = None
                ) -> tuple[Native, dict[str, Any]] | None:
    """The mapped code and metadata of a native entry, or None (miss or reject).

    `check(meta)` may raise ValueError/KeyError/TypeError to reject metadata that does not
    fit the caller's unit; it runs before the code is used.
    """

    def use(rec: Record) -> tuple[Native, dict[str, Any]]:
        # The caller owns what it gets: a fresh decode of the verified metadata, not the
        # record's shared copy.
        meta = marshal.loads(rec.checked_meta())
        if not sources_hold(store, meta.pop("sources", None)):
            raise ValueError(_CHANGED)
        if check is not None:
            check(meta)
        return _native(rec, meta), meta

    found: tuple[Native, dict[str, Any]] | None = store.load_packed(key_space(), tag, key,
                                                                    use)
    return found


def _native(rec: Record, meta: dict[str, Any]) -> Native:
    """The code of a record with its entry metadata checked (see `_code`)."""
    entry = meta["entry"]
    pipeline = meta["pipeline"]
    codegen = meta["codegen"]
    if not (type(entry) is int and 0 <= entry < rec.body_len
            and type(pipeline) is str and type(codegen) is int):
        raise ValueError("bad entry metadata")
    return _code(rec, entry, pipeline, codegen)


def _code(rec: Record, entry: int, pipeline: str, codegen: int) -> Native:
    """The code of a record (entry offset, pipeline and codegen level checked by the
    caller): where the pack is mapped (no copy), or a sealed copy where executable file
    mappings are refused."""
    mapping = rec.mapping
    at = rec.offset + rec.body_at
    # The blob is a view of the mapping, not a copy: the Native keeps the mapping alive.
    blob = mapping.view[at:at + rec.body_len]
    region: Any
    if mapping.executable:
        address, region = mapping.address + at, mapping
    else:
        region = CodeRegion(bytes(blob))
        address = region.address
    return Native(address + entry, region, blob, entry, pipeline, codegen, {})


# -- linear and block units --------------------------------------------------------------

#: The tier of each native tag.
_TIER_OF_TAG: Final = {tag: tier for tier, tag in NATIVE_TAGS.items()}
_KIND_SET: Final = frozenset(int(k) for k in SlotKind)
_TRAP_SET: Final = frozenset(int(t) for t in TrapCode)


def unit_meta(unit: Unit, made_by: bytes) -> bytes:
    """What a unit needs besides its code to be rebuilt from disk (`encode_unit_meta`),
    made by the sources listed under `made_by` (`sources_digest`)."""
    info = unit.info
    native = unit.native
    return encode_unit_meta(native.entry_offset, len(native.blob or b""), native.pipeline,
                            native.codegen, info.ops, info.blocks, unit.copy_out,
                            unit.result_kinds, info.helper_ids, info.traps, made_by)


def encode_unit_meta(entry: int, code_len: int, pipeline: str, codegen: int, ops: int,
                     blocks: int, copy_out: Iterable[tuple[int, int]],
                     results: Iterable[int], helpers: Iterable[int],
                     traps: Iterable[int], made_by: bytes) -> bytes:
    """A unit record's metadata: `marshal` of (entry offset, pipeline, codegen level, op
    count, block count, the (slot, kind) pairs of the slots it writes, its result kinds,
    its helper ids, the set of its trap codes, its highest written slot, the digest of
    the sources that made it), the shape a load uses as it is. What it says is checked
    here, when it is written (plain ints, known kinds and trap codes, the entry inside
    the code); a reader checks the record's checksum and key, that its sources are
    unchanged (so the record was written by this very code), then what depends on the
    reading process (its helpers) and on the chunk asking. Raises ValueError for a unit
    that cannot be described."""
    from _operator import index  # (an int, or an enum member as its int; never a float)
    try:
        pairs = tuple((index(s), index(k)) for s, k in copy_out)
        kinds = tuple(map(index, results))
        ids = tuple(map(index, helpers))
        codes = frozenset(map(index, traps))
    except TypeError as e:
        raise ValueError(f"a unit that cannot be described on disk ({e})") from None
    scalars = (entry, codegen, ops, blocks)
    if (set(map(type, scalars)) - {int} or type(pipeline) is not str
            or not 0 <= entry < code_len or not _TRAP_SET.issuperset(codes)
            or not _KIND_SET.issuperset(k for _, k in pairs)
            or not _KIND_SET.issuperset(kinds) or any(s < 0 for s, _ in pairs)):
        raise ValueError("a unit that cannot be described on disk (kinds, trap codes, "
                         "entry offset or slots out of range)")
    if type(made_by) is not bytes:
        raise ValueError("a unit that cannot be described on disk (no sources digest)")
    return marshal.dumps((entry, pipeline, codegen, ops, blocks, pairs, kinds, ids, codes,
                          max((s for s, _ in pairs), default=-1), made_by))


#: The built-in helpers (a host helper, registered at run time, is looked up instead).
_HELPER_IDS: Final = frozenset(int(h) for h in Helper)
#: What a unit record holds, checked once (`_described`) and kept with the record, in the
#: order a load uses it: (tier, ops, highest written slot, result count, copy_out, result
#: kinds, blocks, helper ids, traps, pipeline, codegen level, its code).
_Described = tuple[str, int, int, int, tuple[tuple[int, int], ...], tuple[int, ...], int,
                   tuple[int, ...], frozenset[int], str, int, Native]


def load_unit(store: Store, tier: str, key: bytes, an: Analysis, kinds: tuple[int, ...],
              strict: bool) -> Unit | None:
    """A linear or block unit of `key` from disk, or None (off, a miss or a counted
    reject): `find_unit` under the store's configuration, with the caller's key."""
    return find_unit(store, tier, an, kinds, strict, store.config(), key)[1]


def find_unit(store: Store, tier: str, an: Analysis, kinds: tuple[int, ...], strict: bool,
              cfg: TraceJitConfig, key: bytes | None = None
              ) -> tuple[bytes | None, Unit | None]:
    """What the runtime asks for a unit it has not got: its key (`unit_key`, unless the
    caller has it; None when the cache is off) and the unit from disk (None: a miss or a
    counted reject), in one call.

    The load is an index lookup in the pack of the directory (`Store.record`); on the
    record's first use its checksum, metadata and code (`_described`, kept with the
    record); then the checks that it fits this chunk and a `Unit` made of attribute
    stores (its context is built when it is first called, as for a compiled unit). A
    record that does not make sense or does not fit is a counted reject, dropped from
    the index."""
    d = store.dir_for(cfg)
    if d is None:
        return None, None
    if key is None:
        key = unit_key(tier, an, kinds, strict, cfg)
    started = perf_counter()
    space = _space or key_space()
    rec = store.record(d, space, key)  # (None too when the directory is not usable)
    if rec is None:
        return key, None
    described: _Described | None = rec.derived
    if described is None:
        try:
            described = _described(rec, store)
        except (ValueError, KeyError, TypeError, EOFError, OSError) as e:
            store.rejected(d, space, key, rec.damage or f"{type(e).__name__}: {e}")
            return key, None
    t, ops, top, nresults, copy_out, results, blocks, helpers, traps, pipeline, codegen, \
        native = described
    nslots = an.nslots
    max_depth = an.max_depth
    if t != tier or ops != an.n_ops or top >= nslots or nresults > max_depth:
        store.rejected(d, space, key, "the record does not fit this unit (tier, op count, "
                                      "slots or results)")
        return key, None
    unit = Unit(native, UnitInfo(t, an.source, kinds, strict, ops, blocks, "", helpers, traps,
                                 0.0, pipeline, codegen),
                an.live_in, copy_out, results, nslots, an.tracked, max_depth)
    stats = store.stats
    stats.loads += 1
    stats.load_seconds += perf_counter() - started
    return key, unit


def _described(rec: Record, store: Store) -> _Described:
    """A unit record's first use: its checksum, then its metadata (`encode_unit_meta`)
    decoded, its sources checked (`sources_hold`), its helpers looked up and its code (as
    `_code` makes it), kept with the record; raises ValueError (or KeyError, TypeError,
    EOFError, OSError) for a record that must not be used."""
    entry, pipeline, codegen, ops, blocks, copy_out, results, helpers, traps, top, made_by \
        = marshal.loads(rec.checked_meta())
    if not 0 <= entry < rec.body_len:
        raise ValueError("an entry past the code")
    if not sources_hold(store, made_by):
        raise ValueError(_CHANGED)
    if not _HELPER_IDS.issuperset(helpers):
        for h in helpers:
            helper_address(h)  # raises for a helper this process does not have
    d: _Described = (_TIER_OF_TAG[rec.tag], ops, top, len(results), copy_out, results, blocks,
                     helpers, traps, pipeline, codegen, _code(rec, entry, pipeline, codegen))
    rec.derived = d
    return d


def store_unit(store: Store, key: bytes, unit: Unit) -> bool:
    """Write a compiled linear or block unit (its current code); False when it is not
    cached (no blob, a unit `encode_unit_meta` refuses, the cache off)."""
    blob = unit.native.blob
    if blob is None:
        return False
    made_by = sources_digest(store)
    if made_by is None:
        return False
    try:
        meta = unit_meta(unit, made_by)
    except ValueError as e:
        store.log(f"disk cache: {unit.info.source}: unit not written ({e})")
        return False
    return store.store_packed(key_space(), NATIVE_TAGS[unit.info.tier], key, meta, blob)
