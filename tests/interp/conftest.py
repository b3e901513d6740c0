"""Records which core ops the tests in this directory dispatch, for test_op_coverage.py.

While a test here runs, VM.prepare wraps every step so that executing an op adds it to
`support.EXECUTED`. The coverage test is moved to the end of the run and only judges a
run that collected every test file of this directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fusevm.interp.vm import VM

from .support import EXECUTED

HERE = Path(__file__).parent
COVERAGE_TEST = "test_op_coverage.py"
COLLECTED_IDS = pytest.StashKey[set[str]]()

_original_prepare = VM.prepare


def _recording(step: Any, op: Any) -> Any:
    def record() -> int:
        EXECUTED.add(op)
        return step()
    return record


def _recording_prepare(self: VM) -> Any:
    if self._code is None:
        code = _original_prepare(self)
        self._code = [_recording(s, instr[0]) for s, instr in zip(code, self.chunk.ops)]
    return self._code


@pytest.fixture(autouse=True)
def record_executed_ops(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(VM, "prepare", _recording_prepare)
    # These tests are the interpreter's (the oracle every tier is compared with): the
    # baseline tier, which runs ops without their steps, is compared in tests/baseline.
    from fusevm.interp import tiers
    monkeypatch.setattr(tiers, "attach_default", lambda vm: None)
    yield


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Note which test files of this directory were collected, before any deselection."""
    ids = {i.nodeid for i in items if Path(str(i.path)).parent == HERE}
    config.stash[COLLECTED_IDS] = config.stash.get(COLLECTED_IDS, set()) | ids


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Run the op coverage check after every other test."""
    items = session.items
    last = [i for i in items if Path(str(i.path)).name == COVERAGE_TEST]
    if last:
        items[:] = [i for i in items if i not in last] + last
