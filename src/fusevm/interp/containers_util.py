"""Checks and growth rules shared by the array and hash handlers (D1, D8)."""

from __future__ import annotations

from fusevm.errors import IndexOutOfRange, TypeMismatch
from fusevm.limits import DEFAULT_MAX_SIZE, check_size
from fusevm.values import Undef, kind_name, to_int

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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


def store_at(arr: list[Any], i: Any, v: Any, limit: int = DEFAULT_MAX_SIZE) -> None:
    """arr[to_int(i)] = v, growing with Undef up to `limit` elements (the VM's max_size);
    a negative index is an error (D1)."""
    idx = i if type(i) is int else to_int(i)
    n = len(arr)
    if 0 <= idx < n:
        arr[idx] = v
    elif idx < 0:
        raise IndexOutOfRange(f"negative array index {idx} in a write")
    else:
        check_size(idx + 1, limit, "an array")
        arr.extend([Undef] * (idx - n))
        arr.append(v)
