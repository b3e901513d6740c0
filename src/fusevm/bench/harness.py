"""The `fusevm bench` command: selects workloads and runners, measures them, reports.

Reads the workloads (`workloads.py`, plus `jit_workloads.WORKLOADS` when present) and the
runner registry (`runners.py`, `peers.py`, plus `jit_workloads.RUNNERS`). Writes the rich
table to stdout, progress to stderr, and optionally JSON (`--json`) and a plot (`--plot`);
`report.py` renders all three. Exit status 1 when any runner returned a wrong result or
failed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from fusevm.bench.registry import default_runners
from fusevm.bench.report import (
    Outcome,
    render_notes,
    render_summary,
    render_table,
    write_json,
    write_plot,
)
from fusevm.bench.runners import Result, Runner, Settings
from fusevm.bench.workloads import Workload, all_workloads

NOISE_CAVEAT = (
    "Times are wall-clock medians of repeated calls in one process on a machine that may be "
    "busy: expect 10-20% drift between runs. Compare columns within one run; published "
    "figures (published anchors) were measured elsewhere (Rust: Apple M; peers: a 2-core CI-class "
    "box) and are context, not a measurement.")

#: Where the JSON goes by default when run from a checkout (as `make bench` does).
DEFAULT_JSON = Path("benchmarks") / "results" / "latest.json"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fusevm bench",
        description="Time the benchmark workloads in the interpreter, its JIT tiers, plain "
                    "Python and installed peers; print a table and write JSON.")
    p.add_argument("--quick", action="store_true",
                   help="few repetitions and short measurements (a smoke test, not numbers "
                        "to quote)")
    p.add_argument("--filter", action="append", default=[], metavar="SUBSTR",
                   help="only workloads whose name contains SUBSTR (repeatable: any matches)")
    p.add_argument("--runners", metavar="NAMES",
                   help="comma-separated runner names to use (default: every available one)")
    p.add_argument("--json", metavar="FILE",
                   help=f"write the results as JSON (default: {DEFAULT_JSON} when that "
                        "directory's parent exists in the current directory)")
    p.add_argument("--no-json", action="store_true", help="do not write JSON")
    p.add_argument("--plot", metavar="FILE.png",
                   help="write a bar chart (log-scale time per workload; needs matplotlib)")
    p.add_argument("--time", type=float, metavar="SECONDS",
                   help="target seconds per measurement (default 0.75; 0.02 with --quick)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: time.perf_counter_ns (default); cpu: CPU time of the measuring "
                        "thread, steadier on a busy machine (the published anchors are CPU time)")
    p.add_argument("--list", action="store_true", help="list workloads and runners, then exit")
    return p


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on (recorded with every result, STYLE 4.9)."""
    from fusevm import __version__
    info: dict[str, Any] = {
        "fusevm": __version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "llvmlite": None,
        "llvm": None,
    }
    try:
        from importlib.metadata import PackageNotFoundError, version
        info["llvmlite"] = version("llvmlite")
    except PackageNotFoundError:
        return info
    try:
        import llvmlite.binding as llvm
        info["llvm"] = ".".join(str(x) for x in llvm.llvm_version_info)
    except Exception:  # a broken llvmlite install only costs us the version string
        pass
    return info


def select_workloads(all_: Sequence[Workload], filters: Sequence[str]) -> list[Workload]:
    """Workloads whose name contains any of `filters` (all of them when none are given)."""
    if not filters:
        return list(all_)
    wanted = [f.lower() for f in filters]
    return [w for w in all_ if any(f in w.name.lower() for f in wanted)]


def select_runners(runners: Sequence[Runner], names: str | None) -> list[Runner]:
    if names is None:
        return list(runners)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {r.name: r for r in runners}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SystemExit(f"fusevm bench: unknown runner(s) {', '.join(unknown)}; "
                         f"known: {', '.join(known)}")
    return [known[n] for n in wanted]


def run_all(workloads: Sequence[Workload], runners: Sequence[Runner], settings: Settings,
            progress: Progress | None = None) -> dict[str, dict[str, Result]]:
    """Every runner on every workload, in table order; results by workload, then runner."""
    out: dict[str, dict[str, Result]] = {}
    task = None
    if progress is not None:
        task = progress.add_task("starting", total=len(workloads) * len(runners))
    for w in workloads:
        seen: dict[Hashable, str] = {}
        row: dict[str, Result] = {}
        for r in runners:
            if progress is not None and task is not None:
                progress.update(task, description=f"{w.name} [dim]{r.name}[/]")
            row[r.name] = r.run(w, settings, seen)
            if progress is not None and task is not None:
                progress.advance(task)
        out[w.name] = row
    return out


def _list(console: Console, workloads: Sequence[Workload], runners: Sequence[Runner],
          unavailable: dict[str, str]) -> None:
    console.print("[bold]workloads[/]")
    for w in workloads:
        console.print(f"  {w.name:<22} {w.description}")
    console.print("[bold]runners[/]")
    for r in runners:
        why = unavailable.get(r.name)
        state = f"[yellow]unavailable: {why}[/]" if why else "[green]available[/]"
        console.print(f"  {r.name:<16} {r.description} ({state})")


def _header(console: Console, machine: dict[str, Any], settings: Settings,
            unavailable: dict[str, str]) -> None:
    llvm = (f"llvmlite {machine['llvmlite']} (LLVM {machine['llvm']})"
            if machine["llvmlite"] else "llvmlite not installed")
    load = machine["load_average"]
    busy = f" (load average {load[0]:.2f} at start)" if load else ""
    console.print(f"[bold]fusevm bench[/]  fusevm {machine['fusevm']} · "
                  f"{machine['implementation']} {machine['python']} · {machine['platform']} · "
                  f"{machine['cpu_count']} CPUs{busy} · {llvm}")
    mode = ("[yellow]--quick[/]: 1-3 short repetitions, smoke test only" if settings.quick
            else f"median of repetitions scaled to ≈{settings.target_s:g} s per measurement "
                 f"(at least {settings.min_reps}), after a warm-up call")
    clock = ("wall clock (time.perf_counter_ns)" if settings.clock == "wall"
             else "CPU time of the measuring thread (time.thread_time_ns)")
    console.print(f"mode: {mode}; {clock}")
    console.print(f"[dim]{NOISE_CAVEAT}[/]")
    for name, why in unavailable.items():
        console.print(f"[dim]not run: {name}: {why}[/]")


def main(argv: list[str]) -> int:
    """Entry point of `fusevm bench ARGS...`; returns the exit status."""
    args = build_parser().parse_args(argv)
    # Not a terminal (a log, a pipe): wide enough that no column of the table is cut.
    out = Console(width=None if sys.stdout.isatty() else 320, highlight=False)
    err = Console(stderr=True, highlight=False)
    warnings: list[str] = []
    workloads = select_workloads(all_workloads(warnings.append), args.filter)
    registry = default_runners()
    warnings = list(dict.fromkeys([*warnings, *registry.warnings]))
    runners = select_runners(registry.runners, args.runners)
    unavailable = {r.name: why for r in runners if (why := r.unavailable()) is not None}
    if args.list:
        _list(out, workloads, runners, unavailable)
        return 0
    if not workloads:
        err.print(f"fusevm bench: no workload matches {', '.join(args.filter)}")
        return 2
    settings = Settings.for_mode(args.quick, args.clock)
    if args.time is not None:
        settings = dataclasses.replace(settings, target_s=args.time)
    machine = machine_info()
    _header(out, machine, settings, unavailable)
    for message in warnings:
        err.print(f"[yellow]warning:[/] {message}")

    # Unavailable runners are not run; the fusion column stays, saying n/a (its reason is
    # the interesting part while the pass is being written).
    active = [r for r in runners if r.name not in unavailable]
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        results = run_all(workloads, active, settings, progress)
    elapsed = time.perf_counter() - started
    for name, why in unavailable.items():
        for row in results.values():
            row[name] = Result(name, "n/a", note=why)

    outcome = Outcome(workloads, runners, results, unavailable, machine, settings, warnings,
                      elapsed)
    out.print(render_table(outcome))
    for line in render_notes(outcome):
        out.print(line)
    for line in render_summary(outcome):
        out.print(line)

    json_path = None if args.no_json else (
        Path(args.json) if args.json else
        (DEFAULT_JSON if DEFAULT_JSON.parent.parent.is_dir() else None))
    if json_path is not None:
        write_json(outcome, json_path)
        out.print(f"JSON written to {json_path}")
    if args.plot:
        try:
            write_plot(outcome, Path(args.plot))
        except ImportError as e:
            err.print(f"fusevm bench: --plot needs matplotlib ({e})")
            return 2
        out.print(f"plot written to {args.plot}")
    bad = [(w, r) for w, row in results.items() for r, res in row.items()
           if res.status in ("wrong", "error")]
    return 1 if bad else 0
