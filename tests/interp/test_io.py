"""Print, PrintLn, ReadLine through pluggable streams (docs/ops.md#io; D10)."""

from __future__ import annotations

import io
import sys

import pytest

from fusevm import VM, Op, Undef

from .support import apply, asm, assemble_text, assert_same


def test_print_writes_each_value_in_push_order_without_separators():
    run = asm('LoadInt 1\nLoadFloat 2.0\nLoadConst "s"\nLoadTrue\nLoadFalse\nLoadUndef\n'
              "Print 6")
    assert run.out == "12s1"
    assert run.value is None


def test_print_ln_appends_one_newline():
    run = asm('LoadInt 1\nLoadFloat 2.0\nLoadConst "s"\nLoadTrue\nLoadFalse\nLoadUndef\n'
              "PrintLn 6")
    assert run.out == "12s1\n"


def test_print_ln_of_an_array_joins_with_spaces():
    assert asm("LoadConst [1, [2, 3], 4.5]\nPrintLn 1").out == "1 2 3 4.5\n"


def test_print_formats_floats_like_rust_display():
    run = apply(Op.Print, float("nan"), float("inf"), 1e21, -0.0, 0.1, operands=(5,))
    assert run.out == "NaNinf1000000000000000000000-00.1"


def test_print_zero_prints_nothing_and_pops_nothing():
    run = asm("LoadInt 7\nPrint 0")
    assert run.out == "" and run.value == 7


def test_print_ln_zero_prints_just_a_newline():
    run = asm("LoadInt 7\nPrintLn 0")
    assert run.out == "\n" and run.value == 7


def test_print_takes_only_its_count_of_values():
    run = asm("LoadInt 1\nLoadInt 2\nLoadInt 3\nPrint 2")
    assert run.out == "23" and run.stack == [1]


def test_print_defaults_to_sys_stdout_at_the_time_of_the_write(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    VM(assemble_text('LoadConst "hi"\nPrintLn 1')).run()
    assert out.getvalue() == "hi\n"


def test_read_line_strips_the_newline_but_keeps_a_carriage_return():
    run = asm("ReadLine\nReadLine", stdin="hello\r\nworld\n")
    assert run.stack == ["hello\r", "world"]


def test_read_line_at_end_of_input_pushes_undef():
    run = asm("ReadLine\nReadLine\nReadLine", stdin="a\n\n")
    assert run.stack[:2] == ["a", ""]
    assert_same(run.stack[2], Undef)


def test_read_line_of_a_last_line_without_newline_returns_it():
    assert asm("ReadLine\nReadLine", stdin="one\ntwo").stack == ["one", "two"]


def test_read_line_on_empty_input_is_undef():
    assert_same(asm("ReadLine", stdin="").value, Undef)


def test_read_line_keeps_non_ascii_text():
    assert asm("ReadLine\nStringLen", stdin="héllo wörld\n").value == 11


def test_default_stdin_keeps_undecodable_bytes_as_surrogates(monkeypatch):
    """Decision (vector 32): the default stdin decodes UTF-8 with surrogateescape."""
    raw = io.TextIOWrapper(io.BytesIO(b"ok\xff\xfeline\nnext\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", raw)
    vm = VM(assemble_text("ReadLine\nReadLine"))
    second = vm.run()
    first = vm.run()
    assert second == "next"
    assert first.encode("utf-8", "surrogateescape") == b"ok\xff\xfeline"


@pytest.mark.parametrize("stdin", ["x\n", "x"])
def test_read_line_pushes_a_str(stdin):
    assert asm("ReadLine", stdin=stdin).value == "x"


def _fake_stdin(monkeypatch, data: bytes) -> io.TextIOWrapper:
    raw = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", raw)
    return raw


def test_default_stdin_keeps_a_carriage_return_and_splits_only_at_newline(monkeypatch):
    """Regression: the default stdin used universal newlines, dropping "\\r" before "\\n"
    and ending a line at a lone "\\r"."""
    _fake_stdin(monkeypatch, b"hello\r\nwo\rrld\n")
    vm = VM(assemble_text("ReadLine\nReadLine"))
    assert [vm.run(), vm.run()] == ["wo\rrld", "hello\r"]


def test_a_collected_vm_does_not_close_the_process_stdin(monkeypatch):
    """Regression: each VM wrapped sys.stdin.buffer, and collecting the wrapper closed it."""
    import gc
    raw = _fake_stdin(monkeypatch, b"a\nb\nc\n")
    first = VM(assemble_text("ReadLine"))
    assert first.run() == "a"
    del first
    gc.collect()
    assert not raw.buffer.closed
    second = VM(assemble_text("ReadLine\nReadLine\nReadLine"))
    assert_same(second.run(), Undef)
    assert second.stack == ["b", "c"]


def test_vms_reading_the_default_stdin_in_turn_see_consecutive_lines(monkeypatch):
    _fake_stdin(monkeypatch, b"1\n2\n3\n")
    got = [VM(assemble_text("ReadLine")).run() for _ in range(4)]
    assert got[:3] == ["1", "2", "3"]
    assert_same(got[3], Undef)
