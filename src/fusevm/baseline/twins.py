"""What is compiled per chunk, found again for any chunk equal in content (its twin).

A chunk's digest (serializing and hashing it, loading the modules that do that the first
time: most of a millisecond a process) is what finds a twin, and only a chunk of the same
size can be one: a chunk's own value is kept on the chunk object, and its digest is worked
out only when another chunk of its size is looked up. A process that compiles one chunk
hashes none.
"""

from __future__ import annotations

from _weakref import ref

from fusevm.chunk import Chunk

TYPE_CHECKING = False  # (not typing's: importing typing costs the compiler's load ~10 ms)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Generic, TypeVar

    K = TypeVar("K")
    V = TypeVar("V")

    class _Base(Generic[V]):
        pass

    class _Base2(Generic[K, V]):
        pass
else:
    K = V = object

    class _Base:
        """Stands in for `Generic`: `_Base[V]` is itself."""

        __slots__ = ()

        def __class_getitem__(cls, item: object) -> type:
            return cls

    _Base2 = _Base


class WeakKeys(_Base2[K, V]):
    """A mapping whose keys are held weakly (an entry goes with its key; keys are found
    by equality): the `get`, `setdefault`, `in`, item access and assignment of
    `weakref.WeakKeyDictionary`, over the built-in `_weakref.ref`; the `weakref` module
    costs a process that loads the compiler 1.2 ms."""

    __slots__ = ("data", "_remove", "__weakref__")

    def __init__(self) -> None:
        self.data: dict[ref[Any], V] = {}
        own = ref(self)  # (the callback must not keep the mapping alive)

        def remove(key: ref[Any]) -> None:
            mapping = own()
            if mapping is not None:
                mapping.data.pop(key, None)
        self._remove: Callable[[ref[Any]], None] = remove

    def get(self, key: K) -> V | None:
        return self.data.get(ref(key))

    def __getitem__(self, key: K) -> V:
        return self.data[ref(key)]

    def __contains__(self, key: object) -> bool:
        try:
            return ref(key) in self.data
        except TypeError:  # (not an object a weak reference can name)
            return False

    def setdefault(self, key: K, value: V) -> V:
        return self.data.setdefault(ref(key, self._remove), value)

    def __setitem__(self, key: K, value: V) -> None:
        self.data[ref(key, self._remove)] = value


class Twins(_Base[V]):
    """A value per chunk (kept in `Chunk.derived` under `key`), shared by its twins."""

    __slots__ = ("key", "sizes", "_hashed", "_unhashed")

    def __init__(self, key: str) -> None:
        self.key = key
        #: The sizes (ops) of the chunks with a value: another size has no twin here.
        self.sizes: set[int] = set()
        self._hashed: WeakKeys[Chunk, V] = WeakKeys()
        #: Chunks with a value not hashed yet, by size.
        self._unhashed: dict[int, list[ref[Chunk]]] = {}

    def get(self, chunk: Chunk) -> V | None:
        """The value of `chunk` or of its twin (then `chunk`'s too), else None."""
        found: V | None = chunk.derived.get(self.key)
        if found is not None or len(chunk.ops) not in self.sizes:
            return found
        for weak in self._unhashed.pop(len(chunk.ops), ()):
            other = weak()
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
        self._unhashed.setdefault(len(chunk.ops), []).append(ref(chunk))
        return value
