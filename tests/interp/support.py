"""Helpers shared by the interpreter tests: build a chunk, run it, inspect the outcome.

Two ways in: `asm(text)` assembles fusevm assembly (labels, `.sub`, `.block`), and
`apply(op, *values)` pushes each value through the constant pool and then runs one op,
which is how the table-driven tests feed the same op every kind of value. Both build
without fusion, so the op under test is the op that runs. `EXECUTED` records every core op
a test in this directory actually dispatched (see conftest.py and test_op_coverage.py).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from fusevm import VM, ChunkBuilder, Op
from fusevm.asm import assemble
from fusevm.chunk import Chunk
from fusevm.values import same_value

SOURCE = "test.fasm"
INT_MAX = 2**63 - 1
INT_MIN = -(2**63)
NAN = math.nan
INF = math.inf

#: Core ops dispatched by some test in tests/interp (filled in by conftest.py).
EXECUTED: set[Op] = set()


@dataclass
class Run:
    """The outcome of one run: the value run() returned, the VM, and what it printed."""

    value: Any
    vm: VM
    out: str

    @property
    def stack(self) -> list[Any]:
        """The whole final stack, bottom first, including the value run() popped."""
        rest = list(self.vm.stack)
        return rest if self.value is None else [*rest, self.value]


def run_chunk(chunk: Chunk, *, stdin: str | None = None, **vm_options: Any) -> Run:
    out = io.StringIO()
    vm = VM(chunk, stdout=out, stdin=io.StringIO(stdin if stdin is not None else ""),
            **vm_options)
    value = vm.run()
    return Run(value, vm, out.getvalue())


def assemble_text(text: str, source: str = SOURCE) -> Chunk:
    return assemble(text, source=source)


def asm(text: str, *, stdin: str | None = None, **vm_options: Any) -> Run:
    """Assemble `text` (unfused) and run it."""
    return run_chunk(assemble_text(text), stdin=stdin, **vm_options)


def builder_for(*values: Any, source: str = SOURCE) -> ChunkBuilder:
    """A builder whose first ops push `values` (each through LoadConst, so kinds survive)."""
    b = ChunkBuilder(source=source)
    for i, v in enumerate(values):
        b.emit(Op.LoadConst, b.add_constant(v), line=i + 1)
    return b


def apply(op: Op, *values: Any, operands: tuple[Any, ...] = (), **vm_options: Any) -> Run:
    """Push `values` (first value deepest), run `op` with `operands`, and return the run."""
    b = builder_for(*values)
    b.emit(op, *operands, line=len(values) + 1)
    return run_chunk(b.build(fuse=False), **vm_options)


def result_of(op: Op, *values: Any, operands: tuple[Any, ...] = ()) -> Any:
    """The value `op` leaves on top after `values` were pushed."""
    return apply(op, *values, operands=operands).value


def same(actual: Any, expected: Any) -> bool:
    """Variant-sensitive equality: 1, 1.0 and True differ; NaN equals NaN; -0.0 != 0.0."""
    return type(actual) is type(expected) and same_value(actual, expected)


def assert_same(actual: Any, expected: Any) -> None:
    assert same(actual, expected), f"got {actual!r} ({type(actual).__name__}), " \
                                   f"expected {expected!r} ({type(expected).__name__})"


def case_id(value: Any) -> str:
    """A readable pytest id for a table row value."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
