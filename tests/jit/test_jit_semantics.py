"""Each tier matches the interpreter on the edge cases that trap or differ in native code.

Division and modulo by zero and MIN/-1, Pow of zero and negative bases, NaN/inf/-0.0
through every comparison, saturating float->int, masked shifts, strict_int overflow in
every op that can overflow, Bool results and Bool/Undef/Str slots coming back unchanged.
"""

from __future__ import annotations

import math

import pytest
from jitkit import agree, asm
from progs import INT_EDGES

from fusevm.values import INT_MAX, INT_MIN, Undef

SPECIAL_FLOATS = [0.0, -0.0, 1.5, -2.5, math.nan, math.inf, -math.inf, 1e308, 9.3e18]
OPERANDS = [0, -1, 1, 2, INT_MIN, INT_MAX, 7, -7, *SPECIAL_FLOATS, True, False, Undef]
BINARY = ["Add", "Sub", "Mul", "Div", "Mod", "Pow", "NumEq", "NumNe", "NumLt", "NumGt",
          "NumLe", "NumGe", "Spaceship", "BitAnd", "BitXor", "Shl", "Shr", "LogAnd", "LogOr",
          "GcdInt", "LcmInt", "PowFloat", "Atan2Float"]
UNARY = ["Negate", "Inc", "Dec", "BitNot", "LogNot", "TruncInt", "AbsInt", "AbsFloat",
         "SqrtFloat", "FloorFloat", "CeilFloat", "RoundFloat", "TruncFloat", "ExpFloat",
         "LogFloat", "SinFloat", "AtanFloat", "CoshFloat"]

_BINARY_CHUNK = {op: asm(f"GetSlot 0\nGetSlot 1\n{op}\n") for op in BINARY}
_UNARY_CHUNK = {op: asm(f"GetSlot 0\n{op}\n") for op in UNARY}


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("strict", [False, True], ids=["wrap", "strict"])
def test_binary_ops_agree_on_edge_operands(tier: str, op: str, strict: bool) -> None:
    chunk = _BINARY_CHUNK[op]
    for a in OPERANDS:
        for b in OPERANDS:
            agree(chunk, tier, [a, b], strict, native=None)


@pytest.mark.parametrize("op", UNARY)
def test_unary_ops_agree_on_edge_operands(tier: str, op: str) -> None:
    chunk = _UNARY_CHUNK[op]
    for a in OPERANDS + INT_EDGES:
        for strict in (False, True):
            agree(chunk, tier, [a], strict, native=None)


def test_division_by_zero_raises_the_interpreters_error(jit_tier: str) -> None:
    chunk = asm("LoadInt 1\nGetSlot 0\nDiv\n")
    for zero in (0, 0.0, -0.0, False, Undef):
        ref, _ = agree(chunk, jit_tier, [zero], native=False)
        assert ref.error is not None and ref.error[:2] == ("ZeroDivision", "division by zero")


def test_int_modulo_by_zero_and_min_by_minus_one(jit_tier: str) -> None:
    chunk = asm("GetSlot 0\nGetSlot 1\nMod\n")
    ref, _ = agree(chunk, jit_tier, [5, 0], native=False)
    assert ref.error is not None and ref.error[1] == "modulo by zero"
    ref, _ = agree(chunk, jit_tier, [INT_MIN, -1])
    assert ref.result == 0 and type(ref.result) is int
    ref, _ = agree(chunk, jit_tier, [-7, 0.0])  # float path: C fmod, NaN, no error
    assert math.isnan(ref.result)


def test_results_keep_the_interpreters_kind(jit_tier: str) -> None:
    cases = {"LoadInt 1\nLoadInt 2\nNumLt\n": True, "LoadInt 4\nLoadInt 2\nDiv\n": 2.0,
             "LoadInt 2\nLoadInt 10\nPow\n": 1024.0, "LoadTrue\n": True,
             "LoadInt 0\nLogNot\n": True, "LoadFloat 2.0\nTruncInt\n": 2}
    for text, expected in cases.items():
        ref, got = agree(asm(text), jit_tier)
        assert type(got.result) is type(expected) and got.result == expected


def test_strict_overflow_deopts_and_raises_the_interpreters_error(jit_tier: str) -> None:
    for text in ("GetSlot 0\nLoadInt 1\nAdd\n", "GetSlot 0\nInc\n", "GetSlot 0\nNegate\n",
                 "GetSlot 0\nAbsInt\n", "GetSlot 0\nLoadInt 3\nMul\n",
                 "GetSlot 0\nLoadInt 2\nShl\n"):
        value = INT_MIN if "Negate" in text or "Abs" in text else INT_MAX
        ref, _ = agree(asm(text), jit_tier, [value], strict=True, native=False)
        assert ref.error is not None and ref.error[0] == "IntegerOverflow"
        ref, _ = agree(asm(text), jit_tier, [value], strict=False)
        assert ref.error is None


def test_float_to_int_saturates_and_shift_counts_are_masked(jit_tier: str) -> None:
    for value in (math.nan, math.inf, -math.inf, 1e300, -1e300, 9.3e18, -0.5):
        agree(asm("GetSlot 0\nTruncInt\n"), jit_tier, [value])
        agree(asm("GetSlot 0\nLoadInt 1\nBitOr\n"), jit_tier, [value])
    for count in (64, 65, -1, 127, INT_MIN, 3.9):
        agree(asm("LoadInt 5\nGetSlot 0\nShl\n"), jit_tier, [count])
        agree(asm("LoadInt -5\nGetSlot 0\nShr\n"), jit_tier, [count])


def test_untouched_and_bool_slots_keep_their_values_and_kinds(jit_tier: str) -> None:
    chunk = asm("GetSlot 1\nLogNot\nSetSlot 2\nGetSlot 0\n")
    ref, got = agree(chunk, jit_tier, [7, True, 0, "text", [1, 2]])
    assert got.slots == [7, True, False, "text", [1, 2]] and type(got.slots[2]) is bool
    chunk = asm("GetSlot 0\nSetSlot 1\nGetSlot 0\n")
    ref, got = agree(chunk, jit_tier, [Undef, "x"])
    assert got.slots == [Undef, Undef]


def test_empty_and_multi_value_final_stacks(tier: str) -> None:
    # Linear needs exactly one value; the block tier leaves everything on the VM's stack.
    block_only = "block" if tier == "block" else None
    agree(asm("LoadInt 1\nSetSlot 0\n"), tier, [0], native=None)
    ref, got = agree(asm("LoadInt 1\nLoadFloat 2.5\nLoadTrue\n"), tier,
                     native=True if block_only else None)
    assert ref.result is True and ref.stack == [1, 2.5]


FUSED_LOOPS = [
    "top:\nGetSlot 1\nLoadInt 2\nMul\nSetSlot 1\nSlotIncLtIntJumpBack 0 10 top\nGetSlot 1\n",
    "top:\nSlotLtIntJumpIfFalse 0 7 end\nPreIncSlotVoid 0\nAddAssignSlotVoid 1 0\nJump top\n"
    "end:\nGetSlot 1\n",
    "AccumSumLoop 1 0 20\nGetSlot 1\nGetSlot 0\n",
    "PostIncSlot 0\nPreDecSlot 1\nPostDecSlot 0\nPreIncSlot 1\n",
    "top:\nGetSlot 1\nLoadFloat 0.5\nAdd\nSetSlot 1\nPreIncSlotVoid 0\nGetSlot 0\nLoadInt 5\n"
    "NumLt\nJumpIfTrue top\nGetSlot 1\n",
]


@pytest.mark.parametrize("text", FUSED_LOOPS, ids=range(len(FUSED_LOOPS)))
def test_fused_ops_over_every_slot_kind(tier: str, text: str) -> None:
    chunk = asm(text)
    # Slot 0 counts: only small starting values, or the loop would run up to 2**63 times
    # (INT_MAX wraps to INT_MIN), in the interpreter as in native code.
    counters = [0, 3, -4, 2.5, -0.0, math.nan, True, False, Undef, -7.9]
    values = [*counters, INT_MAX, INT_MIN, 1e300, -9.3e18, math.inf]
    for a in counters:
        for b in values:
            for strict in (False, True):
                agree(chunk, tier, [a, b], strict, native=None)


def test_a_loop_back_to_the_first_op(jit_tier: str) -> None:
    chunk = asm("start:\nGetSlot 0\nInc\nSetSlot 0\nGetSlot 0\nLoadInt 10\nNumLt\n"
                "JumpIfTrue start\nGetSlot 0\n")
    if jit_tier == "linear":
        return
    for start in (0, 9, 10, 2.5, True, Undef):
        agree(chunk, jit_tier, [start])


def test_a_jump_to_the_end_and_values_left_below_a_loop(jit_tier: str) -> None:
    if jit_tier == "linear":
        return
    chunk = asm("LoadInt 7\nGetSlot 0\nJumpIfFalse skip\nLoadInt 0\nSetSlot 1\ntop:\n"
                "GetSlot 1\nLoadFloat 1.5\nMul\nSetSlot 2\nSlotIncLtIntJumpBack 1 4 top\n"
                "skip:\nGetSlot 2\nJump end\nLoadInt 99\nend:\n")
    for flag in (True, False, 0, 1.0):
        agree(chunk, jit_tier, [flag, 0, 0])


def test_accum_sum_loop_closed_form_matches_at_the_extremes(jit_tier: str) -> None:
    """Wrapping sums modulo 2**64, and under strict_int a deopt exactly when a step overflows."""
    from oracle import check_program
    from progs import Program
    extremes = [0, 1, -1, INT_MAX, INT_MIN, -2**32, -2**33, 2**62, -2**62, -3037000499,
                -3037000500, -(2**32) - 5, 2**31 - 1]
    for limit in (2**31 - 1, -5, 100, 0):
        for s in extremes:
            for k in extremes:
                for strict in (False, True):
                    program = Program([("AccumSumLoop", 0, 1, limit), ("GetSlot", 0)], [s, k],
                                      strict)
                    how, problems = check_program(program, (jit_tier,))
                    assert not problems, (problems, s, k, limit, strict)
                    assert how[jit_tier] in ("ran", "deopt")


def test_awks_modulo_agrees_at_the_float_extremes(jit_tier: str) -> None:
    """awk's % (AwkArith 4) is C fmod: native code computes it for integral operands it is
    exact for, and leaves the rest (an infinite divisor: 1 % -inf is 1, not 0 * inf's NaN)
    to the interpreter."""
    from oracle import check_program
    from progs import Program
    values = [1.0, -7.0, 0.0, -0.0, 5.5, 2.0**53, 2.0**60, math.inf, -math.inf, math.nan]
    for a in values:
        for b in values:
            # (Constants: a chunk of its own each, as a unit that keeps deoptimising is
            # dropped.)
            program = Program([("LoadFloat", a), ("LoadFloat", b), ("AwkArith", 4)], [],
                              wide=True)
            how, problems = check_program(program, (jit_tier,))
            assert not problems, (problems, a, b)
            assert how[jit_tier] in ("ran", "deopt")
