"""`python -m fusevm.awk ARGS...`: POSIX awk on the fusevm VM (same as `fusevm awk`)."""

from __future__ import annotations

import sys

from fusevm.lang.awk.main import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
