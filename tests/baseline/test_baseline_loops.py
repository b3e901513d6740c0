"""Loop code the baseline writes for exact types: Mod's Int path, constant comparisons and
truth tests of known numbers folded, each against the interpreter at the 64-bit edges."""

from __future__ import annotations

import ast
import io
from typing import Any

import pytest

from fusevm import VM, VMError
from fusevm.asm import assemble
from fusevm.baseline import types
from fusevm.baseline.codegen import generate as generate_source
from fusevm.baseline.regions import plan
from fusevm.values import INT_MAX, INT_MIN, same_value


def _code(source: str, env: types.Env) -> str:
    stmts, _ = types.specialize(ast.parse(source).body, env)
    return "\n".join(ast.unparse(s) for s in stmts)


def test_constant_int_comparisons_fold() -> None:
    assert _code("if a >= 0 and 65537 > 0:\n    r = 1\nelse:\n    r = 2", {"a": int}) \
        == "if a >= 0:\n    r = 1\nelse:\n    r = 2"
    assert _code("if 0 > 3:\n    r = 1\nelse:\n    r = 2", {}) == "r = 2"


def test_truth_of_a_known_number_is_a_comparison_with_zero() -> None:
    branch = "taken = c is False or (c is not True and (not truthy(c)))"
    assert _code(branch, {"c": int}) == "taken = c == 0"
    assert _code(branch, {"c": float}) == "taken = c == 0"
    assert _code("taken = c is True or (c is not False and truthy(c))", {"c": int}) \
        == "taken = c != 0"
    # A string's truth is not Python's ("0" is false): it keeps the call.
    assert "truthy(c)" in _code(branch, {"c": str})
    assert "truthy(c)" in _code(branch, {})


@pytest.mark.parametrize("x", [0.0, -0.0, 0.5, float("nan"), float("inf"), 0, 1, -1,
                               INT_MIN, INT_MAX])
def test_the_folded_truth_test_is_truthy(x: Any) -> None:
    from fusevm.values import truthy
    assert (x != 0) == truthy(x)


def test_mod_of_ints_is_one_exact_path_in_the_loop() -> None:
    chunk = assemble(LOOP.format(a="LoadInt 12345", b="LoadInt 65537"), source="mod.fasm")
    cp = plan(chunk)
    source = generate_source(chunk, cp, cp.regions[0]).source
    spec = source[source.index("def spec(pc)"):source.index("def gen(pc)")] \
        if "def gen(pc)" in source else source
    assert "s0 % s1" in spec and "sem.mod(" not in spec and "truthy(" not in spec


# Slot 0: the dividend, updated by `x = x % b + step` each round (step 1, so it moves);
# slot 1: the divisor; slot 2: the rounds; slot 3: how many remainders were false.
LOOP = """
    {a}
    SetSlot 0
    {b}
    SetSlot 1
    LoadInt 0
    SetSlot 2
    LoadInt 0
    SetSlot 3
top:
    GetSlot 0
    GetSlot 1
    Mod
    SetSlot 0
    GetSlot 0
    JumpIfFalse zero
    Jump next
zero:
    GetSlot 3
    LoadInt 1
    Add
    SetSlot 3
next:
    GetSlot 0
    LoadInt 1
    Add
    SetSlot 0
    GetSlot 2
    LoadInt 1
    Add
    SetSlot 2
    GetSlot 2
    LoadInt 40
    NumLt
    JumpIfTrue top
    GetSlot 0
"""


def _outcome(chunk: Any, baseline: bool, strict: bool, threshold: int = 2,
             runs: int = 2) -> tuple[Any, ...]:
    vm = VM(chunk, stdout=io.StringIO(), baseline=baseline, strict_int=strict)
    if baseline:
        vm._tiers.region_threshold = threshold
    result: Any = None
    error = None
    for _ in range(runs):
        vm.reset()
        try:
            result = vm.run()
        except VMError as e:
            result, error = None, (type(e).__name__, e.message, e.op, e.ip, e.line)
            break
    return result, error, list(vm.slots), vm.ip


def _agree(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert same_value(a[0], b[0]), (a[0], b[0])
    assert a[1] == b[1]
    assert len(a[2]) == len(b[2]) and all(same_value(x, y) for x, y in zip(a[2], b[2]))
    assert a[3] == b[3]


_EDGES = [INT_MIN, INT_MIN + 1, -65537, -7, -1, 0, 1, 7, 65537, INT_MAX - 1, INT_MAX]
_DIVISORS = [INT_MIN, -65537, -3, -1, 0, 1, 3, 65537, INT_MAX]


@pytest.mark.parametrize("a", _EDGES)
@pytest.mark.parametrize("b", _DIVISORS)
def test_mod_in_a_loop_agrees_at_the_64_bit_edges(a: int, b: int) -> None:
    chunk = assemble(LOOP.format(a=f"LoadInt {a}", b=f"LoadInt {b}"), source="mod.fasm")
    for strict in (False, True):
        ref = _outcome(chunk, False, strict)
        for threshold in (1, 2):
            _agree(ref, _outcome(chunk, True, strict, threshold))


@pytest.mark.parametrize("a,b", [
    ("LoadFloat 7.5", "LoadInt 2"), ("LoadInt 7", "LoadFloat 2.0"),
    ("LoadFloat -0.0", "LoadFloat 3.0"), ("LoadFloat 5.0", "LoadFloat 0.0"),
    ("LoadConst \"9\"", "LoadInt 4"), ("LoadTrue", "LoadInt 2"),
    ("LoadInt -9223372036854775808", "LoadFloat -1.0")])
def test_mod_of_other_kinds_in_a_loop_agrees(a: str, b: str) -> None:
    chunk = assemble(LOOP.format(a=a, b=b), source="mod.fasm")
    for strict in (False, True):
        ref = _outcome(chunk, False, strict)
        for threshold in (1, 2):
            _agree(ref, _outcome(chunk, True, strict, threshold))
