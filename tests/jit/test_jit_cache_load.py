"""The disk cache's load path: what a load does once per record, once per process, and
never (index-time damage, first-use checks, the description kept with the record, Units
whose context is built on their first call)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from jitkit import SUM_LOOP, UNIT_FIELDS, asm, unit_record_fields

from conftest import requires_llvmlite
from fusevm import VM
from fusevm.jit import block, cache, get_config, runtime, stats
from fusevm.jit import unit as unit_mod
from fusevm.jit.cache import native, pack
from fusevm.jit.cache.store import key_digest
from fusevm.jit.unit import Analysis, Unit


def disk() -> dict[str, float]:
    return stats()["disk"]


def run_loop(n: int = 1000) -> Any:
    vm = VM(asm(SUM_LOOP.format(n=n)))
    vm.enable_jit()
    return vm.run()


def packs(d: Path) -> list[Path]:
    return sorted(d.glob(f"*{pack.PACK_SUFFIX}"))


def replace_file(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def stored_unit(n: int = 1000) -> tuple[Analysis, bytes]:
    """A block unit of the loop compiled and written; the process then forgets the pack
    (as a fresh process would find it)."""
    chunk = asm(SUM_LOOP.format(n=n))
    an = Analysis(chunk, chunk.digest())
    cfg = get_config()
    key = cache.unit_key("block", an, (), False, cfg)
    assert key is not None
    assert cache.store_unit(key, block.compile(an, (), False, cfg))
    cache.STORE.reset()
    return an, key


def prepared(u: Unit) -> bool:
    try:
        object.__getattribute__(u, "code")
    except AttributeError:
        return False
    return True


# -- Units: built by attribute stores, prepared on their first call ------------------------

@requires_llvmlite
def test_a_load_makes_no_function_pointer_and_no_context(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    an, key = stored_unit()
    made: list[int] = []
    real = unit_mod._UNIT_FN
    monkeypatch.setattr(unit_mod, "_UNIT_FN", lambda address: made.append(address) or
                        real(address))
    u = cache.load_unit("block", key, an, (), False)
    assert u is not None and not prepared(u) and made == []
    slots: list[Any] = [None] * max(an.nslots, 2)
    assert u.run(slots) == [499500] and prepared(u) and len(made) == 1
    assert u.run(slots) == [499500] and len(made) == 1  # prepared once
    assert u.native.address == made[0]


@requires_llvmlite
def test_a_compiled_unit_is_prepared_on_its_first_call_too(cache_dir: Path) -> None:
    chunk = asm(SUM_LOOP.format(n=100))
    an = Analysis(chunk, chunk.digest())
    u = block.compile(an, (), False, get_config())
    assert not prepared(u)
    assert u.ctx_addr and prepared(u)  # reading its context prepares it
    assert u.run([None] * max(an.nslots, 2)) == [4950]
    with pytest.raises(AttributeError):
        u.no_such_attribute  # noqa: B018 - only the context's names are made on demand


@requires_llvmlite
def test_threads_calling_a_new_unit_at_once_prepare_it_once(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    an, key = stored_unit()
    u = cache.load_unit("block", key, an, (), False)
    assert u is not None
    calls: list[int] = []
    real = Unit._prepare

    def counted(self: Unit) -> None:
        calls.append(1)
        real(self)
    monkeypatch.setattr(Unit, "_prepare", counted)
    barrier = threading.Barrier(4)
    got: list[Any] = []

    def first_call() -> None:
        barrier.wait()
        got.append(u.run([None] * max(an.nslots, 2)))
    threads = [threading.Thread(target=first_call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    # a thread finding the unit busy is told to interpret (None); the others ran it
    assert [r for r in got if r is not None] and all(r in (None, [499500]) for r in got)


@requires_llvmlite
def test_a_unit_reoptimised_before_its_first_call_runs_the_new_code(cache_dir: Path) -> None:
    an, key = stored_unit()
    u = cache.load_unit("block", key, an, (), False)
    assert u is not None
    other = block.compile(an, (), False, get_config()).native
    u.install(other)
    assert u.native is other and not prepared(u)
    assert u.run([None] * max(an.nslots, 2)) == [499500]
    assert u.code[1] is other


# -- what a load checks, and when ---------------------------------------------------------

def test_damage_is_found_when_indexing_or_on_a_records_first_use(cache_dir: Path) -> None:
    """A broken record chain is found when the pack is indexed (the first load of the
    process: one reject, the records before the break still served); a bad checksum only
    when that record is first used (a record nobody loads costs nothing)."""
    space = b"i" * 16
    store = cache.STORE
    keys = [key_digest("unit", i) for i in range(4)]
    for i, k in enumerate(keys):
        assert store.store_packed(space, "blk", k, {"i": i}, bytes([i]) * 100)
    (path,) = packs(cache_dir)
    recs = pack.records(str(path))
    data = bytearray(path.read_bytes())
    data[recs[1].offset + recs[1].body_at] ^= 0xFF  # record 1: a bad checksum
    at = recs[3].offset + pack.RECORD_HEADER - 12  # record 3: a body running past the end
    data[at:at + 4] = (1 << 20).to_bytes(4, "little")
    replace_file(path, bytes(data))
    store.reset()

    def meta(rec: pack.Record) -> Any:
        return rec.meta
    assert store.load_packed(space, "blk", keys[0], meta) == {"i": 0}
    assert disk()["rejects"] == 1  # the chain, found while indexing
    assert store.load_packed(space, "blk", keys[2], meta) == {"i": 2}
    assert disk()["rejects"] == 1  # record 1 is damaged, but nobody asked for it yet
    assert store.load_packed(space, "blk", keys[1], meta) is None
    assert disk()["rejects"] == 2
    assert store.load_packed(space, "blk", keys[3], meta) is None  # never indexed: a miss
    assert disk()["rejects"] == 2 and disk()["misses"] == 1


@requires_llvmlite
def test_a_directory_whose_write_failed_serves_no_more_loads(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed write turns the cache off for the process, loads too, though the pack is
    mapped and indexed already."""
    an, key = stored_unit()
    assert cache.load_unit("block", key, an, (), False) is not None  # maps the pack

    def full(*args: Any, **kw: Any) -> Any:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(pack, "append", full)
    chunk = asm(SUM_LOOP.format(n=999))
    other = Analysis(chunk, chunk.digest())
    cfg = get_config()
    other_key = cache.unit_key("block", other, (), False, cfg)
    assert other_key is not None
    assert not cache.store_unit(other_key, block.compile(other, (), False, cfg))
    assert disk()["write_errors"] == 1
    assert cache.load_unit("block", key, an, (), False) is None
    assert cache.find_unit("block", an, (), False, get_config()) == (key, None)
    assert disk()["misses"] == 0 and disk()["rejects"] == 0


@requires_llvmlite
def test_a_records_description_is_made_once_and_checked_against_each_chunk(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    an, key = stored_unit()
    assert cache.load_unit("block", key, an, (), False) is not None
    ((_, p),) = cache.STORE._packs.items()
    assert p.index[key].derived is not None

    def forbidden(rec: pack.Record) -> Any:
        raise AssertionError("described twice")
    monkeypatch.setattr(native, "_described", forbidden)
    again = cache.load_unit("block", key, an, (), False)
    assert again is not None and again.native is p.index[key].derived[-1]
    # the same key asked for by a chunk it does not fit (a writer's bug: another op count)
    other = asm(SUM_LOOP.format(n=1000) + "    Pop\n    LoadInt 1\n")
    misfit = Analysis(other, other.digest())
    rejects = disk()["rejects"]
    assert cache.load_unit("block", key, misfit, (), False) is None
    assert disk()["rejects"] == rejects + 1


@requires_llvmlite
def test_what_the_runtime_asks_for_a_unit_it_has_not_got(cache_dir: Path) -> None:
    """`find_unit`: the key and the unit in one call; the key is `unit_key`'s, a miss
    gives the key (to store the compiled unit under), and the cache off gives neither."""
    chunk = asm(SUM_LOOP.format(n=1000))
    an = Analysis(chunk, chunk.digest())
    cfg = get_config()
    key = cache.unit_key("block", an, (), False, cfg)
    assert cache.find_unit("block", an, (), False, cfg) == (key, None)  # nothing stored
    an2, key2 = stored_unit()
    assert key2 == key
    found_key, u = cache.find_unit("block", an2, (), False, cfg)
    assert found_key == key and u is not None and disk()["loads"] == 1
    cache.set_enabled(False)
    try:
        assert cache.find_unit("block", an2, (), False, cfg) == (None, None)
    finally:
        cache.set_enabled(None)


def test_records_are_verified_once_on_first_use(cache_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexing a pack checks no record's checksum; a record's first load checks it and
    decodes its metadata (a damaged one is a counted reject, replaced by the next store),
    and later loads of it do neither again."""
    space = b"v" * 16
    store = cache.STORE
    keys = [key_digest("unit", i) for i in range(3)]
    for i, k in enumerate(keys):
        assert store.store_packed(space, "blk", k, {"i": i}, bytes([i]) * 100)
    (path,) = packs(cache_dir)
    recs = pack.records(str(path))
    data = bytearray(path.read_bytes())
    data[recs[1].offset + recs[1].body_at] ^= 0xFF  # a flipped body byte: bad checksum
    replace_file(path, bytes(data))
    store.reset()
    calls: list[bytes] = []

    def use(rec: pack.Record) -> Any:
        calls.append(bytes(rec.body()[:1]))
        return rec.meta
    assert store.load_packed(space, "blk", keys[0], use) == {"i": 0}  # indexes all three
    (p,) = [v for (_, s), v in store._packs.items() if s == space]
    assert p.index[keys[0]].verified
    assert not p.index[keys[1]].verified and not p.index[keys[2]].verified
    assert disk()["rejects"] == 0
    assert store.load_packed(space, "blk", keys[1], use) is None
    assert disk()["rejects"] == 1 and calls == [b"\0"]
    assert store.store_packed(space, "blk", keys[1], {"i": 1}, b"\1" * 100)
    assert store.load_packed(space, "blk", keys[1], use) == {"i": 1}
    assert disk()["rejects"] == 1

    def again(rec: pack.Record) -> None:
        raise AssertionError("verified twice")
    monkeypatch.setattr(pack.Record, "verify", again)
    assert store.load_packed(space, "blk", keys[0], use) == {"i": 0}


def test_metadata_that_does_not_decode_is_a_reject(cache_dir: Path) -> None:
    space = b"w" * 16
    key = key_digest("unit", 0)
    rec = pack.encode_record("blk", key, b"\xff\x00garbage", b"\0" * 64, 0.0)
    assert cache.STORE.store_packed(space, "blk", key_digest("unit", 1), {}, b"\0" * 64)
    (path,) = packs(cache_dir)
    replace_file(path, pack.pack_header(space, pack.PACK_HEADER + len(rec), 1) + rec)
    cache.STORE.reset()
    assert cache.STORE.load_packed(space, "blk", key, lambda r: r.meta) is None
    assert disk()["rejects"] == 1


@requires_llvmlite
def test_a_second_load_of_a_record_neither_hashes_nor_decodes(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record loaded before in this process (a unit dropped, then needed again) is a
    lookup, checks of its decoded metadata and the Unit: no checksum, no decoding, and
    the code is not copied (its blob is a view of the pack mapping)."""
    assert run_loop() == 499500
    runtime.reset()
    cache.STORE.reset()
    assert run_loop() == 499500  # maps and indexes the pack, verifies the record
    runtime.reset()

    def forbidden(*args: Any, **kw: Any) -> Any:
        raise AssertionError("hashed or decoded again")
    # checked_meta() is where a record is hashed and what a decode reads
    monkeypatch.setattr(pack.Record, "verify", forbidden)
    monkeypatch.setattr(pack.Record, "checked_meta", forbidden)
    assert run_loop() == 499500
    assert disk()["loads"] == 2 and disk()["rejects"] == 0
    units = [e.unit for _, e in runtime.entries() if e.unit is not None]
    assert units and all(isinstance(u.native.blob, memoryview) for u in units)




# -- one recipe each: keys, the load path, the directory, the import spec ------------------

def test_a_unit_key_is_a_native_key_of_the_units_parts() -> None:
    chunk = asm(SUM_LOOP.format(n=10))
    an = Analysis(chunk, chunk.digest())
    cfg = get_config()
    pipelines = (cfg.first_pipeline, cfg.first_codegen, cfg.reopt_pipeline, cfg.reopt_codegen)
    assert native.unit_key("block", an, (1,), True, cfg) == \
        native.native_key("blk", an.digest, True, (1,), pipelines, ())
    assert native.unit_key("linear", an, (1,), True, cfg) != \
        native.unit_key("block", an, (1,), True, cfg)


def _rewritten(cache_dir: Path, edit: Any) -> None:
    """Replace the one record of the directory's pack by one whose metadata fields (and
    tag) `edit` changed, with the checksum and key a writer would make (a writer's bug,
    not damage: what the writer's own checks do not cover, or a process without a
    helper)."""
    import marshal
    (path,) = packs(cache_dir)
    (rec,) = pack.records(str(path))
    data = path.read_bytes()
    fields = dict(unit_record_fields(data, rec.offset + pack.RECORD_HEADER), tag=rec.tag)
    edit(fields)
    meta = marshal.dumps(tuple(fields[f] for f in UNIT_FIELDS if f in fields))
    body = data[rec.offset + rec.body_at:rec.offset + rec.body_at + rec.body_len]
    record = pack.encode_record(fields["tag"], rec.key, meta, body, 0.0)
    replace_file(path, pack.pack_header(data[16:32], pack.PACK_HEADER + len(record), 1)
                 + record)
    cache.STORE.reset()


def _unknown_helper(fields: dict[str, Any]) -> None:
    fields["helpers"] = (10_000,)


def _other_tier(fields: dict[str, Any]) -> None:
    fields["tag"] = "lin"


def _entry_past_the_code(fields: dict[str, Any]) -> None:
    fields["entry"] = 1 << 20


def _another_shape(fields: dict[str, Any]) -> None:
    del fields["top"]


@requires_llvmlite
@pytest.mark.parametrize("edit", [_unknown_helper, _other_tier, _entry_past_the_code,
                                  _another_shape])
def test_a_record_describing_something_impossible_is_a_reject(cache_dir: Path,
                                                              edit: Any) -> None:
    """A helper this process does not have, a record of another tier than asked for, an
    entry past the code, metadata of another shape: counted rejects, found before
    anything is run, then compiled again."""
    an, key = stored_unit()
    _rewritten(cache_dir, edit)
    assert cache.load_unit("block", key, an, (), False) is None
    assert disk()["rejects"] == 1 and disk()["loads"] == 0
    runtime.reset()
    assert run_loop() == 499500 and disk()["stores"] == 1  # compiled and stored again
    cache.STORE.reset()
    assert cache.load_unit("block", key, an, (), False) is not None


@pytest.mark.parametrize("change", [
    {"copy_out": ((0, 99),)}, {"results": (99,)}, {"traps": (40,)},
    {"copy_out": ((-1, 0),)}, {"copy_out": ((0.5, 0),)}, {"entry": 64}, {"ops": 1.0},
    {"made_by": None}])
def test_the_writer_refuses_a_unit_it_cannot_describe(change: dict[str, Any]) -> None:
    """Unknown kinds or trap codes, a negative or non-int slot, an entry past the code, a
    count that is not an int, no sources: what a reader then need not check (it takes a
    record only while the sources that made it are unchanged, so only this writer wrote
    it)."""
    args: dict[str, Any] = {"entry": 0, "code_len": 64, "pipeline": "none", "codegen": 0,
                            "ops": 3, "blocks": 1, "copy_out": ((0, 0),), "results": (0,),
                            "helpers": (), "traps": (), "made_by": b"s" * 32}
    native.encode_unit_meta(**args)
    with pytest.raises(ValueError):
        native.encode_unit_meta(**dict(args, **change))


def test_load_in_hands_the_record_and_arguments_to_its_user(cache_dir: Path) -> None:
    """`Store.load_in`, the path of every native load: `use(record, *args)`; a user
    raising is a counted reject that drops the record; a wrong tag is a reject."""
    space = b"l" * 16
    store = cache.STORE
    key = key_digest("unit", 0)
    assert store.store_packed(space, "blk", key, {"i": 7}, b"\7" * 64)
    store.reset()
    d = store._usable(create=False)
    assert d is not None
    assert store.load_in(d, space, "blk", key, lambda rec, a, b: (rec.meta["i"], a, b),
                         1, 2) == (7, 1, 2)
    assert disk()["loads"] == 1
    assert store.load_in(d, space, "lin", key, lambda rec: rec) is None
    assert disk()["rejects"] == 1

    def misfit(rec: pack.Record) -> None:
        raise ValueError("does not fit")
    store.reset()
    assert store.load_in(d, space, "blk", key, misfit) is None
    assert disk()["rejects"] == 1
    (p,) = store._packs.values()
    assert key not in p.index  # dropped: the next load re-reads the pack


def test_the_directory_is_worked_out_once_per_configuration(tmp_path: Path) -> None:
    from fusevm.jit.cache.store import Store
    cfg = get_config()
    store = Store()
    store.dir_override = str(tmp_path / "a")
    assert store.dir_for(cfg) == str(tmp_path / "a")
    assert store.dir_for(cfg) is store.dir_for(cfg)
    store.dir_override = str(tmp_path / "b")  # an override forgets what was worked out
    assert store.dir_for(cfg) == str(tmp_path / "b")
    store.disabled_override = True
    assert store.dir_for(cfg) is None
    store.disabled_override = None
    off = cfg.replace(cache_enabled=False)
    store.dir_override = None
    assert store.dir_for(off) is None and store.dir_for(cfg) is not None


def test_an_override_set_while_another_thread_works_out_the_directory_wins(
        tmp_path: Path) -> None:
    from fusevm.jit.cache.store import Store
    cfg = get_config()
    store = Store()
    stale_epoch = store._epoch  # a thread reads it, then the overrides
    store.dir_override = str(tmp_path / "new")
    # what a thread that read the overrides before they changed writes back afterwards
    store._memo = (cfg, stale_epoch, str(tmp_path / "stale"))
    assert store.dir_for(cfg) == str(tmp_path / "new")


def test_find_spec_is_the_one_lookup_of_an_importable_module() -> None:
    import sys

    from fusevm.jit import config, policy
    assert config.find_spec("os") is sys.modules["os"].__spec__
    assert config.find_spec("no_such_module_here") is None
    assert not policy._find("no_such_module_here") and policy._find("os")
    found = config.find_spec("llvmlite")
    assert (found is not None) == policy._find("llvmlite")
    if found is None:
        assert native.llvm_identity() == ("no-llvmlite",)
    else:
        assert native.llvm_identity() != ("no-llvmlite",)


def test_a_blocked_import_has_no_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from fusevm.jit import config, policy
    monkeypatch.setitem(sys.modules, "json", None)  # how a test or host blocks an import
    assert config.find_spec("json") is None and not policy._find("json")
