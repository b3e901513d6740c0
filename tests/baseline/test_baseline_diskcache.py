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


def test_an_entry_that_does_not_fit_is_compiled_again(tmp_path: Path) -> None:
    """A well-formed file whose body is not a region's (or names constants the chunk does
    not have) is a reject: the region is compiled as if it were not there."""
    import marshal

    from fusevm import VM
    from fusevm.asm import assemble
    from fusevm.baseline import diskcache
    from fusevm.baseline.regions import plan
    from fusevm.jit import cache

    text = PROGRAM.split('text = """')[1].split('"""')[0].replace("DIVISOR", "7")
    cache.set_dir(tmp_path / "c")
    cache.STORE.reset()
    try:
        want = VM(assemble(text, source="fit.fasm")).run()
        (entry,) = (tmp_path / "c").glob("*.code.fjit")
        chunk = assemble(text, source="fit.fasm")
        VM(chunk)
        index = plan(chunk).region_of[0]
        key = diskcache._key(chunk, index, None)
        for body in (b"", marshal.dumps((1, 2)),
                     marshal.dumps((compile("x = 1", "f", "exec"), {}, (), (("k0_x", 0, 0),),
                                    None))):
            entry.unlink()
            cache.STORE.store(diskcache.TAG, key, {}, body)
            before = cache.STORE.stats.rejects
            assert diskcache.load(chunk, plan(chunk), index, None) is None
            assert cache.STORE.stats.rejects == before + 1
            entry = next((tmp_path / "c").glob("*.code.fjit"))
        assert VM(assemble(text, source="fit.fasm")).run() == want
    finally:
        cache.set_dir(None)
        cache.STORE.reset()


AWK_PROGRAM = r'''
import io, json, sys
import fusevm.jit.cache as cache
from fusevm.baseline import compiler
from fusevm.lang.awk.main import main
data = sys.argv[1]
out = io.BytesIO()
status = main(["{ s += $2; n[$1]++ } END { print s; for (k in n) c++; print c }", data],
              stdout=out)
disk = cache.STORE.stats
from fusevm.lang.awk.ops import AWK
bodies = sum(b._make is not None for b in AWK.bodies.values())  # each made from the cache
print(json.dumps({"out": out.getvalue().decode(), "status": status,
                  "compiles": compiler.stats()["compiles"], "loads": disk.loads,
                  "stores": disk.stores, "rejects": disk.rejects, "bodies": bodies}))
'''


def test_awk_regions_with_inlined_extension_ops_are_cached(tmp_path: Path) -> None:
    # awk's record loop inlines its ops' statements (`ExtensionSet.body`): the constants
    # they bind are made again from the ops when a later process loads the region.
    data = tmp_path / "in.txt"
    data.write_text("".join(f"k{i % 13} {i}\n" for i in range(6000)))

    def run(cache_dir: str) -> dict[str, Any]:
        # (eager: on an input this short the tier would not compile the record loop)
        env = dict(os.environ, FUSEVM_JIT_CACHE_DIR=cache_dir, FUSEVM_BASELINE="eager")
        proc = subprocess.run([sys.executable, "-c", AWK_PROGRAM, str(data)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        found: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
        return found

    without, cold = run("off"), run(str(tmp_path / "c"))
    warm = run(str(tmp_path / "c"))
    assert cold["out"] == without["out"] == warm["out"] == f"{sum(range(6000))}\n13\n"
    assert cold["compiles"] == without["compiles"] == warm["compiles"] >= 1
    # The awk chunk, the interpreter's function of every op body it bound and every
    # compiled region were stored, and all of them loaded again.
    assert cold["bodies"] >= 1
    assert cold["stores"] == 1 + cold["bodies"] + cold["compiles"]
    assert (warm["loads"], warm["stores"], warm["rejects"]) == (cold["stores"], 0, 0)


@pytest.mark.parametrize("ip, operand", [(0, "value"), (12, "name"), (7, "slot_2")])
def test_an_operand_constant_s_name_reads_back(ip: int, operand: str) -> None:
    """The disk cache finds a bound constant's op and operand again from the name the code
    generator gave it: one function spells it, one reads it."""
    from fusevm.baseline.pieces import operand_local, operand_of
    assert operand_of(operand_local(ip, operand)) == (ip, operand)


@pytest.mark.parametrize("name", ["k", "k_x", "kx_y", "s0", "k1", "k1_", "k٣_x", "k1_2x"])
def test_other_names_are_no_operand_constants(name: str) -> None:
    from fusevm.baseline.pieces import operand_of
    assert operand_of(name) is None
