"""Every size limit fusevm enforces, defined once: nesting depth and the size of built values.

The assembler, the builder, the verifier and the serializer all use `MAX_NESTING`, so what
one of them accepts the others accept too (a chunk `to_bytes` writes, `from_bytes` reads).
`DEFAULT_MAX_SIZE` bounds every string and container an op builds; a VM takes its own
`max_size`, and an op whose result would be larger raises `MemoryLimit` instead of
exhausting the process's memory.
"""

from __future__ import annotations

from fusevm.errors import MemoryLimit
from fusevm.values import Ref

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

    from fusevm.chunk import Chunk

#: Deepest nesting of sub-chunks (a chunk inside a chunk inside ...) and of container values
#: inside a constant (an array inside an array inside ...).
MAX_NESTING: Final = 100

#: Most slots a frame may have: SLOT operands are u16, so slot 65535 needs 65536 slots.
MAX_SLOTS: Final = 0x10000

#: Default cap on the characters of one string, or the elements of one array or hash, that
#: an op may build: 64 Mi (64-256 MiB of text, 512 MiB of pointers as a list).
DEFAULT_MAX_SIZE: Final = 1 << 26

#: Longest integer literal the assembler reads (64-bit values need at most 20 digits, 66
#: characters in binary); longer ones are refused before Python converts them.
MAX_INT_LITERAL: Final = 70


def check_size(size: int, limit: int, what: str) -> None:
    """Raise MemoryLimit if a value of `size` characters/elements would exceed `limit`.

    Raises:
        MemoryLimit: `size` is over `limit`.
    """
    if size > limit:
        raise MemoryLimit(f"{what} of {size:,} would exceed the VM's size limit of "
                          f"{limit:,} (VM(max_size=...))")


def value_depth_exceeds(value: object, limit: int = MAX_NESTING) -> bool:
    """True if `value` holds a container nested deeper than `limit` (scalars are depth 0,
    the items of a top-level array depth 1). Iterative, so any depth (or a cycle) is safe;
    a container met again no deeper than before is not walked again, so containers shared
    many times over cost once per depth they are met at, not once per path."""
    todo: list[tuple[object, int]] = [(value, 0)]
    deepest: dict[int, int] = {}
    while todo:
        v, depth = todo.pop()
        if depth > limit:
            return True
        t = type(v)
        if t is list or t is dict or t is Ref:
            if deepest.get(id(v), -1) >= depth:
                continue
            deepest[id(v)] = depth
        if t is list:
            todo.extend((x, depth + 1) for x in v)  # type: ignore[attr-defined]
        elif t is dict:
            todo.extend((x, depth + 1) for x in v.values())  # type: ignore[attr-defined]
        elif t is Ref:
            todo.append((v.value, depth + 1))  # type: ignore[attr-defined]
    return False


def chunk_depth_exceeds(chunk: Chunk, limit: int = MAX_NESTING) -> bool:
    """True if `chunk` has sub-chunks nested more than `limit` levels below it.

    Level by level, each chunk once per level, so a shared sub-chunk costs nothing extra.
    Something in a sub-chunk list that is no chunk ends the walk there (the verifier
    says what it is)."""
    level = {id(chunk): chunk}
    for _ in range(limit + 1):
        level = {id(sub): sub for c in level.values()
                 for sub in getattr(c, "sub_chunks", ())}
        if not level:
            return False
    return True
