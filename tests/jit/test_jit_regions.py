"""Regions (D15): hot loops and function bodies run natively inside chunks the tiers do not
take whole (I/O, calls, globals, extension ops, a root Return), entered at their hot point
and leaving at the exact op, deopts included; interrupts reach native loops (D18)."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import requires_llvmlite
from fusevm import VM, Interrupted, VMError
from fusevm.asm import assemble
from fusevm.jit import JitCompiler, get_config, set_config, set_log, stats
from fusevm.jit.region import cut

pytestmark = requires_llvmlite

PROGRAM = """
    LoadConst "start"
    PrintLn 1
    LoadInt 0
    SetSlot 0
    LoadFloat 0.5
    SetSlot 1
top:
    GetSlot 0
    LoadInt {n}
    NumLt
    JumpIfFalse done
    GetSlot 1
    GetSlot 0
    {op}
    SetSlot 1
    GetSlot 0
    LoadInt 1
    Add
    SetSlot 0
    Jump top
done:
    GetSlot 1
    SetVar result
    LoadInt 7
    Call twice 1
    GetVar result
    PrintLn 2
    GetVar result
    ReturnValue
.sub twice
    LoadInt 2
    Mul
    ReturnValue
"""


@pytest.fixture(autouse=True)
def hot_quickly() -> Any:
    old = set_config(get_config().replace(region_threshold=5, block_threshold=10**9))
    yield
    set_config(old)


def outcome(text: str, jit: bool, strict: bool = False) -> tuple[Any, ...]:
    chunk = assemble(text, source="region.fasm")
    out = io.StringIO()
    vm = VM(chunk, stdout=out, strict_int=strict)
    if jit:
        vm.enable_jit()
    try:
        result: Any = vm.run()
        error = None
    except VMError as e:
        result = None
        error = (type(e).__name__, e.op, e.ip, e.line)
    return result, error, out.getvalue(), list(vm.slots), list(vm.globals), vm.ip


def block_runs() -> float:
    return stats().get("block", {}).get("runs", 0)


def test_a_loop_runs_natively_inside_a_chunk_with_io_calls_and_a_root_return() -> None:
    text = PROGRAM.format(n=2000, op="Add")
    assert JitCompiler().why_not(assemble(text), "block") is not None  # not taken whole
    before = block_runs()
    assert outcome(text, True) == outcome(text, False)
    assert block_runs() > before


def test_the_region_of_a_loop_is_cut_with_exit_stubs() -> None:
    chunk = assemble(PROGRAM.format(n=10, op="Add"))
    region = cut(chunk, 6)
    assert not isinstance(region, str)
    assert region.kind == "loop" and region.entry == 6 and region.depth == 0
    assert 19 in region.ips  # the loop's exit resumes at `done`
    assert isinstance(cut(chunk, 0), str)  # not a hot point


def test_a_deopt_resumes_at_the_exact_op(caplog: Any) -> None:
    # Under strict_int the Mul overflows after some iterations: native code stops before
    # the Mul and hands the state there to the interpreter, which raises at that op.
    text = PROGRAM.format(n=100, op="Mul").replace("LoadFloat 0.5", "LoadInt 3")
    text = text.replace("GetSlot 1\n    GetSlot 0\n    Mul", "GetSlot 1\n    LoadInt 9\n    Mul")
    lines: list[str] = []
    set_log(lines.append)
    try:
        before = stats().get("block", {}).get("deopts", 0)
        got = outcome(text, True, strict=True)
    finally:
        set_log(None)
    assert got == outcome(text, False, strict=True)
    assert got[1] is not None and got[1][0] == "IntegerOverflow"
    assert stats()["block"]["deopts"] > before
    assert any("resumes there" in line for line in lines), lines


def test_a_loop_inside_a_function_runs_natively() -> None:
    text = """
        LoadInt 3000
        Call sum 1
        LoadInt 10
        Call sum 1
        Add
        ReturnValue
    .sub sum
        SetSlot 0
        LoadInt 0
        SetSlot 1
    loop:
        GetSlot 0
        LoadInt 0
        NumGt
        JumpIfFalse out
        GetSlot 1
        GetSlot 0
        Add
        SetSlot 1
        GetSlot 0
        LoadInt 1
        Sub
        SetSlot 0
        Jump loop
    out:
        GetSlot 1
        ReturnValue
    """
    before = block_runs()
    assert outcome(text, True) == outcome(text, False)
    assert outcome(text, True)[0] == 3000 * 3001 // 2 + 55
    assert block_runs() > before


def _random_program(rng: random.Random) -> str:
    ops = ["Add", "Sub", "Mul", "Div", "Mod"]
    body = []
    for _ in range(rng.randint(1, 4)):
        src = rng.choice(["GetSlot 0", "GetSlot 1", "GetSlot 2", "LoadInt 3", "LoadFloat 1.5",
                          f"LoadInt {rng.randint(-5, 5)}"])
        dst = rng.choice([1, 2])
        body.append(f"GetSlot {dst}\n    {src}\n    {rng.choice(ops)}\n    SetSlot {dst}")
    if rng.random() < 0.5:  # a slot that changes kind halfway through the loop
        body.append("GetSlot 0\n    LoadInt 40\n    NumEq\n    JumpIfFalse keep\n"
                    "    LoadFloat 0.25\n    SetSlot 2\nkeep:")
    n = rng.choice([30, 80, 200])
    return f"""
    LoadInt 0
    SetSlot 0
    LoadInt {rng.randint(-3, 9)}
    SetSlot 1
    LoadInt {rng.randint(1, 9)}
    SetSlot 2
    LoadConst "go"
    PrintLn 1
top:
    GetSlot 0
    LoadInt {n}
    NumLt
    JumpIfFalse done
    {chr(10).join(body)}
    GetSlot 0
    LoadInt 1
    Add
    SetSlot 0
    Jump top
done:
    GetSlot 1
    GetSlot 2
    PrintLn 2
    GetSlot 1
    GetSlot 2
    Add
    ReturnValue
"""


@pytest.mark.parametrize("seed", range(40))
def test_generated_loops_agree_with_the_interpreter(seed: int) -> None:
    rng = random.Random(seed)
    text = _random_program(rng)
    strict = rng.random() < 0.3
    want = outcome(text, False, strict)
    got = outcome(text, True, strict)
    if want[0] is not None and isinstance(want[0], float) and want[0] != want[0]:
        assert got[0] != got[0]  # NaN
        want, got = want[1:], got[1:]
    assert got == want, text


def test_interrupting_a_native_loop_and_resuming() -> None:
    text = PROGRAM.format(n=300_000_000, op="Add")
    chunk = assemble(text, source="long.fasm")
    vm = VM(chunk, stdout=io.StringIO())
    vm.enable_jit()
    # On a loaded machine the compile can outlast the delay: the run then stops at an
    # earlier boundary, and continuing it from there is part of what is tested.
    for _ in range(20):
        timer = threading.Timer(0.5, vm.interrupt)
        timer.start()
        started = time.monotonic()
        with pytest.raises(Interrupted):
            vm.run()
        assert time.monotonic() - started < 10
        if vm.ip == 6:
            break
    assert vm.ip == 6 and 0 < vm.slots[0] < 300_000_000  # at the loop header
    vm.slots[0] = 299_999_990  # skip ahead: the rest runs as if never stopped
    vm.slots[1] = 0.5
    assert vm.run() == 0.5 + sum(range(299_999_990, 300_000_000))


def test_ctrl_c_stops_a_native_loop_in_the_cli(tmp_path: Path) -> None:
    prog = tmp_path / "long.fasm"
    prog.write_text(PROGRAM.format(n=3_000_000_000, op="Add"))
    env = dict(os.environ, FUSEVM_JIT_REGION_THRESHOLD="5")
    proc = subprocess.Popen([sys.executable, "-m", "fusevm", "run", "--jit", str(prog)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"start\n"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    finally:
        proc.kill()
        proc.wait()


def test_most_generated_loops_really_run_natively() -> None:
    native = 0
    for seed in range(40):
        rng = random.Random(seed)
        text = _random_program(rng)
        strict = rng.random() < 0.3
        runs, deopts = block_runs(), stats().get("block", {}).get("deopts", 0)
        outcome(text, True, strict)
        native += block_runs() > runs or stats()["block"]["deopts"] > deopts
    assert native >= 20, f"only {native} of 40 generated loops ran natively"


def test_why_not_reports_per_region() -> None:
    chunk = assemble(PROGRAM.format(n=10, op="Add"), source="why.fasm")
    found = JitCompiler().why_not_regions(chunk)
    # The root's entry, the loop header and the entry of `twice`; the root prints.
    assert set(found) == {0, 6, 27}
    assert found[6] is None and found[27] is None and found[0] is not None
    refused = JitCompiler().why_not_regions(
        assemble(PROGRAM.format(n=10, op="Concat"), source="why.fasm"), "block")
    assert refused[6] is not None and "Concat" in refused[6]
