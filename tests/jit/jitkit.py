"""Small helpers for hand-written JIT tests: assemble, run in a tier, compare with the oracle."""

from __future__ import annotations

from typing import Any

from oracle import Snapshot, compare, snapshot
from progs import Program

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


#: The fields of a unit record's metadata, in order (`native.encode_unit_meta`).
UNIT_FIELDS = ("entry", "pipeline", "codegen", "ops", "blocks", "copy_out", "results",
               "helpers", "traps", "top", "made_by")


def unit_record_fields(data: bytes, at: int) -> dict[str, Any]:
    """The fields of the unit metadata at `at` of a pack's bytes, by name."""
    import marshal
    return dict(zip(UNIT_FIELDS, marshal.loads(data[at:]), strict=True))
