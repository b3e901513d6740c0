"""What is compiled per chunk, found again for any chunk equal in content (its twin).

A chunk's digest (serializing and hashing it, loading the modules that do that the first
time: most of a millisecond a process) is what finds a twin, and only a chunk of the same
size can be one: a chunk's own value is kept on the chunk object, and its digest is worked
out only when another chunk of its size is looked up. A process that compiles one chunk
hashes none.
"""

from __future__ import annotations

import weakref

from fusevm.chunk import Chunk

TYPE_CHECKING = False  # (not typing's: importing typing costs the compiler's load ~10 ms)
if TYPE_CHECKING:
    from typing import Generic, TypeVar

    V = TypeVar("V")

    class _Base(Generic[V]):
        pass
else:
    V = object

    class _Base:
        """Stands in for `Generic`: `_Base[V]` is itself."""

        __slots__ = ()

        def __class_getitem__(cls, item: object) -> type:
            return cls


class Twins(_Base[V]):
    """A value per chunk (kept in `Chunk.derived` under `key`), shared by its twins."""

    __slots__ = ("key", "sizes", "_hashed", "_unhashed")

    def __init__(self, key: str) -> None:
        self.key = key
        #: The sizes (ops) of the chunks with a value: another size has no twin here.
        self.sizes: set[int] = set()
        self._hashed: weakref.WeakKeyDictionary[Chunk, V] = weakref.WeakKeyDictionary()
        #: Chunks with a value not hashed yet, by size.
        self._unhashed: dict[int, list[weakref.ref[Chunk]]] = {}

    def get(self, chunk: Chunk) -> V | None:
        """The value of `chunk` or of its twin (then `chunk`'s too), else None."""
        found: V | None = chunk.derived.get(self.key)
        if found is not None or len(chunk.ops) not in self.sizes:
            return found
        for ref in self._unhashed.pop(len(chunk.ops), ()):
            other = ref()
            if other is not None:
                self._hashed.setdefault(other, other.derived[self.key])
        found = self._hashed.get(chunk)
        if found is not None:
            chunk.derived[self.key] = found
        return found

    def add(self, chunk: Chunk, value: V) -> V:
        """Give `chunk`, which has none (`get`), `value`; returns it."""
        chunk.derived[self.key] = value
        self.sizes.add(len(chunk.ops))
        self._unhashed.setdefault(len(chunk.ops), []).append(weakref.ref(chunk))
        return value
