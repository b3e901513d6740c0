"""ChunkBuilder conveniences: names for NAME operands, declared arity, public exports."""

from __future__ import annotations

import pytest

import fusevm
from fusevm import VM, BuildError, ChunkBuilder, Op
from fusevm.asm import assemble
from fusevm.errors import AsmError


def _caller(b: ChunkBuilder, argc: int) -> None:
    for k in range(argc):
        b.emit(Op.LoadInt, 10 * (k + 1), line=1)
    b.emit(Op.Call, "inc", argc, line=2)
    b.emit(Op.ReturnValue, line=2)


def _inc(b: ChunkBuilder, arity: int | None) -> None:
    entry = b.label("inc")
    b.add_sub_entry("inc", entry, arity=arity)
    b.bind(entry)
    b.emit(Op.LoadInt, 1, line=7)
    b.emit(Op.Add, line=7)
    b.emit(Op.ReturnValue, line=8)


def test_emit_takes_a_string_for_a_name_operand_and_interns_it() -> None:
    b = ChunkBuilder(source="names.fasm")
    b.emit(Op.LoadInt, 5)
    b.emit(Op.SetVar, "x")
    b.emit(Op.GetVar, "x")
    chunk = b.build(fuse=False)
    assert chunk.names == ("x",)
    assert chunk.ops[1] == (Op.SetVar, 0) and chunk.ops[2] == (Op.GetVar, 0)
    assert VM(chunk).run() == 5


def test_call_by_name_runs_the_function() -> None:
    b = ChunkBuilder(source="call.fasm")
    _caller(b, 1)
    _inc(b, arity=1)
    assert VM(b.build()).run() == 11


def test_a_name_index_still_works_for_a_name_operand() -> None:
    b = ChunkBuilder()
    b.emit(Op.LoadInt, 3)
    b.emit(Op.SetVar, b.add_name("y"))
    b.emit(Op.GetVar, "y")
    assert VM(b.build()).run() == 3


def test_call_with_another_argument_count_than_the_declared_arity_names_both_places() -> None:
    b = ChunkBuilder(source="arity.ml")
    _caller(b, 2)
    _inc(b, arity=1)
    with pytest.raises(BuildError) as info:
        b.build()
    err = info.value
    assert (err.source, err.line, err.ip, err.op) == ("arity.ml", 2, 2, "Call")
    message = str(err)
    assert "passes 2 argument(s)" in message and "arity 1" in message
    assert "op 4 (line 7)" in message  # the function's entry


def test_undeclared_arity_is_not_checked_against_the_body() -> None:
    b = ChunkBuilder()
    _caller(b, 1)
    _inc(b, arity=None)
    assert VM(b.build()).run() == 11


@pytest.mark.parametrize("arity", [-1, 1.5, "2", 256])
def test_a_bad_arity_is_refused(arity: object) -> None:
    b = ChunkBuilder()
    with pytest.raises(BuildError, match="arity"):
        b.add_sub_entry("f", 0, arity=arity)  # type: ignore[arg-type]


def test_sub_directive_declares_an_arity() -> None:
    good = ".sub twice 1\n    LoadInt 2\n    Mul\n    ReturnValue\n"
    main = "LoadInt 4\nCall twice 1\nReturnValue\n"
    assert VM(assemble(main + good)).run() == 8
    with pytest.raises(AsmError, match="declared with arity 1") as info:
        assemble("LoadInt 4\nLoadInt 5\nCall twice 2\nReturnValue\n" + good, source="p.fasm")
    assert info.value.line == 3


def test_sub_directive_with_a_label_and_an_arity() -> None:
    text = ("LoadInt 4\nCall f 1\nReturnValue\n.sub f body 1\nbody:\n    Dup\n    Add\n"
            "    ReturnValue\n")
    assert VM(assemble(text)).run() == 8
    with pytest.raises(AsmError, match="arity 2"):
        assemble(text.replace(".sub f body 1", ".sub f body 2"))


def test_f_and_kind_are_exported() -> None:
    assert fusevm.F is fusevm.ops.F and fusevm.Kind is fusevm.ops.Kind
    assert {"F", "Kind"} <= set(fusevm.__all__)
    assert Op.Call.spec.has(fusevm.F.CALL)
    assert Op.Call.spec.operands[0].kind is fusevm.Kind.NAME
