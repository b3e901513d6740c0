"""The disagreements with dash and bash that `benchmarks/sh/differential.py` found, one
case per class, each compared with dash where it is installed."""

from __future__ import annotations

import pytest

CASES = [
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
    # a special builtin's error message goes to its own redirected stderr
    ("set -- a; (shift 3 2>/dev/null; echo no) 2>&1; echo \"st $?\"", "st 2\n"),
    ("command shift 3 2>/dev/null; echo \"st $?\"", "st 2\n"),
]


@pytest.mark.parametrize("script,expected", CASES)
def test_matches_dash(sh, script: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    sh(script, expected)
