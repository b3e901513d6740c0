"""The harness's method, checked with fake sessions whose batches report made-up durations.

Nothing here times anything: the fakes say how long a batch "took", so the interleaving
order, the repetition plan, the ratio spread and the missing-peer path are checked
exactly.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest

from fusevm.baseline.compiler import stats as baseline_stats
from fusevm.bench import harness, runners
from fusevm.bench.interleave import (
    MAX_INNER,
    Prepared,
    Session,
    Settings,
    interleave,
    plan,
    schedule,
)
from fusevm.bench.peers import ChildSession, PeerError, SubprocessRunner
from fusevm.bench.registry import Registry
from fusevm.bench.report import Outcome, render_notes, render_table
from fusevm.bench.runners import (
    InterpRunner,
    PythonRunner,
    Runner,
    fresh_copy,
    interp_runners,
)
from fusevm.bench.stats import quantile, ratio_spread
from fusevm.bench.timing import DEPTHS, padded, round_depth, serve, time_batch
from fusevm.bench.workloads import WORKLOADS, Workload
from fusevm.interp.vm import VM as real

W = {w.name: w for w in WORKLOADS}["counter_loop_1k"]
SETTINGS = Settings(target_s=0.0, min_rounds=4, max_rounds=4, rep_s=1e-3, max_rep_s=0.1)


class FakeSession(Session):
    """Claims each call takes `per_call` ns (times `slow[round]` in a given round)."""

    def __init__(self, name: str, per_call: float, log: list[tuple[str, int]],
                 fail_at: int | None = None, answer: Any = 1000, slow_first: int = 0) -> None:
        self.slow_first = slow_first
        self.batches = 0
        self.name = name
        self.per_call = per_call
        self.log = log
        self.fail_at = fail_at
        self.answer = answer
        self.clock = "fake clock"
        self.closed = False
        self.depths: list[int] = []

    def check(self, w: Workload) -> str | None:
        return None if w.check(self.answer) else "wrong answer"

    def batch(self, n: int, depth: int = 0) -> float:
        self.log.append((self.name, n))
        self.depths.append(depth)
        if self.fail_at is not None and len(self.log) >= self.fail_at:
            raise RuntimeError("fell over")
        self.batches += 1
        return n * self.per_call * (30 if self.batches <= self.slow_first else 1)

    def close(self) -> None:
        self.closed = True


def test_schedule_reverses_the_order_every_other_round() -> None:
    assert schedule(["a", "b", "c"], 4) == [["a", "b", "c"], ["c", "b", "a"],
                                            ["a", "b", "c"], ["c", "b", "a"]]
    assert schedule(["a"], 2) == [["a"], ["a"]]
    assert schedule([], 3) == [[], [], []]


def test_calibration_grows_the_batch_until_it_lasts_a_quarter_repetition() -> None:
    log: list[tuple[str, int]] = []
    interleave({"a": FakeSession("a", 1000.0, log)}, SETTINGS)
    grown = [n for _, n in log[:4]]
    assert grown[0] == 1 and grown == sorted(grown) and grown[-1] * 1000 >= 250_000


def test_plan_stretches_every_repetition_to_the_slowest_call() -> None:
    inner, rounds = plan({"slow": 5e6, "fast": 1e3, "tiny": 0.001}, SETTINGS)
    assert inner == {"slow": 1, "fast": 5000, "tiny": MAX_INNER}
    assert rounds == 4
    # Short calls: repetitions last rep_s; long ones are capped at max_rep_s.
    assert plan({"a": 100.0, "b": 400.0}, SETTINGS)[0] == {"a": 10_000, "b": 2_500}
    assert plan({"a": 1e9, "b": 1e6}, SETTINGS)[0] == {"a": 1, "b": 100}


def test_plan_scales_rounds_to_the_time_budget() -> None:
    settings = Settings(target_s=1.0, min_rounds=3, max_rounds=50, rep_s=1e-3)
    # Two columns of 1 ms repetitions: 2 ms a round, 2 s of budget in all.
    assert plan({"a": 1e6, "b": 5e5}, settings)[1] == 50
    assert plan({"a": 1e8, "b": 1e8}, settings)[1] == 10
    assert plan({"a": 1e9, "b": 1e9}, settings)[1] == 3


def test_columns_take_turns_one_repetition_each_per_round() -> None:
    log: list[tuple[str, int]] = []
    sessions = {name: FakeSession(name, per_call, log)
                for name, per_call in (("a", 2e6), ("b", 1e6), ("c", 5e5))}
    measured = interleave(sessions, SETTINGS)
    calibration = log[:len(log) - 5 * 3]
    # One call each already lasts rep_s / 4; a short batch is taken three times.
    assert calibration == [("a", 1)] * 3 + [("b", 1)] * 3 + [("c", 1)] * 3
    rounds = log[len(calibration):]
    # A warm-up round, then 4 rounds; each column once per round with its planned batch.
    assert [name for name, _ in rounds] == list("abc" "abc" "cba" "abc" "cba")
    assert {name: n for name, n in rounds} == {"a": 1, "b": 2, "c": 4} == measured.inner
    assert measured.rounds == 4
    assert measured.samples == {"a": [2e6] * 4, "b": [1e6] * 4, "c": [5e5] * 4}
    assert measured.errors == {}


def test_each_round_runs_its_batches_at_another_depth_of_the_stack() -> None:
    log: list[tuple[str, int]] = []
    rounds = DEPTHS + 3
    settings = Settings(target_s=0.0, min_rounds=rounds, max_rounds=rounds, rep_s=1e-3,
                        max_rep_s=0.1)
    a, b = FakeSession("a", 2e6, log), FakeSession("b", 1e6, log)
    interleave({"a": a, "b": b}, settings)
    # Calibration (3 batches) and the warm-up round at the caller's depth, then the rounds.
    assert a.depths[:4] == [0] * 4
    timed = a.depths[4:]
    assert timed == b.depths[4:] == [round_depth(r) for r in range(rounds)]
    # Every depth once before any comes again: rounds spread over a whole stack chunk.
    assert sorted(timed[:DEPTHS]) == list(range(DEPTHS)) and timed[DEPTHS:] == timed[:3]
    assert abs(timed[1] - timed[0]) > DEPTHS // 4  # consecutive rounds far apart


def _frames() -> int:
    f, n = sys._getframe(), 0
    while f is not None:
        f, n = f.f_back, n + 1
    return n


@pytest.mark.parametrize("depth", [0, 1, 7, DEPTHS - 1])
def test_a_padded_call_runs_that_many_frames_deeper(depth: int) -> None:
    base = padded(0, _frames)
    assert padded(depth, _frames) == base + depth + (depth > 0)
    times: list[int] = []
    assert time_batch(lambda: times.append(_frames()), 3, "cpu", depth) >= 0
    assert len(set(times)) == 1 and times[0] > base + depth


def test_a_peer_serves_batches_at_the_depth_asked() -> None:
    seen: list[int] = []
    replies = io.StringIO()
    serve(lambda: seen.append(_frames()), "cpu", io.StringIO("2\n1 9\n3 0\n\n"), replies)
    assert len(replies.getvalue().split()) == 3 and len(seen) == 6
    assert seen[0] == seen[1] == seen[3] == seen[4] == seen[5]
    assert seen[2] == seen[0] + 10


def test_the_plan_is_remade_from_the_full_length_warm_up_round() -> None:
    log: list[tuple[str, int]] = []
    # b's first four batches (all of calibration) run 30 times slow, as if preempted.
    sessions = {"a": FakeSession("a", 2e6, log), "b": FakeSession("b", 1e3, log, slow_first=4)}
    measured = interleave(sessions, SETTINGS)
    assert measured.inner == {"a": 1, "b": 2000}
    assert measured.samples["b"] == [1e3] * 4


def test_a_column_that_fails_midway_is_dropped_and_the_others_keep_every_round() -> None:
    log: list[tuple[str, int]] = []
    sessions = {"a": FakeSession("a", 1e6, log), "b": FakeSession("b", 1e6, log, fail_at=6)}
    measured = interleave(sessions, SETTINGS)
    assert "fell over" in measured.errors["b"]
    assert set(measured.samples) == {"a"} and len(measured.samples["a"]) == 4


def test_quantile_interpolates_like_statistics_inclusive() -> None:
    values = [7.0, 1.0, 3.0, 10.0, 2.0, 4.5]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    assert quantile(values, 0.25) == pytest.approx(q1)
    assert quantile(values, 0.75) == pytest.approx(q3)
    assert quantile([5.0], 0.75) == 5.0
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_ratio_spread_pairs_samples_by_round() -> None:
    s = ratio_spread([10.0, 20.0, 30.0, 40.0, 50.0], [10.0] * 5)
    assert s is not None
    assert (s.ratio, s.q1, s.q3, s.low, s.high, s.rounds) == (3.0, 2.0, 4.0, 1.0, 5.0, 5)
    # Paired by round: the median ratio, not the ratio of medians, heads the spread.
    t = ratio_spread([1.0, 2.0, 30.0, 40.0, 50.0], [1.0, 1.0, 10.0, 100.0, 100.0])
    assert t is not None
    assert (t.ratio, t.of_medians, t.q1, t.q3) == (1.0, 3.0, 0.5, 2.0)
    assert t.low <= t.of_medians <= t.high
    # A burst that slows both columns of one round leaves the per-round ratio alone.
    burst = ratio_spread([2.0, 2.0, 20.0, 2.0], [1.0, 1.0, 10.0, 1.0])
    assert burst is not None and burst.low == burst.high == 2.0
    assert ratio_spread([], [1.0]) is None
    with pytest.raises(ValueError, match="do not pair up"):
        ratio_spread([1.0, 2.0], [1.0])


class FakeRunner(Runner):
    def __init__(self, name: str, per_call: float, log: list[tuple[str, int]],
                 answer: Any = 1000) -> None:
        self.name = name
        self.label = name
        self.per_call = per_call
        self.log = log
        self.answer = answer
        self.sessions: list[FakeSession] = []

    def open(self, w: Workload, settings: Settings) -> Session:
        s = FakeSession(self.name, self.per_call, self.log, answer=self.answer)
        self.sessions.append(s)
        return s


class MissingPeer(SubprocessRunner):
    name = "nopeer"
    label = "nopeer"
    executable = "fusevm-test-no-such-peer"


def test_outcome_quotes_ratios_from_the_same_rounds() -> None:
    log: list[tuple[str, int]] = []
    cols: list[Runner] = [FakeRunner("interp", 3e6, log), FakeRunner("python", 1e6, log),
                          FakeRunner("liar", 1e6, log, answer=7)]
    row = harness.measure_workload(W, cols, SETTINGS)
    assert [r.status for r in row.values()] == ["ok", "ok", "wrong"]
    assert len(row["interp"].samples) == len(row["python"].samples) == 4
    assert "liar" not in {name for name, _ in log}  # a wrong column is never timed
    assert all(s.closed for r in cols for s in r.sessions)  # type: ignore[attr-defined]
    o = Outcome([W], cols, {W.name: row}, {}, {}, SETTINGS, [], 0.0)
    spread = o.ratios(W)["interp_over_python"]
    assert spread is not None and spread.ratio == pytest.approx(3.0)
    assert spread.q1 == pytest.approx(3.0) and spread.rounds == 4


def test_a_missing_peer_is_a_marked_column_not_a_crash() -> None:
    peer = MissingPeer()
    why = peer.unavailable()
    assert why is not None and "fusevm-test-no-such-peer" in why
    log: list[tuple[str, int]] = []
    cols: list[Runner] = [FakeRunner("python", 1e6, log), peer]
    row = harness.measure_workload(W, cols, SETTINGS, {peer.name: why})
    assert row["nopeer"].status == "missing" and row["nopeer"].note == why
    o = Outcome([W], cols, {W.name: row}, {peer.name: why}, {}, SETTINGS, [], 0.0)
    assert o.ratios(W)["nopeer_over_python"] is None
    from rich.console import Console
    console = Console(width=300, record=True)
    console.print(render_table(o))
    for line in render_notes(o):
        console.print(line)
    text = console.export_text()
    assert "missing" in text and f"missing nopeer: {why}" in text


def test_the_harness_runs_with_a_peer_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "default_runners",
                        lambda: Registry([PythonRunner(), MissingPeer()]))
    out = tmp_path / "bench.json"
    rc = harness.main(["--quick", "--filter", "counter_loop_1k", "--json", str(out)])
    assert rc == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    cell = data["workloads"][0]["results"]["nopeer"]
    assert cell["status"] == "missing" and "not installed" in cell["note"]
    assert [r["available"] for r in data["runners"]] == [True, False]
    text = capsys.readouterr().out
    assert "missing" in text and "load average" in text
    assert "clock (--clock cpu): time.thread_time_ns" in text


def test_a_peer_that_dies_is_an_error_cell() -> None:
    class Dying(SubprocessRunner):
        name = "dying"
        executable = sys.executable

        def open(self, w: Workload, settings: Settings) -> Session:
            code = "import sys; sys.stderr.write('no twin here\\n'); sys.exit(3)"
            return ChildSession([sys.executable, "-c", code], None, lambda line: ("", ""))

    with pytest.raises(PeerError, match="exit 3 .*no twin here"):
        Dying().open(W, SETTINGS)
    res = harness.measure_workload(W, [Dying()], SETTINGS)["dying"]
    assert res.status == "error" and "no twin here" in res.note


def _counting_vm(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(runners, "VM", counting)
    return made


@pytest.mark.parametrize("name", ["interp", "baseline-warm"])
def test_a_warm_column_builds_no_vm_per_call(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _counting_vm(monkeypatch)
    runner = next(r for r in interp_runners() if r.name == name)
    p = runner.prepare(W)
    before = len(made)
    for _ in range(3):
        assert W.check(p.call())
    assert len(made) == before


def test_a_first_run_column_compiles_a_new_chunk_every_call(
        monkeypatch: pytest.MonkeyPatch) -> None:
    made = _counting_vm(monkeypatch)
    runner = next(r for r in interp_runners() if r.name == "baseline")
    assert isinstance(runner, InterpRunner)
    # A loop long enough that compiling it pays (the tier's rule) even on a first run.
    long = {w.name: w for w in WORKLOADS}["counter_loop_100k"]
    p = runner.prepare(long)
    assert p.fresh is not None
    calls = [p.fresh() for _ in range(3)]
    compiles = baseline_stats()["compiles"]
    for call in calls:
        assert long.check(call())
    assert len(made) == 3
    assert baseline_stats()["compiles"] >= compiles + 3


def test_fresh_copy_is_a_new_program_to_every_cache_but_runs_the_same() -> None:
    chunk = W.reference()
    a, b = fresh_copy(chunk), fresh_copy(chunk)
    assert len({chunk.digest(), a.digest(), b.digest()}) == 3
    assert a.ops == chunk.ops and a.constants[:len(chunk.constants)] == chunk.constants
    assert W.check(runners.interp_call(a, reuse_vm=False)())


def test_a_reused_vm_first_run_is_not_applicable() -> None:
    nop = {w.name: w for w in WORKLOADS}["dispatch_nop_1m"].shrunk
    assert nop is not None and nop.reuse_vm
    row = harness.measure_workload(nop, interp_runners(), SETTINGS)
    assert row["interp-first"].status == row["baseline"].status == "n/a"
    assert row["interp"].status == "ok"


def test_in_process_prepared_call_is_checked_before_timing() -> None:
    class Wrong(Runner):
        name = "wrong"

        def prepare(self, w: Workload) -> Prepared:
            return Prepared(lambda: None, fresh=lambda: (lambda: None))
    res = harness.measure_workload(W, [Wrong()], SETTINGS)["wrong"]
    assert res.status == "wrong" and "returned None" in res.note
