"""`python -m fusevm.sh ARGS...`: POSIX sh on the fusevm VM (same as `fusevm sh`)."""

from __future__ import annotations

import sys

from fusevm.lang.sh.main import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
