"""Extension ops declared as functions of their stack values (`ExtensionSet.function`):
the interpreter's step is derived from the function and the op's stack effect, the
baseline tier calls the same function directly on its locals, and both tiers agree on
results, errors and the stack an error leaves. One implementation per op, in one protocol."""

from __future__ import annotations

import io
from typing import Any

import pytest

from fusevm import VM, ExtensionSet, VMError
from fusevm.asm import assemble
from fusevm.baseline.codegen import generate
from fusevm.baseline.regions import inline, plan
from fusevm.instr import decode
from fusevm.ops import F
from fusevm.ops.extension import registered_sets

EXT = ExtensionSet("interp-test-functions", first_id=0xF600, count=0x20)
CALLS: list[str] = []


@EXT.function("XAddK", operands="k:U8", effect="a b -- r", formula="r = a + b + k")
def x_add_k(vm: Any, operands: tuple[Any, ...]) -> Any:
    k, = operands

    def add_k(a: Any, b: Any) -> Any:
        CALLS.append("XAddK")
        return a + b + k
    return add_k


@EXT.function("XSeven", effect="-- v", formula="v = 7")
def x_seven(vm: Any, operands: tuple[Any, ...]) -> Any:
    return lambda: 7


@EXT.function("XDivmod", effect="a b -- q r", formula="q, r = divmod(a, b)")
def x_divmod(vm: Any, operands: tuple[Any, ...]) -> Any:
    return divmod


@EXT.function("XStore", effect="a b --", formula="host_data['stored'] = a - b")
def x_store(vm: Any, operands: tuple[Any, ...]) -> Any:
    def store(a: Any, b: Any) -> None:
        vm.host_data["stored"] = a - b
    return store


@EXT.function("XBoom", effect="a b c -- r", formula="fails when c is 0")
def x_boom(vm: Any, operands: tuple[Any, ...]) -> Any:
    def boom(a: Any, b: Any, c: Any) -> Any:
        if c == 0:
            raise VMError("boom")
        return a + b + c
    return boom


@EXT.function("XJoin", operands="n:U8", effect="sep items[n] last -- s",
              formula="s = sep.join(items + [last])")
def x_join(vm: Any, operands: tuple[Any, ...]) -> Any:
    def join(sep: Any, items: list[Any], last: Any) -> Any:
        assert type(items) is list
        return sep.join(str(v) for v in [*items, last])
    return join


@EXT.function("XUnbindable", effect="-- v", formula="its binder raises")
def x_unbindable(vm: Any, operands: tuple[Any, ...]) -> Any:
    raise RuntimeError("cannot bind")


LOOP = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 1
    GetSlot 0
    XAddK 3
    XSeven
    XDivmod
    Add
    SetSlot 1
    GetSlot 1
    LoadInt 1
    XStore
    GetSlot 0
    LoadInt 1
    Add
    Dup
    SetSlot 0
    LoadInt 40
    NumLt
    JumpIfTrue top
    GetSlot 1
"""


def run(text: str, baseline: bool) -> tuple[Any, VM, Any]:
    chunk = assemble(text, source="xfn.fasm")
    vm = VM(chunk, stdout=io.StringIO(), extensions=[EXT], baseline=baseline)
    if baseline:
        vm._tiers.region_threshold = 1
    try:
        return vm.run(), vm, None
    except VMError as e:
        return None, vm, e


def test_both_tiers_compute_the_same() -> None:
    ref, ref_vm, _ = run(LOOP, False)
    got, got_vm, _ = run(LOOP, True)
    assert ref == got and isinstance(ref, int)
    assert ref_vm.host_data["stored"] == got_vm.host_data["stored"]
    assert got_vm.slots == ref_vm.slots


def test_the_baseline_calls_the_function_without_the_interpreters_step() -> None:
    chunk = assemble(LOOP, source="xfn.fasm")
    cp = plan(chunk)
    sources = [generate(chunk, cp, r).source for r in cp.regions]
    text = "\n".join(sources)
    for ip, instr in enumerate(chunk.ops):
        d = decode(instr)
        if d.ext is not None:
            assert inline(d)
            assert f"x{ip}(" in text and f"f{ip} = plain[{ip}]" not in text
    CALLS.clear()
    run(LOOP, True)
    assert CALLS.count("XAddK") == 40


def test_the_interpreters_step_keeps_the_function_it_runs() -> None:
    chunk = assemble("LoadInt 1\nLoadInt 2\nXAddK 4", source="xfn.fasm")
    vm = VM(chunk, extensions=[EXT], baseline=False)
    vm.prepare()
    step = vm._plain[2]
    assert step.function(1, 2) == 7  # type: ignore[attr-defined]
    assert vm.run() == 7


@pytest.mark.parametrize("baseline", [False, True], ids=["interp", "baseline"])
def test_an_error_leaves_the_stack_as_the_derived_step_does(baseline: bool) -> None:
    text = """
        LoadInt 3
        SetSlot 0
        LoadInt 100
    top:
        LoadInt 1
        LoadInt 2
        GetSlot 0
        XBoom
        Pop
        GetSlot 0
        LoadInt 1
        Sub
        SetSlot 0
        Jump top
    """
    _, vm, err = run(text, baseline)
    assert err is not None and err.message == "boom"
    assert err.op == "XBoom" and err.ip == 6 and vm.slots[0] == 0
    # the inputs but the first are popped, the first is still in place
    assert vm.stack == [100, 1]


def test_both_tiers_report_the_same_error() -> None:
    text = "LoadInt 1\nLoadInt 2\nLoadInt 0\nXBoom"
    (_, _, a), (_, _, b) = run(text, False), run(text, True)
    assert a is not None and b is not None
    assert (type(a), a.message, a.op, a.ip) == (type(b), b.message, b.op, b.ip)


def test_a_binder_that_fails_is_the_ops_error_when_it_runs() -> None:
    _, _, err = run("XUnbindable", False)
    assert err is not None and "could not be prepared" in err.message


def test_an_op_that_jumps_cannot_be_a_function() -> None:
    s = ExtensionSet("interp-test-functions-bad", first_id=0xF640, count=0x10)
    with pytest.raises(ValueError, match="needs a factory"):
        s.function("XJump", operands="target:TARGET", effect="--")
    with pytest.raises(ValueError, match="needs a factory"):
        s.function("XBranch", effect="--", flags=F.BRANCH)
    with pytest.raises(ValueError, match="fixed number"):
        s.function("XMany", operands="n:U8", effect="-- items[n]")


def test_an_op_has_one_implementation_in_one_protocol() -> None:
    s = ExtensionSet("interp-test-functions-one", first_id=0xF660, count=0x10)
    s.declare("XOne", effect="-- v")

    @s.bind("XOne")
    def factory(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
        raise AssertionError

    @s.bind_function("XOne")
    def binder(vm: Any, operands: tuple[Any, ...]) -> Any:
        return lambda: 1

    assert s["XOne"].function is binder and s["XOne"].factory is None
    assert s.implementation(s["XOne"].id) is binder

    @s.handle("XOne")
    def handler(vm: Any) -> None:
        vm.push(1)

    assert s["XOne"].function is None and s["XOne"].handler is handler


def test_no_registered_op_is_implemented_twice() -> None:
    import fusevm.lang.awk.api  # noqa: F401 - registers the awk set
    for s in registered_sets():
        for op in s:
            forms = [f for f in (op.handler, op.factory, op.function) if f is not None]
            assert len(forms) <= 1, op.name


@pytest.mark.parametrize("baseline", [False, True], ids=["interp", "baseline"])
def test_an_operand_sized_run_comes_as_one_list(baseline: bool) -> None:
    text = """
        LoadInt 0
        SetSlot 0
    top:
        LoadConst "-"
        LoadInt 1
        LoadInt 2
        GetSlot 0
        XJoin 2
        SetSlot 1
        GetSlot 0
        LoadInt 1
        Add
        Dup
        SetSlot 0
        LoadInt 5
        NumLt
        JumpIfTrue top
        GetSlot 1
    """
    value, _, err = run(text, baseline)
    assert err is None and value == "1-2-4"


def test_awk_ops_run_one_function_in_both_tiers() -> None:
    """Drift: for every awk op declared as a function, the interpreter's step and the
    baseline's code run the very same function object (or, for an op written as
    statements, the baseline writes those statements out), and the baseline binds no
    interpreter step for it."""
    from fusevm.baseline.extbodies import callee
    from fusevm.lang.awk.api import AWK, compile_program
    from fusevm.lang.awk.state import AwkState

    chunk = compile_program('BEGIN { x = 1 } { a[$1] += $2; n = n " " length($3) } '
                            '$2 > 1 { print $1, NF; printf "%s\\n", substr($0, 2) } '
                            'END { for (k in a) s = s k; print s, n }', fuse=False)
    vm = VM(chunk, extensions=[AWK], baseline=False)
    vm.host_data["awk"] = AwkState()  # (the bodies' `st`, bound when the VM binds them)
    vm.prepare()
    cp = plan(chunk)
    text = "\n".join(generate(chunk, cp, r).source for r in cp.regions)
    seen = 0
    for ip, instr in enumerate(chunk.ops):
        d = decode(instr)
        if d.ext is None or d.ext.function is None:
            continue
        seen += 1
        step = vm._plain[ip]
        assert callee(step, (), 0, vm.stack, ip) is step.function  # type: ignore[attr-defined]
        assert f"f{ip} = plain[{ip}]" not in text
        if d.ext.id in AWK.bodies:
            assert f"x{ip}(" not in text and f"check_body(plain[{ip}]" in text
        else:
            assert f"x{ip}(" in text
    assert seen >= 10


def test_a_set_of_a_registered_name_replaces_it_only_with_the_same_range() -> None:
    """Re-creating a set reloads it (same name, same ids); another range under a taken name
    is refused rather than quietly putting the first set's ops out of reach."""
    first = ExtensionSet("interp-test-rename", first_id=0xF680, count=0x10)
    again = ExtensionSet("interp-test-rename", first_id=0xF680, count=0x10)
    assert again is not first
    with pytest.raises(ValueError, match="replaces it only with the same range"):
        ExtensionSet("interp-test-rename", first_id=0xF6A0, count=0x10)
