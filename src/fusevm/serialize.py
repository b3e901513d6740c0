"""The serialized chunk format: versioned, checksummed, and driven by operand kinds.

Layout (all integers little-endian):

    magic   b"FVMC"
    u16     format version (FORMAT_VERSION)
    8 bytes op-table schema hash (fusevm.ops.SCHEMA_HASH, as raw bytes)
    u32     payload length
    ...     payload: one chunk record (below)
    16      blake2b-128 of everything before it

Chunk record: source (str), slot_count (u32), constants (u32 count, values), names (u32
count, strs), ops (u32 count; each: u16 opcode, then each operand at its kind's width),
lines (u32 each), sub entries (u32 count; u16 name, u32 ip), block ranges (u32 count; u32,
u32), sub-chunks (u32 count; chunk records). A str is u32 byte length + UTF-8 (lone
surrogates kept). A value is a tag byte then its payload (see _Tag).

Loading never trusts the input: every read is bounds-checked, nesting is limited (by
`fusevm.limits.MAX_NESTING`, the limit writing, building and verifying use too), and the
result is verified. Any problem raises FormatError, and nothing else.
"""

from __future__ import annotations

import struct

from fusevm.digests import blake2b
from fusevm.enums import IntEnum
from fusevm.errors import BuildError, FormatError, VMError
from fusevm.formats import CHUNK_MAGIC
from fusevm.limits import MAX_NESTING
from fusevm.ops import SCHEMA_HASH, Kind, Op
from fusevm.values import NativeFn, Ref, Status, Undef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

MAGIC: Final = CHUNK_MAGIC
FORMAT_VERSION: Final = 1
_SCHEMA: Final = bytes.fromhex(SCHEMA_HASH)
_HEADER: Final = struct.Struct("<4sH8sI")
_CHECK_LEN: Final = 16


class _Tag(IntEnum):
    UNDEF = 0
    FALSE = 1
    TRUE = 2
    INT = 3
    FLOAT = 4
    STR = 5
    ARRAY = 6
    HASH = 7
    STATUS = 8
    REF = 9
    NATIVE_FN = 10


_INT_FMT: Final = {64: "q", 32: "i", 16: "h", 8: "b"}
_UINT_FMT: Final = {64: "Q", 32: "I", 16: "H", 8: "B"}


def _kind_struct(kind: Kind) -> struct.Struct:
    if kind is Kind.FLOAT:
        return struct.Struct("<d")
    table = _INT_FMT if kind.signed else _UINT_FMT
    return struct.Struct("<" + table[kind.bits])


_KIND_STRUCT: Final = {k: _kind_struct(k) for k in Kind}
_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")


# -- Writing -------------------------------------------------------------------

class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def u8(self, v: int) -> None:
        self.parts.append(_U8.pack(v))

    def u16(self, v: int) -> None:
        self.parts.append(_U16.pack(v))

    def u32(self, v: int) -> None:
        self.parts.append(_U32.pack(v))

    def str(self, s: str) -> None:
        raw = s.encode("utf-8", "surrogatepass")
        self.u32(len(raw))
        self.parts.append(raw)

    def value(self, v: Any, depth: int = 0) -> None:
        if depth > MAX_NESTING:
            raise FormatError(f"cannot serialize a value nested more than {MAX_NESTING} deep")
        t = type(v)
        if v is Undef:
            self.u8(_Tag.UNDEF)
        elif t is bool:
            self.u8(_Tag.TRUE if v else _Tag.FALSE)
        elif t is int:
            self.u8(_Tag.INT)
            self.parts.append(_I64.pack(v))
        elif t is float:
            self.u8(_Tag.FLOAT)
            self.parts.append(_F64.pack(v))
        elif t is str:
            self.u8(_Tag.STR)
            self.str(v)
        elif t is list:
            self.u8(_Tag.ARRAY)
            self.u32(len(v))
            for item in v:
                self.value(item, depth + 1)
        elif t is dict:
            self.u8(_Tag.HASH)
            self.u32(len(v))
            for k, item in v.items():
                self.str(k)
                self.value(item, depth + 1)
        elif t is Status:
            self.u8(_Tag.STATUS)
            self.parts.append(_I32.pack(v.code))
        elif t is Ref:
            self.u8(_Tag.REF)
            self.value(v.value, depth + 1)
        elif t is NativeFn:
            self.u8(_Tag.NATIVE_FN)
            self.u16(v.id)
        else:
            raise FormatError(f"cannot serialize {t.__name__} value {v!r}")

    def instr(self, instr: tuple[Any, ...]) -> None:
        op = instr[0]
        self.u16(int(op))
        for o, v in zip(op.spec.operands, instr[1:]):
            self.parts.append(_KIND_STRUCT[o.kind].pack(v))

    def chunk(self, c: Any, *, semantic: bool = False, depth: int = 0) -> None:
        if depth > MAX_NESTING:
            raise FormatError(f"cannot serialize sub-chunks nested more than {MAX_NESTING} "
                              "deep")
        if not semantic:
            self.str(c.source)
        self.u32(c.slot_count)
        self.u32(len(c.constants))
        for v in c.constants:
            self.value(v)
        if not semantic:
            self.u32(len(c.names))
            for name in c.names:
                self.str(name)
        self.u32(len(c.ops))
        for instr in c.ops:
            self.instr(instr)
        if not semantic:
            for line in c.lines:
                self.u32(line)
        self.u32(len(c.sub_entries))
        for name, ip in c.sub_entries:
            self.u16(name)
            self.u32(ip)
        self.u32(len(c.block_ranges))
        for start, end in c.block_ranges:
            self.u32(start)
            self.u32(end)
        self.u32(len(c.sub_chunks))
        for sub in c.sub_chunks:
            self.chunk(sub, semantic=semantic, depth=depth + 1)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def semantic_bytes(chunk: Any) -> bytes:
    """The behaviour-deciding content of a chunk (for digest()): no names, lines, source."""
    w = _Writer()
    w.parts.append(_SCHEMA)
    w.chunk(chunk, semantic=True)
    return w.getvalue()


def dump(chunk: Any) -> bytes:
    """Serialize a chunk (see the module docstring for the layout)."""
    w = _Writer()
    w.chunk(chunk)
    payload = w.getvalue()
    head = _HEADER.pack(MAGIC, FORMAT_VERSION, _SCHEMA, len(payload)) + payload
    return head + blake2b(head, digest_size=_CHECK_LEN).digest()


# -- Reading -------------------------------------------------------------------

class _Reader:
    def __init__(self, data: bytes, pos: int, end: int, make: Callable[..., Any]) -> None:
        self.data = data
        self.pos = pos
        self.end = end
        self.make = make  # the Chunk class: this layer sits below it and never imports it

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise FormatError(f"truncated chunk data at byte {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, st: struct.Struct) -> Any:
        return st.unpack(self.take(st.size))[0]

    def count(self, what: str, min_item: int = 1) -> int:
        n: int = self.unpack(_U32)
        if n * min_item > self.end - self.pos:
            raise FormatError(f"{what} count {n} is larger than the data left")
        return n

    def str(self) -> str:
        raw = self.take(self.count("string length"))
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as e:
            raise FormatError(f"string is not valid UTF-8 at byte {self.pos}") from e

    def value(self, depth: int = 0) -> Any:
        if depth > MAX_NESTING:
            raise FormatError("values are nested too deeply")
        raw = self.unpack(_U8)
        try:
            tag = _Tag(raw)
        except ValueError:
            raise FormatError(f"unknown value tag {raw} at byte {self.pos - 1}") from None
        if tag is _Tag.UNDEF:
            return Undef
        if tag is _Tag.FALSE:
            return False
        if tag is _Tag.TRUE:
            return True
        if tag is _Tag.INT:
            return self.unpack(_I64)
        if tag is _Tag.FLOAT:
            return self.unpack(_F64)
        if tag is _Tag.STR:
            return self.str()
        if tag is _Tag.ARRAY:
            return [self.value(depth + 1) for _ in range(self.count("array length"))]
        if tag is _Tag.HASH:
            out: dict[str, Any] = {}
            for _ in range(self.count("hash size", 5)):
                key = self.str()
                out[key] = self.value(depth + 1)
            return out
        if tag is _Tag.STATUS:
            return Status(self.unpack(_I32))
        if tag is _Tag.REF:
            return Ref(self.value(depth + 1))
        return NativeFn(self.unpack(_U16))

    def instr(self) -> tuple[Any, ...]:
        number = self.unpack(_U16)
        try:
            op = Op(number)  # (not `OPS`, which builds every op's spec)
        except ValueError:
            raise FormatError(f"unknown opcode {number:#x} at byte {self.pos - 2}") from None
        operands = [self.unpack(_KIND_STRUCT[o.kind]) for o in op.spec.operands]
        return (op, *operands)

    def chunk(self, depth: int = 0) -> Any:
        if depth > MAX_NESTING:
            raise FormatError("sub-chunks are nested too deeply")
        source = self.str()
        slot_count = self.unpack(_U32)
        constants = [self.value() for _ in range(self.count("constant"))]
        names = [self.str() for _ in range(self.count("name", 4))]
        ops = [self.instr() for _ in range(self.count("op", 2))]
        lines = [self.unpack(_U32) for _ in range(len(ops))]
        entries = [(self.unpack(_U16), self.unpack(_U32))
                   for _ in range(self.count("sub entry", 6))]
        ranges = [(self.unpack(_U32), self.unpack(_U32))
                  for _ in range(self.count("block range", 8))]
        subs = [self.chunk(depth + 1) for _ in range(self.count("sub-chunk", 4))]
        return self.make(ops, constants, names, lines, slot_count, subs, ranges, entries,
                         source)


def load(data: bytes, make: Callable[..., Any], *, trusted: bool = False) -> Any:
    """Load and verify a serialized chunk built with `make` (the Chunk class); raises
    FormatError on any bad input.

    `trusted=True` is for bytes this process's own kind wrote from a verified chunk and
    kept under an integrity check (the compile cache): the structural checks still run,
    the verifier's flow analysis does not, and the chunk counts as verified.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FormatError(f"chunk data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < _HEADER.size + _CHECK_LEN:
        raise FormatError(f"chunk data is truncated ({len(data)} bytes)")
    magic, version, schema, length = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise FormatError("not a fusevm chunk (bad magic)")
    if version != FORMAT_VERSION:
        raise FormatError(f"chunk format version {version} is not supported "
                          f"(this fusevm reads version {FORMAT_VERSION})")
    if schema != _SCHEMA:
        raise FormatError(f"chunk was written for op-table schema {schema.hex()}, "
                          f"this fusevm has {SCHEMA_HASH}")
    end = _HEADER.size + length
    if end + _CHECK_LEN != len(data):
        raise FormatError(f"chunk data is truncated or has trailing bytes "
                          f"({len(data)} bytes, header says {end + _CHECK_LEN})")
    if blake2b(data[:end], digest_size=_CHECK_LEN).digest() != data[end:]:
        raise FormatError("chunk data is corrupted (checksum mismatch)")
    r = _Reader(data, _HEADER.size, end, make)
    chunk = r.chunk()
    if r.pos != end:
        raise FormatError(f"{end - r.pos} unexpected bytes after the chunk record")
    if trusted:
        chunk.mark_verified()
        return chunk
    from fusevm.verify import verify
    try:
        verify(chunk)
    except BuildError as e:
        raise FormatError(f"invalid chunk: {e}") from e
    except VMError as e:  # pragma: no cover - verify raises BuildError only
        raise FormatError(f"invalid chunk: {e}") from e
    return chunk
