"""Differential test of `fusevm sh` against the consensus of dash and `bash --posix`.

    python benchmarks/sh/differential.py [--count 300] [--seed 1] [-j 2] [--show 5]
                                         [--out DIR] [--timeout 10] [--shell CMD]
                                         [--classic] [--fragments N]

Generates POSIX sh scripts from a seeded grammar (deterministic per seed; `sh_grammar.py`,
widened by `sh_wide.py` unless `--classic`): quoting of every kind, parameter expansions,
positional parameters, field splitting under odd IFS values, pathname expansion in a
scratch directory, arithmetic, command substitution, `case`, loops with
`break`/`continue N`, functions, redirections and here-documents, pipelines, lists,
subshells, `eval`, `shift`, `set -e/-u/-f`, `trap ... EXIT`, `printf`, `read`,
`test`, and the statuses of failing commands and special-builtin errors (and, widened,
the idioms and non-ASCII bytes `sh_wide.py` lists). Every script prints what it computes.
Each runs in a fresh copy of the scratch directory under dash and `bash --posix`, in the C
locale; where both agree on stdout, the exit status and whether stderr is empty, that is
the expected result, and `fusevm sh` (a child process, as a user runs it) must match it. A
script that outlives `--timeout` seconds is a disagreement.

Prints the agreement rate over the scripts with a reference and the first `--show`
disagreements; `--out DIR` writes each one as DIR/NNNN.sh plus DIR/NNNN.txt (expected and
got). Where dash and bash differ it counts which one `fusevm sh` is like, and writes the
scripts where it is like neither as DIR/NNNN-neither.*. This is a report, not a test:
nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sh_grammar import Generator

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = (["dash"], ["bash", "--posix"])
OURS = [sys.executable, "-m", "fusevm.sh"]
#: The files every script finds in its working directory (for globbing and `<`).
SCRATCH = {"a.txt": "alpha\nbeta\n", "b.txt": "one two\nthree\n", "ab.log": "x:y:z\n",
           "c1.dat": "1 2 3\n", "Cx.txt": "", ".hidden": "h\n", "data": "k=v\nm = n\n"}
SCRATCH_DIRS = ("d1", "dir2")

Result = tuple[str, int, bool]  # stdout, exit status, stderr non-empty


def populate(where: Path) -> None:
    where.mkdir()
    for name, text in SCRATCH.items():
        (where / name).write_text(text)
    for name in SCRATCH_DIRS:
        (where / name).mkdir()
        (where / name / "f.txt").write_text("in " + name + "\n")


def run(argv: list[str], script: str, base: Path, tag: str, timeout: float) -> Result | None:
    """Run `script` with `argv -c script sh a1 a2` in a fresh scratch directory; None for a
    time-out."""
    where = base / tag
    populate(where)
    # HOME is one fixed path (not the per-run directory) so `~` expands alike everywhere
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": "/tmp/shdiff-home",
           "PYTHONPATH": str(ROOT / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    out_path, err_path = base / f"{tag}.out", base / f"{tag}.err"
    try:
        # output goes to files capped at OUTPUT_LIMIT (past it the shell gets SIGXFSZ), so
        # a runaway `printf %*d` cannot fill the memory
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen([*argv, "-c", script, "sh", "arg one", "a2"], cwd=where,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                    start_new_session=True, preexec_fn=_limit_output)
            try:
                code = proc.wait(timeout)
                _linger(proc.pid)
            finally:
                # the whole session: a subshell or pipeline stage outlives its shell
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        return (out_path.read_bytes().decode("latin-1"), code,
                err_path.stat().st_size > 0)
    except subprocess.TimeoutExpired:
        return None
    finally:
        shutil.rmtree(where, ignore_errors=True)
        out_path.unlink(missing_ok=True)
        err_path.unlink(missing_ok=True)


OUTPUT_LIMIT = 1 << 22
#: Seconds the rest of a session may run on after its shell ended (a subshell whose EXIT
#: trap runs after `kill $$` ended the script's shell) before it is killed: how fast each
#: shell forks and writes must not decide what it printed.
LINGER = 0.5


def _linger(session: int) -> None:
    deadline = time.monotonic() + LINGER
    while time.monotonic() < deadline:
        try:
            os.killpg(session, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.01)


def _limit_output() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT, OUTPUT_LIMIT))
    # the shells start with SIGINT at its default however this harness was started (a
    # background job's children inherit it ignored)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def judge(index: int, script: str, base: Path, timeout: float, ours: list[str]
          ) -> tuple[Result | None, Result | None, Result | None]:
    """(dash, bash, ours), each None for a time-out."""
    return (run(REFERENCES[0], script, base, f"{index}-dash", timeout),
            run(REFERENCES[1], script, base, f"{index}-bash", timeout),
            run(ours, script, base, f"{index}-ours", timeout))


def show(res: Result | None) -> str:
    if res is None:
        return "(timed out)\n"
    out, code, err = res
    return f"status {code}, stderr {'non-empty' if err else 'empty'}, stdout:\n{out}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="scripts to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-j", "--jobs", type=int, default=2, help="scripts run at once")
    parser.add_argument("--show", type=int, default=5, help="disagreements to print")
    parser.add_argument("--out", type=Path, help="directory for every disagreement")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per script")
    parser.add_argument("--classic", action="store_true", help="only the first grammar's "
                        "fragments (without sh_wide's)")
    parser.add_argument("--fragments", type=int, help="fragments per script (default: 2 "
                        "to 5 at random); 1 pins a disagreement down, and leaves fewer "
                        "scripts without a reference")
    parser.add_argument("--shell", help="the shell under test, as a command line (default: "
                        "this checkout's `python -m fusevm.sh`)")
    args = parser.parse_args()
    missing = [argv[0] for argv in REFERENCES if shutil.which(argv[0]) is None]
    if missing:
        sys.exit(f"differential: not installed: {', '.join(missing)} "
                 "(apt-get install -y dash)")
    rng = random.Random(args.seed)
    gen = Generator(rng, sorted(SCRATCH), list(SCRATCH_DIRS), args.classic)
    scripts = [gen.script(args.fragments) for _ in range(args.count)]
    base = Path(tempfile.mkdtemp(prefix="shdiff"))
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            ours = shlex.split(args.shell) if args.shell else OURS
            results = list(pool.map(lambda i: judge(i, scripts[i], base, args.timeout, ours),
                                    range(len(scripts))))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    consensus = agree = shown = 0
    like = {"dash": 0, "bash": 0, "neither": 0}  # where dash and bash differ
    for i, (dash, bash, mine) in enumerate(results):
        if dash is None or dash != bash:
            which = "dash" if mine == dash else "bash" if mine == bash else "neither"
            like[which] += 1
            if which == "neither" and args.out is not None:
                (args.out / f"{i:04d}-neither.sh").write_text(scripts[i])
                (args.out / f"{i:04d}-neither.txt").write_text(
                    f"--- dash: {show(dash)}--- bash: {show(bash)}--- got: {show(mine)}")
            continue
        consensus += 1
        if mine == dash:
            agree += 1
            continue
        report = f"--- expected: {show(dash)}--- got: {show(mine)}"
        if args.out is not None:
            (args.out / f"{i:04d}.sh").write_text(scripts[i])
            (args.out / f"{i:04d}.txt").write_text(report)
        if shown < args.show:
            shown += 1
            print("=" * 72 + f"\n# script {i}\n{scripts[i]}\n{report}")
    print(f"where dash and bash differ ({sum(like.values())}), fusevm sh is like dash in "
          f"{like['dash']}, like bash in {like['bash']}, like neither in {like['neither']}")
    rate = 100.0 * agree / consensus if consensus else 0.0
    print(f"scripts: {args.count}, with a reference (dash = bash --posix): {consensus}, "
          f"fusevm sh agrees: {agree} ({rate:.1f}%)")


if __name__ == "__main__":
    main()
