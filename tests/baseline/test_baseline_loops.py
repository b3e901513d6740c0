"""Loop code the baseline writes for exact types: Mod's Int path, constant comparisons and
truth tests of known numbers folded, each against the interpreter at the 64-bit edges."""

from __future__ import annotations

import ast
import random
from typing import Any

import pytest

from fusevm.asm import assemble
from fusevm.baseline import ranges, types
from fusevm.baseline.codegen import generate as generate_source
from fusevm.baseline.regions import plan
from fusevm.values import INT_MAX, INT_MIN

from baseline_kit import Outcome, agree, outcome


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
    # (the operands are the slot locals the GetSlots copy, or those copies)
    assert ("s0 % s1" in spec or "l0 % l1" in spec) and "sem.mod(" not in spec \
        and "truthy(" not in spec


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
             runs: int = 2) -> Outcome:
    return outcome(chunk, baseline, strict, threshold, runs)


def _agree(a: Outcome, b: Outcome) -> None:
    agree(a, b, *("result", "error", "slots", "ip"))


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


# -- Intervals (ranges.py): checks dropped only where they cannot fail ---------------------

def _expr(text: str) -> ast.expr:
    node = ast.parse(text, mode="eval").body
    return node


def test_intervals_of_int_arithmetic() -> None:
    b = {"i": (0, 99), "x": (-5, 5)}
    assert ranges.value_range(_expr("i + 1"), b) == (1, 100)
    assert ranges.value_range(_expr("i * x"), b) == (-495, 495)
    assert ranges.value_range(_expr("i - x"), b) == (-5, 104)
    assert ranges.value_range(_expr("x % 7"), b) == (0, 6)
    assert ranges.value_range(_expr("i % 7"), b) == (0, 6)
    assert ranges.value_range(_expr("i % 1000"), b) == (0, 99)
    assert ranges.value_range(_expr("x & 3"), b) == (0, 3)
    assert ranges.value_range(_expr("i >> 2"), b) == (0, 24)
    assert ranges.value_range(_expr("y + 1"), b) is None
    assert ranges.value_range(_expr("x // 2"), b) is None  # not modelled: unknown


def test_checks_fold_only_when_the_interval_decides_them() -> None:
    check = "r = t if INT_MIN <= t <= INT_MAX else sem.int_result(t, strict, 'Add')"
    env: types.Env = {"t": int}
    assert _code_b(check, env, {"t": (0, 10)}) == "r = t"
    assert _code_b(check, env, {"t": (0, INT_MAX + 1)}) == \
        "r = t if t <= INT_MAX else sem.int_result(t, strict, 'Add')"
    assert "INT_MIN <= t <= INT_MAX" in _code_b(check, env, {})
    inc = "v = v + 1 if v != INT_MAX else sem.inc(v, strict)"
    assert _code_b(inc, {"v": int}, {"v": (0, 99)}) == "v = v + 1"
    assert "sem.inc" in _code_b(inc, {"v": int}, {"v": (0, INT_MAX)})


def _code_b(source: str, env: types.Env, bounds: ranges.Bounds) -> str:
    stmts, _ = types.specialize(ast.parse(source).body, env, dict(bounds))
    return "\n".join(ast.unparse(s) for s in stmts)


def test_a_taken_test_narrows_the_value_and_its_copies() -> None:
    stmts = ast.parse("t = l2\nt = t + 1\nl2 = t\ntaken = t < 100").body
    b = {"t": (1, 1000), "l2": (1, 1000)}
    assert ranges.refine(b, stmts, _expr("t < 100"), True) == {"t": (1, 99), "l2": (1, 99)}
    assert ranges.refine(b, stmts, _expr("t < 100"), False) == \
        {"t": (100, 1000), "l2": (100, 1000)}
    assert ranges.refine(b, stmts, _expr("not 5 > t"), True) == \
        {"t": (5, 1000), "l2": (5, 1000)}


def test_a_test_of_two_bound_names_narrows_both() -> None:
    # (a loop's `i < n`, n a length: no length passes 2**63 - 1, so i + 1 cannot wrap)
    stmts = ast.parse("s0 = l0\ns1 = len(a)\ntaken = s0 < s1").body
    assert ranges.value_range(_expr("len(a)"), {}) == (0, INT_MAX)
    b = {"l0": (INT_MIN, INT_MAX), "s0": (INT_MIN, INT_MAX), "s1": (0, INT_MAX)}
    assert ranges.refine(b, stmts, _expr("s0 < s1"), True) == \
        {"l0": (INT_MIN, INT_MAX - 1), "s0": (INT_MIN, INT_MAX - 1), "s1": (0, INT_MAX)}
    assert ranges.refine(b, stmts, _expr("s0 < s1"), False) == \
        {"l0": (0, INT_MAX), "s0": (0, INT_MAX), "s1": (0, INT_MAX)}
    b = {"i": (0, 10), "n": (3, 5)}
    assert ranges.refine(b, [], _expr("i == n"), True) == {"i": (3, 5), "n": (3, 5)}
    assert ranges.refine(b, [], _expr("i >= n"), True) == {"i": (3, 10), "n": (3, 5)}
    assert ranges.refine(b, [], _expr("i > 20"), True) == b  # (that edge cannot run)


def test_widening_settles_on_the_region_constants() -> None:
    assert ranges.widen({"i": (0, 0)}, {"i": (1, 1)}, [99, 100]) == {"i": (0, 99)}
    assert ranges.widen({"i": (0, 99)}, {"i": (0, 150)}, [99, 100]) == {"i": (0, INT_MAX)}
    assert ranges.widen({"i": (0, 5)}, {"j": (0, 5)}, []) == {}


def test_the_counted_loop_has_no_range_check_and_its_guard_checks_the_interval() -> None:
    chunk = assemble(COUNTED.format(start=0, limit=1000), source="counted.fasm")
    cp = plan(chunk)
    source = generate_source(chunk, cp, cp.regions[0]).source
    spec = source[source.index("def spec(pc)"):source.index("def gen(pc)")]
    assert "sem.inc" not in spec and "!= INT_MAX" not in spec  # the sum keeps its check
    assert "0 <= slots[0] <= 999" in source


COUNTED = """
    LoadInt {start}
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 1
    GetSlot 0
    Add
    SetSlot 1
    SlotIncLtIntJumpBack 0 {limit} top
    GetSlot 1
"""


@pytest.mark.parametrize("start", [INT_MIN, INT_MIN + 1, -3, 0, 5, 2**31 - 3,
                                   INT_MAX - 2, INT_MAX])
def test_counted_loops_started_anywhere_agree(start: int) -> None:
    for limit in (0, 7, 2**31 - 1, -(2**31)):
        if limit - start > 300:
            continue  # (far below its limit: too many rounds to run here)
        chunk = assemble(COUNTED.format(start=start, limit=limit), source="counted.fasm")
        # (INT_MAX + 1 wraps to INT_MIN, below any limit: 2**64 rounds unless strict)
        for strict in (False, True) if start != INT_MAX else (True,):
            ref = _outcome(chunk, False, strict, runs=1)
            for threshold in (1, 2, 5):
                _agree(ref, _outcome(chunk, True, strict, threshold, runs=1))


# Random loops: counters started anywhere (64-bit edges too) and bounded by a second
# counter; bodies of Int arithmetic on them with constants at the edges; branches on them.
_CONSTS = [INT_MIN, INT_MIN + 1, -(2**31), -65537, -3, -1, 0, 1, 2, 3, 75, 65537,
           2**31 - 1, 2**32, INT_MAX - 1, INT_MAX]


def _random_loop(rng: random.Random) -> str:
    lines: list[str] = []
    starts = [rng.choice([rng.choice(_CONSTS), rng.randint(-50, 50)]) for _ in range(3)]
    for slot, value in enumerate(starts):
        lines += [f"LoadInt {value}", f"SetSlot {slot}"]
    lines += ["LoadInt 0", "SetSlot 3", "outer:"]
    inner = rng.random() < 0.4
    if inner:
        lines += [f"LoadInt {rng.randint(-3, 3)}", "SetSlot 2", "inner:"]
    # (an inner loop's counter, slot 2, is only read in its body: the loop stays short)
    writable = 2 if inner else 3
    for k in range(rng.randint(1, 5)):
        a, b = rng.randrange(3), rng.randrange(writable)
        op = rng.choice(["Add", "Sub", "Mul", "Mod", "BitAnd", "BitXor", "Shr", "Inc",
                         "branch"])
        operand = f"GetSlot {b}" if rng.random() < 0.4 else \
            f"LoadInt {rng.choice([rng.choice(_CONSTS), rng.randint(-9, 9)])}"
        if op == "Shr":
            operand = f"LoadInt {rng.randint(0, 70)}"
        if op == "Inc":
            lines += [f"GetSlot {a}", "Inc", f"SetSlot {rng.randrange(writable)}"]
        elif op == "branch":
            cmp_ = rng.choice(["NumLt", "NumGt", "NumLe", "NumGe", "NumEq"])
            jump = rng.choice(["JumpIfFalse", "JumpIfTrue"])
            lines += [f"GetSlot {a}", operand, cmp_, f"{jump} skip{k}",
                      f"GetSlot {b}", "LoadInt 1", "Add", f"SetSlot {b}", f"skip{k}:"]
        else:
            lines += [f"GetSlot {a}", operand, op, f"SetSlot {rng.randrange(writable)}"]
    limit = rng.choice([rng.randint(-5, 40), 2**31 - 1, -(2**31)])
    if inner:
        lines += [f"SlotIncLtIntJumpBack 2 {rng.randint(-2, 6)} inner"]
    lines += ["GetSlot 3", "LoadInt 1", "Add", "SetSlot 3",
              "GetSlot 3", f"LoadInt {rng.randint(1, 30)}", "NumLt", "JumpIfFalse out",
              f"SlotIncLtIntJumpBack {rng.randrange(3)} {limit} outer", "out:",
              "GetSlot 0", "GetSlot 1", "Add", "GetSlot 2", "BitXor"]
    return "\n".join("    " + x if not x.endswith(":") else x for x in lines) + "\n"


@pytest.mark.parametrize("seed", range(300))
def test_random_loops_agree_with_the_interpreter(seed: int) -> None:
    rng = random.Random(seed)
    text = _random_loop(rng)
    chunk = assemble(text, source=f"loop{seed}.fasm")
    for strict in (False, True):
        ref = _outcome(chunk, False, strict, runs=1)
        for threshold in (1, 3):
            _agree(ref, _outcome(chunk, True, strict, threshold, runs=2))
