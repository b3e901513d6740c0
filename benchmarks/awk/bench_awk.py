"""Benchmark fusevm awk against the system's awks (gawk, mawk, original-awk, if installed).

    python benchmarks/awk/bench_awk.py [--mb 50] [--runs 1] [--only NAME]

Generates its input in a temporary directory (a `--mb` MB file of lines like
`key123 4567.89 42 some words here`), runs each workload under each awk, checks that
every awk printed the same output (word counts are compared sorted), and prints a table
of wall times and our ratio to each. No target is asserted: the numbers are a report.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi "
         "omicron pi rho sigma tau upsilon phi chi psi omega foo42bar").split()

WORKLOADS: dict[str, tuple[str, bool, bool]] = {
    # name: (program, reads the data file, sort the output before comparing)
    "sum-column": ("{ s += $3 } END { print s }", True, False),
    "word-freq": ("{ for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) print w, c[w] }",
                  True, True),
    "printf-reformat": ('{ printf "%-10s|%10.2f|%5d\\n", $1, $2, $3 }', True, False),
    "regex-filter": ("/foo[0-9]+bar|^key1[0-9]*7 / { n++ } END { print n }", True, False),
    "begin-loop": ("BEGIN { for (i = 0; i < 2000000; i++) s += i * 2; print s }", False,
                   False),
}


def generate(path: Path, megabytes: float) -> None:
    rng = random.Random(42)
    target = int(megabytes * 1024 * 1024)
    size = 0
    with path.open("w") as f:
        lines = []
        while size < target:
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
            line = (f"key{rng.randint(0, 99999)} {rng.uniform(0, 10000):.2f} "
                    f"{rng.randint(0, 999)} {words}\n")
            lines.append(line)
            size += len(line)
            if len(lines) >= 10000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines))


def awks() -> dict[str, list[str]]:
    found = {"fusevm": [sys.executable, "-m", "fusevm.awk"]}
    for name in ("gawk", "mawk", "original-awk"):
        path = shutil.which(name)
        if path:
            found[name] = [path]
    return found


def run(cmd: list[str], program: str, data: Path | None) -> tuple[float, bytes]:
    env = dict(os.environ, LC_ALL="C", PYTHONPATH=str(ROOT / "src"))
    argv = [*cmd, program] + ([str(data)] if data else [])
    start = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, env=env, check=True)
    return time.perf_counter() - start, r.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=50.0, help="size of the data file in MB")
    ap.add_argument("--runs", type=int, default=1, help="best of N runs")
    ap.add_argument("--only", action="append", help="run only this workload (repeatable)")
    args = ap.parse_args()
    impls = awks()
    others = [n for n in impls if n != "fusevm"]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.txt"
        generate(data, args.mb)
        print(f"data: {data.stat().st_size / 1e6:.1f} MB, {sum(1 for _ in data.open())} lines")
        header = f"{'workload':<16} {'fusevm':>9}" + "".join(
            f" {n:>12} {'ratio':>7}" for n in others)
        print(header)
        print("-" * len(header))
        for name, (program, reads, sort) in WORKLOADS.items():
            if args.only and name not in args.only:
                continue
            times: dict[str, float] = {}
            outputs: dict[str, bytes] = {}
            for impl, cmd in impls.items():
                best = float("inf")
                for _ in range(args.runs):
                    t, out = run(cmd, program, data if reads else None)
                    best = min(best, t)
                times[impl] = best
                outputs[impl] = b"\n".join(sorted(out.splitlines())) if sort else out
            differ = [n for n, o in outputs.items() if o != outputs["fusevm"]]
            row = f"{name:<16} {times['fusevm']:>8.2f}s"
            for n in others:
                row += f" {times[n]:>11.2f}s {times['fusevm'] / times[n]:>6.1f}x"
            # e.g. mawk prints large integral sums as 4e+12 where the others print digits
            print(row + (f"   (output differs from: {', '.join(differ)})" if differ else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
