"""The shell-host protocol and the default host, under one name.

`ShellHost` (the protocol), `ShellHostBase` (its defaults), `as_shell_host`,
`chunk_runner`, `ChunkRunner` and `ChunkRef` are defined in `fusevm.shell.protocol`;
`PosixHost`, the default host (D12), in `fusevm.shell.posix`; `ShellState`, the shell
state a host makes for each VM, in `fusevm.shell.state`. See docs/shell.md#layers.
"""

from __future__ import annotations

from fusevm.shell.expand import Expansion, ParamValue
from fusevm.shell.posix import PosixHost
from fusevm.shell.protocol import (
    ChunkRef,
    ChunkRunner,
    ShellHost,
    ShellHostBase,
    as_shell_host,
    chunk_runner,
)
from fusevm.shell.state import ShellState

__all__ = ["ChunkRef", "ChunkRunner", "Expansion", "ParamValue", "PosixHost", "ShellHost",
           "ShellHostBase", "ShellState", "as_shell_host", "chunk_runner"]
