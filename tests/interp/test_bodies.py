"""One definition per op: an op with a body in `fusevm.interp.bodies` has no other handler,
its interpreter step is generated from that body, and the baseline tier writes out exactly
those ops (everything else it runs through the op's own interpreter step)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fusevm.baseline.regions import inline
from fusevm.instr import decode
from fusevm.interp.bodies import BODIES
from fusevm.interp.handlers.bodies import GENERATED, module_sources
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
    # `python -m fusevm.tools.gen_handlers` rewrites the files after a body changes.
    for path, text in gen_handlers.files().items():
        assert path.read_text(encoding="utf-8") == text, path.name
    assert gen_handlers.main(["--check"]) == 0
    # and no module of a section that has no body any more is left behind
    written = {f"{name}.py" for name in module_sources()}
    assert {p.name for p in HANDLERS.glob(f"{GENERATED}*.py")} == written


def test_each_sections_generated_steps_load_with_its_first_op() -> None:
    import subprocess
    import sys
    code = ("import sys\nfrom fusevm import ChunkBuilder, Op, VM\n"
            "b = ChunkBuilder(); b.emit(Op.LoadInt, 2); b.emit(Op.LoadInt, 3); b.emit(Op.Add)\n"
            "assert VM(b.build(fuse=False)).run() == 5\n"
            "print(sorted(m.rpartition('.')[2] for m in sys.modules\n"
            "             if m.startswith('fusevm.interp.handlers.generated')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert ast.literal_eval(out) == [GENERATED, f"{GENERATED}_arithmetic",
                                     f"{GENERATED}_constants"]


def test_no_handler_module_names_an_op_that_has_a_body() -> None:
    for path in HANDLERS.glob("*.py"):
        if path.name == "bodies.py" or path.name.startswith(GENERATED):
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


def test_every_declared_body_parses_and_passes_its_checks() -> None:
    # Bodies are parsed on first use (a compile parses only its ops'): parse them all here,
    # so a body that breaks its op's rules fails a test, not a later compile.
    for op in BODIES:
        assert BODIES[op].op is op
    assert len(BODIES) == len(list(BODIES)) > 40


def test_a_body_hands_the_globals_only_to_functions_that_keep_their_types() -> None:
    # (the baseline tier keeps knowing each global's type across such a call)
    from fusevm.interp import bodies
    from fusevm.interp import semantics as sem
    bodies._make(Op.GetVar, "v = globals_[name]\nsem.unshare(globals_, name)")
    with pytest.raises(ValueError, match="sem.concat.*KEEP_GLOBAL_TYPES"):
        bodies._make(Op.GetVar, "v = sem.concat(globals_, name, 3)")
    assert all(callable(getattr(sem, name)) for name in sem.KEEP_GLOBAL_TYPES)


def test_every_sem_function_a_body_names_exists() -> None:
    from fusevm.interp import semantics as sem
    for op in BODIES:
        for node in ast.walk(BODIES[op].tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "sem":
                assert hasattr(sem, node.attr), (op.name, node.attr)
