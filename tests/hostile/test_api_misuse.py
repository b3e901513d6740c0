"""The public API misused: a clear TypeError/ValueError for a wrong argument, a located
VMError for what goes wrong in a run, never an obscure Python error from deep inside or a
silently wrong result."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fusevm import (
    VM,
    BudgetExceeded,
    BuildError,
    Chunk,
    ChunkBuilder,
    ExtensionSet,
    Label,
    Op,
    VMError,
    fuse,
    unfuse,
)
from fusevm.asm import assemble
from fusevm.jit import TraceJitConfig, set_config

EXT = ExtensionSet("api-misuse", first_id=0xFB00, count=0x20)


def _step_returning(value: Any) -> Any:
    def factory(vm: VM, operands: tuple[Any, ...], ip: int) -> Any:
        def step() -> Any:
            vm.stack_api.push(1)
            return value
        return step
    return factory


BAD_IPS = {"None": None, "str": "x", "float": 1.5, "past-the-end": 10**6,
           "negative": -10**6, "minus-one": -1}
for _i, (_name, _value) in enumerate(BAD_IPS.items()):
    EXT.factory(f"TBadIp{_i}", effect="-- a")(_step_returning(_value))


@EXT.op("TPushesTwo", effect="-- a")
def t_pushes_two(vm: VM) -> None:
    vm.push(1)
    vm.push(2)


@EXT.op("TPushesNone", effect="-- a")
def t_pushes_none(vm: VM) -> None:
    pass


@EXT.function("TNotATuple", effect="-- a b")
def t_not_a_tuple(vm: VM, operands: tuple[Any, ...]) -> Any:
    return lambda: "ok"


@EXT.function("TNoFunction", effect="-- a")
def t_no_function(vm: VM, operands: tuple[Any, ...]) -> Any:
    return 5


def _run(text: str, baseline: bool = False, **kw: Any) -> Any:
    return VM(assemble(text, source="misuse.fasm", extensions=[EXT]), extensions=[EXT],
              baseline=baseline, stdout=io.StringIO(), **kw).run()


# -- runs --------------------------------------------------------------------------------

@pytest.mark.parametrize("baseline", [False, True], ids=["interp", "baseline"])
@pytest.mark.parametrize("index", range(len(BAD_IPS)), ids=list(BAD_IPS))
def test_a_step_that_returns_no_op_index_is_an_error(baseline: bool, index: int) -> None:
    with pytest.raises(VMError, match="step returned .*, not the index of the next op"):
        _run(f"TBadIp{index}\nLoadInt 2\nAdd\nLoadInt 100\nMul", baseline)


@pytest.mark.parametrize("baseline", [False, True], ids=["interp", "baseline"])
@pytest.mark.parametrize(("text", "match"), [
    ("LoadInt 10\nTPushesTwo\nAdd", r"left \+2 values on the stack where its effect"),
    ("LoadInt 10\nTPushesNone\nAdd", r"left \+0 values on the stack where its effect"),
    ("TNotATuple\nAdd", "returned 'ok', not a tuple of its 2 outputs"),
    ("TNoFunction", "its binder returned 5, not a function"),
], ids=["pushes-two", "pushes-none", "not-a-tuple", "no-function"])
def test_an_extension_op_that_breaks_its_declaration_is_stopped_there(
        baseline: bool, text: str, match: str) -> None:
    with pytest.raises(VMError, match=match) as info:
        _run(text, baseline)
    assert info.value.op is not None and info.value.op.startswith("T")


def test_a_budget_counts_a_fused_loops_general_iterations() -> None:
    # (a Float total: the loop's general form, one iteration per budgeted step, where a
    # step used to run 4,096 of them)
    chunk = assemble("LoadFloat 0.5\nSetSlot 0\nLoadInt 0\nSetSlot 1\n"
                     "AccumSumLoop 0 1 1000000000\nGetSlot 0\nReturnValue")
    vm = VM(chunk, baseline=False)
    with pytest.raises(BudgetExceeded):
        vm.run(max_steps=200)
    assert 0 < vm.slots[1] <= 200


# -- VM arguments --------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(caps="none"), TypeError, "caps must be"),
    (dict(caps=True), TypeError, "caps must be"),
    (dict(extensions="awk"), TypeError, "extensions must be a list"),
    (dict(extensions=None), TypeError, "extensions must be a list"),
    (dict(extensions=["awk"]), TypeError, "register takes an ExtensionSet"),
], ids=["caps-str", "caps-bool", "extensions-str", "extensions-none", "extensions-of-str"])
def test_vm_arguments_of_the_wrong_type_are_refused(kwargs: dict[str, Any], error: type,
                                                    match: str) -> None:
    with pytest.raises(error, match=match):
        VM(assemble("LoadInt 1"), **kwargs)


@pytest.mark.parametrize(("args", "error", "match"), [
    (("x", print), ValueError, "a builtin id must be an int"),
    ((1.5, print), ValueError, "a builtin id must be an int"),
    ((True, print), ValueError, "a builtin id must be an int"),
    ((1, 5), TypeError, "must be callable"),
    ((1, print, 5), TypeError, "name must be a str"),
], ids=["id-str", "id-float", "id-bool", "not-callable", "name-int"])
def test_register_builtin_checks_its_arguments(args: tuple[Any, ...], error: type,
                                               match: str) -> None:
    with pytest.raises(error, match=match):
        VM(assemble("LoadInt 1")).register_builtin(*args)


class _IntLines:
    def readline(self) -> int:
        return 5


class _Gone:
    def readline(self) -> str:
        raise OSError("gone")


@pytest.mark.parametrize(("stdin", "match"), [
    (io.BytesIO(b"x\n"), "returned bytes"), (_IntLines(), "returned int"), (_Gone(), "gone"),
], ids=["bytes", "int", "oserror"])
def test_a_stdin_that_gives_no_text_is_a_located_error(stdin: Any, match: str) -> None:
    with pytest.raises(VMError, match=f"cannot read input: .*{match}") as info:
        VM(assemble("ReadLine\nReturnValue"), stdin=stdin).run()
    assert info.value.op == "ReadLine"


def test_a_stdout_that_takes_no_text_is_a_located_error() -> None:
    with pytest.raises(VMError, match="stdout must be a text stream") as info:
        VM(assemble("LoadInt 1\nPrintLn 1"), stdout=io.BytesIO()).run()
    assert info.value.op == "PrintLn"


def test_ops_that_need_a_frontends_host_data_say_so() -> None:
    from fusevm.lang.awk.api import AWK, compile_program
    with pytest.raises(VMError, match=r"no host_data\['awk'\]"):
        VM(compile_program("BEGIN { print 1 }"), extensions=[AWK]).run()


# -- chunks and the builder ----------------------------------------------------------------

def test_a_chunk_changed_after_it_was_verified_is_verified_and_hashed_again() -> None:
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 1)
    chunk = b.build()
    digest = chunk.digest()
    chunk.ops = ((Op.LoadInt, 5),)
    assert not chunk.is_verified()
    assert VM(chunk).run() == 5 and chunk.digest() != digest
    chunk.constants = (object(),)
    with pytest.raises(BuildError, match="not a VM value"):
        VM(chunk)
    chunk.constants = ()
    chunk.ops = ((Op.LoadConst, 5),)
    with pytest.raises(BuildError, match="out of range"):
        VM(chunk)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda b: b.add_block_range(0.5, 1.9), BuildError, "a Label or an op index"),
    (lambda b: b.add_sub_entry("f", 0.7), BuildError, "a Label or an op index"),
    (lambda b: b.add_sub_entry("f", "x"), BuildError, "a Label or an op index"),
    (lambda b: b.bind(3), TypeError, "bind takes a Label"),
    (lambda b: b.reserve_slots("x"), BuildError, "a slot count must be an int"),
    (lambda b: b.emit(Op, 1), TypeError, "emit needs an Op or an ExtOp"),
    (lambda b: b.emit(Op.LoadFloat, 10**400), BuildError, "too large for a float"),
    (lambda b: b.patch_jump(b.emit(Op.Jump, 0), -5), BuildError, "outside the TARGET"),
    (lambda b: b.patch_jump(b.emit(Op.Jump, 0), "x"), BuildError, "must be an integer"),
], ids=["block-float", "entry-float", "entry-str", "bind-int", "slots-str", "emit-enum",
        "float-overflow", "patch-negative", "patch-str"])
def test_builder_calls_with_wrong_arguments_are_refused(call: Any, error: type,
                                                        match: str) -> None:
    with pytest.raises(error, match=match):
        call(ChunkBuilder())


def test_a_label_can_still_be_bound_and_used() -> None:
    b = ChunkBuilder()
    end = Label("end")
    b.emit(Op.Jump, end)
    b.emit(Op.LoadInt, 1)
    b.bind(end)
    b.emit(Op.LoadInt, 2)
    assert VM(b.build()).run() == 2


@pytest.mark.parametrize("call", [lambda: fuse(None), lambda: unfuse(5)],
                         ids=["fuse", "unfuse"])
def test_fuse_and_unfuse_take_a_chunk(call: Any) -> None:
    with pytest.raises(TypeError, match="expected a Chunk"):
        call()


def test_fuse_verifies_a_chunk_it_is_given_unverified() -> None:
    with pytest.raises(BuildError, match="out of range"):
        fuse(Chunk([(Op.LoadConst, 3)], lines=[1]))


@pytest.mark.parametrize(("args", "kwargs"), [
    ((None,), {}), ((b"LoadInt 1",), {}), (("LoadInt 1",), dict(extensions=None)),
    (("LoadInt 1",), dict(extensions="awk")), (("LoadInt 1",), dict(extensions=[1])),
], ids=["none", "bytes", "extensions-none", "extensions-str", "extensions-int"])
def test_assemble_checks_its_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        assemble(*args, **kwargs)


# -- frontends' APIs -----------------------------------------------------------------------

def test_the_frontends_compile_apis_take_text() -> None:
    from fusevm.lang.awk.api import compile_program
    from fusevm.lang.sh.api import compile_script
    with pytest.raises(TypeError, match="an awk program is a str"):
        compile_program(b"BEGIN {}")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="assigned must be a set"):
        compile_program("BEGIN {}", assigned="x")  # type: ignore[arg-type]
    assert compile_program("BEGIN { x = 1 }", assigned=["x"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a shell script is a str"):
        compile_script(b"echo hi")  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["echo " + "$(" * 400 + "true" + ")" * 400,
                                  "if true; then " * 400 + ":" + "; fi" * 400],
                         ids=["command-substitution", "if"])
def test_a_script_nested_too_deeply_for_the_compiler_is_a_build_error(text: str) -> None:
    from fusevm.lang.sh.api import compile_script
    with pytest.raises(BuildError, match="nested too deeply"):
        compile_script(text)


def test_python_m_fusevm_sh_reports_a_command_past_a_limit_in_one_line(
        tmp_path: Path) -> None:
    script = tmp_path / "deep.sh"
    script.write_text("echo " + "$(" * 150 + "true" + ")" * 150 + "\n")
    proc = subprocess.run([sys.executable, "-m", "fusevm.sh", str(script)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "nested more than" in proc.stderr and "Traceback" not in proc.stderr


# -- configuration and command line --------------------------------------------------------

@pytest.mark.parametrize("changes", [
    dict(block_threshold="x"), dict(region_threshold=-1), dict(enabled="no"),
    dict(first_pipeline="O9"), dict(cache_dir=5), dict(reopt_codegen=True),
    dict(reopt_after_seconds=float("nan")), dict(cache_max_bytes=-1),
], ids=["threshold-str", "threshold-negative", "enabled-str", "pipeline", "cache-dir-int",
        "codegen-bool", "seconds-nan", "cap-negative"])
def test_a_jit_configuration_the_tiers_cannot_use_is_refused(changes: dict[str, Any]
                                                             ) -> None:
    from fusevm.jit import get_config
    before = get_config()
    with pytest.raises((TypeError, ValueError), match="TraceJitConfig"):
        set_config(TraceJitConfig(**changes))  # type: ignore[arg-type]
    assert get_config() is before


def test_an_extension_module_that_fails_as_it_loads_is_reported(tmp_path: Path) -> None:
    (tmp_path / "failing_ext.py").write_text("1 / 0\n")
    program = tmp_path / "p.fasm"
    program.write_text("LoadInt 1\n")
    proc = subprocess.run([sys.executable, "-m", "fusevm", "run", "--ext",
                           "failing_ext:EXT", str(program)], capture_output=True, text=True,
                          timeout=120, env={**_env(), "PYTHONPATH": _path(tmp_path)})
    assert proc.returncode == 1, proc.stderr
    assert "importing 'failing_ext' failed: ZeroDivisionError" in proc.stderr


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "x"])
def test_bench_time_must_be_a_number_of_seconds(value: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "fusevm", "bench", "--time", value],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "is not a number of seconds" in proc.stderr


def _env() -> dict[str, str]:
    import os
    return dict(os.environ)


def _path(extra: Path) -> str:
    import os
    return os.pathsep.join([str(extra), *sys.path])


def test_a_handler_that_cannot_load_is_a_located_vm_error() -> None:
    """A process with no descriptor left cannot read an op's handler module, which loads
    with the first chunk that uses it: the run fails with a VMError at that op."""
    code = ("import resource, sys\n"
            "from fusevm import VM, VMError\n"
            "from fusevm.asm import assemble\n"
            "chunk = assemble('LoadInt 1\\nLoadInt 2\\nAdd\\nPrintLn 1', source='p.fasm')\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (3, 3))\n"
            "try:\n"
            "    VM(chunk).run()\n"
            "except VMError as e:\n"
            "    print(e.op, e.ip, e.source, e.message)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    op, ip, source, message = proc.stdout.split(" ", 3)
    assert (op, ip, source) == ("LoadInt", "0", "p.fasm")
    assert message.startswith("cannot load an op's handler: OSError: [Errno 24]")
