"""Fixtures for the shell-layer tests: a PosixHost working inside tmp_path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fusevm.shell.posix import PosixHost

# The test modules import `shellkit` by name; make that work however pytest imports them.
sys.path.insert(0, str(Path(__file__).parent))
from shellkit import text_runner  # noqa: E402


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test with tmp_path as the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def host(in_tmp: Path) -> Iterator[PosixHost]:
    """A PosixHost with the fake text runner bound, cwd = tmp_path; closed afterwards."""
    h = PosixHost(runner=text_runner)
    try:
        yield h
    finally:
        h.close()
