"""Root code run whole natively (fusevm.jit.trace.main) against the interpreter."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import requires_llvmlite
from fusevm.asm import assemble
from fusevm.bench.jit_workloads import ACK_SUB, FIB_REPEATED, FIB_SUB
from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.interp.vm import VM
from fusevm.jit import dump, get_config, set_config, stats
from fusevm.jit.policy import JitHook
from fusevm.jit.trace import main, tier
from fusevm.jit.trace.funcir import NotPure, emit_main
from fusevm.jit.unit import FUEL_MAX

pytestmark = requires_llvmlite

FIB = "LoadInt {n}\nCall fib 1\nReturnValue\n" + FIB_SUB
#: The benchmark's shape: the root code jumps over the function to the chunk's end.
FIB_JUMP = "LoadInt {n}\nCall fib 1\nJump end\n" + FIB_SUB + "end:\n    Nop\n"
ACK = "LoadInt {m}\nLoadInt {n}\nCall ack 2\nReturnValue\n" + ACK_SUB
#: A loop in the root code, root slots set, two values left on the stack.
SUM_FIBS = """
    LoadInt 99
    LoadInt 0
    SetSlot 1
    LoadInt {n}
top:
    Dup
    Call fib 1
    GetSlot 1
    Add
    SetSlot 1
    Dec
    Dup
    LoadInt 0
    NumGt
    JumpIfTrue top
    GetSlot 1
""" + "    Jump end\n" + FIB_SUB + "end:\n    Nop\n"
#: Root code the interpreter keeps, with the reason `emit_main` gives.
REFUSED = [
    ("LoadInt 5\nGetVar g\nPop\nCall fib 1\nReturnValue\n" + FIB_SUB, "GetVar"),
    ("LoadInt 5\nLoadInt 1\nLoadInt 2\nNumLt\nJumpIfFalse skip\nLoadInt 7\nSetSlot 1\n"
     "skip:\nCall fib 1\nReturnValue\n" + FIB_SUB, "some paths only"),
    ("GetSlot 1\nCall fib 1\nReturnValue\n" + FIB_SUB, "before setting it"),
    ("LoadInt 5\nCall g 1\nReturnValue\n.sub g\n    LoadFloat 1.5\n    Add\n"
     "    ReturnValue\n", "not a native function"),
]


@pytest.fixture(autouse=True)
def quick() -> Iterator[None]:
    old = set_config(get_config().replace(region_threshold=3, reopt_after=0,
                                          cache_enabled=False))
    tier.reset()
    yield
    set_config(old)


def outcome(chunk: Chunk, traced: bool, **kw: Any) -> tuple[Any, ...]:
    vm = VM(chunk, **kw)
    if traced:
        vm.set_tier_hook(JitHook(True))
    try:
        result: Any = vm.run()
        error = None
    except VMError as e:
        result, error = None, (type(e).__name__, e.message, e.op, e.ip)
    return (result, error, list(vm.stack), len(vm.frames), vm.ip, vm.halted,
            list(vm.slots), list(vm.globals))


@pytest.mark.parametrize("text", [FIB.format(n=n) for n in (2, 15)]
                         + [FIB_JUMP.format(n=18), SUM_FIBS.format(n=9)]
                         + [ACK.format(m=m, n=n) for m, n in ((1, 5), (2, 3))])
def test_root_code_runs_whole_natively_from_the_second_vm(text: str) -> None:
    chunk = assemble(text)
    want = outcome(chunk, False)
    assert outcome(chunk, True) == want  # the first VM makes the function native
    before = dict(main.COUNTS)
    for _ in range(3):
        assert outcome(chunk, True) == want
    assert main.COUNTS["compiled"] == before["compiled"] + 1
    assert main.COUNTS["runs"] == before["runs"] + 3
    assert stats()["trace"]["native_whole_runs"] == main.COUNTS["runs"]


def test_the_repeated_benchmark_runs_whole_natively() -> None:
    chunk = assemble(FIB_REPEATED.replace("{reps}", "4"))
    want = outcome(chunk, False)
    before = main.COUNTS["runs"]
    for _ in range(3):
        assert outcome(chunk, True) == want
    assert main.COUNTS["runs"] >= before + 1


@pytest.mark.parametrize("text, reason", REFUSED)
def test_impure_root_code_is_interpreted(text: str, reason: str) -> None:
    chunk = assemble(text)
    want = outcome(chunk, False)
    before = dict(main.COUNTS)
    for _ in range(3):
        assert outcome(chunk, True) == want
    assert main.COUNTS["runs"] == before["runs"]
    with pytest.raises(NotPure, match=reason):
        emit_main(chunk, {ip: 1 for _, ip in chunk.sub_entries
                          if "LoadFloat" not in text})


@pytest.mark.parametrize("limits", [{"max_depth": 6}, {"max_depth": 15}, {"max_size": 9}])
def test_limits_raise_where_the_interpreter_raises(limits: dict[str, int]) -> None:
    """Native calls stay below the frame count past which a Call checks the depth and
    size limits: past it the interpreter runs the call and raises."""
    chunk = assemble(FIB.format(n=30))
    outcome(chunk, True)  # fib native; the root code is compiled by the next VM
    want = outcome(chunk, False, **limits)
    assert want[1] is not None
    before, runs = main.COUNTS["fallbacks"], main.COUNTS["runs"]
    for _ in range(3):
        assert outcome(chunk, True, **limits) == want
    assert main.COUNTS["fallbacks"] == before + 1  # then it is not tried again
    assert outcome(chunk, True) == outcome(chunk, False)  # with room, natively again
    assert main.COUNTS["runs"] > runs


def test_a_stop_in_native_code_leaves_the_run_to_the_interpreter_unchanged() -> None:
    chunk = assemble(SUM_FIBS.format(n=20))
    want = outcome(chunk, False)
    outcome(chunk, True)
    assert main.native_main(chunk) is not None
    vm = VM(chunk)
    stop = ctypes.c_int64(-FUEL_MAX)  # what an interrupt makes the fuel word say
    before = main.COUNTS["fallbacks"]
    assert main.try_run(vm, ctypes.addressof(stop)) is False
    assert main.COUNTS["fallbacks"] == before + 1
    assert (vm.ip, vm.stack, len(vm.frames), vm.halted) == (0, [], 1, False)
    vm.set_tier_hook(JitHook(True))
    assert vm.run() == want[0] and list(vm.slots) == want[6]


def test_budgets_and_strict_mode_interpret() -> None:
    chunk = assemble(FIB.format(n=15))
    outcome(chunk, True)
    before = main.COUNTS["runs"]
    for kw in ({"strict_int": True},):
        assert outcome(chunk, True, **kw) == outcome(chunk, False, **kw)
    vm = VM(chunk)
    vm.set_tier_hook(JitHook(True))
    plain = VM(chunk)
    with pytest.raises(VMError) as got:
        vm.run(max_steps=500)
    with pytest.raises(VMError) as wanted:
        plain.run(max_steps=500)
    assert (got.value.ip, vm.stack, vm.ip) == (wanted.value.ip, plain.stack, plain.ip)
    assert main.COUNTS["runs"] == before


def test_jit_dump_says_the_root_code_runs_natively() -> None:
    chunk = assemble(FIB.format(n=10))
    outcome(chunk, True)
    outcome(chunk, True)
    assert "root code: runs whole natively" in dump(chunk)


def test_root_code_is_reoptimised_and_loaded_from_the_disk_cache(tmp_path: Any) -> None:
    set_config(get_config().replace(cache_enabled=True, cache_dir=tmp_path,
                                    reopt_background=True, reopt_after=8))
    from fusevm.jit import wait_reoptimized
    from fusevm.jit.trace import calls
    chunk = assemble(SUM_FIBS.format(n=12))
    want = outcome(chunk, False)
    before = dict(main.COUNTS)
    for _ in range(2):
        assert outcome(chunk, True) == want
    nm = main.native_main(chunk)
    assert nm is not None and nm.native.pipeline == calls.QUICK_PIPELINE
    assert wait_reoptimized(30)
    assert main.COUNTS["reopts"] == before["reopts"] + 1
    assert nm.native.pipeline == get_config().reopt_pipeline
    assert outcome(chunk, True) == want
    tier.reset()  # a new process: its first run loads the root code and the function
    loaded = calls.COUNTS["loaded"]
    assert outcome(chunk, True) == want
    assert calls.COUNTS["loaded"] == loaded + 2
    assert main.COUNTS["runs"] == before["runs"] + 3  # the 2nd, 3rd and 4th VMs
    assert wait_reoptimized(30) and main.COUNTS["reopts"] == before["reopts"] + 1


PURE_SEEDS = range(40)
_pure_totals: dict[str, int] = {}


@pytest.mark.parametrize("seed", PURE_SEEDS)
def test_generated_root_codes_agree_with_the_interpreter(seed: int) -> None:
    from trace_progs import pure_program
    chunk = assemble(pure_program(seed))
    want = outcome(chunk, False)
    before = dict(main.COUNTS)
    for _ in range(3):
        assert outcome(chunk, True) == want, seed
    for k, v in main.COUNTS.items():
        _pure_totals[k] = _pure_totals.get(k, 0) + v - before[k]


def test_generated_root_codes_exercise_every_path() -> None:
    if not _pure_totals:  # run alone
        for seed in PURE_SEEDS:
            test_generated_root_codes_agree_with_the_interpreter(seed)
    for key in ("compiled", "runs", "fallbacks", "refused"):
        assert _pure_totals.get(key, 0) > 0, (key, _pure_totals)


def test_runs_of_a_chunk_without_functions_do_not_load_the_native_root_code() -> None:
    """Only root code calling functions can run whole natively (`main_body`): a chunk
    with none is interpreted without loading `trace.main` (nor what it imports)."""
    import subprocess
    import sys
    from pathlib import Path
    src = Path(__file__).resolve().parents[2] / "src"
    script = ("import sys\n"
              "from fusevm import VM\n"
              "from fusevm.asm import assemble\n"
              "chunk = assemble('LoadConst \"s\"\\nPrintLn 1\\nLoadInt 1\\nFIB')\n"
              "for _ in range(3):\n"
              "    vm = VM(chunk); vm.enable_tracing_jit(); assert vm.run() == 1\n"
              "print('fusevm.jit.plan' in sys.modules, 'fusevm.jit.trace.main' in sys.modules)\n")
    for text, loaded in ((script.replace("\\nFIB", ""), "False"),
                         (script.replace("FIB", "ReturnValue\\n" + FIB_SUB.replace(
                             "\n", "\\n")), "True")):
        proc = subprocess.run([sys.executable, "-c", text], capture_output=True, text=True,
                              env={"PYTHONPATH": str(src)}, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[-1] == f"True {loaded}"
