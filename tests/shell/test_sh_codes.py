"""The numeric shell sub-codes are ABI (docs/shell.md; parity fact 70) and each
code round-trips through its shell spelling."""

from __future__ import annotations

import pytest

from fusevm.ops.shell_codes import FileTest, ParamMod, Redir, param_argc


def test_file_test_codes_are_pinned() -> None:
    assert [(t.name, int(t)) for t in FileTest] == [
        ("IS_FILE", 0), ("IS_DIR", 1), ("IS_READABLE", 2), ("IS_WRITABLE", 3),
        ("IS_EXECUTABLE", 4), ("EXISTS", 5), ("IS_NONEMPTY", 6), ("IS_SYMLINK", 7),
        ("IS_SOCKET", 8), ("IS_FIFO", 9), ("IS_BLOCK_DEV", 10), ("IS_CHAR_DEV", 11)]


def test_redirect_codes_are_pinned() -> None:
    assert [(r.name, int(r), r.symbol) for r in Redir] == [
        ("WRITE", 0, ">"), ("APPEND", 1, ">>"), ("READ", 2, "<"), ("READ_WRITE", 3, "<>"),
        ("CLOBBER", 4, ">|"), ("DUP_READ", 5, "<&"), ("DUP_WRITE", 6, ">&"),
        ("WRITE_BOTH", 7, "&>"), ("APPEND_BOTH", 8, "&>>")]


def test_param_modifier_codes_are_pinned() -> None:
    assert [int(m) for m in ParamMod][:18] == list(range(18))
    assert [m.name for m in ParamMod][:18] == [
        "DEFAULT", "ASSIGN", "ERROR", "ALTERNATE", "LENGTH", "STRIP_SHORT", "STRIP_LONG",
        "RSTRIP_SHORT", "RSTRIP_LONG", "SUBST_FIRST", "SUBST_ALL", "UPPER", "LOWER",
        "UPPER_FIRST", "LOWER_FIRST", "INDIRECT", "KEYS", "SLICE"]
    # Python extension codes for the colon-less forms start at 18.
    assert [(m.name, int(m)) for m in ParamMod][18:] == [
        ("DEFAULT_UNSET", 18), ("ASSIGN_UNSET", 19), ("ERROR_UNSET", 20),
        ("ALTERNATE_UNSET", 21)]


@pytest.mark.parametrize("enum", [Redir, FileTest, ParamMod])
def test_every_code_round_trips_through_its_symbol(enum: type[Redir]) -> None:
    symbols = [m.symbol for m in enum]
    assert len(set(symbols)) == len(symbols)
    for member in enum:
        assert enum.from_symbol(member.symbol) is member
        assert enum.from_symbol(member.name) is member
        assert enum.from_symbol(member.name.lower()) is member
        assert enum.from_symbol(str(int(member))) is member


def test_symbols_read_like_shell_syntax() -> None:
    assert Redir.from_symbol(">>") is Redir.APPEND
    assert FileTest.from_symbol("-f") is FileTest.IS_FILE
    assert FileTest.from_symbol("-h") is FileTest.IS_SYMLINK
    assert FileTest.from_symbol("d") is FileTest.IS_DIR
    assert ParamMod.from_symbol(":-") is ParamMod.DEFAULT
    assert ParamMod.from_symbol("##") is ParamMod.STRIP_LONG
    assert ParamMod.from_symbol("#v") is ParamMod.LENGTH
    assert ParamMod.SLICE.symbol == ":"


@pytest.mark.parametrize("text", ["", ">>>", "-q", "nope", "99"])
def test_unknown_symbols_are_rejected(text: str) -> None:
    for enum in (Redir, FileTest, ParamMod):
        with pytest.raises(ValueError):
            enum.from_symbol(text)


def test_param_operand_counts_follow_the_vm_table() -> None:
    # Operand counts: 0 operands for 4, 11-16 and unknown codes; 1 for 0-3, 5-8; 2 for 9, 10, 17.
    assert {m: m.argc for m in ParamMod if m < 18} == {
        m: (2 if m in (9, 10, 17) else 1 if m in (0, 1, 2, 3, 5, 6, 7, 8) else 0)
        for m in ParamMod if m < 18}
    assert all(m.argc == 1 for m in ParamMod if m >= 18)
    assert param_argc(200) == 0 and param_argc(255) == 0


def test_redirect_kind_properties() -> None:
    assert [r for r in Redir if r.default_fd == 0] == [
        Redir.READ, Redir.READ_WRITE, Redir.DUP_READ]
    assert not Redir.DUP_WRITE.opens_file and Redir.WRITE_BOTH.opens_file
    assert not Redir.READ.writes and Redir.READ_WRITE.writes
