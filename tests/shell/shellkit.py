"""Helpers shared by the shell-layer tests (imported by name; pytest puts this directory on
sys.path): a fake chunk runner and a way to ask a real `bash --posix` for expected output."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

BASH = shutil.which("bash")

_SKIP_NO_BASH = pytest.mark.skipif(BASH is None, reason="bash is not installed")

F = TypeVar("F", bound=Callable[..., object])


def needs_bash(fn: F) -> F:
    """Mark a test that compares with a real bash: skipped without bash, and a `process`
    test (it spawns bash)."""
    marked: F = pytest.mark.process(_SKIP_NO_BASH(fn))
    return marked


def text_runner(chunk: object, stdout_fd: int, stdin_fd: int = 0) -> int:
    """A fake ChunkRunner: the 'chunk' is a str written to stdout. A trailing '#status=N'
    is cut off and returned as the status (default 0)."""
    text = str(chunk)
    status = 0
    if "#status=" in text:
        text, _, code = text.rpartition("#status=")
        status = int(code)
    data = text.encode()
    while data:
        data = data[os.write(stdout_fd, data):]
    return status


def run_bash(script: str, *args: str, cwd: str | Path | None = None,
             options: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run `bash --posix [options] -c script sh args...`, capturing text output."""
    assert BASH is not None
    return subprocess.run([BASH, "--posix", *options, "-c", script, "sh", *args],
                          capture_output=True, text=True, timeout=30, check=False, cwd=cwd)


def split_records(out: str, sep: str = "\x1e") -> list[str]:
    """Split output made of records each terminated by `sep`."""
    return out.split(sep)[:-1]


def read(path: str | Path) -> str:
    return Path(path).read_text()
