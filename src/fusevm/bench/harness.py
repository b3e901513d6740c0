"""The `fusevm bench` command: selects workloads and runners, measures them, reports.

Reads the workloads (`workloads.py`, plus `jit_workloads.WORKLOADS` when present) and the
runner registry (`runners.py`, `peers.py`, plus `jit_workloads.RUNNERS`). Writes the rich
table to stdout, progress to stderr, and optionally JSON (`--json`) and a plot (`--plot`);
`report.py` renders all three. Exit status 1 when any runner returned a wrong result or
failed, 0 otherwise.

Each workload is measured on its own: every column opens a session on it (a prepared
call, or a peer process), the first call of each is checked, then all of them are timed
together in interleaved rounds (`interleave.py`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from fusevm.bench.interleave import Session, interleave
from fusevm.bench.registry import default_runners
from fusevm.bench.report import (
    Outcome,
    render_notes,
    render_ratio_table,
    render_summary,
    render_table,
    write_json,
    write_plot,
)
from fusevm.bench.runners import NotApplicable, Result, Runner, Settings
from fusevm.bench.stats import summarize
from fusevm.bench.workloads import Workload, all_workloads

NOISE_CAVEAT = (
    "Compare columns within one run, by their ratios: absolute times drift 10-20% between "
    "runs on a busy machine, ratios of interleaved columns far less. Published figures were "
    "measured elsewhere (Rust: Apple M; peers: a 2-core CI-class box) and are context, not "
    "a measurement.")

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
    p.add_argument("--time", type=_seconds, metavar="SECONDS",
                   help="target seconds of timing per column and workload (default 0.75; "
                        "0.02 with --quick)")
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                   help="cpu (default): CPU time of the measuring thread (peers: their own "
                        "thread's), which waiting for a CPU on a busy machine does not "
                        "inflate; wall: time.perf_counter_ns")
    p.add_argument("--list", action="store_true", help="list workloads and runners, then exit")
    return p


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages, where the platform has them."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on (recorded with every result, STYLE 4.9)."""
    from fusevm import __version__
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    info: dict[str, Any] = {
        "fusevm": __version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "load_average": load_average(),
        "load_average_end": None,
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


def _seconds(text: str) -> float:
    """--time: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds in (0, 3600]")
    return value


def select_runners(runners: Sequence[Runner], names: str | None) -> list[Runner]:
    if names is None:
        return list(runners)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {r.name: r for r in runners}
    if not wanted:
        raise SystemExit(f"fusevm bench: --runners names no runner; known: {', '.join(known)}")
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SystemExit(f"fusevm bench: unknown runner(s) {', '.join(unknown)}; "
                         f"known: {', '.join(known)}")
    return [known[n] for n in wanted]


def _first_call_problem(name: str, session: Session, w: Workload) -> Result | None:
    """None when the session's first call returned `w`'s expected result, else its cell."""
    try:
        wrong = session.check(w)
    except Exception as e:  # a failing column is reported in its cell, not fatal
        return Result(name, "error", note=f"{type(e).__name__}: {e}")
    return None if wrong is None else Result(name, "wrong", note=wrong)


def measure_workload(w: Workload, runners: Sequence[Runner], settings: Settings,
                     unavailable: Mapping[str, str] | None = None,
                     tick: Callable[[int, int], None] | None = None) -> dict[str, Result]:
    """Every runner's cell for workload `w`, in column order.

    Each available runner opens a session; its first call is checked (a wrong result is
    reported and never timed); a session with the same key as an earlier one is timed
    once (`same`); the rest are timed together by `interleave`.
    """
    unavailable = unavailable or {}
    row: dict[str, Result] = {}
    sessions: dict[str, Session] = {}
    seen: dict[Hashable, str] = {}
    try:
        for r in runners:
            if r.name in unavailable:
                row[r.name] = Result(r.name, "missing", note=unavailable[r.name])
                continue
            try:
                session = r.open(w, settings)
            except NotApplicable as e:
                row[r.name] = Result(r.name, "n/a", note=str(e))
                continue
            except Exception as e:  # a failing column is reported in its cell, not fatal
                row[r.name] = Result(r.name, "error", note=f"{type(e).__name__}: {e}")
                continue
            if session.key is not None and session.key in seen:
                row[r.name] = Result(r.name, "same", same_as=seen[session.key])
                session.close()
                continue
            problem = _first_call_problem(r.name, session, w)
            if problem is not None:
                row[r.name] = problem
                session.close()
                continue
            if session.key is not None:
                seen[session.key] = r.name
            sessions[r.name] = session
        measured = interleave(sessions, settings, tick)
        for name, session in sessions.items():
            if name in measured.errors:
                row[name] = Result(name, "error", note=measured.errors[name])
                continue
            samples = measured.samples[name]
            result = Result(name, "ok", summarize(samples, measured.inner[name]),
                            note=session.note, samples=samples, clock=session.clock)
            if session.count is not None and settings.count_ops:
                try:
                    result.ops = session.count()
                except Exception as e:  # the count is a diagnostic; the timing stands
                    result.note = f"op count failed ({type(e).__name__}: {e})"
            row[name] = result
    finally:
        for session in sessions.values():
            session.close()
    return {r.name: row[r.name] for r in runners}


def run_all(workloads: Sequence[Workload], runners: Sequence[Runner], settings: Settings,
            unavailable: Mapping[str, str] | None = None,
            progress: Progress | None = None) -> dict[str, dict[str, Result]]:
    """Every runner on every workload, in table order; results by workload, then runner."""
    out: dict[str, dict[str, Result]] = {}
    task = None
    if progress is not None:
        task = progress.add_task("starting", total=len(workloads))
    for w in workloads:
        tick = None
        if progress is not None and task is not None:
            bar, name = progress, w.name
            bar.update(task, description=f"{name} [dim]opening sessions[/]")

            def tick(done: int, total: int, bar: Progress = bar, name: str = name,
                     task: Any = task) -> None:
                bar.update(task, description=f"{name} [dim]round {done}/{total}[/]")
        out[w.name] = measure_workload(w, runners, settings, unavailable, tick)
        if progress is not None and task is not None:
            progress.advance(task)
    return out


def _list(console: Console, workloads: Sequence[Workload], runners: Sequence[Runner],
          unavailable: dict[str, str]) -> None:
    console.print("[bold]workloads[/]")
    for w in workloads:
        console.print(f"  {w.name:<22} {w.description}")
    console.print("[bold]runners[/]")
    for r in runners:
        why = unavailable.get(r.name)
        state = f"[yellow]missing: {escape(why)}[/]" if why else "[green]available[/]"
        console.print(f"  {r.name:<16} {escape(r.description)} ({state})")


def clocks_used(results: Mapping[str, Mapping[str, Result]]) -> dict[str, list[str]]:
    """The clocks the cells were actually timed with, each with the columns that used it."""
    used: dict[str, list[str]] = {}
    for row in results.values():
        for name, res in row.items():
            if res.status == "ok" and res.clock:
                names = used.setdefault(res.clock, [])
                if name not in names:
                    names.append(name)
    return used


def _loads(machine: Mapping[str, Any], wall: bool) -> str:
    start, end = machine.get("load_average"), machine.get("load_average_end")
    if start is None:
        return "load average unknown"
    text = f"load average {start[0]:.2f} at start"
    if end is not None:
        text += f", {end[0]:.2f} at end"
    cpus = machine.get("cpus_usable") or machine.get("cpu_count") or 0
    if cpus and max(start[0], (end or start)[0]) > cpus:
        text += (" [yellow](busier than its CPUs: wall times include waiting for one)[/]"
                 if wall else " (busier than its CPUs; CPU time leaves the wait out)")
    return text


def header_lines(machine: Mapping[str, Any], settings: Settings,
                 results: Mapping[str, Mapping[str, Result]]) -> list[str]:
    """What was measured, on what, with which clocks (printed above the tables)."""
    llvm = (f"llvmlite {machine['llvmlite']} (LLVM {machine['llvm']})"
            if machine.get("llvmlite") else "llvmlite not installed")
    usable = machine.get("cpus_usable")
    cpus = f"{machine['cpu_count']} CPUs" + (
        f" ({usable} usable)" if usable is not None and usable != machine["cpu_count"] else "")
    lines = [f"[bold]fusevm bench[/]  fusevm {machine['fusevm']} · "
             f"{machine['implementation']} {machine['python']} · {machine['platform']} · {llvm}",
             f"machine: {cpus} · {_loads(machine, settings.clock == 'wall')} "
             "(1-minute averages)"]
    used = clocks_used(results)
    clock_text = "; ".join(f"{clock} for {', '.join(names)}" for clock, names in used.items())
    lines.append(f"clock (--clock {settings.clock}): {clock_text or 'nothing was timed'}")
    if settings.quick:
        lines.append("method: [yellow]--quick[/]: a couple of short rounds, a smoke test only")
    else:
        lines.append(
            f"method: per workload, every column is timed in the same rounds, one repetition "
            f"each in turn (order reversed every other round), ≈{settings.target_s:g} s of "
            f"timing per column, at least {settings.min_rounds} rounds, after a warm-up "
            f"round; a cell is the median of its rounds; a ratio is the median of the "
            f"per-round ratios with their interquartile range")
    lines.append("warm columns exclude building the VM, verifying and preparing the chunk "
                 "and compiling (a warm call is putting the VM's ip and input slots back, "
                 "then vm.run()); first-run columns include them")
    lines.append(f"[dim]{NOISE_CAVEAT}[/]")
    return lines


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
    for message in warnings:
        err.print(f"[yellow]warning:[/] {escape(message)}")
    for name, why in unavailable.items():
        err.print(f"[yellow]missing:[/] {name}: {escape(why)}")

    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        results = run_all(workloads, runners, settings, unavailable, progress)
    elapsed = time.perf_counter() - started
    machine["load_average_end"] = load_average()

    outcome = Outcome(workloads, runners, results, unavailable, machine, settings, warnings,
                      elapsed)
    for line in header_lines(machine, settings, results):
        out.print(line)
    out.print(render_table(outcome))
    out.print(render_ratio_table(outcome))
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
