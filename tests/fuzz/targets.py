"""Fuzz targets for the input-facing parts of fusevm: the assembler, the deserializer, the
verifier, and the shell's word expansions. Each takes raw bytes and checks the invariant for
hostile input:

* only a `VMError` subclass may escape (anything else is a crash), and it names where;
* what is accepted round-trips: a verified chunk serializes and loads back to the same
  digest, and its disassembly assembles back to the same digest.

Used by `run.py` (Atheris, coverage-guided; or hypothesis when Atheris is missing) and by
test_fuzz_corpus.py, which replays every saved input. Imports of fusevm happen inside
`load()` so that Atheris can instrument them first.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from typing import Any

TARGETS: dict[str, Callable[[bytes], None]] = {}


class Crash(AssertionError):
    """A target's invariant failed: the input is a crasher."""


def target(fn: Callable[[bytes], None]) -> Callable[[bytes], None]:
    TARGETS[fn.__name__.removeprefix("fuzz_")] = fn
    return fn


def _expect_vm_error(exc: BaseException, what: str) -> None:
    from fusevm.errors import VMError
    if not isinstance(exc, VMError):
        raise Crash(f"{what} raised {type(exc).__name__}: {exc}") from exc


def _round_trip(chunk: Any, what: str) -> None:
    """A verified chunk survives to_bytes/from_bytes and disassemble/assemble unchanged."""
    from fusevm.asm import assemble, disassemble
    from fusevm.chunk import Chunk
    from fusevm.errors import FormatError
    try:
        data = chunk.to_bytes()
    except FormatError:
        return  # refused up front (too deep, a value it cannot write): a clear error
    back = Chunk.from_bytes(data)
    if back.digest() != chunk.digest():
        raise Crash(f"{what}: from_bytes(to_bytes(c)) differs from c")
    text = disassemble(chunk)
    again = assemble(text, source="<disassembly>")
    if again.digest() != chunk.digest():
        raise Crash(f"{what}: assemble(disassemble(c)) differs from c:\n{text}")


# -- Assembler ------------------------------------------------------------------------------

@target
def fuzz_asm(data: bytes) -> None:
    """Assembler text (UTF-8, undecodable bytes kept as surrogate escapes)."""
    from fusevm.asm import assemble
    from fusevm.errors import AsmError
    text = data.decode("utf-8", "surrogateescape")
    try:
        chunk = assemble(text, source="fuzz.fasm")
    except AsmError as e:
        if e.source != "fuzz.fasm" or not e.line or e.line < 1:
            raise Crash(f"AsmError without a location: {e!r}") from e
        return
    except BaseException as e:  # noqa: B902 - the point is to catch everything
        _expect_vm_error(e, "assemble")
        raise Crash(f"assemble raised {type(e).__name__} instead of AsmError: {e}") from e
    _round_trip(chunk, "assembled chunk")


# -- Deserializer ---------------------------------------------------------------------------

def _wrap(payload: bytes) -> bytes:
    """A well-formed header and checksum around `payload`, so mutations reach the parser."""
    from fusevm.ops import SCHEMA_HASH
    from fusevm.serialize import FORMAT_VERSION, MAGIC
    head = struct.pack("<4sH8sI", MAGIC, FORMAT_VERSION, bytes.fromhex(SCHEMA_HASH),
                       len(payload)) + payload
    return head + hashlib.blake2b(head, digest_size=16).digest()


@target
def fuzz_load(data: bytes) -> None:
    """Serialized chunk bytes: an odd first byte means raw bytes follow, an even one a
    chunk record to wrap in a valid header (so saved inputs outlive a schema change)."""
    from fusevm.chunk import Chunk
    from fusevm.errors import FormatError
    if not data:
        return
    blob = data[1:] if data[0] & 1 else _wrap(data[1:])
    try:
        chunk = Chunk.from_bytes(blob)
    except FormatError:
        return
    except BaseException as e:  # noqa: B902
        _expect_vm_error(e, "from_bytes")
        raise Crash(f"from_bytes raised {type(e).__name__} instead of FormatError: {e}") from e
    _round_trip(chunk, "loaded chunk")


# -- Verifier -------------------------------------------------------------------------------

class _Bytes:
    """Draws small numbers from the input; zeros once it runs out."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        return self.byte() | self.byte() << 8

    def i64(self) -> int:
        return struct.unpack("<q", bytes(self.byte() for _ in range(8)))[0]


def _operand(kind: Any, r: _Bytes, sizes: dict[str, int]) -> Any:
    """Mostly plausible operand values, with the edges of the kind's range and beyond."""
    from fusevm.ops import Kind
    pick = r.byte()
    if kind is Kind.FLOAT:
        return [0.0, -0.0, 1.5, float("inf"), float("nan"), 1e308][pick % 6]
    if pick < 160:
        pool = {Kind.CONST: "constants", Kind.NAME: "names", Kind.BLOCK: "blocks",
                Kind.SUB: "subs", Kind.TARGET: "ops", Kind.SLOT: "slots"}.get(kind)
        limit = sizes[pool] + 1 if pool else 8
        return pick % max(limit, 1)
    edges = [kind.lo, kind.hi, kind.lo - 1, kind.hi + 1, r.i64(), -1]
    return edges[pick % len(edges)]


def chunk_from_bytes(data: bytes, depth: int = 0) -> Any:
    """A Chunk built straight from the input, bypassing the builder's checks."""
    from fusevm.chunk import Chunk
    from fusevm.ops import OPS, Op
    r = _Bytes(data)
    ops_list = sorted(OPS)
    constants: list[Any] = [0, "s", 2.5, [1, "x"], {"k": 1}][:r.byte() % 6]
    names = [f"n{i}" for i in range(r.byte() % 4)]
    n = r.byte() % 24
    sizes = {"constants": len(constants), "names": len(names), "blocks": r.byte() % 3,
             "subs": 1 if depth < 2 and r.byte() % 4 == 0 else 0, "ops": n,
             "slots": r.byte() % 6}
    ops = []
    for _ in range(n):
        op = Op(ops_list[r.u16() % len(ops_list)])
        ops.append((op, *(_operand(o.kind, r, sizes) for o in op.spec.operands)))
    entries = [(r.byte() % (len(names) + 1), r.byte() % (n + 2)) for _ in range(r.byte() % 3)]
    blocks = [(r.byte() % (n + 2), r.byte() % (n + 2)) for _ in range(sizes["blocks"])]
    subs = [chunk_from_bytes(data[r.pos:], depth + 1)] if sizes["subs"] else []
    return Chunk(ops, constants, names, [1] * n, sizes["slots"], subs, blocks, entries,
                 source="fuzz")


@target
def fuzz_verify(data: bytes) -> None:
    """A chunk assembled from raw parts: verify() accepts it or raises a located BuildError."""
    from fusevm.errors import BuildError
    from fusevm.verify import verify
    chunk = chunk_from_bytes(data)
    try:
        verify(chunk)
    except BuildError as e:
        if e.source is None:
            raise Crash(f"BuildError without a source: {e!r}") from e
        return
    except BaseException as e:  # noqa: B902
        _expect_vm_error(e, "verify")
        raise Crash(f"verify raised {type(e).__name__} instead of BuildError: {e}") from e
    _round_trip(chunk, "verified chunk")


# -- Shell word expansions ------------------------------------------------------------------

#: Modifiers that take no shell pattern (the pattern ones run on the regex engine, which has
#: its own target once it is linear-time; a backtracking engine would turn fuzzing into
#: timeouts).
_PLAIN_MODS = (0, 1, 2, 3, 4, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)


@target
def fuzz_expand(data: bytes) -> None:
    """Brace expansion, IFS splitting, tilde expansion and the pattern-free `${...}` forms
    on arbitrary words: a result or a VMError (ResourceLimit, HostError), nothing else."""
    from fusevm.errors import VMError
    from fusevm.shell import expand
    text = data.decode("utf-8", "surrogateescape")
    parts = text.split("\x00")
    word = parts[0]
    arg = parts[1] if len(parts) > 1 else ""
    mod = _PLAIN_MODS[data[0] % len(_PLAIN_MODS)] if data else 0
    value: Any = parts[2:] if len(parts) > 3 else (parts[2] if len(parts) > 2 else None)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("brace_expand", lambda: expand.brace_expand(word)),
        ("word_split", lambda: expand.word_split(word, arg or None)),
        ("tilde_expand", lambda: expand.tilde_expand(word, env={"HOME": "/h"},
                                                     home_of=lambda user: None)),
        ("expand_param", lambda: expand.expand_param(
            "v", mod, [arg, word][:2], value=value, is_set=value is not None,
            lookup=lambda name: None)),
    ]
    for name, call in calls:
        try:
            call()
        except VMError:
            pass
        except BaseException as e:  # noqa: B902
            raise Crash(f"{name} raised {type(e).__name__}: {e}") from e
