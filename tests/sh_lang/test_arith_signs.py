"""`++` and `--` in `$(( ))`: an increment or decrement only next to a variable name,
two signs anywhere else (`2--5` is 2 - -5), compiled or evaluated at run time."""

from __future__ import annotations

import pytest

from fusevm.lang.sh import arith

#: Expressions whose value and effect dash (which has no ++/--) and we agree on.
LIKE_DASH = [
    "2--5", "2++5", "- -5", "--5", "++5", "-(-5)", "2- -a", "a--b", "a++b", "2--a",
    "2---a", "2 - - 5", "-+-5", "2+-+5", "~--5", "a--5", "a--(b)", "5--", "--5--", "(a)--",
]


@pytest.mark.parametrize("expr", LIKE_DASH)
def test_signs_like_dash(sh, expr: str) -> None:  # type: ignore[no-untyped-def]
    # static text (compiled) and the same text from a variable (evaluated at run time)
    sh(f"a=3; b=1; e='{expr}'; (echo $(({expr})) $a $b); echo $(($e)) $a $b", None,
       2 if expr in ("5--", "--5--", "(a)--") else 0)


def test_a_negative_parameter_after_a_minus(sh) -> None:  # type: ignore[no-untyped-def]
    sh("i=$((-5)); echo $((2-$i)) $((2+$i)) $((-$i)) $((2*-$i))", "7 -3 5 10\n")


@pytest.mark.parametrize(("expr", "value", "a"), [
    ("a--", 3, 2), ("a++", 3, 4), ("--a", 2, 2), ("++a", 4, 4), ("-- a", 2, 2),
    ("a --", 3, 2), ("a---b", 2, 2), ("a+++b", 4, 4), ("a-- -b", 2, 2), ("(--a)", 2, 2),
    ("2*--a", 4, 2), ("!--a", 0, 2),
])
def test_increments_next_to_a_name(expr: str, value: int, a: int) -> None:
    # dash has no ++/--; these are bash's values
    env = {"a": "3", "b": "1"}
    assert arith.evaluate(expr, env.get, env.__setitem__) == value
    assert env["a"] == str(a)
