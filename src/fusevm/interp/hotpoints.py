"""A VM's hot points: counting their entries for the tiers, and patching them for an interrupt.

Hot points (`fusevm.loops`: loop headers, function entries, block starts) are where a
tier may enter and where an interrupt stops a run. The VM counts the entries of each one
with a step wrapped around the op's own (`_counting`) and asks its tier hook for a region
step once a hot point has been entered often enough. While the default tier's compiler
is not loaded, a VM runs its first `tiers.LOAD_COST` ops with no hot point counted and its
default tiers not attached (`tiers.cold_ops`, `VM.set_tier_hook`): `run()`'s loop charges
them a slice at a time. `VM.interrupt()` patches every hot point with a step that raises
and puts the installed steps back after.
"""

from __future__ import annotations

from fusevm.errors import Interrupted
from fusevm.interp import tiers
from fusevm.loops import LoopFacts, loop_facts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from fusevm.chunk import Chunk
    from fusevm.interp.registry import Step


def root_alone(facts: LoopFacts) -> bool:
    """Whether the root's entry is a hot point only as the start of a run (no loop back
    to it, no call of it): counted from a VM's second run (`_arm_root`), most VMs
    running once."""
    return 0 not in facts.back_edges and 0 not in facts.entries


class HotPoints:
    """The hot-point half of `fusevm.interp.vm.VM` (a mixin: it reads and writes the
    VM's `_code`, `_plain`, `_hot`, `_installed`, `_hook`, `_attach`, `chunk`)."""

    if TYPE_CHECKING:
        chunk: Chunk
        _code: list[Step] | None
        _plain: list[Step]
        _hot: tuple[int, ...]
        _installed: dict[int, Step]
        _hook: Any
        _attach: Callable[[Any], None] | None
        _root_waiting: int
        _interrupt_pending: bool

        def prepare(self) -> list[Step]: ...

    #: Ops this VM runs before it counts the hot points of `_cold_of` (`tiers.cold_ops`),
    #: 0 once it counts them: a reset that prepares the same
    #: chunk again goes on from there. `_cold_ops` is what it was allowed, `_cold_ran`
    #: those ops once run (the hook reads it).
    _cold = _cold_ops = _cold_ran = 0
    _cold_of: Chunk | None = None

    def _start_cold(self, code: list[Step], counted: bool) -> int:
        """Count the hot points of freshly prepared `code` (`counted`: some besides the
        root's entry) or return how many ops to run first (`tiers.cold_ops`, see
        `set_tier_hook`), the tiers still to be attached then if they are."""
        compiled = tiers.COMPILED in self.chunk.derived
        if self._cold_of is not self.chunk:
            self._cold_of = None  # (not kept alive by a VM reset to another chunk)
        cold = 0
        if self._attach is not None and (counted or compiled):
            cold = 0 if compiled else tiers.pending_cold_ops()
            if not cold:
                self._attach_now()  # needed now: a hot point to count
        hook = self._hook
        wanted = self._cold_threshold()
        if wanted is not None:
            cold = tiers.cold_ops()
        if cold and self._cold_of is not None:
            cold = self._cold  # a reset: on from where the VM was (0: counting, attached)
        elif cold:
            self._cold_of = self.chunk
            self._cold_ops = cold
        if cold:
            return cold
        if hook is not None:
            self._count_hot_points(code, wanted)
        elif self._attach is not None and self._hot:
            self._root_waiting = 1  # (the tiers are attached at a second run)
        return 0

    def _cold_threshold(self) -> Any:
        """The hook's one answer for every hot point while nothing of the chunk is
        compiled (`cold_threshold`, see `set_tier_hook`); None: it is asked for each."""
        hook = self._hook
        if hook is None or tiers.COMPILED in self.chunk.derived:
            return None
        return getattr(hook, "cold_threshold", None)

    def _attach_now(self) -> None:
        """Attach the tiers still pending, keeping the prepared code (installing a hook
        drops it: code prepared without them counts nothing yet, and that is kept)."""
        attach = self._attach
        if attach is not None:
            code = self._code
            self._attach = None
            attach(self)
            self._code = code

    def _count_hot_points(self, code: list[Step], wanted: Any) -> None:
        """Count the entries of each hot point from now on (`wanted`: what the hook's
        `threshold_at` says of every one, None to ask it for each); a hot point a tier
        has installed a step at already keeps it."""
        hook = self._hook
        counting = self._counting
        installed = self._installed
        plain = self._plain
        root = root_alone(loop_facts(self.chunk))
        for h in self._hot:
            step = installed[h]
            if step is not plain[h]:
                continue
            if h == 0 and root:
                # (A tier that wants it entered more than once: its first entry is this
                # run's start.)
                first = hook.threshold_at(self, 0) if wanted is None else wanted
                if type(first) is int and first > 1:
                    self._root_waiting = 1
                    continue
                step = counting(code, h, step, wanted=first)
            else:
                step = counting(code, h, step, wanted=wanted)
            code[h] = installed[h] = step

    def _warm(self) -> None:
        """This VM has run the ops its hook let it run before counting (`cold_ops`, see
        `set_tier_hook`): count its hot points from now on."""
        self._cold_ran = self._cold_ops
        self._cold = 0
        code = self._code
        if code is None:
            return
        self._attach_now()
        if self._hook is None:
            return
        self._count_hot_points(code, self._cold_threshold())
        if self._interrupt_pending:
            self._patch_hot_points()

    def _charge(self, ops: int) -> None:
        """Count `ops` run outside the root's dispatch loop (in a block) against the ops
        this VM runs before counting hot points."""
        left = self._cold - ops
        if left > 0:
            self._cold = left
        else:
            self._warm()

    def install_step(self, ip: int, step: Step) -> None:
        """Run `step` for op `ip` from now on (a tier entering there); at a hot point it
        replaces what the tiers chose before, and an interrupt still patches it."""
        code = self.prepare()
        code[ip] = step
        if ip in self._installed:
            self._installed[ip] = step
            if self._interrupt_pending:
                self._patch_hot_points()

    def _arm_root(self) -> None:
        """Run again, count the root's entries from this one on (`prepare` left them
        uncounted), unless a tier installed a step there already."""
        self._root_waiting = 0
        code = self._code
        # Attached only now (`prepare`): the code prepared without them has no hot point
        # but the root's entry, counted from here on.
        self._attach_now()
        if code is not None and self._hook is not None \
                and self._installed.get(0) is self._plain[0]:
            self.install_step(0, self._counting(code, 0, self._plain[0], made=1))

    def _counting(self, code: list[Step], h: int, original: Step, made: int = 0,
                  wanted: Any = None) -> Step:
        """The step of hot point `h` until the tiers have been asked about it once
        (`made`: its entries so far, which ran `original` uncounted; `wanted`: what the
        hook's `threshold_at` said, when it was asked already)."""
        hook = self._hook
        # The hook may know that `h` is hot already (earlier VMs ran this chunk there).
        left = hook.threshold_at(self, h) if wanted is None else wanted
        if type(left) is not int or left < 1:
            left = max(int(left), 1)
        left = max(left - made, 1)

        # (Each entry but the last runs `step` alone: the one name it reads is a default,
        # faster to read than a cell, and a frame with fewer locals is cheaper to make;
        # what asking the tiers needs is in `asked`.)
        def step(original: Step = original) -> int:
            nonlocal left
            left -= 1
            if left > 0:
                return original()
            return asked()

        def asked() -> int:
            nonlocal left
            try:
                found = hook.region_step(self, h, original)
            except Exception as exc:  # a tier's bug must not stop the program
                tiers.failed(exc)
                found = None
            if type(found) is int:  # not worth it yet: ask again after that many more
                left = max(found, 1)
                return original()
            chosen = found if found is not None else original
            code[h] = chosen
            if code is self._code:
                self._installed[h] = chosen
                if self._interrupt_pending:
                    self._patch_hot_points()
            return chosen()
        return step

    def _patch_hot_points(self) -> None:
        code = self._code
        if code is None:
            return
        for h in self._hot:
            code[h] = self._interrupter(h)

    def _unpatch_hot_points(self) -> None:
        code = self._code
        if code is None:
            return
        for h, step in self._installed.items():
            code[h] = step

    def _interrupter(self, h: int) -> Step:
        def step() -> int:
            self._interrupt_pending = False
            self._unpatch_hot_points()
            raise Interrupted("the run was interrupted")
        return step
