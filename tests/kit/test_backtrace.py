"""VMError.backtrace: the call stack at a runtime error, innermost frame last."""

from __future__ import annotations

import pytest

from fusevm import VM, ChunkBuilder, Op, VMError
from fusevm.asm import assemble
from fusevm.errors import BuildError, RecursionLimit

NESTED = """\
.source "prog.ml"
    LoadInt 5
    Call outer 1
    PrintLn 1
    Return
.sub outer 1
    LoadInt 1
    Add
    Call inner 1
    ReturnValue
.sub inner 1
    LoadInt 0
    Div
    ReturnValue
"""


def test_backtrace_lists_each_call_with_its_line_innermost_last() -> None:
    with pytest.raises(VMError) as info:
        VM(assemble(NESTED)).run()
    assert info.value.backtrace == [("<main>", "prog.ml", 3), ("outer", "prog.ml", 9),
                                    ("inner", "prog.ml", 13)]
    assert (info.value.op, info.value.line) == ("Div", 13)


def test_an_error_in_the_root_code_has_a_one_frame_backtrace() -> None:
    with pytest.raises(VMError) as info:
        VM(assemble("LoadInt 1\nLoadInt 0\nMod\n", source="root.fasm")).run()
    assert info.value.backtrace == [("<main>", "root.fasm", 3)]


def test_scope_frames_belong_to_their_function() -> None:
    text = ("Call f 0\nReturn\n.sub f 0\n    PushFrame\n    LoadInt 1\n    LoadInt 0\n"
            "    Div\n    PopFrame\n    LoadInt 0\n    ReturnValue\n")
    with pytest.raises(VMError) as info:
        VM(assemble(text, source="scope.fasm")).run()
    assert [f[0] for f in info.value.backtrace] == ["<main>", "f"]
    assert info.value.backtrace[-1][2] == 7


def test_recursion_shows_every_level() -> None:
    text = ("LoadInt 3\nCall down 1\nReturn\n.sub down 1\n    Dup\n    JumpIfFalse zero\n"
            "    LoadInt 1\n    Sub\n    Call down 1\n    ReturnValue\nzero:\n    LoadInt 7\n"
            "    Swap\n    Div\n    ReturnValue\n")
    with pytest.raises(VMError) as info:
        VM(assemble(text, source="rec.fasm")).run()
    frames = info.value.backtrace
    assert [f[0] for f in frames] == ["<main>", "down", "down", "down", "down"]
    assert [f[2] for f in frames] == [2, 9, 9, 9, 14]


def test_call_depth_limit_error_carries_a_deep_backtrace() -> None:
    text = "Call loop 0\nReturn\n.sub loop 0\n    Call loop 0\n    ReturnValue\n"
    with pytest.raises(RecursionLimit) as info:
        VM(assemble(text, source="deep.fasm"), max_depth=50).run()
    assert len(info.value.backtrace) == 51
    assert info.value.backtrace[0] == ("<main>", "deep.fasm", 1)


def test_an_error_inside_a_higher_order_block_names_the_block() -> None:
    b = ChunkBuilder(source="blk.fasm")
    start, end, after = b.label(), b.label(), b.label()
    b.emit(Op.Jump, after, line=1)
    b.bind(start)
    b.emit(Op.GetSlot, 0, line=2)
    b.emit(Op.LoadInt, 0, line=2)
    b.emit(Op.Div, line=2)
    b.bind(end)
    b.bind(after)
    block = b.add_block_range(start, end)
    b.emit(Op.LoadConst, b.add_constant([1, 2]), line=3)
    b.emit(Op.MapBlock, block, line=3)
    with pytest.raises(VMError) as info:
        VM(b.build(fuse=False)).run()
    assert info.value.backtrace == [("<main>", "blk.fasm", None),
                                    ("<block 0>", "blk.fasm", 2)]


def test_build_errors_have_no_backtrace() -> None:
    b = ChunkBuilder()
    b.emit(Op.Add)
    with pytest.raises(BuildError) as info:
        b.build()
    assert info.value.backtrace == []
