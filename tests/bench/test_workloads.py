"""The benchmark workloads compute their expected results in every build, and the harness runs.

Big workloads are checked at a small size (`Workload.shrunk`); their full-size expected
values are checked against the plain-Python twins, and the harness itself checks every
result before it times anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fusevm.bench import harness
from fusevm.bench.harness import measure_workload
from fusevm.bench.lua_twins import LUA_TWINS
from fusevm.bench.peers import LuaJitRunner, PythonPeerRunner, self_peer
from fusevm.bench.runners import (
    NotApplicable,
    Prepared,
    Result,
    Runner,
    Settings,
    count_dispatches,
    interp_call,
)
from fusevm.bench.workloads import WORKLOADS, Workload, all_workloads
from fusevm.chunk import Chunk
from fusevm.interp.vm import VM
from fusevm.ops import F

QUICK = Settings.for_mode(quick=True)
BY_NAME = {w.name: w for w in WORKLOADS}
#: The harness's workloads with those jit_workloads.py contributes.
EVERY = all_workloads()


def _measure(runner: Runner, w: Workload, settings: Settings = QUICK) -> Result:
    return measure_workload(w, [runner], settings)[runner.name]


def _small(w: Workload) -> Workload:
    return w.shrunk if w.shrunk is not None else w


def _run(chunk: Chunk, slots: tuple[Any, ...]) -> Any:
    vm = VM(chunk)
    vm.slots[:len(slots)] = slots
    return vm.run()


@pytest.mark.parametrize("w", WORKLOADS, ids=lambda w: w.name)
def test_every_build_of_the_workload_gives_the_expected_result(w: Workload) -> None:
    small = _small(w)
    done: list[Chunk] = []
    for label, chunk in (("reference", small.reference()), ("unfused", small.build(False)),
                         ("fused", small.build(True))):
        if any(chunk.ops == c.ops and chunk.constants == c.constants for c in done):
            continue  # identical program already checked
        done.append(chunk)
        result = _run(chunk, small.slots)
        assert small.check(result), f"{small.name} {label}: got {result!r}"


@pytest.mark.parametrize("w", EVERY, ids=lambda w: w.name)
def test_python_twin_agrees_with_the_expected_result(w: Workload) -> None:
    for v in {id(x): x for x in (w, _small(w))}.values():
        call = v.python()
        assert call is not None
        assert v.check(call()), v.name


@pytest.mark.parametrize("w", [w for w in WORKLOADS if w.direct is None], ids=lambda w: w.name)
def test_unfused_build_has_no_fused_ops(w: Workload) -> None:
    fused = [ins[0].name for ins in _small(w).build(False).ops if ins[0].spec.has(F.FUSED)]
    assert fused == []


def test_counter_loop_dispatches_five_ops_per_iteration() -> None:
    w = BY_NAME["counter_loop_1k"]
    assert count_dispatches(w.reference()) == 2 + 5 * 1000 + 1


@pytest.mark.parametrize("name", ["nested_loop_100x100", "fib_recursive_20", "slot_mixed_100",
                                  "array_push_10k", "string_build_10k"])
def test_a_prepared_vm_gives_the_same_result_on_every_rerun(name: str) -> None:
    w = BY_NAME[name]
    call = interp_call(w.reference(), w.slots)
    assert w.check(call())
    assert w.check(call())


class _Liar(Runner):
    name = "liar"

    def prepare(self, w: Workload) -> Prepared:
        if w.name.startswith("slot"):
            raise NotApplicable("not for slots")
        return Prepared(lambda: "not the answer")


def test_a_wrong_result_is_reported_and_not_timed() -> None:
    res = _measure(_Liar(), BY_NAME["counter_loop_1k"])
    assert res.status == "wrong" and res.timing is None
    assert _measure(_Liar(), BY_NAME["slot_mixed_100"]).status == "n/a"


@pytest.mark.parametrize("clock", ["wall", "cpu"])
def test_a_subprocess_peer_times_the_twin_and_checks_its_result(clock: str) -> None:
    settings = Settings.for_mode(quick=True, clock=clock)
    res = _measure(self_peer(), BY_NAME["counter_loop_1k"], settings)
    assert res.status == "ok", res.note
    assert res.median_ns is not None and res.median_ns > 0
    assert res.timing is not None and len(res.samples) == res.timing.reps
    assert res.clock.startswith("python-subprocess: time.")


CORE = ("interp", "interp-first", "baseline", "baseline-warm", "interp-unfused", "python")


def test_quick_run_writes_valid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    rc = harness.main(["--quick", "--filter", "counter_loop_1k", "--json", str(out)])
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == "fusevm-bench/2"
    assert [w["name"] for w in data["workloads"]] == ["counter_loop_1k"]
    row = data["workloads"][0]
    for name in CORE:
        assert row["results"][name]["status"] in ("ok", "same"), (name, row["results"][name])
    interp = row["results"]["interp"]
    assert interp["dispatched_ops"] == 5003 and interp["median_ns"] > 0
    ratio = row["ratios"]["interp_over_python"]
    assert ratio["ratio"] > 0 and ratio["min"] <= ratio["q1"] <= ratio["q3"] <= ratio["max"]
    assert ratio["rounds"] == len(interp["samples_ns"]) == len(
        row["results"]["python"]["samples_ns"])
    assert row["published_ns"]["rust_interp"] == pytest.approx(24_000)
    assert data["machine"]["load_average_end"] is not None or data["machine"][
        "load_average"] is None
    others_failed = any(r["status"] in ("wrong", "error")
                        for name, r in row["results"].items() if name not in CORE)
    assert rc == (1 if others_failed else 0)
    assert "counter_loop_1k" in capsys.readouterr().out


def test_plot_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "bench.png"
    rc = harness.main(["--quick", "--filter", "slot_float", "--runners", "interp,python",
                       "--clock", "cpu", "--no-json", "--plot", str(png)])
    assert rc == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class _Crasher(Runner):
    name = "crasher"

    def prepare(self, w: Workload) -> Prepared:
        raise RuntimeError("compiler fell over")


def test_a_runner_that_raises_is_reported_as_an_error() -> None:
    res = _measure(_Crasher(), BY_NAME["counter_loop_1k"])
    assert res.status == "error" and "compiler fell over" in res.note


@pytest.mark.parametrize("w", [w for w in EVERY if w.twin in LUA_TWINS], ids=lambda w: w.name)
def test_lua_twin_agrees_with_the_expected_result(w: Workload) -> None:
    runner = LuaJitRunner()
    if runner.unavailable():
        pytest.skip(runner.unavailable() or "")
    session = runner.open(_small(w), QUICK)
    try:
        assert session.check(_small(w)) is None
        assert session.batch(2) > 0
        assert session.batch(2, 17) > 0  # (a depth asked for: LuaJIT's driver ignores it)
    finally:
        session.close()


def test_every_jit_workload_has_all_three_twins() -> None:
    from fusevm.bench.jit_workloads import WORKLOADS as JIT
    from fusevm.bench.twins import TWINS
    for w in JIT:
        assert w.twin in TWINS and w.twin in LUA_TWINS, w.name


def test_pypy_serves_the_twin_when_installed() -> None:
    runner = PythonPeerRunner("pypy3", name="pypy")
    if runner.unavailable():
        pytest.skip(runner.unavailable() or "")
    res = _measure(runner, BY_NAME["fib_iterative_35"])
    assert res.status == "ok", res.note
    assert res.clock.startswith("pypy: time.thread_time_ns")
