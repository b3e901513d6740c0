"""The disagreements with dash and bash that `benchmarks/sh/differential.py` found, one
case per class, each compared with dash where it is installed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

DASH = shutil.which("dash")
SRC = str(Path(__file__).resolve().parents[2] / "src")

CASES: list[tuple[str, str] | tuple[str, str, int]] = [
    # printf: an integer precision is a least digit count (so 0 with `.0` writes nothing)
    # and turns off the 0 flag; `#` prefixes; a negative `*` width left-justifies
    ("printf '[%.0d][%5.0d][%05.3d][%#.0o][%#05x][%-+6d]\\n' 0 0 7 0 255 3",
     "[][     ][  007][0][0x0ff][+3    ]\n"),
    ("printf '%*d|%.*d|\\n' -4 1 -2 5", "1   |5|\n"),
    # printf: %c of an empty or missing argument writes a NUL byte
    ("printf '%c|%3c|' | od -An -c | tr -s ' '", " \\0 | \\0 |\n"),
    # printf: a number out of the 64-bit range is clamped as strtoimax/strtoumax do, and
    # the status is 1
    ("printf '%d %d %u %x\\n' 99999999999999999999 -99999999999999999999 "
     "99999999999999999999 -1 2>/dev/null; echo $?",
     "9223372036854775807 -9223372036854775808 18446744073709551615 ffffffffffffffff\n1\n"),
    # printf: \\e is ESC; %F; a float argument is read as strtod reads its numeric prefix
    ("printf '\\e%b' '\\e' | od -An -c | tr -s ' '", " 033 033\n"),
    ("printf '%F|%f|%.1f|%g\\n' 0x1.8p1 1.5x '' 1e3 2>/dev/null; echo $?",
     "3.000000|1.500000|0.0|1000\n1\n"),
    ("printf '%.*s|%*s|%-*d|\\n' x abc -4 ab 3 7 2>/dev/null; echo $?", "|ab  |7  |\n1\n"),
    ("printf '%.*s|\\n' 9999999999 abc", "abc|\n"),
    ("printf '%*d|\\n' 99999999999999999999 0 2>/dev/null; echo $?", "0|\n1\n"),
    # a subshell as a pipeline stage runs in the stage's process only, also where its last
    # command could be started without a fork (in an and-or list, in a function)
    ("(/bin/echo a) | tr a A && echo end; f() { (exit 3) | cat && echo x; }; f; "
     "g() { { { (exit 3); } | wc -l; } | cat; }; g | tr -d ' '", "A\nend\nx\n0\n"),
    # a special builtin's error message goes to its own redirected stderr
    ("set -- a; (shift 3 2>/dev/null; echo no) 2>&1; echo \"st $?\"", "st 2\n"),
    ("command shift 3 2>/dev/null; echo \"st $?\"", "st 2\n"),
    ("(exec nosuchcmd 2>/dev/null) 2>&1; echo \"st $?\"", "st 127\n"),
    # ... and so does an expansion error inside a function called with a redirection
    ("f() { echo ${x?m1}; }; (f 2>/dev/null) 2>&1; g() { echo $((1/0)); }; (g 2>/dev/null) 2>&1",
     "", 2),
    # a forked subshell's `break`/`continue` ends it; it never jumps into the parent's loop
    # and runs the rest of the script a second time in the child
    ("for i in a b; do (break); echo \"sub $?\"; done; echo END", "sub 0\nsub 0\nEND\n"),
    ("for i in 1; do { echo a; (continue; echo no); } > o; done; cat o", "a\n"),
    ("for i in a b; do echo x | { break; echo no; }; echo \"p $?\"; done", "p 0\np 0\n"),
    # here-document: backslash-newline joins lines first; `<<-` then strips the joined
    # line's leading tabs, and the joined line is what is compared with the delimiter
    ("cat <<-EOF\n\\\n\tx\n\ta\\\n\tb\n\\\n\tEOF\necho after", "x\na\tb\nafter\n"),
    ("cat <<-END\n\tjoined\\\n\tnext\n\tEND\ncat <<EOF\na\\\nEOF\nEOF", "joined\tnext\naEOF\n"),
    ("v=V\ncat <<EOF\n\\\nEOF\necho after", "after\n"),
    ("v=V; vEOF=X\ncat <<-EOF\n$v\\\nEOF\n\tx\nEOF", "X\nx\n"),
    # a backslash-newline inside a parameter name is removed before the name is read
    ("v=V; vEOF=X; echo $v\\\nEOF \"$v\\\nEOF\" ${v\\\nEOF}", "X X X\n"),
    # arithmetic: the last operand of ?: is a conditional expression, so an assignment
    # there is an error (as in C), while the middle one may assign
    ("(echo $((0 ? 1 : y = 3))) 2>/dev/null; echo \"failed $(($? > 0))\"; y=5;"
     " echo $((1 ? y = 2 : 3)) $y $((0 ? 1 : 0 ? 2 : 3))", "failed 1\n2 2 3\n"),
    # cd: a logical path keeps exactly two leading slashes (implementation-defined; dash
    # and bash keep them)
    ("cd //; pwd; cd usr; pwd; cd ///; pwd; cd //usr/..; pwd", "//\n//usr\n/\n//\n"),
    # read: the delimiter after a lone last field is dropped, a rest of several fields
    # keeps its own
    ("for i in :x:y: x:y: x:y:: x: 'x:y: ' 'a:b : '; do printf '%s\\n' \"$i\" |"
     " { IFS=: read a b; printf '<%s|%s>' \"$a\" \"$b\"; }; done; echo",
     "<|x:y:><x|y><x|y::><x|><x|y: ><a|b : >\n"),
    ("printf 'a:b : \\n' | { IFS=': ' read a b; echo \"<$a|$b>\"; }", "<a|b>\n"),
    # read and getopts into a readonly variable fail (status > 0) without ending the
    # shell; the names before it keep their fields, and getopts still takes the option
    ("readonly x=5; read y x <<E 2>/dev/null\na b\nE\necho \"st $(($? > 0)) $y $x\"; "
     "getopts a x -a 2>/dev/null; echo \"st $? $x $OPTIND\"", "st 1 a 5\nst 2 5 2\n"),
    ("readonly x; printf 'a\\n' | { read x 2>/dev/null; echo \"st $(($? > 0))\"; }; "
     "getopts a x -a 2>/dev/null; echo \"${x-unset}\"", "st 1\nunset\n"),
    # a `${` that no `}` closes is a syntax error (status 2, nothing run), while a
    # malformed but closed one fails only when it is expanded
    ("echo before; echo ${x 2>/dev/null; echo \"st $?\"", "", 2),
    ("(echo ${x!y}) 2>/dev/null; echo \"failed $(($? > 0))\"", "failed 1\n"),
    # an expansion in the pattern of "${v%pattern}" is still a pattern
    ("v=hello; p='l*'; echo \"${v%$p}\" \"${v%\"$p\"}\" \"${v%`echo 'l*'`}\" \"${v%$(echo 'l*')}\"",
     "hel hello hel hel\n"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0][:40])
def test_matches_dash(sh, case: tuple[str, str] | tuple[str, str, int]  # type: ignore[no-untyped-def]
                      ) -> None:
    script, expected, *status = case
    sh(script, expected, *status)


def test_printf_unknown_conversion(sh) -> None:  # type: ignore[no-untyped-def]
    """An unknown conversion ends printf after what came before it (as dash), with bash's
    status 1 (dash: 2)."""
    sh("printf 'ab%zcd' 2>/dev/null; echo \" $?\"; printf 'x%' 2>/dev/null; echo \" $?\"",
       "ab 1\nx 1\n", like_dash=False)


@pytest.mark.parametrize("shell", [[sys.executable, "-m", "fusevm.sh"]]
                         + ([[DASH]] if DASH else []))
def test_sigint_ignored_on_entry_stays_ignored(shell: list[str], tmp_path: Path) -> None:
    """A shell started with SIGINT ignored (a background job's child) keeps it ignored:
    `kill -INT $$` does nothing, and `trap` cannot reset it."""
    env = dict(os.environ, PYTHONPATH=SRC)
    p = subprocess.run([*shell, "-c", '(kill -INT $$; echo sub); echo "st $?"; trap - INT;'
                        " trap 'echo no' INT; kill -INT $$; echo alive"],
                       cwd=tmp_path, capture_output=True, env=env, timeout=60,
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert (p.stdout, p.returncode) == (b"sub\nst 0\nalive\n", 0)


def _ignoring(*signals: int) -> Callable[[], None]:
    def ignore() -> None:
        for sig in signals:
            signal.signal(sig, signal.SIG_IGN)
    return ignore


@pytest.mark.parametrize("shell", [[sys.executable, "-m", "fusevm.sh"]]
                         + ([[DASH]] if DASH else []))
def test_every_signal_ignored_on_entry_stays_ignored(shell: list[str], tmp_path: Path) -> None:
    """Not only the common ones: SIGURG, SIGCONT and SIGWINCH ignored on entry cannot be
    trapped either."""
    env = dict(os.environ, PYTHONPATH=SRC)
    p = subprocess.run([*shell, "-c", "trap 'echo trapped' URG CONT WINCH; kill -s URG $$;"
                        " kill -s CONT $$; kill -s WINCH $$; echo ok"],
                       cwd=tmp_path, capture_output=True, env=env, timeout=60,
                       preexec_fn=_ignoring(signal.SIGURG, signal.SIGCONT, signal.SIGWINCH))
    assert (p.stdout, p.returncode) == (b"ok\n", 0)


@pytest.mark.parametrize("shell", [[sys.executable, "-m", "fusevm.sh"]]
                         + ([[DASH]] if DASH else []))
def test_plus_i_is_not_interactive(shell: list[str], tmp_path: Path) -> None:
    """`sh +i` is explicitly not interactive: a signal ignored on entry still cannot be
    trapped (an interactive shell could)."""
    env = dict(os.environ, PYTHONPATH=SRC)
    p = subprocess.run([*shell, "+i", "+m"], input=b"trap 'echo trapped' HUP\n"
                       b"kill -s HUP $$\necho ok\n", cwd=tmp_path, capture_output=True,
                       env=env, timeout=60, preexec_fn=_ignoring(signal.SIGHUP))
    assert (p.stdout, p.returncode) == (b"ok\n", 0)
