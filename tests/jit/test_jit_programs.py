"""The conformance programs and the JIT benchmark workloads agree in every tier.

Programs with I/O or calls stay in the interpreter (the tiers refuse them); the others run
natively and must print, return and fail exactly as the interpreter does.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from jitkit import runs

from conftest import requires_llvmlite
from fusevm import VM, VMError
from fusevm.asm import assemble
from fusevm.bench import jit_workloads as jw
from fusevm.jit import JitCompiler
from fusevm.jit.policy import JitHook
from fusevm.values import same_value

PROGRAMS = sorted((Path(__file__).parent.parent / "programs").glob("*.fasm"))


def _run(chunk: Any, tier: str | None, slots: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    out = io.StringIO()
    vm = VM(chunk, stdout=out, stdin=io.StringIO("a b\nc\n"))
    vm.slots[:len(slots)] = slots
    if tier is not None:
        vm.set_tier_hook(JitHook(False, force=tier))
    try:
        result: Any = vm.run()
        error = None
    except VMError as e:
        result, error = None, (type(e).__name__, e.message, e.op, e.ip, e.line)
    return result, error, out.getvalue(), list(vm.slots), list(vm.stack)


@requires_llvmlite
@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
@pytest.mark.parametrize("fuse", [False, True], ids=["plain", "fused"])
def test_conformance_programs_agree_in_the_block_tier(path: Path, fuse: bool) -> None:
    chunk = assemble(path.read_text(encoding="utf-8"), source=path.name)
    if fuse:
        from fusevm.peephole.fuse import fuse as run_fusion
        chunk = run_fusion(chunk)
    ref = _run(chunk, None)
    got = _run(chunk, "block")
    assert same_value(ref[0], got[0]), (ref[0], got[0])
    assert ref[1:3] == got[1:3]
    for a, b in ((ref[3], got[3]), (ref[4], got[4])):
        assert len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b)), (a, b)


def _all_workloads() -> list[Any]:
    small = [w.shrunk for w in jw.WORKLOADS if w.shrunk is not None]
    return [*small, jw.counter_loop(100), jw.loop_with_branch(100), jw.slot_mixed(),
            jw.slot_bitwise(), jw.slot_float(), jw.slot_float(200, 2.5)]


@pytest.mark.parametrize("workload", _all_workloads(), ids=lambda w: w.name)
def test_jit_workloads_give_their_expected_results(tier: str, workload: Any) -> None:
    chunk = workload.reference()
    if tier == "linear" and JitCompiler().why_not(chunk, "linear") is not None:
        pytest.skip("not a straight-line workload")
    before = runs(tier)
    result = _run(chunk, None if tier == "interp" else tier, workload.slots)[0]
    assert workload.check(result), (result, workload.expected)
    if tier != "interp":
        assert runs(tier) == before + 1
