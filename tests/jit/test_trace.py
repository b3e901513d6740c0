"""The trace tier: lifecycle, IR, reference executor, native traces, side traces, metadata.

Every program runs in the interpreter (the oracle) and through the trace tier, natively
and in the IR's reference executor; everything the VM exposes must agree, and the trace
counters must show that traces were recorded, compiled, exited and stitched.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import requires_llvmlite
from fusevm.asm import assemble
from fusevm.bench.jit_workloads import CALLS, FLOAT_GLOBALS
from fusevm.chunk import Chunk
from fusevm.errors import BudgetExceeded, Interrupted, VMError
from fusevm.interp.vm import VM
from fusevm.jit import JitCompiler, TraceMetadata, get_config, runtime, set_config, set_log
from fusevm.jit.policy import JitHook
from fusevm.jit.trace import calls, tier
from fusevm.jit.trace.ir import build, format_ir
from fusevm.jit.trace.recorder import Steps, record
from fusevm.jit.trace.states import TRANSITIONS, Abort, Lifecycle, Phase
from fusevm.values import same_value

pytestmark = requires_llvmlite


@pytest.fixture(autouse=True)
def quick_traces() -> Iterator[None]:
    old = set_config(get_config().replace(region_threshold=2, trace_threshold=3,
                                          reopt_after=0))
    tier.reset()
    yield
    set_config(old)
    tier.use_reference_executor(False)
    tier.reset()


def outcome(chunk: Chunk, traced: bool, *, max_depth: int = 10_000,
            steps: int | None = None) -> tuple[Any, ...]:
    out = io.StringIO()
    vm = VM(chunk, stdout=out, max_depth=max_depth)
    if traced:
        vm.set_tier_hook(JitHook(True))
    result: Any = None
    error = None
    try:
        result = vm.run(max_steps=steps)
    except VMError as e:
        error = (type(e).__name__, e.message, e.op, e.ip, e.line)
    return (result, error, out.getvalue(), list(vm.globals), list(vm.slots),
            list(vm.stack), vm.ip, vm.halted, len(vm.frames))


def same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, list):
            if not (isinstance(y, list) and len(x) == len(y)
                    and all(same_value(p, q) for p, q in zip(x, y))):
                return False
        elif not (same_value(x, y) or x == y):
            return False
    return True


def agree(text: str, **kw: Any) -> dict[str, float]:
    """Interpreter vs native traces vs the IR executor; the trace counters."""
    chunk = assemble(text, source="trace.fasm")
    want = outcome(chunk, False, **kw)
    tier.reset()
    got = outcome(chunk, True, **kw)
    assert same(want, got), f"native traces differ:\n{want}\n{got}"
    counts = tier.stats()
    tier.reset()
    tier.use_reference_executor(True)
    try:
        ref = outcome(chunk, True, **kw)
    finally:
        tier.use_reference_executor(False)
    assert same(want, ref), f"the IR executor differs:\n{want}\n{ref}"
    return counts


# -- programs -------------------------------------------------------------------------------



# x is an Int until i reaches {flip}, then a Float: the trace recorded with Int x exits,
# and the loop's next entry needs a unit for Float x.
TYPE_FLIP = """
    LoadInt 0
    SetVar x
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    LoadInt {flip}
    NumEq
    JumpIfFalse same
    GetVar x
    LoadFloat 0.5
    Add
    SetVar x
same:
    GetVar x
    LoadInt 3
    Add
    SetVar x
    GetSlot 0
    LoadInt 1
    Add
    Dup
    SetSlot 0
    LoadInt {n}
    NumLt
    JumpIfTrue top
    GetVar x
    ReturnValue
"""

RECURSIVE = """
    LoadInt 0
    SetVar s
    LoadInt 0
    SetSlot 0
top:
    GetVar s
    LoadInt {depth}
    Call down 1
    Add
    SetVar s
    GetSlot 0
    LoadInt 1
    Add
    Dup
    SetSlot 0
    LoadInt {n}
    NumLt
    JumpIfTrue top
    GetVar s
    ReturnValue
.sub down
    SetSlot 0
    GetSlot 0
    LoadInt 0
    NumLe
    JumpIfFalse more
    LoadInt 1
    ReturnValue
more:
    GetSlot 0
    LoadInt 1
    Sub
    Call down 1
    GetSlot 0
    Add
    ReturnValue
"""

DIV_ERROR = """
    LoadInt 0
    SetVar s
    LoadInt 0
    SetSlot 0
top:
    GetVar s
    LoadInt 100
    GetSlot 0
    LoadInt {at}
    Sub
    Div
    Add
    SetVar s
    GetSlot 0
    LoadInt 1
    Add
    Dup
    SetSlot 0
    LoadInt {n}
    NumLt
    JumpIfTrue top
    GetVar s
    ReturnValue
"""


# -- lifecycle and abort reasons ------------------------------------------------------------

def test_abort_reasons_are_declared_once_with_distinct_messages() -> None:
    messages = [r.value for r in Abort]
    assert len(set(messages)) == len(messages)


def test_the_lifecycle_allows_only_its_transitions() -> None:
    life = Lifecycle()
    with pytest.raises(RuntimeError):
        life.move(Phase.PENALIZED)
    life.move(Phase.RECORDING)
    assert not life.aborted(Abort.TOO_LONG, 10)
    assert life.phase is Phase.PENALIZED and life.penalty == 10
    # The penalty doubles with every abort, then the anchor is blacklisted.
    for _ in range(2):
        life.move(Phase.RECORDING)
        life.aborted(Abort.TOO_LONG, 10)
    assert life.penalty == 40
    life.move(Phase.RECORDING)
    assert life.aborted(Abort.TOO_LONG, 10)
    assert life.phase is Phase.BLACKLISTED and not TRANSITIONS[Phase.BLACKLISTED]


# -- recorder and IR ------------------------------------------------------------------------

def test_the_recorder_writes_down_the_path_and_the_ir_snapshots_inlined_frames() -> None:
    chunk = assemble(CALLS.format(n=10), source="calls.fasm")
    vm = VM(chunk)
    vm.prepare()
    # Run the interpreter to the loop header (op 4) once, then record from there.
    ip = 0
    code = vm._code
    assert code is not None
    while ip != 4:
        ip = code[ip]()
    nxt, rec = record(vm, Steps(vm), 4, 4, 256, 4)
    assert nxt == 4 and not isinstance(rec, Exception)
    assert rec.ips[0] == 4 and 20 in rec.ips  # the callee's body is on the path
    ir = build(chunk, rec, 4)
    assert ir.globals == (chunk.names.index("i"), chunk.names.index("s"))
    kinds = [n.kind for n in ir.nodes]
    assert kinds.count("enter") == 1 and kinds.count("leave") == 1
    assert kinds[-1] == "close"
    inner = [n for n in ir.nodes if n.snap.frames]
    assert inner and all(n.snap.frames[0].return_ip == 11 for n in inner)
    guard = next(n for n in inner if n.kind == "guard")
    assert guard.exit is not None and guard.exit.frames == guard.snap.frames
    text = format_ir(ir, chunk)
    assert "inline f" in text and "guard" in text


def test_a_return_out_of_the_recording_frame_aborts() -> None:
    chunk = assemble(RECURSIVE.format(depth=2, n=10))
    vm = VM(chunk)
    vm.prepare()
    ip = 0
    code = vm._code
    assert code is not None
    while ip != 4:
        ip = code[ip]()
    _, rec = record(vm, Steps(vm), 4, 4, 256, 1)
    assert isinstance(rec, Exception) and rec.reason is Abort.RECURSION


# -- differential: interpreter, native traces, reference executor -----------------------------

def test_a_loop_over_float_globals_traces() -> None:
    counts = agree(FLOAT_GLOBALS.format(n=500))
    assert counts["traces"] == 1 and counts["loop_exits"] == 1 and counts["aborts"] == 0


def test_a_loop_calling_a_function_with_branches_stitches_a_side_trace() -> None:
    counts = agree(CALLS.format(n=600))
    assert counts["traces"] == 1
    assert counts["side_traces"] >= 1  # the callee's other branch became a side trace
    assert counts["side_exits"] >= tier.HOT_EXIT
    assert counts["blacklisted"] == 0


@pytest.mark.parametrize("flip", [1, 5, 40, 299])
def test_a_global_that_changes_kind_mid_loop(flip: int) -> None:
    counts = agree(TYPE_FLIP.format(flip=flip, n=300))
    assert counts["recordings"] >= 1


def test_inlined_recursion_within_the_bound() -> None:
    counts = agree(RECURSIVE.format(depth=2, n=200))
    assert counts["traces"] == 1


def test_recursion_beyond_the_bound_aborts_and_blacklists() -> None:
    counts = agree(RECURSIVE.format(depth=12, n=200))
    assert counts["traces"] == 0 and counts["aborts"] >= 1


@pytest.mark.parametrize("max_depth", [2, 3, 4])
def test_recursion_at_the_frame_limit_agrees_with_the_interpreter(max_depth: int) -> None:
    # `down 2` opens 3 frames: with max_depth 2 the interpreter raises RecursionLimit.
    chunk = assemble(RECURSIVE.format(depth=2, n=50))
    error = outcome(chunk, False, max_depth=max_depth)[1]
    assert (error is not None and error[0] == "RecursionLimit") == (max_depth == 2)
    counts = agree(RECURSIVE.format(depth=2, n=50), max_depth=max_depth)
    assert counts["traces"] == (0 if max_depth == 2 else 1)


def test_a_trace_steps_aside_where_its_inlined_calls_would_pass_the_frame_limit() -> None:
    # The loop runs inside `outer`; the trace, recorded there with frame room to spare,
    # inlines 3 calls. Entered again one frame deeper it would pass max_depth: it does
    # not run, and the interpreter raises RecursionLimit at the exact call.
    text = """
        LoadInt 1
        Call outer 1
        LoadInt 2
        Call outer 1
        Add
        ReturnValue
    .sub outer
        SetSlot 0
        GetSlot 0
        LoadInt 1
        NumGt
        JumpIfFalse go
        GetSlot 0
        LoadInt 1
        Sub
        Call outer 1
        ReturnValue
    go:
        LoadInt 0
        SetSlot 1
    top:
        LoadInt 2
        Call down 1
        Pop
        GetSlot 1
        LoadInt 1
        Add
        Dup
        SetSlot 1
        LoadInt 40
        NumLt
        JumpIfTrue top
        GetSlot 1
        ReturnValue
    .sub down
        SetSlot 0
        GetSlot 0
        LoadInt 0
        NumLe
        JumpIfFalse more
        LoadInt 1
        ReturnValue
    more:
        GetSlot 0
        LoadInt 1
        Sub
        Call down 1
        ReturnValue
    """
    chunk = assemble(text)
    error = outcome(chunk, False, max_depth=4)[1]
    assert error is not None and error[0] == "RecursionLimit"
    counts = agree(text, max_depth=4)
    assert counts["traces"] == 1 and counts["guard_mismatches"] >= 1


def test_an_error_inside_a_trace_is_raised_at_its_op() -> None:
    chunk = assemble(DIV_ERROR.format(at=150, n=400), source="div.fasm")
    want = outcome(chunk, False)
    assert want[1] is not None and want[1][0] == "ZeroDivision"
    counts = agree(DIV_ERROR.format(at=150, n=400))
    assert counts["traces"] == 1


#: A loop whose header is the start of a block ending inside the loop's body; the loop
#: runs that block once it is hot, so the block's frame enters the loop's hot point.
HEADER_STARTS_A_BLOCK = """
.block b top e
    LoadInt 0
    SetVar s
    LoadInt 0
    SetSlot 0
top:
    GetVar s
    LoadInt 1
    Add
    SetVar s
e:
    GetVar s
    LoadInt 100
    Add
    SetVar s
    GetSlot 0
    LoadInt 6
    NumEq
    JumpIfFalse skip
    LoadInt 1
    LoadInt 3
    Range
    ForEachBlock b
skip:
    SlotIncLtIntJumpBack 0 10 top
    GetVar s
"""


def test_a_loop_a_block_ends_inside_is_not_traced() -> None:
    # A trace entered by the block's frame went on round the loop past the block's end.
    chunk = assemble(HEADER_STARTS_A_BLOCK)
    assert outcome(chunk, False)[0] == 10 * 101 + 3
    counts = agree(HEADER_STARTS_A_BLOCK)
    assert counts["traces"] == 0 and counts["recordings"] == 0


def test_a_branch_that_flips_after_recording_exits_and_then_stitches() -> None:
    text = CALLS.format(n=400).replace("LoadInt 3\n    Mod\n    LoadInt 0\n    NumEq",
                                       "LoadInt 200\n    NumLt")
    counts = agree(text)
    assert counts["side_exits"] >= 1


def test_a_budget_hits_the_interpreter_even_with_a_compiled_trace() -> None:
    chunk = assemble(FLOAT_GLOBALS.format(n=3000))
    vm = VM(chunk)
    vm.set_tier_hook(JitHook(True))
    assert vm.run() == sum(i * 0.5 for i in range(3000))
    assert tier.stats()["traces"] == 1
    for steps in (10, 700, 5000):
        vm.reset()
        ref = VM(chunk)
        with pytest.raises(BudgetExceeded) as got:
            vm.run(max_steps=steps)
        with pytest.raises(BudgetExceeded) as want:
            ref.run(max_steps=steps)
        assert got.value.ip == want.value.ip and vm.globals == ref.globals


def test_an_interrupt_stops_a_native_trace_at_its_loop_header() -> None:
    chunk = assemble(FLOAT_GLOBALS.format(n=10 ** 12))
    vm = VM(chunk)
    vm.set_tier_hook(JitHook(True))
    with pytest.raises(Interrupted):
        vm.run(timeout=0.5)
    assert tier.stats()["entries"] >= 1
    assert vm.ip == 4  # the loop header, with the state there
    i = vm.globals[chunk.names.index("i")]
    assert isinstance(i, float) and i > 1000


def test_many_side_exits_blacklist_the_loop() -> None:
    set_config(get_config().replace(max_side_exits=5, max_trace_chain=0))
    counts = agree(CALLS.format(n=600))
    assert counts["blacklisted"] == 1 and counts["side_traces"] == 0


# -- metadata -------------------------------------------------------------------------------

def test_exported_traces_import_without_recording() -> None:
    text = CALLS.format(n=600)
    chunk = assemble(text)
    want = outcome(chunk, False)
    assert same(outcome(chunk, True), want)
    jit = JitCompiler()
    metas = jit.trace_export_all()
    assert len(metas) >= 2  # the root and its side trace
    blobs = [json.dumps(m.to_json()) for m in metas]
    tier.reset()
    runtime.reset()
    assert jit.trace_import_all([TraceMetadata.from_json(b) for b in blobs]) == len(metas)
    lines: list[str] = []
    set_log(lines.append)
    try:
        assert same(outcome(assemble(text), True), want)
    finally:
        set_log(None)
    s = tier.stats()
    assert s["recordings"] == 0 and s["imported"] == len(metas) and s["entries"] >= 1
    assert any("imported traces compiled without recording" in line for line in lines)


def test_malformed_metadata_is_refused() -> None:
    with pytest.raises(ValueError):
        TraceMetadata.from_json({"format": 1, "ips": [1], "depths": []})
    with pytest.raises(ValueError):
        TraceMetadata.from_json("[]")


# -- seeing it ------------------------------------------------------------------------------

def test_the_log_and_stats_show_the_trace_lifecycle() -> None:
    lines: list[str] = []
    set_log(lines.append)
    try:
        outcome(assemble(CALLS.format(n=300), source="log.fasm"), True)
        outcome(assemble(RECURSIVE.format(depth=12, n=100), source="rec.fasm"), True)
    finally:
        set_log(None)
    text = "\n".join(lines)
    for event in ("recording started", "compiled", "exit 1 to op", "stitched to exit",
                  "recording aborted (self-recursion", "blacklisted"):
        assert event in text, event
    s = JitCompiler().stats()["trace"]
    for key in ("compiles", "runs", "recordings", "aborts", "side_exits", "blacklisted"):
        assert key in s


def test_jit_dump_shows_the_traces_as_ir() -> None:
    from fusevm.jit import dump
    chunk = assemble(CALLS.format(n=300))
    outcome(chunk, True)
    text = dump(chunk)
    assert "trace at op 4 (loop)" in text and "side trace at exit path" in text


# -- generated programs ---------------------------------------------------------------------

SEEDS = range(70)  # seed 67: a division by zero while recording
_totals: dict[str, float] = {}


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_programs_agree_with_the_interpreter(seed: int) -> None:
    from trace_progs import program
    native_calls = calls.COUNTS["calls"]
    counts = agree(program(seed))
    counts["native_calls"] = calls.COUNTS["calls"] - native_calls
    for k, v in counts.items():
        _totals[k] = _totals.get(k, 0) + v


def test_generated_programs_exercise_every_trace_path() -> None:
    from trace_progs import program
    if len(_totals) == 0:  # run alone: gather the counters here
        for seed in SEEDS:
            native_calls = calls.COUNTS["calls"]
            counts = agree(program(seed))
            counts["native_calls"] = calls.COUNTS["calls"] - native_calls
            for k, v in counts.items():
                _totals[k] = _totals.get(k, 0) + v
    for key in ("traces", "side_traces", "side_exits", "loop_exits", "entries",
                "native_calls", "side_units", "link_entries", "merges"):
        assert _totals.get(key, 0) > 0, (key, _totals)


# -- abort reasons --------------------------------------------------------------------------

NESTED = """
    LoadInt 0
    SetVar s
    LoadInt 0
    SetSlot 0
outer:
    LoadInt 0
    SetSlot 1
inner:
    GetVar s
    GetSlot 1
    Add
    SetVar s
    GetSlot 1
    LoadInt 1
    Add
    Dup
    SetSlot 1
    LoadInt 5
    NumLt
    JumpIfTrue inner
    GetSlot 0
    LoadInt 1
    Add
    Dup
    SetSlot 0
    LoadInt 300
    NumLt
    JumpIfTrue outer
    GetVar s
    ReturnValue
"""

PRINTING = """
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    PrintLn 1
    GetSlot 0
    LoadInt 1
    Add
    Dup
    SetSlot 0
    LoadInt 100
    NumLt
    JumpIfTrue top
    LoadInt 0
    ReturnValue
"""


@pytest.mark.parametrize("text, reason, config", [
    (NESTED, Abort.INNER_LOOP, {}),
    (PRINTING, Abort.NOT_LOWERABLE, {}),
    (CALLS.format(n=300), Abort.TOO_LONG, {"max_trace_len": 8}),
    (RECURSIVE.format(depth=9, n=300), Abort.RECURSION, {}),
])
def test_aborts_name_their_reason_and_blacklist_with_a_penalty(
        text: str, reason: Abort, config: dict[str, int]) -> None:
    if config:
        set_config(get_config().replace(**config))
    lines: list[str] = []
    set_log(lines.append)
    try:
        agree(text)
    finally:
        set_log(None)
    assert reason.name in tier.abort_reasons()
    assert any(f"recording aborted ({reason.value}" in line for line in lines), lines


def test_a_blacklisted_loop_gets_its_own_step_back() -> None:
    chunk = assemble(PRINTING)
    vm = VM(chunk, stdout=io.StringIO())
    vm.set_tier_hook(JitHook(True))
    vm.run()
    assert tier.stats()["blacklisted"] == 1
    code = vm._code
    assert code is not None
    from fusevm.interp.registry import FACTORIES
    assert code[2].__qualname__ == FACTORIES[chunk.ops[2][0]](vm, chunk.ops[2][1:],
                                                               2).__qualname__


def test_a_recording_that_leaves_the_loop_aborts_at_once() -> None:
    # The header is entered 3 times; the recording starts at the third and sees the end.
    set_config(get_config().replace(trace_threshold=2))
    text = FLOAT_GLOBALS.format(n=2)
    agree(text)
    assert tier.abort_reasons().get(Abort.LEFT_LOOP.name, 0) >= 1


@pytest.mark.parametrize("seed", range(0, 60, 6))
def test_budgets_on_generated_programs_with_compiled_traces(seed: int) -> None:
    # The first run compiles the traces; budgeted runs of the same VM must stop exactly
    # where the interpreter stops.
    from trace_progs import program
    chunk = assemble(program(seed))
    vm = VM(chunk)
    vm.set_tier_hook(JitHook(True))
    try:
        vm.run()
    except VMError:
        pass
    for steps in (1, 97, 1000, 4000):
        vm.reset()
        ref = VM(chunk)
        got = want = None
        try:
            vm.run(max_steps=steps)
        except VMError as e:
            got = (type(e).__name__, e.ip)
        try:
            ref.run(max_steps=steps)
        except VMError as e:
            want = (type(e).__name__, e.ip)
        assert got == want
        assert vm.ip == ref.ip and same((vm.globals,), (ref.globals,))


def test_the_command_line_dumps_traces_and_logs_them(tmp_path: Any,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from fusevm.cli import main
    path = tmp_path / "calls.fasm"
    path.write_text(CALLS.format(n=300))
    assert main(["jit-dump", "--run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "trace at op 4 (loop)" in out and "global_get" in out and "inline f" in out
    tier.reset()
    assert main(["run", "--jit-log", str(path)]) == 0
    err = capsys.readouterr().err
    assert "jit: " in err and "recording started" in err and "stitched to exit" in err


def test_metadata_that_does_not_match_the_chunk_is_refused_and_the_run_is_right() -> None:
    text = CALLS.format(n=300)
    chunk = assemble(text)
    want = outcome(chunk, False)
    outcome(chunk, True)
    metas = JitCompiler().trace_export_all()
    assert metas
    bad = [TraceMetadata.from_json({**m.to_json(), "ips": [5] * len(m.ips)}) for m in metas]
    tier.reset()
    runtime.reset()
    JitCompiler().trace_import_all(bad)
    lines: list[str] = []
    set_log(lines.append)
    try:
        assert same(outcome(assemble(text), True), want)
    finally:
        set_log(None)
    assert any("imported traces refused" in line for line in lines), lines
    assert tier.stats()["imported"] == 0
