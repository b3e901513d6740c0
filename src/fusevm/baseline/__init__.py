"""The baseline tier: every region of a chunk compiled to a Python function, on by default.

`attach(vm)` (what `VM(chunk)` does unless `baseline=False` or FUSEVM_BASELINE=off) gives
the VM a `BaselineHook`. When one of the chunk's hot points (a loop header, a function
entry, a block start) has been entered `THRESHOLD` times, the region around it is compiled
once per chunk (`codegen.py`) and bound to the VM, and its entry points run it from then
on. The code keeps the interpreter's frame layout, so moving between it and the
interpreter (or a native tier) costs nothing, and it runs each op's one definition
(`fusevm.interp.bodies`) or the interpreter's own step for it: it cannot mean anything
the interpreter does not.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM

#: Entries of a hot point before its region is compiled.
THRESHOLD: Final = 2


def enabled_by_default() -> bool:
    """False when FUSEVM_BASELINE says off (the one place it is read)."""
    value = os.environ.get("FUSEVM_BASELINE", "").strip().lower()
    return value not in ("off", "0", "no", "false", "disabled", "none")


def attach(vm: VM) -> None:
    """Give `vm` the baseline tier (a tier provider, see `fusevm.interp.tiers`)."""
    vm.set_tier_hook(BaselineHook())


class BaselineHook:
    """A VM's tier hook for the baseline tier alone (the native tiers wrap it)."""

    __slots__ = ("_bound", "region_threshold")

    def __init__(self) -> None:
        #: Entries of a hot point before its region is compiled (tests set 1).
        self.region_threshold = THRESHOLD
        # Per chunk object: region index -> (run, steps of its hot points).
        self._bound: dict[int, tuple[Any, Any, dict[int, Any]]] = {}

    def start_run(self, vm: VM) -> None:
        """Nothing to prepare: baseline code polls the VM's own interrupt patches."""

    def interrupt(self, vm: VM) -> None:
        """Nothing to do: edges into hot points see the patched steps."""

    def try_run(self, vm: VM) -> bool:
        return False

    def region_step(self, vm: VM, h: int, original: Step) -> Step | None:
        """The step running the compiled region at hot point `h` (None: keep
        interpreting)."""
        from fusevm.baseline import compiler
        return compiler.region_step(vm, self._bound, h)
