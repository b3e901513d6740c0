"""Invariants of the op table and of every view derived from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import fusevm.interp.vm  # noqa: F401 - the VM registers the handlers
from fusevm.interp.registry import FACTORIES
from fusevm.ops import BY_NAME, OPS, SCHEMA_HASH, SECTIONS, F, Kind, Op
from fusevm.ops.fuses import items as fuse_items
from fusevm.ops.table import ROWS
from fusevm.tools import gen_docs

SNAPSHOT = Path(__file__).with_name("opcodes.snapshot")


def snapshot_text() -> str:
    return "".join(f"{row.number:#04x} {row.name} {' '.join(k.value for k in row.kinds)}"
                   .rstrip() + "\n" for row in ROWS)


def test_opcode_numbers_names_and_operand_kinds_match_the_snapshot() -> None:
    # Renumbering an op breaks every serialized chunk and cache entry: it must show up as
    # a reviewed diff of tests/ops/opcodes.snapshot (regenerate it from snapshot_text()).
    assert snapshot_text() == SNAPSHOT.read_text()


def test_the_core_table_has_the_163_ops_of_ops_md_rows_1_to_21_and_22b() -> None:
    assert len(OPS) == 163
    counts = {name: len(ops) for name, ops in SECTIONS.items()}
    assert counts["Shell"] == 29
    assert counts["Math"] == 26
    assert counts["Fused"] == 11
    assert sum(counts.values()) - 29 - 26 == 108


def test_numbers_and_mnemonics_are_unique_and_match_the_enum() -> None:
    assert len({r.number for r in ROWS}) == len(ROWS)
    assert len({r.name for r in ROWS}) == len(ROWS)
    for row in ROWS:
        assert Op[row.name] == row.number
        assert Op[row.name].spec is row
        assert BY_NAME[row.name] is Op[row.name]
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", row.name), "CamelCase mnemonics (D11)"


def test_no_awk_ops_are_in_the_core_table() -> None:
    assert not [r.name for r in ROWS if r.name.startswith("Awk")]


@pytest.mark.parametrize("op", list(Op), ids=lambda op: op.name)
def test_every_op_has_exactly_one_handler(op: Op) -> None:
    assert callable(FACTORIES[op])  # a handler module loads on its ops' first lookup


@pytest.mark.parametrize("op", list(Op), ids=lambda op: op.name)
def test_effect_sizes_name_real_operands_and_formula_is_one_line(op: Op) -> None:
    spec = op.spec
    names = {o.name for o in spec.operands}
    for _, sized in spec.effect.inputs + spec.effect.outputs:
        assert sized is None or sized in names
    assert spec.formula and "\n" not in spec.formula
    assert op.__doc__ and spec.formula in op.__doc__


@pytest.mark.parametrize("op", [op for op in Op if op.spec.fuses], ids=lambda op: op.name)
def test_fused_ops_name_only_real_ops_and_bind_every_operand(op: Op) -> None:
    spec = op.spec
    assert spec.has(F.FUSED)
    assert spec.fuses is not None
    used = set(re.findall(r"\$(\w+)", spec.fuses))
    assert used == {o.name for o in spec.operands}
    for item in fuse_items(spec):
        if item.mnemonic is not None:
            assert item.mnemonic in BY_NAME, f"{item.mnemonic} in {op.name}'s expansion"
            assert not BY_NAME[item.mnemonic].spec.fuses, "expansions use core ops only"


def test_branch_flag_agrees_with_target_operands() -> None:
    for row in ROWS:
        has_target = Kind.TARGET in row.kinds
        assert has_target == row.has(F.BRANCH), row.name


def test_shell_ops_are_flagged_shell_except_the_status_ops() -> None:
    shell = {op.name for op in SECTIONS["Shell"]}
    flagged = {r.name for r in ROWS if r.has(F.SHELL)}
    assert flagged == shell - {"SetStatus", "GetStatus"}


def test_schema_hash_is_stable_for_the_same_table() -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", SCHEMA_HASH)


def test_generated_op_references_are_up_to_date() -> None:
    for path, text in gen_docs.pages().items():
        assert text == path.read_text(), (
            f"{path.name} is stale: run `python -m fusevm.tools.gen_docs`")


def _op_counts(node: ast.AST) -> bool:
    """An int, or a tuple of ints: what a per-op table of stack counts holds."""
    if isinstance(node, ast.Tuple):
        return all(_op_counts(e) for e in node.elts)
    return isinstance(node, ast.Constant) and type(node.value) is int


def _names_an_op(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
        and node.value.id == "Op"


def test_no_module_keeps_a_stack_effect_table_of_its_own() -> None:
    """Every op's pops and pushes come from its row (`OpSpec.effect`): no module outside
    `fusevm.ops` maps ops to counts (`{Op.Pop: 1, ...}`, `dict.fromkeys(ops, 2)`)."""
    src = Path(fusevm.interp.vm.__file__).resolve().parents[1]
    found = []
    for path in sorted(src.rglob("*.py")):
        if path.relative_to(src).parts[0] == "ops":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict) and node.keys and all(
                    _names_an_op(k) for k in node.keys) and all(
                    _op_counts(v) for v in node.values):
                found.append(f"{path.relative_to(src)}:{node.lineno}")
            elif isinstance(node, ast.Call) and ast.unparse(node.func) == "dict.fromkeys" \
                    and len(node.args) == 2 and _op_counts(node.args[1]):
                found.append(f"{path.relative_to(src)}:{node.lineno}")
    assert not found, "stack counts written by hand: " + ", ".join(found)
