"""The serialized format: round trips, versioning, and robustness against bad bytes."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusevm.chunk import Chunk
from fusevm.errors import FormatError
from fusevm.serialize import FORMAT_VERSION, MAGIC

from strategies import straight_chunks

HEADER = struct.Struct("<4sH8sI")


@given(straight_chunks())
def test_every_chunk_round_trips_with_the_same_digest(chunk: Chunk) -> None:
    data = chunk.to_bytes()
    back = Chunk.from_bytes(data)
    assert back == chunk
    assert back.digest() == chunk.digest()
    assert back.to_bytes() == data


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_format_error(data: bytes) -> None:
    with pytest.raises(FormatError):
        Chunk.from_bytes(MAGIC + data)
    with pytest.raises(FormatError):
        Chunk.from_bytes(data)


@given(straight_chunks(), st.data())
def test_any_mutation_or_truncation_is_rejected(chunk: Chunk, data: st.DataObject) -> None:
    raw = bytearray(chunk.to_bytes())
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(FormatError):
        Chunk.from_bytes(bytes(raw))
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(FormatError):
        Chunk.from_bytes(chunk.to_bytes()[:cut])


@given(straight_chunks(), st.data())
def test_payload_mutations_with_a_valid_checksum_load_or_raise_format_error(
        chunk: Chunk, data: st.DataObject) -> None:
    # Forge the checksum so the parser and verifier, not the hash, meet the bad bytes.
    import hashlib
    raw = bytearray(chunk.to_bytes()[:-16])
    start = HEADER.size
    if len(raw) > start:
        i = data.draw(st.integers(start, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    forged = bytes(raw) + hashlib.blake2b(bytes(raw), digest_size=16).digest()
    try:
        Chunk.from_bytes(forged)
    except FormatError:
        pass


def test_wrong_version_and_schema_are_named_in_the_error() -> None:
    from fusevm.asm import assemble
    data = bytearray(assemble("LoadInt 1").to_bytes())
    struct.pack_into("<H", data, 4, FORMAT_VERSION + 1)
    with pytest.raises(FormatError, match="format version 2 is not supported"):
        Chunk.from_bytes(bytes(data))
    data = bytearray(assemble("LoadInt 1").to_bytes())
    data[6:14] = b"\0" * 8
    with pytest.raises(FormatError, match="schema"):
        Chunk.from_bytes(bytes(data))


def test_digest_ignores_names_lines_and_source_but_not_constants() -> None:
    from fusevm.asm import assemble
    a = assemble('.source "a"\nLoadConst "x"')
    b = assemble('.source "b"\n\n\nLoadConst "x"')
    c = assemble('LoadConst "y"')
    assert a.digest() == b.digest() != c.digest()
