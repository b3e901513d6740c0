"""I/O, processes, arguments and exit statuses: getline in all its forms, redirections,
pipes, close, system, ARGV/ARGC, FILENAME, -v/-F/-f, ENVIRON, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .awkrun import awk, awk_proc, run


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_text("a1\na2\n")
    (tmp_path / "b.txt").write_text("b1\n")
    return tmp_path


def test_files_fnr_filename(files: Path) -> None:
    _, out, _ = run(["{ print FILENAME, NR, FNR, $0 }", str(files / "a.txt"),
                     str(files / "b.txt")])
    a, b = files / "a.txt", files / "b.txt"
    assert out == f"{a} 1 1 a1\n{a} 2 2 a2\n{b} 3 1 b1\n"


def test_argv_argc_and_operand_assignment(files: Path) -> None:
    rc, out, _ = run(["BEGIN { for (i = 0; i < ARGC; i++) print i, ARGV[i] }", "x=1", "f"])
    assert (rc, out) == (0, "0 awk\n1 x=1\n2 f\n")
    rc, out, _ = run(["{ print x, $0 }", "x=5", str(files / "b.txt")])
    assert out == "5 b1\n"


def test_argv_editable(files: Path) -> None:
    prog = f'BEGIN {{ ARGV[1] = "{files / "b.txt"}"; ARGV[2] = ""; }} {{ print }}'
    rc, out, _ = run([prog, "nonexistent", "also-missing"])
    assert (rc, out) == (0, "b1\n")


def test_options_v_f_F(files: Path) -> None:
    prog = files / "p.awk"
    prog.write_text("{ print v, $2 }\n")
    rc, out, _ = run(["-F", ":", "-v", "v=hi\\tthere", "-f", str(prog)], "a:b:c\n")
    assert (rc, out) == (0, "hi\tthere b\n")
    assert awk("{ print $2 }", "a\tb c\n", "-Ft") == "b c\n"
    assert awk("{ print $2 }", "a1b2c\n", "-F[0-9]") == "b\n"


def test_environ() -> None:
    os.environ["FUSEVM_AWK_TEST"] = "42"
    assert awk('BEGIN { print ENVIRON["FUSEVM_AWK_TEST"] + 1 }') == "43\n"


def test_getline_forms(files: Path) -> None:
    a = files / "a.txt"
    prog = (f'BEGIN {{ while ((getline line < "{a}") > 0) n++; print n, line, NR;'
            f' close("{a}"); getline < "{a}"; print $0, NF;'
            f' print (getline x < "/nonexistent/file") }}')
    assert awk(prog) == "2 a2 0\na1 1\n-1\n"
    assert awk("NR == 1 { getline; print NR, $0 } END { print NR }", "1\n2\n3\n") == "2 2\n3\n"
    assert awk("NR == 1 { getline v; print NR, v, $0 }", "1\n2\n") == "2 2 1\n"
    # `cmd | getline` leaves NR alone in every awk (POSIX's table says otherwise; D17)
    assert awk('BEGIN { "echo hi there" | getline; print $2, NR }') == "there 0\n"
    assert awk('BEGIN { "echo a; echo b" | getline v; print v, NR }') == "a 0\n"
    assert awk('{ "echo q" | getline; print NR, FNR, $0 }', "x\n") == "1 1 q\n"
    assert awk('BEGIN { while (("echo x; echo y" | getline l) > 0) s = s l; print s }') == "xy\n"


def test_getline_into_array_and_field() -> None:
    assert awk('{ getline a["k"]; getline $2; print a["k"], $0 }', "1 2\nx\ny z\n") == \
        "x 1 y z\n"


def test_output_redirection(files: Path) -> None:
    out = files / "out.txt"
    awk(f'BEGIN {{ print "one" > "{out}"; print "two" > "{out}"; close("{out}");'
        f' print "three" >> "{out}" }}')
    assert out.read_text() == "one\ntwo\nthree\n"
    awk(f'BEGIN {{ printf "%s-%d\\n", "x", 1 > "{out}" }}')
    assert out.read_text() == "x-1\n"


@pytest.mark.process
def test_pipes_close_system(files: Path) -> None:
    prog = ('BEGIN { print "b" | "sort"; print "a" | "sort"; r = close("sort");'
            ' print "closed", r; system("echo from-system"); print "after";'
            ' s = system("exit 3"); print s; print "x" | "cat 1>&2" }')
    r = awk_proc([prog])
    assert r.stdout == b"a\nb\nclosed 0\nfrom-system\nafter\n3\n"
    assert r.stderr == b"x\n"


@pytest.mark.process
def test_output_flushed_before_commands() -> None:
    r = awk_proc(['BEGIN { printf "1"; system("printf 2"); print "3" | "cat"; close("cat");'
                  ' print "4"; fflush() }'])
    assert r.stdout == b"123\n4\n"


@pytest.mark.process
def test_exit_status() -> None:
    assert awk_proc(["BEGIN { exit 3 }"]).returncode == 3
    assert awk_proc(["{ exit $1 } END { print \"end\" }"], "7\n").returncode == 7
    r = awk_proc(["END { exit }", "/dev/null"])
    assert r.returncode == 0


@pytest.mark.process
def test_syntax_error_exit_2() -> None:
    r = awk_proc(["BEGIN { print (1 }"])
    assert r.returncode == 2
    assert b"syntax error at source line 1" in r.stderr


def test_runtime_errors_have_line_numbers() -> None:
    rc, _, err = run(["BEGIN {\n x = 1\n print x / 0\n}"])
    assert rc == 2
    assert "division by zero" in err and "source line number 3" in err
    rc, _, err = run(['function f(a) { a[1] = 1 }\nBEGIN { x = 1; f(x) }'])
    assert rc == 2
    rc, _, err = run(["BEGIN { a[1] = 1; a = 2 }"])
    assert rc == 2
    rc, _, err = run(["BEGIN { undefined_fn(1) }"])
    assert rc == 2 and "undefined_fn" in err


def test_binary_bytes_pass_through() -> None:
    data = "caf\xe9 \xff\x80\n"
    assert awk("{ print $2, length($1) }", data) == "\xff\x80 4\n"


def test_uninitialized_and_strnum_input() -> None:
    assert awk('{ print ($1 == 10), ($1 < 9), ($2 == "abc") }', "1e1 abc\n") == "1 0 1\n"
    assert awk('{ print ($1 < $2) }', " 10 9\n") == "0\n"
    assert awk('BEGIN { print (x < 1), (x == ""), length(x) }') == "1 1 0\n"


# Programs whose every rule is a regex pass over records that hold none of the literal
# texts their regexes need (AwkNextCandidate), and a program of one such rule over the
# records its regex does not match (AwkNextMatch, with or without a literal to look for
# first); NR, FNR, $0 in END, getline, RS changes, nextfile, exit and operands between
# files behave as if each record had been tried. Expected outputs are gawk --posix's on
# the same files.
_SKIPPING = [
    ("/foo/ { print NR, FNR, $2 } END { print NR, FNR, $0, NF, $1 }",
     "3 3 1\n5 5 2\n9 3 q\n14 2 3\n15 3 g h i 3 g\n"),
    ('/foo/ { getline; print "got", $0, NR } END { print NR, $0 }',
     "got c 4\ngot d 6\ngot r 10\ngot g h i 15\n15 g h i\n"),
    ('/foo/ { RS = "" } /foo/ { print NR ":" $0 } END { print NR, $0 }',
     "3:foo 1\n4:c\nfoo 2\nd\n6:foo q\nr\n8:e\nfoo 3\ng h i\n8 e\nfoo 3\ng h i\n"),
    ("/foo/ { nextfile } END { print NR, FNR, $0 }", "8 2 foo 3\n"),
    ("/foo/ { n++; if (n == 2) exit } END { print NR, $0 }", "5 foo 2\n"),
    ("/foo/ { print v } END { print NR }", "\n\n7\n7\n15\n"),
    ("/^f[aeiou]+ [0-9q]$/ { print NR, FNR, $2 } END { print NR, FNR, $0, NF, $1 }",
     "3 3 1\n5 5 2\n9 3 q\n14 2 3\n15 3 g h i 3 g\n"),
    ('(/^.oo/) { RS = ""; print NR ":" $0 } END { print NR, $0 }',
     "3:foo 1\n6:foo q\nr\n8 e\nfoo 3\ng h i\n"),
]


@pytest.mark.parametrize(("program", "expected"), _SKIPPING)
def test_regex_rules_pass_over_records(tmp_path: Path, program: str, expected: str) -> None:
    listing = _listing(program)
    assert "AwkNextMatch" in listing or "AwkNextCandidate" in listing
    (tmp_path / "f1").write_text("a x\nb y\nfoo 1\nc\nfoo 2\nd\n")
    (tmp_path / "f3").write_text("p\n\nfoo q\nr\n\ns\n")
    (tmp_path / "f2").write_text("e\nfoo 3\ng h i")
    names = [str(tmp_path / "f1"), "v=7", str(tmp_path / "f3"), str(tmp_path / "f2")]
    rc, out, err = run([program, *names])
    assert (rc, out) == (0, expected), err


# A one-character FS: the records AwkNextMatch reads split as AwkNextRecord's do, an FS
# changed by the rule applies from the next record, and an assigned field or NF is reset
# by the next record read. Expected outputs are gawk --posix's.
_SKIPPING_FS = [
    ('/x/ { FS = ","; print $2, NF } END { print $2, NF }', "1,2 3\nq 2\n 1\n 1\n"),
    ('/x/ { $2 = "Z"; NF = 2; print; print NF } END { print NR, $0 }',
     "x Z\n2\nx Z\n2\nxx Z\n2\n6 xx Z\n"),
    ("/^x[x:]/ { n += $3 } END { print n, $1 }", "3 xx\n"),
]


@pytest.mark.parametrize(("program", "expected"), _SKIPPING_FS)
def test_regex_rule_records_split_by_a_character(tmp_path: Path, program: str,
                                                 expected: str) -> None:
    assert "AwkNextMatch" in _listing(program)
    (tmp_path / "f").write_text("a:b,c:d\nx:1,2:3\ny\nx:p,q\n\nxx:r:s:t\n")
    rc, out, err = run(["-F:", program, str(tmp_path / "f")])
    assert (rc, out) == (0, expected), err


def _listing(program: str) -> str:
    from fusevm.disasm import disassemble
    from fusevm.lang.awk.api import compile_program
    return disassemble(compile_program(program))


# Over input of many blocks (64 KiB each): AwkNextMatch's records, NR, getline's records
# and $0 in END are those of the same rule tested record by record (`$0 ~`).
@pytest.mark.parametrize("rule", [
    "/k1[0-9]*7 |b[0-9]+c$/ { n += NR; getline; s = s $1 }",
    "/^k[0-9]*3 .*x/ { n += NR; getline v; m += NR }",
    "/b[0-9]+c$/ { n += NR; if (NR % 3) { getline; getline } }",
])
def test_regex_rule_over_many_blocks(tmp_path: Path, rule: str) -> None:
    path = tmp_path / "big"
    path.write_text("".join(f"k{i % 1000} x{i} {f'b{i}c' if i % 5 == 0 else 'y'}\n"
                            for i in range(30000)))
    end = " END { print n, m, NR, $0, length(s) }"
    assert "AwkNextMatch" in _listing(rule)
    slow = "$0 ~ " + rule
    assert "AwkNextMatch" not in _listing(slow)
    got = run([rule + end, str(path)])
    assert got == run([slow + end, str(path)])
    assert got[0] == 0 and not got[1].startswith(" ")  # (n counted some records)
