"""Big programs: flat operator chains of any length, and constant pools past 16 bits."""

from __future__ import annotations

import pytest

from fusevm.instr import decode
from fusevm.lang.awk import exprs
from fusevm.lang.awk.api import compile_program

from .awkrun import awk


@pytest.mark.parametrize("n", [500, 5000])
@pytest.mark.parametrize(("op", "value"), [
    ("+", lambda n: str(n)), ("-", lambda n: str(2 - n)), ("*", lambda n: "1"),
    ("&&", lambda n: "1"), ("||", lambda n: "1"), (" ", lambda n: "1" * n),
])
def test_flat_chains_of_any_length(n: int, op: str, value: object) -> None:
    chain = op.join(["1"] * n)
    prog = f"BEGIN {{ x = {chain}; print x; if ({chain}) print \"yes\" }}"
    assert callable(value)
    assert awk(prog) == f"{value(n)}\nyes\n"


def test_a_chain_of_fifty_thousand_terms() -> None:
    assert awk("BEGIN { print " + " + ".join(["1"] * 50000) + " }") == "50000\n"


def test_mixed_chain_keeps_precedence_and_grouping() -> None:
    chain = " + ".join(f"({i} - 1) * 2 / 2" for i in range(1, 3001))
    assert awk(f"BEGIN {{ print {chain} }}") == f"{sum(range(3000))}\n"
    assert awk('BEGIN { print (0 || 0) && 1 || 0, 1 && (0 || 1) && 1 }') == "0 1\n"


def test_string_constants_are_deduplicated() -> None:
    prog = "BEGIN { " + "; ".join('s = s "ab"' for _ in range(3000)) + "; print length(s) }"
    chunk = compile_program(prog)
    assert sum(1 for c in chunk.constants if c == "ab") == 1
    assert awk(prog) == "6000\n"


def test_string_literals_past_the_pool_use_the_overflow_table(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exprs, "_POOL_ROOM", 4)
    prog = ("BEGIN { " + "; ".join(f'a[{i}] = "k{i}"' for i in range(40))
            + '; print a[0], a[39], "k39", a[39] ~ "k3" }')
    chunk = compile_program(prog)
    assert any(decode(instr).name == "AwkStrWide" for instr in chunk.ops)
    assert awk(prog) == "k0 k39 k39 1\n"
