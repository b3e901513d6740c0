"""The shell-host protocol (`ShellHost`), its base class with defaults, and the adapter for
hosts written without it.

The VM owns only stack discipline; its shell-op handlers pop values, call one `ShellHost`
method with plain data, and push the answer (docs/shell.md#layers). The host gets no handle to
the VM, so anything that must run VM code (`$(...)`, `<(...)`, trap bodies) goes through a
`ChunkRunner` callback the VM binds to the host. Besides the ops' methods the protocol
declares the few services the VM itself uses (the host's name, its stderr, child hosts, the
runner binding, the VM's `ShellState`); `ShellHostBase` (defined in `fusevm.shell.hostbase`,
re-exported here) gives every member a default, and `as_shell_host` completes a host that
implements only part of the protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

from fusevm.errors import HostError
from fusevm.shell.hostbase import ShellHostBase, chunk_runner
from fusevm.shell.state import ShellState

if TYPE_CHECKING:
    from fusevm.shell.expand import Expansion, ParamValue

__all__ = ["ChunkRef", "ChunkRunner", "ShellHost", "ShellHostBase", "as_shell_host",
           "chunk_runner"]

#: A sub-chunk as the VM hands it over (a `fusevm.chunk.Chunk`); hosts treat it as opaque and
#: only pass it back to their runner.
ChunkRef: TypeAlias = Any


class ChunkRunner(Protocol):
    """Runs a chunk in a child VM and returns its exit status.

    The child's stdout must go to `stdout_fd` and its stdin come from `stdin_fd`; the runner
    must not close either (the host owns and closes them after the call). It is called on the
    host's thread for `$(...)` and trap bodies, and on a worker thread for `<(...)`/`>(...)`,
    whose bodies run concurrently with the consumer; a runner must therefore give the child VM
    a host of its own (for example `PosixHost.child(stdin=..., stdout=...)`), never share
    the calling host. A test may pass a plain function that writes text to `stdout_fd`.
    """

    def __call__(self, chunk: ChunkRef, stdout_fd: int, stdin_fd: int = 0, /) -> int: ...


@runtime_checkable
class ShellHost(Protocol):
    """What a shell host provides: first the methods the shell ops call, one per op or
    family (docs/shell.md#layers), then the services the VM itself uses around them.

    A host may implement it structurally, or derive from `ShellHostBase` for a default of
    every member (a host written against an older, shorter protocol is completed by
    `as_shell_host` when the VM takes it). Every method receives plain Python data (str,
    int, lists of str, chunk references) and returns plain data; statuses are ints (the VM
    wraps them in `Status`). Errors that a shell reports as a status (command not found, a
    failed redirect) come back as statuses with a message on stderr; only misuse of the
    protocol raises (`HostError`), and a withheld capability raises `CapabilityError`
    before any system call.
    """

    def glob(self, pattern: str, recursive: bool) -> list[str]:
        """Pathname expansion: sorted matches, [] when none (Glob / GlobRecursive)."""
        ...

    def tilde_expand(self, s: str) -> str:
        """Expand a leading `~`, `~user`, `~+`, `~-` (TildeExpand)."""
        ...

    def brace_expand(self, s: str) -> list[str]:
        """Brace-expand one word (BraceExpand)."""
        ...

    def word_split(self, s: str, ifs: str | None = None) -> list[str]:
        """IFS field splitting; `ifs` None means the host's current IFS (WordSplit)."""
        ...

    def expand_param(
        self,
        name: str,
        modifier: int,
        args: Sequence[object],
        *,
        value: ParamValue = None,
        is_set: bool | None = None,
        lookup: Callable[[str], ParamValue] | None = None,
    ) -> Expansion:
        """`${name<modifier>args}` (ExpandParam).

        The VM owns the variables, so it passes the variable's current `value` (None or Undef
        when unset; a list or dict in array context) and, for `${!v}`, a `lookup` that reads
        another variable. The result says what to push, what to assign first (`${v:=w}`) and
        whether the expansion failed (`${v:?msg}`); see `Expansion`.
        """
        ...

    def cmd_subst(self, sub: ChunkRef) -> str:
        """Run `sub`, return its stdout minus all trailing newlines (CmdSubst)."""
        ...

    def process_sub_in(self, sub: ChunkRef) -> str:
        """Start `sub` with its stdout on a pipe; return a path that reads it (`<(...)`)."""
        ...

    def process_sub_out(self, sub: ChunkRef) -> str:
        """Start `sub` with its stdin on a pipe; return a path that writes it (`>(...)`)."""
        ...

    def redirect(self, fd: int, kind: int, target: str) -> None:
        """Queue a redirection (a `Redir` code) for the next command (Redirect)."""
        ...

    def heredoc(self, content: str) -> None:
        """Make `content` the stdin of the next command (HereDoc)."""
        ...

    def herestring(self, content: str) -> None:
        """Make `content` plus a newline the stdin of the next command (HereString)."""
        ...

    def pipeline_begin(self, n: int) -> None:
        """Open a pipeline of `n` stages (PipelineBegin)."""
        ...

    def pipeline_stage(self) -> None:
        """Move to the next stage of the open pipeline (PipelineStage)."""
        ...

    def pipeline_end(self) -> int:
        """Wait for the pipeline; its status (PipelineEnd)."""
        ...

    def subshell_begin(self) -> None:
        """Snapshot the shell state for `( ... )` (SubshellBegin)."""
        ...

    def subshell_end(self) -> int | None:
        """Restore the snapshot; the subshell's exit status if it ended by `exit`."""
        ...

    def trap_set(self, sig: str, handler: ChunkRef) -> None:
        """Run `handler` when signal `sig` arrives (TrapSet)."""
        ...

    def trap_check(self) -> list[ChunkRef]:
        """The handler chunks due to run, in arrival order (TrapCheck); the VM runs them."""
        ...

    def with_redirects_begin(self, n: int) -> None:
        """Apply the last `n` queued redirections to the commands until the matching end."""
        ...

    def with_redirects_end(self) -> None:
        """Undo the innermost `with_redirects_begin`."""
        ...

    def call_function(self, name: str, args: list[str]) -> int | None:
        """Run shell function `name`; None if the host has no such function (CallFunction)."""
        ...

    def exec(self, argv: list[str]) -> int:
        """Run a command and wait; its status (Exec)."""
        ...

    def exec_bg(self, argv: list[str]) -> int:
        """Start a command in the background; its pid, or 0 if it could not start."""
        ...

    def str_match(self, s: str, pattern: str) -> bool:
        """Whole-string shell pattern match (StrMatch)."""
        ...

    def regex_match(self, s: str, regex: str) -> bool:
        """Unanchored POSIX ERE search (RegexMatch)."""
        ...

    # -- Services the VM uses around the ops ------------------------------------------------

    @property
    def name(self) -> str:
        """The prefix of the host's error messages (`fusevm: x: command not found`)."""
        ...

    @property
    def stderr_fd(self) -> int:
        """The fd the host's commands and error messages write to as stderr."""
        ...

    @property
    def last_subst_status(self) -> int | None:
        """The status of the last `cmd_subst` body, which becomes `$?`; None: not known."""
        ...

    def bind_runner(self, runner: ChunkRunner) -> None:
        """Install the callback that runs sub-chunks; the VM binds a fresh one before each
        substitution op, carrying the variables and `$?` of that moment."""
        ...

    def child(self, *, stdin: int | None = None, stdout: int | None = None) -> ShellHost:
        """A host for a sub-chunk's child VM, with its stdin/stdout on the given fds and an
        fd table of its own (it may run on another thread); the runner closes it."""
        ...

    def new_shell_state(self) -> ShellState:
        """A `ShellState` for a VM that starts running shell ops with this host."""
        ...

    def close(self) -> None:
        """Release what the host holds (pipes, traps, background jobs)."""
        ...


class _Completed(ShellHostBase):
    """A host that implements only part of the protocol, completed with the base's
    defaults: every member the host has is its own (read, written and called through),
    the others are `ShellHostBase`'s."""

    __slots__ = ("host",)

    def __init__(self, host: object) -> None:
        object.__setattr__(self, "host", host)

    def __getattribute__(self, name: str) -> Any:
        if name != "host" and not name.startswith("_"):
            host = object.__getattribute__(self, "host")
            try:
                return getattr(host, name)
            except AttributeError:
                pass
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "host"), name, value)

    def _unsupported(self, what: str) -> HostError:
        host = object.__getattribute__(self, "host")
        return HostError(f"the shell host {type(host).__name__} does not support {what}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {object.__getattribute__(self, 'host')!r}>"


def as_shell_host(host: object) -> ShellHost:
    """`host` itself when it has every `ShellHost` member (a `ShellHostBase` always does),
    else `host` completed with the base class's defaults for the members it lacks.

    This is the one place that asks a host what it has; everything after it calls the
    protocol's members directly.
    """
    if isinstance(host, (ShellHostBase, ShellHost)):
        return host  # type: ignore[return-value]
    return _Completed(host)


if TYPE_CHECKING:
    # mypy proves here that the base class satisfies the protocol.
    _CONFORMS: ShellHost = ShellHostBase()
