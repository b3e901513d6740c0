"""JIT tests: the `tier` fixture, a JIT configuration that compiles at once, skips without llvmlite.

Every JIT tier test runs the same chunk in the interpreter (the oracle) and through the tier;
JIT tiers skip with a reason when llvmlite is not installed (D13). `progs` (the program
generator) and `oracle` are made importable however pytest imports these modules.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fusevm.jit import get_config, llvmlite_available, set_config, set_log  # noqa: E402

NO_LLVMLITE = "llvmlite is not installed: the JIT tiers cannot run (D13)"
requires_llvmlite = pytest.mark.skipif(not llvmlite_available(), reason=NO_LLVMLITE)

TIERS = ("interp", "linear", "block")


@pytest.fixture(params=TIERS)
def tier(request: pytest.FixtureRequest) -> str:
    """Each tier in turn; the JIT tiers skip when llvmlite is missing."""
    name: str = request.param
    if name != "interp" and not llvmlite_available():
        pytest.skip(NO_LLVMLITE)
    return name


@pytest.fixture(params=("linear", "block"))
def jit_tier(request: pytest.FixtureRequest) -> str:
    """Each JIT tier (skipped without llvmlite)."""
    if not llvmlite_available():
        pytest.skip(NO_LLVMLITE)
    name: str = request.param
    return name


@pytest.fixture(autouse=True)
def eager_jit() -> Iterator[None]:
    """Compile on the first run, no background re-optimisation, no log; restored after."""
    old = set_config(get_config().replace(block_threshold=0, reopt_after=0, enabled=True))
    set_log(None)
    yield
    set_config(old)
    set_log(None)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Iterator[Path]:
    """A fresh JIT disk cache directory, fresh counters, no compiled units in memory; the
    cache's settings restored after."""
    from fusevm.jit import cache, runtime
    d = tmp_path / "jit-cache"
    cache.set_dir(d)
    cache.STORE.reset()
    runtime.reset()
    yield d
    cache.set_dir(None)
    cache.set_enabled(None)
    cache.STORE.has_max_override = False
    cache.STORE.reset()
    runtime.reset()
