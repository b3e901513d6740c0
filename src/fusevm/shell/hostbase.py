"""`ShellHostBase`, every `ShellHost` member with a default, and `chunk_runner`, the runner
the VM binds to a host.

The protocol itself (`ShellHost`, `ChunkRunner`, `ChunkRef`) and `as_shell_host` are in
`fusevm.shell.protocol`, which re-exports these names. They live apart because a
run-time-checkable Protocol needs `typing` at run time, which would cost every `fusevm sh`
its import: the shell's own host derives from `ShellHostBase`, and the VM checks a host
against the protocol only when it does not.
"""

from __future__ import annotations

import os

from fusevm.errors import HostError
from fusevm.shell.state import ShellState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from fusevm.shell.expand import Expansion, ParamValue
    from fusevm.shell.protocol import ChunkRef, ChunkRunner, ShellHost

__all__ = ["ShellHostBase", "chunk_runner"]


class ShellHostBase:
    """A base class for hosts: every `ShellHost` member, with a default.

    The op methods raise `HostError` naming the op the host does not support (a frontend
    whose compiler emits only some shell ops implements only those). The services default
    to: name `fusevm`, stderr on fd 2, no substitution status, a runner binding that is
    ignored (for a host that runs substitutions its own way), no child hosts, a plain
    `ShellState`, and nothing to close.
    """

    name: str = "fusevm"
    #: None: the host does not report the status of its substitution bodies.
    last_subst_status: int | None = None

    def _unsupported(self, what: str) -> HostError:
        return HostError(f"the shell host {type(self).__name__} does not support {what}")

    def glob(self, pattern: str, recursive: bool) -> list[str]:
        """Not supported: raises HostError."""
        raise self._unsupported("pathname expansion (Glob)")

    def tilde_expand(self, s: str) -> str:
        """Not supported: raises HostError."""
        raise self._unsupported("tilde expansion (TildeExpand)")

    def brace_expand(self, s: str) -> list[str]:
        """Not supported: raises HostError."""
        raise self._unsupported("brace expansion (BraceExpand)")

    def word_split(self, s: str, ifs: str | None = None) -> list[str]:
        """Not supported: raises HostError."""
        raise self._unsupported("field splitting (WordSplit)")

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
        """Not supported: raises HostError."""
        raise self._unsupported("parameter expansion (ExpandParam)")

    def cmd_subst(self, sub: ChunkRef) -> str:
        """Not supported: raises HostError."""
        raise self._unsupported("command substitution (CmdSubst)")

    def process_sub_in(self, sub: ChunkRef) -> str:
        """Not supported: raises HostError."""
        raise self._unsupported("process substitution (ProcessSubIn)")

    def process_sub_out(self, sub: ChunkRef) -> str:
        """Not supported: raises HostError."""
        raise self._unsupported("process substitution (ProcessSubOut)")

    def redirect(self, fd: int, kind: int, target: str) -> None:
        """Not supported: raises HostError."""
        raise self._unsupported("redirections (Redirect)")

    def heredoc(self, content: str) -> None:
        """Not supported: raises HostError."""
        raise self._unsupported("here-documents (HereDoc)")

    def herestring(self, content: str) -> None:
        """Not supported: raises HostError."""
        raise self._unsupported("here-strings (HereString)")

    def pipeline_begin(self, n: int) -> None:
        """Not supported: raises HostError."""
        raise self._unsupported("pipelines (PipelineBegin)")

    def pipeline_stage(self) -> None:
        """Not supported: raises HostError."""
        raise self._unsupported("pipelines (PipelineStage)")

    def pipeline_end(self) -> int:
        """Not supported: raises HostError."""
        raise self._unsupported("pipelines (PipelineEnd)")

    def subshell_begin(self) -> None:
        """Not supported: raises HostError."""
        raise self._unsupported("subshells (SubshellBegin)")

    def subshell_end(self) -> int | None:
        """Not supported: raises HostError."""
        raise self._unsupported("subshells (SubshellEnd)")

    def trap_set(self, sig: str, handler: ChunkRef) -> None:
        """Not supported: raises HostError."""
        raise self._unsupported("traps (TrapSet)")

    def trap_check(self) -> list[ChunkRef]:
        """No traps: nothing is ever due."""
        return []

    def with_redirects_begin(self, n: int) -> None:
        """Not supported: raises HostError."""
        raise self._unsupported("redirection scopes (WithRedirectsBegin)")

    def with_redirects_end(self) -> None:
        """Not supported: raises HostError."""
        raise self._unsupported("redirection scopes (WithRedirectsEnd)")

    def call_function(self, name: str, args: list[str]) -> int | None:
        """No shell functions: None, so the VM tries a builtin, then a command."""
        return None

    def exec(self, argv: list[str]) -> int:
        """Not supported: raises HostError."""
        raise self._unsupported(f"running commands (Exec {argv[0]!r})")

    def exec_bg(self, argv: list[str]) -> int:
        """Not supported: raises HostError."""
        raise self._unsupported(f"background commands (ExecBg {argv[0]!r})")

    def str_match(self, s: str, pattern: str) -> bool:
        """Not supported: raises HostError."""
        raise self._unsupported("pattern matching (StrMatch)")

    def regex_match(self, s: str, regex: str) -> bool:
        """Not supported: raises HostError."""
        raise self._unsupported("regex matching (RegexMatch)")

    @property
    def stderr_fd(self) -> int:
        """Fd 2."""
        return 2

    def bind_runner(self, runner: ChunkRunner) -> None:
        """Ignored: a host that runs sub-chunks through the VM overrides this."""

    def child(self, *, stdin: int | None = None, stdout: int | None = None) -> ShellHost:
        """Not supported: raises HostError."""
        raise self._unsupported("child hosts for sub-chunks")

    def new_shell_state(self) -> ShellState:
        """A plain `ShellState`."""
        return ShellState()

    def close(self) -> None:
        """Nothing to release."""


def chunk_runner(state: ShellState, host: ShellHost, status: int) -> ChunkRunner:
    """The runner the VM binds to `host` (`bind_runner`) before a substitution op: it runs
    sub-chunks through `state` with their stdio on fds.

    It carries the variables and `$?` (`status`) as of now, so a `<(...)` body that starts
    later on a worker thread still sees the values at the time of the op. Each sub-chunk
    runs in a child VM with a child host of its own (`host.child`), so the commands it runs
    write to the capture pipe and a body on a worker thread shares no fd table with the
    VM. A shell error in the body (`${v:?msg}`) ends only that subshell: its message goes
    to the child host's stderr and its status is 1, as in a shell.
    """
    variables = state.variables()

    def runner(chunk: ChunkRef, stdout_fd: int, stdin_fd: int = 0, /) -> int:
        child_host = host.child(stdin=stdin_fd, stdout=stdout_fd)
        out = open(stdout_fd, "w", encoding="utf-8", errors="surrogateescape", closefd=False)
        try:
            return state.run_sub_chunk(chunk, out, child_host, variables=variables,
                                       status=status)
        except HostError as exc:
            message = f"{host.name}: {exc.message}\n"
            try:
                os.write(child_host.stderr_fd, message.encode(errors="surrogateescape"))
            except OSError:
                pass
            return 1
        finally:
            out.flush()
            child_host.close()  # the subshell is over: reap what it left running

    return runner
