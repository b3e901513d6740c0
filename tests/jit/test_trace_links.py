"""Side traces compiled alone and linked to their parent's exit, then stitched in when hot
(fusevm.jit.trace.tier), against the interpreter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_trace import outcome, same

from conftest import requires_llvmlite
from fusevm.asm import assemble
from fusevm.jit import get_config, runtime, set_config
from fusevm.jit.trace import tier

pytestmark = requires_llvmlite

# From i = {flip} on, the other branch: its exit gets hot and a side trace is recorded
# there, at the loop's own frame with an empty stack (so it is linked).
FLIPPED = """
    LoadInt 0
    SetVar x
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    LoadInt {flip}
    NumLt
    JumpIfFalse late
    GetVar x
    LoadInt 1
    Add
    SetVar x
    Jump next
late:
    GetVar x
    LoadInt 3
    Mul
    SetVar x
next:
    GetSlot 0
    LoadInt 1
    Add
    SetSlot 0
    GetSlot 0
    LoadInt {n}
    NumLt
    JumpIfTrue top
    GetVar x
    ReturnValue
"""


@pytest.fixture(autouse=True)
def quick_traces() -> Iterator[None]:
    old = set_config(get_config().replace(region_threshold=2, trace_threshold=3,
                                          reopt_after=0, cache_enabled=False))
    tier.reset()
    yield
    set_config(old)


def run(text: str) -> tuple[dict[str, float], int]:
    """The traced run agrees with the interpreter; the trace counters and the trace
    units compiled."""
    chunk = assemble(text, source="links.fasm")
    want = outcome(chunk, False)
    tier.reset()
    before = runtime.stats().get("trace", {}).get("compiles", 0)
    got = outcome(chunk, True)
    assert same(want, got), f"{want}\n{got}"
    return tier.stats(), int(runtime.stats()["trace"]["compiles"] - before)


def test_a_hot_exit_s_side_trace_is_compiled_alone_and_linked() -> None:
    # A few trips after the exit got hot: the link is entered, never stitched in.
    counts, compiles = run(FLIPPED.format(flip=20, n=20 + tier.HOT_EXIT + 5))
    assert counts["side_units"] == counts["side_traces"] == 1
    assert counts["link_entries"] >= 4 and counts["merges"] == 0
    assert counts["side_exits"] == tier.HOT_EXIT  # the exits before the side trace
    assert compiles == 2  # the root's unit and the side trace's own: no whole-tree rebuild


def test_a_hot_link_is_stitched_into_one_unit() -> None:
    n = 20 + tier.HOT_EXIT + tier.MERGE_AFTER + 40
    counts, compiles = run(FLIPPED.format(flip=20, n=n))
    assert counts["side_units"] == 1 and counts["merges"] == 1
    assert counts["link_entries"] == tier.MERGE_AFTER  # then the tree runs it natively
    assert compiles == 3
    assert counts["side_exits"] == tier.HOT_EXIT


@pytest.mark.parametrize("chain", [0, 1, 2])
def test_the_chain_limit_bounds_side_traces(chain: int) -> None:
    set_config(get_config().replace(max_trace_chain=chain))
    # A second flip inside the side trace's path: its own exit gets hot too.
    text = FLIPPED.format(flip=20, n=200).replace(
        "late:\n", "late:\n    GetSlot 0\n    LoadInt 60\n    NumLt\n    JumpIfFalse later\n"
        "    Nop\nlater:\n")
    counts, _ = run(text)
    assert counts["side_traces"] <= chain
    chunk = assemble(text, source="links.fasm")
    outcome(chunk, True)
    assert all(t.chain <= chain for a in tier._anchors.values() if a.root is not None
               for t in a.root.walk())


def test_jit_log_says_linked_then_stitched() -> None:
    lines: list[str] = []
    runtime.set_log(lines.append)
    try:
        run(FLIPPED.format(flip=20, n=20 + tier.HOT_EXIT + tier.MERGE_AFTER + 10))
    finally:
        runtime.set_log(None)
    assert any("compiled alone, linked to exit" in line for line in lines)
    assert any("linked side traces stitched in" in line for line in lines)


def test_jit_dump_shows_a_linked_side_trace() -> None:
    from fusevm.jit import dump
    text = FLIPPED.format(flip=20, n=20 + tier.HOT_EXIT + 5)
    chunk = assemble(text, source="links.fasm")
    outcome(chunk, True)
    assert "compiled alone, linked to its parent's exit: entered" in dump(chunk)
