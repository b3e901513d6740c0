"""Checks and growth rules shared by the array and hash handlers (D1, D8)."""

from __future__ import annotations

from typing import Any, Final

from fusevm.errors import IndexOutOfRange, ResourceLimit, TypeMismatch
from fusevm.values import Undef, kind_name, to_int

#: How far one indexed write may grow an array; beyond it the write is refused (no OOM).
MAX_GROWTH: Final = 1 << 24


def array_of(v: Any, where: str) -> list[Any]:
    if type(v) is not list:
        raise TypeMismatch(f"{where} holds {kind_name(v)}, not an Array")
    return v


def hash_of(v: Any, where: str) -> dict[str, Any]:
    if type(v) is not dict:
        raise TypeMismatch(f"{where} holds {kind_name(v)}, not a Hash")
    return v


def checked_index(i: Any) -> int:
    return i if type(i) is int else to_int(i)


def store_at(arr: list[Any], i: Any, v: Any) -> None:
    """arr[to_int(i)] = v, growing with Undef; a negative index is an error (D1)."""
    idx = i if type(i) is int else to_int(i)
    n = len(arr)
    if 0 <= idx < n:
        arr[idx] = v
    elif idx < 0:
        raise IndexOutOfRange(f"negative array index {idx} in a write")
    elif idx - n > MAX_GROWTH:
        raise ResourceLimit(f"array write at index {idx} would grow the array by more "
                            f"than {MAX_GROWTH} elements")
    else:
        arr.extend([Undef] * (idx - n))
        arr.append(v)
