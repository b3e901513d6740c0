"""Writes `fusevm/interp/handlers/generated*.py` (their only writer): the interpreter steps
of the ops with a body, from `fusevm.interp.bodies`, one module per op-table section, and
their index `generated.py`.

`python -m fusevm.tools.gen_handlers` rewrites the files; `--check` exits 1 when a
checked-in file differs from what it would write (the test suite runs the same comparison).
Run it after changing a body, the op table's entry of an op with a body, or the generator
in `fusevm.interp.handlers.bodies`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fusevm.interp.handlers.bodies import module_sources
from fusevm.tools import write_generated

#: The directory of the generated modules (the handlers package).
DIR = Path(__file__).resolve().parents[1] / "interp" / "handlers"


def files() -> dict[Path, str]:
    """The text of each generated file by path."""
    return {DIR / f"{name}.py": text for name, text in module_sources().items()}


def main(argv: list[str]) -> int:
    return write_generated(files(), "gen_handlers", argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
