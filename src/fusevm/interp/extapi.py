"""What a frontend's extension-op factory works with: the operand-stack API and HALT.

A factory (`ExtensionSet.factory`, see `fusevm.ops.extension`) is called once per
instruction when a VM prepares a chunk and returns the step the dispatch loop calls:

    from fusevm.interp.extapi import HALT

    @EXT.factory("MyAdd3", operands="k:U8", effect="a b -- r", formula="r = a + b + k")
    def my_add3(vm, operands, ip):
        k, = operands
        stack = vm.stack_api          # bind what the step needs now, not per call
        pop, items = stack.pop, stack.items
        nxt = ip + 1

        def step():
            b = pop()
            items[-1] = items[-1] + b + k
            return nxt                # or a TARGET operand, or HALT
        return step

Leaving the op is the step's return value: `ip + 1` to go on, a TARGET operand to jump,
`HALT` to stop the run, and for a non-local exit `vm.unwind_to_root()` followed by
returning an ip of root code (one the verifier saw at stack depth 0). A Python exception
other than a `VMError` is reported as that op's `VMError` (D1), its cause kept.

The stack contract (`OperandStack`, one per VM, `vm.stack_api`): an op touches only the
values its declared stack effect names. `push`, `pop` and `pushn` are the list's own bound
methods (no wrapper cost); `peek`, `set_top`, `popn`, `drop` are the readable forms, and
`items`, the stack list itself (bottom first), is the fast form of the same operations for
hot ops. On `items` an op may use exactly these: `items[-k]` (the k-th value from the top),
`items[-n:]` (the top n, as a new list), `items[-1] = v` (replace the top),
`del items[-n:]` (drop n), `items.append(v)` and `items.pop()`; nothing else (no
rebinding, no sorting or reordering, no access below its declared inputs).

A function (`ExtensionSet.function`) is simpler: its binder returns `fn(*inputs)`, and
`function_step` derives the interpreter's step from it and the op's stack effect (the
shape of the core ops' generated steps: the inputs but the first are popped, the first is
replaced by the first output once `fn` has returned; with an operand-sized run among the
inputs, `gathered_step` pops them all first and passes the run as a list). The step keeps
`fn` as its `function` attribute, which the baseline tier calls directly.

Arrays and Hashes on the stack may be shared with storage locations (copy on write,
`fusevm.interp.cow`): treat popped ones as read-only, or take them with `pop_owned()`
before mutating them. A frontend's own container types (a `dict` subclass) are its
by-reference values and are never copied.
"""

from __future__ import annotations

from fusevm.ahead import function
from fusevm.interp.cow import writable
from fusevm.interp.registry import HALT, Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final, TypeVar

    T = TypeVar("T")

__all__ = ["HALT", "OperandStack", "Step", "function_step", "gathered_step"]

#: Step makers by (inputs, outputs): `make(fn, stack, nxt) -> step`.
_SHAPES: dict[tuple[int, int], Callable[[Any, list[Any], int], Step]] = {}

#: The shapes whose step makers are compiled with the package (`fusevm.ahead`); any other
#: is compiled at its first use.
AHEAD_SHAPES: Final = tuple((p, q) for p in range(5) for q in range(3))


def ahead_sources() -> list[str]:
    """The sources of the AHEAD_SHAPES' step makers (for `fusevm.tools.gen_ahead`)."""
    return [_shape_source(p, q) for p, q in AHEAD_SHAPES]


def _shape_source(p: int, q: int) -> str:
    ins = [f"a{k}" for k in range(p)]
    outs = [f"r{k}" for k in range(q)]
    lines = ["def make(fn, stack, nxt):", "    pop = stack.pop", "    push = stack.append",
             "    def step():"]
    if p and q:
        lines += [f"        {name} = pop()" for name in reversed(ins[1:])]
        lines.append("        a0 = stack[-1]")
    else:
        lines += [f"        {name} = pop()" for name in reversed(ins)]
    call = f"fn({', '.join(ins)})"
    if q == 0:
        lines.append(f"        {call}")
    elif q == 1:
        lines.append(f"        {'stack[-1]' if p else 'r0'} = {call}")
        if not p:
            lines.append("        push(r0)")
    else:
        lines.append(f"        {', '.join(outs)} = {call}")
        first = 1
        if p:
            lines.append("        stack[-1] = r0")
        else:
            first = 0
        lines += [f"        push({name})" for name in outs[first:]]
    lines += ["        return nxt", "    return step"]
    return "\n".join(lines) + "\n"


def function_step(fn: Callable[..., Any], stack: list[Any], ip: int, inputs: int,
                  outputs: int) -> Step:
    """The interpreter's step for an op that is the function `fn` of its `inputs` stack
    values, returning its `outputs` (one value, a tuple of several, or None for none)."""
    make = _SHAPES.get((inputs, outputs))
    if make is None:
        make = _SHAPES[(inputs, outputs)] = function(_shape_source(inputs, outputs), {},
                                                     "make")
    step = make(fn, stack, ip + 1)
    step.function = fn  # type: ignore[union-attr]  # what the baseline tier calls
    return step


class OperandStack:
    """The VM's operand stack as extension ops use it (see the module docstring)."""

    __slots__ = ("items", "push", "pop", "pushn")

    def __init__(self, items: list[Any]) -> None:
        #: The stack list itself, bottom first (for `items[-k]` and `items[-1] = v`).
        self.items = items
        #: push(v): put v on top.
        self.push = items.append
        #: pop() -> v: take the top value.
        self.pop = items.pop
        #: pushn(values): push each value in order (the last ends on top).
        self.pushn = items.extend

    def peek(self, depth: int = 0) -> Any:
        """The value `depth` places below the top (0 is the top), left in place."""
        return self.items[-1 - depth]

    def set_top(self, value: Any) -> None:
        """Replace the top value (pop then push, without moving the list)."""
        self.items[-1] = value

    def popn(self, n: int) -> list[Any]:
        """Take the top n values, in push order (the old top last)."""
        if n <= 0:
            return []
        items = self.items
        if n > len(items):
            raise IndexError(f"popn({n}) from a stack of {len(items)}")
        out = items[-n:]
        del items[-n:]
        return out

    def drop(self, n: int) -> None:
        """Discard the top n values."""
        if n > 0:
            if n > len(self.items):
                raise IndexError(f"drop({n}) from a stack of {len(self.items)}")
            del self.items[-n:]

    def pop_owned(self) -> Any:
        """pop(), with an Array or Hash made exclusive first, so it may be mutated."""
        writable(self.items, -1)
        return self.items.pop()

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"<OperandStack depth={len(self.items)}>"


def gather(values: list[T], sizes: tuple[int | None, ...]) -> list[T | list[T]]:
    """An op's input values in order, each operand-sized run of them as one list (`sizes`
    gives each input's length: None for a single value)."""
    args: list[T | list[T]] = []
    k = 0
    for n in sizes:
        if n is None:
            args.append(values[k])
            k += 1
        else:
            args.append(values[k:k + n])
            k += n
    return args


def gathered_step(fn: Callable[..., Any], stack: list[Any], ip: int,
                  sizes: tuple[int | None, ...], outputs: int) -> Step:
    """The interpreter's step for a function whose inputs include operand-sized runs:
    `sizes` gives each input's length (None for a single value, an int for a run, passed
    as a list); every input is popped before `fn` runs."""
    total = sum(1 if n is None else n for n in sizes)
    nxt = ip + 1
    push = stack.append

    def step() -> int:
        if total:
            values = stack[-total:]
            del stack[-total:]
        else:
            values = []
        r = fn(*gather(values, sizes))
        if outputs == 1:
            push(r)
        elif outputs:
            stack.extend(r)
        return nxt

    step.function = fn  # type: ignore[attr-defined]  # what the baseline tier calls
    return step
