"""The trace IR executor: runs a trace tree in Python, no native code.

It walks the IR nodes themselves (not the lowered chunk): `op`, `global_get` and
`global_set` nodes run through the interpreter's own step for their instruction, on a
scratch VM whose slots are the trace's slot layout; a guard runs its branch and compares
the direction with the recorded one; a failed guard continues in the side trace stitched
to that exit, or leaves. An op that raises leaves before itself, as a native deopt would.
The exit is materialised exactly as after a native run (`tree.materialize`), so tests
can check recording, IR, snapshots and exits against the interpreter without llvmlite.
"""

from __future__ import annotations

from fusevm.errors import VMError
from fusevm.jit.trace.ir import Node, Snapshot
from fusevm.jit.trace.lower import local_exits
from fusevm.jit.trace.tree import materialize, work_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM
    from fusevm.jit.trace.tree import Trace, Tree


def execute(vm: VM, root: Trace, tree: Tree, fuel: int | None = None,
            max_loops: int = 1 << 62) -> tuple[tuple[Trace, int] | None, Snapshot]:
    """Run the tree from the VM's state (at the root's start) and materialise the exit;
    returns the trace and local exit it left by (None when it stopped before an op, as a
    native deopt does) and the snapshot the interpreter resumes at. When the fuel word at
    address `fuel` is negative at the loop header, or after `max_loops` trips round the
    loop, it leaves at the loop header, as a native unit out of fuel does."""
    import ctypes

    from fusevm.interp.registry import FACTORIES
    from fusevm.interp.vm import VM as _VM
    # Handlers read their own instruction from the chunk: build them over the original.
    scratch = _VM(vm.chunk, extensions=vm.extensions, strict_int=vm.strict_int)
    scratch.host_data = vm.host_data
    work = work_of(vm, tree)  # (entry reads raising: see tier._enter)
    scratch.slots = work
    stack = scratch.stack
    steps: dict[int, Step] = {}

    def run(node: Node) -> int:
        step = steps.get(id(node))
        if step is None:
            step = steps[id(node)] = FACTORIES[node.instr[0]](scratch, node.instr[1:], node.ip)
        return step()

    word = ctypes.c_int64.from_address(fuel) if fuel is not None else None
    trace = root
    loops = 0
    while True:
        assert trace.ir is not None
        exits = local_exits(trace.ir)
        k = 0
        out: Snapshot | None = None
        via: int | None = None  # the local exit taken, if the way out is one
        closed = False
        for node in trace.ir.nodes:
            kind = node.kind
            if kind in ("enter", "jump"):
                continue
            if kind == "leave":
                del stack[len(stack) - node.pops:]
                continue
            before = list(stack)
            try:
                nxt = run(node)
            except VMError:
                stack[:] = before
                materialize(vm, tree, work, node.snap, list(stack))
                return None, node.snap
            if kind == "guard":
                assert node.exit is not None
                went = nxt != node.ip + 1
                if went != node.taken:
                    out, via = exits[k], k
                    break
                k += 1
            elif kind == "close":
                if nxt == trace.ir.recording.close or nxt == root.rec.start:
                    closed = True
                else:
                    out, via = exits[k], k
                break
        if out is not None:
            child = trace.children.get(via) if via is not None else None
            if child is not None:
                trace = child
                continue
            materialize(vm, tree, work, out, list(stack))
            return ((trace, via) if via is not None else None), out
        assert closed
        trace = root
        loops += 1
        if loops >= max_loops or (word is not None and word.value < 0):
            snap = Snapshot(root.rec.start)
            materialize(vm, tree, work, snap, list(stack))
            return None, snap
