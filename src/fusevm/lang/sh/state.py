"""ShState: everything a running shell owns (variables, positional parameters, functions,
options, traps, jobs, queued redirections), its start-up values, what a forked subshell
resets, and in-process redirection with save/restore.

One ShState exists per shell process; a forked subshell inherits a copy of it through
fork, which is what makes `( ... )`, pipeline stages and `$(...)` real subshell
environments.
"""

from __future__ import annotations

import os

from fusevm.lang.sh.errors import ShError
from fusevm.records import dataclass, field
from fusevm.shell import RedirectError, process
from fusevm.shell import csignal as signal
from fusevm.shell import text as shtext
from fusevm.values import decimal64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.lang.sh.stages import Done

DOC: Final = -1  # pseudo redirect kind: a here-document; target is its text
OPTION_LETTERS: Final = "efuxnvCa"
#: `set -o NAME`: each option's key in `ShState.opts`, its letter where it has one
#: (`pipefail`, POSIX.1-2024, has none).
LONG_OPTIONS: Final = {
    "errexit": "e", "noglob": "f", "nounset": "u", "xtrace": "x", "noexec": "n",
    "verbose": "v", "noclobber": "C", "allexport": "a", "pipefail": "pipefail",
}
#: `set -o NAME` names taken and ignored: other shells' options for interactive use (job
#: control, line editing, history) and bash's `posix`, which scripts set.
IGNORED_OPTIONS: Final = frozenset(("nolog", "emacs", "vi", "notify", "monitor",
                                    "ignoreeof", "posix"))


#: Variables whose assignment does more than store the value (`ShState.set`; the hot ops
#: store straight into `vars` for any other name when it is not read-only and `set -a` is
#: off).
WATCHED: Final = frozenset(("OPTIND", "PATH"))
#: `ShState.getopts_pos` after `set --`: the next `getopts` starts over.
GETOPTS_RESTART: Final = 0


@dataclass(slots=True)
class Pending:
    fd: int
    kind: int
    target: str


@dataclass(slots=True)
class ShState:
    # never rebound (nor `readonly`, `opts`): prepared steps hold them
    vars: dict[str, str] = field(default_factory=dict)
    #: The number a variable's value stands for, as the loop ops last wrote or read it:
    #: name -> (text, n), where text is n in decimal (so `$(( ))` and `test` both read it
    #: as n). It holds while the variable still holds that very string object (`is`): a
    #: pure cache, which no other write to the variable needs to invalidate, and which
    #: spares a counter's str -> int conversion on every read. One entry per name at most.
    numbers: dict[str, tuple[str, int]] = field(default_factory=dict)
    exported: set[str] = field(default_factory=set)
    readonly: set[str] = field(default_factory=set)
    positional: list[str] = field(default_factory=list)
    arg0: str = "sh"
    functions: dict[str, Any] = field(default_factory=dict)
    opts: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(LONG_OPTIONS.values(),
                                                                        False))
    traps: dict[str, str] = field(default_factory=dict)  # "EXIT" or signal name -> action
    pending_signals: list[str] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    prefix: list[tuple[str, str]] = field(default_factory=list)
    subst_status: int | None = None
    lineno: int = 0
    main_pid: int = field(default_factory=os.getpid)
    in_child: bool = False
    last_bg: int | None = None
    jobs: dict[int, int | None] = field(default_factory=dict)
    scopes: list[list[tuple[int, int | None]]] = field(default_factory=list)
    redir_failed: bool = False
    locals: list[dict[str, tuple[str | None, bool]]] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    func_depth: int = 0
    #: `eval`, `.` and trap actions running, one inside another (`runtime.eval_text`).
    eval_depth: int = 0
    interactive: bool = False
    name: str = "sh"
    vms: list[Any] = field(default_factory=list)
    #: Where `getopts` is in the current option word (1: at its first letter), or
    #: GETOPTS_RESTART: the next `getopts` starts at the first parameter whatever OPTIND
    #: says (new positional parameters, as dash does; the variable itself keeps its value).
    getopts_pos: int = 1
    trap_depth: int = 0
    errexit_off: int = 0
    exit_traps_run: bool = False
    hashed: dict[str, str] = field(default_factory=dict)
    prefix_saved: list[tuple[str, str | None, bool]] = field(default_factory=list)
    shown_traps: dict[str, str] = field(default_factory=dict)
    #: Signals ignored when the shell started: `trap` leaves them ignored (POSIX, dash).
    ignored_on_entry: set[int] = field(default_factory=set)
    loop_depth: int = 0
    cur_assigns: list[tuple[str, str]] = field(default_factory=list)
    job_text: str = ""
    job_texts: dict[int, str] = field(default_factory=dict)
    job_order: list[int] = field(default_factory=list)
    cd_print: bool = False

    def status(self) -> int:
        """`$?` of the innermost running chunk (0 outside any)."""
        return self.vms[-1].last_status if self.vms else 0

    # -- variables -----------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        return self.vars.get(name)

    def set(self, name: str, value: str) -> None:
        if name in self.readonly:
            raise ShError(f"{name}: is read only", 1)
        self.vars[name] = value
        if self.opts["a"]:
            self.exported.add(name)
        if name in WATCHED:
            if name == "OPTIND":
                self.getopts_pos = 1
            else:
                self.hashed.clear()

    def unset(self, name: str) -> None:
        if name in self.readonly:
            raise ShError(f"{name}: is read only", 1)
        self.vars.pop(name, None)
        self.exported.discard(name)

    def environ(self, extra: list[tuple[str, str]] = ()) -> dict[str, str]:  # type: ignore[assignment]
        env = {k: self.vars[k] for k in self.exported if k in self.vars}
        for k, v in extra:
            env[k] = v
        return env

    def option_string(self) -> str:
        s = "".join(c for c in OPTION_LETTERS if self.opts[c])
        if self.interactive:
            s += "i"
        return s

    @property
    def ifs(self) -> str | None:
        return self.vars.get("IFS")

    # -- output --------------------------------------------------------------------------

    def error(self, message: str) -> None:
        """`sh: LINE: message` on stderr (lost, as in dash, when stderr is closed)."""
        try:
            write(2, f"{self.name}: {self.lineno}: {message}\n")
        except OSError:
            pass

    def report(self, e: ShError) -> None:
        """An error's message, written once (see `ShError.reported`)."""
        if not e.reported:
            e.reported = True
            self.error(e.message)

    # -- redirections -----------------------------------------------------------------------

    def take_pending(self) -> list[Pending]:
        p, self.pending = self.pending, []
        return p

    def apply(self, redirs: list[Pending], save: bool) -> list[tuple[int, int | None]]:
        """Apply redirections to this process; the saved fds (fd, copy or None if it was
        closed) for `restore`. On failure everything applied so far is undone.

        Raises:
            RedirectError: a file could not be opened or an fd is bad.
        """
        saved: list[tuple[int, int | None]] = []
        try:
            for r in redirs:
                if save:
                    saved.append((r.fd, _save(r.fd)))
                _apply_one(r, self.opts["C"])
        except RedirectError:
            restore(saved)
            raise
        return saved

    def apply_for_command(self, redirs: list[Pending], stdio: tuple[tuple[int, int], ...] = ()
                          ) -> list[tuple[int, int | None]] | None:
        """Apply the redirections of a command this process starts, after `stdio` ((fd,
        target fd) pairs: a pipeline stage's pipe ends), all saved for `restore` once it
        is started. A failure's message is written with the redirections before it still
        in effect, where a forked child applying them writes it (`2>/dev/null >/no/such`
        says nothing); everything is then undone and None returned."""
        saved: list[tuple[int, int | None]] = []
        for fd, target in stdio:
            saved.append((target, _save(target)))
            put_fd(fd, target)
        try:
            for r in redirs:
                saved.append((r.fd, _save(r.fd)))
                _apply_one(r, self.opts["C"])
        except RedirectError as e:
            self.error(str(e))
            restore(saved)
            return None
        return saved


def new_state() -> ShState:
    """A shell's state at start-up: the process environment exported, IFS, PS4, OPTIND,
    PPID and PWD set, and PATH when the environment has none (the default search path,
    not exported, as dash does)."""
    s = ShState()
    for k, v in os.environ.items():
        k = shtext.from_os(k)
        s.vars[k] = shtext.from_os(v)
        s.exported.add(k)
    s.vars["IFS"] = " \t\n"
    s.vars.setdefault("PATH", process.DEFAULT_PATH)
    s.vars.setdefault("PS4", "+ ")
    s.vars["OPTIND"] = "1"
    s.vars["PPID"] = str(os.getppid())
    try:
        # trust an inherited PWD that names this directory (no getcwd call, as in dash)
        pwd = s.vars.get("PWD")
        if not pwd or not os.path.isabs(pwd) or not os.path.samestat(os.stat(pwd),
                                                                     os.stat(".")):
            s.vars["PWD"] = shtext.from_os(os.getcwd())
    except OSError:
        pass
    return s


# -- subshells --------------------------------------------------------------------------------


def enter_child(state: ShState) -> None:
    """What a forked subshell resets: traps (except ignored ones), jobs, queues."""
    state.in_child = True
    if state.traps:
        state.shown_traps = dict(state.traps)
    for sig, action in list(state.traps.items()):
        if action != "":
            del state.traps[sig]
            if sig != "EXIT":
                try:
                    signal.signal(SIGNAL_NAMES[sig], signal.SIG_DFL)
                except (OSError, ValueError):
                    pass
    state.pending_signals.clear()
    state.jobs = {}
    state.job_order = []
    state.exit_traps_run = False


def wait_child(pid: int | Done) -> int:
    """Wait for a forked child; its exit status (127 when it is not our child), or the
    status of a stage the shell ran itself (`stages.Done`)."""
    if not isinstance(pid, int):
        return pid.status
    while True:
        try:
            _, st = os.waitpid(pid, 0)
            return process.exit_code(st)
        except ChildProcessError:
            return 127
        except InterruptedError:
            continue


# -- redirections -----------------------------------------------------------------------------


def _save(fd: int) -> int | None:
    """A close-on-exec copy of `fd` (for `restore`), None when it is closed."""
    try:
        return (_redirect or _load_redirect())[0].dup_above(fd, 10)  # type: ignore[no-any-return]
    except OSError:
        return None


#: `fusevm.shell.redirect` and the redirection kinds (`Redir`), loaded with the first
#: redirection a script makes (kept here: a `from` import in `_apply_one` would go
#: through the import machinery at every redirection).
_redirect: tuple[Any, Any] | None = None


def _load_redirect() -> tuple[Any, Any]:
    global _redirect
    from fusevm.ops.shell_codes import Redir
    from fusevm.shell import redirect
    _redirect = (redirect, Redir)
    return _redirect


def new_pipe() -> tuple[int, int]:
    """os.pipe(), or the shell's error when the process has no descriptors left (as
    dash, a pipeline that cannot start ends a script)."""
    try:
        return os.pipe()
    except OSError as e:
        raise no_pipe(e) from None


def no_pipe(e: OSError) -> ShError:
    """The shell's error for a pipe, or what stands in for one, that `e` kept it from
    making."""
    return ShError(f"cannot create pipe: {e.strerror}")


def put_fd(fd: int, target: int) -> None:
    """Put `fd` on `target` (it stays open too) for what runs there to inherit: a pipe or
    file opened while `target` was closed (a shell started without stdin) may be there
    already, and is then only made inheritable (dup2 onto itself changes nothing)."""
    if fd == target:
        os.set_inheritable(fd, True)
    else:
        os.dup2(fd, target)


def move_fd(fd: int, target: int) -> None:
    """`put_fd`, then `fd` closed unless it is `target`."""
    put_fd(fd, target)
    if fd != target:
        os.close(fd)


def restore(saved: list[tuple[int, int | None]]) -> None:
    for fd, copy in reversed(saved):
        if copy is None:
            try:
                os.close(fd)
            except OSError:
                pass
        else:
            os.dup2(copy, fd)
            os.close(copy)


def _apply_one(r: Pending, noclobber: bool) -> None:
    redirect, Redir = _redirect or _load_redirect()  # noqa: N806 (the enum, as imported)
    kind = r.kind
    if kind == DOC:
        src = redirect.document_fd(r.target)
    elif kind in (Redir.DUP_READ, Redir.DUP_WRITE):
        if r.target == "-":
            try:
                os.close(r.fd)
            except OSError:
                pass
            return
        src_fd = decimal64(r.target, sign=False)
        if src_fd is None:
            raise RedirectError(f"{r.target}: Bad fd number")
        if src_fd > 0x7FFFFFFF:  # (past any descriptor a process can have)
            raise RedirectError(f"{r.target}: Bad file descriptor")
        if src_fd == r.fd:
            return  # `3>&3` is a no-op even when 3 is closed (dash, bash)
        if not redirect.is_open(src_fd):
            raise RedirectError(f"{src_fd}: Bad file descriptor")
        if src_fd != r.fd:
            os.dup2(src_fd, r.fd)
        return
    else:
        src = redirect.open_target(kind, r.target, noclobber=noclobber)
    move_fd(src, r.fd)


def write(fd: int, text: str) -> None:
    data = text.encode("utf-8", "surrogateescape")
    while data:
        try:
            n = os.write(fd, data)
        except InterruptedError:
            continue
        data = data[n:]


SIGNAL_NAMES: Final = signal.SIGNAL_NAMES
NUMBER_NAMES: Final = signal.NUMBER_NAMES


def signal_name(spec: str) -> str | None:
    """Canonical trap name ("EXIT", "INT", ...) for a spec, None if invalid."""
    s = spec.strip()
    if s.isdigit():
        n = decimal64(s, sign=False)
        if n is None:
            return None
        if n == 0:
            return "EXIT"
        return NUMBER_NAMES.get(n)
    u = s.upper()
    if u.startswith("SIG"):
        u = u[3:]
    if u == "EXIT":
        return "EXIT"
    return u if u in SIGNAL_NAMES else None
