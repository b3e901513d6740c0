"""The shell layer: everything with shell meaning that the VM's shell ops delegate to a host.

Modules: `state` (`ShellState`: a VM's shell variables by name, subshell saves, sub-chunk
runner), `protocol` (the `ShellHost` protocol, `ShellHostBase`), `posix` (`PosixHost`, the
default host), `host` (those names in one place), `caps` (capabilities), `expand`
(parameter, brace, tilde expansion and IFS splitting), `glob` (pattern matching and
pathname expansion), `filetest` (`test -f` and friends), `redirect`, `process`, `subst` and
`traps` (the host's machinery), `text` (bytes to the shell's characters, per the locale).
The shell ops' codes live in `fusevm.ops.shell_codes`. This package imports nothing
eagerly and nothing of the VM.

`RedirectError` (what `redirect` raises) is defined here, so that code catching it (the
`sh` frontend's runtime, builtins and host) does not load the redirection machinery: a
script with no redirection never needs it.
"""


class RedirectError(Exception):
    """A redirection could not be applied; str(err) is the `target: reason` message."""
