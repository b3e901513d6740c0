"""Every tier gives the interpreter's NaN bits (D5; the interpreter is the oracle).

`same_value` treats every NaN alike, so the other differential tests cannot see a NaN that
differs in its sign or payload; these compare raw IEEE bits. Operands arrive both through
slots and as constants in the code (which LLVM may fold at compile time).
"""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from jitkit import asm, runs
from oracle import snapshot
from progs import Program

from conftest import requires_llvmlite

NEG_NAN = struct.unpack("<d", struct.pack("<Q", 0xFFF8000000000000))[0]
POS_NAN = math.nan
PAYLOAD_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000123))[0]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, math.inf, -math.inf, POS_NAN, NEG_NAN, 1e308]
SLOT_SPECIAL = [*SPECIAL, PAYLOAD_NAN]
BINARY = ["Add", "Sub", "Mul", "Div", "Mod", "Pow", "PowFloat", "Atan2Float"]
UNARY = ["Negate", "AbsFloat", "SqrtFloat", "FloorFloat", "CeilFloat", "RoundFloat",
         "TruncFloat", "ExpFloat", "LogFloat", "Log2Float", "Log10Float", "SinFloat",
         "CosFloat", "TanFloat", "AsinFloat", "AcosFloat", "AtanFloat", "SinhFloat",
         "CoshFloat", "TanhFloat"]


def bits(v: Any) -> Any:
    return struct.pack("<d", v).hex() if type(v) is float else v


def literal(x: float) -> str:
    """LoadFloat text for x; NaNs go through a slot-free constant expression instead."""
    if math.isnan(x):
        # No literal for a signed NaN: make it from infinities in the code itself.
        sign = "Negate\n" if math.copysign(1.0, x) < 0 else ""
        return f"LoadFloat inf\nLoadFloat inf\nSub\n{sign}"
    return f"LoadFloat {x!r}\n"


def check(text: str, tier: str, slots: list[Any]) -> None:
    chunk = asm(text)
    program = Program([], slots, False)
    ref = snapshot(program, chunk, None)
    before = runs(tier)
    got = snapshot(program, chunk, tier)
    # A zero divisor deopts: the interpreter then raises its own error.
    assert ref.error is not None or runs(tier) > before, f"{tier} did not run natively:\n{text}"
    assert (got.error, bits(got.result)) == (ref.error, bits(ref.result)), \
        f"{tier} differs from the interpreter on {slots}:\n{text}"


@pytest.mark.parametrize("op", BINARY)
def test_binary_nan_bits_match_through_slots(jit_tier: str, op: str) -> None:
    for a in SLOT_SPECIAL:
        for b in SLOT_SPECIAL:
            check(f"GetSlot 0\nGetSlot 1\n{op}\n", jit_tier, [a, b])


@pytest.mark.parametrize("op", UNARY)
def test_unary_nan_bits_match_through_slots(jit_tier: str, op: str) -> None:
    for a in SLOT_SPECIAL:
        check(f"GetSlot 0\n{op}\n", jit_tier, [a])


@pytest.mark.parametrize("op", BINARY)
def test_binary_nan_bits_match_on_constants(jit_tier: str, op: str) -> None:
    for a in SPECIAL:
        for b in SPECIAL:
            check(literal(a) + literal(b) + f"{op}\nSetSlot 0\nGetSlot 0\n", jit_tier, [0])


@pytest.mark.parametrize("op", UNARY)
def test_unary_nan_bits_match_on_constants(jit_tier: str, op: str) -> None:
    for a in SPECIAL:
        check(literal(a) + f"{op}\nSetSlot 0\nGetSlot 0\n", jit_tier, [0])


@pytest.mark.parametrize("text", ["LoadFloat inf\nLoadInt 1\nMod\n",
                                  "LoadFloat -1.0\nSqrtFloat\n",
                                  "LoadFloat -8.0\nLoadFloat 0.5\nPow\n"])
def test_issue_17_cases(jit_tier: str, text: str) -> None:
    check(text + "SetSlot 0\nGetSlot 0\n", jit_tier, [0])


@requires_llvmlite
@pytest.mark.parametrize("x", [1e308, -math.inf, PAYLOAD_NAN, NEG_NAN])
def test_nan_bits_in_a_loop_carried_sum(x: float) -> None:
    """`s += x; x *= -3` makes a NaN mid-loop (inf - inf) and then carries it: the NaN
    fix-up after the add is a predicted branch natively (`ieee.py`), and its rare
    direction must still give the interpreter's bits."""
    text = """
    top:
        GetSlot 0
        GetSlot 1
        Add
        SetSlot 0
        GetSlot 1
        LoadFloat -3.0
        Mul
        SetSlot 1
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
    check(text, "block", [0.0, x, 0])


def test_the_lowerings_domain_nan_is_the_interpreters() -> None:
    """The NaN a lowering returns for a domain error is `math.nan`, bit for bit (the
    lowering module makes it without loading `math`)."""
    from fusevm.jit.lower.ieee import INTERP_NAN
    assert bits(INTERP_NAN) == bits(math.nan)
