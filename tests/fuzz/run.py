"""Run a fuzz target: `python tests/fuzz/run.py TARGET [--seconds N | --runs N] [--seed S]`.

TARGET is asm, load, verify or expand (see targets.py), or `all`. With Atheris installed the run is
coverage-guided (libFuzzer under the hood) and starts from tests/fuzz/corpus/TARGET; new
interesting inputs stay in a scratch corpus, and a crasher is written to
tests/fuzz/crashes/ (copy it into the corpus to keep it as a regression test). Without
Atheris, hypothesis drives the target with random bytes (not coverage-guided) and says so.

Exit status: 0 when no crash was found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
CRASHES = HERE / "crashes"


def _atheris_available() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def _child(name: str, args: list[str]) -> None:
    """Inside the fuzzing process: instrument fusevm, then hand control to libFuzzer."""
    import atheris
    sys.path.insert(0, str(HERE))
    with atheris.instrument_imports(include=["fusevm"]):
        import fusevm.asm  # noqa: F401
        import fusevm.serialize  # noqa: F401
        import fusevm.shell.expand  # noqa: F401
        import fusevm.verify  # noqa: F401
    import targets
    atheris.Setup([sys.argv[0], *args], targets.TARGETS[name])
    atheris.Fuzz()


def _atheris(name: str, seconds: int | None, runs: int | None, seed: int) -> int:
    CRASHES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"fusevm-fuzz-{name}-") as scratch:
        (CORPUS / name).mkdir(exist_ok=True)
        args = [scratch, str(CORPUS / name), f"-seed={seed}", "-max_len=4096", "-timeout=20",
                f"-artifact_prefix={CRASHES}/{name}-", "-print_final_stats=1"]
        if seconds is not None:
            args.append(f"-max_total_time={seconds}")
        if runs is not None:
            args.append(f"-runs={runs}")
        cmd = [sys.executable, __file__, "--child", name, "--", *args]
        # Atheris instruments the modules the import system compiles or reads from .pyc
        # files: with the module pack on, fusevm's modules came from the pack uninstrumented
        # and the fuzzer saw no coverage at all.
        env = dict(os.environ, FUSEVM_MODULE_PACK="off", PYTHONPATH=os.pathsep.join(
            [str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]))
        return subprocess.call(cmd, env=env)


def _hypothesis(name: str, seconds: int | None, runs: int | None, seed: int) -> int:
    import time

    from hypothesis import given, settings
    from hypothesis import seed as fixed_seed
    from hypothesis import strategies as st
    sys.path.insert(0, str(HERE))
    import targets
    print(f"fuzz {name}: without Atheris, hypothesis drives random bytes "
          "(not coverage-guided)", file=sys.stderr)
    for path in sorted((CORPUS / name).glob("*")):
        targets.TARGETS[name](path.read_bytes())
    deadline = time.monotonic() + seconds if seconds is not None else None
    batch = runs if runs is not None else 1000
    round_ = 0
    while True:
        @fixed_seed(seed + round_)
        @settings(max_examples=batch, deadline=None, database=None)
        @given(st.binary(max_size=4096))
        def check(data: bytes) -> None:
            targets.TARGETS[name](data)

        try:
            check()
        except targets.Crash as e:
            print(f"fuzz {name}: crash: {e}", file=sys.stderr)
            return 1
        round_ += 1
        if deadline is None or time.monotonic() >= deadline:
            return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[3:])
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("target", choices=["asm", "load", "verify", "expand", "all"])
    p.add_argument("--seconds", type=int, default=None, help="time budget per target")
    p.add_argument("--runs", type=int, default=None, help="number of inputs per target")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-atheris", action="store_true", help="use the hypothesis driver")
    args = p.parse_args(argv)
    names = ["asm", "load", "verify", "expand"] if args.target == "all" else [args.target]
    status = 0
    for name in names:
        runner = _atheris if _atheris_available() and not args.no_atheris else _hypothesis
        code = runner(name, args.seconds, args.runs, args.seed)
        print(f"fuzz {name}: {'ok' if code == 0 else 'CRASH'}", file=sys.stderr)
        status = status or (1 if code else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
