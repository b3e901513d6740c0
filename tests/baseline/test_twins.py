"""The compiler's per-chunk tables: `Twins` (a value found again for an equal chunk) and
`WeakKeys` (what `weakref.WeakKeyDictionary` does for them, over `_weakref.ref`)."""

from __future__ import annotations

import gc
import weakref

from fusevm.asm import assemble
from fusevm.baseline.twins import Twins, WeakKeys


class Key:
    """Equal by `n`, hashed by it, weakly referable."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and other.n == self.n

    def __hash__(self) -> int:
        return hash(self.n)


def test_weak_keys_behave_as_a_weak_key_dictionary() -> None:
    mine: WeakKeys[Key, str] = WeakKeys()
    theirs: weakref.WeakKeyDictionary[Key, str] = weakref.WeakKeyDictionary()
    a, b, c = Key(1), Key(2), Key(1)
    for d in (mine, theirs):
        d[a] = "a"
        assert d.setdefault(b, "b") == "b" and d.setdefault(c, "c") == "a"  # c equals a
        assert d.get(c) == "a" and d[b] == "b" and d.get(Key(3)) is None
        assert a in d and Key(3) not in d and 5 not in d  # (an int: no weak reference)
    del a, c
    gc.collect()
    for d in (mine, theirs):
        assert Key(1) not in d and d.get(b) == "b"
    assert len(mine.data) == len(theirs) == 1
    del b
    gc.collect()
    assert not mine.data and not len(theirs)


def test_a_weak_keys_mapping_dies_before_its_keys() -> None:
    keep = Key(1)
    mine: WeakKeys[Key, int] = WeakKeys()
    mine[keep] = 1
    gone = weakref.ref(mine)
    del mine
    gc.collect()
    assert gone() is None  # (its keys' callbacks do not hold it)
    del keep
    gc.collect()


def test_twins_find_the_value_of_an_equal_chunk() -> None:
    table: Twins[str] = Twins("test.twins")
    text = "LoadInt 2\nLoadInt 3\nAdd\n"
    first, twin, other = assemble(text), assemble(text), assemble("LoadInt 2\nLoadInt 4\nAdd\n")
    assert table.get(first) is None
    table.add(first, "compiled")
    assert table.get(twin) == "compiled" and table.get(other) is None
