"""Function entries run by their direct forms, without region code of their own.

A function body the tier compiles because its entry is hot, and that has a direct form
(`calls.eligible`), runs whole in that form once entered: the form is the body. So its
entry needs no region code (a function's region code is most of what compiling it costs a
one-shot run: writing it, Python's compile of it). Its step, `make`'s, pops the
arguments the interpreter's `Call` left on the stack, calls the form with them and returns
as the function's return op does (that op's own interpreter step). Only an entry nothing
but `Call` reaches qualifies (`applies`): no jump or fall-through into it, so the frame
there is always a new call's, with its arguments on the stack and its slots unset.

Where the form gives up (an error, an interrupt, the direct calls' depth: `calls`), its
`Unwind` carries the state of every frameless function on the way; the outermost is the
function of the frame the interpreter pushed for this call, whose state `resume` puts
back into that frame, pushing a frame for each inner one, exactly as `calls.resume` does
for region code. A form that leaves before its first op ran (a call there, with no room
left for direct calls) hands that op to the interpreter: entering the form again would
only leave again. The rest of the function (a loop header, where a frame interpreted since
before the compile is) stays with the interpreter: such a frame finishes interpreted,
and each later call runs in the form.
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.interp.vm import frame_cap
from fusevm.loops import loop_facts, predecessors

from . import direct
from .calls import RETURNS, STATS, Unwind, eligible, resumed, room
from .regions import ChunkPlan, Region

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM


def applies(chunk: Chunk, cp: ChunkPlan, region: Region, h: int) -> int | None:
    """The ip of a return op of `region` when hot point `h` is the entry of a function with
    a direct form that nothing but a `Call` enters: then `make` runs it. Else None."""
    entry = region.entry
    if h != entry or entry not in eligible(chunk, cp):
        return None
    if predecessors(chunk, loop_facts(chunk)).get(entry):
        return None  # (a jump or the op before it goes there: not always a new call)
    an = cp.analysis
    wanted = RETURNS[1] if an.returns_value.get(entry, True) else RETURNS[0]
    return next((ip for ip in region.ops if an.decoded[ip].spec is wanted), None)


def make(chunk: Chunk, cp: ChunkPlan, region: Region, ret: int) -> Any:
    """`make(vm, plain, code)` for region `region` (for which `applies` gave `ret`):
    binds `vm`'s direct forms and returns `run(pc)` and the entry's step, as a region's
    `make` does."""
    entry = region.entry
    argc = cp.analysis.arity[entry]
    value = cp.analysis.returns_value.get(entry, True)

    def bind(vm: VM, plain: list[Step], code: list[Step]) -> tuple[Any, dict[int, Step]]:
        form = direct.bind(vm, plain, code)[entry]
        stack = vm.stack
        frames = vm.frames
        native = vm.native_points
        interpreted = plain[entry]
        returned = plain[ret]
        cap = frame_cap(vm)
        bound = room()

        def step() -> int:
            r = cap - len(frames)
            if (r < 0 or vm._budget is not None or entry in native
                    or vm._interrupt_pending):
                return interpreted()
            args = stack[len(stack) - argc:]
            del stack[len(stack) - argc:]
            STATS.entries += 1
            try:
                result = form(*args, r if r < bound else bound)
            except Unwind as u:
                ip = resume(vm, u)
                # Left before its first op ran (a call there, with no room for it): the
                # interpreter runs that op (this step again would only leave again).
                return interpreted() if ip == entry else ip
            if value:
                stack.append(result)
            return returned()

        def run(pc: int) -> int:
            return step() if pc == entry else plain[pc]()
        STATS.thin += 1
        return run, {entry: step}
    return bind


def resume(vm: VM, u: Unwind) -> int:
    """For an Unwind out of the form a thin entry called: the state of the outermost
    frameless function into the frame the interpreter pushed for the call, a frame for
    each inner one (`calls.resumed`), and the ip to continue at (or the error located at
    its op, raised)."""
    STATS.unwinds += 1
    chain = u.outer  # innermost first; the last is this frame's function
    if not chain:
        # This frame's function is the innermost: its frame is made again, with its state
        # (its stack base is where the arguments began: the stack is back there).
        own = vm.frames.pop()
        return resumed(vm, u, chain, own.return_ip)
    own = vm.frames[-1]
    call_ip, below, own.slots = chain[-1]
    vm.stack.extend(below)
    return resumed(vm, u, chain[:-1], call_ip + 1)
