"""The trace tier's short-loop back-off: counters, not timing.

An anchor whose native entries run few trips round the loop is left to the tier below
for a while (`tier.SHORT_TRIPS`), and blacklisted after `tier.SHORT_VERDICTS` such
verdicts in a row; a loop whose trip count grows before that is entered again.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from conftest import requires_llvmlite
from fusevm.jit import get_config, set_config
from fusevm.jit.trace import tier
from fusevm.lang.awk.main import main

pytestmark = requires_llvmlite

PROGRAM = "{ for (j = 1; j <= NF; j++) n += j } END { print n }"
SHORT = "".join(f"{i} {i * 2} x\n" for i in range(400))
LONG = "".join(" ".join(str(i + k) for k in range(60)) + "\n" for i in range(400))


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    tier.reset()
    yield
    tier.reset()


def awk(text: str, jit: bool) -> str:
    old = set_config(get_config().replace(enabled=jit))
    out = io.BytesIO()
    try:
        assert main([PROGRAM], stdin=io.BytesIO(text.encode()), stdout=out,
                    stderr=io.StringIO()) == 0
    finally:
        set_config(old)
    return out.getvalue().decode()


def test_a_short_inner_loop_backs_off() -> None:
    want = awk(SHORT * 5, False)
    tier.reset()
    assert awk(SHORT * 5, True) == want
    s = tier.stats()
    assert s["traces"] == 1
    assert s["short_backoffs"] == tier.SHORT_VERDICTS
    # Backed off, the trace ran only its sampled runs (one entry each), not one per
    # record: after the last verdict its hot point is gone.
    assert s["entries"] == s["loop_exits"] == tier.SHORT_SAMPLE * tier.SHORT_VERDICTS


def test_a_loop_whose_trips_grow_is_entered_again() -> None:
    want = awk(SHORT + LONG, False)
    tier.reset()
    assert awk(SHORT + LONG, True) == want
    s = tier.stats()
    assert s["short_backoffs"] >= 1
    # The long records' loops run natively again: well over the sampling entries.
    assert s["entries"] > tier.SHORT_SAMPLE * s["short_backoffs"] + 200
