"""Replay every saved fuzz input (seeds and the crashers found so far) through its target,
and run each target briefly under the fuzzer (Atheris when installed, else hypothesis).

Crashers found so far (kept in corpus/, named crash-*):
* load/crash-slot-count-65536: the verifier accepts 65,536 slots (slot 65535 needs them),
  the disassembler writes `.slots 65536`, and the assembler refused it: a loaded chunk did
  not survive disassembly. One `MAX_SLOTS` now governs both.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from targets import TARGETS

HERE = Path(__file__).resolve().parent
CASES = sorted((p.parent.name, p) for p in (HERE / "corpus").glob("*/*"))


@pytest.mark.parametrize("name,path", CASES, ids=[f"{n}/{p.name}" for n, p in CASES])
def test_saved_input_keeps_its_target_invariant(name: str, path: Path) -> None:
    TARGETS[name](path.read_bytes())


def test_atheris_sees_the_package_coverage() -> None:
    """Under Atheris the package's modules are instrumented (the module pack, which serves
    code compiled without the instrumentation, is off in the fuzzing process): the run
    starts with hundreds of coverage edges, not a handful."""
    pytest.importorskip("atheris")
    proc = subprocess.run([sys.executable, str(HERE / "run.py"), "asm", "--runs", "20",
                           "--seed", "17"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    inited = next(line for line in proc.stderr.splitlines() if "INITED" in line)
    assert int(inited.split("cov: ")[1].split()[0]) > 200, inited


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_short_fuzz_run_finds_nothing(name: str) -> None:
    """A few seconds per target with a fixed seed and a fixed number of runs (so the run
    is the same every time: no flakiness); `make fuzz-input` runs for minutes."""
    proc = subprocess.run([sys.executable, str(HERE / "run.py"), name, "--runs", "300",
                           "--seed", "17"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
