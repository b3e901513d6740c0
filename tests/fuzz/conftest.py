"""Makes `targets` importable by name, however pytest imports the fuzz tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
