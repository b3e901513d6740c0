"""Every size limit fusevm enforces, defined once: nesting depth and the size of built values.

The assembler, the builder, the verifier and the serializer all use `MAX_NESTING`, so what
one of them accepts the others accept too (a chunk `to_bytes` writes, `from_bytes` reads);
`fusevm.values.value_depth_exceeds` measures a value against it.
`DEFAULT_MAX_SIZE` bounds every string and container an op builds; a VM takes its own
`max_size`, and an op whose result would be larger raises `MemoryLimit` instead of
exhausting the process's memory.
"""

from __future__ import annotations

from fusevm.errors import MemoryLimit

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
