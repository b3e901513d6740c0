"""Shared pytest configuration: hypothesis profiles sized for CI's 2-core machine, and a
JIT disk cache in a temporary directory for the whole session (never the user's ~/.cache).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Set before anything reads the JIT configuration; subprocesses inherit it.
_CACHE_DIR = tempfile.mkdtemp(prefix="fusevm-test-cache-")
os.environ["FUSEVM_JIT_CACHE_DIR"] = _CACHE_DIR
atexit.register(shutil.rmtree, _CACHE_DIR, True)

settings.register_profile(
    "ci", max_examples=100, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", max_examples=2000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def _tiers_fail_loudly() -> Iterator[None]:
    """A tier that fails to compile raises in tests instead of quietly interpreting.

    The tiers' deciding modules are loaded first, as after any earlier test: a process
    that has not loaded them decides later (a first look waits for what loading them
    costs), which a test should see only in a fresh process of its own, not depending on
    which tests ran before it."""
    import fusevm.baseline.compiler  # noqa: F401
    import fusevm.jit.plan  # noqa: F401
    from fusevm.interp import tiers
    tiers.STRICT = True
    yield
    tiers.STRICT = False
