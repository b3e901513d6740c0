"""GlobRecursive: the thread-pool `**` walk against the one-thread walk.

A plain script (pytest does not collect it): builds a tree of 50,000 files in a temporary
directory, then times `glob("**/*.dat", recursive=True)` with the parallel walker and with
`walk_sequential`, five runs each, and prints the medians and their ratio. The page cache is
warm after the first run, so this measures CPU-side overhead more than disk latency; threads
pay off most on cold caches and network file systems.

    PYTHONPATH=src python benchmarks/bench_glob.py [--files N] [--runs R] [--workers W]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from fusevm.shell.glob import glob
from fusevm.shell.walk import walk_parallel, walk_sequential


def build_tree(root: str, files: int, per_dir: int = 100, fanout: int = 10) -> int:
    """Create `files` files, `per_dir` per leaf directory, leaves `fanout` per parent (plus a
    few hidden and non-matching entries); returns the number of directories made."""
    leaves = max(1, files // per_dir)
    made = 0
    for leaf in range(leaves):
        d = os.path.join(root, f"top{leaf // fanout:03d}", f"leaf{leaf % fanout:02d}")
        os.makedirs(d, exist_ok=True)
        made += 1
        for i in range(per_dir):
            with open(os.path.join(d, f"f{i:03d}.dat"), "w"):
                pass
        with open(os.path.join(d, "skip.txt"), "w"):
            pass
    os.makedirs(os.path.join(root, ".hidden"), exist_ok=True)
    return made


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times = []
    result: object = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cpus", flush=True)
    with tempfile.TemporaryDirectory(prefix="fusevm-bench-glob-") as root:
        dirs = build_tree(root, args.files)
        print(f"tree: {args.files} files in {dirs} leaf directories under {root}")
        old = os.getcwd()
        os.chdir(root)
        try:
            glob("**/*.dat", True)  # warm the page cache and the pattern cache
            par, par_result = median_time(
                lambda: glob("**/*.dat", True, max_workers=args.workers), args.runs)
            seq, seq_result = median_time(
                lambda: glob("**/*.dat", True, parallel=False), args.runs)
            assert par_result == seq_result and isinstance(par_result, list)
            assert len(par_result) == args.files, len(par_result)
            wpar, _ = median_time(lambda: walk_parallel("", max_workers=args.workers),
                                  args.runs)
            wseq, _ = median_time(lambda: walk_sequential(""), args.runs)
        finally:
            os.chdir(old)
    print(f"GlobRecursive '**/*.dat', median of {args.runs}:")
    print(f"  thread-pool walker : {par * 1000:8.1f} ms")
    print(f"  walk_sequential    : {seq * 1000:8.1f} ms")
    print(f"  ratio sequential/parallel = {seq / par:.2f}x")
    print(f"walk only: parallel {wpar * 1000:.1f} ms, sequential {wseq * 1000:.1f} ms, "
          f"ratio {wseq / wpar:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
