"""A trace tree's runtime shape: its traces, its lowered unit, and the trace state moving
in and out of it (the slots a unit runs with; the interpreter's state rebuilt at an exit).
"""

from __future__ import annotations

import weakref

from fusevm.jit.trace.ir import Recording, Snapshot, TraceIR
from fusevm.jit.trace.lower import Lowered
from fusevm.jit.trace.recorder import Steps
from fusevm.jit.unit import Analysis
from fusevm.records import dataclass, field
from fusevm.values import Undef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fusevm.interp.vm import VM


@dataclass(eq=False, slots=True)
class Trace:
    """One recorded trace of a tree (root or side) and the state of its local exits."""

    rec: Recording
    chain: int  # 0 for a root trace, else how many side traces deep
    path: tuple[int, ...] = ()  # local exit numbers from the root to here
    ir: TraceIR | None = None  # (re)built with the tree's shared layout
    children: dict[int, Trace] = field(default_factory=dict)
    exit_counts: list[int] = field(default_factory=list)
    refused: set[int] = field(default_factory=set)  # exits that get no side trace
    #: A side trace's own unit, linked to its parent's exit until the tree is rebuilt
    #: with it stitched in (None: part of its tree's unit); and the entries it had.
    link: Tree | None = None
    link_runs: int = 0

    def walk(self) -> list[Trace]:
        """This trace and its side traces, parents first."""
        out = [self]
        for t in out:
            out.extend(t.children[k] for k in sorted(t.children))
        return out


@dataclass(eq=False, slots=True)
class Tree:
    """A lowered, analysed trace tree: what runs natively."""

    low: Lowered
    an: Analysis
    owners: tuple[tuple[Trace, int], ...]  # exit id -> (trace, local exit)
    globals: tuple[int, ...]
    nslots: int
    size: int  # slots the unit runs with
    depth: int = 0  # inlined calls open at most
    reads: tuple[int, ...] = ()  # ips of the entry reads, run on entry in this order
    kinds: tuple[int, ...] = ()
    runs: int = 0


_steps: weakref.WeakKeyDictionary[Any, Steps] = weakref.WeakKeyDictionary()


def steps_for(vm: VM) -> Steps:
    s = _steps.get(vm)
    if s is None or s.code is not vm._code:
        s = _steps[vm] = Steps(vm)
    return s


def work_of(vm: VM, tree: Tree) -> list[Any]:
    """The unit's slots: the frame's, the globals', the entry reads' values (their own
    interpreter steps run now), then Undef scratch (inlined frames, exit spills). Raises
    VMError when an entry read does."""
    g = vm.globals
    work = list(vm.slots)
    work.extend([g[i] for i in tree.globals])
    if tree.reads:
        steps = steps_for(vm)
        pop = vm.stack.pop
        for ip in tree.reads:
            steps.step(ip)()
            work.append(pop())
    work.extend([Undef] * (tree.size - len(work)))
    if tree.low.trips is not None:
        work[tree.low.trips] = 0
    return work


def materialize(vm: VM, tree: Tree, work: list[Any], snap: Snapshot,
                 values: list[Any]) -> None:
    """Write the trace's state back: frame slots, globals, stack, inlined frames."""
    from fusevm.interp.vm import Frame
    n = tree.nslots
    vm.slots[:] = work[:n]
    g = vm.globals
    for i, gi in enumerate(tree.globals):
        g[gi] = work[n + i]
    stack = vm.stack
    base = len(stack)
    stack.extend(values)
    if snap.frames:
        frames = vm.frames
        for f, written in zip(snap.frames, snap.written):
            slots: list[Any] = [Undef] * n
            for s in written:
                slots[s] = work[f.slot_base + s]
            frames.append(Frame(slots, f.return_ip, base + f.stack_base, Frame.CALL))
        vm.slots = frames[-1].slots
