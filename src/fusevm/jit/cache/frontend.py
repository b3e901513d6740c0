"""Compiled front-end output on disk: chunks (tag `chunk`) and Python code objects (`code`).

`cached_chunk(frontend, key_parts, build)` returns the chunk `build()` makes, from disk when
an earlier process built it under the same key: the front end's name and key parts
(program text, options), the fusevm version and where its package lies, and the schema of
every registered extension set. The entry also lists the fusevm sources that made it
(`sources.loaded`) and is used only while they are unchanged (`sources.unchanged`): a
change to the awk compiler (or to the op table, `ops/table.py`) never meets a chunk
compiled before it, and a hit needs neither the op table's `SCHEMA_HASH` nor, for the
modules this process has imported too, a system call. The chunk was verified when it
was built, and the file is checksummed under its full key in a directory only this user
can write, so it is read back without the verifier's flow analysis. The body is the chunk
as plain tuples in `marshal` form with each chunk's digest (`_pack`: loading is then a few
C calls, where the portable format decodes op by op), or `Chunk.to_bytes()` when a
constant is not a plain number or string.

`load_chunk_list` and `store_chunk_list` keep a list of chunks a front end compiled from one
text, with data of its own (tag `script`): the sh frontend's commands of a long script,
each compiled as the shell reached it (`fusevm.lang.sh.scriptcache`). Their chunks carry no
digest (one is worked out when asked), so recording a script costs its first run little.

`cached_code(name, source, build)` does the same for a Python code object, keyed like a
.pyc file: the interpreter's bytecode magic number, a hash of the source, the fusevm
version and package directory, and `name`, and used while the sources it lists are
unchanged; the body is `marshal.dumps(code)`. Extension ops written as statements keep
the interpreter's function of each with it (`fusevm.ops.extbody.code_cache`).
"""

from __future__ import annotations

import marshal
import sys

from fusevm import __version__
from fusevm.entry import NoCycleCollection
from fusevm.jit.cache.sources import ROOT, loaded, unchanged
from fusevm.jit.cache.store import Entry, Store, key_digest
from fusevm.loops import adopt_facts, facts_tree, loop_facts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from importlib.util import MAGIC_NUMBER
    from types import CodeType
    from typing import Any, Final, TypeVar

    from fusevm.chunk import Chunk

    T = TypeVar("T")
else:
    # What importlib.util re-exports, read from the import system's own module (always
    # loaded): importing the importlib package would load `warnings` too.
    _external = sys.modules.get("_frozen_importlib_external")
    if _external is not None and hasattr(_external, "MAGIC_NUMBER"):
        MAGIC_NUMBER = _external.MAGIC_NUMBER
    else:  # another implementation's import machinery
        from importlib.util import MAGIC_NUMBER

#: types.CodeType, without importing `types` (a start-up cost).
_CODE_TYPE: Final = type((lambda: None).__code__)

CHUNK_TAG: Final = "chunk"
CODE_TAG: Final = "code"
CHUNK_LIST_TAG: Final = "script"


def extension_schemas() -> tuple[object, ...]:
    """Every registered extension set's name, range and ops (`ExtOp.schema`: read from the
    declarations, so a deferred set builds no row for it)."""
    from fusevm.ops.extension import registered_sets
    return tuple(s.schema() for s in sorted(registered_sets(), key=lambda s: s.name))


def chunk_key(frontend: str, key_parts: Iterable[object]) -> bytes:
    # (The package's place keeps two source trees of one version from taking turns to
    # replace each other's entries: their sources tell them apart anyway.)
    return key_digest("fusevm-chunk", _PLAIN + _PORTABLE, __version__, ROOT,
                      extension_schemas(), frontend, tuple(key_parts))


#: The two body formats: the chunk as marshalled tuples, or its portable serialization.
_PLAIN, _PORTABLE = b"M", b"S"
_SCALARS: Final = (int, float, str, bool)


def _marshals(v: Any, depth: int = 0) -> bool:
    """Whether `marshal` gives back exactly this constant: a number, string or bool, or
    an array or hash of them (an undef, a status or a reference is not)."""
    t = type(v)
    if t in _SCALARS:
        return True
    if depth > 8:
        return False
    if t is list:
        return all(_marshals(x, depth + 1) for x in v)
    if t is dict:
        return all(type(k) is str and _marshals(x, depth + 1) for k, x in v.items())
    return False


def _plain(chunk: Chunk, digest: bool = True) -> tuple[Any, ...] | None:
    """`chunk` as nested tuples with its digest (None without `digest`) and its loop facts
    when they are worked out (`loops.facts_tree`: a VM's set-up reads them, and an awk
    program's take a tenth of its second run to work out again), or None when a constant
    is not one `marshal` keeps exactly (`_marshals`)."""
    scalars = _SCALARS
    for v in chunk.constants:
        if type(v) not in scalars and not _marshals(v):
            return None
    subs = []
    for sub in chunk.sub_chunks:
        found = _plain(sub, digest)
        if found is None:
            return None
        subs.append(found)
    return (chunk.source, chunk.slot_count, chunk.constants, chunk.names,
            tuple([(int(i[0]), *i[1:]) for i in chunk.ops]), chunk.lines, chunk.sub_entries,
            chunk.block_ranges, tuple(subs), chunk.digest() if digest else None,
            facts_tree(chunk))


def _pack(chunk: Chunk) -> bytes:
    tree = _plain(chunk)
    if tree is not None:
        try:
            return _PLAIN + marshal.dumps(tree)
        except ValueError:  # an operand of a kind marshal does not write
            pass
    return _PORTABLE + chunk.to_bytes()


def _unplain(tree: tuple[Any, ...], members: dict[int, Any]) -> Chunk:
    from fusevm.chunk import Chunk
    (source, slot_count, constants, names, ops, lines, entries, ranges, subs,
     digest, facts) = tree
    if len(lines) != len(ops) or digest is not None and type(digest) is not str:
        raise ValueError("the entry's chunk is malformed")
    chunk = Chunk([(members[i[0]], *i[1:]) for i in ops], constants, names, lines,
                  slot_count, [_unplain(sub, members) for sub in subs], ranges, entries,
                  source)
    chunk._digest = digest
    if facts is not None:
        adopt_facts(chunk, facts)
    return chunk


def _plain_chunks(trees: Iterable[tuple[Any, ...]]) -> list[Chunk]:
    """The chunks of `_plain` trees, counted as verified (they were when they were built
    and stored). A caller pauses the collector: tens of thousands of new tuples, all kept."""
    from fusevm.ops import Op
    members = Op._value2member_map_
    chunks = [_unplain(tree, members) for tree in trees]
    for chunk in chunks:
        chunk.mark_verified()
    return chunks


def _unpack(body: bytes) -> Chunk:
    """The chunk `_pack` wrote (ValueError, KeyError or TypeError when it is not one)."""
    if body[:1] == _PLAIN:
        with NoCycleCollection():
            tree: Any = marshal.loads(body[1:])
            if not isinstance(tree, tuple):
                raise TypeError("the entry does not hold a chunk")
            return _plain_chunks((tree,))[0]
    if body[:1] != _PORTABLE:
        raise ValueError("unknown chunk body format")
    # The portable format's decoder loads only for a chunk that needs it.
    from fusevm.chunk import Chunk
    from fusevm.errors import FormatError
    from fusevm.serialize import load
    try:
        found: Chunk = load(body[1:], Chunk, trusted=True)
    except FormatError as e:
        raise ValueError(str(e)) from None
    return found


def load_entry(store: Store, tag: str, key: bytes,
               decode: Callable[[memoryview], T]) -> T | None:
    """What `decode` makes of the body of the entry stored under `key`, or None (a miss, or
    a reject: built by fusevm sources that have changed since, or a body that is not what
    was stored, which `decode` reports as ValueError, KeyError, TypeError, EOFError,
    IndexError or AttributeError)."""
    def use(entry: Entry, _fd: int) -> T:
        if not unchanged(entry.meta.get("sources")):
            raise ValueError("built by fusevm sources that have changed since")
        try:
            return decode(entry.body)
        except (EOFError, IndexError, AttributeError) as e:
            raise ValueError(f"{type(e).__name__}: {e}") from None

    found: T | None = store.load(tag, key, use)
    return found


def load_chunk(store: Store, key: bytes) -> Chunk | None:
    """The chunk stored under `key`, or None."""
    return load_entry(store, CHUNK_TAG, key, lambda body: _unpack(bytes(body)))


def cached_chunk(store: Store, frontend: str, key_parts: Iterable[object],
                 build: Callable[[], Chunk]) -> Chunk:
    """`build()`'s chunk, from disk when this key was built before (then stored)."""
    if not store.enabled():  # (no key, no packing, no stat of the sources)
        return build()
    key = chunk_key(frontend, key_parts)
    chunk = load_chunk(store, key)
    if chunk is not None:
        return chunk
    chunk = build()
    loop_facts(chunk)  # (the run works them out anyway: kept with the chunk from here)
    store.store(CHUNK_TAG, key, {"frontend": frontend, "source": chunk.source,
                                 "sources": loaded()}, _pack(chunk))
    return chunk


def chunk_list_key(frontend: str, key_parts: Iterable[object]) -> bytes:
    """The key of a list of chunks `frontend` compiled from one text (`key_parts`)."""
    return key_digest("fusevm-chunk-list", _PLAIN, __version__, ROOT, extension_schemas(),
                      frontend, tuple(key_parts))


def chunk_tree(chunk: Chunk) -> tuple[Any, ...] | None:
    """`chunk` as `store_chunk_list` keeps it (plain tuples, no digest), or None when a
    constant is not one `marshal` keeps exactly."""
    return _plain(chunk, digest=False)


def load_chunk_list(store: Store, key: bytes) -> list[tuple[Any, Chunk]] | None:
    """The (data, chunk) pairs stored under `key`, in order, or None (a miss, a reject, or
    sources changed since)."""
    def decode(body: memoryview) -> list[tuple[Any, Chunk]]:
        if bytes(body[:1]) != _PLAIN:
            raise ValueError("unknown chunk list body format")
        with NoCycleCollection():
            pairs = marshal.loads(body[1:])
            chunks = _plain_chunks(tree for _, tree in pairs)
        return [(data, chunk) for (data, _), chunk in zip(pairs, chunks, strict=True)]

    return load_entry(store, CHUNK_LIST_TAG, key, decode)


def store_chunk_list(store: Store, key: bytes, frontend: str,
                     pairs: list[tuple[Any, tuple[Any, ...]]]) -> int:
    """Keep `pairs` (a front end's data, plain values, and a `chunk_tree`) under `key`, in
    order; how many were kept (none when an operand is of a kind `marshal` does not write,
    or the cache could not write)."""
    try:
        body = _PLAIN + marshal.dumps(tuple(pairs))
    except ValueError:
        return 0
    if not pairs or store.store(CHUNK_LIST_TAG, key, {"frontend": frontend,
                                                     "sources": loaded()}, body) is None:
        return 0
    return len(pairs)


def code_key(name: str, source: bytes | str, extra: Iterable[object] = ()) -> bytes:
    raw = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    return key_digest("fusevm-code", MAGIC_NUMBER, __version__, ROOT, name, raw,
                      tuple(extra))


def load_code(store: Store, key: bytes) -> CodeType | None:
    def decode(body: memoryview) -> CodeType:
        code: Any = marshal.loads(body)
        if not isinstance(code, _CODE_TYPE):
            raise TypeError("the entry does not hold a code object")
        return code

    return load_entry(store, CODE_TAG, key, decode)


def cached_code(store: Store, name: str, source: bytes | str,
                build: Callable[[], CodeType], extra: Iterable[object] = ()) -> CodeType:
    """`build()`'s code object, from disk when (name, source, extra) was built before.

    `source` is what the code is generated from (for the baseline tier, the chunk's
    serialized bytes); `extra` holds anything else that changes the generated code.
    """
    if not store.enabled():
        return build()
    extra = tuple(extra)
    key = code_key(name, source, extra)
    code = load_code(store, key)
    if code is not None:
        return code
    code = build()
    store.store(CODE_TAG, key, {"name": name, "sources": loaded()}, marshal.dumps(code))
    return code
