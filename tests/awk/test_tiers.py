"""awk under the baseline tier against awk in the interpreter alone (the oracle): the same
output, status and errors, on programs that use every kind of awk op (fields, specials,
arrays, comparisons, regexes, getline, next, exit, errors), with the baseline really
compiling the record loop and calling awk's ops as functions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fusevm.baseline import compiler
from fusevm.lang.awk.main import LONG_INPUT

from .awkrun import SRC, run

INPUT = "".join(f"k{i % 7} {i * 1.5} {i % 3} alpha{i % 4} beta -{i}e1\n" for i in range(200))

PROGRAMS = [
    "{ s += $3 } END { print s, NR }",
    "{ for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) n++; print n }",
    '/alpha[12]/ { n++ } $1 == "k3" { m++ } END { print n, m }',
    '{ printf "%-5s|%8.2f|%3d\\n", $1, $2, $3 }',
    '{ n += gsub(/a/, "A"); $2 = $2 * 2 } NR % 30 == 0 { print; print NF }',
    "{ $7 = $1 $3; print $0; NF = 3; print }",
    "$2 > 40 && $3 != 1 { print NR, $2 + $6 } END { print NR }",
    "NR == 5 { next } NR == 150 { exit 3 } { t = t substr($1, 2) } END { print length(t) }",
    '{ a[$1] = a[$1] " " $4 } END { for (k in a) if (k in a) print k, length(a[k]) }',
    "{ x = $2; x++; y -= $6; z = z < $2 ? $2 : z } END { print x, y, z }",
    '{ if (match($4, /[0-9]+/)) s += substr($4, RSTART, RLENGTH) } END { print s }',
    "{ delete a; a[NR] = $0; split($0, b); n += length(b) } END { print n, length(a) }",
    '{ print $(NF - 1), toupper($4) > "/dev/stdout" }',
    "NR == 3 { print $(-1) }",
    "{ s = s + $2 / (NR - 150) } END { print s }",
]


@pytest.mark.parametrize("program", PROGRAMS)
def test_baseline_agrees_with_the_interpreter(program: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUSEVM_BASELINE", "off")
    expected = run([program], INPUT)
    # (eager: the record loop compiles at its second record, not only on a long input)
    monkeypatch.setenv("FUSEVM_BASELINE", "eager")
    # (Regions bound to this run's VM: an equal chunk an earlier test compiled may still
    # be alive, and its compiled regions are shared, not compiled again.)
    before = compiler.stats()["runs"]
    got = run([program], INPUT)
    assert got == expected
    assert compiler.stats()["runs"] > before or program.startswith("NR == 3")


#: Programs whose region code would nest more loops than CPython allows blocks in one
#: function (20): a back edge per `next` to the record loop's header, a back edge per
#: `continue`, and loops nested deeply in the record loop and in a function.
_NEXTS = "".join(f'$1 == "k{i}" {{ n{i}++; next }}\n' for i in range(25)) + "END { print n3, NR }"
_CONTINUES = ("{ i = 0; while (i < 30) { i++\n"
              + "".join(f"if (i == {k}) continue\n" for k in range(25))
              + "s++ } }\nEND { print s }")
_LOOPS = "".join(f"for (v{k} = 0; v{k} < 2; v{k}++) " for k in range(14))
_DEEP = f"NR < 3 {{ {_LOOPS} n++ }} END {{ print n }}"
_DEEP_FUNCTION = (f"function f(x,  n, {', '.join(f'v{k}' for k in range(14))}) "
                  f"{{ {_LOOPS} n += x; return n }}\n"
                  "NR < 3 { s += f($3) } END { print s }")


@pytest.mark.parametrize("program", [_NEXTS, _CONTINUES, _DEEP, _DEEP_FUNCTION])
def test_loops_nested_past_pythons_block_limit(program: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # (The tests run with tiers.STRICT: a region whose code Python refuses would raise.)
    monkeypatch.setenv("FUSEVM_BASELINE", "off")
    expected = run([program], INPUT * 20)
    monkeypatch.setenv("FUSEVM_BASELINE", "eager")
    assert run([program], INPUT * 20) == expected
    monkeypatch.delenv("FUSEVM_BASELINE")  # (the record loop compiled when it is hot)
    assert run([program], INPUT * 20) == expected


def test_a_region_the_baseline_fails_to_compile_is_interpreted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A numeric loop brings in the trace tier, which asks the baseline for the record
    # loop's code while it records (`step_now`): a compile failure there, as anywhere a
    # tier compiles, leaves that code to the interpreter instead of stopping the run.
    from fusevm.interp import tiers
    program = "{ for (i = 0; i < 300; i++) s += i * $3 } END { print s, NR }"
    monkeypatch.setenv("FUSEVM_BASELINE", "off")
    expected = run([program], INPUT * 20)
    monkeypatch.delenv("FUSEVM_BASELINE")
    asked: list[int] = []

    def failing(*args: object) -> None:
        asked.append(1)
        raise RuntimeError("no code for this region")
    monkeypatch.setattr(compiler, "region_step", failing)
    monkeypatch.setattr(tiers, "STRICT", False)
    assert run([program], INPUT * 20) == expected
    assert asked


#: A fresh process runs awk on FILE and says whether the baseline compiler loaded, and
#: how many regions it compiled.
_PROBE = """
import sys
from fusevm.lang.awk.main import main
main(["{ s += $3 } END { print s }", sys.argv[1]])
c = sys.modules.get("fusevm.baseline.compiler")
print(0 if c is None else c.stats()["compiles"] or -1)
"""


def _compiles_in_a_fresh_process(path: str, stdin: bytes | None = None) -> int:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC), FUSEVM_JIT_CACHE_DIR="off")
    env.pop("FUSEVM_BASELINE", None)
    proc = subprocess.run([sys.executable, "-c", _PROBE, path], env=env, input=stdin,
                          capture_output=True, check=True)
    return int(proc.stdout.split()[-1])


def test_a_short_input_never_loads_the_compiler(tmp_path: Path) -> None:
    # 1,000 records: loading the compiler would cost more than compiled code could win back
    # (the tier waits for LOAD_COST ops of the record loop first).
    short = tmp_path / "short.txt"
    short.write_text(INPUT * 5)
    assert _compiles_in_a_fresh_process(str(short)) == 0


def test_a_long_file_compiles_the_record_loop_at_its_first_look(tmp_path: Path) -> None:
    long = tmp_path / "long.txt"
    long.write_text(INPUT * (LONG_INPUT // len(INPUT) + 1))
    assert long.stat().st_size >= LONG_INPUT
    assert _compiles_in_a_fresh_process(str(long)) >= 1
    # Twice that text through a pipe (its length unknown): compiled once the record loop
    # has run what loading the compiler costs.
    assert _compiles_in_a_fresh_process("-", long.read_bytes() * 2) >= 1
