"""The dispatch guard (STYLE part 3): ns per dispatched op on a tight loop of simple ops.

Any change to the handler signature, the step closures or the run loop must report this
number before and after. The program is STYLE part 3's: a counted loop of 8 plain ops per
iteration (built with fuse=False, so no superinstruction hides the dispatches), 300,000
iterations by default, about 2.4 M dispatches. Each run is VM construction + run(); the
best and the median of the runs are printed, divided by the dispatch count (which is
counted, not assumed).

    python benchmarks/bench_dispatch.py [--iterations N] [--runs R]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

from fusevm.bench.runners import count_dispatches
from fusevm.chunk import Chunk, ChunkBuilder
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.ops.extension import ExtOp

#: STYLE part 3's figure for list-of-handlers table dispatch (CPython 3.11.7, 2 cores).
STYLE_PART3_NS = "70-88"


def loop_chunk(iterations: int, add: Op | ExtOp = Op.Add) -> Chunk:
    """i = 0; do { i = i + 1 } while (i < iterations), as 8 plain ops per iteration (`add`
    is the op that adds: benchmarks/bench_extension.py puts an extension op there)."""
    b = ChunkBuilder(source="<bench_dispatch>")
    top = b.label("top")
    b.emit(Op.LoadInt, 0)
    b.emit(Op.SetSlot, 0)
    b.bind(top)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.LoadInt, 1)
    b.emit(add)
    b.emit(Op.SetSlot, 0)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.LoadInt, iterations)
    b.emit(Op.NumLt)
    b.emit(Op.JumpIfTrue, top)
    b.emit(Op.GetSlot, 0)
    return b.build(fuse=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=300_000)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    chunk = loop_chunk(args.iterations)
    # The interpreter's own dispatch: the baseline tier would run the loop as one step.
    assert VM(chunk, baseline=False).run() == args.iterations  # verifies it, untimed
    dispatches = count_dispatches(chunk)
    times: list[int] = []
    for _ in range(args.runs):
        t0 = time.perf_counter_ns()
        VM(chunk, baseline=False).run()
        times.append(time.perf_counter_ns() - t0)
    best, median = min(times), statistics.median(times)
    print(f"bench_dispatch: {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}")
    print(f"  {args.iterations:,} iterations x 8 ops = {dispatches:,} dispatches, "
          f"{args.runs} runs")
    print(f"  best   {best / 1e6:8.1f} ms  {best / dispatches:6.1f} ns/dispatch")
    print(f"  median {median / 1e6:8.1f} ms  {median / dispatches:6.1f} ns/dispatch")
    print(f"  (STYLE part 3, table dispatch: {STYLE_PART3_NS} ns/dispatch on its machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
