"""Helpers for running fusevm awk in-process (and gawk, when installed) in tests."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

import pytest

from fusevm.lang.awk.main import main

GAWK = shutil.which("gawk")
needs_gawk = pytest.mark.skipif(GAWK is None, reason="gawk is not installed")
SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def run(args: Sequence[str], stdin: str = "") -> tuple[int, str, str]:
    """(status, stdout, stderr) of `awk ARGS` run in this process."""
    out = io.BytesIO()
    err = io.StringIO()
    rc = main(list(args), stdin=io.BytesIO(stdin.encode("latin-1")), stdout=out, stderr=err)
    return rc, out.getvalue().decode("latin-1"), err.getvalue()


def awk(program: str, stdin: str = "", *args: str) -> str:
    """stdout of `awk [args] program` on stdin; fails the test on a non-zero status."""
    rc, out, err = run([*args, program], stdin)
    assert rc == 0, err
    return out


def awk_proc(args: Sequence[str], stdin: str = "", cwd: str | None = None
             ) -> subprocess.CompletedProcess[bytes]:
    """Run `python -m fusevm.awk ARGS` as a process (for pipes, system, exit status)."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC), LC_ALL="C")
    return subprocess.run([sys.executable, "-m", "fusevm.awk", *args], input=stdin.encode(),
                          capture_output=True, env=env, cwd=cwd, timeout=60)


def gawk(program: str, stdin: str = "", *args: str) -> str:
    """stdout of `gawk --posix [args] program` (C locale)."""
    assert GAWK is not None
    env = dict(os.environ, LC_ALL="C")
    r = subprocess.run([GAWK, "--posix", *args, program], input=stdin.encode("latin-1"),
                       capture_output=True, env=env, timeout=30)
    return r.stdout.decode("latin-1")
