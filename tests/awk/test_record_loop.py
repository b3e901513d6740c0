"""The record loop's straight path (`AwkState.lines`): each state change a plain next
record would not reset sends the next record the long way, across block boundaries too;
NR and FNR are counted whenever the program names them; the exact types the awk op bodies
promise the baseline (`results`) are what their interpreter functions return."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from fusevm.interp.vm import VM
from fusevm.lang.awk.api import AWK, compile_program
from fusevm.lang.awk.fields import BLOCK
from fusevm.lang.awk.state import AwkArray, AwkState
from fusevm.lang.awk.values import UNINIT, StrNum

from .awkrun import awk, run

# enough lines for several blocks of input, so the loop runs compiled and crosses blocks
LINES = [f"k{i} {i * 1.5} {i % 7} w{i % 3}" for i in range(3 * BLOCK // 16)]
TEXT = "\n".join(LINES) + "\n"
assert len(TEXT) > 2 * BLOCK


def test_sum_and_count_cross_blocks() -> None:
    s = sum(i % 7 for i in range(len(LINES)))
    assert awk("{ s += $3 } END { print s, NR, FNR }", TEXT) == \
        f"{s} {len(LINES)} {len(LINES)}\n"


def test_a_program_not_naming_nr_still_sees_every_record() -> None:
    assert awk("{ n++ } END { print n }", TEXT) == f"{len(LINES)}\n"


def test_nr_named_only_in_a_function_counts() -> None:
    assert awk("function f() { return NR } END { print f() }", TEXT) == f"{len(LINES)}\n"


def test_field_assignment_does_not_leak_into_the_next_record() -> None:
    got = awk('NR % 1000 == 5 { $2 = "x"; $6 = "y" } { print NF, $2 }', TEXT)
    assert got == "".join("6 x\n" if i % 1000 == 4 else f"4 {i * 1.5}\n"
                          for i in range(len(LINES)))


def test_nf_and_nr_assignments_last_one_record() -> None:
    got = awk("NR == 3 { NF = 2; NR = 100 } { print NR, NF, $0 }", TEXT).splitlines()
    assert got[2] == "100 2 k2 3.0"
    assert got[3] == f"101 4 {LINES[3]}"


def test_record_assignment_then_the_next_line() -> None:
    got = awk('NR % 500 == 1 { $0 = "a  b" } { print NF }', TEXT).splitlines()
    assert got[0] == "2" and got[1] == "4" and got[500] == "2" and got[501] == "4"


def test_fs_change_applies_from_the_next_record() -> None:
    text = "a:b c:d\n" * 3
    assert awk('NR == 1 { FS = ":" } { print $1 }', text) == "a:b\na\na\n"


def test_rs_change_mid_input() -> None:
    assert awk('NR == 2 { RS = ";" } { print NR ": " $0 }', "a\nb\nc;d;e\n") == \
        "1: a\n2: b\n3: c\n4: d\n5: e\n\n"


def test_getline_var_and_getline_keep_the_loop_in_step() -> None:
    # (what gawk, mawk and onetrue-awk print)
    got = awk("NR % 2 == 1 { getline x; print $1, x } NR % 10 == 0 { getline; print $1 }",
              "\n".join(f"r{i}" for i in range(1, 41)) + "\n")
    assert got.split("\n")[:7] == ["r1 r2", "r3 r4", "r5 r6", "r7 r8", "r9 r10", "r11",
                                   "r13 r14"]
    assert got.endswith("r37 r38\nr39 r40\nr39\n")


def test_nextfile_drops_the_rest_of_the_block(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.write_text(TEXT)
    b.write_text("x\ny\n")
    assert run(["FNR == 2 { nextfile } { print $1 }", str(a), str(b)]) == \
        (0, "k0\nx\n", "")


def test_each_files_first_block_splits_inline(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A file's first line comes with its block's flags, like every later line: a plain
    block's records are split by str.split where the field op is, never by the general
    AwkState.split (which a file of one block would otherwise take for every record)."""
    files = []
    for name, text in (("a", "x 1 2\ny 3 4\n"), ("b", TEXT), ("c", "z 5 6")):
        path = tmp_path / name
        path.write_text(text)
        files.append(str(path))
    general = []
    split = AwkState.split

    def counted(st: AwkState) -> list[object]:
        general.append(st.record)
        return split(st)
    monkeypatch.setattr(AwkState, "split", counted)
    s = 2 + 4 + 6 + sum(i % 7 for i in range(len(LINES)))
    assert run(["{ s += $3 } END { print s, NR }", *files]) == \
        (0, f"{s} {len(LINES) + 3}\n", "")
    assert general == []


def test_unclean_block_splits_by_awk_blanks() -> None:
    # \v is a blank to str.split() but not to awk's default FS
    text = "a\vb c\n" + TEXT
    assert awk("NR <= 2 { print NF }", text) == "2\n4\n"


def _values() -> list[object]:
    arr = AwkArray({"a": 1.0, "b": "x", "c": StrNum("3", 3.0), "d": UNINIT})
    return [0.0, 1.5, math.inf, "", "12", "1e3x", " 7 ", "+nan", "x", StrNum("2", 2.0),
            UNINIT, True, False, 3, arr, "a", "b", "c", "d", "z"]


@pytest.mark.parametrize("name", sorted(op.name for op in AWK
                                        if AWK.bodies.get(op.id) is not None
                                        and AWK.bodies[op.id].results))
def test_promised_result_types(name: str) -> None:
    body = AWK.bodies[AWK[name].id]
    vm = VM(compile_program("BEGIN { }"), extensions=[AWK], baseline=False)
    st = AwkState()
    st.set_record("a 12 b 3.5")
    st.lines = iter(["c 4 d"] * 100000)  # (AwkNextRecord's straight path)
    vm.globals = list(_values())  # (AwkVarNum reads one)
    vm.host_data["awk"] = st
    operand_sets = list(itertools.product(range(6), repeat=len(body.operands)))
    inputs = len(body.inputs)
    values = _values()
    tried = 0
    for operands in operand_sets:
        fn = body.binder(vm, operands)
        for i in range(len(values) ** inputs):
            args = [values[(i // len(values) ** j) % len(values)] for j in range(inputs)]
            try:
                out = fn(*args)
            except Exception:  # noqa: BLE001 - an error leaves no output to check
                continue
            outs = out if len(body.outputs) > 1 else (out,)
            for item, value in zip(body.outputs, outs):
                if item in body.results:
                    assert type(value) is body.results[item], (name, operands, args, value)
            tried += 1
    assert tried


@pytest.mark.parametrize(("program", "limit"), [
    ("{ print $2 }", 2),
    ("{ s += $3 } END { print s, $1 }", 3),
    ("{ print $(1) }", 1),
    ("{ print $2, NF }", 0),
    ("{ print $i }", 0),
    ('{ $2 = "x"; print $1 }', 0),
    ('{ sub(/a/, "b", $1); print $1 }', 0),
    ("{ $3++; print $1 }", 0),
    ("{ getline $2; print $1 }", 0),
    ("{ print }", 0),
    ("BEGIN { a[2] } { for (NF in a); print $1; print }", 0),  # NF assigned by for-in
])
def test_split_limit_only_where_no_later_field_can_be_seen(program: str, limit: int) -> None:
    from fusevm.lang.awk.compiler import Compiler
    from fusevm.lang.awk.parser import parse
    assert Compiler(parse(program)).field_limit() == limit


@pytest.mark.parametrize("program", [
    "{ print $2 }", "{ print $1; print }", 'NR == 1 { FS = ":" } { print $1 }',
    "{ print $2, NF }", '{ $2 = "x"; print $3; print }', "{ print $4 }",
    'BEGIN { a[2]; OFS = "-" } { for (NF in a); print $1; print }'])
@pytest.mark.parametrize("fs", [[], ["-F", ":"]])
def test_split_limit_agrees(program: str, fs: list[str]) -> None:
    text = "a:1 b c d e\nf:2 g h\nx:3\n\n  y  z  \n"
    got = run([*fs, program], text)
    full = run([*fs, program.replace("{ print", "{ n = NF; print")], text)
    assert got == full


@pytest.mark.parametrize("fs", [[], ["-F", ","]])
def test_numbers_of_fields_in_unclean_blocks(fs: list[str]) -> None:
    sep = "," if fs else " "
    rows = ["1_0", "+nan", "inf", "0x1A", "\xa012", "1e3", " 7", "2 "]
    text = "".join(f"{r}{sep}{r}\n" for r in rows) + TEXT.replace(" ", sep)
    got = run([*fs, '{ print $1 + 0, ($1 < 5), ($1 == "1e3") }'], text)[1].splitlines()
    assert got[:6] == ["1 1 0", "+nan 0 0", "0 0 0", "0 1 0", "0 0 0", "1000 0 1"]


@pytest.mark.parametrize(("program", "rewrites"), [
    ("{ print $2 }", False),
    ('{ gsub(/a/, "b") }', True),
    ('{ sub(/a/, "b", x) }', False),
    ('{ sub(/a/, "b", $2) }', True),
    ("{ $2 = 1 }", True),
    ("{ $1++ }", True),
    ("{ getline }", True),
    ("{ getline x }", False),
    ('{ "cmd" | getline }', True),
    ("{ NF = 2 }", False),  # (an NF assignment sends the next record the long way)
])
def test_programs_that_rewrite_records(program: str, rewrites: bool) -> None:
    from fusevm.lang.awk.compiler import Compiler
    from fusevm.lang.awk.parser import parse
    assert Compiler(parse(program)).rewrites_records() is rewrites


def test_gsub_on_every_record_across_blocks() -> None:
    got = awk('{ n += gsub(/w/, "W"); print $4 }', TEXT).splitlines()
    assert got == [f"W{i % 3}" for i in range(len(LINES))]


@pytest.mark.parametrize("fs", [",", "\t", "a"])
def test_one_character_fs_split_inline(fs: str) -> None:
    text = TEXT.replace(" ", fs) + "\n" + fs + "x\n"
    got = run(["-F", fs, "{ print NF, $2; s += $3 } END { print s }"], text)[1].splitlines()
    assert got[0] == f"4 {LINES[0].split()[1]}"
    assert got[-3:-1] == ["0 ", "2 x"]
    assert got[-1] == str(sum(i % 7 for i in range(len(LINES))))


@pytest.mark.parametrize(("program", "fixed"), [
    ("{ print NR, FNR, NF }", {"NR", "FNR", "NF"}),
    ("{ NF = 2 }", {"NR", "FNR"}),
    ("{ NR++ }", {"FNR", "NF"}),
    ('{ sub(/a/, "b", FNR) }', {"NR", "NF"}),
    ("{ getline NF }", {"NR", "FNR"}),
    ("{ for (NR in a) ; }", {"FNR", "NF"}),
    ('BEGIN { ARGV[1] = "NR=3" }', set()),
])
def test_counts_a_program_never_assigns(program: str, fixed: set[str]) -> None:
    from fusevm.lang.awk.compiler import fixed_counts
    from fusevm.lang.awk.infer import walk
    from fusevm.lang.awk.parser import parse
    assert fixed_counts(walk(parse(program))) == fixed


def test_counts_assigned_from_the_command_line_stay_as_given() -> None:
    assert run(["{ print NR, NF }", "NR=x", "-"], "a b\n") == (0, "1 2\n", "")
    assert run(["-v", "NF=3", "BEGIN { print NF }"]) == (0, "3\n", "")
