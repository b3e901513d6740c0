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

from rich.table import Table
from rich.text import Text

from fusevm.bench.runners import (
    FUSED,
    INTERP,
    PREPARED,
    PYTHON,
    UNFUSED,
    Result,
    Runner,
    Settings,
)
from fusevm.bench.workloads import PEERS, Workload, describe

SCHEMA: Final = "fusevm-bench/1"
#: Columns shown even when their runner is unavailable (they then say n/a and why).
ALWAYS_SHOWN: Final = (INTERP, PREPARED, UNFUSED, FUSED, PYTHON)
#: Published figures shown as table columns (all of them go to the JSON).
TABLE_PEERS: Final = (("rust_interp", "Rust interp\n(pub.)"), ("cpython", "CPython\n(pub.)"))


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

    def time_of(self, workload: str, runner: str) -> float | None:
        """Median ns of a runner on a workload, following "same chunk as" links."""
        row = self.results.get(workload, {})
        res = row.get(runner)
        for _ in range(len(row) + 1):
            if res is None:
                return None
            if res.status == "ok":
                return res.median_ns
            if res.status != "same" or res.same_as is None:
                return None
            res = row.get(res.same_as)
        return None

    def ratios(self, w: Workload) -> dict[str, float | None]:
        """The ratios the table and JSON report for one workload."""
        interp = self.time_of(w.name, INTERP)
        unfused = self.time_of(w.name, UNFUSED)
        fused = self.time_of(w.name, FUSED)
        python = self.time_of(w.name, PYTHON)
        return {
            "interp_over_python": _div(interp, python),
            "prepared_over_python": _div(self.time_of(w.name, PREPARED), python),
            "unfused_over_interp": _div(unfused, interp),
            "unfused_over_fused": _div(unfused, fused),
            "interp_over_rust_interp_published": _div(interp, w.published.get("rust_interp")),
            "python_over_cpython_published": _div(python, w.published.get("cpython")),
        }

    def shown_runners(self) -> list[Runner]:
        return [r for r in self.runners
                if r.name not in self.unavailable or r.name in ALWAYS_SHOWN]


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


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


# -- The table -----------------------------------------------------------------------------

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
    return Text(res.status.upper(), style="bold red")


def render_table(o: Outcome) -> Table:
    """One row per workload; columns per README "Columns"."""
    shown = o.shown_runners()
    extra = [r for r in shown if r.name not in ALWAYS_SHOWN]
    title = "fusevm bench: time per call (median)" + (" — QUICK, not for quoting"
                                                      if o.settings.quick else "")
    t = Table(title=title, title_justify="left", header_style="bold")
    t.add_column("workload", no_wrap=True)
    t.add_column("ops/call", justify="right", no_wrap=True)
    t.add_column("interp", justify="right", no_wrap=True)
    t.add_column("ns/op", justify="right", no_wrap=True)
    t.add_column("interp\nprepared", justify="right", no_wrap=True)
    t.add_column("python", justify="right", no_wrap=True)
    t.add_column("interp\n÷ python", justify="right", no_wrap=True)
    t.add_column("unfused", justify="right", no_wrap=True)
    t.add_column("fused\n(pass)", justify="right", no_wrap=True)
    t.add_column("unfused\n÷ interp", justify="right", no_wrap=True)
    t.add_column("unfused\n÷ fused", justify="right", no_wrap=True)
    for r in extra:
        t.add_column(r.label or r.name, justify="right", no_wrap=True)
    for _, heading in TABLE_PEERS:
        t.add_column(heading, justify="right", no_wrap=True, style="cyan")
    for w in o.workloads:
        row = o.results.get(w.name, {})
        interp = row.get(INTERP)
        ops = interp.ops if interp is not None else None
        ns_op = (interp.median_ns / ops if interp is not None and interp.median_ns is not None
                 and ops else None)
        ratios = o.ratios(w)
        marker = " †" if w.note else ""
        cells: list[Text | str] = [
            w.name + marker,
            f"{ops:,}" if ops else "—",
            _cell(o, w, INTERP),
            _fmt_ns_op(ns_op),
            _cell(o, w, PREPARED),
            _cell(o, w, PYTHON),
            fmt_ratio(ratios["interp_over_python"]),
            _cell(o, w, UNFUSED),
            _cell(o, w, FUSED),
            _same_or_ratio(row.get(UNFUSED), ratios["unfused_over_interp"]),
            fmt_ratio(ratios["unfused_over_fused"]),
        ]
        cells.extend(_cell(o, w, r.name) for r in extra)
        cells.extend(fmt_time(w.published.get(key)) for key, _ in TABLE_PEERS)
        t.add_row(*cells)
    return t


def _fmt_ns_op(ns: float | None) -> str:
    if ns is None:
        return "—"
    return f"{ns:,.0f}" if ns >= 1000 else f"{ns:.1f}"


def _same_or_ratio(res: Result | None, ratio: float | None) -> str:
    if res is not None and res.status == "same":
        return "="
    return fmt_ratio(ratio)


def render_notes(o: Outcome) -> list[str]:
    """Footnotes: † notes, why cells are n/a, wrong results and errors."""
    lines: list[str] = []
    for w in o.workloads:
        if w.note:
            lines.append(f"† {w.name}: {w.note}")
    reasons: dict[tuple[str, str], list[str]] = {}
    problems: list[str] = []
    shown = {r.name for r in o.shown_runners()}
    for w in o.workloads:
        for name, res in o.results.get(w.name, {}).items():
            if res.status == "n/a" and name in shown:
                reasons.setdefault((name, res.note), []).append(w.name)
            elif res.status in ("wrong", "error"):
                problems.append(f"[bold red]{res.status.upper()}[/] {w.name} / {name}: "
                                f"{res.note}")
    for (name, why), names in reasons.items():
        which = "every workload" if len(names) == len(o.workloads) else ", ".join(names)
        lines.append(f"[dim]n/a {name}: {why} ({which})[/]")
    lines.extend(problems)
    lines.append("[dim]= NAME: same chunk as NAME, timed once. Published columns: "
                 "published anchors (not measured here).[/]")
    return lines


def render_summary(o: Outcome) -> list[str]:
    """Headline numbers: ns/op on counter_loop, the median ratio to Python, fusion gains."""
    lines: list[str] = []
    for w in o.workloads:
        if w.name.startswith("counter_loop"):
            res = o.results.get(w.name, {}).get(INTERP)
            if res is not None and res.median_ns is not None and res.ops:
                lines.append(f"{w.name}: {res.median_ns / res.ops:.1f} ns per dispatched op "
                             f"({res.ops:,} ops per call)")
    py = sorted(r for w in o.workloads
                if (r := o.ratios(w)["interp_over_python"]) is not None)
    if py:
        lines.append(f"interp ÷ plain Python: median {fmt_ratio(py[len(py) // 2])} "
                     f"(range {fmt_ratio(py[0])} to {fmt_ratio(py[-1])})")
    lines.append(f"measured in {o.elapsed_s:.1f} s")
    return lines


# -- JSON ------------------------------------------------------------------------------------

def to_json(o: Outcome) -> dict[str, Any]:
    """The JSON document (schema `fusevm-bench/1`, described in benchmarks/README.md)."""
    return {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": o.machine,
        "settings": {"quick": o.settings.quick, "clock": o.settings.clock,
                     "target_s": o.settings.target_s,
                     "min_reps": o.settings.min_reps, "elapsed_s": round(o.elapsed_s, 3)},
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
            "ratios": o.ratios(w),
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
    for r in o.shown_runners():
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
