"""Golden tests for the fusion pass: plain assembly in, expected fused assembly out.

Each case is assembled unfused, fused, and compared as compact text (ops and labels; pools
and source lines do not count) with its expected text, assembled the same way. Every fused
result must also verify, fuse to itself again, and run like its input.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fusekit import TIMEOUT, Outcome, compact, run_bounded, same_list

from fusevm.asm import assemble
from fusevm.chunk import ChunkBuilder
from fusevm.ops import FUSED_OPS, F, Op
from fusevm.ops.extension import ExtensionSet
from fusevm.ops.spec import make_spec
from fusevm.peephole.fuse import fuse, unfuse
from fusevm.peephole.pattern import PATTERNS, parse_spec, render
from fusevm.verify import verify


@dataclass(frozen=True)
class Golden:
    name: str
    source: str
    expected: str


def _loop(limit: int | str, body: str, *, i: int = 0, inc: str = "") -> str:
    """A top-tested counted loop as a frontend emits it: i = 0; while i < limit: body; i++."""
    inc = inc or f"GetSlot {i}\nInc\nSetSlot {i}"
    return f"""
        LoadInt 0
        SetSlot {i}
    top:
        GetSlot {i}
        LoadInt {limit}
        NumLt
        JumpIfFalse end
        {body}
        {inc}
        Jump top
    end:
        GetSlot {i}
        PrintLn 1
    """


CASES = [
    # -- one pattern each ------------------------------------------------------------------
    Golden("add_assign", "GetSlot 0\nGetSlot 1\nAdd\nSetSlot 0",
           "AddAssignSlotVoid 0 1"),
    Golden("add_assign_same_slot", "GetSlot 2\nGetSlot 2\nAdd\nSetSlot 2",
           "AddAssignSlotVoid 2 2"),
    Golden("pre_inc_void", "GetSlot 3\nInc\nSetSlot 3", "PreIncSlotVoid 3"),
    Golden("pre_inc_with_dup", "GetSlot 0\nInc\nDup\nSetSlot 0\nPrintLn 1",
           "PreIncSlot 0\nPrintLn 1"),
    Golden("pre_inc_forwarded_store", "GetSlot 0\nInc\nSetSlot 0\nGetSlot 0\nPrintLn 1",
           "PreIncSlot 0\nPrintLn 1"),
    Golden("pre_dec_forwarded_store", "GetSlot 1\nDec\nSetSlot 1\nGetSlot 1\nPrintLn 1",
           "PreDecSlot 1\nPrintLn 1"),
    Golden("post_inc", "GetSlot 0\nDup\nInc\nSetSlot 0\nPrintLn 1", "PostIncSlot 0\nPrintLn 1"),
    Golden("post_dec", "GetSlot 0\nDup\nDec\nSetSlot 0\nPrintLn 1", "PostDecSlot 0\nPrintLn 1"),
    Golden("if_less_than", """
        GetSlot 0
        LoadInt 5
        NumLt
        JumpIfFalse skip
        LoadConst "small"
        PrintLn 1
    skip:
        LoadInt 1
        PrintLn 1
    """, """
        SlotLtIntJumpIfFalse 0 5 skip
        LoadConst "small"
        PrintLn 1
    skip:
        LoadInt 1
        PrintLn 1
    """),
    Golden("store_then_unrelated_load", "LoadInt 1\nSetSlot 0\nGetSlot 1\nPrintLn 1",
           "LoadInt 1\nSetSlot 0\nGetSlot 1\nPrintLn 1"),
    Golden("increment_into_another_slot", "GetSlot 0\nInc\nSetSlot 1",
           "GetSlot 0\nInc\nSetSlot 1"),
    Golden("add_into_the_other_slot", "GetSlot 0\nGetSlot 1\nAdd\nSetSlot 1",
           "GetSlot 0\nGetSlot 1\nAdd\nSetSlot 1"),
    Golden("add_one_is_not_inc", "GetSlot 0\nLoadInt 1\nAdd\nSetSlot 0",
           "GetSlot 0\nLoadInt 1\nAdd\nSetSlot 0"),

    # -- loops -------------------------------------------------------------------------------
    Golden("counted_loop", _loop(10, "GetSlot 0\nPrintLn 1"), """
        LoadInt 0
        SetSlot 0
        SlotLtIntJumpIfFalse 0 10 end
    body:
        GetSlot 0
        PrintLn 1
        SlotIncLtIntJumpBack 0 10 body
    end:
        GetSlot 0
        PrintLn 1
    """),
    Golden("empty_counted_loop", _loop(100000, ""), """
        LoadInt 0
        SetSlot 0
        SlotLtIntJumpIfFalse 0 100000 end
    body:
        SlotIncLtIntJumpBack 0 100000 body
    end:
        GetSlot 0
        PrintLn 1
    """),
    Golden("sum_loop", "LoadInt 0\nSetSlot 1\n" + _loop(1000, """
        GetSlot 1
        GetSlot 0
        Add
        SetSlot 1"""), """
        LoadInt 0
        SetSlot 1
        LoadInt 0
        SetSlot 0
        AccumSumLoop 1 0 1000
        GetSlot 0
        PrintLn 1
    """),
    Golden("string_build_loop", 'LoadConst ""\nSetSlot 1\n' + _loop(7, """
        GetSlot 1
        LoadConst "ab"
        Concat
        SetSlot 1"""), """
        LoadConst ""
        SetSlot 1
        LoadInt 0
        SetSlot 0
        ConcatConstLoop "ab" 1 0 7
        GetSlot 0
        PrintLn 1
    """),
    Golden("array_push_loop", "DeclareArray xs\n" + _loop(10, "GetSlot 0\nArrayPush xs"), """
        DeclareArray xs
        LoadInt 0
        SetSlot 0
        PushIntRangeLoop xs 0 10
        GetSlot 0
        PrintLn 1
    """),
    Golden("nested_loops", """
        LoadInt 0
        SetSlot 1
    outer:
        GetSlot 1
        LoadInt 3
        NumLt
        JumpIfFalse outer_end
        LoadInt 0
        SetSlot 2
    inner:
        GetSlot 2
        LoadInt 4
        NumLt
        JumpIfFalse inner_end
        GetSlot 0
        GetSlot 2
        Add
        SetSlot 0
        GetSlot 2
        Inc
        SetSlot 2
        Jump inner
    inner_end:
        GetSlot 1
        Inc
        SetSlot 1
        Jump outer
    outer_end:
    """, """
        LoadInt 0
        SetSlot 1
        SlotLtIntJumpIfFalse 1 3 outer_end
    outer_body:
        LoadInt 0
        SetSlot 2
        AccumSumLoop 0 2 4
        SlotIncLtIntJumpBack 1 3 outer_body
    outer_end:
    """),
    Golden("loop_with_continue", _loop(10, """
        GetSlot 0
        LoadInt 3
        NumEq
        JumpIfTrue next
        GetSlot 0
        PrintLn 1""", inc="next:\nGetSlot 0\nInc\nSetSlot 0"), """
        LoadInt 0
        SetSlot 0
        SlotLtIntJumpIfFalse 0 10 end
    body:
        GetSlot 0
        LoadInt 3
        NumEq
        JumpIfTrue next
        GetSlot 0
        PrintLn 1
    next:
        SlotIncLtIntJumpBack 0 10 body
    end:
        GetSlot 0
        PrintLn 1
    """),
    Golden("loop_with_break", _loop(10, """
        GetSlot 0
        LoadInt 3
        NumEq
        JumpIfTrue end"""), """
        LoadInt 0
        SetSlot 0
        SlotLtIntJumpIfFalse 0 10 end
    body:
        GetSlot 0
        LoadInt 3
        NumEq
        JumpIfTrue end
        SlotIncLtIntJumpBack 0 10 body
    end:
        GetSlot 0
        PrintLn 1
    """),
    Golden("sum_loop_with_continue_is_no_whole_loop", "LoadInt 0\nSetSlot 1\n" + _loop(5, """
        GetSlot 0
        LoadInt 2
        NumEq
        JumpIfTrue next
        GetSlot 1
        GetSlot 0
        Add
        SetSlot 1""", inc="next:\nGetSlot 0\nInc\nSetSlot 0"), """
        LoadInt 0
        SetSlot 1
        LoadInt 0
        SetSlot 0
        SlotLtIntJumpIfFalse 0 5 end
    body:
        GetSlot 0
        LoadInt 2
        NumEq
        JumpIfTrue next
        AddAssignSlotVoid 1 0
    next:
        SlotIncLtIntJumpBack 0 5 body
    end:
        GetSlot 0
        PrintLn 1
    """),
    Golden("sum_loop_exiting_elsewhere_is_no_whole_loop", """
    top:
        GetSlot 0
        LoadInt 5
        NumLt
        JumpIfFalse out
        GetSlot 1
        GetSlot 0
        Add
        SetSlot 1
        GetSlot 0
        Inc
        SetSlot 0
        Jump top
        LoadInt 99
        PrintLn 1
    out:
        GetSlot 1
        PrintLn 1
    """, """
    top:
        SlotLtIntJumpIfFalse 0 5 out
        AddAssignSlotVoid 1 0
        PreIncSlotVoid 0
        Jump top
        LoadInt 99
        PrintLn 1
    out:
        GetSlot 1
        PrintLn 1
    """),
    Golden("sum_loop_jumping_back_elsewhere_is_no_whole_loop", """
    again:
        Nop
        GetSlot 0
        LoadInt 5
        NumLt
        JumpIfFalse end
        GetSlot 1
        GetSlot 0
        Add
        SetSlot 1
        GetSlot 0
        Inc
        SetSlot 0
        Jump again
    end:
    """, """
    again:
        Nop
        SlotLtIntJumpIfFalse 0 5 end
        AddAssignSlotVoid 1 0
        PreIncSlotVoid 0
        Jump again
    end:
    """),
    Golden("step_of_two_is_not_inverted", _loop(10, "GetSlot 0\nPrintLn 1",
                                                 inc="GetSlot 0\nLoadInt 2\nAdd\nSetSlot 0"), """
        LoadInt 0
        SetSlot 0
    top:
        SlotLtIntJumpIfFalse 0 10 end
        GetSlot 0
        PrintLn 1
        GetSlot 0
        LoadInt 2
        Add
        SetSlot 0
        Jump top
    end:
        GetSlot 0
        PrintLn 1
    """),
    Golden("limit_outside_i32", _loop(3000000000, ""), """
        LoadInt 0
        SetSlot 0
    top:
        GetSlot 0
        LoadInt 3000000000
        NumLt
        JumpIfFalse end
        PreIncSlotVoid 0
        Jump top
    end:
        GetSlot 0
        PrintLn 1
    """),
    Golden("counter_is_another_slot", _loop(10, "", inc="GetSlot 1\nInc\nSetSlot 1"), """
        LoadInt 0
        SetSlot 0
    top:
        SlotLtIntJumpIfFalse 0 10 end
        PreIncSlotVoid 1
        Jump top
    end:
        GetSlot 0
        PrintLn 1
    """),
    Golden("do_while_branch_over_jump", """
        LoadInt 0
        SetSlot 0
    top:
        GetSlot 0
        PrintLn 1
        GetSlot 0
        Inc
        SetSlot 0
        GetSlot 0
        LoadInt 5
        NumLt
        JumpIfFalse end
        Jump top
    end:
    """, """
        LoadInt 0
        SetSlot 0
    top:
        GetSlot 0
        PrintLn 1
        SlotIncLtIntJumpBack 0 5 top
    end:
    """),
    Golden("hand_fused_bench_counter_loop", """
        LoadInt 0
        SetSlot 0
    top:
        PreIncSlotVoid 0
        GetSlot 0
        LoadInt 100000
        NumLt
        JumpIfTrue top
        GetSlot 0
    """, """
        LoadInt 0
        SetSlot 0
    top:
        SlotIncLtIntJumpBack 0 100000 top
        GetSlot 0
    """),
    Golden("hand_fused_bench_sum_loop", """
        PushFrame
        LoadInt 0
        SetSlot 0
        LoadInt 0
        SetSlot 1
    top:
        GetSlot 0
        GetSlot 1
        Add
        SetSlot 0
        PreIncSlotVoid 1
        SlotLtIntJumpIfFalse 1 1000000 done
        Jump top
    done:
        GetSlot 0
    """, """
        PushFrame
        LoadInt 0
        SetSlot 0
        LoadInt 0
        SetSlot 1
    top:
        AddAssignSlotVoid 0 1
        SlotIncLtIntJumpBack 1 1000000 top
        GetSlot 0
    """),

    # -- boundaries: nothing fuses across a jump target, entry or block edge ------------------
    Golden("jump_target_inside_window", """
        GetSlot 0
        GetSlot 1
        JumpIfTrue mid
        Pop
        GetSlot 0
    mid:
        Inc
        SetSlot 0
    """, """
        GetSlot 0
        GetSlot 1
        JumpIfTrue mid
        Pop
        GetSlot 0
    mid:
        Inc
        SetSlot 0
    """),
    Golden("label_before_forwarded_load", """
        GetSlot 0
        JumpIfTrue skip
        GetSlot 0
        Inc
        SetSlot 0
    skip:
        GetSlot 0
        PrintLn 1
    """, """
        GetSlot 0
        JumpIfTrue skip
        PreIncSlotVoid 0
    skip:
        GetSlot 0
        PrintLn 1
    """),
    Golden("jump_to_the_closing_jump_keeps_it", """
        LoadInt 0
        SetSlot 0
    top:
        GetSlot 0
        Inc
        SetSlot 0
        GetSlot 0
        LoadInt 3
        NumEq
        JumpIfTrue close
        GetSlot 0
        PrintLn 1
        GetSlot 0
        LoadInt 5
        NumLt
        JumpIfFalse end
    close:
        Jump top
    end:
    """, """
        LoadInt 0
        SetSlot 0
    top:
        PreIncSlot 0
        LoadInt 3
        NumEq
        JumpIfTrue close
        GetSlot 0
        PrintLn 1
        SlotLtIntJumpIfFalse 0 5 end
    close:
        Jump top
    end:
    """),
    Golden("sub_entry_inside_window", """
    .sub f entry
        Jump main
        GetSlot 0
    entry:
        Inc
        SetSlot 0
        Return
    main:
        LoadInt 5
        Call f 1
    """, """
    .sub f entry
        Jump main
        GetSlot 0
    entry:
        Inc
        SetSlot 0
        Return
    main:
        LoadInt 5
        Call f 1
    """),
    Golden("targets_entries_and_blocks_move", """
    .sub f fn
    .block blk bstart bend
        GetSlot 2
        Inc
        SetSlot 2
        Jump main
    fn:
        GetSlot 0
        GetSlot 1
        Add
        SetSlot 0
        GetSlot 0
        ReturnValue
    bstart:
        GetSlot 0
        Inc
        SetSlot 0
        GetSlot 0
    bend:
    main:
        Call f 0
        MakeArray 1
        MapBlock blk
        PrintLn 1
    """, """
    .sub f fn
    .block blk bstart bend
        PreIncSlotVoid 2
        Jump main
    fn:
        AddAssignSlotVoid 0 1
        GetSlot 0
        ReturnValue
    bstart:
        PreIncSlot 0
    bend:
    main:
        Call f 0
        MakeArray 1
        MapBlock blk
        PrintLn 1
    """),
    Golden("loop_starting_at_a_block_end_is_not_collapsed_or_inverted", """
    .block blk bstart top
        Jump main
    bstart:
        GetSlot 0
    top:
        GetSlot 1
        LoadInt 3
        NumLt
        JumpIfFalse end
        GetSlot 2
        GetSlot 1
        Add
        SetSlot 2
        GetSlot 1
        Inc
        SetSlot 1
        Jump top
    end:
        GetSlot 2
        PrintLn 1
        Jump out
    main:
        LoadInt 7
        MakeArray 1
        MapBlock blk
        PrintLn 1
        Jump top
    out:
    """, """
    .block blk bstart top
        Jump main
    bstart:
        GetSlot 0
    top:
        SlotLtIntJumpIfFalse 1 3 end
        AddAssignSlotVoid 2 1
        PreIncSlotVoid 1
        Jump top
    end:
        GetSlot 2
        PrintLn 1
        Jump out
    main:
        LoadInt 7
        MakeArray 1
        MapBlock blk
        PrintLn 1
        Jump top
    out:
    """),
    Golden("block_edge_inside_window", """
    .block blk bstart bend
        Jump main
    bstart:
        GetSlot 0
        Inc
        SetSlot 0
    bend:
        GetSlot 0
        PrintLn 1
        Jump out
    main:
        LoadInt 1
        MakeArray 1
        ForEachBlock blk
        Jump bend
    out:
    """, """
    .block blk bstart bend
        Jump main
    bstart:
        PreIncSlotVoid 0
    bend:
        GetSlot 0
        PrintLn 1
        Jump out
    main:
        LoadInt 1
        MakeArray 1
        ForEachBlock blk
        Jump bend
    out:
    """),
]


def _program(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fusion_golden(case: Golden) -> None:
    plain = assemble(_program(case.source), source=f"{case.name}.fasm")
    fused = fuse(plain)
    expected = assemble(_program(case.expected), source=f"{case.name}-expected.fasm")
    assert compact(fused) == compact(expected)
    verify(fused)
    assert fuse(fused) == fused
    assert fused.constants == plain.constants and fused.names == plain.names
    assert fused.slot_count == plain.slot_count
    slow = run_bounded(plain, budget=200_000)
    if slow is not TIMEOUT:
        fast = run_bounded(fused, budget=200_000)
        assert isinstance(slow, Outcome) and isinstance(fast, Outcome)
        assert fast.output == slow.output and fast.error is slow.error
        assert same_list(fast.stack, slow.stack) and same_list(fast.slots, slow.slots)


def test_every_fused_op_is_produced_by_some_golden_case() -> None:
    produced = {ins[0] for case in CASES
                for ins in fuse(assemble(_program(case.source))).ops}
    assert set(FUSED_OPS) <= produced, sorted(str(op) for op in set(FUSED_OPS) - produced)


def test_patterns_are_the_table_fuses_texts() -> None:
    assert [p.op for p in PATTERNS] == list(FUSED_OPS)
    for pat in PATTERNS:
        assert pat.op.spec.fuses is not None
        words = render(pat).split(" = ", 1)[1]
        assert words.replace(" ", "") == pat.op.spec.fuses.replace(" ", "")


@pytest.mark.parametrize("operands,fuses,why", [
    ("slot:SLOT", "GetSlot $slot; Frobnicate; SetSlot $slot", "unknown op"),
    ("slot:SLOT", "GetSlot $other; Inc; SetSlot $slot", "not an operand"),
    ("slot:SLOT limit:I32", "GetSlot $slot; Inc; SetSlot $slot", "never appear"),
    ("slot:SLOT", "GetSlot $slot; Inc; @mid: SetSlot $slot", "unknown label"),
    ("slot:SLOT", "GetSlot $slot; @top: Inc; SetSlot $slot", "first op"),
    ("slot:SLOT", "@top: GetSlot $slot; JumpIfFalse @end; SetSlot $slot",
     "not defined"),
    ("name:NAME", "GetSlot $name; Inc; SetSlot $name", "NAME"),
    ("slot:SLOT", "GetSlot $slot; Inc; PreIncSlotVoid $slot", "plain core ops"),
    ("slot:SLOT", "GetSlot $slot; Inc", None),
])
def test_fuses_text_is_checked_when_parsed(operands: str, fuses: str, why: str | None) -> None:
    spec = make_spec(0xFE, "FakeFused", operands, "--", "test", F.FUSED, section="test",
                     fuses=fuses)
    if why is None:
        steps, narrow, loops = parse_spec(spec)
        assert [s.op for s in steps] == [Op.GetSlot, Op.Inc] and not narrow and not loops
    else:
        with pytest.raises(ValueError, match=why):
            parse_spec(spec)


def test_fused_op_takes_the_line_of_its_first_op() -> None:
    text = ".line 7\nGetSlot 0\n.line 8\nGetSlot 1\nAdd\n.line 9\nSetSlot 0\nLoadInt 1"
    fused = fuse(assemble(text))
    assert [ins[0] for ins in fused.ops] == [Op.AddAssignSlotVoid, Op.LoadInt]
    assert fused.lines == (7, 9)


def test_already_fused_input_is_returned_unchanged() -> None:
    case = next(c for c in CASES if c.name == "counted_loop")
    fused = fuse(assemble(_program(case.expected)))
    assert fuse(fused) is fused


def test_build_fuses_unless_told_not_to() -> None:
    b = ChunkBuilder()
    b.emit(Op.GetSlot, 0)
    b.emit(Op.GetSlot, 1)
    b.emit(Op.Add)
    b.emit(Op.SetSlot, 0)
    assert [ins[0] for ins in b.build().ops] == [Op.AddAssignSlotVoid]
    assert [ins[0] for ins in b.build(fuse=False).ops] == [Op.GetSlot, Op.GetSlot, Op.Add,
                                                             Op.SetSlot]


def test_sub_chunks_are_fused_too() -> None:
    inner = assemble("GetSlot 0\nInc\nSetSlot 0")
    b = ChunkBuilder()
    b.add_sub_chunk(inner)
    b.emit(Op.LoadInt, 1)
    outer = b.build()
    assert [ins[0] for ins in outer.sub_chunks[0].ops] == [Op.PreIncSlotVoid]


_EXT = ExtensionSet("fusion-test", first_id=0xEE00, count=4)
_EXT.declare("TestJumpIfZero", operands="target:TARGET", effect="v --",
             formula="if int(v) == 0: ip = target", flags=F.BRANCH)


def test_extension_targets_are_remapped() -> None:
    text = """
        GetSlot 0
        GetSlot 1
        Add
        SetSlot 0
        GetSlot 0
        TestJumpIfZero done
        GetSlot 0
        Inc
        SetSlot 0
    done:
        LoadInt 1
    """
    fused = fuse(assemble(_program(text)))
    assert compact(fused) == "\n".join([
        "    AddAssignSlotVoid 0 1", "    GetSlot 0", "    TestJumpIfZero L4",
        "    PreIncSlotVoid 0", "L4:", "    LoadInt 1"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_unfuse_gives_plain_code_that_fuses_back(case: Golden) -> None:
    fused = fuse(assemble(_program(case.source)))
    plain = unfuse(fused)
    verify(plain)
    assert not any(ins[0] in FUSED_OPS for ins in plain.ops)
    assert fuse(plain) == fused
    assert unfuse(plain) is plain


def test_unfuse_writes_a_whole_loop_out_with_its_labels() -> None:
    fused = assemble("LoadInt 0\nSetSlot 0\nAccumSumLoop 1 0 5\nGetSlot 1")
    expected = assemble(_program("""
        LoadInt 0
        SetSlot 0
    top:
        GetSlot 0
        LoadInt 5
        NumLt
        JumpIfFalse end
        GetSlot 1
        GetSlot 0
        Add
        SetSlot 1
        GetSlot 0
        Inc
        SetSlot 0
        Jump top
    end:
        GetSlot 1
    """))
    assert compact(unfuse(fused)) == compact(expected)
