"""User functions (recursion, arrays by reference, scalars by value, locals), numeric
typing of globals, and the remaining control statements (nextfile, exit in END, next
reached in END through a function)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .awkrun import awk, run


def test_deep_recursion() -> None:
    prog = "function d(n) { return n == 0 ? 0 : 1 + d(n - 1) } BEGIN { print d(5000) }"
    assert awk(prog) == "5000\n"


def test_array_param_by_reference_through_calls() -> None:
    prog = ("function h(b, y) { return g(b, y) } function g(b, y) { return f(b, y) }"
            " function f(a, x) { a[x] = x * 2; return a[x] }"
            " BEGIN { print h(arr, 4), arr[4], length(arr) }")
    assert awk(prog) == "8 8 1\n"


def test_local_arrays_are_fresh_per_call() -> None:
    prog = ("function f(n,   loc) { loc[n] = 1; return length(loc) }"
            " BEGIN { print f(1), f(2), f(3) }")
    assert awk(prog) == "1 1 1\n"


def test_scalar_params_by_value_and_locals() -> None:
    prog = ("function f(a,   t) { t = a; a = \"changed\"; g = t; return a }"
            " BEGIN { x = \"orig\"; r = f(x); print x, r, g, t \"|\" }")
    assert awk(prog) == "orig changed orig |\n"


def test_recursive_array_walk() -> None:
    prog = ("function sum(a, n) { return n == 0 ? 0 : a[n] + sum(a, n - 1) }"
            " BEGIN { for (i = 1; i <= 10; i++) v[i] = i; print sum(v, 10) }")
    assert awk(prog) == "55\n"


def test_numeric_globals_stay_correct() -> None:
    # i and s only ever hold numbers; reads before assignment still see uninit
    prog = ('BEGIN { print "[" s "]", s + 0; for (i = 0; i < 5; i++) s += i;'
            ' print s, i; if (s > 100) t = 1; print t + 1, "[" t "]" }')
    assert awk(prog) == "[] 0\n10 5\n1 []\n"
    rc, out, _ = run(["{ print n + 1 } END { n++; print n }", "n=41", "/dev/stdin"], "x\n")
    assert (rc, out) == (0, "42\n42\n")


def test_nextfile(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("1\n2\n3\n")
    (tmp_path / "b").write_text("4\n5\n")
    rc, out, _ = run(["FNR == 2 { nextfile } { print }", str(tmp_path / "a"),
                      str(tmp_path / "b")])
    assert (rc, out) == (0, "1\n4\n")


def test_exit_in_end_and_status() -> None:
    rc, out, _ = run(["END { print \"a\"; exit 4; print \"b\" }"], "x\n")
    assert (rc, out) == (4, "a\n")
    rc, out, _ = run(["{ exit 5 } END { print \"end\"; exit }"], "x\n")
    assert (rc, out) == (5, "end\n")


@pytest.mark.parametrize("statement", ["next", "nextfile"])
def test_next_from_a_function_called_in_end_is_fatal(statement: str) -> None:
    # (the parser rejects `next` in END itself; through a function it would run END again)
    program = f'function f() {{ {statement} }} {{ n++ }} END {{ print NR; f(); print "x" }}'
    rc, out, err = run([program], "a\nb\n")
    assert (rc, out) == (2, "2\n")
    assert f"{statement} called from a function in the END action" in err


def test_getline_var_updates_nr_not_fields() -> None:
    assert awk("NR == 1 { getline x; print NR, NF, x, $1 }", "a b\nc d e\n") == "2 2 c d e a\n"
