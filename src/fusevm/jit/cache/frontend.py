"""Compiled front-end output on disk: chunks (tag `chunk`) and Python code objects (`code`).

`cached_chunk(frontend, key_parts, build)` returns the chunk `build()` makes, from disk when
an earlier process built it under the same key: the front end's name and key parts
(program text, options), the fusevm version and source identity (`build_identity`), the
op-table schema and the schema of every registered extension set. The body is
`Chunk.to_bytes()`; it is read back without the verifier's flow analysis (the chunk was
verified when it was built, and the file is checksummed under its full key in a directory
only this user can write).

`cached_code(name, source, build)` does the same for a Python code object, keyed like a
.pyc file: the interpreter's bytecode magic number, a hash of the source, the fusevm
version and source identity, and `name`; the body is `marshal.dumps(code)`. The baseline
tier stores the code object it generates per chunk with it.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterable
from types import CodeType

from fusevm import __version__
from fusevm.jit.cache.store import Entry, Store, build_identity, key_digest
from fusevm.ops import SCHEMA_HASH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from importlib.util import MAGIC_NUMBER
    from typing import Any, Final

    from fusevm.chunk import Chunk
else:
    # What importlib.util re-exports, without importlib.util's own imports (contextlib).
    try:
        from importlib._bootstrap_external import MAGIC_NUMBER
    except ImportError:  # another implementation's import machinery
        from importlib.util import MAGIC_NUMBER

CHUNK_TAG: Final = "chunk"
CODE_TAG: Final = "code"


def extension_schemas() -> tuple[object, ...]:
    """Every registered extension set's name, range and op rows."""
    from fusevm.ops.extension import registered_sets
    return tuple(
        (s.name, s.first_id, s.count,
         tuple((op.id, op.name, ",".join(k.value for k in op.spec.kinds),
                op.spec.effect.text, op.spec.flags.value) for op in s))
        for s in sorted(registered_sets(), key=lambda s: s.name))


def chunk_key(frontend: str, key_parts: Iterable[object]) -> bytes:
    return key_digest("fusevm-chunk", __version__, build_identity(), SCHEMA_HASH,
                      extension_schemas(), frontend, tuple(key_parts))


def load_chunk(store: Store, key: bytes) -> Chunk | None:
    """The chunk stored under `key`, or None."""
    from fusevm.chunk import Chunk
    from fusevm.errors import FormatError
    from fusevm.serialize import load

    def use(entry: Entry, _fd: int) -> Chunk:
        try:
            chunk: Chunk = load(bytes(entry.body), Chunk, trusted=True)
        except FormatError as e:
            raise ValueError(str(e)) from None
        return chunk

    found: Chunk | None = store.load(CHUNK_TAG, key, use)
    return found


def cached_chunk(store: Store, frontend: str, key_parts: Iterable[object],
                 build: Callable[[], Chunk]) -> Chunk:
    """`build()`'s chunk, from disk when this key was built before (then stored)."""
    key = chunk_key(frontend, key_parts)
    chunk = load_chunk(store, key)
    if chunk is not None:
        return chunk
    chunk = build()
    store.store(CHUNK_TAG, key, {"frontend": frontend, "source": chunk.source},
                chunk.to_bytes())
    return chunk


def code_key(name: str, source: bytes | str, extra: Iterable[object] = ()) -> bytes:
    raw = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    return key_digest("fusevm-code", MAGIC_NUMBER, __version__, build_identity(),
                      name, raw, tuple(extra))


def load_code(store: Store, key: bytes) -> CodeType | None:
    def use(entry: Entry, _fd: int) -> CodeType:
        code: Any = marshal.loads(entry.body)
        if not isinstance(code, CodeType):
            raise TypeError("the entry does not hold a code object")
        return code

    found: CodeType | None = store.load(CODE_TAG, key, use)
    return found


def cached_code(store: Store, name: str, source: bytes | str,
                build: Callable[[], CodeType], extra: Iterable[object] = ()) -> CodeType:
    """`build()`'s code object, from disk when (name, source, extra) was built before.

    `source` is what the code is generated from (for the baseline tier, the chunk's
    serialized bytes); `extra` holds anything else that changes the generated code.
    """
    extra = tuple(extra)
    key = code_key(name, source, extra)
    code = load_code(store, key)
    if code is not None:
        return code
    code = build()
    store.store(CODE_TAG, key, {"name": name}, marshal.dumps(code))
    return code
