"""One-shot runs: each workload's first run in a fresh process, baseline tier on and off.

    PYTHONPATH=src python benchmarks/bench_firstrun.py [--rounds 11] [--filter SUBSTR]
                                                       [--compare OTHER/src]

`fusevm bench`'s first-run columns time `VM(chunk).run()` of a chunk no cache has seen,
but in its own long-lived process, where the baseline compiler is loaded: a process that
runs one program (`fusevm run prog.fasm`) has not loaded it, and the tier decides
differently there (`fusevm.baseline.looks.LOAD_COST`). Here every sample is a child
process of its own that does what `fusevm run prog.fasm` does: it assembles the
workload's program from its text (untimed; this script writes each workload's chunk out as
assembly first), then times its one `VM(chunk, baseline=...)` + `run()` (the thread's CPU
time: verify, prepare, the run, and what the tier does during it, loading the compiler and
the standard modules it needs included). The child imports nothing else: the harness's
own modules (`dataclasses`, `inspect`, `ast`, ...) would otherwise be loaded before the
timed run and spare the tier part of its load. Children with the tier on and off
alternate, in turns whose order flips every round; the table gives each median and the
median of the per-round ratios with their interquartile range, and says whether the
tier's children loaded the compiler. `--compare` runs the same children from another
source tree (another checkout's `src`) in the same rounds, for a before/after in one run.
The minor page faults column is the median of (on - off) per round for the whole child:
memory the tier's load touches first, which costs CPU time that instruction counts miss.
Each tree's line says whether its module pack is written (`fusevm.modpack`: a process
that may write `.pyc` files writes it): with one, loading the compiler costs about a
millisecond less, and fib_recursive_20's ratio is 3-4% lower.

CPU times on a shared 2-core machine move by 10-30% from run to run, more than the few
percent a one-shot run's tier costs or saves. `--instructions` also counts, under
valgrind's callgrind, each child's instructions once with the tier off, once on and once
with no run at all, and gives the ratio of the runs' own counts, (on - none) / (off -
none): the same figures on every run, whatever else the machine does, that say whether a
change helped. They miss the cost of cache misses and page faults (what loading the
compiler touches first), so a ratio below 1 there is necessary, not sufficient.
Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

#: A child: assemble the program at argv[1] (its input slots, ints, in argv[3:]), run it
#: once in a fresh VM, print the CPU time and whether the baseline compiler got loaded
#: (`fusevm run`'s own imports only: no json, which loads `re` and `enum`).
_CHILD = """
import sys, time
from fusevm.asm import assemble
from fusevm.interp.vm import VM
path, mode, slots = sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3:]]
with open(path) as f:
    chunk = assemble(f.read(), source=path)
before = "fusevm.baseline.compiler" in sys.modules
t = time.thread_time_ns()
if mode != "none":  # (none: the same process without the run, for instruction counts)
    vm = VM(chunk, baseline=mode == "on")
    vm.slots[:len(slots)] = slots
    vm.run()
ns = time.thread_time_ns() - t
print(ns, int(before), int("fusevm.baseline.compiler" in sys.modules))
"""


def workloads(filters: list[str], folder: Path) -> list[tuple[str, Path, list[str]]]:
    """(name, program file, input slots) of each workload measured, its chunk written to
    `folder` as assembly."""
    sys.path.insert(0, str(SRC))
    from fusevm.asm import assemble
    from fusevm.bench.workloads import WORKLOADS
    from fusevm.disasm import disassemble
    out = []
    for w in WORKLOADS:
        if w.reuse_vm or filters and not any(f in w.name for f in filters):
            continue
        chunk = w.reference()
        text = disassemble(chunk)
        again = assemble(text)
        if (again.ops, again.constants, again.names, again.sub_entries) != \
                (chunk.ops, chunk.constants, chunk.names, chunk.sub_entries):
            raise SystemExit(f"{w.name}: its assembly does not give back its chunk")
        path = folder / f"{w.name}.fasm"
        path.write_text(text)
        out.append((w.name, path, [str(int(v)) for v in w.slots]))
    return out


def _env(src: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(src), FUSEVM_JIT_CACHE_DIR="off")
    env.pop("FUSEVM_BASELINE", None)
    return env


def child(program: tuple[str, Path, list[str]], on: bool, src: Path = SRC
          ) -> tuple[float, bool, int]:
    """CPU nanoseconds of the program's run in a fresh process, whether the baseline
    compiler got loaded, and the minor page faults of the whole process."""
    name, path, slots = program
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), "on" if on else "off",
                             *slots], env=_env(src), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{name}: the child failed (exit status {proc.returncode})")
    ns, before, loaded = out.split()
    if before != "0":
        raise SystemExit(f"{name}: the compiler was loaded before the run: the child "
                         "does not measure a one-shot process")
    return float(ns), loaded == "1", usage.ru_minflt


def instructions(program: tuple[str, Path, list[str]], mode: str, src: Path) -> int:
    """The instructions callgrind counts for the whole child in `mode` (on, off, none),
    as `bench_startup` counts a command's (under one hash seed)."""
    from bench_startup import instructions as counted  # this directory
    _, path, slots = program
    found = counted([sys.executable, "-c", _CHILD, str(path), mode, *slots], _env(src))
    assert found is not None  # (valgrind is there: `main` checked)
    return found


def summary(off: list[float], on: list[float]) -> tuple[float, str]:
    """The median of the per-round on/off ratios, and it with its interquartile range."""
    ratios = sorted(b / a for a, b in zip(off, on))
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    ratio = statistics.median(ratios)
    return ratio, f"{ratio:5.3f} [{q[0]:.3f}-{q[2]:.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--filter", action="append", default=[])
    ap.add_argument("--compare", type=Path, default=None,
                    help="another tree's src directory, run in the same rounds")
    ap.add_argument("--instructions", action="store_true",
                    help="also count each run's instructions under callgrind (valgrind)")
    args = ap.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt install valgrind)")
    folder = Path(tempfile.mkdtemp(prefix="fusevm-firstrun-"))
    try:
        run(args, workloads(args.filter, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, programs: list[tuple[str, Path, list[str]]]) -> None:
    trees = [SRC] + ([args.compare.resolve()] if args.compare is not None else [])
    print(f"== first run in a fresh process (CPU time of the run), {args.rounds} rounds; "
          f"{sys.executable}")
    for k, tree in enumerate(trees):
        packed = any((tree / "fusevm" / "__pycache__").glob("modules.*.pack"))
        print(f"   tree {k}: {tree} (module pack: {'yes' if packed else 'none'})")
    head = "".join(f"  tree {k}: on / off [IQR]     loaded  faults" +
                   ("  instr." if args.instructions else "") for k in range(len(trees)))
    print(f"   {'workload':24} {'tier off':>10} {'tier on':>10}{head}")
    medians: list[list[float]] = [[] for _ in trees]
    counted: list[list[float]] = [[] for _ in trees]
    for program in programs:
        name = program[0]
        off: list[list[float]] = [[] for _ in trees]
        on: list[list[float]] = [[] for _ in trees]
        faults: list[list[int]] = [[] for _ in trees]
        loaded = [0 for _ in trees]
        for r in range(args.rounds):
            turns = [(k, flag) for k in range(len(trees)) for flag in (False, True)]
            got: dict[tuple[int, bool], int] = {}
            for k, flag in (turns if r % 2 else turns[::-1]):
                ns, got_loaded, got[k, flag] = child(program, flag, trees[k])
                (on if flag else off)[k].append(ns)
                loaded[k] += flag and got_loaded
            for k in range(len(trees)):
                faults[k].append(got[k, True] - got[k, False])
        cells = ""
        for k in range(len(trees)):
            ratio, text = summary(off[k], on[k])
            medians[k].append(ratio)
            cells += (f"  {text}     {loaded[k]}/{args.rounds}"
                      f"  {statistics.median(faults[k]):+6.0f}")
            if args.instructions:
                none, *counts = (instructions(program, mode, trees[k])
                                 for mode in ("none", "off", "on"))
                ratio = (counts[1] - none) / (counts[0] - none)
                counted[k].append(ratio)
                cells += f"  {ratio:5.3f}"
        print(f"   {name:24} {statistics.median(off[0]) / 1e6:8.3f}ms "
              f"{statistics.median(on[0]) / 1e6:8.3f}ms{cells}")
    for k, ratios in enumerate(medians):
        if ratios:
            print(f"   tree {k}: median over {len(ratios)} workloads "
                  f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-"
                  f"{max(ratios):.3f}); above 1.02 on {sum(r > 1.02 for r in ratios)}")
        if counted[k]:
            print(f"   tree {k}: instructions on / off, median {statistics.median(counted[k]):.3f}"
                  f" (range {min(counted[k]):.3f}-{max(counted[k]):.3f}); above 1 on "
                  f"{sum(r > 1 for r in counted[k])}")


if __name__ == "__main__":
    main()
