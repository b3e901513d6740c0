"""A pipeline stage or `$(...)` that is a lone `echo` or `printf` is run by the shell
itself, without a fork (`fusevm.lang.sh.stages`): the same output, statuses and errors as
the forked child's, compared with dash; and no fork where the text fits the pipe."""

from __future__ import annotations

import os

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
