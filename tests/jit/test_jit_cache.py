"""The JIT disk cache in one process: file format, rejects, size control, API, entry kinds.

Every test points the cache at its own temporary directory (the session default is a
temporary directory too, set in tests/conftest.py).
"""

from __future__ import annotations

import marshal
import os
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
from jitkit import SUM_LOOP, asm, unit_record_fields

from conftest import requires_llvmlite
from fusevm import VM
from fusevm.jit import JitCompiler, cache, get_config, runtime, set_config, stats
from fusevm.jit.cache import pack
from fusevm.jit.cache import store as store_mod
from fusevm.jit.cache.store import HEADER_SIZE, decode, encode, key_digest
from fusevm.values import Status, Undef


def disk() -> dict[str, float]:
    return stats()["disk"]


def run_loop(n: int = 1000) -> Any:
    vm = VM(asm(SUM_LOOP.format(n=n)))
    vm.enable_jit()
    return vm.run()


def entries(d: Path, tag: str = "") -> list[Path]:
    return sorted(p for p in d.iterdir() if p.name.endswith(f"{tag}.fjit"))


def packs(d: Path) -> list[Path]:
    return sorted(d.glob(f"*{pack.PACK_SUFFIX}"))


def native_keys(d: Path, tag: str) -> set[bytes]:
    """The keys of the valid native records of a tag in the directory's packs."""
    return {r.key for p in packs(d) for r in pack.records(str(p)) if r.tag == tag}


def replace_file(path: Path, data: bytes) -> None:
    """Damage a file the way a writer would: a new file renamed over it (an in-place
    truncation of a pack another process has mapped is outside what the cache survives)."""
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# -- the file format ----------------------------------------------------------------------

def test_encode_decode_round_trip() -> None:
    key = key_digest("x", 1, (b"y", None, True))
    data = encode("blk", key, {"a": 1}, b"\x90" * 100, aligned=True)
    assert len(data) % 4096 == 100 and data[:8] == b"FUSEVMC\x01"
    found = decode(data, "blk", key)
    assert not isinstance(found, str)
    meta, offset, length = found
    assert meta == {"a": 1} and offset == 4096 and length == 100
    assert data[offset:] == b"\x90" * 100


@pytest.mark.parametrize("damage, reason", [
    (lambda d: d[:HEADER_SIZE - 1], "truncated header"),
    (lambda d: d[:-1], "truncated or oversized"),
    (lambda d: d + b"\0", "truncated or oversized"),
    (lambda d: b"XXXXXXXX" + d[8:], "bad magic"),
    (lambda d: d[:8] + b"\x09\x00" + d[10:], "format version 9"),
    (lambda d: d[:-1] + bytes([d[-1] ^ 1]), "checksum mismatch"),
    (lambda d: d[:HEADER_SIZE] + b"?" + d[HEADER_SIZE + 1:], "checksum mismatch"),
])
def test_damaged_files_are_rejected(damage: Any, reason: str) -> None:
    key = key_digest("k")
    data = encode("lin", key, {"a": [1, 2]}, b"code" * 10)
    assert decode(damage(data), "lin", key) == reason


def test_wrong_key_or_tag_is_rejected() -> None:
    data = encode("lin", key_digest("a"), {}, b"c")
    assert decode(data, "lin", key_digest("b")) == "key digest mismatch"
    assert decode(data, "blk", key_digest("a")) == "wrong tag"


def test_key_digest_is_canonical() -> None:
    assert key_digest("ab", "c") != key_digest("a", "bc")
    assert key_digest(1) != key_digest("1") != key_digest(b"1")
    assert key_digest((1, 2), 3) != key_digest(1, (2, 3))
    assert key_digest(True) != key_digest(1)
    assert key_digest(0.0) != key_digest(-0.0) != key_digest(0)
    nan = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0]
    assert key_digest(float("nan")) != key_digest(nan)
    assert key_digest(("a", (1, 2.5, None), b"x")) == key_digest(("a", (1, 2.5, None), b"x"))
    # an enum takes the general encoding, as its number
    from fusevm.jit.abi import SlotKind
    assert key_digest(SlotKind.FLOAT, "x") == key_digest(SlotKind.FLOAT, "x")
    assert key_digest(SlotKind.FLOAT) != key_digest(SlotKind.INT)
    with pytest.raises(TypeError):
        key_digest(object())


def test_trace_keys_cover_the_recording() -> None:
    from fusevm.ops import Op
    base = dict(anchor_ip=2, ops=[(Op.GetSlot, 0), (Op.LoadFloat, 1.5)], ips=[2, 3],
                slot_kinds=(0,), constants=(2.5,))
    key = cache.trace_key("d", False, **base)  # type: ignore[arg-type]
    assert key == cache.trace_key("d", False, **base)  # type: ignore[arg-type]
    for change in (dict(anchor_ip=3), dict(ips=[2, 4]), dict(slot_kinds=(1,)),
                   dict(constants=(-2.5,)), dict(side=True), dict(global_kinds=(0,)),
                   dict(ops=[(Op.GetSlot, 1), (Op.LoadFloat, 1.5)])):
        assert cache.trace_key("d", False, **{**base, **change}) != key  # type: ignore
    assert cache.trace_key("d", True, **base) != key  # type: ignore[arg-type]
    assert cache.trace_key("e", False, **base) != key  # type: ignore[arg-type]


# -- native units ------------------------------------------------------------------------

@requires_llvmlite
def test_units_are_stored_and_loaded(cache_dir: Path) -> None:
    assert run_loop() == 499500
    assert len(packs(cache_dir)) == 1 and len(native_keys(cache_dir, "blk")) == 1
    assert disk()["stores"] == 1
    assert os.stat(cache_dir).st_mode & 0o777 == 0o700
    assert not list(cache_dir.glob("*.tmp"))
    runtime.reset()  # forget the in-memory unit: the next run loads it from disk
    compiles = stats()["block"]["compiles"]
    assert run_loop() == 499500
    assert disk()["loads"] == 1 and stats()["block"]["compiles"] == compiles
    assert stats()["block"]["runs"] == 1  # counters restart with runtime.reset()


@requires_llvmlite
def test_linear_units_are_tagged_lin(cache_dir: Path) -> None:
    jit = JitCompiler()
    assert jit.try_run_linear(asm("LoadInt 6\nLoadInt 7\nMul")) == 42
    assert len(native_keys(cache_dir, "lin")) == 1
    runtime.reset()
    assert jit.try_run_linear(asm("LoadInt 6\nLoadInt 7\nMul")) == 42
    assert disk()["loads"] == 1


@requires_llvmlite
def test_corrupt_entry_is_a_counted_miss_then_replaced(cache_dir: Path) -> None:
    run_loop()
    (path,) = packs(cache_dir)
    (rec,) = pack.records(str(path))
    good = path.read_bytes()
    end = rec.offset + rec.body_at + rec.body_len
    replace_file(path, good[:end - 8] + b"\xcc" * 8 + good[end:])  # int3 over the code's tail
    cache.STORE.reset()  # as a fresh process: the pack is mapped anew
    runtime.reset()
    assert run_loop() == 499500
    assert disk()["rejects"] == 1 and disk()["loads"] == 0 and disk()["stores"] == 1
    # the good record was appended after the damaged one, which it supersedes
    assert [r.key for r in pack.records(str(path))] == [rec.key]
    cache.STORE.reset()
    runtime.reset()
    assert run_loop() == 499500 and disk()["loads"] == 1


def rewrite_unit_record(path: Path, rec: Any, **changes: Any) -> None:
    """Make the pack at `path` hold only unit record `rec`, its metadata fields changed
    (`jitkit.UNIT_FIELDS`; written by `encode_unit_meta`, as a writer would)."""
    from fusevm.jit.cache import native
    data = path.read_bytes()
    fields = {**unit_record_fields(data, rec.offset + pack.RECORD_HEADER), **changes}
    meta = native.encode_unit_meta(fields["entry"], rec.body_len, fields["pipeline"],
                                   fields["codegen"], fields["ops"], fields["blocks"],
                                   fields["copy_out"], fields["results"], fields["helpers"],
                                   fields["traps"], fields["made_by"])
    body = data[rec.offset + rec.body_at:rec.offset + rec.body_at + rec.body_len]
    record = pack.encode_record("blk", rec.key, meta, body, 0.0)
    replace_file(path, pack.pack_header(data[16:32], pack.PACK_HEADER + len(record), 1)
                 + record)


@requires_llvmlite
def test_metadata_that_does_not_fit_the_unit_is_rejected(cache_dir: Path) -> None:
    run_loop()
    (path,) = packs(cache_dir)
    (rec,) = pack.records(str(path))
    # (a slot the chunk does not have)
    rewrite_unit_record(path, rec, copy_out=((999, 0),), top=999)
    cache.STORE.reset()
    runtime.reset()
    assert run_loop() == 499500
    assert disk()["rejects"] == 1 and disk()["loads"] == 0


def test_a_pack_of_another_checksum_kind_is_a_reject(cache_dir: Path) -> None:
    """The pack header names its records' checksum (CRC-32); a pack naming another is a
    reject, never read with the wrong check."""
    space = b"c" * 16
    key = key_digest("unit", 0)
    assert cache.STORE.store_packed(space, "blk", key, {"i": 0}, b"\0" * 100)
    (path,) = packs(cache_dir)
    data = path.read_bytes()
    assert data[10:12] == pack.CHECKSUM_CRC32.to_bytes(2, "little")
    replace_file(path, data[:10] + (2).to_bytes(2, "little") + data[12:])
    cache.STORE.reset()
    assert cache.STORE.load_packed(space, "blk", key, lambda r: r.meta) is None
    assert disk()["rejects"] == 1 and disk()["loads"] == 0


def test_a_record_is_found_by_its_whole_key(cache_dir: Path) -> None:
    """A record stores its key whole and is found only by an equal key: keys sharing all
    but their last byte, or one a prefix of the other, are different records."""
    space = b"k" * 16
    keys = [b"m" + b"p" * 40 + b"a", b"m" + b"p" * 40 + b"b", b"m" + b"p" * 40]
    for i, k in enumerate(keys):
        assert cache.STORE.store_packed(space, "blk", k, {"i": i}, bytes([i]) * 64)
    (path,) = packs(cache_dir)
    assert [r.key for r in pack.records(str(path))] == keys
    cache.STORE.reset()
    for i, k in enumerate(keys):
        assert cache.STORE.load_packed(space, "blk", k, lambda r: r.meta) == {"i": i}
    assert cache.STORE.load_packed(space, "blk", keys[0][:-2], lambda r: r.meta) is None
    assert disk()["misses"] == 1 and disk()["rejects"] == 0


def test_pack_damage_is_a_reject_then_the_pack_is_replaced(cache_dir: Path) -> None:
    """A damaged pack header or record chain: counted, then the next write replaces the
    pack with its valid records and the new one."""
    space = b"s" * 16
    store = cache.STORE
    keys = [key_digest("unit", i) for i in range(3)]
    for i, k in enumerate(keys[:2]):
        assert store.store_packed(space, "blk", k, {"i": i}, bytes([i]) * 100)
    (path,) = packs(cache_dir)
    first, second = pack.records(str(path))
    data = path.read_bytes()
    # a broken chain: the second record's header says its body runs past the pack
    broken = bytearray(data)
    at = second.offset + pack.RECORD_HEADER - 12  # the body length (a write time follows)
    broken[at:at + 4] = (1 << 20).to_bytes(4, "little")
    replace_file(path, bytes(broken))
    store.reset()

    def meta(rec: pack.Record) -> Any:
        import marshal
        return marshal.loads(rec.checked_meta())
    assert store.load_packed(space, "blk", keys[0], meta) == {"i": 0}
    assert store.load_packed(space, "blk", keys[1], meta) is None
    assert disk()["rejects"] == 1 and disk()["misses"] == 1
    assert store.store_packed(space, "blk", keys[2], {"i": 2}, b"\2" * 100)
    assert [r.key for r in pack.records(str(path))] == [keys[0], keys[2]]
    store.reset()
    assert store.load_packed(space, "blk", keys[2], meta) == {"i": 2}
    # a pack of another key space under this one's name is never used
    replace_file(path, path.read_bytes()[:16] + b"o" * 16 + path.read_bytes()[32:])
    store.reset()
    assert store.load_packed(space, "blk", keys[0], meta) is None
    assert disk()["rejects"] == 1 and disk()["loads"] == 0


def test_a_pack_replaced_while_mapped_keeps_serving_then_is_indexed_anew(
        cache_dir: Path) -> None:
    import marshal
    space = b"m" * 16
    store = cache.STORE
    keys = [key_digest("unit", i) for i in range(3)]
    assert store.store_packed(space, "blk", keys[0], {"i": 0}, b"\0" * 64)
    assert store.store_packed(space, "blk", keys[1], {"i": 1}, b"\1" * 64)

    def meta(rec: pack.Record) -> Any:
        return marshal.loads(rec.checked_meta())
    assert store.load_packed(space, "blk", keys[0], meta) == {"i": 0}  # mapped, indexed
    (path,) = packs(cache_dir)
    other = store_mod.Store()  # another process
    other.dir_override = cache_dir
    assert other.prune(target=1) > 0  # evicts both records: the pack file goes
    assert not path.exists()
    assert other.store_packed(space, "blk", keys[2], {"i": 2}, b"\2" * 64)
    # this process still has the old file mapped: its records stay valid code for their keys
    assert store.load_packed(space, "blk", keys[1], meta) == {"i": 1}
    assert store.load_packed(space, "blk", keys[2], meta) == {"i": 2}  # the new file
    assert store.load_packed(space, "blk", keys[0], meta) is None  # ... and its index
    assert disk()["rejects"] == 0


@pytest.mark.parametrize("call", ["write", "pwrite"])
def test_a_full_disk_while_packing_degrades_to_no_cache(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch, call: str) -> None:
    """Creating a pack (write) or appending to one (pwrite) fails: counted, no temporary
    file, the committed records intact, and the process goes on without the cache."""
    space = b"f" * 16
    store = cache.STORE
    if call == "pwrite":
        assert store.store_packed(space, "blk", key_digest(0), {}, b"\0" * 64)

    def full(*args: Any) -> int:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(pack.os, call, full)
    assert not store.store_packed(space, "blk", key_digest(1), {}, b"\1" * 64)
    monkeypatch.undo()
    assert disk()["write_errors"] == 1 and not list(cache_dir.glob("*.tmp"))
    assert [r.key for p in packs(cache_dir) for r in pack.records(str(p))] == (
        [key_digest(0)] if call == "pwrite" else [])
    assert not store.store_packed(space, "blk", key_digest(2), {}, b"\2" * 64)  # off now


def test_a_half_written_record_is_never_seen_and_is_overwritten(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    space = b"h" * 16
    store = cache.STORE
    assert store.store_packed(space, "blk", key_digest(0), {}, b"\0" * 64)
    real = pack.os.pwrite

    def dies_midway(fd: int, data: Any, at: int) -> int:
        real(fd, bytes(data[:40]), at)  # part of the record, then the writer dies
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(pack.os, "pwrite", dies_midway)
    assert not store.store_packed(space, "blk", key_digest(1), {}, b"\1" * 64)
    monkeypatch.undo()
    (path,) = packs(cache_dir)
    assert [r.key for r in pack.records(str(path))] == [key_digest(0)]
    store.reset()  # another process
    assert store.store_packed(space, "blk", key_digest(2), {}, b"\2" * 64)
    assert [r.key for r in pack.records(str(path))] == [key_digest(0), key_digest(2)]
    assert store.load_packed(space, "blk", key_digest(2), lambda rec: bytes(rec.body())) \
        == b"\2" * 64
    assert disk()["rejects"] == 0


def test_a_record_this_process_stores_supersedes_the_one_it_indexed(cache_dir: Path) -> None:
    """As when a unit re-optimises on a background thread after a load indexed the pack."""
    space = b"n" * 16
    store = cache.STORE
    key = key_digest("unit")
    assert store.store_packed(space, "blk", key, {}, b"old")
    assert store.load_packed(space, "blk", key, lambda rec: bytes(rec.body())) == b"old"
    assert store.store_packed(space, "blk", key, {}, b"new")
    assert store.load_packed(space, "blk", key, lambda rec: bytes(rec.body())) == b"new"


def test_pack_is_compacted_past_its_record_limit(cache_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack, "MAX_RECORDS", 8)
    space = b"c" * 16
    keys = [key_digest("unit", i) for i in range(9)]
    for k in keys:
        assert cache.STORE.store_packed(space, "lin", k, {}, b"\x90" * 40)
    (path,) = packs(cache_dir)
    assert [r.key for r in pack.records(str(path))] == keys[2:]  # newest 6, then the 9th
    assert disk()["evictions"] == 2


@requires_llvmlite
def test_strict_and_kinds_are_part_of_the_key(cache_dir: Path) -> None:
    chunk = asm("GetSlot 0\nLoadInt 1\nAdd")
    jit = JitCompiler()
    assert jit.try_run_linear(chunk, [41]) == 42
    assert jit.try_run_linear(chunk, [1.5]) == 2.5
    assert jit.try_run_linear(chunk, [41], strict_int=True) == 42
    assert len(native_keys(cache_dir, "lin")) == 3


@requires_llvmlite
def test_reoptimised_code_replaces_the_entry(cache_dir: Path) -> None:
    old = set_config(get_config().replace(reopt_after=1, reopt_background=False))
    try:
        run_loop()
        run_loop()  # the second run re-optimises, synchronously
        assert stats()["block"]["reopts"] == 1
        runtime.reset()
        run_loop()
        unit = next(e.unit for _, e in runtime.entries() if e.unit is not None)
        assert (unit.info.pipeline, unit.info.codegen) == ("O2", 2)
        assert unit.reopt_at == 0  # nothing left to re-optimise
    finally:
        set_config(old)


@requires_llvmlite
def test_a_first_level_unit_from_disk_still_reoptimises(cache_dir: Path) -> None:
    run_loop()
    runtime.reset()
    old = set_config(get_config().replace(reopt_after=1, reopt_background=False))
    try:
        run_loop()
        run_loop()
        assert disk()["loads"] == 1 and stats()["block"]["reopts"] == 1
    finally:
        set_config(old)


@requires_llvmlite
def test_generic_native_entries_for_other_tiers(cache_dir: Path) -> None:
    """The call the trace tier makes: any pre-linked code under a key of its own."""
    import ctypes
    run_loop()
    unit = next(e.unit for _, e in runtime.entries() if e.unit is not None)
    key = cache.native_key("trc", "digest", False, ("recorded ops", (1, 2, 3)))
    assert cache.store_native("trc", key, unit.native, {"anchor": 4})
    assert native_keys(cache_dir, "trc") == {key}
    found = cache.load_native("trc", key)
    assert found is not None
    native, meta = found
    assert meta["anchor"] == 4 and native.blob == unit.native.blob
    # the mapped code is the unit's: run it through the unit's own context
    fn = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)(native.address)
    assert fn(unit.ctx_addr) == 0
    assert cache.load_native("trc", cache.native_key("trc", "digest", True)) is None


# -- configuration, size control, failures ---------------------------------------------------

@requires_llvmlite
def test_off_writes_nothing(cache_dir: Path) -> None:
    jit = JitCompiler()
    jit.disable_jit_cache()
    assert jit.jit_cache_dir() is None and jit.jit_cache_size_bytes() is None
    assert run_loop() == 499500
    assert not cache_dir.exists() and disk()["stores"] == 0
    jit.disable_jit_cache(False)
    assert jit.jit_cache_dir() == cache_dir


@requires_llvmlite
def test_size_cap_evicts_least_recently_used_to_80_percent(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fusevm.jit.cache import native
    jit = JitCompiler()
    run_loop(1)
    first = jit.jit_cache_size_bytes()  # a unit and the list of the sources that made it
    assert first is not None and first > 0
    run_loop(2)
    one = (jit.jit_cache_size_bytes() or 0) - first  # one more unit
    assert one > 0
    cap = first + one * 4
    jit.set_jit_cache_max_bytes(cap)
    for n in range(3, 13):
        run_loop(n)
    size = jit.jit_cache_size_bytes()
    assert size is not None and size <= cap
    assert disk()["evictions"] > 0
    # the newest entries stay, with the list of their sources (touched by every store)
    assert entries(cache_dir, native.SOURCES_TAG)
    cache.STORE.reset()
    runtime.reset()
    monkeypatch.setattr(native, "_good_sources", set())  # as a fresh process
    loads = disk()["loads"]
    run_loop(12)
    assert disk()["loads"] == loads + 1 and disk()["rejects"] == 0


@requires_llvmlite
def test_prune_and_clear(cache_dir: Path) -> None:
    jit = JitCompiler()
    for n in range(1, 5):
        run_loop(n)
    assert len(native_keys(cache_dir, "blk")) == 4
    total = jit.jit_cache_size_bytes()
    assert total is not None
    jit.set_jit_cache_max_bytes(total // 2)
    freed = jit.prune_jit_cache()
    assert 0 < freed and (jit.jit_cache_size_bytes() or 0) <= total // 2 * 0.8
    left = len(native_keys(cache_dir, "blk"))
    assert 0 < left < 4
    (cache_dir / "stray.fjit.1.2.3.tmp").write_bytes(b"x")  # a writer that died mid-write
    (cache_dir / "total.1.2.4.tmp").write_bytes(b"12")
    assert len(entries(cache_dir)) == 1  # the pack
    assert jit.clear_jit_cache() == 1
    assert list(cache_dir.iterdir()) == [] and jit.jit_cache_size_bytes() == 0


def test_clear_leaves_files_that_are_not_the_caches(cache_dir: Path) -> None:
    """A cache directory may hold other files: `clear` deletes the store's own only."""
    cache_dir.mkdir(mode=0o700)
    mine = {"notes.tmp": b"x", "data.txt": b"y", "a.b.tmp": b"z"}
    for name, data in mine.items():
        (cache_dir / name).write_bytes(data)
    (cache_dir / "total").write_bytes(b"not a total")
    assert JitCompiler().clear_jit_cache() == 0
    assert sorted(p.name for p in cache_dir.iterdir()) == sorted([*mine, "total"])


@requires_llvmlite
def test_unusable_directory_degrades_to_no_cache(tmp_path: Path, cache_dir: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cache.set_dir(blocker / "cache")
    cache.STORE.reset()
    assert run_loop() == 499500  # runs, compiles, just does not cache
    assert disk()["stores"] == 0


@requires_llvmlite
def test_directory_writable_by_others_is_refused(tmp_path: Path, cache_dir: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    cache.set_dir(shared)
    cache.STORE.reset()
    assert run_loop() == 499500
    assert list(shared.iterdir()) == [] and disk()["stores"] == 0


def test_failed_write_leaves_no_temporary_file(tmp_path: Path, cache_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: Any) -> int:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(store_mod.os, "write", full)
    assert cache.STORE.store("code", key_digest("k"), {}, b"x") is None
    assert disk()["write_errors"] == 1
    monkeypatch.undo()
    assert [p for p in cache_dir.iterdir()] == []
    # the process now runs without the cache
    assert cache.STORE.store("code", key_digest("k"), {}, b"x") is None


# -- transparency -------------------------------------------------------------------------

PROGRAMS = [
    SUM_LOOP.format(n=300),
    "LoadInt 6\nLoadInt 7\nMul",
    "GetSlot 0\nLoadInt 2\nDiv",
    """
        LoadInt 0
        SetSlot 0
    top:
        GetSlot 0
        LoadInt 10
        Mod
        LoadInt 0
        NumEq
        JumpIfFalse skip
        LoadFloat 0.5
        SetSlot 1
    skip:
        PreIncSlotVoid 0
        GetSlot 0
        LoadInt 50
        NumLt
        JumpIfTrue top
        GetSlot 1
    """,
]


def _observe() -> list[Any]:
    out: list[Any] = []
    for text in PROGRAMS:
        for slots in ([], [7], [7.5], [0]):
            vm = VM(asm(text))
            vm.slots[:len(slots)] = slots
            vm.enable_jit()
            try:
                out.append(("ok", vm.run(), list(vm.slots)))
            except Exception as e:  # the error text is part of what must agree
                out.append(("error", str(e)))
    # Which tier ran how often, deopted, warmed up or refused (in-memory table hits
    # depend on what earlier tests left alive, cached or not).
    counters = {t: {k: v for k, v in s.items() if k in ("runs", "deopts", "warmups",
                                                          "refusals")}
                for t, s in stats().items() if t != "disk"}
    return out + [counters]


@requires_llvmlite
def test_results_and_tier_decisions_do_not_depend_on_the_cache(cache_dir: Path) -> None:
    old = set_config(get_config().replace(block_threshold=1))
    try:
        cache.set_enabled(False)
        # The first pass leaves process-wide state (region plans keyed by chunk content
        # outlive runtime.reset()), so the baseline is the second uncached pass.
        _observe()
        runtime.reset()
        without = _observe()
        cache.set_enabled(None)
        for _ in range(2):  # cold, then warm from disk
            runtime.reset()
            assert _observe() == without
        assert disk()["loads"] > 0
    finally:
        set_config(old)


# -- code objects and front-end chunks -----------------------------------------------------

def test_code_objects_are_cached_like_pyc(cache_dir: Path) -> None:
    built: list[str] = []

    def build(src: str) -> Any:
        built.append(src)
        return compile(src, "<baseline>", "exec")

    src = "result = 6 * 7"
    first = cache.cached_code("baseline:demo", src, lambda: build(src))
    second = cache.cached_code("baseline:demo", src, lambda: build(src))
    assert built == [src] and first == second
    ns: dict[str, Any] = {}
    exec(second, ns)
    assert ns["result"] == 42
    other = "result = 1"
    cache.cached_code("baseline:demo", other, lambda: build(other))
    cache.cached_code("baseline:demo", src, lambda: build(src), extra=("strict",))
    assert built == [src, other, src]
    assert len(entries(cache_dir, "code")) == 3


def test_corrupt_code_entry_is_rebuilt(cache_dir: Path) -> None:
    cache.cached_code("n", "x = 1", lambda: compile("x = 1", "<b>", "exec"))
    (path,) = entries(cache_dir, "code")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    code = cache.cached_code("n", "x = 1", lambda: compile("x = 1", "<b>", "exec"))
    assert disk()["rejects"] == 1 and disk()["stores"] == 2
    ns: dict[str, Any] = {}
    exec(code, ns)
    assert ns["x"] == 1


def test_awk_program_is_compiled_once(cache_dir: Path) -> None:
    import io

    from fusevm.lang.awk.main import main

    def awk(*argv: str) -> str:
        out = io.BytesIO()
        assert main(list(argv), stdin=io.BytesIO(b"a b\nc d\n"), stdout=out) == 0
        return out.getvalue().decode()

    prog = '{ n += NF } END { print n, x }'
    assert awk(prog) == "4 \n"
    # (and the interpreter's functions of the op bodies this process bound first: `code`)
    assert len(entries(cache_dir, "chunk")) == 1
    assert disk()["stores"] == 1 + len(entries(cache_dir, "code"))
    assert awk(prog) == "4 \n" and disk()["loads"] == 1
    assert awk("-v", "x=9", prog) == "4 9\n"  # assigned variables are part of the key
    assert len(entries(cache_dir, "chunk")) == 2
    assert awk("-v", "x=3", prog) == "4 3\n" and disk()["loads"] == 2


@pytest.mark.parametrize("constants", [("a", 1, 2.5, True, ["x", {"k": [1]}]),
                                       ("a", Undef, Status(3))])
def test_cached_chunk_is_the_chunk_built(cache_dir: Path, constants: tuple[Any, ...]) -> None:
    """Both body formats (marshalled tuples; the portable one when a constant needs it)
    give back the same chunk, digest included, counted as verified."""
    from fusevm.chunk import Chunk
    from fusevm.jit.cache.frontend import _PLAIN, _PORTABLE, chunk_key

    sub = asm("GetSlot 0\nLoadInt 2\nMul")
    base = asm("LoadInt 1\nLoadFloat 0.5\nPop\nLoadConst 0")
    built = Chunk(base.ops, constants, ("n",), base.lines, 1, [sub], (), (), "<t>")
    first = cache.cached_chunk("test", ("p",), lambda: built)
    (path,) = entries(cache_dir, "chunk")
    found = decode(path.read_bytes(), "chunk", chunk_key("test", ("p",)))
    assert not isinstance(found, str)
    _, offset, _ = found
    fmt = path.read_bytes()[offset:offset + 1]
    assert fmt == (_PLAIN if constants[1] is not Undef else _PORTABLE)
    loaded = cache.cached_chunk("test", ("p",), lambda: pytest.fail("built again"))
    assert first is built and loaded is not built and disk()["loads"] == 1
    assert loaded.to_bytes() == built.to_bytes() and loaded.digest() == built.digest()
    assert [type(v) for v in loaded.constants] == [type(v) for v in constants]
    for c in (loaded, loaded.sub_chunks[0]):  # not verified again
        assert c.is_verified()
    # In the marshalled format, the root's loop facts (worked out before it is stored: its
    # run needs them) come with it, as the chunk gives them; a sub-chunk's are worked out
    # when it runs.
    from fusevm import loops
    assert (loops._FACTS in loaded.derived) == (fmt == _PLAIN)
    assert loops._FACTS not in loaded.sub_chunks[0].derived
    if fmt == _PLAIN:
        assert loaded.derived.pop(loops._FACTS) == loops.loop_facts(loaded)
    assert VM(loaded).run() == VM(built).run()


@pytest.mark.parametrize("body", [b"M" + marshal.dumps((1, 2)),
                                  b"M" + marshal.dumps((1, 2))[:-1],
                                  b"M" + marshal.dumps(("s", 0, (), (), ((),), (0,), (), (), (),
                                                        "d", None)),
                                  b"M" + marshal.dumps(("s", 0, (), (), (), (), (), (), (), "d",
                                                        ((1,), {}, (), (), frozenset(), {},
                                                         ()))),
                                  b"X", b""])
def test_malformed_chunk_body_is_rebuilt(cache_dir: Path, body: bytes) -> None:
    """A body that passes the file's checks but is no chunk is a reject, then rebuilt."""
    from fusevm.jit.cache.frontend import chunk_key
    from fusevm.jit.cache.sources import loaded
    built = asm("LoadInt 7")
    cache.STORE.store("chunk", chunk_key("test", ("q",)), {"sources": loaded()}, body)
    again = cache.cached_chunk("test", ("q",), lambda: built)
    assert again is built and disk()["rejects"] == 1


def test_a_chunk_built_by_other_sources_is_rebuilt(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry lists the source files of the fusevm modules loaded when it was built; a
    hit compares those of modules the module pack served this process with what the pack
    checked (no system call), stats the others once, and a changed one makes the entry a
    reject."""
    from fusevm.jit.cache import frontend, sources
    built = asm("LoadInt 7")
    first = cache.cached_chunk("test", ("s",), lambda: built)
    key = frontend.chunk_key("test", ("s",))
    found = decode((cache_dir / store_mod.file_name("chunk", key)).read_bytes(), "chunk", key)
    assert not isinstance(found, str)
    listed = found[0]["sources"]
    chunk_py = os.path.join("fusevm", "chunk.py")
    # (the op table among them: a chunk's key needs no schema hash)
    assert {chunk_py, os.path.join("fusevm", "ops", "table.py")} <= {row[0] for row in listed}
    stats_of: list[str] = []
    real_stat = os.stat

    def counted(path: Any, *args: Any, **kwargs: Any) -> Any:
        stats_of.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)
    monkeypatch.setattr(sources, "_checked", set())  # as a process that has checked nothing
    monkeypatch.setattr(os, "stat", counted)
    assert cache.cached_chunk("test", ("s",), lambda: pytest.fail("built again")) \
        is not first and disk()["loads"] == 1
    monkeypatch.undo()
    not_packed = {m.__file__ for name, m in list(sys.modules.items())
                  if (name == "fusevm" or name.startswith("fusevm."))
                  and getattr(m, "__file__", None)
                  and not hasattr(m.__spec__.loader, "entry")}
    sources_stated = [p for p in stats_of if p.endswith(".py")]
    assert set(sources_stated) <= not_packed
    assert len(sources_stated) == len(set(sources_stated))  # each once
    # The same entry, as if fusevm/chunk.py had been edited since it was built.
    edited = tuple((p, size + 1 if p == chunk_py else size, mtime) for p, size, mtime in listed)
    cache.STORE.store("chunk", key, {"sources": edited}, frontend._pack(built))
    again = asm("LoadInt 7")
    assert cache.cached_chunk("test", ("s",), lambda: again) is again
    assert disk()["rejects"] == 1


@requires_llvmlite
def test_refused_file_mapping_falls_back_to_a_sealed_copy(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A noexec mount refuses read+execute file mappings: the code is copied instead."""
    import ctypes

    from fusevm.jit import loader
    real = loader._mmap

    def no_exec(addr: Any, size: int, prot: int, flags: int, fd: int, off: int) -> Any:
        if fd >= 0 and prot & loader._PROT_EXEC:
            return ctypes.c_void_p(-1).value
        return real(addr, size, prot, flags, fd, off)
    run_loop()
    runtime.reset()
    cache.STORE.reset()
    monkeypatch.setattr(loader, "_mmap", no_exec)
    assert run_loop() == 499500 and disk()["loads"] == 1
    unit = next(e.unit for _, e in runtime.entries() if e.unit is not None)
    assert isinstance(unit.native.keepalive, loader.CodeRegion)


def test_metadata_marshal_cannot_write_is_not_cached(cache_dir: Path) -> None:
    from enum import Enum

    class Odd(Enum):
        A = object()
    assert cache.STORE.store("code", key_digest("k"), {"x": Odd.A}, b"x") is None
    assert disk()["stores"] == 0 and list(cache_dir.iterdir()) == []


@requires_llvmlite
def test_units_calling_helpers_are_cached(cache_dir: Path) -> None:
    chunk = asm("GetSlot 0\nSinFloat\nGetSlot 0\nGetSlot 1\nGcdInt\nAdd")
    jit = JitCompiler()
    want = jit.try_run_linear(chunk, [0.5, 12])
    assert len(native_keys(cache_dir, "lin")) == 1
    runtime.reset()
    assert jit.try_run_linear(asm("GetSlot 0\nSinFloat\nGetSlot 0\nGetSlot 1\nGcdInt\nAdd"),
                              [0.5, 12]) == want
    assert disk()["loads"] == 1


def test_sources_are_unchanged_until_a_listed_file_changes(tmp_path: Path) -> None:
    """`sources.unchanged` takes the rows `sources.loaded` made, and refuses a row whose
    file has another size or mtime, a file that is gone, and rows that are no list."""
    from fusevm.jit.cache import sources
    rows, digest = sources.current()
    assert rows == sources.loaded() and len(digest) == 32
    assert os.path.join("fusevm", "chunk.py") in {path for path, _, _ in rows}
    assert sources.unchanged(rows)
    path, size, mtime = rows[0]
    assert not sources.unchanged(((path, size + 1, mtime),))
    assert not sources.unchanged(((path, size, mtime + 1),))
    assert not sources.unchanged(((os.path.join("fusevm", "no_such_module.py"), 1, 1),))
    for bad in (None, (), [list(rows[0])], ((path, size),), "rows"):
        assert not sources.unchanged(bad)


@requires_llvmlite
def test_a_unit_made_by_other_sources_is_a_reject(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit record names the list of sources that made it (an entry of its own, written
    once per list and not counted as a store); a process finding one of them changed
    takes the record as a reject, compiles the unit again and stores it with its own."""
    from fusevm.jit.cache import native
    run_loop()
    assert disk()["stores"] == 1
    (listing,) = entries(cache_dir, native.SOURCES_TAG)
    (path,) = packs(cache_dir)
    (rec,) = pack.records(str(path))
    made_by = unit_record_fields(path.read_bytes(),
                                 rec.offset + pack.RECORD_HEADER)["made_by"]
    assert listing.name == store_mod.file_name(native.SOURCES_TAG, made_by)
    cache.STORE.reset()
    runtime.reset()
    monkeypatch.setattr(native, "_good_sources", set())  # as a fresh process
    assert run_loop() == 499500 and disk()["loads"] == 1 and disk()["rejects"] == 0
    # The record made by a list as it was before fusevm/jit/cfg.py was edited.
    found = decode(listing.read_bytes(), native.SOURCES_TAG, made_by)
    assert not isinstance(found, str)
    rows = marshal.loads(listing.read_bytes()[found[1]:found[1] + found[2]])
    cfg_py = os.path.join("fusevm", "jit", "cfg.py")
    assert cfg_py in {p for p, _, _ in rows}
    before = tuple((p, s - 1 if p == cfg_py else s, m) for p, s, m in rows)
    old_digest = key_digest("a list of sources")
    cache.STORE.store(native.SOURCES_TAG, old_digest, {}, marshal.dumps(before), count=False)
    rewrite_unit_record(path, rec, made_by=old_digest)
    cache.STORE.reset()
    runtime.reset()
    monkeypatch.setattr(native, "_good_sources", set())
    assert run_loop() == 499500
    assert disk()["rejects"] == 1 and disk()["loads"] == 0 and disk()["stores"] == 1
    cache.STORE.reset()
    runtime.reset()
    monkeypatch.setattr(native, "_good_sources", set())
    assert run_loop() == 499500 and disk()["loads"] == 1  # the unit stored again, with its own


def test_threads_with_their_own_cache_directories_never_see_each_other(
        tmp_path: Path) -> None:
    """The configuration is per thread, so two threads may use two cache directories at
    once: each stores and loads the same keys in its own, re-stores (a newer record of a
    key, as re-optimisation writes) and always loads its newest value."""
    import threading
    space, key = b"t" * 16, key_digest("unit", "shared")
    errors: list[str] = []
    store = cache.STORE
    store.reset()

    def work(name: str) -> None:
        set_config(get_config().replace(cache_enabled=True, cache_dir=tmp_path / name))
        for i in range(60):
            value = f"{name}{i}".encode()
            if not (store.store_packed(space, "blk", key, {"v": name}, value)
                    and store.store("code", key, {"v": name}, value)):
                errors.append(f"{name}: store {i} failed")
                return
            packed = store.load_packed(space, "blk", key, lambda r: bytes(r.body()))
            loose = store.load("code", key, lambda e, _fd: bytes(e.body))
            if packed != value or loose != value:
                errors.append(f"{name} {i}: loaded {packed!r} / {loose!r}")
                return

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="no /proc/cpuinfo")
def test_the_cpu_identity_is_the_first_processors_block() -> None:
    """Read only up to the end of the first processor's block, the identity is the one
    the whole file's first block gives."""
    from fusevm.jit.cache import native
    with open("/proc/cpuinfo", "rb") as f:
        first = f.read(1 << 16).decode("latin-1").split("\n\n", 1)[0]
    expected = []
    for line in first.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() in native._CPU_KEYS:
            expected.append(f"{name.strip()}={value.strip()}")
    identity = native.cpu_identity()
    assert identity[2:] == tuple(expected) and identity[0] == sys.platform


def test_a_generic_native_entry_names_its_sources_too(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any tier's `store_native` record names the list of the sources that made it (not
    shown to the tier's `check` or in the metadata it gets back); a record naming a list
    whose files changed is a reject, never handed to the tier."""
    from fusevm.jit.cache import native
    from fusevm.jit.loader import Native
    code = Native(0, None, b"\xc3" * 64, 0, "none", 0)  # (never run: only stored, mapped)
    key = key_digest("a trace", 1)
    assert cache.store_native("trc", key, code, {"fallthrough": 5})
    seen: list[dict[str, object]] = []
    found = cache.load_native("trc", key, check=seen.append)
    assert found is not None and found[1]["fallthrough"] == 5
    assert "sources" not in found[1] and seen and "sources" not in seen[0]
    assert entries(cache_dir, native.SOURCES_TAG)
    # The same record, as if written by sources one of which has changed since.
    rows = native.sources.loaded()
    edited = ((rows[0][0], rows[0][1] + 1, rows[0][2]), *rows[1:])
    old_digest = key_digest("sources before an edit")
    cache.STORE.store(native.SOURCES_TAG, old_digest, {}, marshal.dumps(edited), count=False)
    monkeypatch.setattr(native, "sources_digest", lambda store: old_digest)
    assert cache.store_native("trc", key, code, {"fallthrough": 6})
    monkeypatch.undo()
    cache.STORE.reset()
    monkeypatch.setattr(native, "_good_sources", set())  # as a fresh process
    rejects = disk()["rejects"]
    assert cache.load_native("trc", key) is None
    assert disk()["rejects"] == rejects + 1


def test_the_directory_total_is_kept_in_a_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A write reads the directory's total from TOTAL_FILE and adds its entry: the files are
    stat'ed (tens of thousands near the cap) only without a readable total, for a key
    whose digest starts with a zero byte (about one write in 256: drift is put right),
    and by a prune, which writes the exact total."""
    scans: list[str] = []
    real = store_mod.Store._files

    def counted(self: store_mod.Store, d: str) -> list[tuple[float, int, str]]:
        scans.append(d)
        return real(self, d)

    monkeypatch.setattr(store_mod.Store, "_files", counted)
    s = store_mod.Store()
    s.dir_override = str(tmp_path / "c")
    total_file = tmp_path / "c" / store_mod.TOTAL_FILE

    def key(n: int, first: int = 1) -> bytes:
        return bytes([first, n]) + bytes(30)

    assert s.store("code", key(1), {}, b"x" * 100) is not None
    assert len(scans) == 1  # no total yet
    one = int(total_file.read_text())
    s.store("code", key(2), {}, b"y" * 100)
    s.store("code", key(3), {}, b"z" * 100)
    assert len(scans) == 1 and int(total_file.read_text()) == 3 * one
    total_file.write_text("not a number")
    s.store("code", key(4), {}, b"w" * 100)
    assert len(scans) == 2 and int(total_file.read_text()) == 4 * one
    total_file.write_text(str(10 * one))  # (drifted: say, written over by a racing writer)
    s.store("code", key(5, first=0), {}, b"v" * 100)
    assert len(scans) == 3 and int(total_file.read_text()) == 5 * one
    s.max_bytes_override = 5 * one + one // 2
    s.has_max_override = True
    s.store("code", key(6), {}, b"u" * 100)  # over the cap: pruned to 80 %
    assert int(total_file.read_text()) == s.size_bytes() <= (5 * one + one // 2) * 0.8
    assert s.clear() > 0 and not total_file.exists() and list((tmp_path / "c").iterdir()) == []


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda j: j.set_jit_cache_dir(5), TypeError, "expected str, bytes or os.PathLike"),
    (lambda j: j.set_jit_cache_dir(b"/tmp/x"), TypeError, "must be a str path"),
    (lambda j: j.set_jit_cache_dir(""), ValueError, "non-empty path"),
    (lambda j: j.set_jit_cache_dir("/tmp/a\0b"), ValueError, "without NUL"),
    (lambda j: j.set_jit_cache_max_bytes("5"), ValueError, "an int of at least 0"),
    (lambda j: j.set_jit_cache_max_bytes(-1), ValueError, "an int of at least 0"),
    (lambda j: j.set_jit_cache_max_bytes(True), ValueError, "an int of at least 0"),
    (lambda j: j.disable_jit_cache("yes"), TypeError, "must be a bool"),
], ids=["dir-int", "dir-bytes", "dir-empty", "dir-nul", "cap-str", "cap-negative",
        "cap-bool", "disable-str"])
def test_cache_settings_of_the_wrong_type_are_refused_and_change_nothing(cache_dir, call,
                                                                        error, match):
    jit = JitCompiler()
    before = (jit.jit_cache_dir(), cache.STORE.max_bytes_override,
              cache.STORE.disabled_override)
    with pytest.raises(error, match=match):
        call(jit)
    assert (jit.jit_cache_dir(), cache.STORE.max_bytes_override,
            cache.STORE.disabled_override) == before
