"""Where fusevm awk once disagreed with every real awk (issue 16), one test per class.

Each expectation is what gawk --posix, onetrue-awk and mawk print (C locale); the tests
marked `needs_awks` also run the installed ones and compare.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .awkrun import SRC, awk, awk_proc, run

AWKS = [argv for argv in (["gawk", "--posix"], ["original-awk"]) if shutil.which(argv[0])]
needs_awks = pytest.mark.skipif(len(AWKS) < 2, reason="gawk and original-awk not installed")


def real_awks(args: list[str], stdin: str = "") -> list[tuple[int, str]]:
    """(status, stdout) of each installed reference awk."""
    out = []
    for argv in AWKS:
        r = subprocess.run([*argv, *args], input=stdin.encode("latin-1"), capture_output=True,
                           env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}, timeout=30)
        out.append((r.returncode, r.stdout.decode("latin-1")))
    return out


# -- var=value operands are strnums ------------------------------------------------------


@pytest.mark.parametrize(("operand", "printed"), [
    ("v=abc", "[abc]"), ("v=1e3", "[1e3]"), ("v=", "[]"), ("v= 12 ", "[ 12 ]"),
    ("v=0x1A", "[0x1A]"),
])
def test_operand_keeps_its_text(operand: str, printed: str) -> None:
    rc, out, err = run(['{ print "[" v "]" }', operand, "-"], "x\n")
    assert (rc, out) == (0, printed + "\n"), err


def test_operand_is_a_strnum_even_where_the_program_stores_only_numbers() -> None:
    prog = 'BEGIN { v = 1 } { print v, (v == 1000), (v < 2); v = v + 1 }'
    assert run([prog, "v=1e3", "-"], "x\ny\n")[1] == "1e3 1 0\n1001 0 0\n"


def test_operands_take_effect_file_by_file(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.write_text("1\n")
    b = tmp_path / "b"
    b.write_text("2\n")
    prog = '{ print v, $0 } END { print v }'
    rc, out, _ = run([prog, "v=x", str(a), "v=y", str(b), "v=z"])
    assert (rc, out) == (0, "x 1\ny 2\nz\n")


def test_operand_placed_in_argv_by_the_program() -> None:
    prog = 'BEGIN { ARGV[1] = "v=1e3"; ARGV[2] = "-"; ARGC = 3; v = 2 } { print v; v++ }'
    assert run([prog], "x\ny\n")[1] == "1e3\n1001\n"


# -- regexes: leftmost-longest everywhere -------------------------------------------------


def test_match_sub_gsub_split_and_fields_are_leftmost_longest() -> None:
    prog = ('BEGIN { match("ab", /a?(ab)*/); print RSTART, RLENGTH;'
            ' s = "abc"; n = gsub(/(a|b)*(bc)?/, "<&>", s); print n, s;'
            ' print split("1abc2", p, /(a|b)*(bc)?/), p[1], p[2] }'
            '{ print NF, $1, $2 }')
    want = "1 2\n1 <abc>\n2 1 2\n2 1 2\n"
    assert awk(prog, "1abc2\n", "-F", "(a|b)*(bc)?") == want


def test_split_by_an_empty_regex_literal_splits_characters() -> None:
    prog = 'BEGIN { print split("abc", p, //), p[1] p[3], split("", q, //) }'
    assert awk(prog) == "3 ac 0\n"


def test_exponential_pattern_answers() -> None:
    # 28 a's: minutes for a backtracking matcher, immediate on RE2
    prog = 'BEGIN { s = sprintf("%28s", ""); gsub(/ /, "a", s); print match(s, /(a*)*b/) }'
    assert awk(prog) == "0\n"


# -- %c, getline and NR, missing files, printf arguments ---------------------------------


def test_percent_c_above_255_prints_the_low_byte() -> None:
    assert awk('BEGIN { printf "%c%c%c", 321, 256 + 66, -189 }') == "ABC"


def test_command_getline_leaves_nr_alone() -> None:
    prog = ('{ "echo a; echo b" | getline; "echo a; echo b" | getline v;'
            ' print NR, FNR, $0, v } END { print NR }')
    assert awk(prog, "x\ny\n") == "1 1 a b\n2 2 y b\n2\n"


def test_missing_input_file_is_fatal(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.write_text("1\n")
    rc, out, err = run(['{ print } END { print "end" }', str(a), str(tmp_path / "none"),
                        str(a)])
    assert (rc, out) == (2, "1\n")
    assert "can't open file" in err


@pytest.mark.parametrize("prog", [
    'BEGIN { print "before"; printf "%d %s\\n", 1; print "after" }',
    'BEGIN { print "before"; x = sprintf("%s%s", "a"); print "after" }',
    'BEGIN { print "before"; printf "%*d\\n", 5; print "after" }',
])
def test_printf_with_too_few_arguments_is_fatal(prog: str) -> None:
    rc, out, err = run([prog])
    assert (rc, out) == (2, "before\n")
    assert "not enough args" in err


# -- array and scalar uses of one name ----------------------------------------------------


@pytest.mark.parametrize(("prog", "out"), [
    ('BEGIN { x[1] = 1; print "mid"; print x; print "after" }', "mid\n"),
    ('BEGIN { x[1] = 1; print "mid"; x = 2; print "after" }', "mid\n"),
    ('BEGIN { x[1] = 1; print "mid"; x++ }', "mid\n"),
    ('function f(a) { a = 1 } BEGIN { x[1]; print "before"; f(x); print "after" }',
     "before\n"),
])
def test_array_used_as_scalar_fails_when_reached(prog: str, out: str) -> None:
    rc, got, err = run([prog])
    assert (rc, got) == (2, out)
    assert "array" in err


def test_conflicting_use_never_reached_is_fine() -> None:
    assert awk('BEGIN { if (0) z = 1; z[1] = 2; print "ok", z[1] }') == "ok 2\n"


@needs_awks
@pytest.mark.parametrize("prog", [
    'BEGIN { x[1] = 1; print "mid"; print x; print "after" }',
    'BEGIN { if (0) z = 1; z[1] = 2; print "ok", z[1] }',
    'BEGIN { printf "%c%c", 321, 256 + 66 }',
    'BEGIN { print "before"; printf "%d %s\\n", 1; print "after" }',
    'BEGIN { "echo a" | getline; print NR, $0 }',
])
def test_agrees_with_the_real_awks(prog: str) -> None:
    rc, out, _ = run([prog])
    for status, text in real_awks([prog]):
        assert (rc != 0, out) == (status != 0, text)


# -- $0 and fields: which values compare as numbers ----------------------------------------


def test_record_before_input_is_the_empty_string() -> None:
    assert run(['BEGIN { print ($0 == 0), ($1 == 0) } END { print ($0 == 0) }'])[1] == \
        "0 0\n0\n"


def test_uninitialised_value_assigned_to_a_field_stays_uninitialised() -> None:
    prog = '{ $3 = a[2]; $5 = x; print ($3 == 0), ($5 == 0), NF; $0 = x; print ($0 == 0) }'
    assert awk(prog, "a b c d\n") == "1 1 5\n1\n"


def test_rebuilt_record_is_a_string() -> None:
    prog = '{ $1 = $1; print ($0 == 5), ($0 < 10); $2 = 0; $1 = ""; print ($0 == 0) }'
    assert awk(prog, " 5 \n") == "1 0\n0\n"


@needs_awks
@pytest.mark.parametrize(("prog", "stdin"), [
    ('BEGIN { print ($0 == 0), ($1 == 0) } END { print ($0 == 0) }', ""),
    ('{ $3 = a[2]; $5 = x; print ($3 == 0), ($5 == 0), NF; $0 = x; print ($0 == 0) }',
     "a b c d\n"),
    ('{ $1 = $1; print ($0 == 5), ($0 < 10); $2 = 0; $1 = ""; print ($0 == 0) }', " 5 \n"),
])
def test_record_and_field_values_agree_with_the_real_awks(prog: str, stdin: str) -> None:
    rc, out, _ = run([prog], stdin)
    for status, text in real_awks([prog], stdin):
        assert (rc, out) == (status, text)


# -- a pipe whose reader is gone -----------------------------------------------------------


@pytest.mark.process
def test_writing_to_a_closed_pipe_is_fatal() -> None:
    prog = 'BEGIN { for (i = 0; i < 200000; i++) print i | "head -1"; print "not reached" }'
    r = awk_proc([prog])
    assert r.returncode == 2
    assert r.stdout == b"0\n"
    assert b"Broken pipe" in r.stderr


@pytest.mark.process
@pytest.mark.parametrize("prog", ['BEGIN { while (1) print "x" }', 'BEGIN { print "x" }'])
def test_a_closed_stdout_ends_the_run_as_sigpipe_would(prog: str) -> None:
    """`awk ... | head -1`: standard output's reader goes away; the run stops without a
    message, with the status of a process SIGPIPE killed (gawk, mawk and onetrue-awk die
    of it). The second program's one line goes at the exit's flush."""
    env = {**os.environ, "PYTHONPATH": os.path.abspath(SRC)}
    proc = subprocess.Popen([sys.executable, "-m", "fusevm.awk", prog], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first write
    err = proc.stderr.read()
    assert (proc.wait(timeout=60), err) == (141, b"")


def test_an_unreadable_program_file_is_reported_without_the_usage_line(tmp_path: Path) -> None:
    """As onetrue-awk: the file and why, status 2; the usage line is for a command line
    that is wrong, not for a file that cannot be read."""
    r = awk_proc(["-f", str(tmp_path / "none.awk")])
    assert r.returncode == 2
    assert b"can't open file" in r.stderr and b"usage:" not in r.stderr
    r = awk_proc(["-q"])
    assert r.returncode == 2 and b"usage: awk" in r.stderr
