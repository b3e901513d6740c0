"""Every core op outside the Shell section is dispatched by at least one test here.

Iterates `fusevm.ops.SECTIONS`, so a new op without an interpreter test fails this check.
It judges only a run of the whole directory (conftest.py moves it to the end).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fusevm.ops import SECTIONS

from .conftest import COLLECTED_IDS
from .support import EXECUTED

HERE = Path(__file__).parent
EXCLUDED_SECTIONS = {"Shell"}


def test_every_core_op_outside_the_shell_section_is_executed_by_an_interp_test(
        request: pytest.FixtureRequest) -> None:
    files = {p.name for p in HERE.glob("test_*.py")}
    collected = request.config.stash.get(COLLECTED_IDS, set())
    ran = {i.nodeid for i in request.session.items}
    collected_files = {i.split("::")[0].rsplit("/", 1)[-1] for i in collected}
    if not files <= collected_files or not collected <= ran:
        pytest.skip("op coverage is judged only when every test file of tests/interp runs")
    required = [op for section, ops in SECTIONS.items() if section not in EXCLUDED_SECTIONS
                for op in ops]
    assert len(required) > 100, "the op table looks truncated"
    missing = [f"{op.spec.section}: {op.name}" for op in required if op not in EXECUTED]
    assert not missing, "ops no test in tests/interp executes:\n  " + "\n  ".join(missing)
