"""Hostile programs for the frontends: each failure is the frontend's own one-line error
with a status, never a Python exception's name, an internal error or a hang."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.awk.awkrun import run as run_awk

from fusevm.cli import main as cli_main

#: awk program -> the start of its error (after "awk: "). Fields and NF beyond what a
#: record may hold, infinities and NaNs where a number must be a count, widths past the
#: VM's size limit, a separator that is no ERE.
AWK_ERRORS = {
    "BEGIN{print $1e400}": "trying to access out of range field inf",
    "BEGIN{print $(-log(0))}": "trying to access out of range field inf",
    "BEGIN{$(-log(0)) = 1}": "trying to access out of range field inf",
    "BEGIN{print $(log(-1))}": "trying to access out of range field nan",
    "BEGIN{NF = log(-1)}": "NF set to negative value nan",
    "BEGIN{NF = -log(0)}": "NF set to inf: more fields than a record may hold",
    "BEGIN{NF = 1e9}": "NF set to 1e+09: more fields than a record may hold",
    "BEGIN{$(2^31) = 1}": "trying to access out of range field 2147483648: more fields",
    'BEGIN{printf "%2147483648d", 1}': "printf: the width 2147483648 in format",
    'BEGIN{printf "%.*d", 2^63, 1}': "printf: a `*` width or precision of 9.22337e+18",
    'BEGIN{printf "%*d", -1e20, 1}': "printf: a `*` width or precision of -1e+20",
    'BEGIN{OFMT = "%2147483648d"; print 0.5}': "printf: the width 2147483648",
    'BEGIN{CONVFMT = "%.99999999999g"; x = 0.1 ""}': "printf: the precision 99999999999",
    'BEGIN{split("a", a, "(x")}': "syntax error in regular expression (Unmatched (",
}


@pytest.mark.parametrize("program", list(AWK_ERRORS))
def test_awk_reports_hostile_values_as_its_own_errors(program: str) -> None:
    status, _, err = run_awk([program])
    assert status == 2, err
    assert err.startswith("awk: " + AWK_ERRORS[program]), err
    assert "Error:" not in err and "internal error" not in err


@pytest.mark.parametrize(("program", "status"), [("BEGIN{exit -log(0)}", 255),
                                                 ("BEGIN{exit log(-1)}", 0),
                                                 ("BEGIN{exit 258}", 2)])
def test_awk_exit_status_of_any_number(program: str, status: int) -> None:
    assert run_awk([program])[0] == status


def test_awk_field_separator_that_is_no_ere_is_a_regex_error() -> None:
    status, _, err = run_awk(["-F", "(x", "{print $1}"], "a\n")
    assert status == 2
    assert err.startswith("awk: syntax error in regular expression (Unmatched ("), err


@pytest.mark.parametrize(("lang", "program", "message"), [
    ("--sh", "if", "<sh>:1: Syntax error: end of file unexpected"),
    ("--awk", "BEGIN{", "<awk>:1: syntax error at source line 1: missing '}'"),
])
def test_dis_of_a_rejected_program_is_its_syntax_error(
        lang: str, program: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["dis", lang, program]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message), err


BIG = "9" * 5000
#: sh script -> (its status, the start of its error after "sh: 1: ", or None for a status
#: alone). Numbers of any length, descriptors and pids past what the system has, widths
#: past the VM's size limit, nesting past the shell's limit, values past the VM's.
SH_ERRORS = {
    f"exit {BIG}": (2, "exit: Illegal number: 999"),
    "return --5": (2, "return: Illegal number: --5"),
    f"[ {BIG} -eq 1 ]": (2, "[: Illegal number: 999"),
    f"x={BIG}; echo $((x + 1))": (0, None),
    f"echo ${{{BIG}}}x": (0, None),
    "set -- a; echo ${" + "0" * 5000 + "1}": (0, None),
    f"echo x >&{BIG}": (1, f"{BIG}: Bad fd number"),
    "echo x >&99999999999": (1, "99999999999: Bad file descriptor"),
    "kill 2147483648": (1, "kill: 2147483648: No such process"),
    f"ulimit -n {BIG}": (2, "ulimit: Illegal number: 999"),
    f"trap : {BIG}": (1, None),
    "printf '%99999999999d' 1": (1, None),
    f"printf '%d' {BIG}": (1, None),
    f"printf '%*d' {BIG} 1": (1, None),
    f"wait %{BIG}": (127, f"wait: %{BIG}: No such job"),
    f"kill -l {BIG}": (1, "kill: invalid signal number or name: 999"),
    "printf '%\u0663s' a": (1, None),
    "exec 256>/dev/null": (127, "256: not found"),
    'x="eval \\$x"; eval $x': (2, "eval: nesting too deep"),
    "[ " + "! " * 20000 + "1 ]": (2, "[: expression nested too deep"),
    "x=1; for i in $(seq 27); do x=$x$x; done": (2, "a string of 67,108,868 would exceed"),
    "ulimit -n 4; echo $(echo y) | cat": (2, "cannot create pipe: Too many open files"),
}


@pytest.mark.parametrize("script", list(SH_ERRORS), ids=lambda s: s[:40])
def test_sh_reports_hostile_values_as_its_own_errors(script: str) -> None:
    status, message = SH_ERRORS[script]
    proc = subprocess.run([sys.executable, "-m", "fusevm.sh", "-c", script],
                          capture_output=True, text=True, errors="replace", timeout=120,
                          env={**os.environ, "LC_ALL": "C"})
    assert proc.returncode == status, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    if message is not None:
        assert proc.stderr.startswith("sh: 1: " + message), proc.stderr


def test_sh_a_value_past_the_size_limit_is_reported_at_its_line() -> None:
    script = "x=1\n" + "x=$x$x; " * 27 + "\necho never\n"
    proc = subprocess.run([sys.executable, "-m", "fusevm.sh", "-c", script],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("sh: 2: a string of 67,108,868 would exceed"), proc.stderr


def test_sh_dot_of_a_file_that_sources_itself_ends_in_an_error(tmp_path: Path) -> None:
    (tmp_path / "g.sh").write_text(". ./g.sh\n")
    proc = subprocess.run([sys.executable, "-m", "fusevm.sh", "-c", ". ./g.sh"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("sh: 1: .: nesting too deep"), proc.stderr


def test_traceback_after_a_frontends_name_is_the_frontends_word(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["awk", "BEGIN { print ARGV[1] }", "--traceback"]) == 0
    assert capsys.readouterr().out == "--traceback\n"
