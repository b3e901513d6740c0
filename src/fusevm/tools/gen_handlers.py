"""Writes `fusevm/interp/handlers/generated.py` (its only writer): the interpreter steps of
the ops with a body, from `fusevm.interp.bodies`.

`python -m fusevm.tools.gen_handlers` rewrites the file; `--check` exits 1 when the
checked-in file differs from what it would write (the test suite runs the same comparison).
Run it after changing a body, the op table's entry of an op with a body, or the generator
in `fusevm.interp.handlers.bodies`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fusevm.interp.handlers.bodies import GENERATED, module_source
from fusevm.tools import write_generated

PATH = Path(__file__).resolve().parents[1] / "interp" / "handlers" / f"{GENERATED}.py"


def main(argv: list[str]) -> int:
    return write_generated({PATH: module_source()}, "gen_handlers", argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
