"""Baseline code from the disk cache: a later process loads a compiled region instead of
compiling it, with the same results, errors and compile decisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.process

PROGRAM = r'''
import json, sys
import fusevm.jit.cache as cache
from fusevm import VM, VMError
from fusevm.asm import assemble
from fusevm.baseline import compiler
text = """
    LoadInt 0
    SetSlot 0
    LoadFloat 0.5
    SetSlot 1
top:
    GetSlot 1
    GetSlot 0
    Add
    SetSlot 1
    PreIncSlotVoid 0
    GetSlot 0
    LoadInt 20000
    NumLt
    JumpIfTrue top
    GetSlot 1
    GetSlot 0
    LoadInt DIVISOR
    Mod
    Div
"""
out = []
for divisor in (7, 20000):  # the second divides by zero
    vm = VM(assemble(text.replace("DIVISOR", str(divisor)), source="cached.fasm"))
    try:
        result = [repr(vm.run()), None]
    except VMError as e:
        result = [None, [type(e).__name__, e.op, e.ip, e.line, str(e)]]
    out.append(result + [list(map(repr, vm.slots)), vm.ip])
disk = cache.STORE.stats
print(json.dumps({"runs": out, "compiles": compiler.stats()["compiles"],
                  "loads": disk.loads, "stores": disk.stores, "rejects": disk.rejects}))
'''


def _run(cache_dir: str) -> dict[str, Any]:
    env = dict(os.environ, FUSEVM_JIT_CACHE_DIR=cache_dir)
    env.pop("FUSEVM_BASELINE", None)
    proc = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found: dict[str, Any] = json.loads(proc.stdout)
    return found


def test_a_later_process_loads_the_compiled_region(tmp_path: Path) -> None:
    without = _run("off")
    cold = _run(str(tmp_path / "c"))
    warm = _run(str(tmp_path / "c"))
    # Same results, errors (class, op, ip, line, message), frames, and compile decisions.
    assert cold["runs"] == without["runs"] == warm["runs"]
    assert without["runs"][1][1][0] == "ZeroDivision"
    assert cold["compiles"] == without["compiles"] == warm["compiles"] == 2
    assert (cold["loads"], cold["stores"]) == (0, 2)
    assert (warm["loads"], warm["stores"], warm["rejects"]) == (2, 0, 0)
    assert len(list((tmp_path / "c").glob("*.code.fjit"))) == 2


def test_a_damaged_region_entry_is_compiled_again(tmp_path: Path) -> None:
    cold = _run(str(tmp_path / "c"))
    for path in (tmp_path / "c").glob("*.code.fjit"):
        data = bytearray(path.read_bytes())
        data[-5] ^= 0xFF
        path.write_bytes(bytes(data))
    again = _run(str(tmp_path / "c"))
    assert again["runs"] == cold["runs"]
    assert (again["loads"], again["rejects"], again["stores"]) == (0, 2, 2)
