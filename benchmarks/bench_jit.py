"""JIT benchmark: interpreter vs the block/linear tiers vs LuaJIT, and compile times.

    PYTHONPATH=src python benchmarks/bench_jit.py [--quick] [--no-luajit]

For every workload of `fusevm.bench.jit_workloads` it prints one row:

- interp: `VM(chunk).run()` on the fusion pass's build (the faster interpreter variant);
- vm+jit: `VM(chunk); vm.enable_jit(); vm.run()` per call, after warm-up and after the
  background O2 re-optimisation finished (steady state);
- tier: `JitCompiler().try_run_linear` (straight-line chunks) or `try_run_block`;
- luajit: the workload's Lua twin (`fusevm.bench.lua_twins`) in a `fusevm bench` peer
  session (skipped when luajit is absent);
- compile: first compile (no IR passes, codegen level 0) and the O2 re-compile, in ms.

Times are CPU time of the calling thread per call (median of batches), so a busy machine
inflates them less than wall time would; they are still noisy on a shared 2-core box.
Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from fusevm import VM  # noqa: E402
from fusevm.bench import jit_workloads as jw  # noqa: E402
from fusevm.bench.interleave import Settings, calibrate  # noqa: E402
from fusevm.bench.lua_twins import LUA_TWINS  # noqa: E402
from fusevm.bench.peers import LuaJitRunner  # noqa: E402
from fusevm.bench.workloads import Workload  # noqa: E402
from fusevm.jit import (  # noqa: E402
    JitCompiler,
    cache,
    get_config,
    runtime,
    set_config,
    wait_reoptimized,
)
from fusevm.jit.codegen import compile_text, host_description  # noqa: E402


def per_call(fn: Callable[[], Any], target_s: float, reps: int = 5) -> float:
    """Median CPU seconds (this thread) per call, over `reps` batches."""
    t0 = time.thread_time()
    fn()
    one = max(time.thread_time() - t0, 1e-7)
    inner = max(1, int(target_s / reps / one))
    samples = []
    for _ in range(reps):
        start = time.thread_time()
        for _ in range(inner):
            fn()
        samples.append((time.thread_time() - start) / inner)
    return statistics.median(samples)


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def luajit_time(w: Workload, quick: bool) -> float | None:
    """CPU seconds per call of the workload's Lua twin in luajit (a `fusevm bench` peer
    session), or None when luajit or the twin is missing."""
    runner = LuaJitRunner()
    if runner.unavailable() is not None or w.twin not in LUA_TWINS:
        return None
    session = runner.open(w, Settings(clock="cpu"))
    try:
        wrong = session.check(w)
        if wrong is not None:
            print(f"  luajit {w.name}: {wrong}", file=sys.stderr)
        per = calibrate(session, (0.005 if quick else 0.02) * 1e9)
        inner = max(1, int((0.01 if quick else 0.05) * 1e9 / per))
        return statistics.median(session.batch(inner) / inner for _ in range(5)) / 1e9
    finally:
        session.close()


def row(w: Workload, size: int, quick: bool, use_luajit: bool) -> dict[str, Any]:
    jit = JitCompiler()
    chunk = w.reference()
    slots = list(w.slots)
    tier = "linear" if jit.why_not(chunk, "linear", slots) is None else "block"
    fused = w.build(fuse=True)
    n = len(slots)

    def interp() -> Any:
        vm = VM(fused)
        vm.slots[:n] = slots
        return vm.run()

    def vm_jit() -> Any:
        vm = VM(chunk)
        vm.slots[:n] = slots
        vm.enable_jit()
        return vm.run()

    enter = jit.try_run_linear if tier == "linear" else jit.try_run_block

    def direct() -> Any:
        return enter(chunk, list(slots))

    assert w.check(interp()), w.name
    # First compile, measured on its own.
    runtime.reset(counters=False)
    t0 = time.perf_counter()
    assert w.check(vm_jit()), w.name
    first = time.perf_counter() - t0
    unit = next(e.unit for _, e in runtime.entries() if e.unit is not None)
    compile_first = unit.info.compile_seconds
    t0 = time.perf_counter()
    compile_text(unit.info.ir_text, "O2", 2)
    compile_o2 = time.perf_counter() - t0
    for _ in range(get_config().reopt_after + 2):
        vm_jit()
    wait_reoptimized(60)
    target = 0.05 if quick else 0.3
    t_interp = per_call(interp, target * 2, reps=3)
    t_jit = per_call(vm_jit, target)
    assert w.check(vm_jit())
    t_direct = per_call(direct, target)
    t_lua = luajit_time(w, quick) if use_luajit else None
    return {"name": w.name, "tier": tier, "interp": t_interp, "jit": t_jit,
            "direct": t_direct, "luajit": t_lua, "first": first, "compile": compile_first,
            "compile_o2": compile_o2, "pipeline": unit.info.pipeline}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing batches")
    parser.add_argument("--no-luajit", action="store_true")
    args = parser.parse_args(argv)
    set_config(get_config().replace(block_threshold=0, reopt_after=4))
    cache.set_enabled(False)  # compile times are the point here (bench_cache.py: the cache)
    cases: list[tuple[Workload, int]] = [
        (jw.counter_loop(100_000), 100_000), (jw.loop_with_branch(100_000), 100_000),
        (jw.xor_mix(100_000), 100_000), (jw.branchy(100_000), 100_000),
        (jw.nested(316, 316), 316), (jw.collatz(1500), 1500),
        (jw.slot_mixed(100), 100), (jw.slot_bitwise(200), 200), (jw.slot_float(200), 200)]
    host = host_description()
    print(f"# host {host['cpu']} ({host['triple']}), LLVM {host['llvm']}, "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores; CPU time per call, medians")
    header = ("workload", "tier", "interp", "vm+jit", "x interp", "try_run", "luajit",
              "jit/luajit", "compile", "O2 recompile")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for w, size in cases:
        r = row(w, size, args.quick, not args.no_luajit)
        ratio = r["interp"] / r["jit"]
        vs_lua = f"{r['jit'] / r['luajit']:.2f}" if r["luajit"] else "-"
        print(" | ".join([r["name"], r["tier"], fmt(r["interp"]), fmt(r["jit"]),
                          f"{ratio:,.0f}x", fmt(r["direct"]), fmt(r["luajit"]), vs_lua,
                          f"{r['compile'] * 1e3:.2f} ms", f"{r['compile_o2'] * 1e3:.1f} ms"]),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
