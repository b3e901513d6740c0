"""The shell layer: everything with shell meaning that the VM's shell ops delegate to a host.

Modules: `codes` (the numeric sub-codes of the shell ops), `caps` (capabilities), `host` (the
`ShellHost` protocol), `posix` (`PosixHost`, the default host), `expand` (parameter, brace,
tilde expansion and IFS splitting), `glob` (pattern matching and pathname expansion),
`filetest` (`test -f` and friends), `redirect`, `process` and `traps` (the host's machinery).
This package imports nothing eagerly, so the op table can import `codes` cheaply.
"""
