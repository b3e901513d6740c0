"""Developer tools that derive files from the op table, and the one way they write them."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def write_generated(files: dict[Path, str], tool: str, argv: list[str]) -> int:
    """Write each generated file, or with `--check` in `argv` report (on stderr) those that
    differ from what would be written; the exit status (1: some file is out of date)."""
    if "--check" in argv:
        stale = [path for path, text in files.items()
                 if not path.exists() or path.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"{path} is out of date: run python -m fusevm.tools.{tool}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0
