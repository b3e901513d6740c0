"""Eligibility is derived from the lowering registry; why_not names the first refusing op."""

from __future__ import annotations

from jitkit import asm

from fusevm.instr import Decoded
from fusevm.jit import JitCompiler, can_compile
from fusevm.jit.cfg import expand
from fusevm.jit.lower.registry import core_rule
from fusevm.ops import F, Op
from fusevm.values import Undef

jit = JitCompiler()


def test_an_op_is_eligible_exactly_when_a_rule_or_its_expansion_lowers_it() -> None:
    for op in Op:
        d = Decoded(op.spec, (0,) * len(op.spec.operands))
        if core_rule(op) is not None:
            expected = True
        elif op.spec.has(F.FUSED):
            expected = all(core_rule(Op[part.name]) is not None for part, _ in expand(d))
        else:
            expected = False
        assert can_compile(op, "block") == expected, op.name


def test_the_linear_tier_refuses_exactly_the_ops_that_branch() -> None:
    for op in Op:
        if not can_compile(op, "block"):
            assert not can_compile(op, "linear"), op.name
            continue
        branches = op.spec.has(F.BRANCH) or op.spec.has(F.TERMINATOR)
        if op.spec.has(F.FUSED) and core_rule(op) is None:
            d = Decoded(op.spec, (0,) * len(op.spec.operands))
            branches = any(p.spec.has(F.BRANCH) for p, _ in expand(d))
        assert can_compile(op, "linear") == (not branches), op.name


def test_why_not_names_the_first_op_without_a_rule() -> None:
    chunk = asm('LoadInt 1\nLoadConst "a"\nConcat\nPrintLn 1\nLoadInt 2\n')
    assert jit.why_not(chunk, "block") == "op 2 (Concat): no lowering rule for Concat"
    assert not jit.is_block_eligible(chunk)


def test_why_not_explains_io_calls_and_branches() -> None:
    why = jit.why_not(asm("LoadInt 1\nPrintLn 1\nLoadInt 1\n"), "block")
    assert why == "op 1 (PrintLn): no lowering rule for PrintLn (it does I/O)"
    loop = asm("top:\nPreIncSlotVoid 0\nGetSlot 0\nLoadInt 9\nNumLt\nJumpIfTrue top\n"
               "GetSlot 0\n")
    assert jit.why_not(loop, "block") is None
    assert jit.why_not(loop, "linear") == ("op 4 (JumpIfTrue): the linear tier takes "
                                           "straight-line code only, and this op branches")


def test_a_fused_op_with_its_own_rule_needs_no_expansion() -> None:
    # AccumSumLoop's rule is a closed form (no loop), so even the linear tier takes it;
    # ConcatConstLoop has no rule and its expansion's Concat has none either.
    chunk = asm("LoadInt 0\nSetSlot 0\nLoadInt 0\nSetSlot 1\nAccumSumLoop 0 1 10\nGetSlot 0\n")
    assert jit.why_not(chunk, "block") is None
    assert jit.why_not(chunk, "linear") is None
    concat = asm('LoadConst "x"\nSetSlot 0\nLoadInt 0\nSetSlot 1\nConcatConstLoop 0 0 1 3\n'
                 'GetSlot 0\n')
    assert jit.why_not(concat, "block") == ("op 4 (ConcatConstLoop): its expansion's Concat: "
                                            "no lowering rule for Concat")


def test_why_not_reports_kind_refusals_for_given_slots() -> None:
    chunk = asm("GetSlot 0\nLoadInt 1\nAdd\n")
    assert jit.why_not(chunk, "linear", [5]) is None
    assert jit.why_not(chunk, "linear", ["five"]) == \
        "op 0 (GetSlot) in B0: slot 0 holds a non-numeric value here"
    assert jit.why_not(chunk, "linear", [Undef]) is None


def test_why_not_reports_kinds_that_meet_in_a_loop() -> None:
    # A slot that is Int on entry and Float after the body compiles as two versions of
    # the loop; a path on which a slot still holds a Str cannot read it.
    versions = asm("LoadInt 0\nSetSlot 0\nLoadInt 0\nSetSlot 1\ntop:\nGetSlot 0\n"
                   "LoadFloat 0.5\nAdd\nSetSlot 0\nSlotIncLtIntJumpBack 1 10 top\nGetSlot 0\n")
    assert jit.why_not(versions, "block") is None
    mixed = asm("GetSlot 1\nJumpIfFalse other\nLoadInt 1\nSetSlot 0\nother:\nGetSlot 0\n"
                "LoadInt 1\nAdd\n")
    why = jit.why_not(mixed, "block", ["s", True])
    assert why == "op 4 (GetSlot) in B4: slot 0 holds a non-numeric value here"
    assert jit.why_not(mixed, "block", [2.5, True]) is None


def test_empty_and_non_terminating_chunks_are_refused() -> None:
    from fusevm.chunk import Chunk
    assert jit.why_not(Chunk([]), "block") == "the chunk is empty"
    spin = asm("top:\nJump top\n")
    assert jit.why_not(spin, "block") == ("the chunk never reaches its end (no path leads "
                                          "out of its loops)")


def test_linear_needs_exactly_one_result() -> None:
    assert jit.why_not(asm("LoadInt 1\nLoadInt 2\n"), "linear") == (
        "the linear tier needs exactly one value left on the stack, the chunk leaves 2")
    assert jit.why_not(asm("LoadInt 1\nLoadInt 2\n"), "block") is None


def test_unreachable_ops_do_not_block_eligibility() -> None:
    chunk = asm('Jump end\nLoadConst "x"\nPrintLn 1\nend:\nLoadInt 3\n')
    assert jit.why_not(chunk, "block") is None
