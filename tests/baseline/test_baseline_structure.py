"""The shape of region code: branches written as if/else, block tests only where a dispatch
passes them, loops polled every `POLL` back edges; the facts that shape rests on (a
branch's test seen through its block, intervals of masks and shifts, Floats from mixed
arithmetic), each against the interpreter at the 64-bit edges."""

from __future__ import annotations

import ast
import random
import threading
from typing import Any

import pytest

from fusevm import VM, VMError
from fusevm.asm import assemble
from fusevm.baseline import ranges, types
from fusevm.baseline.codegen import POLL
from fusevm.baseline.codegen import generate as generate_source
from fusevm.baseline.regions import plan
from fusevm.errors import Interrupted
from fusevm.interp import semantics as sem
from fusevm.values import INT_MAX, INT_MIN

from baseline_kit import SUMS, Outcome, agree, outcome


def _outcome(chunk: Any, baseline: bool, strict: bool, threshold: int = 2,
             runs: int = 2) -> Outcome:
    return outcome(chunk, baseline, strict, threshold, runs)


def _agree(a: Outcome, b: Outcome) -> None:
    agree(a, b, *("result", "error", "backtrace", "slots", "ip", "stack"))


def _expr(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


# -- The facts -------------------------------------------------------------------------

def test_a_branch_test_is_seen_through_the_copies_and_comparison_of_its_block() -> None:
    stmts = ast.parse("s0 = l0\ns1 = 10\ns0 = s0 < s1\ntaken = s0").body
    assert ast.unparse(ranges.resolve(stmts[:-1], _expr("s0"))) == "l0 < 10"
    assert ast.unparse(ranges.resolve(stmts[:-1], _expr("not s0"))) == "not l0 < 10"
    # A value compared before its source changed is not the source's any more.
    stale = ast.parse("s0 = l0\nl0 = l0 + 1\ns0 = s0 < 3").body
    assert ast.unparse(ranges.resolve(stale, _expr("s0"))) == "s0"
    # Only stack locals and temporaries are replaced, never the slots refine narrows.
    assert ast.unparse(ranges.resolve(ast.parse("l1 = l0").body, _expr("l1 < 4"))) == \
        "l1 < 4"


def _forward(text: str, dead: set[str]) -> str:
    stmts = [s for s in ast.parse(text).body if isinstance(s, ast.Assign)]
    return "\n".join(ast.unparse(s) for s in types.forward(stmts, dead))


def test_a_value_stored_in_a_slot_is_computed_there() -> None:
    assert _forward("t1_v = l2 + 1\nl2 = t1_v\ntaken = t1_v < 100", {"t1_v"}) == \
        "l2 = l2 + 1\ntaken = l2 < 100"
    # Not when the slot changes before the value is read again, nor for a live value.
    assert _forward("t1_v = l2 + 1\nl2 = t1_v\nl2 = 7\ntaken = t1_v < 100",
                    {"t1_v"}) == "t1_v = l2 + 1\nl2 = t1_v\nl2 = 7\ntaken = t1_v < 100"
    assert _forward("t1_v = l2 + 1\nl2 = t1_v", set()) == "t1_v = l2 + 1\nl2 = t1_v"


def test_intervals_of_masks_and_shifts() -> None:
    b = {"x": (0, 255), "n": (-5, 5)}
    assert ranges.value_range(_expr("y & 255"), b) == (0, 255)  # whatever y is
    assert ranges.value_range(_expr("255 & y"), b) == (0, 255)
    assert ranges.value_range(_expr("y & n"), b) is None  # a mask that may be negative
    assert ranges.value_range(_expr("x << (3 & 63)"), b) == (0, 255 << 3)
    assert ranges.value_range(_expr("n << 3"), b) is None
    assert ranges.value_range(_expr("x << 64"), b) is None
    assert ranges.value_range(_expr("70 & 63"), b) == (6, 6)


def test_a_shift_is_safe_only_by_a_count_in_0_to_63() -> None:
    env: types.Env = {"a": int, "b": int}
    assert types.safe_stmts(ast.parse("r = a << (b & 63)").body, env)
    assert types.safe_stmts(ast.parse("r = a >> 63").body, env)
    assert not types.safe_stmts(ast.parse("r = a << b").body, env)
    assert not types.safe_stmts(ast.parse("r = a << 64").body, env)
    assert not types.safe_stmts(ast.parse("r = a >> -1").body, env)


_NUMBERS = [INT_MIN, -1, 0, 1, INT_MAX, True, False, -0.0, 0.5, 1e308, float("inf")]


@pytest.mark.parametrize("name", sorted(types._FLOAT_UNLESS_INTS))
def test_mixed_arithmetic_gives_a_float_unless_both_are_ints(name: str) -> None:
    fn = getattr(sem, name)
    for a in _NUMBERS:
        for b in _NUMBERS:
            env: types.Env = {"a": type(a), "b": type(b)}
            said = types.expr_type(_expr(f"sem.{name}(a, b, strict)"), env)
            got = type(fn(a, b, False))
            if type(a) is int and type(b) is int:
                assert said is None and got is int
            else:
                assert said is float and got is float, (a, b)


# -- Diamonds: a branch between two blocks entered from it alone --------------------------

_CONSTS = [INT_MIN, INT_MIN + 1, -65537, -3, -1, 0, 1, 2, 3, 63, 64, 65537, 2**31 - 1,
           INT_MAX - 1, INT_MAX]


def _arm(rng: random.Random) -> list[str]:
    """A few ops on slots 0-2: Int arithmetic at the edges, shifts, a Float now and then
    (the join then sees two types)."""
    out = []
    for _ in range(rng.randint(1, 3)):
        a, b = rng.randrange(3), rng.randrange(3)
        kind = rng.random()
        if kind < 0.15:
            out += [f"LoadFloat {rng.choice(['0.5', '-2.0', '1e300'])}", f"SetSlot {a}"]
            continue
        op = rng.choice(["Add", "Sub", "Mul", "BitAnd", "BitXor", "Shl", "Shr", "Inc"])
        if op == "Inc":
            out += [f"GetSlot {a}", "Inc", f"SetSlot {b}"]
            continue
        operand = f"GetSlot {b}" if rng.random() < 0.3 else \
            f"LoadInt {rng.choice([rng.choice(_CONSTS), rng.randint(-9, 9)])}"
        if op in ("Shl", "Shr") and rng.random() < 0.7:
            operand = f"LoadInt {rng.randint(-2, 70)}"
        out += [f"GetSlot {a}", operand, op, f"SetSlot {rng.randrange(3)}"]
    return out


def _random_diamonds(rng: random.Random) -> str:
    lines: list[str] = []
    for slot in range(3):
        lines += [f"LoadInt {rng.choice([rng.choice(_CONSTS), rng.randint(-50, 50)])}",
                  f"SetSlot {slot}"]
    lines += ["LoadInt 0", "SetSlot 3", "top:"]
    for k in range(rng.randint(1, 3)):
        a = rng.randrange(3)
        test = rng.choice(["NumLt", "NumGt", "NumEq", "BitAnd"])
        operand = "LoadInt 1" if test == "BitAnd" else f"LoadInt {rng.randint(-9, 9)}"
        jump = rng.choice(["JumpIfFalse", "JumpIfTrue"])
        lines += [f"GetSlot {a}", operand, test, f"{jump} else{k}", *_arm(rng)]
        if rng.random() < 0.7:  # if/else, else if-then
            lines += [f"Jump join{k}", f"else{k}:", *_arm(rng)]
        else:
            lines += [f"else{k}:"]
        lines += [f"join{k}:"] if f"join{k}" in " ".join(lines) else []
    lines += ["SlotIncLtIntJumpBack 3 " + str(rng.choice([1, 5, 40])) + " top",
              "GetSlot 0", "GetSlot 1", "Add", "GetSlot 2", "BitXor"]
    return "\n".join("    " + x if not x.endswith(":") else x for x in lines) + "\n"


def test_a_diamond_is_an_if_else_with_no_dispatch() -> None:
    text = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 0
    LoadInt 1
    BitAnd
    JumpIfFalse even
    GetSlot 1
    LoadInt 3
    Add
    SetSlot 1
    Jump join
even:
    GetSlot 1
    LoadInt 1
    Sub
    SetSlot 1
join:
    SlotIncLtIntJumpBack 0 100 top
    GetSlot 1
"""
    chunk = assemble(text, source="diamond.fasm")
    cp = plan(chunk)
    source = generate_source(chunk, cp, cp.regions[0], (5, {"l0": int, "l1": int})).source
    spec = source[source.index("def spec(pc)"):source.index("def gen(pc)")]
    assert "else:" in spec and "pc = " not in spec.split("for _ in (ticks")[1]
    for strict in (False, True):
        _agree(_outcome(chunk, False, strict, runs=1), _outcome(chunk, True, strict))


@pytest.mark.parametrize("seed", range(200))
def test_random_diamonds_agree_with_the_interpreter(seed: int) -> None:
    text = _random_diamonds(random.Random(seed))
    chunk = assemble(text, source=f"diamond{seed}.fasm")
    for strict in (False, True):
        ref = _outcome(chunk, False, strict, runs=1)
        for threshold in (1, 3):
            try:
                _agree(ref, _outcome(chunk, True, strict, threshold, runs=2))
            except AssertionError as e:
                raise AssertionError(f"seed {seed} strict {strict}:\n{text}") from e


# -- Polling: an interrupt seen within POLL back edges, wherever the loop is ------------

# Two forward branches to one label: no diamond, so the loop's `continue`s dispatch to an
# op inside it, where the poll then leaves.
_DISPATCHING = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 0
    LoadInt 3
    Mod
    LoadInt 0
    NumEq
    JumpIfTrue skip
    GetSlot 0
    LoadInt 5
    Mod
    LoadInt 0
    NumEq
    JumpIfTrue skip
    GetSlot 1
    Inc
    SetSlot 1
skip:
    SlotIncLtIntJumpBack 0 {n} top
    GetSlot 1
"""


def test_a_dispatching_loop_leaves_where_it_stands_when_polled() -> None:
    chunk = assemble(_DISPATCHING.format(n=50_000_000), source="poll.fasm")
    cp = plan(chunk)
    source = generate_source(chunk, cp, cp.regions[0], (4, {"l0": int, "l1": int})).source
    assert "for _ in (ticks" in source and "if pc == " in source
    vm = VM(chunk)
    vm._tiers.region_threshold = 1
    timer = threading.Timer(0.2, vm.interrupt)
    timer.start()
    with pytest.raises(Interrupted) as info:
        vm.run()
    timer.join()
    assert info.value.ip == 4 and vm.stack == []  # stopped at the loop's hot point
    stopped = vm.slots[0]
    assert 0 < stopped < 50_000_000
    vm.slots[0] = 50_000_000 - 10  # (finish quickly: the rest of the loop as a check)
    before = vm.slots[1]
    assert vm.run() == before + sum(1 for i in range(50_000_000 - 10, 50_000_000)
                                    if i % 3 and i % 5)


def test_poll_interval_is_a_bounded_wait() -> None:
    # An interrupt waits at most POLL iterations of the loop running: keep it small
    # enough that a slow body still stops promptly.
    assert 64 <= POLL <= 4096


@pytest.mark.parametrize("n", [0, 1, POLL - 1, POLL, POLL + 1, 3 * POLL + 7])
def test_loops_across_poll_boundaries_agree(n: int) -> None:
    chunk = assemble(_DISPATCHING.format(n=n), source="poll.fasm")
    for strict in (False, True):
        ref = _outcome(chunk, False, strict, runs=1)
        for threshold in (1, 3):
            _agree(ref, _outcome(chunk, True, strict, threshold, runs=2))


def test_64_bit_checks_are_written_as_if_statements() -> None:
    from fusevm.baseline.pieces import unparse
    one = ast.parse("x = t if INT_MIN <= t <= INT_MAX else sem.int_result(t, s, 'Add')").body
    # Both limits: one abs test (INT_MIN itself takes the exact slow path).
    assert unparse(one) == ("if abs(t) < 9223372036854775808:\n    x = t\n"
                            "else:\n    x = sem.int_result(t, s, 'Add')")
    assert unparse(ast.parse("x = t if t <= INT_MAX else f(t)").body) == \
        "if t <= INT_MAX:\n    x = t\nelse:\n    x = f(t)"
    # A slow path that is not sem.int_result(t) keeps the limits (INT_MIN must pass).
    assert unparse(ast.parse("x = t if INT_MIN <= t <= INT_MAX else f(t, 'Add')").body) == \
        "if INT_MIN <= t and t <= INT_MAX:\n    x = t\nelse:\n    x = f(t, 'Add')"
    negated = ast.parse("if not INT_MIN <= z <= INT_MAX:\n    z = sem.int_result(z, s, 'Add')")
    assert unparse(negated.body) == \
        "if not abs(z) < 9223372036854775808:\n    z = sem.int_result(z, s, 'Add')"
    other = "x = t if 0 <= t <= 9 else f(t)"  # not a 64-bit check: as it was
    assert unparse(ast.parse(other).body) == other
    # The same values come out: the edges stay in, one past them wraps (or raises).
    for t in (INT_MIN, INT_MIN - 1, -1, 0, 2**30, INT_MAX, INT_MAX + 1, -2**64, 2**64):
        for strict in (False, True):
            try:
                want: Any = sem.int_result(t, strict, "Add")
            except VMError as e:
                want = type(e)
            for code, out in ((unparse(one), "x"), (unparse(negated.body), "z")):
                space: dict[str, Any] = {"INT_MIN": INT_MIN, "INT_MAX": INT_MAX, "t": t,
                                         "z": t, "sem": sem, "s": strict}
                try:
                    exec(code, space)  # noqa: S102
                    got = space[out]
                except VMError as e:
                    got = type(e)
                assert got == want


def test_limit_tests_try_a_one_digit_comparison_only_on_ints() -> None:
    from fusevm.baseline.pieces import unparse
    dec = ast.parse("x = x - 1 if x != INT_MIN else sem.dec(x, s)").body
    # An int (known before the statement runs): the one-digit comparison first.
    assert unparse(dec, frozenset({"x"})) == \
        "x = x - 1 if x > -1073741823 or x != INT_MIN else sem.dec(x, s)"
    # Not known to be one (`x > -1073741823` would raise on a str): as it was.
    assert unparse(dec) == "x = x - 1 if x != INT_MIN else sem.dec(x, s)"
    guarded = ast.parse("y = x + 1 if type(x) is int and x != INT_MAX else f(x)").body
    assert unparse(guarded) == \
        "y = x + 1 if type(x) is int and (x < 1073741823 or x != INT_MAX) else f(x)"
    # Only in the first statement: a later one may see the name assigned anew.
    two = ast.parse("x = g()\ny = 1 if x != INT_MAX else 2").body
    assert unparse(two, frozenset({"x"})) == "x = g()\ny = 1 if x != INT_MAX else 2"
    for x in (INT_MIN, INT_MIN + 1, -5, 0, 2**30, INT_MAX - 1, INT_MAX):
        for code in (unparse(dec, frozenset({"x"})), unparse(guarded)):
            fast: dict[str, Any] = {"INT_MIN": INT_MIN, "INT_MAX": INT_MAX, "x": x,
                                    "sem": sem, "s": False, "f": lambda v: "slow"}
            slow = dict(fast)
            exec(code, fast)  # noqa: S102
            exec(code.replace("x > -1073741823 or ", "").replace("x < 1073741823 or ", "")
                 .replace("(x != INT_MAX)", "x != INT_MAX"), slow)  # noqa: S102
            assert fast.get("y", fast["x"]) == slow.get("y", slow["x"])


# -- A result stored in a slot ---------------------------------------------------------

def test_a_result_is_assigned_to_the_slot_local_a_set_slot_stores_it_in() -> None:
    checked = ast.parse("t = a + b\nif abs(t) < 9223372036854775808:\n    s0 = t\n"
                        "else:\n    s0 = sem.int_result(t, s, 'Add')").body
    moved = types.result_into(checked, "s0", "l3")
    assert moved is not None
    assert ast.unparse(moved) == ("t = a + b\nif abs(t) < 9223372036854775808:\n    l3 = t\n"
                                  "else:\n    l3 = sem.int_result(t, s, 'Add')")
    plain = ast.parse("s1 = s1 * s2").body
    assert ast.unparse(types.result_into(plain, "s1", "l0") or []) == "l0 = s1 * s2"
    # A path that does not assign the result (the input would pass through), a second
    # write of it or of the slot local, a tuple target: left as they are.
    for text in ("if c:\n    s0 = t", "s0 = 1\ns0 = s0 + 1", "l3 = 0\ns0 = t",
                 "s0, s1 = t", "f(s0)"):
        assert types.result_into(ast.parse(text).body, "s0", "l3") is None, text


@pytest.mark.parametrize("a", [0, 2**61, INT_MAX - 5, INT_MIN])
@pytest.mark.parametrize("strict", [False, True])
def test_a_checked_result_stored_in_place_wraps_and_raises_as_the_interpreter(
        a: int, strict: bool) -> None:
    from fusevm.baseline import direct
    chunk = assemble(SUMS.format(n=90, a=a), source="sums.fasm")
    source = direct.source(chunk)[0]
    assert "l3 = t14_exact" in source and "l3 = s0" not in source
    _agree(_outcome(chunk, False, strict), _outcome(chunk, True, strict, threshold=1))
    # The same loop in the root's region code.
    root = SUMS.format(n=90, a=a).replace("    Call sums 1\n    Jump end\n.sub sums\n", "")
    root = root.replace("    ReturnValue\n", "")
    chunk = assemble(root, source="sums_root.fasm")
    _agree(_outcome(chunk, False, strict), _outcome(chunk, True, strict, threshold=1))


def test_a_pass_a_statement_follows_in_its_block_is_left_blank() -> None:
    # CPython runs a NOP for each `pass`: the generated code keeps only those a block
    # needs, and keeps every line (line numbers locate the ops).
    from fusevm.baseline.shape import _spare_passes_blank
    lines = ["if a:", "    pass", "    # 3: Add", "    x = 1", "if b:", "    pass",
             "    # 4: Nop", "y = 2", "while c:", "    pass", "", "    pass", "    z = 3",
             "else:", "    pass"]
    assert _spare_passes_blank(lines) == [
        "if a:", "", "    # 3: Add", "    x = 1", "if b:", "    pass", "    # 4: Nop",
        "y = 2", "while c:", "", "", "", "    z = 3", "else:", "    pass"]
    compile("\n".join(_spare_passes_blank(lines)), "<blank>", "exec")


def test_an_if_true_block_is_moved_out_a_level() -> None:
    # A block test no dispatch needs is `if True:`: the generated code drops the line
    # (CPython would run a NOP for it) and moves its block out, lines kept in place; one
    # with an `else` stays.
    from fusevm.baseline.shape import _if_true_flattened
    lines = ["while True:", "    if True:", "        pass", "        # 3: Nop",
             "        if True:", "            x = 1", "    # comment", "    y = 2",
             "if True:", "    z = 3", "else:", "    z = 4"]
    assert _if_true_flattened(lines) == [
        "while True:", "", "    pass", "    # 3: Nop", "", "    x = 1", "    # comment",
        "    y = 2", "if True:", "    z = 3", "else:", "    z = 4"]
    compile("\n".join(_if_true_flattened(lines)), "<flat>", "exec")
