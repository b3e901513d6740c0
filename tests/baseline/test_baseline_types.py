"""The baseline tier's type specialisation: what it folds, what it may reorder, that the
annotations it trusts are true, and that its checked assumptions never change a result
(types changing mid-loop, functions called with other types, errors inside it)."""

from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "jit"))

from oracle import compare, snapshot  # noqa: E402
from progs import RandomSource, generate  # noqa: E402

from fusevm import VM, VMError  # noqa: E402
from fusevm.asm import assemble  # noqa: E402
from fusevm.baseline import BaselineHook, compiler, pieces, types  # noqa: E402
from fusevm.baseline.codegen import _Gen  # noqa: E402
from fusevm.baseline.codegen import generate as generate_source  # noqa: E402
from fusevm.baseline.regions import plan  # noqa: E402
from fusevm.instr import Decoded  # noqa: E402
from fusevm.interp import semantics as sem  # noqa: E402
from fusevm.interp.bodies import BODIES  # noqa: E402
from fusevm.ops import Kind, Op  # noqa: E402
from fusevm.values import Undef, same_value  # noqa: E402

from baseline_kit import Outcome, agree, outcome


def _code(source: str, env: types.Env) -> str:
    stmts, _ = types.specialize(ast.parse(source).body, env)
    return "\n".join(ast.unparse(s) for s in stmts)


def test_type_tests_of_known_locals_fold_to_one_path() -> None:
    body = ("if type(a) is int and type(b) is int:\n    r = a + b\n"
            "else:\n    r = sem.add(a, b, strict)")
    assert _code(body, {"a": int, "b": int}) == "r = a + b"
    assert _code(body, {"a": float, "b": int}) == "r = sem.add(a, b, strict)"
    assert "if" in _code(body, {"a": int})  # b unknown: both paths stay


def test_the_env_flows_through_assignments_and_joins_after_if() -> None:
    stmts, env = types.specialize(ast.parse(
        "x = a + 1\nif c:\n    y = x < 3\nelse:\n    y = 1.0\nz = sem.num_lt(x, 2)").body,
        {"a": int})
    assert env["x"] is int and env["z"] is bool and "y" not in env


def test_known_bools_test_truth_directly() -> None:
    assert _code("taken = c is True or (c is not False and truthy(c))", {"c": bool}) \
        == "taken = c"
    assert _code("taken = c is False or (c is not True and (not truthy(c)))",
                 {"c": bool}) == "taken = not c"


def test_forward_folds_single_use_values_and_drops_dead_stores() -> None:
    stmts = [s for s in ast.parse("s0 = l0\ns1 = 10\ns0 = s0 < s1\ntaken = s0").body
             if isinstance(s, ast.Assign)]
    out = types.forward(stmts, {"s0", "s1"})
    assert [ast.unparse(s) for s in out] == ["taken = l0 < 10"]


def test_forward_keeps_values_still_live_and_reordering_past_writes() -> None:
    stmts = [s for s in ast.parse("s0 = l0\nl0 = 5\ns1 = s0").body
             if isinstance(s, ast.Assign)]
    # l0 changes between the definition of s0 and its use: s0 keeps the old value.
    assert [ast.unparse(s) for s in types.forward(stmts, set())] == \
        ["s0 = l0", "l0 = 5", "s1 = s0"]
    live = [s for s in ast.parse("s0 = l0\ns1 = s0").body if isinstance(s, ast.Assign)]
    assert len(types.forward(live, set())) == 2  # s0 is still on the stack after


def test_only_code_that_cannot_raise_is_safe() -> None:
    assert types.safe_stmts(ast.parse("s0 = l0 < 3").body, {"l0": int})
    assert not types.safe_stmts(ast.parse("s0 = l0 < 3").body, {})  # any object's <
    assert not types.safe_stmts(ast.parse("s0 = l0 < 's'").body, {"l0": int})
    assert not types.safe_stmts(ast.parse("s0 = l0 // l1").body, {"l0": int, "l1": int})
    assert not types.safe_stmts(ast.parse("s0 = l0 % 0").body, {"l0": int})
    # An int by a non-zero constant, and reading a local whatever it holds, cannot raise.
    assert types.safe_stmts(ast.parse("s0 = l0 // 2\ns1 = l0 % 10").body, {"l0": int})
    assert types.safe_stmts(ast.parse("s0 = l3\ns1 = s0").body, {})
    assert not types.safe_stmts(ast.parse("s0 = sem.inc(l0, strict)").body, {"l0": int})


VALUES = st.one_of(st.integers(min_value=-2**63, max_value=2**63 - 1), st.floats(),
                   st.booleans(), st.text(max_size=4), st.just(Undef))


@settings(max_examples=300, deadline=None)
@given(st.lists(VALUES, min_size=3, max_size=3))
def test_sem_functions_return_the_exact_type_they_annotate(args: list[Any]) -> None:
    # The specialisation trusts these annotations (`types._SEM_RETURNS`): a bool where
    # `-> int` is annotated would be a wrong fold.
    for name, t in types._SEM_RETURNS.items():
        fn = getattr(sem, name)
        params = fn.__code__.co_varnames[:fn.__code__.co_argcount]
        call: list[Any] = []
        for param, value in zip(params, args):
            # A parameter typed narrower than any value gets a value of its type.
            note = fn.__annotations__.get(param)
            call.append({"int": value if type(value) is int else 7, "bool": False,
                         "str": "Add", "float": value if type(value) is float else 0.5,
                         }.get(note, value))
        try:
            got = fn(*call)
        except (VMError, TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue
        assert type(got) is t, (name, call, got)


MIXED = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 1
    GetSlot 0
    Add
    SetSlot 1
    GetSlot 0
    LoadInt 1
    Add
    SetSlot 0
    GetSlot 0
    LoadInt {switch}
    NumEq
    JumpIfFalse skip
    LoadFloat 0.5
    SetSlot 1
skip:
    GetSlot 0
    LoadInt 300
    NumLt
    JumpIfTrue top
    GetSlot 1
"""


def _outcome(chunk: Any, baseline: bool, threshold: int = 2,
             runs: int = 1) -> Outcome:
    return outcome(chunk, baseline, False, threshold, runs)


def _agree(a: Outcome, b: Outcome) -> None:
    agree(a, b, *("result", "error", "output", "slots", "ip"))


@pytest.mark.parametrize("switch", [1, 5, 150, 299, 1000])
def test_a_slot_changing_type_mid_loop_agrees(switch: int) -> None:
    chunk = assemble(MIXED.format(switch=switch), source="mixed.fasm")
    ref = _outcome(chunk, False)
    for threshold in (1, 2, 5):
        _agree(ref, _outcome(chunk, True, threshold, runs=3))


CALLED = """
    {arg1}
    Call add3 1
    Pop
    {arg2}
    Call add3 1
    Jump end
.sub add3
    SetSlot 0
    LoadInt 0
    SetSlot 1
again:
    GetSlot 0
    LoadInt 1
    Add
    SetSlot 0
    GetSlot 1
    LoadInt 1
    Add
    SetSlot 1
    GetSlot 1
    LoadInt 3
    NumLt
    JumpIfTrue again
    GetSlot 0
    ReturnValue
end:
"""


@pytest.mark.parametrize("arg1,arg2", [
    ("LoadInt 1", "LoadFloat 2.5"), ("LoadFloat 2.5", "LoadInt 1"),
    ("LoadInt 1", "LoadConst \"7\""), ("LoadInt 9223372036854775806", "LoadInt 4"),
    ("LoadTrue", "LoadInt 2")])
def test_a_function_compiled_for_one_type_runs_others_exactly(arg1: str, arg2: str) -> None:
    text = CALLED.format(arg1=arg1, arg2=arg2)
    chunk = assemble(text, source="called.fasm")
    ref = _outcome(chunk, False)
    for threshold in (1, 2):
        _agree(ref, _outcome(chunk, True, threshold, runs=3))


def test_overflow_inside_specialised_code_fails_exactly_as_the_interpreter() -> None:
    text = MIXED.format(switch=-1).replace("LoadInt 1\n    Add",
                                           "LoadInt 4611686018427387904\n    Add")
    chunk = assemble(text, source="overflow.fasm")
    for strict in (False, True):
        results = []
        for baseline in (False, True):
            vm = VM(chunk, strict_int=strict, baseline=baseline)
            if baseline:
                vm._tiers.region_threshold = 2
            try:
                results.append((vm.run(), None, list(vm.slots), vm.ip))
            except VMError as e:
                results.append((None, (type(e).__name__, e.op, e.ip), list(vm.slots),
                                vm.ip))
        assert results[0][1:] == results[1][1:]
        assert same_value(results[0][0], results[1][0])


def test_the_specialised_code_is_what_runs() -> None:
    chunk = assemble(MIXED.format(switch=1000), source="spec.fasm")
    cp = plan(chunk)
    source = generate_source(chunk, cp, cp.regions[0]).source
    assert "def spec(pc)" in source and "def gen(pc)" in source
    header = next(h for h in cp.regions[0].hot if h != 0)
    loop = source[source.index("def spec(pc)"):source.index("def gen(pc)")]
    # The counter is an int wherever the loop's own code takes it: its test is a plain
    # comparison; the sum may become a float (`LoadFloat 0.5`): its Add keeps its tests.
    assert "if l0 < 300:" in loop and "sem.num_lt" not in loop
    assert "sem.add(" in loop
    guard = source[source.index(f"def st{header}()"):]
    assert "type(slots[0]) is int" in guard.split("return spec")[0]
    before = compiler.stats()["compiles"]
    assert _outcome(chunk, True, threshold=1)[0] == sum(range(300))
    assert compiler.stats()["compiles"] > before


def test_a_region_compiles_only_once_it_pays_for_its_compile() -> None:
    short = assemble(MIXED.format(switch=-1).replace("300", "40"), source="short.fasm")
    long = assemble(MIXED.format(switch=-1).replace("300", "20000"), source="long.fasm")
    before = compiler.stats()["compiles"]
    assert VM(short).run() == sum(range(40))
    assert compiler.stats()["compiles"] == before  # 40 iterations: not worth compiling
    assert VM(long).run() == sum(range(20000))
    assert compiler.stats()["compiles"] == before + 1
    index = plan(long).region_of[0]
    header = next(h for h in plan(long).regions[index].hot if h != 0)
    # Once compiled for a chunk, a region binds at once in every other VM.
    assert compiler.worth_after(long, index, header, 2) == 0
    assert compiler.worth_after(short, plan(short).region_of[0], header, 2) > 30


def test_eager_mode_compiles_at_the_second_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUSEVM_BASELINE", "eager")
    short = assemble(MIXED.format(switch=-1).replace("300", "40"), source="eager.fasm")
    before = compiler.stats()["compiles"]
    assert VM(short).run() == sum(range(40))
    assert compiler.stats()["compiles"] == before + 1


def test_the_environment_decides_only_for_a_vm_that_did_not_say(
        monkeypatch: pytest.MonkeyPatch) -> None:
    chunk = assemble("LoadInt 1\n")
    monkeypatch.setenv("FUSEVM_BASELINE", "off")
    assert VM(chunk)._tiers is None and VM(chunk).run() == 1
    assert isinstance(VM(chunk, baseline=True)._tiers, BaselineHook)
    monkeypatch.setenv("FUSEVM_BASELINE", "eager")
    hook = VM(chunk)._tiers
    assert isinstance(hook, BaselineHook) and hook.eager
    assert VM(chunk, baseline=False)._tiers is None
    monkeypatch.setenv("FUSEVM_BASELINE", "on")
    hook = VM(chunk)._tiers
    assert isinstance(hook, BaselineHook) and not hook.eager


@pytest.mark.parametrize("threshold", [2, 3])
def test_generated_programs_agree_when_specialised_for_what_was_seen(threshold: int) -> None:
    for seed in range(120):
        program = generate(RandomSource(9_300_000 + seed), straight=seed % 4 == 0)
        chunk = program.build()
        ref = snapshot(program, chunk, None)
        got = snapshot(program, chunk, "baseline", threshold)
        diff = compare(ref, got)
        assert diff is None, f"seed {seed}: {diff}\n{program.text()}"


def _dump(stmts: list[Any]) -> str:
    return "\n".join(ast.dump(s, include_attributes=True) for s in stmts)


@pytest.mark.parametrize("op", sorted(BODIES, key=lambda o: o.name), ids=lambda o: o.name)
def test_binding_a_body_as_it_is_specialised_gives_what_binding_it_first_does(op: Op) -> None:
    # `pieces.bind` leaves a body that names no slot unbound, for `specialize` to bind a
    # statement at a time: the statements, their positions and the env after are those
    # of the body bound whole first, for every mix of input types, known constants and
    # intervals.
    b = BODIES[op]
    spec = op.spec
    operands = tuple(0 if o.kind is Kind.TARGET else 3 for o in spec.operands)
    d = Decoded(spec, operands)
    depth = len(b.inputs) + 1
    inputs = [f"s{k}" for k in range(depth - len(b.inputs), depth)]
    choices: list[type | None] = [None, int, float, str, bool]
    constants: list[dict[str, Any]] = [{}, {inputs[0]: 5}] if inputs else [{}]
    intervals: list[dict[str, Any]] = [{}]
    if inputs:
        intervals += [{inputs[-1]: (0, 100)}, {inputs[-1]: (-9, -1)}]
    for types_in in itertools.product(choices, repeat=len(inputs)):
        env = {name: t for name, t in zip(inputs, types_in) if t is not None}
        for known, interval in itertools.product(constants, intervals):
            body, binder, bound = pieces.bind(b, d, 7, depth, known)
            whole = [binder(st) for st in body] if binder is not None else body
            bounds_a: dict[str, Any] = dict(interval)
            bounds_b: dict[str, Any] = dict(interval)
            got_a, env_a = types.specialize(whole, env, bounds_a)
            got_b, env_b = types.specialize(body, env, bounds_b, binder)
            assert (_dump(got_a), env_a, bounds_a) == (_dump(got_b), env_b, bounds_b)
            assert bound == pieces.bind(b, d, 7, depth, known)[2]


# -- Facts about globals: their types through a region, checked where it is entered ------

#: A Float global summed in a loop; at trip `switch` it becomes a string, by a store in
#: the loop itself (`{how}` = "direct"), by a function the loop calls, or by a hash
#: store between (which keeps it a Float: the fact must survive that).
GLOBALS = """
    LoadFloat 0.0
    SetVar s
    LoadInt 0
    SetSlot 0
    DeclareHash h
top:
    GetVar s
    LoadFloat 1.5
    Add
    SetVar s
    GetSlot 0
    LoadConst "k"
    HashSet h
    GetSlot 0
    LoadInt {switch}
    NumEq
    JumpIfFalse skip
    {how}
skip:
    GetSlot 0
    Inc
    SetSlot 0
    GetSlot 0
    LoadInt 300
    NumLt
    JumpIfTrue top
    GetVar s
    Jump end
.sub spoil
    LoadConst "9"
    SetVar s
    Return
end:
"""

_HOW = {"direct": 'LoadConst "9"\n    SetVar s', "call": "Call spoil 0",
        "nothing": "Nop"}


@pytest.mark.parametrize("how", sorted(_HOW))
@pytest.mark.parametrize("switch", [1, 150, 299, 1000])
def test_a_global_changing_type_mid_loop_agrees(how: str, switch: int) -> None:
    chunk = assemble(GLOBALS.format(switch=switch, how=_HOW[how]), source="globals.fasm")
    ref = _outcome(chunk, False)
    for threshold in (1, 2, 5):
        _agree(ref, _outcome(chunk, True, threshold, runs=3))


def test_a_region_entered_with_a_global_of_another_type_runs_the_generic_code() -> None:
    # Compiled while `s` held a Float, entered at its loop with `s` an Int, then a string.
    chunk = assemble(GLOBALS.format(switch=-1, how="Nop").replace(
        "LoadFloat 0.0\n    SetVar s", "Nop\n    Nop"), source="entered.fasm")
    s = chunk.names.index("s")
    results = []
    for baseline in (False, True):
        vm = VM(chunk, baseline=baseline)
        if baseline:
            vm._tiers.region_threshold = 1
        got = []
        for start in (0.0, 7, "x", 2.5):
            vm.reset()
            vm.globals[s] = start
            try:
                got.append(vm.run())
            except VMError as e:
                got.append((type(e).__name__, e.op, e.ip))
        results.append(got)
    assert results[0] == results[1]


def test_globals_of_known_type_need_no_type_tests() -> None:
    chunk = assemble(GLOBALS.format(switch=-1, how="Nop"), source="known.fasm")
    cp = plan(chunk)
    source = generate_source(chunk, cp, cp.regions[0]).source
    loop = source[source.index("def spec(pc)"):source.index("def gen(pc)")]
    loop = loop[loop.index("# 5: GetVar"):loop.index("# 24: GetVar")]
    # `s` is a Float and `h` a Hash from their stores before the loop on: the Add is one
    # float addition, the Hash store tests no type; the entry's guard checks both.
    assert "type(globals_" not in loop and "sem.add" not in loop, loop
    guard = source[source.index("def st5()"):].split("return spec")[0]
    assert "type(globals_[0]) is float" in guard and "type(globals_[1]) is dict" in guard


def test_a_step_forgets_the_globals_types_unless_its_flags_say_it_stores_none() -> None:
    # (the step rules: `codegen._Gen.env_after_step`)
    env = {"G0": float, "G1": dict, "K2": str, "l0": int, "s0": int}
    gen = _Gen.__new__(_Gen)
    gen.env = env
    for op, kept in ((Op.Call, {"K2", "l0"}), (Op.PushFrame, {"G0", "G1", "K2", "l0"}),
                     (Op.PrintLn, {"G0", "G1", "K2", "l0"}), (Op.SetStatus, {"K2", "l0"})):
        operands = tuple(0 for _ in op.spec.operands)
        assert set(gen.env_after_step(0, Decoded(op.spec, operands))) == kept, op


def test_a_failed_type_test_that_raises_tells_the_type_after_it() -> None:
    test = ("if type(globals_[3]) is not list:\n"
            "    sem.not_a_container(globals_, 3, names, 'an Array')\n")
    stmts, env = types.specialize(ast.parse(test + "n = len(globals_[3])\n" + test).body, {})
    assert env["G3"] is list and env["n"] is int
    assert len(stmts) == 2  # (the second test is decided)
    # A test whose failing branch may return tells nothing.
    _, env = types.specialize(ast.parse(
        "if type(x) is not int:\n    y = sem.add(x, 1, strict)\n").body, {})
    assert "x" not in env
    # A store of an unknown value, or through an index that is not a constant, forgets.
    _, env = types.specialize(ast.parse("globals_[3] = v").body, {"G3": list})
    assert "G3" not in env
    _, env = types.specialize(ast.parse("globals_[i] = 1").body, {"G3": list, "K1": str})
    assert env == {"K1": str}
