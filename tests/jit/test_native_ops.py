"""Loops no native tier will run, told apart without loading the tiers (`jit.native_ops`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import requires_llvmlite
from fusevm.asm import assemble
from fusevm.instr import encode
from fusevm.jit import extension
from fusevm.jit.native_ops import loop_never_native, never_native
from fusevm.jit.trace.recorder import static_refusal
from fusevm.lang.awk.api import compile_program
from fusevm.lang.awk.ops import AWK
from fusevm.loops import loop_facts
from fusevm.ops import Op
from fusevm.tools import gen_native

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _instr(op: object) -> tuple[object, ...]:
    return encode(op, (0,) * len(op.spec.operands))  # type: ignore[arg-type, attr-defined]


@requires_llvmlite  # (every module of the package imports only with llvmlite)
def test_the_generated_lists_are_current() -> None:
    # `python -m fusevm.tools.gen_native` rewrites them after a lowering rule changes.
    assert gen_native.PATH.read_text(encoding="utf-8") == gen_native.module_source(
        *gen_native.traceable())


def test_never_native_is_the_trace_recorders_own_test() -> None:
    ops = [op for op in Op if op not in (Op.Extended, Op.ExtendedWide)] + list(AWK)
    for op in ops:
        instr = _instr(op)
        assert never_native(instr) == (static_refusal(instr) is not None), op.name
    assert never_native(_instr(Op.PrintLn)) and not never_native(_instr(Op.Add))
    assert never_native(_instr(AWK["AwkNextRecord"])) and never_native(_instr(AWK["AwkForNext"]))
    assert not never_native(_instr(AWK["AwkNum"]))


def test_a_lowering_registered_at_run_time_counts() -> None:
    op = AWK["AwkForNext"]

    class Claims:
        def name(self) -> str:
            return "test-claims-AwkForNext"

        def op_count(self) -> int:
            return 1

        def can_jit(self, ext_id: int) -> bool:
            return ext_id == op.id

        def emit_extended(self, ext_id: int, arg: int, cx: object) -> bool:
            return False

    extension.register_global_extension(Claims())  # type: ignore[arg-type]
    try:
        assert not never_native(_instr(op))
    finally:
        extension.unregister_global_extension("test-claims-AwkForNext")
    assert never_native(_instr(op))


@pytest.mark.parametrize(("program", "never"), [
    ("{ c[$1]++ }", [True]),  # the record loop reads input at its header
    ("END { for (k in c) n++; print n }", [True, True]),  # for-in steps its keys there
    ("BEGIN { for (i = 0; i < 9; i++) s += i * 2; print s }", [False]),
    ("{ while (i < NF) s += $(++i) } END { print s }", [True, False]),
])
def test_a_loop_is_never_native_when_its_header_block_holds_such_an_op(
        program: str, never: list[bool]) -> None:
    chunk = compile_program(program, fuse=False)
    headers = sorted(loop_facts(chunk).back_edges)
    assert [loop_never_native(chunk, h) for h in headers] == never


#: A fresh process runs awk's PROGRAM on FILE and says whether the native tiers loaded.
_PROBE = """
import io, sys
from fusevm.lang.awk.main import main
main(["-f", sys.argv[1], sys.argv[2]], stdout=io.BytesIO())
print("fusevm.jit.plan" in sys.modules)
"""


def _tiers_loaded(tmp_path: Path, program: str) -> bool:
    prog = tmp_path / "prog.awk"
    prog.write_text(program)
    data = tmp_path / "data.txt"
    data.write_text("".join(f"w{i % 97} {i}\n" for i in range(2000)))
    env = dict(os.environ, PYTHONPATH=SRC, FUSEVM_JIT_CACHE_DIR="off")
    out = subprocess.run([sys.executable, "-c", _PROBE, str(prog), str(data)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return out.split()[-1] == "True"


@pytest.mark.parametrize("program", [
    "{ c[$1]++ } END { for (k in c) n++; print n }",
    "function f(x) { return x * 2 } { s += f($2) } END { print s }",
])
def test_awk_does_not_load_the_native_tiers_for_loops_they_cannot_run(
        tmp_path: Path, program: str) -> None:
    assert not _tiers_loaded(tmp_path, program)


@requires_llvmlite
def test_awk_loads_them_for_a_numeric_loop(tmp_path: Path) -> None:
    assert _tiers_loaded(tmp_path, "BEGIN { for (i = 0; i < 100000; i++) s += i; print s }")


_RUN = """
import sys
from fusevm import VM
from fusevm.asm import assemble
vm = VM(assemble(sys.argv[1]))
vm.enable_tracing_jit()
vm.run()
print("fusevm.jit.plan" in sys.modules)
"""

#: A loop printing at its header: no native tier runs PrintLn.
_PRINTING = """
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    PrintLn 1
    PreIncSlotVoid 0
    GetSlot 0
    LoadInt 300
    NumLt
    JumpIfTrue top
"""


def test_the_native_hook_leaves_such_a_loop_to_the_tier_below() -> None:
    assemble(_PRINTING)  # (it assembles)
    env = dict(os.environ, PYTHONPATH=SRC, FUSEVM_JIT_CACHE_DIR="off")
    out = subprocess.run([sys.executable, "-c", _RUN, _PRINTING], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[:300] == [str(i) for i in range(300)]
    assert out[-1] == "False"
