"""fusevm.memo: bounded memo tables without functools."""

from __future__ import annotations

import pytest

from fusevm.memo import Memo, memo


def test_a_result_is_computed_once_per_argument() -> None:
    calls: list[str] = []

    @memo(8)
    def upper(text: str) -> str:
        calls.append(text)
        return text.upper()

    assert [upper("a"), upper("b"), upper("a")] == ["A", "B", "A"]
    assert calls == ["a", "b"]


def test_the_oldest_result_goes_first_when_the_table_is_full() -> None:
    table = Memo(lambda n: n * n, 2)
    for n in (1, 2, 3):
        table[n]
    assert list(table) == [2, 3]


def test_a_call_that_raises_keeps_nothing() -> None:
    def fail(_: object) -> object:
        raise ValueError("no")

    table = Memo(fail, 4)
    with pytest.raises(ValueError):
        table["x"]
    assert not table
