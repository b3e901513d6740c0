"""Extension ops the baseline tier calls directly: functions of their stack values.

An extension op declared with `ExtensionSet.function` is written once, as the function
`fn(*inputs)` its binder returns; the interpreter's step is derived from it
(`fusevm.interp.extapi.function_step`) and keeps it as `step.function`. Baseline code
binds that same function per VM (`callee`) and calls it on the stack locals: one Python
call, no write-back of the locals, no round trip through vm.stack. The locals an error
leaves behind are those of the derived step, which pops the inputs but the first and
replaces the first by the first output once `fn` has returned, the shape of a core body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fusevm.errors import VMError
from fusevm.instr import Decoded
from fusevm.interp.extapi import gather
from fusevm.ops.extension import run_sizes


def direct(d: Decoded) -> bool:
    """True when `d` is an extension op declared as a function of its stack values."""
    ext = d.ext
    return ext is not None and ext.spec.number in ext.owner.functions


def arity(d: Decoded) -> tuple[int, int]:
    """How many values the op takes from the stack and how many it leaves."""
    effect = d.spec.effect
    return effect.pops(d.spec, d.operands), len(effect.outputs)


def binding(ip: int, d: Decoded) -> str:
    """The statement in `make` that binds op `ip`'s function for one VM."""
    return f"x{ip} = callee(plain[{ip}], {run_sizes(d.spec, d.operands)!r}, " \
        f"{arity(d)[1]}, stack, {ip})"


def call(ip: int, d: Decoded, inputs: list[str], outputs: list[str],
         depth: int) -> tuple[str, int]:
    """The statement calling op `ip`'s function on the locals `inputs` (an operand-sized
    run of them as one list) and assigning `outputs`, and how many stack locals go back to
    vm.stack when it raises (what the derived step leaves there)."""
    sizes = run_sizes(d.spec, d.operands)
    args = [a if isinstance(a, str) else f"[{', '.join(a)}]" for a in gather(inputs, sizes)]
    expr = f"x{ip}({', '.join(args)})"
    if outputs:
        expr = f"{', '.join(outputs)}{',' if len(outputs) > 1 else ''} = {expr}"
    p, q = len(inputs), len(outputs)
    gathered = any(n is not None for n in sizes)
    return expr, depth - p + (1 if p and q and not gathered else 0)


def callee(step: Any, sizes: tuple[int | None, ...], outputs: int, stack: list[Any],
           ip: int) -> Callable[..., Any]:
    """The function the interpreter's step for op `ip` runs; for a VM that binds the op
    some other way (another set under the same ids, a factory that failed), a function
    that runs that step through vm.stack."""
    fn: Callable[..., Any] | None = getattr(step, "function", None)
    if fn is not None:
        return fn

    def through_stack(*args: Any) -> Any:
        base = len(stack)
        for arg, n in zip(args, sizes):
            if n is None:
                stack.append(arg)
            else:
                stack.extend(arg)
        try:
            nxt = step()
        except BaseException:
            del stack[base:]
            raise
        if nxt != ip + 1:
            raise VMError("an extension op compiled as a function of its stack values "
                          "did not continue with the next op")
        if outputs == 0:
            return None
        if outputs == 1:
            return stack.pop()
        values = tuple(stack[-outputs:])
        del stack[-outputs:]
        return values

    return through_stack
