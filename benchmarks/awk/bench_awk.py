"""Benchmark fusevm awk against the system's awks (gawk, mawk, original-awk, if installed).

    python benchmarks/awk/bench_awk.py [--lines 300000] [--runs 3] [--only NAME]
                                        [--before SRC]

Generates its input in a temporary directory (`--lines` lines like
`key123 4567.89 42 some words here`, the same lines comma-separated for the `-F,`
workload, and a key/price table for the two-file join), runs each workload under each awk,
checks that every awk printed the same output (word counts are compared sorted), and prints
a table of CPU times (user + system of the child process, from its rusage) and our ratio
to each. The awks are run interleaved (fusevm, gawk, mawk, fusevm, ...) and each figure
is the median of `--runs` runs, so a busy machine slows every column alike. A second
table gives each figure net of that awk's own start-up (its `BEGIN { }` row, measured
first), the per-record work the ratios of the first table hide behind a Python
interpreter's start-up. No target is asserted: the numbers are a report. `--before SRC`
adds a column for another fusevm source tree (say, an older commit's `src` from
`git archive`), run in the same rounds. Run `python -m compileall -q src/fusevm` first
(with PYTHONDONTWRITEBYTECODE set, start-up otherwise compiles the package every run).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parents[2]
WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
         "omicron pi rho sigma tau upsilon phi chi psi omega foo42bar").split()

#: name: (awk arguments before the data, the data files it reads, sort output to compare).
#: Data names: "data" (blank-separated lines), "csv" (the same, comma-separated), "prices"
#: (a key/price table of a tenth as many lines).
WORKLOADS: dict[str, tuple[list[str], list[str], bool]] = {
    "sum-column": (["{ s += $3 } END { print s }"], ["data"], False),
    "word-freq": (["{ for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) print w, c[w] }"],
                  ["data"], True),
    "regex-filter": (["/foo[0-9]+bar|^key1[0-9]*7 / { n++ } END { print n }"], ["data"],
                     False),
    "printf": (['{ printf "%-10s|%10.2f|%5d\\n", $1, $2, $3 }'], ["data"], False),
    "field-sep": (["-F,", "{ s += $3 } $2 > 5000 { n++ } END { print s, n }"], ["csv"],
                  False),
    "gsub": (['{ n += gsub(/a/, "A") } END { print n }'], ["data"], False),
    "join": (["NR == FNR { price[$1] = $2; next } $1 in price { n++; s += price[$1] } "
              "END { print n, s }"], ["prices", "data"], False),
    "begin-loop": (["BEGIN { for (i = 0; i < 2000000; i++) s += i * 2; print s }"], [],
                   False),
}
#: What every workload includes; measured first, and subtracted for the net table.
START_UP: Final = "start-up"
WORKLOADS = {START_UP: (["BEGIN { }"], [], False), **WORKLOADS}


def generate(directory: Path, lines: int) -> dict[str, Path]:
    """The data files for `lines` input lines, by name."""
    rng = random.Random(42)
    paths = {name: directory / f"{name}.txt" for name in ("data", "csv", "prices")}
    with paths["data"].open("w") as data, paths["csv"].open("w") as csv:
        for start in range(0, lines, 10000):
            block = []
            for _ in range(min(10000, lines - start)):
                words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
                block.append((f"key{rng.randint(0, 99999)}", f"{rng.uniform(0, 10000):.2f}",
                              str(rng.randint(0, 999)), words))
            data.write("".join(" ".join(row) + "\n" for row in block))
            csv.write("".join(",".join(row) + "\n" for row in block))
    with paths["prices"].open("w") as prices:
        prices.write("".join(f"key{rng.randint(0, 99999)} {rng.randint(1, 500)}\n"
                             for _ in range(max(1, lines // 10))))
    return paths


def awks(before: Path | None) -> dict[str, tuple[list[str], Path | None]]:
    """Each awk's command, and for fusevm the source tree it runs."""
    fusevm = [sys.executable, "-m", "fusevm.awk"]
    found: dict[str, tuple[list[str], Path | None]] = {"fusevm": (fusevm, ROOT / "src")}
    if before is not None:
        found["before"] = (fusevm, before)
    for name in ("gawk", "mawk", "original-awk"):
        path = shutil.which(name)
        if path:
            found[name] = ([path], None)
    return found


def run(cmd: list[str], src: Path | None, args: list[str], files: list[Path],
        out: Path) -> float:
    """Run one awk; its CPU time (user + system) in seconds. Output goes to `out`."""
    env = dict(os.environ, LC_ALL="C")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    with out.open("wb") as sink:
        proc = subprocess.Popen([*cmd, *args, *map(str, files)], stdout=sink, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[-1]} failed with status {proc.returncode}")
    return usage.ru_utime + usage.ru_stime


def digest(path: Path, sort: bool) -> str:
    data = path.read_bytes()
    if sort:
        data = b"\n".join(sorted(data.splitlines()))
    return hashlib.sha256(data).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=300_000, help="lines of input data")
    ap.add_argument("--runs", type=int, default=3, help="runs per awk (the median is shown)")
    ap.add_argument("--only", action="append", help="run only this workload (repeatable)")
    ap.add_argument("--before", type=Path, help="another fusevm source tree, for a column")
    args = ap.parse_args()
    impls = awks(args.before)
    others = [n for n in impls if n != "fusevm"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), args.lines)
        size = paths["data"].stat().st_size / 1e6
        print(f"data: {args.lines} lines, {size:.1f} MB; CPU seconds (user + system), "
              f"median of {args.runs} interleaved runs")
        header = f"{'workload':<16} {'fusevm':>9}" + "".join(
            f" {n:>12} {'ratio':>7}" for n in others)
        print(header)
        print("-" * len(header))
        out = Path(tmp) / "out"
        medians: dict[str, dict[str, float]] = {}
        for name, (program, reads, sort) in WORKLOADS.items():
            if args.only and name not in args.only and name != START_UP:
                continue
            times: dict[str, list[float]] = {impl: [] for impl in impls}
            outputs: dict[str, str] = {}
            for _ in range(args.runs):
                for impl, (cmd, src) in impls.items():
                    times[impl].append(run(cmd, src, program, [paths[r] for r in reads], out))
                    outputs[impl] = digest(out, sort)
            median = medians[name] = {impl: statistics.median(ts)
                                      for impl, ts in times.items()}
            differ = [n for n, o in outputs.items() if o != outputs["fusevm"]]
            row = f"{name:<16} {median['fusevm']:>8.2f}s"
            for n in others:
                row += f" {median[n]:>11.2f}s {median['fusevm'] / max(median[n], 1e-3):>6.1f}x"
            # e.g. mawk prints large integral sums as 4e+12 where the others print digits
            print(row + (f"   (output differs from: {', '.join(differ)})" if differ else ""),
                  flush=True)
    print()
    print("net of each awk's start-up (the start-up row subtracted)")
    print(header)
    print("-" * len(header))
    base = medians[START_UP]
    for name, median in medians.items():
        if name == START_UP:
            continue
        net = {impl: max(t - base[impl], 0.0) for impl, t in median.items()}
        row = f"{name:<16} {net['fusevm']:>8.2f}s"
        for n in others:
            row += f" {net[n]:>11.2f}s {net['fusevm'] / max(net[n], 1e-2):>6.1f}x"
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
