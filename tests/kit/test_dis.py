"""`fusevm dis` as a CPython-style listing that still assembles back to the same chunk."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fusevm.asm import assemble, disassemble
from fusevm.errors import AsmError

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "fusevm" / "examples"
OP_LINE = re.compile(r"^ +(\d+)? +(>>)? +(\d+)  ([A-Z]\w*)")

LOOP = """\
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    LoadInt 3
    NumLt
    JumpIfFalse done
    GetSlot 0
    Inc
    SetSlot 0
    Jump top
done:
    GetSlot 0
"""


def _rows(text: str) -> list[tuple[str | None, bool, int, str]]:
    rows = []
    for line in text.splitlines():
        m = OP_LINE.match(line)
        if m:
            rows.append((m.group(1), m.group(2) is not None, int(m.group(3)), m.group(4)))
    return rows


def test_every_op_has_an_offset_column_in_order() -> None:
    chunk = assemble(LOOP, source="loop.fasm")
    rows = _rows(disassemble(chunk))
    assert [r[2] for r in rows] == list(range(len(chunk.ops)))
    assert [r[3] for r in rows] == [d[0].name for d in chunk.ops]


def test_line_numbers_are_shown_once_per_line_change() -> None:
    chunk = assemble(".line 5\nLoadInt 1\nLoadInt 2\n.line 6\nAdd\n.line 6\nDup\n",
                     source="lines.fasm")
    assert [r[0] for r in _rows(disassemble(chunk))] == ["5", None, "6", None]


def test_jump_targets_are_marked() -> None:
    rows = _rows(disassemble(assemble(LOOP, source="loop.fasm")))
    marked = [offset for _, mark, offset, _ in rows if mark]
    assert marked == [2, 10]


def test_function_entries_are_marked_and_named() -> None:
    text = disassemble(assemble("Call f 0\nReturn\n.sub f\n    LoadInt 1\n    ReturnValue\n"))
    assert "L2:  ; f" in text.splitlines()
    assert any(r[1] and r[2] == 2 for r in _rows(text))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.fasm")), ids=lambda p: p.name)
def test_the_listing_assembles_back_to_the_same_chunk(path: Path) -> None:
    chunk = assemble(path.read_text(), source=path.name)
    listing = disassemble(chunk)
    again = assemble(listing, source=path.name)
    assert again == chunk and again.lines == chunk.lines


def test_the_offset_column_is_checked() -> None:
    with pytest.raises(AsmError, match="offset 3 does not match this op's index 1") as info:
        assemble("   1      0  LoadInt 1\n          3  LoadInt 2\n")
    assert (info.value.line, info.value.col) == (2, 11)


def test_hand_written_text_still_assembles() -> None:
    assert len(assemble(LOOP).ops) == 11
