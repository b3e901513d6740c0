"""What a script's commonest commands do without a fork or a regex: a pipeline stage or
`$(...)` that is a lone `echo` or `printf` is run by the shell itself
(`fusevm.lang.sh.stages`), with the same output, statuses and errors as the forked
child's, compared with dash, and no fork where the text fits the pipe; `case` patterns of
literal text and stars load no regex."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import fusevm.lang.sh.main  # noqa: F401  - registers the op handlers and builtins
import fusevm.lang.sh.runtime as runtime
from fusevm.lang.sh.errors import ShExit
from fusevm.lang.sh.state import new_state

SCRIPTS = [
    # stages and substitutions of each builtin, with escapes, -n and \c
    "echo a b | tr a-z A-Z; printf '%s-%03d\\n' x 5 | cat; x=$(echo hi); echo \"[$x]\"",
    "x=$(echo -n 'no nl'); echo \"[$x]\"; echo 'a\\tb\\cgone' | od -c | sed 1q",
    "printf 'a\\n' | { read l; echo \"got $l\"; }; echo x | echo y | cat",
    # statuses: printf's error in a stage and in $(...); the stage's status in a pipeline
    "y=$(printf '%d' zz 2>/dev/null); echo \"[$y] $?\"; printf '%d' q 2>/dev/null | cat; "
    "echo $?; ! printf '%d\\n' 1 | cat; echo $?",
    "printf '%q' 2>&1 | cat; echo \"st $?\"; x=$(printf 'a %q b' 2>&1); echo \"[$x]\"",
    # a function of that name, a redirection on the stage, an option that forks
    "echo() { printf 'fn:%s\\n' \"$*\"; }; echo q | cat; x=$(echo r); echo \"$x\"",
    "echo gone >/dev/null | cat; echo e 2>&1 >/dev/null | cat; set -u; echo u | cat",
    # a text longer than a pipe takes without a reader: a child writes it
    "printf '%s' \"$(seq 1 3000)\" | wc -c; z=$(printf '%s\\n' \"$(seq 1 3000)\"); "
    "echo ${#z}; echo \"$z\" | tail -1",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_like_dash(sh, script: str) -> None:  # type: ignore[no-untyped-def]
    sh(script, None)


def test_no_fork_for_a_text_that_fits(monkeypatch: pytest.MonkeyPatch, capfd) -> None:  # type: ignore[no-untyped-def]
    forks: list[int] = []
    real = os.fork

    def counting() -> int:
        forks.append(1)
        return real()
    monkeypatch.setattr(os, "fork", counting)
    script = ("echo a | cat; x=$(echo b); echo \"$x\" | tr b B; printf '%s\\n' c | cat; "
              "y=$(printf %d 4); echo $y")
    try:
        runtime.run_text(new_state(), script)
    except ShExit:
        pass
    assert forks == []
    big = "printf '%0999d' 0 0 0 0 0 | wc -c"
    try:
        runtime.run_text(new_state(), big)
    except ShExit:
        pass
    assert forks == [1]  # (4,995 bytes: more than a pipe takes at once)
    assert capfd.readouterr().out.replace(" ", "") == "a\nB\nc\n4\n4995\n"


def test_plain_case_patterns_load_no_regex() -> None:
    """`case` patterns of literal text, stars, `?` and bracket expressions (quoted words
    included) are matched by `fusevm.regex.stars` alone: a script whose patterns are all
    such loads neither the regex translator nor RE2; a character above ASCII against a
    class (`[[:alpha:]]` and `é`) then does."""
    code = ("import sys\nfrom fusevm.cli import main\n"
            "try:\n    main(['sh', '-c', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('fusevm.regex.translate', 're2') if m in sys.modules))")
    plain = ("for x in -v --help a.sh 'a b' '' b 42 x1 \u00e9; do case $x in -*) echo o;; "
             "*.sh) echo s;; 'a b') echo q;; \"\") echo e;; [ab]) echo br;; "
             "[0-9][[:digit:]]) echo d;; [!0-9]?) echo n;; ?) echo one;; esac; done")
    out = subprocess.run([sys.executable, "-c", code, plain], capture_output=True,
                         text=True, check=True).stdout
    assert out == "o\no\ns\nq\ne\nbr\nd\nn\none\n[]\n"
    out = subprocess.run([sys.executable, "-c", code, "case \u00e9 in [[:alpha:]]) echo a;; esac"],
                         capture_output=True, text=True, check=True).stdout
    assert out == "a\n['fusevm.regex.translate', 're2']\n"
