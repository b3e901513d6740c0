"""`python -m fusevm`: the same as the `fusevm` command."""

from fusevm.cli import entry

entry()
