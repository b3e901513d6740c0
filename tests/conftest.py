"""Shared pytest configuration: hypothesis profiles sized for CI's 2-core machine."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", max_examples=2000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def _tiers_fail_loudly() -> Iterator[None]:
    """A tier that fails to compile raises in tests instead of quietly interpreting."""
    from fusevm.interp import tiers
    tiers.STRICT = True
    yield
    tiers.STRICT = False
