"""Cost of interrupt polling in native loops: each JIT loop workload compiled with and
without the fuel poll at back-edges, timed interleaved (A B A B) in one process.

    PYTHONPATH=src python benchmarks/bench_poll.py [--rounds N] [--interval N]

Prints per workload the median time per call of both units, and the ratio
polled/unpolled with its spread (min..max over rounds). Times are this thread's CPU time,
so other processes sharing the cores do not count. Nothing here asserts a speed;
the goal (issue "engine seams") is a ratio of at most 1.03.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from fusevm.bench import jit_workloads as jw  # noqa: E402
from fusevm.jit import get_config, runtime  # noqa: E402
from fusevm.jit.lower import emit  # noqa: E402
from fusevm.jit.lower import poll as poll_mod  # noqa: E402
from fusevm.jit.unit import Unit, build_unit  # noqa: E402
from fusevm.values import Undef  # noqa: E402


def compile_pair(chunk: object, slots: list[object]) -> tuple[Unit, Unit]:
    an = runtime.analysis(chunk)  # type: ignore[arg-type]
    kinds = an.kinds_of(slots)
    cfg = get_config().replace(first_pipeline="O2", first_codegen=2)
    units = []
    for poll in (True, False):
        poll_mod.ENABLED = poll
        units.append(build_unit(an, "block", kinds, False, cfg))
    poll_mod.ENABLED = True
    return units[0], units[1]


def time_call(unit: Unit, slots: list[object], inner: int) -> float:
    start = time.thread_time()
    for _ in range(inner):
        unit.run(list(slots))
    return (time.thread_time() - start) / inner


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--interval", type=int, default=emit.POLL_INTERVAL,
                        help="back-edges between two reads of the fuel word "
                             f"(default {emit.POLL_INTERVAL})")
    args = parser.parse_args(argv)
    emit.POLL_INTERVAL = args.interval
    print(f"{'workload':<18} {'polled':>10} {'unpolled':>10} {'ratio':>7}  spread")
    for w in jw.WORKLOADS:
        chunk = w.reference()
        slots = list(w.slots) + [Undef] * (chunk.slot_count - len(w.slots))
        polled, plain = compile_pair(chunk, slots)
        assert polled.run(list(slots)) == plain.run(list(slots))
        t0 = time.thread_time()
        plain.run(list(slots))
        inner = max(1, int(0.02 / max(time.thread_time() - t0, 1e-7)))
        a: list[float] = []
        b: list[float] = []
        for _ in range(args.rounds):
            a.append(time_call(polled, slots, inner))
            b.append(time_call(plain, slots, inner))
        ratios = sorted(x / y for x, y in zip(a, b))
        print(f"{w.name:<18} {statistics.median(a) * 1e6:>8.1f}us "
              f"{statistics.median(b) * 1e6:>8.1f}us {statistics.median(ratios):>7.3f}  "
              f"{ratios[0]:.3f}..{ratios[-1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
