"""The JIT disk cache across processes: cold then warm, damaged files, racing writers, `off`.

Each test runs small Python programs in fresh interpreters sharing one temporary cache
directory and reads back what they report: the result, the JIT counters, and whether
llvmlite was imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import requires_llvmlite
from fusevm.jit.cache import pack

pytestmark = [pytest.mark.process, requires_llvmlite]

PROGRAM = r'''
import json, sys
from fusevm import VM
from fusevm.asm import assemble
import fusevm.jit as jit
PATCH
jit.set_config(jit.get_config().replace(block_threshold=0, reopt_after=0))
text = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
loop:
    GetSlot 0
    LoadInt 100000
    NumLt
    JumpIfFalse done
    GetSlot 1
    GetSlot 0
    LoadInt 3
    Mul
    BitXor
    SetSlot 1
    PreIncSlotVoid 0
    Jump loop
done:
    GetSlot 1
"""
vm = VM(assemble(text, source="cached.fasm"))
vm.enable_jit()
result = vm.run()
at_result = sorted(m for m in ("llvmlite", "fusevm.jit.trace.tier", "dataclasses",
                               "importlib.util") if m in sys.modules)
s = jit.stats()
print(json.dumps({"result": result, "block": s["block"], "disk": s["disk"],
                  "llvmlite": "llvmlite" in sys.modules, "at_result": at_result}))
'''


def expected() -> int:
    acc = 0
    for i in range(100000):
        acc ^= i * 3
    return acc


def run(cache: Path | str, patch: str = "", env: dict[str, str] | None = None,
        reopt: str = "reopt_after=0") -> dict[str, Any]:
    e = dict(os.environ, FUSEVM_JIT_CACHE_DIR=str(cache), **(env or {}))
    e.pop("FUSEVM_JIT", None)
    program = PROGRAM.replace("PATCH", patch).replace("reopt_after=0", reopt)
    out = subprocess.run([sys.executable, "-c", program], env=e,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["result"] == expected()
    return report


def blobs(d: Path) -> list[Path]:
    """The packs of native code (one per key space)."""
    return sorted(d.glob(f"*{pack.PACK_SUFFIX}"))


def test_cold_then_warm_process(tmp_path: Path) -> None:
    cold = run(tmp_path)
    assert cold["block"]["compiles"] == 1 and cold["disk"]["stores"] == 1
    assert cold["llvmlite"]
    warm = run(tmp_path)
    assert warm["block"]["compiles"] == 0 and warm["block"]["runs"] == 1
    assert warm["disk"]["loads"] == 1 and warm["disk"]["rejects"] == 0
    assert not warm["llvmlite"], "a warm process must not import llvmlite"
    # Nor, before its first result, the trace tier (not asked for), `dataclasses` or
    # importlib.util: a warm process starts at most 1.5x as slowly as an interpreted one
    # (benchmarks/bench_cache.py), and these were most of the difference.
    assert warm["at_result"] == [], warm["at_result"]


def test_a_re_optimisation_under_way_at_exit_reaches_the_cache(tmp_path: Path) -> None:
    """A process too short to finish re-optimising its unit waits for it at exit (at most
    `runtime.EXIT_WAIT`), so the optimised code is cached: the next process loads it and
    does not import llvmlite to optimise the first code again (nor the next, ...)."""
    reopt = "reopt_after=1000000, reopt_after_seconds=0.0"  # (at once, in the background)
    first = run(tmp_path, reopt=reopt)
    # (its stores when it prints: the first code, and the optimised code too when the
    # background re-optimisation ended first, as it may on a busy machine)
    assert first["block"]["compiles"] == 1 and first["disk"]["stores"] in (1, 2)
    for _ in range(2):
        warm = run(tmp_path, reopt=reopt)
        assert warm["disk"]["loads"] == 1 and warm["block"]["compiles"] == 0
        assert warm["block"]["reopts"] == 0
        assert not warm["llvmlite"], "the optimised code was not cached"


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "version", "garbage"])
def test_damaged_file_is_a_miss_then_replaced(tmp_path: Path, damage: str) -> None:
    run(tmp_path)
    (path,) = blobs(tmp_path)
    (rec,) = pack.records(str(path))
    data = path.read_bytes()
    if damage == "flip":
        at = rec.offset + rec.body_at + rec.body_len - 5  # in the code
        data = data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1:]
    elif damage == "truncate":
        data = data[:len(data) // 2 + 7]
    elif damage == "empty":
        data = b""
    elif damage == "version":
        data = data[:8] + b"\x00\x00" + data[10:]
    else:
        data = os.urandom(len(data))
    path.write_bytes(data)
    again = run(tmp_path)
    assert again["disk"]["rejects"] == 1 and again["disk"]["loads"] == 0
    assert again["block"]["compiles"] == 1 and again["disk"]["stores"] == 1
    assert [r.key for r in pack.records(str(path))] == [rec.key]  # a valid record again
    assert run(tmp_path)["disk"]["loads"] == 1


def test_foreign_cpu_entry_is_never_used(tmp_path: Path) -> None:
    run(tmp_path)
    patch = ("import fusevm.jit.cache.native as n\n"
             "n.cpu_identity = lambda: ('other-os', 'other-machine', 'flags=none')\n")
    other = run(tmp_path, patch)
    assert other["disk"]["loads"] == 0 and other["block"]["compiles"] == 1
    assert len(blobs(tmp_path)) == 2  # one pack per CPU, side by side
    # a pack renamed to the other CPU's name fails its key-space check
    a, b = blobs(tmp_path)
    a.write_bytes(b.read_bytes())
    b.write_bytes(a.read_bytes()[:pack.PACK_HEADER] + b"\0")
    mixed = run(tmp_path)
    assert mixed["disk"]["loads"] == 0 and mixed["disk"]["rejects"] == 1


def test_six_processes_racing_on_an_empty_directory(tmp_path: Path) -> None:
    cache = tmp_path / "race"
    e = dict(os.environ, FUSEVM_JIT_CACHE_DIR=str(cache))
    procs = [subprocess.Popen([sys.executable, "-c", PROGRAM.replace("PATCH", "")], env=e,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1])["result"] == expected()
    (path,) = blobs(cache)
    records = pack.records(str(path))
    assert 1 <= len(records) <= 6 and len({r.key for r in records}) == 1
    assert not list(cache.glob("*.tmp"))
    assert os.stat(cache).st_mode & 0o777 == 0o700
    warm = run(cache)
    assert warm["disk"]["loads"] == 1 and not warm["llvmlite"]


APPENDER = r'''
import sys
from fusevm.jit import cache
from fusevm.jit.cache.store import key_digest
me = int(sys.argv[1])
for i in range(25):
    body = bytes([me]) * (50 + i)
    assert cache.STORE.store_packed(b"r" * 16, "blk", key_digest(me, i), {"n": i}, body)
'''


def test_processes_appending_to_one_pack_lose_nothing(tmp_path: Path) -> None:
    """Six processes append 25 records each to one pack at once: every record is there,
    whole, in some order."""
    e = dict(os.environ, FUSEVM_JIT_CACHE_DIR=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(me)], env=e,
                              stderr=subprocess.PIPE, text=True) for me in range(6)]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    (path,) = blobs(tmp_path)
    from fusevm.jit.cache.store import key_digest
    got = {r.key: r.body_len for r in pack.records(str(path))}
    assert got == {key_digest(me, i): 50 + i for me in range(6) for i in range(25)}
    assert not list(tmp_path.glob("*.tmp"))


def test_size_cap_from_the_environment(tmp_path: Path) -> None:
    run(tmp_path)
    (path,) = blobs(tmp_path)
    size = path.stat().st_size
    stale = [tmp_path / f"{i:032x}.chunk.fjit" for i in range(8)]  # loose entries
    for i, p in enumerate(stale):
        p.write_bytes(b"\0" * size)
        os.utime(p, (1_000_000 + i, 1_000_000 + i))  # older than any real entry
    path.unlink()
    report = run(tmp_path, env={"FUSEVM_JIT_CACHE_MAX_BYTES": str(size * 4)})
    assert report["disk"]["evictions"] >= 5
    total = sum(p.stat().st_size for p in tmp_path.glob("*.fjit"))
    assert total <= size * 4 * 0.8 + 1
    assert len(blobs(tmp_path)) >= 1 and path.exists()  # the newest entry stays


def test_off_disables_the_cache(tmp_path: Path) -> None:
    for word in ("off", "0", "disabled"):
        report = run(word, env={"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)})
        assert report["disk"]["stores"] == 0 and report["disk"]["loads"] == 0
    assert list(tmp_path.iterdir()) == []


def test_default_directory_follows_xdg(tmp_path: Path) -> None:
    e = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    e.pop("FUSEVM_JIT_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", PROGRAM.replace("PATCH", "")], env=e,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(blobs(tmp_path / "fusevm-jit")) == 1


def test_awk_second_run_loads_the_compiled_program(tmp_path: Path) -> None:
    prog = tmp_path / "prog.awk"
    prog.write_text("".join(f"{{ s{i} += $1 * {i} }}\n" for i in range(50))
                    + "END { print s49 }\n")
    e = dict(os.environ, FUSEVM_JIT_CACHE_DIR=str(tmp_path / "c"))
    for _ in range(2):
        out = subprocess.run([sys.executable, "-m", "fusevm.cli", "awk", "-f", str(prog)],
                             input="1\n2\n", env=e, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout == "147\n"
    assert len(list((tmp_path / "c").glob("*.chunk.fjit"))) == 1
