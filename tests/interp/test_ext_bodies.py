"""Extension ops written as statements (`ExtensionSet.body`): the interpreter's function is
compiled from them and the baseline tier writes the same statements into its code; both
tiers agree on results, errors and the stack an error leaves, and no op keeps its
behaviour anywhere but its one text."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest

from fusevm import VM, ExtensionSet, VMError
from fusevm.asm import assemble
from fusevm.baseline.codegen import generate
from fusevm.baseline.regions import inline, plan
from fusevm.instr import decode
from fusevm.ops.extension import registered_sets


def _triple(v: Any) -> Any:
    if v == -13:
        raise VMError("unlucky")
    return v * 3


EXT = ExtensionSet("interp-test-bodies", first_id=0xF700, count=0x20)
EXT.body("BAddK", operands="k:U8", effect="a b -- r", formula="r = a + b + k",
         source="r = a + b + k")
EXT.body("BScale", operands="by:FLOAT", effect="a -- r", formula="r = a * by",
         source="r = a * by")
EXT.body("BTriple", effect="a -- r", formula="r = triple(a)", names={"triple": _triple},
         source="""
    t = triple(a)
    r = t
    """)
EXT.body("BCount", operands="name:NAME", effect="-- n", formula="n = globals[name] + 1",
         source="""
    old = globals_[name]
    host["seen"] = host.get("seen", 0) + 1
    n = old + 1
    """)
EXT.body("BPick", operands="which:U8", effect="a -- r", formula="r = -a for 1, a for 2, else a + 1",
         source="""
    if which == 1:
        r = -a
    elif which != 2:
        r = a + 1
    else:
        r = a
    """)
EXT.body("BSplit", effect="a -- q r", formula="q, r = divmod(a, 4)",
         source="q, r = a // 4, a % 4")

LOOP = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 1
    GetSlot 0
    BAddK 3
    BTriple
    BSplit
    Add
    SetSlot 1
    GetSlot 1
    BScale 0.5
    Pop
    GetSlot 0
    LoadInt 1
    Add
    Dup
    SetSlot 0
    LoadInt 30
    NumLt
    JumpIfTrue top
    GetSlot 1
"""


def run(text: str, baseline: bool) -> tuple[Any, VM, Any]:
    chunk = assemble(text, source="xbody.fasm")
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
    assert got_vm.slots == ref_vm.slots


def test_the_baseline_writes_the_statements_in_place_of_a_call() -> None:
    chunk = assemble(LOOP, source="xbody.fasm")
    cp = plan(chunk)
    text = "\n".join(generate(chunk, cp, r).source for r in cp.regions)
    for ip, instr in enumerate(chunk.ops):
        d = decode(instr)
        if d.ext is not None:
            assert inline(d)
            assert f"x{ip}(" not in text and f"f{ip} = plain[{ip}]" not in text
    assert "e7_triple(" in text  # the set's names bound apart, per op
    assert "* e12_by" in text  # a FLOAT operand is a bound constant, not a literal


def test_globals_and_host_data_are_the_vms() -> None:
    text = "LoadInt 41\nSetVar x\nBCount x\nBCount x\nAdd"
    for baseline in (False, True):
        value, vm, err = run(text, baseline)
        assert err is None and value == 84 and vm.host_data["seen"] == 2


class _Box:
    def __init__(self) -> None:
        self.total = 0


HOSTED = ExtensionSet("interp-test-bodies-hosted", first_id=0xF760, count=0x10,
                      hosted={"box": "box"})
HOSTED.body("HAdd", effect="a -- r", formula="box.total += a; r = box.total", source="""
    box.total += a
    r = box.total
    """)


@pytest.mark.parametrize("baseline", [False, True], ids=["interp", "baseline"])
def test_a_hosted_name_is_the_vms_host_object(baseline: bool) -> None:
    """A set's `hosted` name is `vm.host_data[key]` in both tiers, looked up when the VM
    binds the op: each VM's own object."""
    text = """
        LoadInt 0
        SetSlot 0
    top:
        GetSlot 0
        HAdd
        Pop
        GetSlot 0
        LoadInt 1
        Add
        Dup
        SetSlot 0
        LoadInt 10
        NumLt
        JumpIfTrue top
        LoadInt 0
        HAdd
    """
    boxes = []
    for _ in range(2):
        chunk = assemble(text, source="xhosted.fasm")
        vm = VM(chunk, stdout=io.StringIO(), extensions=[HOSTED], baseline=baseline)
        if baseline:
            vm._tiers.region_threshold = 1
        box = vm.host_data["box"] = _Box()
        assert vm.run() == 45 and box.total == 45
        boxes.append(box)
    assert boxes[0] is not boxes[1]
    if baseline:
        cp = plan(chunk)
        source = "\n".join(generate(chunk, cp, r).source for r in cp.regions)
        assert "e3_box = vm.hosted('box')" in source and "e3_box.total +=" in source


@pytest.mark.parametrize("baseline", [False, True], ids=["interp", "baseline"])
def test_an_error_leaves_the_stack_as_the_derived_step_does(baseline: bool) -> None:
    text = """
        LoadInt 100
        LoadInt -10
        SetSlot 0
    top:
        GetSlot 0
        BTriple
        Pop
        GetSlot 0
        LoadInt 1
        Sub
        SetSlot 0
        Jump top
    """
    _, vm, err = run(text, baseline)
    assert err is not None and err.message == "unlucky"
    assert err.op == "BTriple" and vm.slots[0] == -13
    assert vm.stack == [100, -13]  # the input stays in place, as the derived step leaves it


def test_the_interpreter_runs_the_function_made_from_the_text() -> None:
    chunk = assemble("LoadInt 1\nLoadInt 2\nBAddK 4", source="xbody.fasm")
    vm = VM(chunk, extensions=[EXT], baseline=False)
    vm.prepare()
    fn = vm._plain[2].function  # type: ignore[attr-defined]
    assert fn.body is EXT.bodies[EXT["BAddK"].id] and fn(1, 2) == 7
    assert vm.run() == 7


def test_bad_statements_are_refused_when_checked() -> None:
    s = ExtensionSet("interp-test-bodies-bad", first_id=0xF740, count=0x10)
    cases = [("BNoOut", "a -- r", "x = a", {}, "never assigns"),
             ("BUnknown", "a -- r", "r = mystery(a)", {}, "names \\['mystery'\\]"),
             ("BRebind", "a -- r", "host = 1\nr = a", {}, "rebinds"),
             ("BShadow", "a -- r", "triple = a\nr = a", {"triple": _triple}, "rebinds")]
    for name, effect, source, names, message in cases:
        s.body(name, effect=effect, source=source, names=names)
        with pytest.raises(ValueError, match=message):
            s.bodies[s[name].id].check()
    with pytest.raises(ValueError, match="operand-sized"):
        s.body("BRun", operands="n:U8", effect="items[n] -- r", source="r = 0")
    s.bodies.clear()  # the set stays registered: leave no broken op for the drift test
    s.functions.clear()


def test_every_body_of_every_set_is_its_ops_only_definition() -> None:
    """The drift test: each written op checks, its function is the one made from its
    text, and it has no factory or handler besides."""
    import fusevm.lang.awk.ops  # noqa: F401 - the awk set, whose hot ops are bodies

    seen = 0
    for ext_set in registered_sets():
        for ext_id, body in ext_set.bodies.items():
            body.check()
            assert ext_set.functions[ext_id] == body.binder
            assert ext_id not in ext_set.factories and ext_id not in ext_set.handlers
            seen += 1
    assert seen >= 8


def test_an_operand_selects_its_branch_in_the_written_code() -> None:
    text = "LoadInt 5\nBPick 1\nBPick 0"
    assert run(text, False)[0] == run(text, True)[0] == -4
    chunk = assemble("LoadInt 5\nBPick 1\nBPick 0", source="xbody.fasm")
    cp = plan(chunk)
    code = "\n".join(generate(chunk, cp, r).source for r in cp.regions)
    assert "1 == 1" not in code and "== 2" not in code and "-s0" in code
    assert run("LoadInt 5\nBPick 2", False)[0] == run("LoadInt 5\nBPick 2", True)[0] == 5


def test_float_operands_keep_their_value() -> None:
    for value in (0.25, math.inf):
        text = f"LoadFloat 2.0\nBScale {value}"
        assert run(text, False)[0] == run(text, True)[0] == 2.0 * value
