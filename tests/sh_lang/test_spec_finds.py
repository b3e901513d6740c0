"""Disagreements found by running the Oils spec tests outside the public corpus (dash and
bash --posix as references), one case per cause; compared with dash where it is installed,
except where the test says it follows bash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

CASES: list[tuple[str, str] | tuple[str, str, int]] = [
    # `ulimit` with neither -H nor -S sets both limits (and shows the soft one); a value
    # too many is an error
    ("ulimit -t 1000; ulimit -H -t; ulimit -S -t; ulimit -S -t 900; ulimit -t; "
     "ulimit -H -t", "1000\n1000\n900\n1000\n"),
    ("ulimit -a 42 2>/dev/null; echo $?; ulimit -t 1 2 2>/dev/null; echo $?", "2\n2\n"),
    # a descriptor limit leaves the builtins about jobs (a module of their own) working
    ("ulimit -n 4; umask 022; umask; kill -l 9; wait; echo $?", "0022\nKILL\n0\n"),
    # `wait` for a job a signal killed says what killed it on stderr (not for SIGINT or
    # SIGPIPE) and returns 128+N
    ("sleep 5 & kill -HUP $!; wait $! 2>err; echo $?; cat err; "
     "sleep 5 & kill -PIPE $!; wait $! 2>err; echo $?; cat err",
     "129\nHangup\n141\n"),
    # echo's \\0NNN writes the byte NNN, not the character of that number
    ("echo '\\0377\\0303\\0251' | od -An -tx1 | tr -s ' '", " ff c3 a9 0a\n"),
    # `getopts` into a name that is no variable name: the option is taken, the status is 2
    ("set -- -c foo -h; getopts 'hc:' opt- 2>/dev/null; "
     "echo status=$? opt=$opt OPTARG=$OPTARG OPTIND=$OPTIND",
     "status=2 opt= OPTARG=foo OPTIND=3\n"),
    # `read` drops NUL bytes
    ("printf 'a\\000b c\\n' | { read x y; printf '%s|%s' \"$x\" \"$y\" | od -An -c | "
     "tr -s ' '; }", " a b | c\n"),
    # tilde prefixes in an assignment: at the value's start and after every unquoted ':',
    # after an expansion too, and in the words of its `${name-word}` expansions
    ("HOME=/h; x=~:${u-~:~}; echo $x; x=${u-~}:~; echo $x; x=~/a:~b:~; echo $x; "
     "x=\"~\":~; echo $x; echo ${u-~:~}", "/h:/h:/h\n/h:/h\n/h/a:~b:/h\n~:/h\n~:~\n"),
    # `pwd` in a directory removed under the shell prints the name it was reached by
    ("mkdir d; cd d; rmdir ../d; pwd | sed 's,.*/,,'; echo $?", "d\n0\n"),
    # `return` outside a function ends the script with its status (the EXIT trap runs)
    ("trap 'echo trap' EXIT; echo a; return 5; echo b", "a\ntrap\n", 5),
    # assignments with redirections and no command name: the redirections first, the
    # values expanded while they hold (XCU 2.9.1; bash assigns first), then undone; one
    # that fails assigns nothing
    ("printf 'hello\\n' > in; x=$(cat) < in; echo \"[$x]\"; y=`cat`<<EOF\ndoc\nEOF\n"
     "echo \"[$y]\"; z=$(echo out; echo err >&2) 2>/dev/null; echo \"[$z]\"; "
     "w=1 > /no/such/dir/f 2>/dev/null; echo \"[$w]\"; v=$(exit 3) > /dev/null; echo $?",
     "[hello]\n[doc]\n[out]\n[]\n3\n"),
    # a redirection that fails names the first line of its command
    ("echo a\n{\n:\n} > /no/such/f 2>&1\nx=1 > /no/such/g\n"
     "(while false; do :; done > /no/such/h) 2>&1 | cut -d: -f1,2", "a\nsh: 6\n"),
    # `${@:-w}` and an unquoted `${*:-w}`: two or more parameters are not null, even
    # empty ones and with IFS empty; a quoted "${*:-w}" is null when they join to nothing
    ("set -- '' ''; IFS=; echo \"a=${*:-minus}\" \"c=${@:-minus}\"; echo n=${*:-minus}; "
     "set -- ''; echo \"g=${@:-minus}\" g2=${*:-minus}", "a=minus c= \nn=\ng=minus g2=minus\n"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0][:40])
def test_matches_dash(sh, case: tuple[str, str] | tuple[str, str, int]  # type: ignore[no-untyped-def]
                      ) -> None:
    script, expected, *status = case
    sh(script, expected, *status)


@pytest.mark.parametrize("script, expected, status", [
    # `${@:+w}` / an unquoted `${*:+w}` with two empty parameters: not null, as their `:-`
    # says (bash; dash's `:+` calls them null)
    ("set -- '' ''; IFS=; echo \"d=${@:+plus}\" o=${*:+plus} \"b=${*:+plus}\"",
     "d=plus o=plus b=\n", 0),
    # `command` keeps a declaration utility's assignments whole, unless the word
    # `command` is quoted or an option follows it (bash; dash keeps them whole always)
    ("x='a b'; command readonly c=$x; echo $c; \\command export d=$x; echo $d; "
     "command -p export e=$x; echo $e", "a b\na\na\n", 0),
    # unquoted `$@` / `$*` as a whole word nothing splits (an assignment, `export`,
    # `readonly`, a `case` word, a redirection's target): the parameters joined, `$@` by
    # spaces, `$*` by IFS's first character, as bash does (dash joins `$@` by IFS too)
    ("IFS=:; set -- x 'y z'; s=$@; printf '<%s>' \"$s\" ${#s}; s=$*; printf '<%s>' \"$s\"; "
     "export e=$@; readonly r=$*; printf '<%s>' \"$e\" \"$r\"; "
     "case $@ in 'x y z') echo ' m';; *) echo ' no';; esac",
     "<x y z><5><x:y z><x y z><x:y z> m\n", 0),
    ("set -- a b; unset IFS; s=$*; echo \"[$s]\"; IFS=; s=$*; echo \"[$s]\"; "
     "echo hi > $@; cat 'a b'", "[a b]\n[ab]\nhi\n", 0),
    # a redirection of a compound command that fails is the command failing: `set -e`
    # ends the shell (bash's status 1; dash says 2), but not in a condition
    ("set -e; { cat; } < /nonexistent 2>/dev/null; echo no", "", 1),
    ("set -e; while read l; do :; done < /nonexistent 2>/dev/null; echo no", "", 1),
    ("set -e; (echo x) > / 2>/dev/null; echo no", "", 1),
    ("set -e; if { cat; } < /nonexistent; then :; fi 2>/dev/null; "
     "{ cat; } < /nonexistent 2>/dev/null || echo handled", "handled\n", 0),
])
def test_like_bash(sh, script: str, expected: str,  # type: ignore[no-untyped-def]
                   status: int) -> None:
    sh(script, expected, status, like_dash=False)


def test_path_has_a_default_when_unset(tmp_path: Path) -> None:
    """Started with no PATH, the shell sets one (not exported), as dash does."""
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env["PYTHONPATH"] = SRC
    p = subprocess.run([sys.executable, "-m", "fusevm.sh", "-c",
                        'case :$PATH: in *:/usr/bin:*:/bin:*) echo set;; esac; '
                        "export -p | grep -c ' PATH='"],
                       cwd=tmp_path, capture_output=True, env=env, timeout=60)
    assert p.stdout == b"set\n0\n"


def test_login_flag_is_accepted(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "fusevm.sh", "-l", "-c", "echo ok"],
                       cwd=tmp_path, capture_output=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=SRC))
    assert (p.stdout, p.returncode) == (b"ok\n", 0)
