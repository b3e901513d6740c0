"""Differential JIT fuzzing: `python tests/jit/fuzz.py --seconds N` (the `make fuzz` target).

Generates programs from consecutive seeds (straight-line ones through the linear and block
tiers, branchy and looping ones, a share of them with higher-order blocks and functions,
through the block tier and the baseline tier; every one through the whole chain of tiers,
tracing included) and checks each against the interpreter with `oracle.check_program`; the
branchy ones also with step budgets, in the baseline tier and the chain
(`oracle.budget_problems`). The programs are wide (`progs.Gen.wide`: strings, awk's
numeric extension ops, a slot changing its type or a division by zero at one iteration of
a loop); `--plain` gives the programs the seeds gave before wide programs existed (only
the programs with blocks had budgets, in the baseline tier; no chain).
Workers are subprocesses, so a native crash (a signal) cannot take the fuzzer down: the
parent reports it with the seed and the program, which regenerates deterministically from
the seed, and starts a new worker after it.

Exit status: 0 when every program agreed, 1 on any difference or crash.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


#: Added to a seed for the wide constructs' own source (random.Random seeds by abs()).
WIDE_SEED = 1 << 40


def program_for(seed: int, plain: bool = False):  # type: ignore[no-untyped-def]
    from progs import RandomSource, generate
    straight = seed % 3 == 0
    tiers = ("linear", "block") if straight else ("block", "baseline")
    if plain:
        return generate(RandomSource(seed), straight), tiers
    return (generate(RandomSource(seed), straight, RandomSource(seed + WIDE_SEED)),
            (*tiers, "chain"))


def with_budgets(program) -> bool:  # type: ignore[no-untyped-def]
    """Whether `program` also runs with step budgets: one with blocks; a wide one with
    branches or loops."""
    return bool(program.block_ops()) or (program.wide and any(
        item[0].startswith("Jump") for item in program.items))


def worker(start: int, stride: int, deadline: float, limit: int | None,
           crash_at: int | None = None, plain: bool = False) -> int:
    """Check programs start, start+stride, ... until the deadline; report on stdout."""
    from fusevm.interp import tiers as vm_tiers
    from fusevm.jit import get_config, set_config
    whole = get_config().replace(block_threshold=0, reopt_after=0)
    # In the programs the tiers refuse whole (calls, blocks), every hot point's region (a
    # block's start, a loop in a block) runs natively from its first entry. (Not in the
    # others: regions that deopt too would blur the one run or deopt of the unit that
    # `check_program` counts.)
    regions = whole.replace(region_threshold=1)
    vm_tiers.STRICT = True  # a tier failing to compile raises (reported), as in the tests
    seed = start
    done = 0
    while time.time() < deadline and (limit is None or done < limit):
        print(f"RUN {seed}", flush=True)
        if seed == crash_at:  # proves crash containment (tests only)
            os.kill(os.getpid(), signal.SIGSEGV)
        program, tiers = program_for(seed, plain)
        set_config(regions if program.block_ops() or program.subs else whole)
        try:
            how, problems = check_program_safe(program, tiers)
        except Exception as e:  # a bug in the generator or the JIT: report, keep going
            problems, how = [f"exception: {type(e).__name__}: {e}"], {}
        for problem in problems:
            print(f"DIFF {seed} {problem}", flush=True)
        if program.block_ops():
            how = {**how, "hof": "blocks"}
        print(f"OK {seed} {' '.join(f'{t}={h}' for t, h in sorted(how.items()))}", flush=True)
        seed += stride
        done += 1
    return 0


def check_program_safe(program, tiers):  # type: ignore[no-untyped-def]
    from oracle import budget_problems, check_program
    how, problems = check_program(program, tiers)
    if with_budgets(program):
        problems += budget_problems(program, BUDGETS,
                                    ("baseline", "chain") if program.wide else ("baseline",))
    return how, problems


#: Step budgets the programs with blocks also run with (stopping before, inside and
#: after their blocks; 0: stopped by an interrupt at the first hot point).
BUDGETS = (0, 1, 7, 30, 100, 400)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=None, help="first seed (default: time)")
    parser.add_argument("--programs", type=int, default=None,
                        help="stop each worker after this many programs")
    parser.add_argument("--program-timeout", type=float, default=120.0,
                        help="seconds one program may run before its worker is killed")
    parser.add_argument("--plain", action="store_true",
                        help="the programs without the wide constructs (older seeds' programs)")
    parser.add_argument("--crash-at", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs=3, type=float, metavar=("START", "STRIDE", "END"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        start, stride, end = int(args.worker[0]), int(args.worker[1]), args.worker[2]
        return worker(start, stride, end, args.programs, args.crash_at, args.plain)

    base = args.seed if args.seed is not None else int(time.time()) % 1_000_000 * 1000
    deadline = time.time() + args.seconds
    stride = max(1, args.workers)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    lock = threading.Lock()
    tally: dict[str, int] = {"programs": 0}
    failures: list[str] = []

    def report(kind: str, seed: int, problem: str) -> None:
        program, _ = program_for(seed, args.plain)
        with lock:
            failures.append(f"seed {seed}: {problem}\n{program.text()}")
            print(f"{kind} seed {seed}: {problem}", flush=True)

    def supervise(start: int) -> None:
        done = 0
        while True:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(start),
                   str(stride), str(deadline)]
            if args.programs is not None:
                cmd += ["--programs", str(args.programs - done)]
            if args.crash_at is not None:
                cmd += ["--crash-at", str(args.crash_at)]
            if args.plain:
                cmd.append("--plain")
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
            assert proc.stdout is not None
            last_run: int | None = None
            heard = [time.time(), False]  # last line seen, killed by the watchdog

            def watchdog(proc: subprocess.Popen[str] = proc, heard: list = heard) -> None:
                while proc.poll() is None:
                    if time.time() - heard[0] > args.program_timeout:
                        heard[1] = True
                        proc.kill()
                        return
                    time.sleep(0.5)

            threading.Thread(target=watchdog, daemon=True).start()
            for line in proc.stdout:
                heard[0] = time.time()
                kind, _, rest = line.rstrip("\n").partition(" ")
                if kind == "RUN":
                    last_run = int(rest)
                elif kind == "OK":
                    last_run = None
                    done += 1
                    with lock:
                        tally["programs"] += 1
                        for word in rest.split()[1:]:
                            outcome = word.split("=")[1]
                            tally[outcome] = tally.get(outcome, 0) + 1
                elif kind == "DIFF":
                    seed_text, _, problem = rest.partition(" ")
                    report("FAIL", int(seed_text), problem)
            code = proc.wait()
            if code == 0 or last_run is None:
                return
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
            if heard[1]:
                report("HANG", last_run, f"no answer after {args.program_timeout:g} s "
                                         "(the worker was killed)")
            else:
                report("CRASH", last_run, f"the worker died ({how})")
            done += 1
            start = last_run + stride
            if time.time() >= deadline or (args.programs is not None and done >= args.programs):
                return

    threads = [threading.Thread(target=supervise, args=(base + i,)) for i in range(stride)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"fuzz: {tally['programs']} programs from seed {base} in {args.seconds:g} s; "
          f"tier runs: {tally.get('ran', 0)} native, {tally.get('deopt', 0)} deopt, "
          f"{tally.get('refused', 0)} refused, {tally.get('regions', 0)} refused whole with "
          f"loop regions run natively; baseline: {tally.get('compiled', 0)} compiled, "
          f"{tally.get('interpreted', 0)} interpreted; chain: {tally.get('traced', 0)} "
          f"traced, {tally.get('chained', 0)} not; {tally.get('blocks', 0)} with "
          f"higher-order blocks; {len(failures)} failure(s)")
    for failure in failures:
        print("\n" + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
