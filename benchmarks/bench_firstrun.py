"""One-shot runs: each workload's first run in a fresh process, baseline tier on and off.

    PYTHONPATH=src python benchmarks/bench_firstrun.py [--rounds 11] [--filter SUBSTR]
                                                       [--compare OTHER/src]

`fusevm bench`'s first-run columns time `VM(chunk).run()` of a chunk no cache has seen,
but in its own long-lived process, where the baseline compiler is loaded: a process that
runs one program (`fusevm run prog.fasm`) has not loaded it, and the tier decides
differently there (`fusevm.baseline.looks.LOAD_COST`). Here every sample is a child
process of its own that builds the workload's chunk (untimed), then times its one
`VM(chunk, baseline=...)` + `run()` (the thread's CPU time: verify, prepare, the run, and
what the tier does during it, loading the compiler included). Children with the tier on
and off alternate, in turns whose order flips every round; the table gives each median
and the median of the per-round ratios with their interquartile range, and says whether
the tier's children loaded the compiler. `--compare` runs the same children from another
source tree (another checkout's `src`) in the same rounds, for a before/after in one run.
Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

#: A child: build the named workload's chunk, run it once in a fresh VM, print the CPU
#: time and whether the baseline compiler got loaded.
_CHILD = """
import json, sys, time
from fusevm.bench.workloads import WORKLOADS
from fusevm.interp.vm import VM
name, baseline = sys.argv[1], sys.argv[2] == "on"
(work,) = [w for w in WORKLOADS if w.name == name]
chunk = work.reference()
before = "fusevm.baseline.compiler" in sys.modules
t = time.thread_time_ns()
VM(chunk, baseline=baseline).run()
ns = time.thread_time_ns() - t
print(json.dumps({"ns": ns, "loaded_before": before,
                  "loaded": "fusevm.baseline.compiler" in sys.modules}))
"""


def workloads(filters: list[str]) -> list[str]:
    sys.path.insert(0, str(SRC))
    from fusevm.bench.workloads import WORKLOADS
    return [w.name for w in WORKLOADS
            if not w.reuse_vm and (not filters or any(f in w.name for f in filters))]


def child(name: str, on: bool, src: Path = SRC) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(src), FUSEVM_JIT_CACHE_DIR="off")
    env.pop("FUSEVM_BASELINE", None)
    out = subprocess.run([sys.executable, "-c", _CHILD, name, "on" if on else "off"],
                         env=env, check=True, capture_output=True, text=True).stdout
    result: dict[str, object] = json.loads(out)
    if result["loaded_before"]:
        raise SystemExit(f"{name}: the compiler was loaded before the run: the child "
                         "does not measure a one-shot process")
    return result


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
    args = ap.parse_args()
    names = workloads(args.filter)
    trees = [SRC] + ([args.compare.resolve()] if args.compare is not None else [])
    print(f"== first run in a fresh process (CPU time of the run), {args.rounds} rounds; "
          f"{sys.executable}")
    for k, tree in enumerate(trees):
        print(f"   tree {k}: {tree}")
    head = "".join(f"  tree {k}: on / off [IQR]     loaded" for k in range(len(trees)))
    print(f"   {'workload':24} {'tier off':>10} {'tier on':>10}{head}")
    medians: list[list[float]] = [[] for _ in trees]
    for name in names:
        off: list[list[float]] = [[] for _ in trees]
        on: list[list[float]] = [[] for _ in trees]
        loaded = [0 for _ in trees]
        for r in range(args.rounds):
            turns = [(k, flag) for k in range(len(trees)) for flag in (False, True)]
            for k, flag in (turns if r % 2 else turns[::-1]):
                got = child(name, flag, trees[k])
                (on if flag else off)[k].append(float(got["ns"]))  # type: ignore[arg-type]
                loaded[k] += bool(flag and got["loaded"])
        cells = ""
        for k in range(len(trees)):
            ratio, text = summary(off[k], on[k])
            medians[k].append(ratio)
            cells += f"  {text}     {loaded[k]}/{args.rounds}"
        print(f"   {name:24} {statistics.median(off[0]) / 1e6:8.3f}ms "
              f"{statistics.median(on[0]) / 1e6:8.3f}ms{cells}")
    for k, ratios in enumerate(medians):
        if ratios:
            print(f"   tree {k}: median over {len(ratios)} workloads "
                  f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-"
                  f"{max(ratios):.3f}); above 1.02 on {sum(r > 1.02 for r in ratios)}")


if __name__ == "__main__":
    main()
