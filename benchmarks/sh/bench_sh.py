"""`fusevm sh` against dash and bash: start-up, a test/arithmetic loop, external commands.

`fusevm sh` is the installed console script (`python -m fusevm.sh` when there is none).
CPU time (user + system of the child, from os.wait4) is measured, interleaved between
shells, and the median of N runs is reported with the ratio to each peer. Start-up is
`sh -c :` next to `python3 -c pass`; the loop is reported whole and net of each shell's
own start-up (its median loop run minus its median `-c :` run). `--shapes` adds two more
spellings of a counting loop people write (`$(($i + 1))`, `: $((i += 1))` with `test`), and
`--scripts` five common script patterns (a `read` loop over a file, `printf` per word,
`${x##*/}`, `case` with an append, a function call per turn) and a long straight-line
script (`--iterations` / 10 lines, each a complete command), given with `-c` and also as a
script file: fusevm keeps a long script file's compiled commands in its disk cache, so the
file case gives fusevm sh with a warm cache (one untimed run first) and with the cache off.
The commands cases run external programs `--commands` times in such a loop (`/bin/true`,
a pipeline of two programs and one of `echo` and a program, a `$(...)`, a background
job): what starting processes costs each shell (the programs' own CPU is in every shell's
figure, as wait4 counts a child's reaped children).

    python benchmarks/sh/bench_sh.py [--runs 5] [--iterations 20000] [--commands 500]
                                     [--shapes] [--scripts]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

LOOP = """i=0; s=0
while [ $i -lt {n} ]; do
  s=$((s + i * 2 % 7))
  i=$((i + 1))
done
echo $s
"""
#: Other spellings of the loop, for --shapes.
SHAPES = {
    "$i in $(( ))": "i=0; while [ $i -lt {n} ]; do i=$(($i + 1)); done; echo $i\n",
    ": $((i += 1))": "i=0; while test $i -lt {n}; do : $((i += 1)); done; echo $i\n",
}
#: Common script patterns, for --scripts: a `read` loop over a file of --iterations lines,
#: a `printf` per word, `${x##*/}`-style trims, `case` with a string append, a function
#: call per turn.
SCRIPTS = {
    "while read over a file":
        "n=0; while read a b c; do n=$((n + a)); done < {data}; echo $n\n",
    "for w in $(seq); printf":
        "for w in $(seq 1 {n}); do printf '%s\\n' \"$w\"; done > /dev/null\n",
    "${x##*/} ${b%.*}":
        "i=0; while [ $i -lt {n} ]; do x=\"a/b/f$i.txt\"; b=${{x##*/}}; e=${{b%.*}}; "
        "i=$((i + 1)); done; echo $e\n",
    "case and append":
        "i=0; s=; while [ $i -lt {n} ]; do case $i in *5) s=\"${{s}}x\";; esac; "
        "i=$((i + 1)); done; echo ${{#s}}\n",
    "function call":
        "f() {{ r=$(($1 * 2)); }}; i=0; while [ $i -lt {n} ]; do f $i; i=$((i + 1)); done; "
        "echo $r\n",
}
#: The line shapes of a long straight-line script, for --scripts (`long_script`): each line
#: is a complete command, which a shell reads, parses and runs before it reads the next.
LINES = (
    "v{k}=$((i + {j}))",
    'echo "line {j} $v{k}" > /dev/null',
    'if [ "$v{k}" = x ]; then echo no; else : ok; fi',
    'case "$v{k}" in 1*) a=1;; *) a=2;; esac',
    'f{j}() {{ printf "%s\\n" "$1" > /dev/null; }}',
    "f{p} hello{j}",
)


def long_script(lines: int) -> str:
    """A script of `lines` lines cycling through LINES (each function called on the line
    after its definition): what a long script's commands cost one by one."""
    return "i=0\n" + "".join(LINES[j % len(LINES)].format(j=j, k=j % 50, p=j - 1) + "\n"
                             for j in range(lines))


#: Programs started --commands times: alone, in a two-stage pipeline after another program
#: and after the builtin `echo`, in a `$(...)`, as a background job.
COMMANDS = {
    "/bin/true": "i=0; while [ $i -lt {n} ]; do /bin/true; i=$((i + 1)); done\n",
    "/bin/echo $i | /bin/cat":
        "i=0; while [ $i -lt {n} ]; do /bin/echo $i | /bin/cat; i=$((i + 1)); done\n",
    "echo $i | /bin/cat":
        "i=0; while [ $i -lt {n} ]; do echo $i | /bin/cat; i=$((i + 1)); done\n",
    "x=$(/bin/echo $i)": "i=0; while [ $i -lt {n} ]; do x=$(/bin/echo $i); i=$((i + 1)); done\n",
    "/bin/true & wait": "i=0; while [ $i -lt {n} ]; do /bin/true & wait; i=$((i + 1)); done\n",
}


def cpu_of(argv: list[str], env: dict[str, str] | None = None) -> float:
    """CPU seconds (user + system) the command used (in `env`, else this process's
    environment), output discarded."""
    # posix_spawnp, not fork: a forked child would run Python code of this process (and
    # copy its pages as it wrote them) before the exec, all counted as the command's.
    pid = os.posix_spawnp(argv[0], argv, os.environ if env is None else env,
                          file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} failed")
    return float(usage.ru_utime + usage.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=20000)
    ap.add_argument("--commands", type=int, default=500)
    ap.add_argument("--shapes", action="store_true", help="also time the other loop shapes")
    ap.add_argument("--scripts", action="store_true",
                    help="also time common script patterns (read loop, printf, trims, ...)")
    args = ap.parse_args()
    # The command users type (the console script pip installs beside the interpreter);
    # `python -m fusevm.sh` also loads runpy and importlib.util, a few ms more.
    script = Path(sys.executable).parent / "fusevm"
    fusevm = [str(script), "sh"] if script.exists() else [sys.executable, "-m", "fusevm.sh"]
    shells = {"fusevm sh": fusevm}
    for peer in ("dash", "bash"):
        if shutil.which(peer):
            shells[peer] = [peer]
    loops = {f"loop ({args.iterations} x [ ] and $(( )))": LOOP.format(n=args.iterations)}
    if args.shapes:
        loops.update((f"loop ({args.iterations} x {name})", text.format(n=args.iterations))
                     for name, text in SHAPES.items())
    if args.scripts:
        data = Path(tempfile.mkdtemp(prefix="bench-sh-")) / "lines.txt"
        data.write_text("".join(f"{i} alpha beta gamma\n" for i in range(args.iterations)))
        loops.update((f"script ({args.iterations} x {name})",
                      text.format(n=args.iterations, data=data))
                     for name, text in SCRIPTS.items())
        lines = args.iterations // 10
        loops[f"script ({lines} lines, a command each)"] = long_script(lines)
    loops.update((f"commands ({args.commands} x {name})", text.format(n=args.commands))
                 for name, text in COMMANDS.items())
    cases = {
        "start-up (-c :)": {**{k: v + ["-c", ":"] for k, v in shells.items()},
                            "python3 -c pass": [sys.executable, "-c", "pass"]},
        **{title: {k: v + ["-c", text] for k, v in shells.items()}
           for title, text in loops.items()},
    }
    #: (case, command) -> the environment it runs in, where not this process's.
    envs: dict[tuple[str, str], dict[str, str]] = {}
    files: list[str] = []  # (the cases that run a script file)
    if args.scripts:
        # The long script as a file: fusevm with its compiled commands in a warm disk cache
        # (filled by one untimed run) and with the cache off.
        path = data.parent / "long.sh"
        path.write_text(long_script(lines))
        warm = dict(os.environ, FUSEVM_JIT_CACHE_DIR=str(data.parent / "cache"))
        cpu_of([*fusevm, str(path)], warm)
        title = f"script file ({lines} lines)"
        files.append(title)
        envs = {(title, "fusevm sh"): warm, (title, "fusevm sh, cache off"):
                dict(os.environ, FUSEVM_JIT_CACHE_DIR="off")}
        cases[title] = {
            "fusevm sh": [*fusevm, str(path)], "fusevm sh, cache off": [*fusevm, str(path)],
            **{k: v + [str(path)] for k, v in shells.items() if k != "fusevm sh"}}
    medians: dict[str, dict[str, float]] = {}
    for title, cmds in cases.items():
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for _ in range(args.runs):
            for name, argv in cmds.items():  # interleaved
                times[name].append(cpu_of(argv, envs.get((title, name))))
        medians[title] = {k: statistics.median(v) for k, v in times.items()}
        report(f"{title}: median CPU seconds of {args.runs} runs", medians[title])
    start = medians["start-up (-c :)"]
    for title in [*loops, *files]:
        # the loop's own cost: what the loop run takes beyond the same shell's `-c :`
        report(f"{title} net of start-up (loop - start-up)",
               {k: max(v - start[k.split(",")[0]], 1e-9) for k, v in medians[title].items()})


def report(title: str, med: dict[str, float]) -> None:
    print(f"== {title}")
    base = med["fusevm sh"]
    for name, t in med.items():
        ratio = f"  (fusevm sh / this = {base / t:.2f}x)" if name != "fusevm sh" else ""
        print(f"   {name:<22} {t:8.4f}{ratio}")


if __name__ == "__main__":
    main()
