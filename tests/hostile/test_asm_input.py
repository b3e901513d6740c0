"""Hostile assembler text: every failure is an AsmError with file:line:col, never a raw one."""

from __future__ import annotations

import pytest

from fusevm.asm import assemble
from fusevm.errors import AsmError
from fusevm.limits import MAX_NESTING

CASES = {
    "escape above U+10FFFF": ('LoadConst "\\U00110000"', 1),
    "5,000-digit integer operand": ("Nop\nLoadInt " + "9" * 5000, 2),
    "5,000-digit integer constant": ("LoadConst " + "9" * 5000, 1),
    "5,000-digit hex integer": ("LoadInt 0x" + "f" * 5000, 1),
    "integer constant beyond 64 bits": ("LoadConst 99999999999999999999", 1),
    "integer inside an array constant beyond 64 bits": ("LoadConst [1, 18446744073709551616]", 1),
    "Status code beyond 32 bits": ("LoadConst Status(4294967296)", 1),
    "NativeFn id beyond 16 bits": ("LoadConst NativeFn(70000)", 1),
    "constant index out of range": ("LoadConst #5", 1),
    "65,537 names": ("\n".join(f"GetVar n{i}" for i in range(65537)) + "\nPop", 65537),
    "1,000 nested .chunk": (".chunk a\n" * 1000 + ".end\n" * 1000, None),
    "deeply nested array literal": ("LoadConst " + "[" * 5000 + "]" * 5000, 1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_assembler_text_raises_located_asm_error(name: str) -> None:
    text, line = CASES[name]
    with pytest.raises(AsmError) as info:
        assemble(text, source="hostile.fasm")
    err = info.value
    assert err.source == "hostile.fasm"
    assert err.line is not None and err.line >= 1
    if line is not None:
        assert err.line == line
    assert str(err).startswith("hostile.fasm:")


def test_1200_labels_on_one_line_fail_only_for_being_unused_duplicates() -> None:
    """Many labels on a line are legal; they all bind to the op that follows them."""
    text = " ".join(f"l{i}:" for i in range(1200)) + " Nop\nJump l1199"
    chunk = assemble(text)
    assert len(chunk.ops) == 2


def test_chunks_nested_to_the_limit_assemble() -> None:
    depth = MAX_NESTING
    text = ".chunk a\n" * depth + "Nop\n" + ".end\n" * depth
    chunk = assemble(text)
    for _ in range(depth):
        chunk = chunk.sub_chunks[0]
    assert not chunk.sub_chunks


def test_chunks_nested_past_the_limit_name_the_line() -> None:
    depth = MAX_NESTING + 1
    text = ".chunk a\n" * depth + "Nop\n" + ".end\n" * depth
    with pytest.raises(AsmError) as info:
        assemble(text, source="deep.fasm")
    assert info.value.line == depth
    assert "nested" in info.value.message


def test_nested_chunks_are_matched_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """`.chunk`/`.end` pairs are matched once for the whole text, not rescanned per level
    (100 levels around a long text were 100 scans of it)."""
    from fusevm import asm
    calls: list[int] = []
    real = asm._chunk_ends

    def counting(lines: list[tuple[int, str]]) -> dict[int, int]:
        calls.append(len(lines))
        return real(lines)
    monkeypatch.setattr(asm, "_chunk_ends", counting)
    depth = MAX_NESTING
    chunk = assemble(".chunk a\n" * depth + "Nop\n" * 1000 + ".end\n" * depth)
    assert calls == [2 * depth + 1000]
    for _ in range(depth):
        chunk = chunk.sub_chunks[0]
    assert len(chunk.ops) == 1000
