"""The compiled form: awk ops live in their own ExtensionSet, the chunk verifies, the
disassembler shows them, and core ops are used only where their semantics are awk's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fusevm.disasm import disassemble
from fusevm.lang.awk.api import AWK, compile_program
from fusevm.lang.awk.errors import AwkSemanticError, AwkSyntaxError
from fusevm.ops import OPS
from fusevm.ops.extension import lookup, registered_sets

from .awkrun import SRC, awk, gawk, needs_gawk


def test_extension_set_range_and_no_core_ops() -> None:
    assert AWK.first_id == 0x1000 and AWK.count == 0x400
    assert AWK in registered_sets()
    core_names = {OPS[n].name for n in OPS}
    for op in AWK:
        assert op.id in AWK
        assert op.name.startswith("Awk")
        assert op.name not in core_names
        # every awk op is a function of its stack values or a step factory
        assert (op.function is None) != (op.factory is None), op.name
        assert op.handler is None, op.name
        assert lookup(op.id) is op


def _names(program: str) -> list[str]:
    text = disassemble(compile_program(program))
    # Op lines of the listing start with a blank: [line] [>>] offset Mnemonic operands.
    return [next(word for word in line.split() if word[0].isalpha())
            for line in text.splitlines() if line.startswith(" ")]


def test_program_layout() -> None:
    names = _names("BEGIN { x = 1 } /a/ { print $1 } { n++ } END { print NR }")
    assert names[0] == "AwkInit"
    assert "AwkNextRecord" in names and "AwkEnterEnd" in names
    assert "AwkMatchRec" in names and "AwkFieldTextK" in names and "AwkPrint" in names
    assert names[-1] == "Return"


def test_numeric_code_uses_core_arithmetic() -> None:
    names = _names("BEGIN { x = 1 + 2 * 3; y = x - 1 }")
    assert "Add" in names and "Mul" in names and "Sub" in names
    assert "AwkNum" not in names  # x only ever holds numbers and is assigned by then
    assert "AwkFieldNum" in _names("{ y = $1 - 1 }")  # a field may hold any string
    assert "AwkVarNum" in _names("BEGIN { if (c) x = 1; y = x - 1 }")  # x may be uninit
    assert "AwkNum" in _names("{ y = $i - 1 }")


def test_record_loop_passes_over_records_only_when_every_rule_is_a_regex() -> None:
    assert "AwkNextCandidate" in _names("/ab+c|x/ { n++ } /q/")
    assert "AwkNextMatch" in _names("/ab+c|x/ { n++ }")  # one rule: tested by the loop
    assert "AwkMatchRec" not in _names("/ab+c|x/ { n++ }")
    assert "AwkNextMatch" in _names("(/[0-9]/)\nEND { print }")  # no literal needed
    assert "AwkNextMatch" not in _names("/a/ { n++ } /b/")
    assert "AwkNextMatch" not in _names("/a/ || /b/ { n++ }")
    assert "AwkNextCandidate" not in _names("/ab+c|x/ { n++ } { m++ }")  # a rule for all
    assert "AwkNextCandidate" not in _names("/[0-9]/ { n++ } /a/")  # no literal it needs
    assert "AwkNextCandidate" not in _names("/a/, /b/ { n++ }")  # a range has state
    assert "AwkNextCandidate" not in _names("!/a/ { n++ }")


def test_field_subscripts_skip_the_strnum() -> None:
    assert "AwkFieldKeyK" in _names("{ c[$1]++ }") and "AwkFieldK" not in _names("{ c[$1]++ }")
    assert "AwkFieldKey" in _names("{ for (i = 1; i <= NF; i++) c[$i]++ }")
    assert "AwkFieldKeyK" in _names("{ if (($2) in c) print }")


def test_comparisons_use_strnum_op_unless_both_numeric() -> None:
    assert "AwkCmp" in _names("{ print ($1 < x) }")
    assert "NumLt" in _names("BEGIN { print (1 + 1 < 3) }")
    # a field against a number: one op, either way round
    assert "AwkFieldCmp" in _names("{ print ($1 < 2) }")
    assert "AwkFieldCmp" in _names("{ print (2 < $1) }")


def test_functions_and_calls() -> None:
    names = _names("function f(a, b) { return a + b } BEGIN { print f(1) }")
    assert "Call" in names and "ReturnValue" in names
    assert "AwkUninit" in names  # the missing argument is padded


def test_array_param_passes_handle() -> None:
    names = _names("function f(a) { a[1] = 1 } BEGIN { f(arr); print arr[1] }")
    assert "AwkCheckArray" in names and "AwkASet" in names and "AwkAGet" in names


def test_uncalled_function_is_not_compiled() -> None:
    chunk = compile_program("function unused(a, b) { return a } BEGIN { }")
    assert all(n != "unused" for n, _ in [(chunk.names[i], ip)
                                          for i, ip in chunk.sub_entries])


def test_errors() -> None:
    with pytest.raises(AwkSyntaxError):
        compile_program("BEGIN { print ( }")
    compile_program("BEGIN { a[1] = 1; print a }")  # fails when `print a` runs
    with pytest.raises(AwkSemanticError):
        compile_program("function f(x) { x[1] = 1 } BEGIN { f(1) }")


def test_fused_and_unfused_agree() -> None:
    prog = "BEGIN { for (i = 0; i < 5; i++) s += i; print s }"
    assert len(compile_program(prog, fuse=False).ops) >= len(compile_program(prog).ops)


@pytest.mark.process
def test_cli_dis_awk() -> None:
    r = subprocess.run([sys.executable, "-m", "fusevm", "dis", "--awk", "{ print $1 }"],
                       capture_output=True, text=True, env={"PYTHONPATH": SRC}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "AwkFieldTextK 1" in r.stdout and "AwkPrint 1" in r.stdout


@pytest.mark.process
def test_cli_fusevm_awk() -> None:
    r = subprocess.run([sys.executable, "-m", "fusevm", "awk", "{ print $2 }"], input="a b\n",
                       capture_output=True, text=True, env={"PYTHONPATH": SRC}, timeout=60)
    assert (r.returncode, r.stdout) == (0, "b\n")


@pytest.mark.parametrize(("program", "appends"), [
    ("{ s = s $1 }", True),
    ("{ s = s $1 \",\" $2 }", True),
    ("{ s = (s) \"x\" }", True),
    ("{ s = s s }", True),
    ("{ s = \"x\" s }", False),  # (a prepend)
    ("{ t = s \"x\" }", False),
    ("{ x = (s = s \"x\") }", False),  # (its value is used)
    ("function f() { s = 1; return 2 } { s = s f() }", False),  # (the call may change s)
    ("{ s = s (s = \"q\") }", False),
    ("{ s = s sub(/a/, \"b\", s) }", False),
    ("{ s = s (getline s) }", False),
    ("function g(s) { s = s \"x\"; return s } { print g($1) }", False),  # (a parameter)
    ("{ NR = NR \"x\" }", False),
])
def test_string_built_by_appends(program: str, appends: bool) -> None:
    """`s = s x` of a global is an append to it (AwkAppendVar: CPython grows the string in
    place, where `s = s x` copied all of s each time), unless `x` may change `s`."""
    assert ("AwkAppendVar" in _names(program)) is appends


APPENDS = [
    'BEGIN { s = s "a"; s = s 1; x = 0.1 + 0.2; s = s x; s = s s; print s }',
    'BEGIN { t = 5; t = t "x"; print t; CONVFMT = "%.2g"; u = 3.14159; u = u ""; print u }',
    'BEGIN { v = v; print "[" v "]"; n = 1; n = n 2; print n + 1; s = "x"; s = (s) "y" "z" }',
    '{ w = w $1 "," $2 } END { print w; print length(w) }',
    'function f() { s = "reset"; return "r" } BEGIN { s = "a"; s = s f(); print s }',
]


@needs_gawk
@pytest.mark.parametrize("program", APPENDS)
def test_appends_agree_with_gawk(program: str) -> None:
    assert awk(program, "1 2\n3 4\n") == gawk(program, "1 2\n3 4\n")


def test_print_takes_a_field_as_text() -> None:
    """`print $k` writes the field's text without making its strnum (AwkFieldTextK); a
    field given a number prints by OFMT, as before."""
    assert "AwkFieldTextK" in _names("{ print $2, $1 }")
    assert "AwkFieldTextK" not in _names("{ print $1 + 0 }")
    program = ('BEGIN { OFMT = "%.2f"; CONVFMT = "%.3g" } '
               '{ $2 = 3.14159; print $2, $1, $7 "|"; print $0 }')
    assert awk(program, "1.50 abc 007\n") == "3.14 1.50 |\n1.50 3.14 007\n"


def test_length_of_a_field_measures_its_text() -> None:
    """`length($i)` measures the field's string value without making its strnum (the
    subscript text ops); a field given a number is measured by CONVFMT, as before."""
    names = _names("{ n += length($i) + length($2) + length() }")
    assert "AwkFieldKey" in names and "AwkFieldKeyK" in names and "AwkField" not in names
    program = ('BEGIN { CONVFMT = "%.2g" } { $2 = 3.14159; print length($2), length($0), '
               'length($9), length }')
    assert awk(program, "1.50 abc 007\n") == "3 12 0 12\n"  # (as gawk: "1.50 3.1 007")


@needs_gawk
def test_compound_assignment_takes_a_fields_number() -> None:
    """`a[k] op= $i` and `$j op= $i` take the field's number (AwkFieldNum): the ops
    convert their value with num() anyway, so no strnum is made for it."""
    assert "AwkFieldNum" in _names("{ a[$5] += $3; $2 *= $1 }")
    program = ('{ a[$5] += $3; a[$1] -= $2; a["x"] ^= $6; $2 *= $1; $4 /= $3; '
               'b[$1] %= $3 "1"; c[NR] += "3abc"; d[1] += $9 } '
               'END { n = 0; for (k in a) n += a[k]; print n, $0, c[1], c[2], d[1] }')
    text = "1.5 abc 007 x 1e2\n  2e3 x 4\n"
    assert awk(program, text) == gawk(program, text)
