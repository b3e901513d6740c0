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
import sys

from fusevm import modpack
from fusevm.baseline.looks import COMPILED, FIRST_LOOK, LOAD_COST, LOOP_FIRST_LOOK
from fusevm.entry import NoCycleCollection
from fusevm.interp import tiers
from fusevm.loops import loop_facts, ops_per_entry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM

#: Entries of a hot point before the tier first considers its region (then it waits as
#: long as compiling would cost more than it saves: `compiler.worth_after`).
THRESHOLD: Final = 2


_ENVIRON: Final = tiers.ENVIRON
_NAME: Final = tiers.BASELINE_VARIABLE


def _mode() -> str:
    """FUSEVM_BASELINE (the one place it is read): "off", "eager" (compile every region
    at its second entry, whatever it costs: for measuring the compiled code itself) or
    on (the default: compile where it pays)."""
    if _ENVIRON is not None and _NAME not in _ENVIRON:
        return "on"
    value = os.environ.get("FUSEVM_BASELINE", "").strip().lower()
    if value in ("off", "0", "no", "false", "disabled", "none"):
        return "off"
    return "eager" if value == "eager" else "on"


def attach(vm: VM, *, by_default: bool = False, first_look: int | None = None) -> None:
    """Give `vm` the baseline tier (a tier provider, see `fusevm.interp.tiers`); with
    `by_default` (a VM that did not say), not when FUSEVM_BASELINE says off. With
    `first_look`, a region is compiled at that many entries of a hot point, whatever it
    costs: for a frontend that knows its hot points run long (awk's record loop runs
    once per input record, which the tier's own measure cannot know, and would wait
    thousands of them to be sure)."""
    # (`_mode()`'s first test inline: every VM attaches.)
    mode = "on" if _ENVIRON is not None and _NAME not in _ENVIRON else _mode()
    if by_default and mode == "off":
        return
    hook = BaselineHook()
    if mode == "eager":
        hook.eager = True
    elif first_look is not None:
        hook.eager = True
        hook.region_threshold = first_look
    vm.set_tier_hook(hook)


class BaselineHook:
    """A VM's tier hook for the baseline tier alone (the native tiers wrap it).

    Its state starts as class attributes and becomes its own at its first change: every
    VM makes one, and most never ask it anything but `threshold_at` (a Python
    `__init__` and two dicts were a third of what attaching the tier cost a VM)."""

    #: `start_run` and `try_run` do nothing: `VM.run()` skips them.
    per_run: Final = False
    #: Entries of a hot point before its region is first considered.
    region_threshold: int = THRESHOLD
    #: Compile at the first consideration, whatever it costs (tests, benchmarks of the
    #: compiled code itself).
    eager: bool = False
    #: (chunk id, hot point) -> entries counted so far, less `region_threshold` (a dict of
    #: its own from the first ask on; none before).
    _entered: dict[tuple[int, int], int] | tuple[()] = ()
    #: Hot points this VM stopped counting (the tier said never): asked again, the VM
    #: runs their code again (`compiler.region_step`'s `again`).
    _dropped: frozenset[tuple[int, int]] = frozenset()
    #: Loop headers a look at a loop inside them found as short as that loop (the root's
    #: short nest, `compiler.short_loop`): dropped at their next ask, without a look.
    _settled: frozenset[tuple[int, int]] = frozenset()
    #: Per chunk object: region index -> (run, steps of its hot points); None until the
    #: first region is bound.
    _bound: dict[int, tuple[Any, Any, dict[int, Any]]] | None = None

    def _bindings(self) -> dict[int, tuple[Any, Any, dict[int, Any]]]:
        bound = self._bound
        if bound is None:
            bound = self._bound = {}
        return bound

    @property
    def cold_threshold(self) -> int | None:
        """What `threshold_at` says of every hot point of a chunk object with nothing
        compiled (`tiers.COMPILED` unset) while this hook has counted nothing, for the
        VM it is the own hook of (which asks once, not per hot point); None when that
        depends on the hot point."""
        if self.eager or self.region_threshold <= 1 or self._entered:
            return None
        return LOOP_FIRST_LOOK

    def threshold_at(self, vm: VM, h: int) -> int:
        """Entries of hot point `h` before the tier is asked: one when its region is
        compiled for this chunk already (hotness belongs to the code, not to one VM); in
        a chunk with nothing compiled, LOOP_FIRST_LOOK the first time this hook (the VM's
        own, not one a native tier's hook wraps, which asks at its own counts) is asked
        about `h`: no hot point is looked at sooner (`looks`), and so none is asked at
        its second entry only to be told to wait."""
        chunk = vm.chunk
        # Nothing is compiled in a chunk object the compiler has not marked (then it is
        # loaded; a VM's set-up does not load it: a short run never needs it).
        if COMPILED in chunk.derived:
            if (_compiler or _load_compiler()).compiled_at(chunk, h):
                return 1
            return self.region_threshold
        threshold = self.region_threshold
        if (self.eager or threshold <= 1 or vm._hook is not self
                or self._entered and (id(chunk), h) in self._entered):
            return threshold
        return LOOP_FIRST_LOOK

    def start_run(self, vm: VM) -> None:
        """Nothing to prepare: baseline code polls the VM's own interrupt patches."""

    def interrupt(self, vm: VM) -> None:
        """Edges into hot points see the patched steps; calls between direct forms
        (which pass no hot point) are switched to their stand-ins."""
        direct = sys.modules.get("fusevm.baseline.direct")
        if direct is not None:
            direct.interrupt(vm)

    def try_run(self, vm: VM) -> bool:
        return False

    def step_now(self, vm: VM, h: int) -> Step | None:
        """The compiled region's step at hot point `h`, compiled now whatever it costs
        (a tier above found `h` hot: the trace tier runs it while it records); None when
        compiling fails, which the interpreter then runs instead, as for a region the
        baseline compiles itself (`hotpoints`)."""
        try:
            found = (_compiler or _load_compiler()).region_step(vm, self._bindings(), h)
        except Exception as exc:  # a tier's bug must not stop the program
            tiers.failed(exc)
            return None
        return found if callable(found) else None

    def region_step(self, vm: VM, h: int, original: Step) -> Step | int | None:
        """The step running the compiled region at hot point `h` (None: keep
        interpreting; a number: ask again after that many more entries)."""
        if self.eager or self.region_threshold <= 1:
            now: Step | int | None = (_compiler or _load_compiler()).region_step(
                vm, self._bindings(), h)
            return now
        chunk = vm.chunk
        key = (id(chunk), h)
        counts = self._entered
        if type(counts) is not dict:
            counts = self._entered = {}
        known = counts.get(key)
        threshold = self.region_threshold
        if COMPILED not in chunk.derived:
            # Asked about `h` for the first time, the VM's own hook gave it LOOP_FIRST_LOOK
            # entries (`threshold_at`; a chunk marked compiled stays so).
            entered = (LOOP_FIRST_LOOK if known is None and vm._hook is self
                       else (known or 0) + threshold)
            if known is None and vm._cold_ran:
                # The VM ran `_cold_ran` ops before it counted any hot point: at most
                # that many were run here, which a hot point counted from the start
                # would have shown (a recursive function's calls, in a one-shot process).
                entered += vm._cold_ran // ops_per_entry(loop_facts(chunk), h,
                                                         len(chunk.ops))
            # Nothing about a hot point is worked out before its first look (most short
            # runs end first): the compiler's own first test, without calling it.
            unloaded = _compiler is None and _COMPILER not in sys.modules
            if entered < FIRST_LOOK or unloaded:
                facts = loop_facts(chunk)
                first = LOOP_FIRST_LOOK if h in facts.back_edges else FIRST_LOOK
                if unloaded:
                    # The first look loads the compiler: not before the interpreter has
                    # done about as much work here as loading it costs.
                    first = max(first, LOAD_COST // ops_per_entry(facts, h, len(chunk.ops)))
                if entered < first:
                    counts[key] = first - threshold
                    return first - entered
            if key in self._settled:  # the look at a loop inside it answered for it
                self._settled = self._settled - {key}
                self._drop(chunk, key, None, entered - threshold)
                return None
        else:
            entered = (known or 0) + threshold
        found: Step | int | tuple[int, ...] | None = (
            _compiler or _load_compiler()).region_step(
            vm, self._bindings(), h, entered, key in self._dropped)
        if type(found) is int:
            counts[key] = entered + found - threshold
            return found
        if found is None or type(found) is tuple:
            self._drop(chunk, key, found, entered - threshold)
            return None
        return found  # type: ignore[return-value]

    def _drop(self, chunk: Any, key: tuple[int, int], nest: tuple[int, ...] | None,
              count: int) -> None:
        """Stop counting hot point `key` (`count`: its entries less the threshold); with
        `nest`, a short loop's header and the loops around it (`compiler.short_loop`),
        none of which is asked again in this run (each is dropped at its next ask,
        `_settled`)."""
        if nest is not None and len(nest) > 1:
            self._settled = self._settled | {(id(chunk), g) for g in nest[1:]}
        self._entered[key] = count  # type: ignore[index]
        self._dropped = self._dropped | {key}


#: The compiler's module: loaded, by a hook or any other code, its load is paid for.
_COMPILER: Final = tiers.COMPILER
#: `fusevm.baseline.compiler` once a hook has needed it (a `from` import of a package's
#: module goes through the import machinery each time: about a microsecond).
_compiler: Any = None


def _load_compiler() -> Any:
    global _compiler
    # (Loading it makes some thousands of objects for good, none in a cycle, which the
    # cycle collector would walk for nothing; its modules are read through one open
    # descriptor of the module pack.)
    with NoCycleCollection(kept=True), modpack.Holding():
        from fusevm.baseline import compiler
    _compiler = compiler
    return compiler
