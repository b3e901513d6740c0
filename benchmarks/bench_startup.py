"""Start-up of the short command lines next to `python -c pass` (issue 10 item 7, issue 14).

Each command is started `--runs` times, interleaved with the others, and its CPU time (user
+ system of the child, from os.wait4) is recorded; the table gives each median and the
median of its per-round ratios to `python -c pass` run by the same interpreter. The goal
is a ratio of at most 1.5 for `fusevm awk 'BEGIN{}'` and `fusevm sh -c :`; `fusevm run`
of a core-op program is measured beside them, and so is the core alone (building and
running a four-op chunk from `python -c`), which every command pays before its own work.

The compile cache, the `.pyc` files and the module pack are written first (two runs of each
command), except for the `cold` line, which runs awk with the compile cache off (every
program a user types once is compiled); the `module pack off` line imports the package's
modules through the import system's search instead of its module pack.
`--importtime` also prints, for the awk command, the modules that cost the most to import
(`python -X importtime`, the minimum self time of each over the runs). `--opcodes` counts
the Python bytecodes the awk and sh commands run (a tracer over the whole command, imports
included): the same on every run, by function and by file. `--instructions`
also counts each command's instructions under valgrind's callgrind, with the steps of the
core's import (op table, chunk, interpreter, awk's ops) for scale: the same count on every
run whatever else the machine does, where CPU times on a shared machine move by tens of
percent. Instruction ratios are not CPU ratios (Python's own start has more system time
and cache misses per instruction than the imports), but they tell whether a change helped.
The table also gives each command's minor page faults (median), which instruction counts
do not see, and what one costs here (touching fresh pages in this process): on a virtual
machine a few microseconds each, so the memory a command touches is part of its CPU time.

    python benchmarks/bench_startup.py [--runs 21] [--importtime] [--instructions]
                                       [--opcodes]
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

PY = sys.executable
SCRIPT = Path(PY).parent / "fusevm"  # the console script pip installs next to the interpreter


def commands() -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (argv, extra environment), the yardstick first."""
    script = [str(SCRIPT)] if SCRIPT.exists() else [PY, "-m", "fusevm"]
    out: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([PY, "-c", "pass"], {}),
        "python -c 'import fusevm'": ([PY, "-c", "import fusevm"], {}),
        "core: build and run a chunk (python -c)": ([PY, "-c", _CORE], {}),
        "fusevm awk 'BEGIN{}'": ([*script, "awk", "BEGIN{}"], {}),
        "python -m fusevm.awk 'BEGIN{}'": ([PY, "-m", "fusevm.awk", "BEGIN{}"], {}),
        "fusevm sh -c :": ([*script, "sh", "-c", ":"], {}),
        "python -m fusevm.sh -c :": ([PY, "-m", "fusevm.sh", "-c", ":"], {}),
        "fusevm run add.fasm": ([*script, "run", str(_program())], {}),
        "fusevm awk 'BEGIN{}', cache off (cold)": ([*script, "awk", "BEGIN{}"],
                                                   {"FUSEVM_JIT_CACHE_DIR": "off"}),
        "fusevm awk 'BEGIN{}', module pack off": ([*script, "awk", "BEGIN{}"],
                                                  {"FUSEVM_MODULE_PACK": "off"}),
    }
    return out


#: The core half alone (op table, builder, verifier, fusion pass, interpreter), without a
#: frontend or the command line: what every command pays before its own work.
_CORE = ("from fusevm import ChunkBuilder, Op, VM\n"
         "b = ChunkBuilder()\n"
         "b.emit(Op.LoadInt, 2); b.emit(Op.LoadInt, 3); b.emit(Op.Add); b.emit(Op.PrintLn, 1)\n"
         "VM(b.build()).run()")


def _program() -> Path:
    """A core-op program for `fusevm run` (no extension op: no extension set loads)."""
    path = Path(tempfile.gettempdir()) / "fusevm-bench-startup.fasm"  # rewritten, never grows
    path.write_text("LoadInt 2\nLoadInt 3\nAdd\nPrintLn 1\n")
    return path


def cpu_of(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """CPU seconds (user + system) the command used, its output discarded, and its minor
    page faults (the pages of memory it touched first)."""
    # posix_spawn, not fork: a forked child would run Python code of this process (and
    # copy its pages as it wrote them) before the exec, all counted as the command's.
    null = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    pid = os.posix_spawn(argv[0], argv, {**os.environ, **env}, file_actions=null)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} failed (status {os.waitstatus_to_exitcode(status)})")
    return float(usage.ru_utime + usage.ru_stime), usage.ru_minflt


def fault_cost(pages: int = 512, rounds: int = 5) -> float:
    """Seconds of CPU a minor page fault costs in this process (the median over `rounds`
    of touching `pages` fresh pages of anonymous memory once each)."""
    import mmap
    import resource
    import time
    costs = []
    for _ in range(rounds):
        area = mmap.mmap(-1, pages * mmap.PAGESIZE)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.process_time()
        for i in range(pages):
            area[i * mmap.PAGESIZE] = 1
        spent = time.process_time() - t0
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        area.close()
        costs.append(spent / max(faults, 1))
    return statistics.median(costs)


def importtime(argv: list[str], runs: int, top: int = 25) -> str:
    """The `top` modules by self import time (minimum over `runs`), as a table."""
    best: dict[str, tuple[int, int]] = {}
    for _ in range(runs):
        cmd = [PY, "-X", "importtime", *argv[1:]] if argv[0] == PY else \
            [PY, "-X", "importtime", *argv]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, cumulative, name = line.split(":", 1)[1].split("|")
            key = name.strip()
            s, c = int(self_us), int(cumulative)
            old = best.get(key)
            best[key] = (s, c) if old is None else (min(old[0], s), min(old[1], c))
    total = sum(s for s, _ in best.values())
    rows = sorted(best.items(), key=lambda kv: -kv[1][0])[:top]
    lines = [f"   {len(best)} modules, {total / 1000:.1f} ms self in all (minimum of {runs} "
             "runs each)", "   self ms  cumul. ms  module"]
    lines += [f"   {s / 1000:7.2f}  {c / 1000:9.2f}  {name}" for name, (s, c) in rows]
    return "\n".join(lines)


#: A child that runs `fusevm.cli.main(argv)` under a tracer counting the Python bytecodes
#: of each function (the import system's frozen code included), and prints the counts.
_OPCODES = """
import collections, sys
counts = collections.Counter()
def trace(frame, event, arg):
    frame.f_trace_opcodes = True
    if event == "opcode":
        code = frame.f_code
        counts[code.co_filename.rsplit("/", 1)[-1], code.co_name] += 1
    return trace
sys.settrace(trace)
from fusevm.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.settrace(None)
print(repr(dict(counts)))
"""


def opcodes(args: list[str], top: int = 20) -> str:
    """The Python bytecodes `fusevm ARGS` runs: in all, by file and by function."""
    import ast
    proc = subprocess.run([PY, "-c", _OPCODES, *args], capture_output=True, text=True,
                          check=True, stdin=subprocess.DEVNULL)
    counts: dict[tuple[str, str], int] = ast.literal_eval(proc.stdout.splitlines()[-1])
    by_file: dict[str, int] = {}
    for (name, _), n in counts.items():
        by_file[name] = by_file.get(name, 0) + n
    lines = [f"   {sum(counts.values()):,} bytecodes", "   by file:"]
    lines += [f"   {n:9,d}  {name}" for name, n in
              sorted(by_file.items(), key=lambda kv: -kv[1])[:top // 2]]
    lines.append("   by function:")
    lines += [f"   {n:9,d}  {name}:{function}" for (name, function), n in
              sorted(counts.items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(lines)


#: The core's import, step by step (each line includes the ones above it).
_IMPORT_STEPS: dict[str, str] = {
    "import fusevm.ops (the op table)": "import fusevm.ops",
    "import fusevm.chunk": "import fusevm.chunk",
    "import fusevm.interp.vm": "import fusevm.interp.vm",
    "import fusevm.lang.awk.ops_io (awk's ops)": "import fusevm.lang.awk.ops_io",
}


def instructions(argv: list[str], env: dict[str, str]) -> int | None:
    """Instructions the command ran (valgrind --tool=callgrind), or None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    # (One hash seed: string hashes otherwise move dict layouts and the count with them.)
    proc = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           *argv], capture_output=True, text=True,
                          env={**os.environ, **env, "PYTHONHASHSEED": "0"},
                          stdin=subprocess.DEVNULL)
    for line in proc.stderr.splitlines():
        if "Collected :" in line and proc.returncode == 0:
            return int(line.rsplit(":", 1)[1])
    raise SystemExit(f"valgrind gave no count for {argv}: {proc.stderr[-500:]}")


def instruction_table(cmds: dict[str, tuple[list[str], dict[str, str]]]) -> str:
    steps = {name: ([PY, "-c", code], {}) for name, code in _IMPORT_STEPS.items()}
    first = ("python -c pass", "python -c 'import fusevm'")
    rows = {**{k: cmds[k] for k in first}, **steps,
            **{k: v for k, v in cmds.items() if k not in first}}
    counts = {name: instructions(argv, env) for name, (argv, env) in rows.items()}
    base = counts["python -c pass"]
    if base is None:
        return "   (valgrind is not installed)"
    lines = [f"   {'command':<42} {'instructions':>14}  {'/ python -c pass':>16}"]
    for name, n in counts.items():
        assert n is not None
        lines.append(f"   {name:<42} {n:14,d}  {n / base:15.2f}x")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--importtime", action="store_true",
                    help="also list the costliest imports of `fusevm awk 'BEGIN{}'`")
    ap.add_argument("--instructions", action="store_true",
                    help="also count instructions under valgrind (repeatable on a busy box)")
    ap.add_argument("--opcodes", action="store_true",
                    help="also count the Python bytecodes of the awk and sh commands")
    args = ap.parse_args()
    if not shutil.which(PY):
        raise SystemExit(f"no interpreter at {PY}")
    cmds = commands()
    # Warm the compile cache, the OS's file cache, the .pyc files and the module pack (as
    # any first run writes them, PYTHONDONTWRITEBYTECODE or not).
    no_write = os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        for _ in range(2):
            for argv, env in cmds.values():
                cpu_of(argv, env)
    finally:
        if no_write is not None:
            os.environ["PYTHONDONTWRITEBYTECODE"] = no_write
    times: dict[str, list[float]] = {name: [] for name in cmds}
    faults: dict[str, list[int]] = {name: [] for name in cmds}
    for _ in range(args.runs):
        for name, (argv, env) in cmds.items():  # interleaved
            cpu, touched = cpu_of(argv, env)
            times[name].append(cpu)
            faults[name].append(touched)
    base = times["python -c pass"]
    base_faults = statistics.median(faults["python -c pass"])
    print(f"== start-up, CPU seconds (user + system), median of {args.runs} interleaved runs; "
          f"{PY}")
    print(f"   {'command':<42} {'median':>8}  {'/ python -c pass':>16}  {'faults':>7}")
    for name, values in times.items():
        ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
        print(f"   {name:<42} {statistics.median(values):8.4f}  {ratio:15.2f}x  "
              f"{statistics.median(faults[name]):7.0f}")
    # Instruction counts do not see page faults, and on a virtual machine each one costs
    # microseconds: part of what separates a CPU ratio from an instruction ratio.
    each = fault_cost()
    extra = statistics.median(faults["fusevm awk 'BEGIN{}'"]) - base_faults
    print(f"   a minor page fault costs {each * 1e6:.1f} us here: the {extra:.0f} faults "
          f"`fusevm awk 'BEGIN{{}}'` takes beyond python -c pass are about "
          f"{extra * each * 1e3:.1f} ms of its CPU time")
    if args.importtime:
        print("== costliest imports of `fusevm awk 'BEGIN{}'`")
        print(importtime([PY, "-m", "fusevm", "awk", "BEGIN{}"], max(3, args.runs // 3)))
    if args.instructions:
        print("== instructions (valgrind --tool=callgrind), one run each")
        print(instruction_table(cmds))
    if args.opcodes:
        for command in (["awk", "BEGIN{}"], ["sh", "-c", ":"]):
            print(f"== Python bytecodes of `fusevm {' '.join(command)}`")
            print(opcodes(command))


if __name__ == "__main__":
    main()
