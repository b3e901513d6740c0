"""Helpers for the fusion tests: compact chunk text, and a step-bounded run that records state.

`compact` shows what fusion may change (ops, targets, entries, block ranges) and nothing it
may not (pools, source), so golden tests compare it. `run_bounded` runs a chunk from a given
initial state with a step budget, so a test can compare a fused op with a loop whose
unfused form would run for a very long time, and skip such cases instead of hanging.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.instr import decode
from fusevm.interp.vm import VM
from fusevm.ops import Kind
from fusevm.values import copy_value, same_value


def _labels(chunk: Chunk) -> set[int]:
    out = {ip for _, ip in chunk.sub_entries}
    for a, b in chunk.block_ranges:
        out.update((a, b))
    for ins in chunk.ops:
        out.update(decode(ins).targets())
    return out


def compact(chunk: Chunk, lines: bool = False) -> str:
    """Ops one per line, targets as labels L<ip>; entries and block ranges up front."""
    out = [f".sub {chunk.names[n]} L{ip}" for n, ip in chunk.sub_entries]
    out += [f".block L{a} L{b}" for a, b in chunk.block_ranges]
    labels = _labels(chunk)
    for ip, ins in enumerate(chunk.ops):
        if ip in labels:
            out.append(f"L{ip}:")
        d = decode(ins)
        words = [d.name]
        for o, v in zip(d.spec.operands, d.operands):
            if o.kind is Kind.TARGET:
                words.append(f"L{v}")
            elif o.kind is Kind.NAME:
                words.append(chunk.names[v])
            elif o.kind is Kind.CONST:
                words.append(repr(chunk.constants[v]))
            else:
                words.append(repr(v))
        text = " ".join(words)
        out.append(f"    {text}" + (f"  @{chunk.lines[ip]}" if lines else ""))
    if len(chunk.ops) in labels:
        out.append(f"L{len(chunk.ops)}:")
    return "\n".join(out)


TIMEOUT = "timeout"


class _OutOfBudget(Exception):
    """Raised through the dispatch loop when a run exceeds its step budget."""


@dataclass
class Outcome:
    """What a run left behind: error class (or None), stack, root slots, globals, output."""

    error: type[VMError] | None
    stack: list[Any]
    slots: list[Any]
    globals: list[Any]
    output: str = ""
    steps: int = 0
    result: Any = field(default=None)


def same_list(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))


def run_bounded(chunk: Chunk, *, strict: bool = False, budget: int = 10_000,
                stack: list[Any] | None = None, slots: dict[int, Any] | None = None,
                globals_: dict[int, Any] | None = None) -> Outcome | str:
    """Run `chunk` from the given state for at most `budget` ops; TIMEOUT if it needs more.

    The state is installed in place (handlers hold on to the VM's lists).
    """
    out = io.StringIO()
    vm = VM(chunk, strict_int=strict, stdout=out, baseline=False)
    for v in stack or ():
        vm.stack.append(copy_value(v))
    for i, v in (slots or {}).items():
        vm.slots[i] = copy_value(v)
    for i, v in (globals_ or {}).items():
        vm.globals[i] = copy_value(v)
    # Count every op, including those a higher-order op runs in its block (the VM
    # dispatches those from the same step list).
    steps = 0

    def counted(step: Any) -> Any:
        def run() -> int:
            nonlocal steps
            steps += 1
            if steps > budget:
                raise _OutOfBudget
            return step()  # type: ignore[no-any-return]
        return run

    vm._code = [counted(step) for step in vm.prepare()]
    error: type[VMError] | None = None
    try:
        vm._dispatch(0, None)
    except _OutOfBudget:
        return TIMEOUT
    except VMError as e:
        error = type(e)
    return Outcome(error, list(vm.stack), list(vm.slots), list(vm.globals), out.getvalue(),
                   steps)


def run_program(chunk: Chunk, *, strict: bool = False, stdin: str = "") -> Outcome:
    """Run a whole program the ordinary way (vm.run()), capturing output and result."""
    out = io.StringIO()
    vm = VM(chunk, strict_int=strict, stdout=out, stdin=io.StringIO(stdin),
            baseline=False)
    error: type[VMError] | None = None
    result: Any = None
    try:
        result = vm.run()
    except VMError as e:
        error = type(e)
    return Outcome(error, list(vm.stack), list(vm.root.slots), list(vm.globals),
                   out.getvalue(), result=result)
