"""ShellState: the shell-level state of one VM running shell ops, beside its host's.

A shell's variables are the VM's globals, named by the chunk's name pool (Undef means
unset), so the core `GetVar`/`SetVar` ops read and write them at full speed. This object is
what gives them shell meaning: lookup and assignment by name, the variables a sub-chunk VM
inherited from its parent under names its own pool lacks, the copies `( ... )` saves and
puts back, and the runner that runs a sub-chunk (`$(...)`, `<(...)`, a trap handler) in a
child VM. The VM asks its host for one (`ShellHost.new_shell_state`) the first time a shell
op needs it, so a VM that runs no shell op has none.
"""

from __future__ import annotations

from fusevm.errors import HostError, VMError
from fusevm.values import Undef, copy_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any, Protocol, TextIO
else:
    Protocol = object  # run-time stand-in: only the type checker reads it

__all__ = ["ShellState", "SubChunkRunner"]


class SubChunkRunner(Protocol):
    """Runs `chunk` in a child VM of the VM a state belongs to; (its status, its state).

    Installed by the VM (only it can make VMs). The chunk and the host are opaque here
    (this module sits below the host protocol). The child gets `host` (default: the
    parent's), writes to `stdout` (default: the parent's), starts with `$?` = `status`
    (default: the parent's) and with copies of `variables` as its shell variables.
    """

    def __call__(self, chunk: Any, variables: Mapping[str, Any], *,
                 stdout: TextIO | None, host: Any,
                 status: int | None) -> tuple[int, ShellState]: ...


class ShellState:
    """Shell variables by name, subshell saves and the sub-chunk runner of one VM.

    A host makes it (`new_shell_state`) and the VM binds it to its globals (`attach`).
    Values handed out by `variables()` are copies (D8); `get` returns the stored value,
    which the caller must not mutate.
    """

    __slots__ = ("_globals", "_names", "_pool", "_inherited", "_saves", "runner")

    def __init__(self) -> None:
        self._globals: list[Any] = []
        self._pool: Sequence[str] = ()
        self._names: dict[str, int] | None = {}
        #: Variables inherited from the parent VM under names this chunk's pool lacks, so
        #: they reach nested substitutions and `${!ref}`.
        self._inherited: dict[str, Any] = {}
        #: Copies of the globals taken by `subshell_begin`, innermost last.
        self._saves: list[list[Any]] = []
        self.runner: SubChunkRunner | None = None

    def attach(self, globals_: list[Any], names: Sequence[str],
               runner: SubChunkRunner | None) -> None:
        """Bind to a VM: its globals list (kept, never copied), the chunk's name pool and
        the runner that makes its child VMs."""
        self._globals = globals_
        self._pool = names
        self._names = None
        self.runner = runner

    def _index(self) -> dict[str, int]:
        names = self._names
        if names is None:
            names = self._names = {n: i for i, n in enumerate(self._pool)}
        return names

    # -- variables -----------------------------------------------------------------------

    def get(self, name: str) -> Any:
        """The variable's value, or None when it is unset (Undef or absent)."""
        idx = self._index().get(name)
        if idx is None:
            return self._inherited.get(name)
        v = self._globals[idx]
        return None if v is Undef else v

    def set(self, name: str, value: Any) -> None:
        """Assign a variable (a global of the chunk's name pool).

        Raises:
            VMError: the chunk has no variable of that name.
        """
        idx = self._index().get(name)
        if idx is None:
            raise VMError(f"cannot assign ${name}: the chunk has no variable of that name")
        self._globals[idx] = value

    def variables(self) -> dict[str, Any]:
        """Every set variable by name, as copies (D8): the globals that are not Undef, and
        the inherited ones the chunk has no global for."""
        names = self._index()
        found = {name: copy_value(v) for name, v in self._inherited.items()
                 if name not in names}
        globals_ = self._globals
        found.update((name, copy_value(globals_[i])) for name, i in names.items()
                     if globals_[i] is not Undef)
        return found

    def inherit(self, variables: Mapping[str, Any]) -> None:
        """Start from a parent's variables: copies go into the globals of the same names,
        the rest is kept for lookups by name."""
        names = self._index()
        globals_ = self._globals
        inherited = self._inherited
        for name, value in variables.items():
            value = copy_value(value)
            idx = names.get(name)
            if idx is None:
                inherited[name] = value
            else:
                globals_[idx] = value

    def take_back(self, child: ShellState) -> None:
        """After a child ran in this shell (a trap handler): its variables become ours,
        for every name both chunks have a global for."""
        mine = self._index()
        globals_ = self._globals
        theirs = child._globals
        for name, i in child._index().items():
            j = mine.get(name)
            if j is not None:
                globals_[j] = theirs[i]

    # -- subshells -----------------------------------------------------------------------

    def subshell_begin(self) -> None:
        """Save the variables for `( ... )`: what the subshell assigns must not leak out.

        The saved list shares the containers: a write inside copies them (copy on write).
        """
        self._saves.append(list(self._globals))

    def subshell_end(self) -> None:
        """Put back the variables saved by the matching `subshell_begin` (if any)."""
        if self._saves:
            # In place: the VM's handlers hold the globals list itself.
            self._globals[:] = self._saves.pop()

    # -- sub-chunks ----------------------------------------------------------------------

    def run_sub_chunk(self, chunk: Any, stdout: TextIO | None = None,
                      host: Any = None, *,
                      variables: Mapping[str, Any] | None = None, status: int | None = None,
                      share: bool = False) -> int:
        """Run a nested chunk in a child VM; its status.

        The child's variables start as copies of `variables` if given (a snapshot taken
        earlier), else of this state's current ones. A subshell body (`$(...)`) runs that
        way; a trap handler runs in the current shell, so with `share` the child's
        variables are copied back into this VM's globals of the same names when it ends.

        Raises:
            HostError: no runner was installed (the state is not attached to a VM).
        """
        if self.runner is None:
            raise HostError("this shell state has no sub-chunk runner (it belongs to no VM)")
        code, child = self.runner(chunk, self.variables() if variables is None else variables,
                                  stdout=stdout, host=host, status=status)
        if share:
            self.take_back(child)
        return code
