"""awk programs through the trace tier: same output as the interpreter, loops traced.

`fusevm awk` runs with `enable_tracing_jit()`; its numeric ops have native lowerings
(`fusevm.lang.awk.jit`), globals ride in trace slots and `$k`/NF/NR are read on entry.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import requires_llvmlite
from fusevm import VM, ChunkBuilder, Op, VMError
from fusevm.chunk import Chunk
from fusevm.jit import get_config, runtime, set_config
from fusevm.jit.policy import JitHook
from fusevm.jit.trace import tier
from fusevm.lang.awk.main import main
from fusevm.lang.awk.ops import AWK
from fusevm.lang.awk.state import AwkState

pytestmark = requires_llvmlite

SRC = Path(__file__).resolve().parents[2] / "src"

INPUT = "".join(f"{i} {i * 0.5} x{i} {i % 7}\n" for i in range(1, 120))

PROGRAMS = [
    # BEGIN loops over Float globals, with awk's % and /, branches and calls.
    "BEGIN { for (i = 0; i < 3000; i++) s += i * 0.5 - (i % 7); print s }",
    "BEGIN { n = 2000; while (i < n) { if (i % 3 == 0 && i > 2) x += i / 2; else x -= 1;"
    " i++ } print x, i }",
    "function f(x) { if (x % 2 == 0) return x / 2; return x * 3 + 1 }"
    " BEGIN { for (i = 1; i < 2000; i++) { c = i; k = 0; while (c != 1 && k < 50)"
    " { c = f(c); k++ } s += k } print s }",
    # Values that stop being numbers mid-loop, and a division by zero inside a trace.
    "BEGIN { for (i = 0; i < 500; i++) { s += i; if (i == 300) s = s \"\" } print s }",
    "BEGIN { for (i = 0; i < 500; i++) { s += 1 / (i - 400) } print s }",
    # Per-record loops reading fields and specials.
    "{ for (j = 0; j < 200; j++) s += j * $1 % 7 } END { print s }",
    "{ for (j = 1; j <= NF; j++) t += j * NR } END { print t }",
    "{ for (j = 0; j < 100; j++) if ($4 + 0 > 3) a += $2; else b -= j } END { print a, b }",
]


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    tier.reset()
    yield
    tier.reset()


def awk(program: str, jit: bool) -> tuple[int, str, str]:
    old = set_config(get_config().replace(enabled=jit, reopt_after=0))
    out = io.BytesIO()
    err = io.StringIO()
    try:
        status = main([program], stdin=io.BytesIO(INPUT.encode()), stdout=out, stderr=err)
    finally:
        set_config(old)
    return status, out.getvalue().decode(), err.getvalue()


@pytest.mark.parametrize("program", PROGRAMS)
def test_awk_programs_agree_with_the_interpreter(program: str) -> None:
    want = awk(program, False)
    tier.reset()
    got = awk(program, True)
    assert got == want
    assert tier.stats()["traces"] >= 1, tier.abort_reasons()


def test_a_begin_loop_runs_in_one_trace_entry() -> None:
    awk(PROGRAMS[0], True)
    s = tier.stats()
    assert s["traces"] == 1 and s["entries"] == 1 and s["aborts"] == 0
    # That one entry runs the whole loop: the unit is optimised from its first compile.
    cfg = get_config()
    units = [e.unit for key, e in runtime.entries() if key[1] == "trace" and e.unit]
    assert units and all((u.info.pipeline, u.info.codegen) ==
                         (cfg.reopt_pipeline, cfg.reopt_codegen) for u in units)


def test_a_cached_awk_program_still_traces(tmp_path: Path) -> None:
    """The second run takes the chunk from the compile cache, so nothing imports the awk
    compiler: the JIT must import the lowerings (`ExtensionSet.lowerings_from`) itself."""
    # (long enough for a fresh process to load the tiers: `jit.hook.LOAD_COST`)
    program = "BEGIN { for (i = 0; i < 100000; i++) s += i * 2 % 7; print s }"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PYTHONPATH": str(SRC)}
    env.pop("FUSEVM_JIT_CACHE_DIR", None)
    runs = [subprocess.run([sys.executable, "-m", "fusevm", "awk", "--jit-log", program],
                           capture_output=True, text=True, env=env, check=True)
            for _ in range(2)]
    for run in runs:
        assert run.stdout == "299998\n"
        assert "trace at op" in run.stderr and "compiled (" in run.stderr, run.stderr
        assert "no JIT lowering" not in run.stderr.split("trace at op")[1], run.stderr


def _undef_at(at: int) -> Chunk:
    """A loop adding i to a global with awk's + (AwkArith 0), where i is the core VM's
    Undef at iteration `at`: awk's to-number raises TypeError on it."""
    b = ChunkBuilder(source="undef.fasm")
    top, plain, add = b.label("top"), b.label("plain"), b.label("add")
    b.emit(Op.LoadFloat, 0.0)
    b.emit(Op.SetVar, "s")
    b.emit(Op.LoadInt, 0)
    b.emit(Op.SetSlot, 0)
    b.bind(top)
    b.emit(Op.GetVar, "s")
    b.emit(Op.GetSlot, 0)
    b.emit(Op.LoadInt, at)
    b.emit(Op.NumEq)
    b.emit(Op.JumpIfFalse, plain)
    b.emit(Op.LoadUndef)
    b.emit(Op.Jump, add)
    b.bind(plain)
    b.emit(Op.GetSlot, 0)
    b.bind(add)
    b.emit(AWK["AwkArith"], 0)
    b.emit(Op.SetVar, "s")
    b.emit(Op.SlotIncLtIntJumpBack, 0, 20, top)
    b.emit(Op.GetVar, "s")
    return b.build()


def _outcome(chunk: Chunk, traced: bool) -> tuple[Any, ...]:
    vm = VM(chunk, extensions=[AWK], baseline=False)
    vm.host_data["awk"] = AwkState()
    if traced:
        vm.set_tier_hook(JitHook(True))
    try:
        return vm.run(), None, vm.ip, list(vm.globals)
    except VMError as e:
        return None, (type(e).__name__, e.message, e.op, e.ip, tuple(e.backtrace)), vm.ip, \
            list(vm.globals)


@pytest.mark.parametrize("at", range(8))
def test_an_extension_ops_python_error_while_recording_is_its_located_error(at: int) -> None:
    # The interpreter makes a Python error from an extension op's step that op's VMError
    # (D1); the recorder, which runs the steps itself, leaves the op to the interpreter
    # to raise there, as it does a VMError (it let the TypeError escape the run).
    chunk = _undef_at(at)
    want = _outcome(chunk, False)
    assert want[1] is not None and want[1][2] == "AwkArith" and "TypeError" in want[1][1]
    old = set_config(get_config().replace(region_threshold=1, trace_threshold=1,
                                          reopt_after=0))
    try:
        got = _outcome(chunk, True)
    finally:
        set_config(old)
    assert got == want
