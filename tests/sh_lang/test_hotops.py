"""The loop ops' shared pieces: `arith.with_constant` (ShArithK, ShArithVarK) means what
`arith.BINARY` means, and the numbers the ops remember belong to one shell state."""

from __future__ import annotations

import pytest

from fusevm.lang.sh import arith, main, runtime  # noqa: F401 - main registers the ops
from fusevm.lang.sh.compiler import compile_items
from fusevm.lang.sh.parser import Parser
from fusevm.lang.sh.state import ShState

_VALUES = [0, 1, -1, 7, -7, 9, -9, 2**62, -(2**62), arith.INT_MAX, arith.INT_MIN]


@pytest.mark.parametrize("op", sorted(arith.BINARY))
def test_with_constant_is_the_operator(op: str) -> None:
    for k in [3, 1, -3, 2**40, arith.INT_MAX, arith.INT_MIN]:
        fn = arith.with_constant(op, k)
        for a in _VALUES:
            assert fn(a) == arith.BINARY[op](a, k), (a, op, k)


def _run(s: ShState, script: str) -> None:
    runtime.run_chunk(s, compile_items(Parser(script, 1, {}).parse_command() or []), 0)


def test_numbers_are_per_shell_state() -> None:
    one, two = ShState(), ShState()
    _run(one, "i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; r=$((i % 2))")
    assert one.vars["i"] == "3" and one.vars["r"] == "1"
    assert one.numbers and not two.numbers
    assert set(one.numbers) <= set(one.vars)


def test_a_remainder_by_a_constant(sh) -> None:  # type: ignore[no-untyped-def]
    sh("for i in -7 -1 0 5 9223372036854775807; do echo $((i % 3)) $(($i % 3))"
       " $((i * 1 % 3)); done",
       "-1 -1 -1\n-1 -1 -1\n0 0 0\n2 2 2\n1 1 1\n")


def test_lineno_in_tests_and_conditions(sh) -> None:  # type: ignore[no-untyped-def]
    # ShTestCmp, ShTestCmpJump and the general path all take LINENO from the command's
    # line (dash has no LINENO to compare with; bash agrees)
    sh("x=1\n[ $LINENO -eq 2 ] && echo a\nif [ \"$LINENO\" = 3 ]; then echo b; fi\n"
       "while [ $LINENO -lt 5 ] && [ $x = 1 ]; do x=2; echo c; done\n"
       "if [ $(echo $LINENO) -eq 5 ]; then echo d; fi\nif test $x$LINENO = 26; then echo e; fi",
       "a\nb\nc\nd\ne\n", like_dash=False)
