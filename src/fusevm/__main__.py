"""`python -m fusevm`: the same as the `fusevm` command."""

import sys

from fusevm.cli import main

sys.exit(main())
