"""Conformance vectors for the core ops, one test per vector (numbered as collected).

Where a decision (docs/decisions.md) supersedes a vector, the test asserts the decision's
behaviour and its docstring names the decision.
"""

from __future__ import annotations

import io
import sys

import pytest

from fusevm import VM, BuildError, ChunkBuilder, Op, Undef
from fusevm.errors import (
    AsmError,
    IndexOutOfRange,
    TypeMismatch,
    UnknownExtension,
    ZeroDivision,
)
from fusevm.values import Status

from .support import (
    INF,
    INT_MAX,
    INT_MIN,
    NAN,
    apply,
    asm,
    assemble_text,
    assert_same,
    result_of,
    run_chunk,
)


def test_vector_01_add_ints():
    assert_same(asm("LoadInt 10\nLoadInt 32\nAdd").value, 42)


def test_vector_02_add_takes_the_float_path_for_non_int_operands():
    assert_same(result_of(Op.Add, 1, "2"), 3.0)
    assert_same(result_of(Op.Add, "2", "3"), 5.0)
    assert_same(asm("LoadTrue\nLoadInt 1\nAdd").value, 2.0)


def test_vector_03_stack_underflow():
    """Superseded by D1/D9: stack underflow is refused statically by build()."""
    for text in ("LoadInt 1\nAdd", "LoadInt 1\nDiv"):
        with pytest.raises(AsmError, match="stack underflow"):
            assemble_text(text)
    for op in (Op.Add, Op.Div):
        b = ChunkBuilder()
        b.emit(Op.LoadInt, 1)
        b.emit(op)
        with pytest.raises(BuildError, match="stack underflow"):
            b.build(fuse=False)


def test_vector_04_div():
    """Third item superseded by D1: division by zero (even -0.0) raises ZeroDivision."""
    assert_same(result_of(Op.Div, 7, 2), 3.5)
    assert_same(result_of(Op.Div, 6, 3), 2.0)
    with pytest.raises(ZeroDivision):
        apply(Op.Div, 1, -0.0)


def test_vector_05_mod():
    """Fifth item superseded by D1: Int modulo by 0 raises ZeroDivision. The fourth item
    (7 % 0.0 is NaN, the Float path's C fmod) stands."""
    assert_same(result_of(Op.Mod, -7, 3), -1)
    assert_same(result_of(Op.Mod, 7, -3), 1)
    assert_same(result_of(Op.Mod, -7.5, 2), -1.5)
    assert_same(result_of(Op.Mod, 7, 0.0), NAN)
    with pytest.raises(ZeroDivision):
        apply(Op.Mod, 7, 0)
    assert_same(result_of(Op.Mod, INT_MIN, -1), 0)


def test_vector_06_pow():
    assert_same(result_of(Op.Pow, 2, 10), 1024.0)
    assert_same(result_of(Op.Pow, 0, -1), INF)
    assert_same(result_of(Op.Pow, -8, 1 / 3), NAN)
    assert_same(result_of(Op.Pow, NAN, 0), 1.0)
    assert_same(result_of(Op.Pow, 10, 400), INF)
    assert_same(result_of(Op.Pow, -10, 401), -INF)


def test_vector_07_shifts_and_bit_ops():
    assert_same(result_of(Op.Shl, 1, 64), 1)
    assert_same(result_of(Op.Shl, 1, -1), INT_MIN)
    assert_same(result_of(Op.Shr, -8, 1), -4)
    assert_same(result_of(Op.Shr, -5, -1), -1)
    assert_same(result_of(Op.BitAnd, 7.9, 3), 3)
    assert_same(result_of(Op.BitNot, 2.5), -3)


def test_vector_08_negate_and_wrap():
    assert_same(result_of(Op.Negate, "5"), -5.0)
    assert_same(asm('LoadUndef\nNegate\nLoadConst ""\nConcat').value, "-0")
    assert_same(result_of(Op.Negate, INT_MIN), INT_MIN)
    assert_same(result_of(Op.Mul, INT_MAX, 2), -2)


def test_vector_09_inc_is_always_int():
    assert_same(result_of(Op.Inc, 2.7), 3)
    assert_same(result_of(Op.Inc, "3.5"), 1)
    assert_same(result_of(Op.Inc, True), 2)


def test_vector_10_rot_and_short_stacks():
    """First item stands. The short-stack items are superseded by D1/D9: Dup on an empty
    stack, Dup2 and Swap with one value are refused by build()."""
    assert asm("LoadInt 1\nLoadInt 2\nLoadInt 3\nRot\nMakeArray 3").value == [2, 3, 1]
    for text in ("Dup", "LoadInt 1\nDup2", "LoadInt 1\nSwap"):
        with pytest.raises(AsmError, match="stack underflow"):
            assemble_text(text)


def test_vector_11_numeric_equality():
    assert_same(result_of(Op.NumEq, NAN, NAN), False)
    assert_same(result_of(Op.NumNe, NAN, NAN), True)
    assert_same(result_of(Op.Spaceship, NAN, 1), 0)
    assert_same(result_of(Op.NumEq, 2**53 + 1, float(2**53)), True)
    assert_same(result_of(Op.NumEq, "1.0", 1), True)


def test_vector_12_string_versus_numeric_comparison():
    assert_same(result_of(Op.StrEq, 1, 1.0), True)
    assert_same(result_of(Op.StrCmp, "a", "B"), 1)
    assert_same(result_of(Op.NumLt, "10", "9"), False)
    assert_same(result_of(Op.StrLt, "10", "9"), True)
    assert_same(result_of(Op.Spaceship, "10", "9"), 1)


def test_vector_13_string_ops():
    """Fourth item superseded by D6: StringLen counts code points, so "é" has length 1."""
    assert_same(result_of(Op.StringRepeat, "ab", -1), "")
    assert_same(result_of(Op.StringRepeat, "ab", 2.9), "abab")
    assert_same(result_of(Op.StringRepeat, 12, 2), "1212")
    assert_same(result_of(Op.StringLen, "é"), 1)
    assert_same(result_of(Op.StringLen, 0.5), 3)
    assert_same(result_of(Op.Concat, 1.0, 0.1), "10.1")
    assert_same(asm('LoadFloat 1.5\nLoadFloat 1.5\nAdd\nLoadConst ""\nConcat').value, "3")


def test_vector_14_ranges():
    assert result_of(Op.Range, 3, 1) == []
    assert result_of(Op.Range, "1", "3") == [1, 2, 3]
    assert result_of(Op.RangeStep, 10, 1, -3) == [10, 7, 4, 1]
    assert result_of(Op.RangeStep, 1, 10, 4) == [1, 5, 9]
    assert result_of(Op.RangeStep, INT_MAX - 1, INT_MAX, INT_MAX) == [INT_MAX - 1]


def test_vector_15_make_array_and_make_hash():
    """First item superseded by D1/D9 (not listed in the preamble): MakeArray 3 over one
    value is a stack underflow, refused by build() instead of taking min(n, depth)."""
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 1)
    b.emit(Op.MakeArray, 3)
    with pytest.raises(BuildError, match="stack underflow"):
        b.build(fuse=False)
    assert apply(Op.MakeArray, 1, operands=(0,)).stack == [1, []]
    assert apply(Op.MakeHash, "a", 1, "b", operands=(3,)).value == {"a": 1}
    assert apply(Op.MakeHash, "a", 1, "a", 2, operands=(4,)).value == {"a": 2}


def test_vector_16_arrays():
    """First and fourth items superseded by D1: ArrayPush on an undeclared global is a
    TypeMismatch, and a negative index write is an IndexOutOfRange."""
    with pytest.raises(TypeMismatch):
        asm("LoadInt 1\nArrayPush a\nArrayLen a")
    assert asm("DeclareArray a\nLoadInt 9\nLoadInt 3\nArraySet a\nGetArray a").value == \
        [Undef, Undef, Undef, 9]
    assert_same(asm("DeclareArray a\nLoadInt 9\nLoadInt 3\nArraySet a\nLoadInt -1\n"
                    "ArrayGet a").value, Undef)
    with pytest.raises(IndexOutOfRange):
        asm("DeclareArray a\nLoadInt 9\nLoadInt -1\nArraySet a")
    assert_same(asm("LoadConst [5, 6]\nSetArray a\nLoadFloat 1.9\nArrayGet a").value, 6)


def test_vector_17_globals():
    """First item superseded by D9: `SetVar 10` with no name 10 is an out-of-range name
    index, refused by build() (globals are sized by the name pool). Third item superseded
    by D1: ArrayLen on a Str global is a TypeMismatch."""
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 5)
    b.emit(Op.SetVar, 10)
    b.emit(Op.GetVar, 10)
    with pytest.raises(BuildError, match="name index 10 is out of range"):
        b.build(fuse=False)
    for i in range(11):
        b.add_name(f"v{i}")
    assert run_chunk(b.build(fuse=False)).value == 5
    assert asm("LoadInt 5\nDeclareVar a\nGetVar a").value == 5
    with pytest.raises(TypeMismatch):
        asm('LoadConst "abc"\nSetVar a\nArrayLen a')
    assert asm("LoadInt 5\nSetArray a\nGetVar a").value == 5


def test_vector_18_hashes():
    """First item superseded by D1: HashSet and HashExists on an undeclared global are a
    TypeMismatch."""
    with pytest.raises(TypeMismatch):
        asm('LoadInt 1\nLoadConst "k"\nHashSet h\nLoadConst "k"\nHashExists h')
    assert_same(asm("DeclareHash h\nLoadInt 1\nLoadInt 7\nHashSet h\nLoadFloat 7.0\n"
                    "HashGet h").value, 1)
    assert_same(asm('DeclareHash h\nLoadConst "z"\nHashDelete h').value, Undef)


def test_vector_19_const_index_keep_jump_and_far_jump():
    """First item superseded by D9: an out-of-range constant index is refused by build().
    D9 also decides the other two, which the preamble does not list: the second vector
    reaches op 3 with stack depth 1 (jump) and 2 (fall through), a join-point mismatch
    build() refuses, so the kept value is shown with a balanced fall-through path; the
    third jumps to 99, past the end of a 2-op chunk, which build() refuses, while a jump
    to exactly len(ops) still ends the run with Ok(5)."""
    b = ChunkBuilder()
    b.emit(Op.LoadConst, 5)
    with pytest.raises(BuildError, match="const index 5 is out of range"):
        b.build(fuse=False)

    b = ChunkBuilder()
    b.emit(Op.LoadInt, 0)
    b.emit(Op.JumpIfTrueKeep, 3)
    b.emit(Op.LoadInt, 9)
    b.emit(Op.LoadInt, 8)
    with pytest.raises(BuildError, match="stack depth at join point 3"):
        b.build(fuse=False)
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 0)
    b.emit(Op.JumpIfTrueKeep, 4)
    b.emit(Op.LoadInt, 9)
    b.emit(Op.Pop)
    b.emit(Op.LoadInt, 8)
    assert run_chunk(b.build(fuse=False)).stack == [0, 8]

    b = ChunkBuilder()
    b.emit(Op.LoadInt, 5)
    b.emit(Op.Jump, 99)
    with pytest.raises(BuildError, match="jump target 99 is past the end"):
        b.build(fuse=False)
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 5)
    b.emit(Op.Jump, 2)
    assert run_chunk(b.build(fuse=False)).value == 5


def test_vector_20_unknown_ids_and_functions():
    """Superseded by D1: an Extended id no extension declares is refused by build(), an
    unregistered builtin id raises UnknownExtension, and an unknown function is refused by
    build()."""
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 1)
    b.emit(Op.Extended, 1, 2)
    with pytest.raises(BuildError, match="no extension set declares op id 0x1"):
        b.build(fuse=False)
    with pytest.raises(UnknownExtension, match="no builtin is registered with id 99"):
        asm("LoadInt 1\nCallBuiltin 99 0")
    b = ChunkBuilder()
    b.emit(Op.Call, b.add_name("nope"), 0)
    with pytest.raises(BuildError, match="undefined function 'nope'"):
        b.build(fuse=False)


def test_vector_21_call_passes_arguments_and_return_value_resumes_after_the_call():
    b = ChunkBuilder()
    f = b.add_name("f")
    b.emit(Op.LoadInt, 10)
    b.emit(Op.LoadInt, 3)
    b.emit(Op.Call, f, 2)
    b.emit(Op.Jump, 8)
    b.add_sub_entry("f", 4)
    b.emit(Op.SetSlot, 1)
    b.emit(Op.SetSlot, 0)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.ReturnValue)
    b.emit(Op.LoadInt, 100)
    run = run_chunk(b.build(fuse=False))
    assert run.value == 100
    assert run.vm.stack == [10]


def test_vector_22_root_return_runs_the_chunk_once():
    """Superseded by D2: a Return in the root frame halts, so the builtin runs once."""
    chunk = assemble_text("CallBuiltin 1 0\nPop\nLoadInt 5\nReturn\nLoadInt 99")
    vm = VM(chunk)
    calls = []
    vm.register_builtin(1, lambda vm: calls.append(1))
    assert vm.run() == 5
    assert calls == [1]


def test_vector_23_scopes_hide_slots():
    """First item superseded by D1/D9: a PopFrame with no PushFrame is refused by build()
    rather than silently dropping the root frame."""
    with pytest.raises(AsmError, match="PopFrame without a matching PushFrame"):
        assemble_text("LoadInt 1\nPopFrame\nLoadInt 3\nSetSlot 0\nGetSlot 0")
    assert_same(asm("LoadInt 4\nSetSlot 0\nPushFrame\nGetSlot 0").value, Undef)


def _fused(setup: str, op: str, after: str = "") -> list:
    return asm(f"{setup}\n{op}\n{after}").stack


def test_vector_24_fused_ops():
    """Items 3 and 7 superseded by D14 (as the preamble says): 1.5 + 2.5 is Float 4.0 and
    -0.5 < 0 does not jump. D14 also decides items 2, 5 and 6, which the preamble does not
    list: PostIncSlot pushes the slot's value itself ("5", as GetSlot; Dup would), an
    AccumSumLoop whose Undef counter is not below 0 writes nothing (the sequence's first
    test fails), and PushIntRangeLoop on an Int global raises TypeMismatch (the
    sequence's ArrayPush, D1)."""
    assert_same(_fused("LoadFloat 2.7\nSetSlot 0", "PreIncSlot 0")[-1], 3)
    stack = _fused('LoadConst "5"\nSetSlot 0', "PostIncSlot 0", "GetSlot 0")
    assert_same(stack[0], "5")
    assert_same(stack[1], 6)
    stack = _fused("LoadFloat 1.5\nSetSlot 0\nLoadFloat 2.5\nSetSlot 1",
                   "AddAssignSlotVoid 0 1", "GetSlot 0")
    assert_same(stack[-1], 4.0)
    stack = _fused(f"LoadInt {INT_MAX}\nSetSlot 0\nLoadInt 0\nSetSlot 1",
                   "AccumSumLoop 0 1 3", "GetSlot 0")
    assert_same(stack[-1], -9223372036854775806)
    stack = _fused("LoadUndef\nSetSlot 0\nLoadUndef\nSetSlot 1", "AccumSumLoop 0 1 0",
                   "GetSlot 0\nGetSlot 1")
    assert_same(stack[0], Undef)
    assert_same(stack[1], Undef)
    with pytest.raises(TypeMismatch):
        asm("LoadInt 5\nSetVar a\nLoadInt 2\nSetSlot 0\nPushIntRangeLoop a 0 5")
    assert asm("DeclareArray a\nLoadInt 2\nSetSlot 0\nPushIntRangeLoop a 0 5\n"
               "GetArray a").value == [2, 3, 4]
    stack = _fused("LoadFloat -0.5\nSetSlot 0", "SlotLtIntJumpIfFalse 0 0 jumped",
                   'LoadConst "fell through"\nJump end\njumped:\nLoadConst "jumped"\nend:')
    assert stack == ["fell through"]


def test_vector_25_truthiness_and_status():
    assert_same(result_of(Op.LogNot, "0.0"), False)
    assert_same(result_of(Op.LogAnd, "0", 1), False)
    assert_same(result_of(Op.LogOr, 0, []), False)
    assert_same(asm("LoadInt 3\nSetStatus\nGetStatus\nLogNot").value, True)
    assert_same(asm("LoadInt 2\nSetStatus\nGetStatus\nLoadInt 1\nAdd").value, 3.0)
    assert_same(asm(f"LoadInt {2**33 + 5}\nSetStatus\nGetStatus").value, Status(5))


def test_vector_26_print():
    run = asm('LoadInt 1\nLoadFloat 2.0\nLoadConst "s"\nLoadTrue\nLoadFalse\nLoadUndef\n'
              "PrintLn 6")
    assert run.out == "12s1\n"
    assert asm("LoadConst [1, 2]\nPrintLn 1").out == "1 2\n"
    run = asm("LoadInt 7\nPrint 0")
    assert run.out == "" and run.value == 7


def test_vector_27_read_line():
    """Third item superseded by D10: at end of input ReadLine pushes Undef."""
    run = asm("ReadLine\nReadLine\nReadLine", stdin="hello\r\nworld\n")
    assert run.stack[:2] == ["hello\r", "world"]
    assert_same(run.stack[2], Undef)


def test_vector_28_coercions():
    assert_same(asm('LoadConst [[1, 2], 3]\nLoadConst ""\nConcat').value, "1 2 3")
    assert_same(result_of(Op.TruncInt, "9223372036854775808"), 0)
    assert_same(result_of(Op.TruncInt, 1e30), INT_MAX)
    assert_same(result_of(Op.TruncInt, NAN), 0)
    assert_same(result_of(Op.Add, [1, 2], 1), 1.0)
    assert_same(result_of(Op.BitOr, [1, 2], 0), 2)
    assert_same(result_of(Op.NumEq, [1, 2], 0), True)


def test_vector_29_a_builtin_that_halts():
    chunk = assemble_text("LoadInt 55\nCallBuiltin 1 0\nReturnValue\nLoadInt 99")
    vm = VM(chunk)
    vm.register_builtin(1, lambda vm: vm.request_halt() or 0)
    assert_same(vm.run(), 0)


def test_vector_30_higher_order_ops():
    """Superseded by D3: the higher-order ops work instead of being no-ops."""
    run = asm("""
    .block times10 b0 b0_end
    .block desc b1 b1_end
    .block keep b3 b3_end
        LoadInt 1
        LoadInt 2
        MakeArray 2
        MapBlock times10
        SortDefault
        GrepBlock keep
        Dup
        ForEachBlock times10
        SortBlock desc
        Jump end
    b0:
        GetSlot 0
        LoadInt 10
        Mul
    b0_end:
        Jump end
    b1:
        GetSlot 1
        GetSlot 0
        Spaceship
    b1_end:
        Jump end
    b3:
        GetSlot 0
    b3_end:
    end:
    """)
    assert run.stack == [[20, 10]]


def test_vector_31_float_printing_and_math():
    run = apply(Op.PrintLn, NAN, INF, 1e21, -0.0, operands=(4,))
    assert run.out == "NaNinf1000000000000000000000-0\n"
    assert_same(result_of(Op.RoundFloat, 2.5), 2.0)
    assert_same(result_of(Op.RoundFloat, -0.5), -0.0)
    assert_same(result_of(Op.GcdInt, INT_MIN, 0), INT_MIN)
    assert_same(result_of(Op.LcmInt, INT_MAX, INT_MAX - 1), INT_MAX)


def test_vector_32_undecodable_input_is_never_dropped(monkeypatch):
    """Superseded (section 8 preamble): the VM's default stdin decodes UTF-8 with
    surrogateescape, so undecodable bytes survive as lone surrogates and round-trip."""
    raw = io.TextIOWrapper(io.BytesIO(b"ok\xff\xfeline\nnext\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", raw)
    vm = VM(assemble_text("ReadLine\nReadLine"))
    second, first = vm.run(), vm.run()
    assert first == "ok\udcff\udcfeline"
    assert first.encode("utf-8", "surrogateescape") == b"ok\xff\xfeline"
    assert second == "next"
