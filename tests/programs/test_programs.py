"""Runs every tests/programs/*.fasm and checks it against its header comments.

Header lines (anywhere in the file, each a whole comment line):

    ; expect: <text>                  one line of stdout, in order
    ; expect-result: <value literal>  the value run() returns (fusevm.asm.parse_value)
    ; expect-error: <Class>: <text>   assembling or running raises VMError subclass <Class>
                                      whose message contains <text>; stdout up to the error
                                      is still checked

A program without `expect-result` is not checked for its result. Programs are assembled
unfused; other suites reuse them (fused vs unfused, JIT tiers), so each stays fast.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fusevm import VM, VMError
from fusevm.asm import assemble, parse_value
from fusevm.values import format_value, same_value

HERE = Path(__file__).parent
PROGRAMS = sorted(HERE.glob("*.fasm"))
MIN_PROGRAMS = 10
_DIRECTIVE = re.compile(r"^\s*;\s*(expect|expect-result|expect-error):(?: (.*))?$")


@dataclass
class Expectation:
    stdout: list[str] = field(default_factory=list)
    result: tuple[Any] | None = None  # a 1-tuple, so that a None result is expressible
    error: tuple[str, str] | None = None


def expectations(text: str) -> Expectation:
    exp = Expectation()
    for line in text.splitlines():
        m = _DIRECTIVE.match(line)
        if m is None:
            continue
        kind, body = m.group(1), m.group(2) or ""
        if kind == "expect":
            exp.stdout.append(body)
        elif kind == "expect-result":
            exp.result = (parse_value(body),)
        else:
            cls, _, message = body.partition(":")
            exp.error = (cls.strip(), message.strip())
    return exp


def test_the_program_directory_is_not_empty():
    assert len(PROGRAMS) >= MIN_PROGRAMS, f"only {len(PROGRAMS)} programs in {HERE}"


def test_expectation_headers_parse():
    exp = expectations('; expect: a b\n; expect:\n; expect-result: [1, "x"]\n'
                       "; expect-error: ZeroDivision: division by zero\nLoadInt 1 ; expect: no")
    assert exp.stdout == ["a b", ""]
    assert exp.result == ([1, "x"],)
    assert exp.error == ("ZeroDivision", "division by zero")


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_program(path: Path):
    text = path.read_text(encoding="utf-8")
    exp = expectations(text)
    assert exp.stdout or exp.result or exp.error, f"{path.name} has no expectations"
    out = io.StringIO()

    def run() -> Any:
        return VM(assemble(text, source=path.name), stdout=out).run()

    if exp.error is not None:
        cls, message = exp.error
        with pytest.raises(VMError) as info:
            run()
        assert type(info.value).__name__ == cls, f"raised {type(info.value).__name__}: " \
                                                 f"{info.value}"
        assert message in info.value.message
        assert info.value.source == path.name and info.value.line is not None
        result = None
    else:
        result = run()
    expected_out = "".join(line + "\n" for line in exp.stdout)
    assert out.getvalue() == expected_out
    if exp.result is not None:
        want = exp.result[0]
        assert result is not None and type(result) is type(want) \
            and same_value(result, want), \
            f"result {format_value(result) if result is not None else None}, " \
            f"expected {format_value(want)}"
