"""Assembler and disassembler: round trips for every op, literals, and error positions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given

from fusevm.asm import assemble, disassemble, parse_value
from fusevm.chunk import Chunk, ChunkBuilder
from fusevm.errors import AsmError, BuildError
from fusevm.ops import F, Kind, Op
from fusevm.ops.shell_codes import FileTest, ParamMod, Redir
from fusevm.values import format_value, same_value

from strategies import straight_chunks, values


def chunk_with(op: Op) -> Chunk:
    """A valid chunk that contains `op` with in-range operands (built from the table)."""
    b = ChunkBuilder(source="every-op.fasm")
    sub = ChunkBuilder(source="sub").build(fuse=False)
    skip = b.label("main")
    b.emit(Op.Jump, skip)
    start = b.current_pos()
    b.emit(Op.GetSlot, 0)
    end = b.current_pos()
    b.emit(Op.Return)
    block = b.add_block_range(start, end)
    fn = b.label("fn")
    out = b.label("out")
    b.bind(skip)
    spec = op.spec
    operands = []
    for o in spec.operands:
        k = o.kind
        if k is Kind.CONST:
            operands.append(b.add_constant("text"))
        elif k is Kind.NAME:
            operands.append(b.add_name("fn" if op is Op.Call else "g"))
        elif k is Kind.TARGET:
            operands.append(out)
        elif k is Kind.BLOCK:
            operands.append(block)
        elif k is Kind.SUB:
            operands.append(b.add_sub_chunk(sub))
        elif k is Kind.REDIR:
            operands.append(int(Redir.APPEND))
        elif k is Kind.FILETEST:
            operands.append(int(FileTest.IS_DIR))
        elif k is Kind.PARAMMOD:
            operands.append(int(ParamMod.SUBST_ALL))
        elif k is Kind.FLOAT:
            operands.append(2.5)
        elif k is Kind.EXT_ID:
            pytest.skip("extension ops are covered by test_extension_ops_round_trip")
        else:
            operands.append(min(2, k.hi))
    pops = spec.effect.pops(spec, tuple(operands))
    if op is Op.PopFrame:
        b.emit(Op.PushFrame)
    for i in range(pops):
        b.emit(Op.LoadInt, i)
    b.emit(op, *operands, line=7)
    b.bind(out)
    b.emit(Op.Return)
    if op is Op.Call:
        b.bind(fn)
        b.add_sub_entry("fn", fn)
        b.emit(Op.LoadInt, 1)
        b.emit(Op.ReturnValue)
    return b.build(fuse=False)


@pytest.mark.parametrize("op", list(Op), ids=lambda op: op.name)
def test_every_op_round_trips_through_text(op: Op) -> None:
    chunk = chunk_with(op)
    text = disassemble(chunk)
    again = assemble(text, source="every-op.fasm")
    assert again == chunk
    assert disassemble(again) == text
    assert op.name in text


def test_extension_ops_round_trip_by_their_own_mnemonics() -> None:
    from fusevm.ops.extension import ExtensionSet
    ext = ExtensionSet("asmtest", first_id=0xE000, count=16)
    narrow = ext.declare("TestPushField", operands="idx:U8", effect="-- v")
    wide = ext.declare("TestJumpIfEven", operands="slot:SLOT target:TARGET", effect="--",
                       flags=F.BRANCH)
    b = ChunkBuilder()
    top = b.label()
    b.bind(top)
    b.emit(narrow, 3)
    b.emit(Op.Pop)
    b.emit(wide, 1, top)
    chunk = b.build(fuse=False)
    text = disassemble(chunk)
    assert "TestPushField 3" in text and "TestJumpIfEven 1 L0" in text
    assert assemble(text) == chunk


@given(straight_chunks())
def test_random_chunks_round_trip_through_text_and_bytes(chunk: Chunk) -> None:
    assert assemble(disassemble(chunk), source=chunk.source) == chunk
    assert Chunk.from_bytes(chunk.to_bytes()) == chunk


@given(values)
def test_value_literals_parse_back_to_the_same_value(v: object) -> None:
    assert same_value(parse_value(format_value(v)), v)


def test_the_api_example_assembles_and_runs() -> None:
    from fusevm.interp.vm import VM
    text = """
    ; comment to end of line
    .source "api.fasm"
        LoadInt 5
        LoadFloat 2.5
        Add
        LoadConst "hello"
        Pop
        SetSlot 0
        GetSlot 0
        LoadInt 0
        NumGt
        JumpIfFalse done
        GetSlot 0
    done:
    """
    chunk = assemble(text)
    assert chunk.source == "api.fasm"
    assert VM(chunk).run() == 7.5


def test_labels_sub_entries_blocks_and_sub_chunks_resolve() -> None:
    text = """
    .block twice b0 b1
    .chunk body
        LoadInt 1
    .end
        Jump main
    b0: GetSlot 0
        GetSlot 0
        Add
    b1: Nop
    main:
        LoadConst [1, 2, 3]
        MapBlock twice
        CmdSubst body
        Pop
    """
    chunk = assemble(text)
    assert chunk.block_ranges == ((1, 4),)
    assert len(chunk.sub_chunks) == 1
    assert assemble(disassemble(chunk)) == chunk


@pytest.mark.parametrize("text, line, col, fragment", [
    ("LoadInt 1\n  Addd", 2, 3, "unknown op 'Addd' (did you mean 'Add'?)"),
    ("  LoadInt", 1, 10, "LoadInt needs operand value"),
    ("LoadInt x", 1, 9, "expected LoadInt operand value (an integer)"),
    ("LoadInt 1 2", 1, 11, "takes 1 operand"),
    ("Jump nowhere", 1, 6, "label 'nowhere' is used but never defined"),
    ("a:\na:", 2, 1, "label 'a' is already defined at line 1"),
    ('LoadConst "abc', 1, 11, "unterminated string"),
    ("GetSlot 70000", 1, 9, "outside 0..65535"),
    ("TestFile -q", 1, 10, "expected a FILETEST code"),
    (".frobnicate", 1, 1, "unknown directive '.frobnicate'"),
    ("LoadConst [1, 2", 1, 11, "expected ']'"),
    ("Add", 1, 1, "stack underflow"),
])
def test_syntax_errors_report_file_line_col_and_what_was_expected(
        text: str, line: int, col: int, fragment: str) -> None:
    with pytest.raises(AsmError) as info:
        assemble(text, source="bad.fasm")
    err = info.value
    assert (err.source, err.line, err.col) == ("bad.fasm", line, col), str(err)
    assert fragment in err.message
    assert str(err).startswith(f"bad.fasm:{line}:{col}: ")


def test_constant_literals_reuse_equal_pool_entries_but_keep_kinds_apart() -> None:
    chunk = assemble('LoadConst 1\nLoadConst 1.0\nLoadConst 1\nLoadConst true\nPop\nPop\n'
                     'Pop\nPop')
    assert [type(c) for c in chunk.constants] == [int, float, bool]
    nan = assemble("LoadConst nan\nLoadConst nan\nPop\nPop")
    assert len(nan.constants) == 1 and math.isnan(nan.constants[0])


def test_the_token_scanners_end_where_their_regular_expressions_would() -> None:
    # The assembler reads tokens with str methods (no `re` at start-up); each scanner's
    # docstring gives the expression it stands for, compared here on generated text.
    import random
    import re

    from fusevm import asm
    expressions = {
        asm._number_end: r"[+-]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|(?:\d+\.?\d*|"
                         r"\.\d+)(?:[eE][+-]?\d+)?|inf|nan\(0x[0-9a-fA-F]{16}\)|nan)"
                         r"(?![A-Za-z0-9_])",
        asm.ident_end: r"[A-Za-z_][A-Za-z0-9_.$]*",
        asm._digits: r"\d+",
    }
    chars = "0123456789+-.eExXbBoOafinAF()_$ g\u0663\t,"
    pieces = ["0x", "0b", "0o", "inf", "nan", "nan(0x0123456789abcdef)", "nan(0x", "1e",
              "e+", ".5", "12."]
    rnd = random.Random(7)
    for _ in range(4000):
        text = "".join(rnd.choice(pieces) if rnd.random() < 0.2 else rnd.choice(chars)
                       for _ in range(rnd.randint(0, 10)))
        for pos in range(len(text) + 1):
            for scan, expression in expressions.items():
                m = re.compile(expression).match(text, pos)
                assert scan(text, pos) == (None if m is None else m.end()), (text, pos)


@pytest.mark.parametrize(("count", "column"), [("-1", 8), ("70000", 8), ("1e3", 8)])
def test_a_slot_count_out_of_range_names_the_range_a_frame_allows(count: str,
                                                                    column: int) -> None:
    with pytest.raises(AsmError) as info:
        assemble(f".slots {count}\nNop\n")
    assert (info.value.line, info.value.col) == (1, column)
    if count != "1e3":
        assert f"slot count {count} is outside 0..65536" in info.value.message


@pytest.mark.parametrize("ops", [[(999, 0)], ["LoadInt"], [(Op.LoadInt,)], [7]],
                         ids=["number", "text", "no-operand", "int"])
def test_disassembling_a_chunk_that_holds_no_instruction_is_a_located_error(ops):
    with pytest.raises(BuildError, match="op 0") as info:
        disassemble(Chunk(ops, lines=[1]))
    assert info.value.ip == 0


def test_disassemble_takes_a_chunk():
    with pytest.raises(TypeError, match="takes a Chunk"):
        disassemble("LoadInt 1")  # type: ignore[arg-type]
