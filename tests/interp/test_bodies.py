"""One definition per op: an op with a body in `fusevm.interp.bodies` has no other handler,
its interpreter step is generated from that body, and the baseline tier writes out exactly
those ops (everything else it runs through the op's own interpreter step)."""

from __future__ import annotations

import ast
from pathlib import Path

from fusevm.baseline.regions import inline
from fusevm.instr import decode
from fusevm.interp.bodies import BODIES
from fusevm.interp.handlers.bodies import module_source
from fusevm.interp.registry import FACTORIES
from fusevm.ops import OPS, Op
from fusevm.tools import gen_handlers

HANDLERS = Path(__file__).resolve().parents[2] / "src" / "fusevm" / "interp" / "handlers"


def test_ops_with_a_body_run_the_generated_step() -> None:
    for op in Op:
        if op.value not in OPS:
            continue
        generated = getattr(FACTORIES[op], "from_body", False)
        assert generated == (op in BODIES), op.name


def test_the_generated_handlers_are_current() -> None:
    # `python -m fusevm.tools.gen_handlers` rewrites the file after a body changes.
    assert gen_handlers.PATH.read_text(encoding="utf-8") == module_source()
    assert gen_handlers.main(["--check"]) == 0


def test_no_handler_module_names_an_op_that_has_a_body() -> None:
    for path in HANDLERS.glob("*.py"):
        if path.name in ("bodies.py", "generated.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "Op" and node.attr in {o.name for o in BODIES}:
                raise AssertionError(f"{path.name} names Op.{node.attr}, which has a body")


def test_the_baseline_writes_out_exactly_the_ops_with_a_body() -> None:
    for op in Op:
        spec = OPS.get(op.value)
        if spec is None or op in (Op.Extended, Op.ExtendedWide):
            continue
        operands = tuple(0 for _ in spec.operands)
        assert inline(decode((op, *operands))) == (op in BODIES), op.name
