"""Redirections: opening their targets, building a child's fd table, and scoping them in-process.

Two ways to apply a list of redirections (docs/shell.md#redirections):

* `FdTable` describes the fds a *child* will get, as a map from child fd to the parent fd
  that should appear there. The parent's own fds are never changed; the table turns into
  posix_spawn file actions, and every fd it opened is closed once the child exists.
* `ProcessFds` applies redirections to *this process* (compound commands, functions): each
  affected fd is first saved as a close-on-exec copy at fd >= 10, and restored on `pop`.

Both apply the redirections left to right, so `>f 2>&1` and `2>&1 >f` differ as in a shell.
Every failure is a `RedirectError` whose text is `target: reason`; nothing is left half done.

Both also keep the sandbox (`fusevm.shell.caps`): without `host_fds`, a redirection may only
use descriptors the VM owns (0-2, the table's own entries, and the `own` fds its host names);
anything else raises `CapabilityError` before any descriptor changes.
"""

from __future__ import annotations

import errno
import os
import stat
import sys

from fusevm.errors import CapabilityError
from fusevm.ops.shell_codes import Redir
from fusevm.records import dataclass
from fusevm.shell import RedirectError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Final

__all__ = [
    "CLOSED",
    "DOCUMENT",
    "FdTable",
    "ProcessFds",
    "RedirectError",
    "Redirection",
    "document_fd",
    "flush_std",
    "open_target",
]

#: Pseudo redirect kind for a here-document or here-string: `target` is the text for stdin.
DOCUMENT: Final = -1
#: FdTable marker: the child fd is closed.
CLOSED: Final = -1
#: Saved copies of the shell's own fds live at or above this number (close-on-exec).
SAVE_FLOOR: Final = 10

# A pipe always holds at least one page, so a document this small can be written before the
# reader exists without blocking; larger ones go to an anonymous file instead.
_PIPE_SAFE: Final = 4096


@dataclass(frozen=True, slots=True)
class Redirection:
    """One queued redirection: `fd` `kind` `target` (kind is a `Redir` code or DOCUMENT)."""

    fd: int
    kind: int
    target: str


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def open_target(kind: int, target: str, *, noclobber: bool = False) -> int:
    """Open the file a redirection names, returning a close-on-exec fd.

    Raises:
        RedirectError: the file cannot be opened, or noclobber forbids overwriting it.
    """
    mode = 0o666
    try:
        if kind in (Redir.WRITE, Redir.WRITE_BOTH) and noclobber:
            try:
                return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            except FileExistsError:
                if stat.S_ISREG(os.stat(target).st_mode):
                    raise RedirectError(f"{target}: cannot overwrite existing file") from None
                # Devices and FIFOs may be written under noclobber; never truncate them.
                return os.open(target, os.O_WRONLY)
        if kind in (Redir.WRITE, Redir.WRITE_BOTH, Redir.CLOBBER):
            return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        if kind in (Redir.APPEND, Redir.APPEND_BOTH):
            return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode)
        if kind == Redir.READ:
            return os.open(target, os.O_RDONLY)
        if kind == Redir.READ_WRITE:
            return os.open(target, os.O_RDWR | os.O_CREAT, mode)
    except OSError as exc:
        raise RedirectError(f"{target}: {_reason(exc)}") from None
    except ValueError:  # an embedded NUL
        raise RedirectError(f"{target}: invalid file name") from None
    raise RedirectError(f"{target}: unknown redirect kind {kind}")


def document_fd(text: str) -> int:
    """An fd (close-on-exec) from which `text` can be read, for a here-doc or here-string.

    Raises:
        RedirectError: no descriptor or memory file could be made (EMFILE, ENOMEM).
    """
    try:
        return _document_fd(text)
    except OSError as exc:
        raise RedirectError(f"cannot create a here-document: {_reason(exc)}") from None


def _document_fd(text: str) -> int:
    data = os.fsencode(text)
    if len(data) <= _PIPE_SAFE:
        r, w = os.pipe()
        try:
            if data:
                os.write(w, data)
        except OSError:
            os.close(r)
            raise
        finally:
            os.close(w)
        return r
    # Too big for a pipe nobody reads yet: an anonymous in-memory file, rewound.
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("fusevm-heredoc", os.MFD_CLOEXEC)
    else:  # pragma: no cover - non-Linux
        import tempfile

        fd = os.dup(tempfile.TemporaryFile().fileno())
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd


def _dup_word(r: Redirection) -> int | None:
    """The fd a `<&word` / `>&word` names, or None for `-` (close)."""
    word = r.target
    if word == "-":
        return None
    if not word.isdecimal():
        raise RedirectError(f"{word}: ambiguous redirect")
    return int(word)


def is_open(fd: int) -> bool:
    """Whether `fd` is an open file descriptor."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def dup_above(fd: int, floor: int) -> int:
    """A close-on-exec copy of `fd` at the lowest free number >= `floor` (OSError as
    fcntl raises it)."""
    import fcntl  # (an extension module: loaded with the first redirection, not at start-up)
    copy: int = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor)
    return copy


def _is_inherited(fd: int) -> bool:
    """True if `fd` is open and would reach a child: inheritable. A close-on-exec fd is
    private to this Python process (a file object, a saved copy, a test harness's capture
    file), so to a command's `<&n` / `>&n` it is as good as closed, as in a real shell."""
    try:
        return os.get_inheritable(fd)
    except OSError:
        return False


def _targets(r: Redirection) -> tuple[int, ...]:
    return (1, 2) if r.kind in (Redir.WRITE_BOTH, Redir.APPEND_BOTH) else (r.fd,)


def _foreign(fd: int, what: str) -> CapabilityError:
    return CapabilityError(f"{what} descriptor {fd}, which this VM did not open, needs the "
                           "'host_fds' capability")


# -- Child fd tables ------------------------------------------------------------------------


class FdTable:
    """The fds a child process will get: child fd -> parent fd (or CLOSED).

    Fds missing from the table are inherited as they are (only non-close-on-exec ones, i.e.
    0-2 and whatever a shell-level redirect made inheritable, actually reach the child). Fds
    the table opened itself are in `owned` and must be released with `close()`.
    """

    def __init__(self, base: dict[int, int] | None = None, *, host_fds: bool = True,
                 own: frozenset[int] = frozenset()) -> None:
        self.map: dict[int, int] = dict(base or {})
        self.owned: list[int] = []
        self.host_fds = host_fds
        self.own = own

    def source(self, fd: int) -> int | None:
        """The parent fd that child fd `fd` currently refers to; None if it is closed."""
        src = self.map.get(fd, fd)
        if src == CLOSED:
            return None
        if fd not in self.map and not _is_inherited(fd):
            return None
        return src

    def apply(self, r: Redirection, *, noclobber: bool = False) -> None:
        """Add one redirection on top of the table.

        Raises:
            RedirectError: as `open_target`, or a bad fd in `<&n`.
        """
        if r.kind == DOCUMENT:
            fd = document_fd(r.target)
            self.owned.append(fd)
            self.map[r.fd] = fd
        elif r.kind in (Redir.DUP_READ, Redir.DUP_WRITE):
            word = _dup_word(r)
            if word is None:
                self.map[r.fd] = CLOSED
                return
            if (not self.host_fds and word > 2 and word not in self.map
                    and word not in self.own):
                raise _foreign(word, "duplicating")
            src = self.source(word)
            if src is None:
                raise RedirectError(f"{word}: Bad file descriptor")
            self.map[r.fd] = src
        else:
            fd = open_target(r.kind, r.target, noclobber=noclobber)
            self.owned.append(fd)
            for target in _targets(r):
                self.map[target] = fd

    def apply_all(self, redirs: Iterable[Redirection], *, noclobber: bool = False) -> None:
        """Apply redirections in order; on failure the fds opened so far are closed."""
        try:
            for r in redirs:
                self.apply(r, noclobber=noclobber)
        except (RedirectError, CapabilityError):
            self.close()
            raise

    def file_actions(self) -> list[tuple[int, ...]]:
        """posix_spawn file actions that build this table in the child.

        A source that is also a destination would be clobbered by an earlier dup2, so such
        sources are first copied above every destination (the copies join `owned`).
        """
        if not self.map:
            return []
        floor = max(max(self.map) + 1, SAVE_FLOOR)
        actions: list[tuple[int, ...]] = []
        for dst, src in sorted(self.map.items()):
            if src == CLOSED:
                actions.append((os.POSIX_SPAWN_CLOSE, dst))
                continue
            if src in self.map:
                # Also covers src == dst: dup2(fd, fd) would leave close-on-exec set.
                src = dup_above(src, floor)
                self.owned.append(src)
            actions.append((os.POSIX_SPAWN_DUP2, src, dst))
        return actions

    def close(self) -> None:
        """Close every fd this table opened or copied."""
        for fd in self.owned:
            try:
                os.close(fd)
            except OSError:
                pass
        self.owned.clear()


# -- In-process scoping ---------------------------------------------------------------------


@dataclass(slots=True)
class _Saved:
    fd: int
    copy: int | None  # None: the fd was closed before the redirection
    inheritable: bool


def flush_std() -> None:
    """Flush Python's buffered std streams so their text lands before the fds change."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass


class ProcessFds:
    """A stack of redirection scopes applied to this process's own fds.

    `push` saves each fd it is about to change (a close-on-exec copy at fd >= 10), then
    `dup2`s the new target in; `pop` restores the newest scope. Scopes nest. If a later
    redirection in any scope targets a number one of the saved copies sits on, that copy is
    moved out of the way first.
    """

    def __init__(self, *, host_fds: bool = True) -> None:
        self.frames: list[list[_Saved]] = []
        self.host_fds = host_fds
        #: Fds that permanent redirections placed (they belong to the VM from then on).
        self.permanent: set[int] = set()

    def __len__(self) -> int:
        return len(self.frames)

    def claimed(self) -> set[int]:
        """The fds this stack's scopes and permanent redirections placed."""
        return {s.fd for frame in self.frames for s in frame} | self.permanent

    def _check_own(self, r: Redirection, own: frozenset[int]) -> None:
        """Refuse, before any change, a redirection that touches a foreign descriptor."""
        if self.host_fds:
            return
        mine = self.claimed() | own
        if r.kind in (Redir.DUP_READ, Redir.DUP_WRITE):
            src = _dup_word(r)
            if src is not None and src > 2 and src not in mine:
                raise _foreign(src, "duplicating")
        for target in _targets(r):
            if target > 2 and target not in mine and is_open(target):
                raise _foreign(target, "replacing or closing")

    def _copies(self) -> set[int]:
        return {s.copy for frame in self.frames for s in frame if s.copy is not None}

    def _evict(self, fd: int) -> None:
        """Move a saved copy that occupies `fd` to another number."""
        for frame in self.frames:
            for saved in frame:
                if saved.copy == fd:
                    saved.copy = dup_above(fd, max(SAVE_FLOOR, fd + 1))
                    os.close(fd)

    def push(self, redirs: Sequence[Redirection], *, noclobber: bool = False,
             permanent: bool = False, own: frozenset[int] = frozenset()) -> None:
        """Apply `redirs` to this process as a new scope (or for good, with `permanent`).
        `own` names fds beyond 0-2 and this stack's that the VM placed (pipes).

        Raises:
            RedirectError: the scope is undone and not pushed.
            CapabilityError: a redirection touches a descriptor the VM does not own (see
                the module docstring); the scope is undone and not pushed.
        """
        frame: list[_Saved] = []
        saved_fds: set[int] = set()
        self.frames.append(frame)
        try:
            for r in redirs:
                self._check_own(r, own)
                self._apply(r, frame, saved_fds, noclobber)
        except (RedirectError, CapabilityError):
            self.pop()
            raise
        if permanent:
            self.frames.pop()
            for saved in frame:
                self.permanent.add(saved.fd)
                if saved.copy is not None:
                    os.close(saved.copy)

    def _apply(self, r: Redirection, frame: list[_Saved], saved_fds: set[int],
               noclobber: bool) -> None:
        targets = _targets(r)
        flush_std()
        # Save first: opening the target could otherwise reuse a closed target's number.
        for target in targets:
            if target in self._copies():
                self._evict(target)
            if target not in saved_fds:
                saved_fds.add(target)
                frame.append(self._save(target))
        opened: int | None = None
        src: int | None
        if r.kind == DOCUMENT:
            src = opened = document_fd(r.target)
        elif r.kind in (Redir.DUP_READ, Redir.DUP_WRITE):
            src = _dup_word(r)
            if src is not None and (src in self._copies() or not is_open(src)):
                raise RedirectError(f"{src}: Bad file descriptor")
        else:
            src = opened = open_target(r.kind, r.target, noclobber=noclobber)
        try:
            for target in targets:
                if src is None:
                    try:
                        os.close(target)
                    except OSError:
                        pass
                elif src == target:
                    os.set_inheritable(target, True)
                else:
                    os.dup2(src, target, inheritable=True)
        finally:
            if opened is not None and opened not in targets:
                os.close(opened)

    @staticmethod
    def _save(fd: int) -> _Saved:
        try:
            inheritable = os.get_inheritable(fd)
            copy = dup_above(fd, SAVE_FLOOR)
        except OSError as exc:
            if exc.errno != errno.EBADF:
                raise
            return _Saved(fd, None, False)
        return _Saved(fd, copy, inheritable)

    def pop(self) -> None:
        """Restore the fds of the newest scope, newest change first."""
        frame = self.frames.pop()
        flush_std()
        for saved in reversed(frame):
            if saved.copy is None:
                try:
                    os.close(saved.fd)
                except OSError:
                    pass
            else:
                os.dup2(saved.copy, saved.fd, inheritable=saved.inheritable)
                os.close(saved.copy)

    def pop_all(self) -> None:
        """Restore every open scope (used when a host shuts down with scopes unbalanced)."""
        while self.frames:
            self.pop()
