"""Serialized chunks: what to_bytes writes from_bytes reads, and bad bytes are FormatErrors.

One nesting limit (`fusevm.limits.MAX_NESTING`) governs the builder, the verifier, the writer
and the reader, so a chunk either round-trips or is refused up front with a clear error.
"""

from __future__ import annotations

from typing import Any

import pytest

from fusevm import VM
from fusevm.chunk import Chunk, ChunkBuilder
from fusevm.errors import BuildError, FormatError
from fusevm.limits import MAX_NESTING
from fusevm.ops import Op
from fusevm.verify import verify


def nested_chunk(depth: int) -> Chunk:
    """A chunk with sub-chunks `depth` levels deep, built without the builder's checks."""
    chunk = Chunk([(Op.Nop,)], lines=[1], source="leaf")
    for _ in range(depth):
        chunk = Chunk([(Op.Nop,)], lines=[1], sub_chunks=[chunk], source="outer")
    return chunk


def nested_value(depth: int) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v]
    return v


def test_chunk_nested_to_the_limit_round_trips() -> None:
    chunk = nested_chunk(MAX_NESTING)
    verify(chunk)
    loaded = Chunk.from_bytes(chunk.to_bytes())
    assert loaded.digest() == chunk.digest()


def test_chunk_nested_past_the_limit_is_refused_by_writer_verifier_and_builder() -> None:
    chunk = nested_chunk(MAX_NESTING + 1)
    with pytest.raises(FormatError, match="nested more than"):
        chunk.to_bytes()
    with pytest.raises(BuildError, match="nested more than"):
        verify(chunk)
    b = ChunkBuilder(source="b")
    with pytest.raises(BuildError, match="nested more than"):
        b.add_sub_chunk(nested_chunk(MAX_NESTING))


def test_chunk_nested_thousands_deep_is_a_build_error_not_a_recursion_error() -> None:
    with pytest.raises(BuildError):
        verify(nested_chunk(5000))


def test_shared_sub_chunks_verify_in_linear_time() -> None:
    chunk = Chunk([(Op.Nop,)], lines=[1])
    for _ in range(60):  # 2**60 paths, 60 distinct chunks
        chunk = Chunk([(Op.Nop,)], lines=[1], sub_chunks=[chunk, chunk])
    verify(chunk)


def test_constant_nested_to_the_limit_round_trips() -> None:
    b = ChunkBuilder(source="c")
    b.emit(Op.LoadConst, b.add_constant(nested_value(MAX_NESTING)))
    chunk = b.build(fuse=False)
    assert Chunk.from_bytes(chunk.to_bytes()).constants == chunk.constants


def test_constant_nested_past_the_limit_is_refused_everywhere() -> None:
    deep = nested_value(MAX_NESTING + 1)
    with pytest.raises(BuildError, match="nested more than"):
        ChunkBuilder().add_constant(deep)
    chunk = Chunk([(Op.LoadConst, 0), (Op.Pop,)], constants=[deep], lines=[1, 1])
    with pytest.raises(BuildError, match="nested more than"):
        verify(chunk)
    with pytest.raises(FormatError, match="nested more than"):
        chunk.to_bytes()


def test_constant_nested_100_000_deep_is_refused_without_recursion() -> None:
    with pytest.raises(BuildError):
        ChunkBuilder().add_constant(nested_value(100_000))


@pytest.mark.parametrize("fields", [
    {"constants": [2 ** 100]}, {"constants": [{1}]}, {"constants": [None]},
    {"sub_chunks": ["x"]}, {"slot_count": 2.5}, {"source": None}, {"lines": [-1]},
    {"lines": ["x"]}, {"names": [5]}, {"names": ["f"], "sub_entries": [(-1, 0)]},
])
def test_a_chunk_made_directly_holds_only_what_the_vm_and_the_format_take(
        fields: dict[str, object]) -> None:
    """`Chunk(...)` takes anything; the verifier (which a VM, `to_bytes` and `digest`
    run first) refuses what is no VM value, line, name or sub-chunk, where it ran with
    a silently wrong result (a constant past 64 bits) or failed with a raw error."""
    chunk = Chunk([(Op.LoadConst, 0) if "constants" in fields else (Op.Nop,)],
                  **{"lines": [1], **fields})  # type: ignore[arg-type]
    with pytest.raises(BuildError):
        VM(chunk)
    with pytest.raises(FormatError):
        chunk.to_bytes()
    with pytest.raises(BuildError):
        chunk.digest()
