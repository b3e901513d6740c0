"""`eval` texts run again take the commands this process compiled the first time
(`fusevm.lang.sh.scriptcache.Remembered`), and run exactly what parsing them would make."""

from __future__ import annotations

import pytest

import fusevm.lang.sh.main  # noqa: F401  - registers the op handlers and builtins
import fusevm.lang.sh.runtime as runtime
from fusevm.lang.sh import scriptcache
from fusevm.lang.sh.errors import ShExit
from fusevm.lang.sh.state import new_state

from .conftest import counting_compiles

# Each runs its `eval` texts several times, with what parsing or running them depends on
# changed in between; compared with dash.
REPEATED = [
    # aliases defined between runs of the same text, and by the text itself
    ("for i in 1 2; do eval 'e; echo x'; alias e='echo alias'; done 2>/dev/null; echo $?",
     "x\nalias\nx\n0\n"),
    ("for i in 1 2 3; do eval 'alias z=\"echo Z$i\"\nz'; done", "Z1\nZ2\nZ3\n"),
    # a syntax error after commands that ran: each run runs them, then fails
    ("for i in 1 2; do (eval 'echo a\n(; echo b') 2>/dev/null; echo \"syn $?\"; done",
     "a\nsyn 2\na\nsyn 2\n"),
    # return from a function through its eval, and errors part way
    ("t='echo one; return 3; echo two'; g() { eval \"$t\"; }; g; echo $?; g; echo $?",
     "one\n3\none\n3\n"),
    ("for i in 1 2; do eval 'x=$((x+1)); [ $x -lt 2 ] || echo \"big $x\"'; done", "big 2\n"),
    # case, loops and here-documents inside the text
    ("for i in 1 2; do eval 'case $i in 1) echo one;; *) echo other;; esac'; done",
     "one\nother\n"),
    ("for i in 1 2; do eval 'cat <<EOF\nhere $i\nEOF'; done", "here 1\nhere 2\n"),
    ("n=0; while [ $n -lt 3 ]; do eval 'n=$((n+1)); for j in a b; do printf %s $n$j; done'"
     "; done; echo", "1a1b2a2b3a3b\n"),
]


@pytest.mark.parametrize(("script", "expected"), REPEATED)
def test_repeated_eval(sh, script: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    sh(script, expected)


def _eval_runs(scripts: list[str]) -> int:
    """Commands compiled while a new shell runs `scripts` in turn."""
    with counting_compiles() as compiled:
        s = new_state()
        for script in scripts:
            try:
                runtime.run_text(s, script)
            except ShExit:
                pass
    return len(compiled)


def test_a_text_is_compiled_once(monkeypatch: pytest.MonkeyPatch, capfd) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(scriptcache, "_REMEMBERED", {})
    # (each script's `eval` command is compiled each time; the text's two commands once)
    assert _eval_runs(["eval 'x=1\necho $x'"] * 5) == 5 + 2
    assert capfd.readouterr().out == "1\n" * 5
    # the same text evaluated from another line is compiled again (its commands carry
    # their lines: `$LINENO`), then taken from there too
    script = "eval 'echo $LINENO'\n\neval 'echo $LINENO'\n"
    assert _eval_runs([script, script]) == 2 * 2 + 2
    assert capfd.readouterr().out == "1\n3\n" * 2


def test_what_is_kept_is_bounded(monkeypatch: pytest.MonkeyPatch, capfd) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(scriptcache, "_REMEMBERED", {})
    monkeypatch.setattr(scriptcache, "MEMORY_TEXTS", 3)
    texts = [f"v{i}=1" for i in range(5)]
    _eval_runs([f"eval '{text}'" for text in texts])
    assert [key[0] for key in scriptcache._REMEMBERED] == texts[2:]  # the latest three
    long_text = "x=" + "a" * scriptcache.MEMORY_MAX_CHARS
    assert scriptcache.remembered(long_text, 1) is None
    capfd.readouterr()


def test_a_remembered_text_runs_in_the_shell_that_evaluates_it(capfd) -> None:  # type: ignore[no-untyped-def]
    """Two shells of one process evaluating the same text share its compiled commands,
    never a VM: each runs them on its own variables."""
    first, second = new_state(), new_state()
    for s in (first, second, first):
        runtime.run_text(s, "for i in 1 2; do eval 'n=$((n+1)); echo \"$n\"'; done")
    assert capfd.readouterr().out == "1\n2\n1\n2\n3\n4\n"
    assert first.vars["n"] == "4" and second.vars["n"] == "2"
