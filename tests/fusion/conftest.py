"""Fusion tests: make the `fusekit` helper importable however pytest imports the modules."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
