"""ShHost: the shell host behind the core shell ops a compiled sh program uses.

`Redirect` queues a redirection for the next command, `WithRedirectsBegin/End` apply
redirections to the shell itself around a compound command, and `CmdSubst` forks a real
subshell whose stdout is captured. `HereDoc` (a constant document) and `HereString` (an
expanded one, whose final newline the host adds back) queue stdin for the next command.
Everything else a shell does runs through the `sh` extension ops (see `ops`), which get
the VM itself.
"""

from __future__ import annotations

import os
from typing import Any

from fusevm.lang.sh import runtime
from fusevm.lang.sh.errors import ShError, ShExit, ShLoopJump, ShReturn
from fusevm.lang.sh.state import DOC, Pending, ShState
from fusevm.shell.redirect import RedirectError


class ShHost:
    """The host protocol methods the sh compiler's output calls."""

    def __init__(self, state: ShState) -> None:
        self.state = state

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
        from fusevm.lang.sh.state import restore
        if self.state.scopes:
            restore(self.state.scopes.pop())

    def cmd_subst(self, sub: Any) -> str:
        st = self.state
        status = runtime.current_status(st)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.dup2(w, 1)
            os.close(w)
            runtime.enter_child(st)
            st.pending.clear()
            st.prefix.clear()
            code = status
            try:
                code = runtime.run_chunk(st, sub, status)
            except ShExit as e:
                code = e.status
            except (ShReturn, ShLoopJump) as e:
                code = e.status
            except ShError as e:
                st.error(e.message)
                code = e.status
            except BaseException:  # noqa: BLE001
                code = 2
            runtime.child_exit(st, code)
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
        st.subst_status = runtime.wait_child(st, pid)
        text = b"".join(chunks).replace(b"\0", b"").decode("utf-8", "surrogateescape")
        return text.rstrip("\n")
