"""The first bytes of fusevm's serialized chunks: what names the format, defined once.

`fusevm.serialize` writes and checks them; `fusevm run` and the other commands that take
a file read them to tell a serialized chunk from assembler text without loading the
serializer (which loads `struct` and BLAKE2, C extension modules here, and hashes the
op table: together about a millisecond of a short command's start-up).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

#: A serialized chunk's first four bytes (`fusevm.serialize`).
CHUNK_MAGIC: Final = b"FVMC"
