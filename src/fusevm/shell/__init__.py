"""The shell layer: everything with shell meaning that the VM's shell ops delegate to a host.

Modules: `state` (`ShellState`: a VM's shell variables by name, subshell saves, sub-chunk
runner), `protocol` (the `ShellHost` protocol, `ShellHostBase`), `posix` (`PosixHost`, the
default host), `host` (those names in one place), `caps` (capabilities), `expand`
(parameter, brace, tilde expansion and IFS splitting), `glob` (pattern matching and
pathname expansion), `filetest` (`test -f` and friends), `redirect`, `process`, `subst` and
`traps` (the host's machinery). The shell ops' codes live in `fusevm.ops.shell_codes`.
This package imports nothing eagerly and nothing of the VM.
"""
