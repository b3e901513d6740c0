"""ShHost: the shell host behind the core shell ops a compiled sh program uses.

`Redirect` queues a redirection for the next command, `WithRedirectsBegin/End` apply
redirections to the shell itself around a compound command, and `CmdSubst` forks a real
subshell whose stdout is captured. `HereDoc` (a constant document) and `HereString` (an
expanded one, whose final newline the host adds back) queue stdin for the next command.
Everything else a shell does runs through the `sh` extension ops (see `ops`), which get
the VM itself. What the `$(...)` child runs is passed in by `runtime`, which makes the VMs
and sits above this module; a `$(...)` that is one program is started without a fork by
`stages` (`start_subst`, which `ops` registers).
"""

from __future__ import annotations

import os

from fusevm.chunk import Chunk
from fusevm.lang.sh.state import (
    DOC,
    Pending,
    ShState,
    move_fd,
    new_pipe,
    restore,
    wait_child,
)
from fusevm.shell import RedirectError
from fusevm.shell import text as shtext
from fusevm.shell.hostbase import ShellHostBase

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    from fusevm.lang.sh.stages import Done

#: `run_subshell(state, chunk, status)`: in a forked child, run the chunk with `$?` =
#: status and exit with its status.
if TYPE_CHECKING:
    SubshellRunner = Callable[[ShState, Chunk, int], NoReturn]
    #: `start_subst(state, chunk, status, out, close)`: start `$(chunk)` with `$?` =
    #: status and its stdout on fd `out` (`close`: the pipe's read end, for a forked
    #: child to close) from this process; its pid (`Done` when the shell ran it itself),
    #: or None when it must fork.
    SubstStarter = Callable[[ShState, Chunk, int, int, int], int | Done | None]


class ShHost(ShellHostBase):
    """The host protocol methods the sh compiler's output calls; the base class answers
    the rest (it ignores the VM's sub-chunk runner: `$(...)` forks here)."""

    #: Registered by `ops` (`stages` sits above `runtime`, which makes the hosts).
    start_subst: SubstStarter | None = None

    def __init__(self, state: ShState, run_subshell: SubshellRunner) -> None:
        self.state = state
        self.run_subshell = run_subshell

    def redirect(self, fd: int, kind: int, target: str) -> None:
        self.state.pending.append(Pending(fd, int(kind), target))

    def heredoc(self, content: str) -> None:
        self.state.pending.append(Pending(0, DOC, content))

    def herestring(self, content: str) -> None:
        self.state.pending.append(Pending(0, DOC, content + "\n"))

    def with_redirects_begin(self, n: int) -> None:
        st = self.state
        redirs = st.pending[-n:] if n else []
        del st.pending[len(st.pending) - n:]
        st.redir_failed = False
        try:
            st.scopes.append(st.apply(redirs, save=True))
        except RedirectError as e:
            st.error(str(e))
            st.redir_failed = True

    def with_redirects_end(self) -> None:
        if self.state.scopes:
            restore(self.state.scopes.pop())

    def cmd_subst(self, sub: Any) -> str:
        st = self.state
        status = st.status()
        r, w = new_pipe()
        start = ShHost.start_subst
        pid = None if start is None else start(st, sub, status, w, r)
        if pid is None:
            pid = os.fork()
            if pid == 0:
                os.close(r)
                move_fd(w, 1)
                self.run_subshell(st, sub, status)
        os.close(w)
        chunks: list[bytes] = []
        while True:
            try:
                data = os.read(r, 65536)
            except InterruptedError:
                continue
            if not data:
                break
            chunks.append(data)
        os.close(r)
        st.subst_status = wait_child(pid)
        text = shtext.decode(b"".join(chunks).replace(b"\0", b""))
        return text.rstrip("\n")
