"""Frameless direct calls: which functions get them, and unwinding back to the frames.

A function body whose ops the baseline writes out (bodies, extension functions, `Call`s
of other such functions, `Return`/`ReturnValue`) gets a second compiled form
(`direct.py`): a Python function of its arguments returning its result. Compiled code
runs `Call` of such a function as a Python call: no Frame, no vm.stack traffic, no trip
through the dispatch loop (V8's and PyPy's calls between optimised functions are the
model; the interpreter's frames exist only when something needs them).

Something needs them when an op raises, an interrupt is seen at a function entry or an
edge into a loop header, the call depth reaches the VM's limit or `BOUND` direct calls
(the Python stack), or control goes where the form does not follow (a jump out of the
function). Then the function raises `Leave` (or the op's error), which its handler turns
into an `Unwind` carrying the interpreter's state at that op: its ip, operand stack and
slots. Each frameless caller on the way up adds its own (its call site, the stack below
the arguments, its slots), and the region code that made the outermost direct call
rebuilds vm.frames, vm.stack and vm.slots exactly as the interpreter would have them
(`resume`), then continues at that ip in the dispatch loop, or raises the error located
there, with the backtrace of the rebuilt frames. Nothing runs twice: each op either ran
completely in the frameless code or runs in the interpreter.

Budgets: region code steps aside whenever a run has a budget (`vm._budget`), so direct
forms never run under one and need not count.
"""

from __future__ import annotations

import sys

from fusevm.chunk import Chunk
from fusevm.errors import StackUnderflow, VMError
from fusevm.interp.names import op_name
from fusevm.ops import Op
from fusevm.records import dataclass
from fusevm.values import Undef

from .regions import ChunkPlan, inline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.instr import Decoded
    from fusevm.interp.vm import VM

#: Direct calls nested in one another before the interpreter's frames take over (they
#: use the Python stack, one or two Python frames each; the interpreter's use none).
BOUND: Final = 200


def room() -> int:
    """How many direct calls may nest: `BOUND`, less under a low Python recursion limit
    (leaving 200 frames to whatever runs the VM, and two per direct call)."""
    return max(0, min(BOUND, (sys.getrecursionlimit() - 200) // 2))


@dataclass(slots=True)
class Counters:
    """Direct forms compiled (per chunk; their compile time) and bound (per VM), function
    entries bound to run in them (`thin`, per VM), the calls into them from region code
    and those entries (`entries`, not the calls between them), and unwinds to the
    interpreter."""

    forms: int = 0
    seconds: float = 0.0
    bound: int = 0
    thin: int = 0
    entries: int = 0
    unwinds: int = 0
    #: Entries into a versioned loop whose guard failed (`growth`): a direct form's
    #: checked copy ran the call from its start, or region code left for the code
    #: without the loop's assumption (a failing check at a region's entry runs its
    #: generic code instead: `compiler.COUNTERS.generic`).
    fallbacks: int = 0

    def as_dict(self) -> dict[str, float]:
        return {"direct_forms": self.forms, "direct_ms": round(self.seconds * 1e3, 3),
                "direct_bound": self.bound, "thin_entries": self.thin,
                "direct_entries": self.entries, "direct_unwinds": self.unwinds,
                "versioned_fallbacks": self.fallbacks}


STATS = Counters()


class Leave(Exception):
    """Raised in a direct form: continue in the interpreter at `target`, with the form's
    stack locals `s0 .. s<depth-1>` as the operand stack."""

    def __init__(self, target: int, depth: int) -> None:
        self.target = target
        self.depth = depth


class Unwind(Exception):
    """The interpreter's state where a direct form gave up, collected on the way out.

    `ip`, `stack`, `slots` belong to the innermost function (`error`: the exception its
    op at `ip` raised, else None: continue at `ip`); `outer` holds one (call site, stack
    below the arguments, slots) per frameless caller, innermost first."""

    def __init__(self, ip: int, stack: list[Any], slots: list[Any],
                 error: BaseException | None) -> None:
        self.ip = ip
        self.stack = stack
        self.slots = slots
        self.error = error
        self.outer: list[tuple[int, list[Any], list[Any]]] = []


#: The key of a chunk object's `eligible` entries in `Chunk.derived` (by the object: a
#: table by content would hash the chunk, which costs more than working them out).
_ELIGIBLE = "baseline.eligible"


def eligible(chunk: Chunk, cp: ChunkPlan) -> frozenset[int]:
    """The entries of the functions that get a direct form: every op of the body written
    out, a `Call` (of another such function) or a return."""
    found: frozenset[int] | None = chunk.derived.get(_ELIGIBLE)
    if found is not None:
        return found
    an = cp.analysis
    candidates: dict[int, set[int]] = {}
    for region in cp.regions:
        if region.entry not in an.arity or region.stops:
            continue
        callees: set[int] = set()
        for ip in region.ops:
            d = an.decoded[ip]
            if inline(d) or d.spec in RETURNS:
                continue
            entry = chunk.find_sub(d.operands[0]) if d.spec is _CALL else None
            if entry is None:
                break
            callees.add(entry)
        else:
            candidates[region.entry] = callees
    changed = True
    while changed:  # a function calling one without a direct form has none either
        changed = False
        for entry, callees in list(candidates.items()):
            if not callees <= candidates.keys():
                del candidates[entry]
                changed = True
    found = frozenset(candidates)
    chunk.derived[_ELIGIBLE] = found
    return found


def direct_callee(chunk: Chunk, forms: frozenset[int], d: Decoded) -> int | None:
    """The entry of the function op `d` calls when it is a `Call` of one with a direct
    form (`forms`: `eligible`), else None."""
    if d.spec is not _CALL:
        return None
    entry = chunk.find_sub(d.operands[0])
    return entry if entry in forms else None


_CALL: Final = Op.Call.spec
#: The ops a direct form turns into a Python `return`.
RETURNS: Final = (Op.Return.spec, Op.ReturnValue.spec)


def unwound(exc: BaseException, line_ip: dict[int, tuple[int, int, bool]],
            cached: tuple[int, ...], nslots: int, entry: int,
            alias: dict[int, dict[str, str]] | None = None) -> Unwind:
    """In a direct form's handler: `exc` as the Unwind to raise, with this function's
    frame added (its locals read from the traceback, as `compiler.fault` does; `alias`:
    per line, the stack locals its op reads from a slot local instead, never assigned)."""
    tb = exc.__traceback__
    assert tb is not None
    values = tb.tb_frame.f_locals
    names = alias.get(tb.tb_lineno) if alias else None
    if names:
        values = {**values, **{k: values.get(v) for k, v in names.items()}}
    slots = [Undef] * nslots
    for k in cached:
        slots[k] = values.get(f"l{k}", Undef)
    found = line_ip.get(tb.tb_lineno)
    ip, keep = (entry, 0) if found is None else found[:2]
    if type(exc) is Unwind:
        exc.outer.append((ip, [values.get(f"s{k}") for k in range(keep)], slots))
        exc.__traceback__ = None
        return exc
    if type(exc) is Leave:
        return Unwind(exc.target, [values.get(f"s{k}") for k in range(exc.depth)], slots,
                      None)
    if isinstance(exc, IndexError):
        exc = StackUnderflow(f"stack underflow ({exc})")
    return Unwind(ip, [values.get(f"s{k}") for k in range(keep)], slots, exc)


def resume(vm: VM, u: Unwind, line_ip: dict[int, tuple[int, int, bool]],
           written: tuple[int, ...]) -> int:
    """In region code's handler, for an Unwind out of the direct call on the line the
    traceback names: put the region's own state back where the interpreter keeps it,
    push a frame per frameless function, and return the ip to continue at (or raise the
    error located at its op)."""
    STATS.unwinds += 1
    tb = u.__traceback__
    assert tb is not None
    site, keep = line_ip[tb.tb_lineno][:2]
    values = tb.tb_frame.f_locals
    vm.stack.extend(values.get(f"s{k}") for k in range(keep))
    slots = vm.slots
    for k in written:
        slots[k] = values.get(f"l{k}")
    return resumed(vm, u, u.outer, site + 1)


def resumed(vm: VM, u: Unwind, outer: list[tuple[int, list[Any], list[Any]]],
            ret: int) -> int:
    """The end of a resume, once the caller's own state is back: a frame for each
    frameless function of `outer` (innermost first; the outermost returning to `ret`) and
    for the innermost one, its stack and slots, and the ip to continue at (or the error
    located at its op, raised)."""
    from fusevm.interp.vm import Frame

    stack = vm.stack
    frames = vm.frames
    for call_ip, below, slots in reversed(outer):
        frames.append(Frame(slots, ret, len(stack), Frame.CALL))
        stack.extend(below)
        ret = call_ip + 1
    frames.append(Frame(u.slots, ret, len(stack), Frame.CALL))
    stack.extend(u.stack)
    vm.slots = u.slots
    u.__traceback__ = None
    error = u.error
    if error is None:
        return u.ip
    vm._fault_ip = u.ip
    if isinstance(error, VMError):
        chunk = vm.chunk
        error.locate(op=op_name(chunk, u.ip), ip=u.ip, source=chunk.source,
                     line=chunk.line_of(u.ip))
    raise error
