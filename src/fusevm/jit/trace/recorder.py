"""The recorder: steps the interpreter from a trace's start and writes down the path.

It runs the interpreter's own steps (fresh ones, built from the handler factories, so no
tier step installed at a hot point gets in the way) one op at a time, noting each ip and
the operand-stack depth before it, until control comes back to the close anchor in the
frame the recording started in. It records no values: kinds are read at trace entry and
checked by the native unit. Everything that cannot be part of a trace stops it *before*
the op runs (so the interpreter simply continues there); so does an op that raises: the
stack values it popped are put back and the interpreter runs it again, raising there.
The VM's state is the interpreter's at every point, since the interpreter itself did the
work.
"""

from __future__ import annotations

from fusevm.errors import VMError
from fusevm.instr import decode
from fusevm.jit.eligibility import op_refusal
from fusevm.jit.trace.ir import Aborted, Recording, global_read, is_entry_read
from fusevm.jit.trace.states import Abort
from fusevm.ops import EXTENDED_OPS, F, Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM

#: Inlined calls open at once, whatever the functions (self-recursion has its own bound).
MAX_INLINE_DEPTH = 8

#: Ops the trace handles itself rather than through a lowering rule.
_TRACE_OPS = frozenset({Op.Call, Op.Return, Op.ReturnValue, Op.GetVar, Op.SetVar,
                        Op.DeclareVar, Op.Jump})


class Steps:
    """Interpreter steps for one VM's current chunk, built on first use per ip."""

    __slots__ = ("vm", "code", "steps", "refusals")

    def __init__(self, vm: VM) -> None:
        self.vm = vm
        self.code = vm._code
        self.steps: dict[int, Step] = {}
        self.refusals: dict[int, str | None] = {}

    def step(self, ip: int) -> Step:
        s = self.steps.get(ip)
        if s is None:
            from fusevm.interp.registry import FACTORIES
            instr = self.vm.chunk.ops[ip]
            s = self.steps[ip] = FACTORIES[instr[0]](self.vm, instr[1:], ip)
        return s

    def refusal(self, ip: int) -> str | None:
        if ip in self.refusals:
            return self.refusals[ip]
        instr = self.vm.chunk.ops[ip]
        found = static_refusal(instr)
        if found is not None and found != "scope":
            found = f"op {ip} ({decode(instr).name}): {found}"
        self.refusals[ip] = found
        return found


def static_refusal(instr: tuple[Any, ...]) -> str | None:
    """Why no trace can hold this instruction, whatever its operands and the kinds of its
    values ("scope", or the reason), or None. The ops it passes are written down for
    deciding without loading the tiers (`fusevm.tools.gen_native`, `fusevm.jit.native_ops`).
    """
    if instr[0] in _TRACE_OPS or global_read(instr) is not None or is_entry_read(instr):
        return None
    d = decode(instr)
    if d.spec.has(F.SCOPE):
        return "scope"
    return op_refusal(d, "block")


def record(vm: VM, steps: Steps, start: int, close: int, max_len: int,
           max_recursion: int, outer: int = 0, entry_depth: int = 0,
           loop: frozenset[int] = frozenset()) -> tuple[int, Recording | Aborted]:
    """Run the interpreter from `start` (where the VM stands) recording the path.

    Returns the ip the interpreter continues at, and the recording (control reached
    `close` in the trace's frame) or why there is none. A side trace may start inside
    `outer` calls opened by its parent trace, with `entry_depth` values on the stack above
    the parent's start: it may return from those calls and pop those values. In the
    trace's own frame the path must stay inside `loop` (the natural loop of `close`,
    when given).
    """
    chunk = vm.chunk
    ops = chunk.ops
    n = len(ops)
    stack = vm.stack
    frames = vm.frames
    base_stack = len(stack) - entry_depth
    base_frames = len(frames) - outer
    ips: list[int] = []
    depths: list[int] = []
    entries: list[int] = []  # entry ips of the inlined calls open now
    seen: set[int] = set()
    ip = start
    while True:
        if len(ips) >= max_len:
            return ip, Aborted(Abort.TOO_LONG, f"{max_len} ops")
        instr = ops[ip]
        op = instr[0]
        why = steps.refusal(ip)
        if why is not None:
            reason = Abort.SCOPE if why == "scope" else Abort.NOT_LOWERABLE
            return ip, Aborted(reason, "" if why == "scope" else why)
        if op is Op.Call:
            entry = chunk.find_sub(instr[1])
            if entry is None:
                return ip, Aborted(Abort.UNKNOWN_CALL, str(chunk.names[instr[1]]))
            if len(entries) >= MAX_INLINE_DEPTH:
                return ip, Aborted(Abort.INLINE_DEPTH, f"{MAX_INLINE_DEPTH} calls")
            if entries.count(entry) >= max_recursion:
                return ip, Aborted(Abort.RECURSION, str(chunk.names[instr[1]]))
        elif (op is Op.Return or op is Op.ReturnValue) and not entries and not outer:
            return ip, Aborted(Abort.LEAVES_FRAME)
        ips.append(ip)
        depths.append(len(stack) - base_stack)
        # An op that raises has touched only the operand stack (pops before the error):
        # keep its top to put back, so the interpreter can run the op again and raise
        # there, located and with the VM's ip where the interpreter leaves it.
        keep = max(0, min(base_stack, len(stack) - 8))
        saved = stack[keep:]
        try:
            nxt = steps.step(ip)()
        except Exception as e:
            # What the dispatch loop locates (`interp.faults`): a VMError, and any error
            # from an extension op's step (D1); from a core op anything else is a bug.
            if not isinstance(e, (VMError, RecursionError, MemoryError)) and \
                    op not in EXTENDED_OPS:
                raise
            stack[keep:] = saved
            return ip, Aborted(Abort.ERROR, f"at op {ip} ({decode(instr).name})")
        if nxt >= n or nxt < 0 or vm.halted:
            return nxt, Aborted(Abort.ENDED)
        if op is Op.Call:
            entries.append(nxt)
        elif op is Op.Return or op is Op.ReturnValue:
            if entries:
                entries.pop()
            else:
                outer -= 1
        if len(frames) != base_frames + outer + len(entries):
            return nxt, Aborted(Abort.SCOPE, "the frame stack changed under the recording")
        if len(stack) < base_stack:
            return nxt, Aborted(Abort.STACK_BELOW_ENTRY)
        if not entries and not outer:
            if nxt == close:
                return nxt, Recording(start, tuple(ips), tuple(depths), close)
            if nxt == start:
                return nxt, Aborted(Abort.SIDE_LOOP)
            if nxt in seen and nxt <= ip:
                return nxt, Aborted(Abort.INNER_LOOP, f"at op {nxt}")
            if loop and nxt not in loop:
                return nxt, Aborted(Abort.LEFT_LOOP, f"to op {nxt}")
            seen.add(ip)
        ip = nxt
