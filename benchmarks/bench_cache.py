"""Disk-cache benchmark: per-unit load vs compile, warm process start-up, awk second runs.

    PYTHONPATH=src python benchmarks/bench_cache.py [--quick] [--profile]

Three measurements, each interleaved (cold and warm alternate) and reported as medians:

1. Per unit, for the JIT workloads (block tier) and three straight-line chunks (linear
   tier): the first compile (`tier.compile`: typing, IR, LLVM at the first pipeline), the
   O2 re-compile, and a load from the disk cache in a fresh process: what the runtime does
   for a unit it has not got in this process (`runtime.unit_for`: the entry kinds, its
   table entry, the key, the index lookup in the pack the process mapped once, on the
   record's first use its checksum, metadata decoding and checks, the checks against the
   chunk, the Unit, its installation; every load measured in a fresh process is a
   record's first use). A Unit, compiled or loaded, builds its context on its first call:
   that is timed apart (`prepare`). Ratio goal: load >= 300x faster than the first
   compile. Times are this thread's CPU time, so other processes on a shared machine do
   not count.
2. Fresh processes: start-up to the first result of a VM that runs interpreted (no JIT)
   vs start-up to the first *native* result of a VM whose unit is in the disk cache
   (llvmlite never imported), and a cold-cache process for scale. Goal: warm <= 1.5x bare.
   `x off` divides by the same interpreted VM with the baseline tier off (it compiles
   nothing at all), the stricter reading.
3. `fusevm awk -f` on a generated 3,000-statement program: first run (empty cache) vs
   second run (the compiled chunk loads from disk). Goal: second run >= 3x faster.

`--profile` instead counts what one such load runs in a fresh process (the third unit
it loads): its bytecodes and Python calls per function, traced opcode by opcode.

Processes run with PYTHONDONTWRITEBYTECODE unset so Python's own .pyc files are used, as
in an installed fusevm (otherwise every process recompiles ~100 modules first). Wall
times on a shared box are noisy; the CPU time of the children (user + system) is given
next to them. Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))

from fusevm.asm import assemble  # noqa: E402
from fusevm.bench import jit_workloads as jw  # noqa: E402
from fusevm.jit import block, cache, get_config, linear, runtime  # noqa: E402
from fusevm.jit.unit import Analysis  # noqa: E402

LINEAR = {
    "lin_arith": "LoadInt 6\nLoadInt 7\nMul\nLoadInt 5\nAdd\nLoadInt 3\nMod",
    "lin_float": "LoadFloat 1.5\nLoadFloat 2.25\nMul\nSqrtFloat\nLoadFloat 0.5\nAdd",
    "lin_slots": "GetSlot 0\nGetSlot 1\nAdd\nGetSlot 0\nMul\nLoadInt 7\nBitXor",
}


def unit_list() -> list[tuple[str, Any, Any, tuple[Any, ...]]]:
    """(name, tier module, chunk, slots) of every unit section 1 measures."""
    units: list[tuple[str, Any, Any, tuple[Any, ...]]] = []
    for w in jw.WORKLOADS:
        units.append((w.name, block, w.reference(), tuple(w.slots)))
    for name, text in LINEAR.items():
        units.append((name, linear, assemble(text), (3, 4)))
    return units


def prepared() -> list[tuple[str, Any, Analysis, tuple[int, ...], list[Any]]]:
    """Each unit's analysis, entry kinds and slots (what the runtime has before it compiles
    or loads, so neither timing includes it)."""
    out = []
    for name, tier, chunk, slots in unit_list():
        an = Analysis(chunk, chunk.digest())
        work = list(slots) + [None] * max(0, an.nslots - len(slots))
        out.append((name, tier, an, an.kinds_of(work) if an.live_in else (), work))
    return out


def check_records() -> None:
    """Do every mapped record's first-use work now (checksum, decoding, checks, its
    `Native`), untimed: what a load costs without it is then measurable apart."""
    from fusevm.jit.cache import native
    for p in cache.STORE._packs.values():
        for rec in p.index.values():
            rec.verify()
            if rec.derived is None:
                native._described(rec, cache.STORE)


def child_times(rotate: int, load: bool, checked: bool = False) -> None:
    """In a fresh process: get every unit once, in turn, timing each in this thread's CPU
    time, then its first call's context (`prepare`); prints JSON. `load`: as the runtime
    gets a unit it has not got (`runtime.unit_for`), from the warm cache (llvmlite is
    never imported); else `tier.compile`. `checked`: after the first load, every
    record's first-use work is done before the others are timed."""
    import json
    cfg = get_config()
    units = prepared()
    units = units[rotate:] + units[:rotate]
    times: dict[str, float] = {}
    prepare: dict[str, float] = {}
    for i, (name, tier, an, kinds, slots) in enumerate(units):
        if i == 1 and checked:
            check_records()
        t0 = time.thread_time()
        if load:
            unit = runtime.unit_for(tier, an, slots, False, 0)
        else:
            unit = tier.compile(an, kinds, False, cfg)
        t1 = time.thread_time()
        assert unit is not None, f"{name} did not load"
        assert unit.ctx_addr  # the context, built on first use
        prepare[name] = time.thread_time() - t1
        times[name] = t1 - t0
    again: dict[str, float] = {}
    if load:  # the same loads twice more (each builds its unit again): code run before
        for _ in range(2):
            runtime.reset(counters=False)
            for name, tier, an, _, slots in units:
                an.entries.clear()
                t0 = time.thread_time()
                unit = runtime.unit_for(tier, an, slots, False, 0)
                again[name] = time.thread_time() - t0
                assert unit is not None
        assert cache.stats()["loads"] == 3 * len(units)
    assert load != ("llvmlite" in sys.modules)
    print(json.dumps({"times": times, "again": again, "prepare": prepare,
                      "first": units[0][0]}))


def child_profile() -> None:
    """In a fresh process with the warm cache: load two units, then trace the third load
    opcode by opcode; prints the bytecodes and calls per function (`--profile`)."""
    from collections import Counter
    from types import FrameType
    units = prepared()
    ops: Counter[str] = Counter()
    calls: Counter[str] = Counter()

    def where(frame: FrameType) -> str:
        return f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_qualname}"

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            ops[where(frame)] += 1
        return local

    def enter(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        calls[where(frame)] += 1
        return local
    for i, (name, tier, an, _, slots) in enumerate(units[:3]):
        if i == 2:
            sys.settrace(enter)
        unit = runtime.unit_for(tier, an, slots, False, 0)
        sys.settrace(None)
        assert unit is not None, f"{name} did not load"
    assert "llvmlite" not in sys.modules
    print(f"one load ({units[2][0]}): {sum(ops.values())} bytecodes in "
          f"{sum(calls.values())} Python calls\n")
    print(f"{'bytecodes':>9} {'calls':>5}  function")
    for fn, n in ops.most_common():
        print(f"{n:9d} {calls[fn]:5d}  {fn}")


def profile_load(tmp: Path) -> None:
    """Store every unit, then profile one load in a fresh process (`child_profile`)."""
    cfg = get_config()
    for _, tier, an, kinds, _ in prepared():
        key = cache.unit_key(tier.NAME, an, kinds, False, cfg)
        assert key is not None and cache.store_unit(key, tier.compile(an, kinds, False, cfg))
    env = child_env(tmp / "units")
    env["PYTHONPATH"] = str(HERE) + os.pathsep + env["PYTHONPATH"]
    out = subprocess.run([sys.executable, "-c", "import bench_cache as b; b.child_profile()"],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"child process failed: {out.stderr[-2000:]}")
    print(out.stdout)


def fresh_times(rounds: int, units: list[Any], env: dict[str, str], load: bool,
                checked: bool = False
                ) -> tuple[dict[str, list[float]], list[float], dict[str, list[float]],
                           list[float]]:
    """Per unit, the times of `child_times` over fresh processes (the order rotates),
    separately those of the first unit of each process, those of the third pass, and the
    first calls' `prepare` times (a process's first unit apart)."""
    import json
    times: dict[str, list[float]] = {name: [] for name, *_ in units}
    again: dict[str, list[float]] = {name: [] for name, *_ in units}
    first: list[float] = []
    prepare: list[float] = []
    for r in range(max(rounds, len(units))):
        out = subprocess.run([sys.executable, "-c", "import bench_cache as b; "
                              f"b.child_times({r % len(units)}, {load}, {checked})"],
                             env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"child process failed: {out.stderr[-2000:]}")
        got = json.loads(out.stdout)
        for name, t in got["times"].items():
            (first if name == got["first"] else times[name]).append(t)
        for name, t in got["again"].items():
            again[name].append(t)
        prepare += [t for name, t in got["prepare"].items() if name != got["first"]]
    return times, first, again, prepare


def bench_units(rounds: int, tmp: Path) -> None:
    print("## 1. Per unit: compile and load from disk (ms, medians)\n")
    print("Fresh processes get each unit once, in turn: `compile` is `tier.compile` (typing,")
    print("IR, LLVM at the first pipeline), `load` what the runtime does for a unit it has")
    print("not got (`runtime.unit_for`: its entry, the key, the index lookup in the pack the")
    print("process mapped once, the record's checksum, metadata decoding and checks on its")
    print("first use, the checks against the chunk, the Unit). A process's first unit also")
    print("imports LLVM or the loader (and maps and indexes the pack), so it is reported")
    print("on its own (`first`; the order rotates) and the columns are the medians of the")
    print("other units. `load 3rd`: each process then loads every unit twice more (a new")
    print("Unit from the mapped record each time, the record checked already), and this is")
    print("the third; CPython runs code it has run a few times faster. `load chk`: a load")
    print("in a fresh process whose record's first-use work was done beforehand (the")
    print("load's code runs for the first times, the record is checked). `warm compile` and")
    print("`O2`: compiles in this long-running process. Not in either column: a unit's")
    print("first call builds its context (`prepare`, the same for compiled and loaded")
    print("units; its median is given below).\n")
    cfg = get_config()
    o2 = cfg.replace(first_pipeline=cfg.reopt_pipeline, first_codegen=cfg.reopt_codegen)
    units = prepared()
    warm_compile: dict[str, list[float]] = {name: [] for name, *_ in units}
    opt: dict[str, list[float]] = {name: [] for name, *_ in units}
    for r in range(rounds):
        for name, tier, an, kinds, _ in units:
            t0 = time.thread_time()
            unit = tier.compile(an, kinds, False, cfg)
            warm_compile[name].append(time.thread_time() - t0)
            t0 = time.thread_time()
            tier.compile(an, kinds, False, o2)
            opt[name].append(time.thread_time() - t0)
            if r == 0:
                key = cache.unit_key(tier.NAME, an, kinds, False, cfg)
                assert key is not None and cache.store_unit(key, unit)
    env = child_env(tmp / "units")
    env["PYTHONPATH"] = str(HERE) + os.pathsep + env["PYTHONPATH"]
    compiled, first_compile, _, _ = fresh_times(rounds, units, env, False)
    loaded, first_load, again, prepare = fresh_times(rounds, units, env, True)
    checked, _, _, _ = fresh_times(rounds, units, env, True, checked=True)
    print(f"{'unit':<16} {'compile':>8} {'load':>8} {'ratio':>6} {'load chk':>9} "
          f"{'load 3rd':>9} {'ratio':>6} {'warm compile':>13} {'O2':>7}")
    ratios: list[float] = []
    ratios3: list[float] = []
    for name, *_ in units:
        c, w_, wk, w3, wc, o = (statistics.median(x[name]) * 1e3
                                for x in (compiled, loaded, checked, again, warm_compile, opt))
        ratios.append(c / w_)
        ratios3.append(c / w3)
        print(f"{name:<16} {c:8.3f} {w_:8.4f} {c / w_:5.0f}x {wk:9.4f} {w3:9.4f} "
              f"{c / w3:5.0f}x {wc:13.3f} {o:7.2f}")
    print(f"\nmedian compile/load ratio (fresh processes): {statistics.median(ratios):.0f}x "
          f"(min {min(ratios):.0f}x); loads of records checked beforehand: "
          f"{statistics.median(v for x in checked.values() for v in x) * 1e6:.1f} us, "
          f"all loads: {statistics.median(v for x in loaded.values() for v in x) * 1e6:.1f}"
          f" us; loads on the third pass (the loading code has run "
          f"before): {statistics.median(ratios3):.0f}x (min {min(ratios3):.0f}x). A "
          f"process's first unit: compile {statistics.median(first_compile) * 1e3:.1f} ms, "
          f"load {statistics.median(first_load) * 1e3:.2f} ms. A unit's first call "
          f"(`prepare`, its context): {statistics.median(prepare) * 1e6:.1f} us\n")


PROCESS = r'''
import sys
from fusevm import VM
from fusevm.asm import assemble
JIT
vm = VM(assemble("""
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
loop:
    GetSlot 0
    LoadInt 2000
    NumLt
    JumpIfFalse done
    GetSlot 1
    GetSlot 0
    Add
    SetSlot 1
    PreIncSlotVoid 0
    Jump loop
done:
    GetSlot 1
"""))
ENABLE
assert vm.run() == 1999000
CHECK
'''

JIT_ON = ("import fusevm.jit as jit\n"
          "jit.set_config(jit.get_config().replace(block_threshold=0, reopt_after=0))")
#: After the result: the counters the runtime already holds (`jit.stats()` would import the
#: whole JIT API, the trace tier and the baseline compiler for its table, a cost of the check
#: rather than of getting the result).
CHECK_NATIVE = ("from fusevm.jit import cache, runtime\n"
                "assert runtime.stats()['block']['runs'] == 1, runtime.stats()\n"
                "assert cache.stats()['loads'] == WARM and ('llvmlite' in sys.modules) != WARM")


def child_env(cache_dir: Path | str) -> dict[str, str]:
    env = dict(os.environ, FUSEVM_JIT_CACHE_DIR=str(cache_dir),
               PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("FUSEVM_JIT", None)
    return env


def timed_process(argv: list[str], env: dict[str, str],
                  stdin: bytes | None = None) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(argv, env=env, input=stdin, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {out.stderr.decode()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_startup(rounds: int, tmp: Path) -> None:
    print("## 2. Fresh process to its first result (ms, medians)\n")
    warm_dir = tmp / "warm"
    bare = PROCESS.replace("JIT", "").replace("ENABLE", "").replace("CHECK", "")
    jitted = PROCESS.replace("JIT", JIT_ON).replace("ENABLE", "vm.enable_jit()")
    warm = jitted.replace("CHECK", CHECK_NATIVE.replace("WARM", "True"))
    cold = jitted.replace("CHECK", CHECK_NATIVE.replace("WARM", "False"))
    env = child_env(warm_dir)
    py = sys.executable
    timed_process([py, "-c", cold], env)  # fills the warm cache (and the .pyc files)
    rows: dict[str, list[tuple[float, float]]] = {"interpreted, no JIT": [],
                                                  "no JIT, baseline off": [],
                                                  "JIT, warm disk cache": [],
                                                  "JIT, cold (compiles)": []}
    # The default VM compiles the loop for the baseline tier; with the tier off it only
    # interprets, the stricter yardstick.
    plain = dict(env, FUSEVM_BASELINE="off")
    for _ in range(rounds):
        rows["interpreted, no JIT"].append(timed_process([py, "-c", bare], env))
        rows["no JIT, baseline off"].append(timed_process([py, "-c", bare], plain))
        rows["JIT, warm disk cache"].append(timed_process([py, "-c", warm], env))
        cold_dir = tmp / "cold"
        shutil.rmtree(cold_dir, ignore_errors=True)
        rows["JIT, cold (compiles)"].append(timed_process([py, "-c", cold],
                                                          child_env(cold_dir)))
    base_wall = statistics.median(w for w, _ in rows["interpreted, no JIT"])
    base_cpu = statistics.median(c for _, c in rows["interpreted, no JIT"])
    off_cpu = statistics.median(c for _, c in rows["no JIT, baseline off"])
    print(f"{'process':<24} {'wall':>8} {'x bare':>7} {'cpu':>8} {'x bare':>7} {'x off':>7}")
    for name, samples in rows.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print(f"{name:<24} {wall * 1e3:8.1f} {wall / base_wall:7.2f} {cpu * 1e3:8.1f} "
              f"{cpu / base_cpu:7.2f} {cpu / off_cpu:7.2f}")
    print()


def awk_program(statements: int) -> str:
    lines = ["BEGIN {"]
    for i in range(statements):
        r = i % 4
        if r == 0:
            lines.append(f"  x{i % 50} = {i} + y{i % 37} * 2")
        elif r == 1:
            lines.append(f'  if (x{i % 50} > {i}) s = s "a{i}"; else n++')
        elif r == 2:
            lines.append(f'  a["k{i}"] = length(s) + {i}')
        else:
            lines.append(f"  t += x{i % 50} % 7")
    lines += ["  print n, t, length(a)", "}"]
    return "\n".join(lines) + "\n"


def bench_awk(rounds: int, tmp: Path, statements: int) -> None:
    print(f"## 3. fusevm awk -f on a {statements:,}-statement program (s, medians)\n")
    prog = tmp / "big.awk"
    prog.write_text(awk_program(statements))
    cache_dir = tmp / "awk-cache"
    env = child_env(cache_dir)
    argv = [sys.executable, "-m", "fusevm.cli", "awk", "-f", str(prog)]
    timed_process(argv, env)  # the .pyc files
    first: list[tuple[float, float]] = []
    second: list[tuple[float, float]] = []
    for _ in range(rounds):
        shutil.rmtree(cache_dir, ignore_errors=True)
        first.append(timed_process(argv, env))
        second.append(timed_process(argv, env))
    print(f"{'run':<24} {'wall':>8} {'cpu':>8}")
    for name, samples in (("first (compiles)", first), ("second (from cache)", second)):
        print(f"{name:<24} {statistics.median(w for w, _ in samples):8.3f} "
              f"{statistics.median(c for _, c in samples):8.3f}")
    wall = statistics.median(w for w, _ in first) / statistics.median(w for w, _ in second)
    cpu = statistics.median(c for _, c in first) / statistics.median(c for _, c in second)
    print(f"\nsecond run faster by {wall:.2f}x (wall), {cpu:.2f}x (cpu)\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds")
    ap.add_argument("--statements", type=int, default=3000)
    ap.add_argument("--profile", action="store_true",
                    help="only count the bytecodes of one load in a fresh process")
    args = ap.parse_args()
    rounds = 3 if args.quick else 9
    with tempfile.TemporaryDirectory(prefix="fusevm-bench-cache-") as t:
        tmp = Path(t)
        cache.set_dir(tmp / "units")
        runtime.reset()
        if args.profile:
            profile_load(tmp)
            return
        bench_units(rounds, tmp)
        bench_startup(rounds, tmp)
        bench_awk(max(3, rounds // 2), tmp, args.statements)


if __name__ == "__main__":
    main()
