"""ChunkBuilder and the verifier: labels, forward jumps, pools and every D9 check."""

from __future__ import annotations

from typing import Any

import pytest

from fusevm.chunk import Chunk, ChunkBuilder
from fusevm.errors import BuildError
from fusevm.interp.vm import VM
from fusevm.ops import Op
from fusevm.verify import verify


def test_forward_and_backward_labels_resolve_in_build() -> None:
    b = ChunkBuilder()
    end = b.label("end")
    b.emit(Op.LoadInt, 0)
    b.emit(Op.SetSlot, 0)
    top = b.label("top")
    b.bind(top)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.LoadInt, 3)
    b.emit(Op.NumLt)
    b.emit(Op.JumpIfFalse, end)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.Inc)
    b.emit(Op.SetSlot, 0)
    b.emit(Op.Jump, top)
    b.bind(end)
    b.emit(Op.GetSlot, 0)
    chunk = b.build(fuse=False)
    assert chunk.ops[5] == (Op.JumpIfFalse, 10)
    assert chunk.ops[9] == (Op.Jump, 2)
    assert chunk.slot_count == 1
    assert VM(chunk).run() == 3


def test_emit_returns_the_op_index_and_patch_jump_rewrites_the_target() -> None:
    b = ChunkBuilder()
    assert b.emit(Op.LoadTrue) == 0
    j = b.emit(Op.JumpIfTrue, 0)
    b.emit(Op.Nop)
    b.patch_jump(j, b.current_pos())
    b.emit(Op.LoadInt, 2)
    assert b.build(fuse=False).ops[1] == (Op.JumpIfTrue, 3)
    with pytest.raises(BuildError, match="has no jump target"):
        b.patch_jump(0, 1)


def test_names_are_interned_and_constants_are_not() -> None:
    b = ChunkBuilder()
    assert b.add_name("x") == b.add_name("x") == 0
    assert b.add_constant("s") != b.add_constant("s")


def test_constants_must_be_vm_values() -> None:
    with pytest.raises(BuildError, match="not a VM value"):
        ChunkBuilder().add_constant((1, 2))


@pytest.mark.parametrize("op, operands, fragment", [
    (Op.LoadInt, (2**63,), "outside the INT range"),
    (Op.GetSlot, (-1,), "outside the SLOT range"),
    (Op.Print, (256,), "outside the U8 range"),
    (Op.LoadInt, ("1",), "must be an integer"),
    (Op.LoadInt, (True,), "must be an integer"),
    (Op.Add, (1,), "takes 0 operand(s)"),
])
def test_emit_rejects_bad_operands_naming_the_op_and_index(op: Op, operands: tuple[object, ...],
                                                           fragment: str) -> None:
    b = ChunkBuilder(source="e.fasm")
    b.emit(Op.Nop)
    with pytest.raises(BuildError) as info:
        b.emit(op, *operands, line=9)
    assert fragment in info.value.message
    assert (info.value.op, info.value.ip, info.value.source) == (op.name, 1, "e.fasm")


def test_unbound_label_is_an_error() -> None:
    b = ChunkBuilder()
    b.emit(Op.Jump, b.label("nowhere"))
    with pytest.raises(BuildError, match="label nowhere used by op 0 .* never bound"):
        b.build(fuse=False)


def test_stack_underflow_is_found_statically_with_the_line() -> None:
    b = ChunkBuilder(source="u.fasm")
    b.emit(Op.LoadInt, 1, line=3)
    b.emit(Op.Add, line=4)
    with pytest.raises(BuildError) as info:
        b.build(fuse=False)
    e = info.value
    assert "stack underflow" in e.message and "needs 2 value(s), the stack holds 1" in e.message
    assert (e.op, e.ip, e.line, e.source) == ("Add", 1, 4, "u.fasm")


def test_inconsistent_depth_at_a_join_point_is_an_error() -> None:
    b = ChunkBuilder()
    join = b.label()
    b.emit(Op.LoadTrue)
    b.emit(Op.JumpIfTrue, join)
    b.emit(Op.LoadInt, 1)
    b.bind(join)
    b.emit(Op.Nop)
    with pytest.raises(BuildError, match="stack depth at join point 3"):
        b.build(fuse=False)


def test_underflow_on_only_one_path_is_still_found() -> None:
    b = ChunkBuilder()
    other = b.label()
    b.emit(Op.LoadInt, 1)
    b.emit(Op.LoadTrue)
    b.emit(Op.JumpIfTrue, other)
    b.emit(Op.Pop)
    b.emit(Op.Return)
    b.bind(other)
    b.emit(Op.Pop)
    b.emit(Op.Pop)
    with pytest.raises(BuildError, match="stack underflow"):
        b.build(fuse=False)


def test_calls_must_agree_on_argument_count_and_functions_on_return_kind() -> None:
    b = ChunkBuilder()
    f = b.label()
    b.emit(Op.LoadInt, 1)
    b.emit(Op.Call, b.add_name("f"), 1)
    b.emit(Op.Call, b.add_name("f"), 0)
    b.emit(Op.Return)
    b.bind(f)
    b.add_sub_entry("f", f)
    b.emit(Op.LoadInt, 0)
    b.emit(Op.ReturnValue)
    with pytest.raises(BuildError, match="calls to 'f' pass 1 and 0 arguments"):
        b.build(fuse=False)


def test_function_mixing_return_and_return_value_is_an_error() -> None:
    b = ChunkBuilder()
    f = b.label()
    other = b.label()
    b.emit(Op.Call, b.add_name("f"), 0)
    b.emit(Op.Return)
    b.bind(f)
    b.add_sub_entry("f", f)
    b.emit(Op.LoadTrue)
    b.emit(Op.JumpIfTrue, other)
    b.emit(Op.Return)
    b.bind(other)
    b.emit(Op.LoadInt, 1)
    b.emit(Op.ReturnValue)
    with pytest.raises(BuildError, match="returns both with and without a value"):
        b.build(fuse=False)


def test_call_to_an_undefined_function_is_rejected_at_build() -> None:
    b = ChunkBuilder()
    b.emit(Op.Call, b.add_name("nope"), 0)
    with pytest.raises(BuildError, match="undefined function 'nope'"):
        b.build(fuse=False)


def test_pop_frame_without_push_frame_is_rejected() -> None:
    b = ChunkBuilder()
    b.emit(Op.PopFrame)
    with pytest.raises(BuildError, match="PopFrame without a matching PushFrame"):
        b.build(fuse=False)


def test_pool_slot_and_target_indices_are_range_checked() -> None:
    cases = [
        (Chunk([(Op.LoadConst, 0)]), "const index 0 is out of range"),
        (Chunk([(Op.GetVar, 2)], names=["a"]), "name index 2 is out of range"),
        (Chunk([(Op.Jump, 5)]), "jump target 5 is past the end"),
        (Chunk([(Op.GetSlot, 1)], slot_count=1), "slot 1 is not below"),
        (Chunk([(Op.MapBlock, 0)]), "block index 0 is out of range"),
        (Chunk([(Op.CmdSubst, 0)]), "sub index 0 is out of range"),
        (Chunk([(Op.TestFile, 99)]), "99 is not a valid FILETEST code"),
        (Chunk([(Op.LoadInt, 1)], lines=[]), "line table has 0 entries for 1 ops"),
    ]
    for chunk, fragment in cases:
        with pytest.raises(BuildError, match=fragment):
            verify(chunk)


def test_block_ranges_need_a_result_for_map_grep_and_sort() -> None:
    b = ChunkBuilder()
    skip = b.label()
    b.emit(Op.Jump, skip)
    start = b.current_pos()
    b.emit(Op.Nop)
    block = b.add_block_range(start, b.current_pos())
    b.bind(skip)
    b.emit(Op.LoadConst, b.add_constant([1]))
    b.emit(Op.MapBlock, block)
    with pytest.raises(BuildError, match="ends with an empty stack"):
        b.build(fuse=False)


def test_reserve_slots_and_slot_count_from_operands() -> None:
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 1)
    b.emit(Op.SetSlot, 4)
    assert b.build(fuse=False).slot_count == 5
    b.reserve_slots(9)
    assert b.build(fuse=False).slot_count == 9


def test_chunks_compare_by_content() -> None:
    def make(n: int) -> Chunk:
        b = ChunkBuilder()
        b.emit(Op.LoadInt, n)
        return b.build(fuse=False)
    assert make(1) == make(1)
    assert make(1) != make(2)
    assert hash(make(1)) == hash(make(1))


def test_a_function_no_call_names_is_not_walked_by_the_verifier() -> None:
    from fusevm.asm import assemble
    from fusevm.verify import verify
    chunk = assemble("LoadInt 1\nReturn\n.sub unused\n    SetSlot 0\n    GetSlot 0\n"
                     "    ReturnValue\n")
    an = verify(chunk)
    assert an.depth[2:] == [None, None, None]


@pytest.mark.parametrize("misuse", [
    lambda: ChunkBuilder(source=5),  # type: ignore[arg-type]
    lambda: ChunkBuilder().emit("LoadInt", 1),  # type: ignore[arg-type]
    lambda: ChunkBuilder().emit(Op.LoadInt, 1, line="x"),  # type: ignore[arg-type]
    lambda: ChunkBuilder().emit(Op.LoadInt, 1, line=2 ** 40),
    lambda: ChunkBuilder().set_line(-5),
])
def test_builder_arguments_the_chunk_could_not_hold_are_type_errors(misuse: Any) -> None:
    """What a built chunk could not be serialized with (a line past 32 bits, a source
    that is no str) or what is no op is refused where it is given."""
    with pytest.raises(TypeError):
        misuse()
