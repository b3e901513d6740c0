"""fusevm.records: the start-up path's records behave as the dataclasses they are typed as."""

from __future__ import annotations

import pytest

from fusevm.records import FrozenInstanceError, dataclass, field, replace
from fusevm.shell.caps import Caps


@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int = 0
    tags: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


@dataclass(slots=True)
class Counter:
    hits: int = 0
    seen: list[str] = field(default_factory=list)


def test_init_defaults_and_factories() -> None:
    p = Point(3)
    assert (p.x, p.y, p.tags) == (3, 0, {})
    assert Point(1, 2).tags is not Point(1, 2).tags  # a fresh default per instance
    assert Point(x=1, y=-2).norm1() == 3
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_equality_hash_and_repr_use_the_compared_fields() -> None:
    assert Point(1, 2, {"a": 1}) == Point(1, 2)
    assert Point(1, 2) != Point(2, 1)
    assert hash(Point(1, 2, {"a": 1})) == hash(Point(1, 2))
    assert repr(Point(1, 2, {"a": 1})) == "Point(x=1, y=2)"
    assert Counter() == Counter(0, [])
    assert Counter.__hash__ is None  # mutable and compared: unhashable, as a dataclass


def test_frozen_and_slots() -> None:
    p = Point(1)
    with pytest.raises(FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    assert Point.__slots__ == ("x", "y", "tags")
    c = Counter()
    c.hits += 1
    with pytest.raises(AttributeError):
        c.other = 1  # type: ignore[attr-defined]


def test_replace_and_match_args() -> None:
    assert replace(Point(1, 2), y=5) == Point(1, 5)
    with pytest.raises(TypeError):
        replace(Point(1), z=1)  # type: ignore[call-arg]
    match Point(4, 5):
        case Point(a, b):
            assert (a, b) == (4, 5)


def test_caps_replace() -> None:
    assert Caps.NONE.replace(fs_read=True) == Caps(False, True, False, False, False)


def test_a_field_without_a_default_after_one_with_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default follows one with a default"):
        @dataclass
        class Bad:
            a: int = 1
            b: int
    with pytest.raises(TypeError, match="without a default"):
        @dataclass(frozen=True, slots=True)
        class AfterFactory:
            a: list[int] = field(default_factory=list)
            b: int

    @dataclass
    class Fine:
        a: int
        b: int = 2
        c: list[int] = field(default_factory=list)
    assert (Fine(1).a, Fine(1).b, Fine(1).c) == (1, 2, [])
