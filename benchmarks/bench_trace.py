"""Trace tier benchmark: the issue's goals, side by side in one run.

    PYTHONPATH=src python benchmarks/bench_trace.py [--rounds 5] [--quick]

Rows (CPU seconds of this thread per call, medians of interleaved rounds; the awk rows
are the CPU time of a whole child process, startup included):

- fib(20) and ackermann(3, 4): the interpreter; the VM with every tier on
  (`enable_tracing_jit`: native self-recursive functions, `jit/trace/calls.py`), as the
  first run in the process (region_threshold interpreted calls, then the native code:
  compiled at O2 in `first-compile`; in `first-compile-bg`, the default, compiled quickly
  and re-optimised on the re-optimiser's thread, whose CPU time is not counted here (about
  the O2 compile, 10 ms); read from the disk cache in `first-cached`, with the root
  code's unit, `jit/trace/main.py`) and warm (`warm`: a new VM per run, the root code
  and the function run whole natively); CPython running the same function
  (`fusevm.bench.twins`).
  `warm` and `cpython` are medians of bursts of back-to-back calls (a short run right
  after a 20 ms interpreted one pays for the caches that run emptied);
- a loop over Float globals and a loop calling a small function with a branch: the
  interpreter vs the trace tier (steady state: traces compiled by an earlier run);
- `fusevm awk 'BEGIN { numeric loop }'` vs gawk and mawk (when installed), two loops
  (Float arithmetic with printf; the issue's `s += i * 2 % 7`), and fusevm's start-up
  alone (`awk 'BEGIN { }'`).

Nothing is asserted: the figures are a report. On this shared 2-core box they are noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from fusevm import VM  # noqa: E402
from fusevm.asm import assemble  # noqa: E402
from fusevm.bench import twins  # noqa: E402
from fusevm.bench.jit_workloads import (  # noqa: E402
    ACK_REPEATED,
    CALLS,
    FIB_REPEATED,
    FLOAT_GLOBALS,
    repeated_twin,
)
from fusevm.bench.workloads import all_workloads  # noqa: E402
from fusevm.jit import get_config, set_config, wait_reoptimized  # noqa: E402
from fusevm.jit.trace.tier import reset as reset_trace_tier  # noqa: E402

AWK_LOOPS = (('awk float loop', 'BEGIN { for (i = 0; i < {n}; i++) s += i * 0.5 - (i % 7); '
              'printf "%.1f\\n", s }'),
             ('awk int loop', 'BEGIN { for (i = 0; i < {n}; i++) s += i * 2 % 7; print s }'))


def cpu(fn: Callable[[], Any]) -> float:
    start = time.thread_time()
    fn()
    return time.thread_time() - start


def child_cpu(argv: list[str]) -> float:
    """CPU seconds (user + system) of one child process run to completion."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env={**os.environ,
                            "PYTHONPATH": str(ROOT / "src")})
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"{argv[0]} failed with status {status}")
    return float(usage.ru_utime + usage.ru_stime)


def burst(fn: Callable[[], Any], k: int = 20) -> float:
    """The median CPU time of `k` back-to-back calls (steady state: warm caches)."""
    return statistics.median(cpu(fn) for _ in range(k))


def interleaved(variants: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for name, measure in variants.items():
            samples[name].append(measure())
    return {k: statistics.median(v) for k, v in samples.items()}


def vm_runner(chunk: Any, traced: bool) -> Callable[[], Any]:
    def run() -> Any:
        vm = VM(chunk)
        if traced:
            vm.enable_tracing_jit()
        return vm.run()
    return run


def row(name: str, figures: dict[str, float], base: str) -> None:
    parts = [f"{k} {v * 1e3:9.2f} ms" for k, v in figures.items()]
    # Time ratios: above 1 the variant took that many times the base's CPU time.
    ratios = [f"{k}/{base} {v / figures[base]:8.3f}" for k, v in figures.items()
              if k != base and figures[base] > 0]
    print(f"{name:<24} " + "  ".join(parts) + "   " + "  ".join(ratios))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="smaller sizes, 3 rounds")
    args = p.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    set_config(get_config().replace(reopt_background=False))
    print(f"python {sys.version.split()[0]}; medians of {rounds} interleaved rounds; "
          "CPU time")

    by_name = {w.name: w for w in all_workloads()}
    for name in ("fib_recursive_20", "ackermann_3_4"):
        w = by_name[name]
        chunk = w.build(fuse=True)
        twin = w.python()
        assert twin is not None
        jit = vm_runner(chunk, True)

        def first_run(cached: bool, background: bool = False,
                      j: Callable[[], Any] = jit) -> float:
            reset_trace_tier()  # hot points, anchors and native functions forgotten
            old = set_config(get_config().replace(cache_enabled=cached,
                                                  reopt_background=background))
            try:
                return cpu(j)
            finally:
                wait_reoptimized(10)
                set_config(old)

        figures = interleaved({"interp": lambda c=chunk: cpu(vm_runner(c, False)),
                               "first-compile": lambda: first_run(False),
                               "first-compile-bg": lambda: first_run(False, True),
                               "first-cached": lambda: first_run(True),
                               "warm": lambda j=jit: burst(j),
                               "cpython": lambda t=twin: burst(t)}, rounds)
        row(name, figures, "cpython")  # the goal: warm/cpython <= 0.1

    # The same calls inside one running program (no VM set up per call).
    reps = 20 if args.quick else 100
    for name, text, fn, fargs in (("fib(20)", FIB_REPEATED, twins.fib_recursive, (20,)),
                                  ("ackermann(3, 4)", ACK_REPEATED, twins.ackermann, (3, 4))):
        chunk = assemble(text.replace("{reps}", str(reps)), source=f"{name}.fasm")
        jit = vm_runner(chunk, True)
        twin = repeated_twin(fn, fargs, reps)
        assert jit() == twin()
        figures = interleaved({"vm": lambda j=jit: cpu(j), "cpython": lambda t=twin: cpu(t)},
                              rounds)
        row(f"{name} x{reps + 1} in a run", figures, "cpython")

    n = 20_000 if args.quick else 200_000
    for name, text in (("float_globals", FLOAT_GLOBALS), ("calls_in_loop", CALLS)):
        chunk = assemble(text.format(n=n), source=f"{name}.fasm")
        jit = vm_runner(chunk, True)
        for _ in range(2):
            jit()
        wait_reoptimized(10)
        want = vm_runner(chunk, False)()
        assert jit() == want, name
        figures = interleaved({"interp": lambda c=chunk: cpu(vm_runner(c, False)),
                               "trace": lambda j=jit: cpu(j)}, rounds)
        row(f"{name} n={n}", figures, "interp")  # the goal: trace/interp <= 0.02

    n = 200_000 if args.quick else 2_000_000
    for label, loop in AWK_LOOPS:
        program = loop.replace("{n}", str(n))
        awks: dict[str, list[str]] = {"fusevm": [sys.executable, "-m", "fusevm", "awk",
                                                 program]}
        for peer in ("gawk", "mawk"):
            if shutil.which(peer):
                awks[peer] = [peer, program]
        # The first run also fills the compile and JIT caches the measured runs use.
        outputs = {k: subprocess.run(v, capture_output=True, text=True, check=True,
                                     env={**os.environ, "PYTHONPATH": str(ROOT / "src")}
                                     ).stdout for k, v in awks.items()}
        if len(set(outputs.values())) != 1:
            print(f"awk outputs differ: {outputs}")
        startup = [sys.executable, "-m", "fusevm", "awk", "BEGIN { }"]
        figures = interleaved({k: (lambda a=v: child_cpu(a)) for k, v in awks.items()}
                              | {"fusevm-startup": lambda s=startup: child_cpu(s)}, rounds)
        row(f"{label} n={n}", figures, "gawk")  # the goal: fusevm/gawk <= 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
