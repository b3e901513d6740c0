"""`fusevm run` on hostile files: one `file:line: message` line and exit 1, no traceback
(only `--traceback` shows the Python stack)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fusevm.asm import assemble

TEXTS = {
    "escape.fasm": 'LoadConst "\\U00110000"\n',
    "digits.fasm": "LoadInt " + "9" * 5000 + "\n",
    "labels.fasm": " ".join(f"l{i}:" for i in range(1200)) + " Nop\nJump l5\n",
    "nested.fasm": ".chunk a\n" * 1000 + ".end\n" * 1000,
    "names.fasm": "\n".join(f"GetVar n{i}" for i in range(65537)) + "\n",
    "concat.fasm": 'LoadConst "x"\nSetSlot 0\ntop:\nGetSlot 0\nGetSlot 0\nConcat\nSetSlot 0\n'
                   "Jump top\n",
}


def _run(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fusevm", "run", *extra, str(path)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", [n for n in TEXTS if n not in ("labels.fasm",)])
def test_run_prints_one_located_line_for_hostile_text(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(TEXTS[name])
    proc = _run(path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(path)), proc.stderr


def test_run_accepts_many_labels_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "labels.fasm"
    path.write_text(" ".join(f"l{i}:" for i in range(1200)) + " LoadInt 3\nPrintLn 1\n")
    proc = _run(path)
    assert proc.returncode == 0 and proc.stdout == "3\n", proc.stderr


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_run_rejects_damaged_serialized_chunks_in_one_line(tmp_path: Path, damage: str) -> None:
    data = bytearray(assemble('LoadConst "hello"\nPrintLn 1').to_bytes())
    if damage == "truncate":
        data = data[:-7]
    elif damage == "flip":
        data[20] ^= 0xFF
    else:
        data = data[:4] + bytearray(b"\xff" * 40)
    path = tmp_path / "bad.fvm"
    path.write_bytes(bytes(data))
    proc = _run(path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_traceback_flag_still_shows_the_stack(tmp_path: Path) -> None:
    path = tmp_path / "escape.fasm"
    path.write_text(TEXTS["escape.fasm"])
    proc = _run(path, "--traceback")
    assert proc.returncode != 0 and "Traceback" in proc.stderr
