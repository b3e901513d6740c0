"""Errors escaping a step, raised again located at the op that failed (D1).

What the dispatch loops do with an exception from a step: a VMError gets the op, line and
backtrace (of the op a tier says raised, when it ran many ops in one step), the VM is left
where a later `run()` would continue, and a Python error is a located VMError when an
extension op raised it (core handlers raise only VMErrors: from them it is a bug).
"""

from __future__ import annotations

from fusevm.errors import (
    BudgetExceeded,
    Interrupted,
    MemoryLimit,
    StackUnderflow,
    TypeMismatch,
    VMError,
)
from fusevm.interp.backtrace import backtrace
from fusevm.interp.names import op_name
from fusevm.ops import EXTENDED_OPS
from fusevm.values import NotAValue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from fusevm.interp.vm import VM


def _located(vm: VM, err: VMError, at: int, traced: bool = True) -> VMError:
    """`err` located at op `at` of the VM's chunk, with the call stack there."""
    chunk = vm.chunk
    err.locate(op=op_name(chunk, at), ip=at, source=chunk.source, line=chunk.line_of(at))
    return err.add_backtrace(backtrace(chunk, vm.frames, at)) if traced else err


def fault(vm: VM, e: Exception, ip: int) -> NoReturn:
    """Raise `e`, which escaped the step at `ip`, located at its op. After an interrupt
    or a spent budget the op did not run, and a later run() continues with it; after any
    other error the op stopped halfway (its operands gone, no result), so the VM refuses
    to continue until `reset()` or `rewind()`, and `vm.ip` is left after the op."""
    if isinstance(e, (Interrupted, BudgetExceeded)):
        # The op at ip did not run: a later run() starts with it.
        vm.ip = ip
        raise _located(vm, e, ip) from None
    if type(ip) is not int or not 0 <= ip <= len(vm.chunk.ops):
        # (only an extension's step can return something else than an op index)
        vm._broken = "an extension op's step returned no op index"
        raise VMError(f"an extension op's step returned {ip!r:.40}, not the index of the "
                      f"next op (0..{len(vm.chunk.ops)})") from e
    # A tier running many ops in one step says which one raised.
    at = ip if vm._fault_ip is None else vm._fault_ip
    if vm._broken is None:  # (a failure inside a block says so already)
        vm._broken = f"its run failed at op {at}"
    chunk = vm.chunk
    if isinstance(e, IndexError):
        # The verifier proved stack depths: only a misbehaving extension underflows.
        vm.ip = ip + 1
        raise _located(vm, StackUnderflow(f"stack underflow ({e})"), ip) from e
    if isinstance(e, VMError):
        vm._fault_ip = None
        vm.ip = at + 1
        raise _located(vm, e, at) from e.__cause__
    if isinstance(e, MemoryError):
        # The size limit (max_size) stops every op that grows a value; this catches
        # what it cannot foresee (an extension's own allocation).
        vm._fault_ip = None
        vm.ip = at + 1
        raise _located(vm, MemoryLimit("out of memory"), at, traced=False) from e
    if isinstance(e, RecursionError):
        vm.ip = ip + 1
        raise _located(vm, VMError("Python recursion limit reached (blocks nested too "
                                   "deeply)"), ip) from e
    if isinstance(e, NotAValue):
        vm._fault_ip = None
        vm.ip = at + 1
        raise _located(vm, TypeMismatch(f"{e} (no op makes one: an extension op or the "
                                        "host put it where the VM reads values)"), at) from e
    # A frontend's extension step failing with a Python error is that op's error
    # (D1); core handlers raise only VMErrors, so anything else from them is a bug.
    vm._fault_ip = None
    if not 0 <= at < len(chunk.ops) or chunk.ops[at][0] not in EXTENDED_OPS:
        raise e
    vm.ip = at + 1
    name = op_name(chunk, at)
    raise _located(vm, VMError(f"extension op {name} failed: {type(e).__name__}: {e}"),
                   at) from e
