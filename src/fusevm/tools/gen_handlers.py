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

PATH = Path(__file__).resolve().parents[1] / "interp" / "handlers" / f"{GENERATED}.py"


def main(argv: list[str]) -> int:
    text = module_source()
    if "--check" in argv:
        current = PATH.read_text(encoding="utf-8") if PATH.exists() else ""
        if current != text:
            print(f"{PATH} is out of date: run python -m fusevm.tools.gen_handlers",
                  file=sys.stderr)
            return 1
        return 0
    PATH.write_text(text, encoding="utf-8")
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
