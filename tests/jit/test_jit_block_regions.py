"""Higher-order blocks' code as native regions: generated programs with blocks agree with the
interpreter when every hot point (a block start, a loop header inside a block) is compiled
at its first entry, and code two regions share at different stack depths stays
interpreted."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from oracle import check_program
from progs import RandomSource, generate

from conftest import requires_llvmlite
from fusevm import VM, VMError
from fusevm.asm import assemble
from fusevm.jit import get_config, set_config
from fusevm.jit.policy import JitHook
from fusevm.jit.region import cut
from fusevm.values import same_value

pytestmark = requires_llvmlite

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
#: The conformance programs with blocks (a block's region is compiled at its first entry).
WITH_BLOCKS = sorted(p for p in PROGRAMS.glob("*.fasm") if ".block" in p.read_text("utf-8"))


@pytest.fixture(autouse=True)
def regions_at_once() -> Iterator[None]:
    old = set_config(get_config().replace(region_threshold=1))
    yield
    set_config(old)


def test_generated_programs_with_blocks_agree_with_native_block_regions() -> None:
    """The tier refuses these programs whole (they run blocks and call functions); their
    blocks' code and loops run natively as regions, which must not change a thing."""
    tally: dict[str, int] = {}
    for seed in range(400):
        program = generate(RandomSource(6_100_000 + seed), straight=False)
        if not program.block_ops():
            continue
        how, problems = check_program(program, ("block",))
        assert not problems, f"seed {seed}: " + "\n".join(problems) + "\n" + program.text()
        tally[how["block"]] = tally.get(how["block"], 0) + 1
    # Enough of them (the generator's blocks are a third of the branchy programs) and
    # enough run regions natively, or this test has lost what it tests.
    assert sum(tally.values()) >= 80, tally
    assert tally.get("regions", 0) >= 30, tally


def test_code_shared_at_two_stack_depths_is_not_a_region() -> None:
    chunk = assemble((PROGRAMS / "shared_block_code.fasm").read_text(encoding="utf-8"))
    start = chunk.block_ranges[0][0]
    why = cut(chunk, start)
    assert isinstance(why, str) and "different stack depths" in why, why


def test_code_running_past_a_block_end_it_shares_is_not_a_region() -> None:
    """The outer block's code holds the inner block and goes on past its end: entered at
    the inner block's loop header by the inner block, it would not stop there."""
    chunk = assemble((PROGRAMS / "nested_block_loop.fasm").read_text(encoding="utf-8"))
    (inner, inner_end), (outer, _) = chunk.block_ranges
    why = cut(chunk, outer)
    assert isinstance(why, str) and f"past the end ({inner_end})" in why, why
    assert not isinstance(cut(chunk, inner), str)  # the inner block's own code is one


def _run(path: Path, jit: bool) -> tuple[Any, ...]:
    chunk = assemble(path.read_text(encoding="utf-8"), source=path.name)
    out = io.StringIO()
    vm = VM(chunk, stdout=out)
    if jit:
        vm.set_tier_hook(JitHook(False, force="block"))
    try:
        result: Any = vm.run()
        error = None
    except VMError as e:
        result, error = None, (type(e).__name__, e.message, e.op, e.ip, e.line, e.backtrace)
    return result, error, out.getvalue(), list(vm.slots), list(vm.stack), list(vm.globals)


@pytest.mark.parametrize("path", WITH_BLOCKS, ids=lambda p: p.stem)
def test_programs_with_blocks_agree_with_native_block_regions(path: Path) -> None:
    ref, got = _run(path, False), _run(path, True)
    assert same_value(ref[0], got[0]), (ref[0], got[0])
    assert ref[1:3] == got[1:3]
    for a, b in zip(ref[3:], got[3:]):
        assert len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b)), (a, b)


def test_the_conformance_programs_have_blocks() -> None:
    assert len(WITH_BLOCKS) >= 4, WITH_BLOCKS
