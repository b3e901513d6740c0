"""Rendering of benchmark results: the rich table, its notes, the JSON file and the plot.

Reads an `Outcome` (what `harness.run_all` measured plus the context it ran in); never
measures anything itself. Column meanings are documented in benchmarks/README.md.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from fusevm.bench.runners import (
    BASELINE,
    BASELINE_WARM,
    FUSED,
    INTERP,
    INTERP_FIRST,
    PYTHON,
    UNFUSED,
    Result,
    Runner,
    Settings,
)
from fusevm.bench.stats import Spread, ratio_spread
from fusevm.bench.workloads import PEERS, Workload, describe

SCHEMA: Final = "fusevm-bench/2"
#: Published figures shown as table columns (all of them go to the JSON).
TABLE_PEERS: Final = (("rust_interp", "Rust interp\n(pub.)"), ("cpython", "CPython\n(pub.)"))
#: Ratios the summary quotes (column over python), first run and warm.
HEADLINE: Final = (INTERP, INTERP_FIRST, BASELINE, BASELINE_WARM)


@dataclass
class Outcome:
    """Everything one `fusevm bench` run produced."""

    workloads: Sequence[Workload]
    runners: Sequence[Runner]
    results: dict[str, dict[str, Result]]
    unavailable: dict[str, str]
    machine: dict[str, Any]
    settings: Settings
    warnings: list[str]
    elapsed_s: float

    def timed(self, workload: str, runner: str) -> Result | None:
        """The timed result behind a cell, following "same chunk as" links."""
        row = self.results.get(workload, {})
        res = row.get(runner)
        for _ in range(len(row) + 1):
            if res is None:
                return None
            if res.status == "ok":
                return res
            if res.status != "same" or res.same_as is None:
                return None
            res = row.get(res.same_as)
        return None

    def time_of(self, workload: str, runner: str) -> float | None:
        """Median ns of a runner on a workload, following "same chunk as" links."""
        res = self.timed(workload, runner)
        return res.median_ns if res is not None else None

    def spread(self, w: Workload, a: str, b: str) -> Spread | None:
        """Column `a` over column `b` on `w`: ratio of medians and per-round spread."""
        ra, rb = self.timed(w.name, a), self.timed(w.name, b)
        if ra is None or rb is None:
            return None
        return ratio_spread(ra.samples, rb.samples)

    def ratios(self, w: Workload) -> dict[str, Spread | None]:
        """The measured ratios of one workload: every column over python, the baseline
        tier over the interpreter (first run and warm), and the fusion gains (unfused
        over interp, unfused over the fusion pass)."""
        out = {f"{r.name}_over_python": self.spread(w, r.name, PYTHON)
               for r in self.runners if r.name != PYTHON}
        out["baseline_over_interp_first"] = self.spread(w, BASELINE, INTERP_FIRST)
        out["baseline_warm_over_interp"] = self.spread(w, BASELINE_WARM, INTERP)
        out["unfused_over_interp"] = self.spread(w, UNFUSED, INTERP)
        out["unfused_over_fused"] = self.spread(w, UNFUSED, FUSED)
        return out

    def published_ratios(self, w: Workload) -> dict[str, float | None]:
        """Ratios to published figures (measured elsewhere: no spread)."""
        return {
            "interp_over_rust_interp_published": _div(self.time_of(w.name, INTERP),
                                                      w.published.get("rust_interp")),
            "python_over_cpython_published": _div(self.time_of(w.name, PYTHON),
                                                  w.published.get("cpython")),
        }


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def fmt_time(ns: float | None) -> str:
    """A duration with three significant digits and a unit (ns, µs, ms, s)."""
    if ns is None or math.isnan(ns):
        return "—"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{_sig3(ns / scale)} {unit}"
    return f"{_sig3(ns)} ns"


def _sig3(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_spread(s: Spread | None) -> str:
    """A ratio with the interquartile range of the per-round ratios: `2.31× [2.25–2.40]`."""
    if s is None:
        return "—"
    return f"{fmt_ratio(s.ratio)} [{_num(s.q1)}–{_num(s.q3)}]"


def _num(x: float) -> str:
    return fmt_ratio(x).removesuffix("×")


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


# -- The tables ----------------------------------------------------------------------------

def _cell(o: Outcome, w: Workload, runner: str) -> Text:
    res = o.results.get(w.name, {}).get(runner)
    if res is None:
        return Text("—", style="dim")
    if res.status == "ok":
        return Text(fmt_time(res.median_ns))
    if res.status == "same":
        return Text(f"= {res.same_as}", style="dim")
    if res.status == "n/a":
        return Text("n/a", style="dim")
    if res.status == "missing":
        return Text("missing", style="yellow")
    return Text(res.status.upper(), style="bold red")


def _heading(r: Runner) -> str:
    return r.label or r.name


def render_table(o: Outcome) -> Table:
    """Time per call: one row per workload, one column per runner (README "Columns")."""
    title = "fusevm bench: time per call (median of interleaved rounds)" + (
        " — QUICK, not for quoting" if o.settings.quick else "")
    t = Table(title=title, title_justify="left", header_style="bold")
    t.add_column("workload", no_wrap=True)
    t.add_column("ops/call", justify="right", no_wrap=True)
    t.add_column("rounds", justify="right", no_wrap=True)
    for r in o.runners:
        t.add_column(_heading(r), justify="right", no_wrap=True)
        if r.name == INTERP:
            t.add_column("interp\nns/op", justify="right", no_wrap=True)
    for _, heading in TABLE_PEERS:
        t.add_column(heading, justify="right", no_wrap=True, style="cyan")
    for w in o.workloads:
        row = o.results.get(w.name, {})
        interp = row.get(INTERP)
        ops = interp.ops if interp is not None else None
        rounds = max((res.timing.reps for res in row.values() if res.timing is not None),
                     default=0)
        cells: list[Text | str] = [w.name + (" †" if w.note else ""),
                                   f"{ops:,}" if ops else "—", str(rounds) if rounds else "—"]
        for r in o.runners:
            cells.append(_cell(o, w, r.name))
            if r.name == INTERP:
                ns_op = (interp.median_ns / ops if interp is not None
                         and interp.median_ns is not None and ops else None)
                cells.append(_fmt_ns_op(ns_op))
        cells.extend(fmt_time(w.published.get(key)) for key, _ in TABLE_PEERS)
        t.add_row(*cells)
    return t


def render_ratio_table(o: Outcome) -> Table:
    """Ratios, measured in the same rounds: each column over python, and fusion gains."""
    title = Text("ratios of columns timed in the same rounds: median of the per-round ratios "
                 "[their interquartile range]; ÷ python: times slower than plain Python "
                 "(below 1: faster)")
    t = Table(title=title, title_justify="left", header_style="bold")
    t.add_column("workload", no_wrap=True)
    others = [r for r in o.runners if r.name != PYTHON]
    for r in others:
        t.add_column(f"{_heading(r)}\n÷ python", justify="right", no_wrap=True)
    t.add_column("baseline ÷ interp\nfirst run", justify="right", no_wrap=True)
    t.add_column("baseline ÷ interp\nwarm", justify="right", no_wrap=True)
    t.add_column("unfused\n÷ interp", justify="right", no_wrap=True)
    t.add_column("unfused\n÷ fused", justify="right", no_wrap=True)
    for w in o.workloads:
        ratios = o.ratios(w)
        cells = [Text(w.name)] + [Text(fmt_spread(ratios[f"{r.name}_over_python"]))
                                  for r in others]
        cells.append(Text(fmt_spread(ratios["baseline_over_interp_first"])))
        cells.append(Text(fmt_spread(ratios["baseline_warm_over_interp"])))
        unfused = o.results.get(w.name, {}).get(UNFUSED)
        cells.append(Text("=" if unfused is not None and unfused.status == "same"
                          else fmt_spread(ratios["unfused_over_interp"])))
        cells.append(Text(fmt_spread(ratios["unfused_over_fused"])))
        t.add_row(*cells)
    return t


def _fmt_ns_op(ns: float | None) -> str:
    if ns is None:
        return "—"
    return f"{ns:,.0f}" if ns >= 1000 else f"{ns:.1f}"


def render_notes(o: Outcome) -> list[str]:
    """Footnotes: † notes, missing columns, why cells are n/a, wrong results and errors."""
    lines: list[str] = []
    for w in o.workloads:
        if w.note:
            lines.append(f"† {w.name}: {escape(w.note)}")
    for name, why in o.unavailable.items():
        lines.append(f"[yellow]missing {name}[/]: {escape(why)}")
    reasons: dict[tuple[str, str], list[str]] = {}
    problems: list[str] = []
    for w in o.workloads:
        for name, res in o.results.get(w.name, {}).items():
            if res.status == "n/a":
                reasons.setdefault((name, res.note), []).append(w.name)
            elif res.status in ("wrong", "error"):
                problems.append(f"[bold red]{res.status.upper()}[/] {w.name} / {name}: "
                                f"{escape(res.note)}")
    for (name, why), names in reasons.items():
        which = "every workload" if len(names) == len(o.workloads) else ", ".join(names)
        lines.append(f"[dim]n/a {name}: {escape(why)} ({which})[/]")
    lines.extend(problems)
    lines.append("[dim]= NAME: same chunk as NAME, timed once. Published columns: "
                 "published anchors (not measured here).[/]")
    return lines


def render_summary(o: Outcome) -> list[str]:
    """Headline numbers: ns/op on counter_loop, and each headline column over Python."""
    lines: list[str] = []
    for w in o.workloads:
        if w.name.startswith("counter_loop"):
            res = o.results.get(w.name, {}).get(INTERP)
            if res is not None and res.median_ns is not None and res.ops:
                lines.append(f"{w.name}: {res.median_ns / res.ops:.1f} ns per dispatched op "
                             f"({res.ops:,} ops per call)")
    names = {r.name for r in o.runners}
    for name in HEADLINE:
        if name not in names:
            continue
        got = sorted(s.ratio for w in o.workloads
                     if (s := o.ratios(w).get(f"{name}_over_python")) is not None)
        if got:
            within = sum(1 for r in got if r <= 2.0)
            lines.append(f"{name} ÷ python: median over {len(got)} workloads "
                         f"{fmt_ratio(got[len(got) // 2])} (range {fmt_ratio(got[0])} to "
                         f"{fmt_ratio(got[-1])}); within 2× on {within} of {len(got)}")
    for key, what in (("baseline_over_interp_first", "baseline ÷ interp, first run"),
                      ("baseline_warm_over_interp", "baseline ÷ interp, warm")):
        got = sorted(s.ratio for w in o.workloads if (s := o.ratios(w)[key]) is not None)
        if got:
            slower = sum(1 for r in got if r > 1.0)
            lines.append(f"{what}: median {fmt_ratio(got[len(got) // 2])} (range "
                         f"{fmt_ratio(got[0])} to {fmt_ratio(got[-1])}); slower than the "
                         f"interpreter on {slower} of {len(got)}")
    lines.append(f"measured in {o.elapsed_s:.1f} s")
    return lines


# -- JSON ------------------------------------------------------------------------------------

def to_json(o: Outcome) -> dict[str, Any]:
    """The JSON document (schema `fusevm-bench/2`, described in benchmarks/README.md)."""
    return {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": o.machine,
        "settings": {"quick": o.settings.quick, "clock": o.settings.clock,
                     "target_s": o.settings.target_s, "min_rounds": o.settings.min_rounds,
                     "max_rounds": o.settings.max_rounds, "rep_s": o.settings.rep_s,
                     "max_rep_s": o.settings.max_rep_s, "warmup": o.settings.warmup,
                     "elapsed_s": round(o.elapsed_s, 3)},
        "runners": [{"name": r.name, "label": r.label, "kind": r.kind,
                     "description": r.description, "available": r.name not in o.unavailable,
                     "reason": o.unavailable.get(r.name)} for r in o.runners],
        "published_keys": PEERS,
        "workloads": [{
            "name": w.name,
            "group": w.group,
            "description": w.description,
            "note": w.note or None,
            "expected": describe(w.expected),
            "published_ns": dict(w.published),
            "published_note": w.published_note or None,
            "results": {name: res.as_dict()
                        for name, res in o.results.get(w.name, {}).items()},
            "ratios": {key: (sp.as_dict() if sp is not None else None)
                       for key, sp in o.ratios(w).items()},
            "published_ratios": o.published_ratios(w),
        } for w in o.workloads],
        "warnings": o.warnings,
    }


def write_json(o: Outcome, path: Path) -> None:
    """Write `to_json(o)` to `path` (parent directories are created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(o), indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")


# -- Plot ------------------------------------------------------------------------------------

def write_plot(o: Outcome, path: Path) -> None:
    """Grouped bars, log-scale time per call: one bar per measured tier/peer, plus the
    published Rust-interpreter and CPython figures (hatched)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [w.name for w in o.workloads]
    series: list[tuple[str, list[float], str]] = []
    for r in o.runners:
        # Only cells timed in their own right: a "same chunk as" cell would repeat a bar.
        cells = [o.results.get(w.name, {}).get(r.name) for w in o.workloads]
        times = [c.median_ns if c is not None and c.status == "ok" else None for c in cells]
        if any(v is not None for v in times):
            series.append(((r.label or r.name).replace("\n", " "),
                           [math.nan if v is None else v / 1e3 for v in times], ""))
    for key, heading in TABLE_PEERS:
        values_pub = [w.published.get(key, math.nan) / 1e3 for w in o.workloads]
        if any(not math.isnan(v) for v in values_pub):
            series.append((heading.replace("\n", " "), values_pub, "//"))
    width = 0.8 / max(len(series), 1)
    fig, ax = plt.subplots(figsize=(min(30.0, max(10.0, 1.3 * len(names))), 7.0))
    for i, (label, values, hatch) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        ax.bar([x + offset for x in range(len(names))], values, width, label=label,
               hatch=hatch or None, edgecolor="black" if hatch else None, linewidth=0.3)
    ax.set_yscale("log")
    ax.set_ylabel("µs per call (log scale)")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=40, ha="right")
    ax.grid(axis="y", which="major", alpha=0.3)
    when = "quick run, not for quoting" if o.settings.quick else "median per call"
    ax.set_title(f"fusevm bench ({when}) — {o.machine['implementation']} "
                 f"{o.machine['python']}, {o.machine['cpu_count']} CPUs")
    ax.legend(fontsize="small", ncols=min(len(series), 6), loc="upper left",
              bbox_to_anchor=(0.0, -0.32))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
