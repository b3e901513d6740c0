"""Fixed costs of the VM's entry points, next to a plain Python call, interleaved in one
process:

    PYTHONPATH=src python benchmarks/bench_run_cost.py [--rounds N]

- `run()` of a one-op chunk (`LoadInt 1`) on a VM put back at its start each call, as
  the harness's warm columns do (`fusevm.bench.runners.rewind`), with and without a
  budget: what a short warm run pays before and after its one op;
- `VM(chunk)` and `VM(chunk).prepare()` of the fib_iterative_35 workload (26 ops, three
  hot points), the fixed cost of a fresh VM;
- a call of `def f(): return 1`, the peer every figure is divided by.

Prints each one's median per call (this thread's CPU time) and its ratio to the peer with
the spread of the per-round ratios. Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from fusevm.bench.runners import rewind  # noqa: E402
from fusevm.bench.workloads import WORKLOADS  # noqa: E402
from fusevm.chunk import ChunkBuilder  # noqa: E402
from fusevm.interp.vm import VM  # noqa: E402
from fusevm.ops import Op  # noqa: E402


def cases() -> dict[str, Callable[[], object]]:
    builder = ChunkBuilder()
    builder.emit(Op.LoadInt, 1)
    one = builder.build()
    fib = next(w for w in WORKLOADS if w.name == "fib_iterative_35").build(True)
    warm = VM(one)
    warm.prepare()

    def run_one() -> object:
        rewind(warm)
        return warm.run()

    def run_one_budget() -> object:
        rewind(warm)
        return warm.run(max_steps=100)

    def peer() -> object:
        return 1

    return {"python call": peer, "run() one op": run_one,
            "run(max_steps) one op": run_one_budget,
            "VM(fib chunk)": lambda: VM(fib),
            "VM(fib chunk).prepare()": lambda: VM(fib).prepare()}


def per_call(fn: Callable[[], object], inner: int) -> float:
    start = time.thread_time()
    for _ in range(inner):
        fn()
    return (time.thread_time() - start) / inner


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    timed = cases()
    inner = {}
    for name, fn in timed.items():
        per_call(fn, 200)  # warm-up: a first run loads and considers the baseline tier
        inner[name] = max(1, int(0.01 / max(per_call(fn, 200), 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(args.rounds):
        for name, fn in timed.items():
            samples[name].append(per_call(fn, inner[name]))
    peer = samples["python call"]
    print(f"{'entry point':<26} {'median':>10} {'x python call':>14}  spread")
    for name, xs in samples.items():
        ratios = sorted(x / y for x, y in zip(xs, peer))
        print(f"{name:<26} {statistics.median(xs) * 1e6:>8.3f}us "
              f"{statistics.median(ratios):>14.1f}  {ratios[0]:.1f}..{ratios[-1]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
