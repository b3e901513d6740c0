"""Extension-op dispatch next to core-op dispatch: an extension op should cost what a core op costs.

The loop of benchmarks/bench_dispatch.py (8 plain ops per iteration, unfused), three ways:
with the core `Add`; with an extension op whose factory builds the same step as the core
`Add` handler (the factory protocol, dispatched directly); and with the same addition as a
plain `handler(vm, *operands)` (the original protocol, through the adapter). The variants
alternate run by run and the medians are reported, with the extra cost of the one changed
op per iteration. `--baseline off` measures the interpreter alone; with the baseline tier
(the default) `Add` is inlined from its body while an extension op, like every core op
without a body, is a call to its step.

    python benchmarks/bench_extension.py [--iterations N] [--runs R]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from typing import Any

from bench_dispatch import loop_chunk  # this directory: the same loop as the guard

from fusevm.bench.timing import CLOCKS
from fusevm.interp import semantics as sem
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.ops.extension import ExtensionSet
from fusevm.values import INT_MAX, INT_MIN

BENCH = ExtensionSet("bench-extension", first_id=0xFE00, count=4)


@BENCH.factory("BenchAdd", effect="a b -- r", formula="r = a + b (factory protocol)")
def bench_add(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    stack = vm.stack_api
    pop, items = stack.pop, stack.items
    strict = vm.strict_int
    nxt = ip + 1

    def step() -> int:  # the core Add step, word for word
        b = pop()
        a = items[-1]
        if type(a) is int and type(b) is int:
            r = a + b
            items[-1] = r if INT_MIN <= r <= INT_MAX else sem.int_result(r, strict, "Add")
        else:
            items[-1] = sem.add(a, b, strict)
        return nxt
    return step


@BENCH.op("BenchAddPlain", effect="a b -- r", formula="r = a + b (plain handler protocol)")
def bench_add_plain(vm: Any) -> None:
    b = vm.pop()
    a = vm.pop()
    if type(a) is int and type(b) is int:
        r = a + b
        vm.push(r if INT_MIN <= r <= INT_MAX else sem.int_result(r, vm.strict_int, "Add"))
    else:
        vm.push(sem.add(a, b, vm.strict_int))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=300_000)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                   help="cpu: the thread's CPU time (steadier on a busy machine); wall")
    p.add_argument("--baseline", choices=("on", "off"), default="on",
                   help="run with the baseline tier (the default VM) or the interpreter only")
    args = p.parse_args(argv)
    n = args.iterations
    chunks = {"core Add": loop_chunk(n, Op.Add),
              "extension factory": loop_chunk(n, BENCH["BenchAdd"]),
              "extension plain handler": loop_chunk(n, BENCH["BenchAddPlain"])}
    baseline = args.baseline == "on"
    for chunk in chunks.values():
        assert VM(chunk, extensions=[BENCH], baseline=baseline).run() == n
    times: dict[str, list[int]] = {k: [] for k in chunks}
    now = CLOCKS[args.clock]
    for _ in range(args.runs):
        for name, chunk in chunks.items():
            vm = VM(chunk, extensions=[BENCH], baseline=baseline)
            vm.prepare()
            t0 = now()
            vm.run()
            times[name].append(now() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    core = med["core Add"]
    print(f"bench_extension: {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}, baseline tier {args.baseline}, {n:,} iterations x 8 ops, "
          f"{args.runs} interleaved runs, medians, {args.clock} clock")
    for name, t in med.items():
        print(f"  {name:<24} {t / 1e6:8.1f} ms  {t / n:6.1f} ns/iteration  "
              f"{(t - core) / n:+6.1f} ns for the one changed op  ({t / core:4.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
