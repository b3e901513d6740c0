"""Developer tools that derive files from the op table, and the one way they write them."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


#: Modules that run a program when imported (`python -m` entry points).
_ENTRY_POINTS = ("fusevm.__main__",)


def import_package() -> None:
    """Import every module of the package (what a generator reads is registered as they
    load: record classes, extension sets, lowering rules).

    Raises:
        ModuleNotFoundError: a module of the package cannot be imported here (generated
            files are written where all of them can: with llvmlite installed).
    """
    import importlib
    import pkgutil

    import fusevm
    for info in pkgutil.walk_packages(fusevm.__path__, "fusevm."):
        if info.name not in _ENTRY_POINTS:
            importlib.import_module(info.name)


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
