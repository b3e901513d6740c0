"""Helpers for the sh frontend tests: run a script with `fusevm sh` (and with dash when it
is installed) in a scratch directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DASH = shutil.which("dash")
SRC = str(Path(__file__).resolve().parents[2] / "src")


def run_sh(script: str, cwd: Path, shell: list[str] | None = None, stdin: str = "",
           args: list[str] = ()) -> tuple[str, int]:  # type: ignore[assignment]
    argv = shell if shell is not None else [sys.executable, "-m", "fusevm.sh"]
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("IFS", None)
    env["HOME"] = str(cwd)
    p = subprocess.run([*argv, "-c", script, "sh", *args], cwd=cwd, input=stdin.encode(),
                       capture_output=True, env=env, timeout=60)
    return p.stdout.decode("utf-8", "surrogateescape"), p.returncode


def check(script: str, expected: str | None, status: int, tmp_path: Path,
          stdin: str = "", like_dash: bool = True) -> None:
    """fusevm sh prints `expected` and exits `status`; dash agrees where installed (unless
    `like_dash` is False: statuses where we follow bash, see docs in the sh frontend)."""
    out, code = run_sh(script, tmp_path, stdin=stdin)
    if DASH is not None and like_dash:
        dash_dir = tmp_path / "dash"
        dash_dir.mkdir()
        d_out, d_code = run_sh(script, dash_dir, shell=[DASH], stdin=stdin)
        assert (out, code) == (d_out, d_code), f"differs from dash for {script!r}"
    if expected is not None:
        assert out == expected
    assert code == status


@pytest.fixture
def sh(tmp_path: Path):  # type: ignore[no-untyped-def]
    def go(script: str, expected: str | None, status: int = 0, stdin: str = "",
           like_dash: bool = True) -> None:
        check(script, expected, status, tmp_path, stdin, like_dash)
    return go


@contextmanager
def counting_compiles() -> Iterator[list[int]]:
    """`with counting_compiles() as compiled:` the sh runtime's `compile_items` appends to
    `compiled` for each command it compiles inside the block."""
    import fusevm.lang.sh.runtime as runtime
    compiled: list[int] = []
    real = runtime.compile_items

    def counting(items, *a, **k):  # type: ignore[no-untyped-def]
        compiled.append(1)
        return real(items, *a, **k)
    runtime.compile_items = counting
    try:
        yield compiled
    finally:
        runtime.compile_items = real
