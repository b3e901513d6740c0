"""Handlers for CallBuiltin and the extension point (Extended / ExtendedWide)."""

from __future__ import annotations

from fusevm.errors import UnknownExtension, VMError
from fusevm.instr import decode_ext
from fusevm.interp.cow import writable
from fusevm.interp.extapi import function_step, gathered_step
from fusevm.interp.registry import HALT, Step, handler
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.ops.extension import run_sizes
from fusevm.values import INT_MAX, INT_MIN, NativeFn, Ref, Status, Undef, UndefType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Types a builtin's result may have (checked at the top level only: cheap, and enough to
#: keep a stray Python object or an out-of-range int off the stack).
_CONTAINERS = frozenset({list, dict})
_VALUE_TYPES = frozenset({UndefType, bool, int, float, str, list, dict, Status, Ref, NativeFn})


@handler(Op.CallBuiltin)
def call_builtin(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    builtin, argc = operands
    stack = vm.stack
    builtins = vm.builtins
    nxt = ip + 1

    def step() -> int:
        fn = builtins.get(builtin)
        if fn is None:
            raise UnknownExtension(f"no builtin is registered with id {builtin}")
        if argc:
            args = stack[-argc:]
            del stack[-argc:]
            # A builtin may mutate its arguments: hand it containers no one else holds.
            for i in range(argc):
                if type(args[i]) in _CONTAINERS:
                    writable(args, i)
        else:
            args = []
        try:
            r = fn(vm, *args)
        except VMError:
            raise
        except Exception as e:
            # Any other failure, IndexError included (which the run loop would otherwise
            # report as a stack underflow), is this builtin's error (D1).
            raise VMError(f"builtin {builtin} failed: {type(e).__name__}: {e}") from e
        if r is None:
            r = Undef
        elif type(r) not in _VALUE_TYPES or (type(r) is int and not INT_MIN <= r <= INT_MAX):
            raise VMError(f"builtin {builtin} returned {r!r:.60}, which is not a VM value")
        stack.append(r)
        if vm.halted:
            return HALT
        return nxt
    return step


@handler(Op.Extended, Op.ExtendedWide)
def extended(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    """Bind an extension op: its set's factory, or the adapter around a plain handler."""
    ext_id, payload = operands
    try:
        decoded = decode_ext(ext_id, payload)
    except UnknownExtension:
        def unknown() -> int:
            raise UnknownExtension(f"no extension set declares op id {ext_id:#x}")
        return unknown
    ext = decoded.ext
    assert ext is not None
    try:
        owner, fn = vm.ext_binding(ext_id, ext.name)
    except UnknownExtension as e:
        err = e

        def unregistered() -> int:
            raise UnknownExtension(err.message)
        return unregistered
    args = decoded.operands
    if owner.factories.get(ext_id) is fn:
        return _bind(vm, fn, args, ext.name, ip)
    if owner.functions.get(ext_id) is fn:
        return _bind(vm, _function_factory(fn, ext.spec), args, ext.name, ip)
    return _adapter(vm, fn, args, ext.name, ip, ext.spec)


def _function_factory(binder: Any, spec: Any) -> Any:
    """The step factory of an op declared as a function of its stack values."""
    effect = spec.effect
    p, q = len(effect.inputs), len(effect.outputs)
    if all(sized is None for _, sized in effect.inputs):
        def factory(vm: VM, args: tuple[Any, ...], ip: int) -> Step:
            return function_step(_function(binder, vm, args, spec.name, q), vm.stack, ip,
                                 p, q)
        return factory

    def gathering(vm: VM, args: tuple[Any, ...], ip: int) -> Step:
        return gathered_step(_function(binder, vm, args, spec.name, q), vm.stack, ip,
                             run_sizes(spec, args), q)
    return gathering


def _function(binder: Any, vm: VM, args: tuple[Any, ...], name: str, q: int) -> Any:
    """The function `binder` gives for one instruction: checked to be one, and for an op
    of several outputs wrapped to check it returns a tuple of that many (a str or a list
    would otherwise be unpacked into them), in both tiers, which both call it."""
    fn = binder(vm, args)
    if not callable(fn):
        raise TypeError(f"its binder returned {fn!r:.60}, not a function")
    if q < 2 or getattr(fn, "body", None) is not None:  # (statements' own: a tuple of q)
        return fn

    def several(*inputs: Any) -> Any:
        out = fn(*inputs)
        if type(out) is not tuple or len(out) != q:
            raise VMError(f"extension op {name} returned {out!r:.60}, not a tuple of its "
                          f"{q} outputs")
        return out
    return several


def _bind(vm: VM, factory: Any, args: tuple[Any, ...], name: str, ip: int) -> Step:
    """The factory's step; a factory that fails or returns no callable gives a step that
    raises that as the op's error when it runs (D1), as an unregistered op does."""
    problem: Exception
    try:
        step = factory(vm, args, ip)
    except Exception as e:
        problem = VMError(f"extension op {name} could not be prepared: {type(e).__name__}: {e}")
        problem.__cause__ = e
    else:
        if callable(step):
            return step  # type: ignore[no-any-return]
        problem = VMError(f"extension op {name}: its factory returned {step!r:.60}, "
                          "not a step function")

    def failed() -> int:
        raise problem
    return failed


def _adapter(vm: VM, fn: Any, args: tuple[Any, ...], name: str, ip: int,
             spec: Any) -> Step:
    """A step for a plain `handler(vm, *operands)`: jumps and halts come back through the
    side channels `vm.jump()` and `vm.halt()` set. A handler that leaves the stack
    deeper or shallower than its declared effect says is stopped there, where the
    verifier's depths would otherwise be wrong for every op after it."""
    nxt = ip + 1
    effect = spec.effect
    stack = vm.stack
    moves = (None if any(sized is not None for _, sized in effect.inputs + effect.outputs)
             else len(effect.outputs) - len(effect.inputs))

    def step() -> int:
        vm._jump = None
        depth = len(stack)
        try:
            fn(vm, *args)
        except VMError:
            raise
        except IndexError:
            raise
        except Exception as e:
            raise VMError(f"extension op {name} failed: {type(e).__name__}: {e}") from e
        if vm.halted:
            return HALT
        if moves is not None and len(stack) - depth != moves:
            raise VMError(f"extension op {name} left {len(stack) - depth:+d} values on the "
                          f"stack where its effect ({effect.text}) says {moves:+d}")
        target = vm._jump
        if target is not None:
            vm._jump = None
            return target
        return nxt
    return step
