"""`python -m fusevm.sh ARGS...`: POSIX sh on the fusevm VM (same as `fusevm sh`)."""

from __future__ import annotations

import sys

from fusevm import entry

if __name__ == "__main__":
    entry.pause_collector()  # while the frontend loads (see fusevm.entry)

from fusevm.lang.sh.main import main  # noqa: E402

if __name__ == "__main__":
    entry.program_starts()
    entry.exit_process(main(sys.argv[1:]))
