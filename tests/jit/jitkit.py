"""Small helpers for hand-written JIT tests: assemble, run in a tier, compare with the oracle."""

from __future__ import annotations

from typing import Any

from progs import Program, Snapshot, compare, snapshot

from fusevm.asm import assemble
from fusevm.chunk import Chunk
from fusevm.jit import stats

#: A counted sum loop (`n` trips; slot 1 ends as the sum of 0..n-1): one block unit.
SUM_LOOP = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
loop:
    GetSlot 0
    LoadInt {n}
    NumLt
    JumpIfFalse done
    GetSlot 1
    GetSlot 0
    Add
    SetSlot 1
    PreIncSlotVoid 0
    Jump loop
done:
    GetSlot 1
"""


def asm(text: str, source: str = "test.fasm") -> Chunk:
    return assemble(text, source=source)


def runs(tier: str) -> float:
    return stats().get(tier, {}).get("runs", 0)


def deopts(tier: str) -> float:
    return stats().get(tier, {}).get("deopts", 0)


def agree(chunk: Chunk, tier: str, slots: list[Any] | None = None, strict: bool = False,
          *, native: bool | None = True) -> tuple[Snapshot, Snapshot]:
    """Run in the interpreter and `tier`; assert they agree; return both snapshots.

    `native=True` also asserts the tier ran the chunk natively (a run counted), `False`
    that it did not (refused or deoptimised), None checks nothing.
    """
    program = Program([], list(slots or []), strict)
    ref = snapshot(program, chunk, None)
    if tier == "interp":
        return ref, ref
    before = runs(tier)
    got = snapshot(program, chunk, tier)
    diff = compare(ref, got)
    assert diff is None, f"{tier} differs from the interpreter: {diff}"
    if native is not None:
        ran = runs(tier) > before
        assert ran == native, f"{tier} {'did not run' if native else 'ran'} natively"
    return ref, got


def unit_record_fields(data: bytes, at: int) -> dict[str, Any]:
    """The fields of the unit metadata at `at` of a pack's bytes (the layout of
    `fusevm.jit.cache.native._UNIT_HEAD`), as `native.encode_unit_meta` takes them."""
    import struct

    from fusevm.jit.cache import native
    pipeline, entry, ops, blocks, n_out, n_res, n_help, traps, codegen = \
        native._UNIT_HEAD.unpack_from(data, at)
    at += native._UNIT_HEAD.size
    words = struct.unpack_from(f"={n_out + n_help}I", data, at)
    at += 4 * (n_out + n_help)
    return {"pipeline": pipeline.rstrip(b"\0").decode(), "entry": entry, "ops": ops,
            "blocks": blocks, "slots": list(words[:n_out]),
            "written": list(data[at:at + n_out]),
            "results": list(data[at + n_out:at + n_out + n_res]),
            "helpers": list(words[n_out:]), "traps": [t for t in range(32) if traps >> t & 1],
            "codegen": codegen}
