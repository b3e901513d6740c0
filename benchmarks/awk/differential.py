"""Differential test of `fusevm awk` against the consensus of onetrue-awk and gawk --posix.

    python benchmarks/awk/differential.py [--count 1000] [--seed 1] [--show 10] [--out F]

Generates awk programs from a seeded grammar (expressions over numbers, strings, strnum
fields, uninitialised variables and `var=value` operands; string builtins, sub/gsub/
match/split with literal and dynamic EREs, printf formats, field assignment, arrays,
bounded loops), each with its own input and operands. Every program runs under
original-awk and `gawk --posix` (C locale); where both agree on stdout and on success or
failure, that is the consensus, and fusevm awk (run in this process) must match it.
Programs always terminate: loops are bounded and nothing reads from a terminal.

Prints the agreement rate over the programs with a consensus, and the first `--show`
disagreements (program, operands, input, expected and actual output); `--out` writes
every disagreement as JSON lines. This is a report, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from fusevm.lang.awk.main import main as awk_main  # noqa: E402

REFERENCES = (["original-awk"], ["gawk", "--posix"])
ENV = {"LC_ALL": "C", "PATH": "/usr/bin:/bin"}

STRINGS = ["", "a", "abc", "hello world", "x1y2", "  12  ", "3.5e1", "0x1A", "-7", "aAbB",
           "foo.bar", "a+b", "(ab)", "[x]", "tab\\there", "1e3", ".5", "+4", "nan", "inf",
           "ab|cd", "aaa", "a\\\\b", "AbC"]
NUMBERS = ["0", "1", "2", "3", "7", "10", "-1", "0.5", "1.25", "100", "1e3", "3.14159",
           "2147483648", "0.1", "-0.0", "1e-5", "255", "321"]
EREs = ["a", "a*", "a+", "b?", "ab|abcd", "(a|ab)(c|bcd)", "x*", "^a", "a$", "^$", ".",
        "[abc]", "[^abc]", "[a-c]+", "[[:alpha:]]+", "[[:digit:]]+", "[[:space:]]+",
        "[[:upper:]]", "[[:punct:]]", "a{2}", "a{1,2}", "(ab)+", "a?(ab)*", "(a|b)*(bc)?",
        "[0-9]+\\.[0-9]*", "o+", "l+", "(foo|foobar)", "[.]", "\\.", "[ ]+", "(a*)*b",
        "[a-z][0-9]", "(x|xy)(z|yz)?", "w.r", "[^ ]+$"]
FORMATS = ["%d", "%i", "%5d", "%-5d|", "%05d", "%x", "%X", "%o", "%u", "%c", "%s", "%10s",
           "%-10s|", "%.2s", "%e", "%.3e", "%f", "%.2f", "%8.3f", "%g", "%G", "%.10g",
           "%+d", "% d", "%#o", "%#x", "%%", "%5.1f%%"]
WORDS = ["alpha", "beta", "12", "3.5", "-4", "foo", "bar7", "x", "1e2", "0", "abc", "a b",
         "Hello", "w0rld", "..", "+1", "0x10", ""]


@dataclass
class Case:
    options: list[str]
    program: str
    operands: list[str]
    stdin: str

    def argv(self) -> list[str]:
        return [*self.options, self.program, *self.operands]


class Generator:
    """Random awk programs from a small grammar; every loop is bounded."""

    def __init__(self, rng: random.Random, files: list[str]) -> None:
        self.rng = rng
        self.vars = ["x", "y", "s", "t", "n", "v"]
        self.files = files  # input files operands may name

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    def string(self) -> str:
        return '"' + self.pick(STRINGS) + '"'

    def regex(self) -> str:
        ere = self.pick(EREs)
        if self.rng.random() < 0.25:
            return '"' + ere.replace("\\", "\\\\") + '"'  # a dynamic regex
        return "/" + ere + "/"

    def lvalue(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            return self.pick(self.vars)
        if r < 0.8:
            return f"a[{self.atom(1)}]"
        return f"${self.rng.randint(0, 4)}"

    def atom(self, depth: int) -> str:
        r = self.rng.random()
        if r < 0.2:
            return self.pick(NUMBERS)
        if r < 0.4:
            return self.string()
        if r < 0.6:
            return self.pick(self.vars)
        if r < 0.75:
            return f"${self.rng.randint(0, 4)}"
        if r < 0.8:
            return self.pick(["NF", "NR", "FNR", "RSTART", "RLENGTH", "length", "FS"])
        if r < 0.9:
            return f"a[{self.pick(NUMBERS)}]"
        return "(" + self.expr(depth - 1) + ")"

    def builtin(self, depth: int) -> str:
        e = lambda: self.expr(depth - 1)  # noqa: E731
        choice = self.rng.randrange(14)
        if choice == 0:
            return f"length({e()})"
        if choice == 1:
            return f"substr({e()}, {self.atom(0)})"
        if choice == 2:
            return f"substr({e()}, {self.atom(0)}, {self.atom(0)})"
        if choice == 3:
            return f"index({e()}, {e()})"
        if choice == 4:
            return f"toupper({e()})"
        if choice == 5:
            return f"tolower({e()})"
        if choice == 6:
            return f"match({e()}, {self.regex()})"
        if choice == 7:
            return f"split({e()}, b, {self.regex()})"
        if choice == 8:
            return f"split({e()}, b)"
        if choice == 9:
            return f'sprintf("{self.pick(FORMATS)}", {e()})'
        if choice == 10:
            return f"int({e()})"
        if choice == 11:
            return f"({e()} ~ {self.regex()})"
        if choice == 12:
            target = self.pick(["x", "s", "$0", "$2", "a[1]"])
            fn = self.pick(["sub", "gsub"])
            repl = self.pick(['"<&>"', '"-"', '""', '"\\\\&"', '"[&&]"'])
            return f"{fn}({self.regex()}, {repl}, {target})"
        return f"(({e()}) {self.pick(['<', '<=', '==', '!=', '>', '>='])} ({e()}))"

    def expr(self, depth: int = 3) -> str:
        if depth <= 0:
            return self.atom(0)
        r = self.rng.random()
        if r < 0.25:
            return self.atom(depth)
        if r < 0.45:
            op = self.pick(["+", "-", "*", "%", "/"])
            right = self.expr(depth - 1)
            if op in "%/":
                right = f"((dv = ({right}) + 0) == 0 ? 1 : dv)"  # never divides by zero
            return f"{self.expr(depth - 1)} {op} {right}"
        if r < 0.6:
            return f"{self.expr(depth - 1)} {self.expr(depth - 1)}"  # concatenation
        if r < 0.65:
            return f"{self.lvalue()} = {self.expr(depth - 1)}"
        if r < 0.7:
            return f"!{self.atom(depth)}"
        if r < 0.75:
            return f"({self.expr(depth - 1)}) ? ({self.expr(depth - 1)}) : ({self.expr(depth - 1)})"
        return self.builtin(depth)

    def statement(self, depth: int = 2) -> str:
        r = self.rng.random()
        if r < 0.3:
            return "print " + ", ".join(self.expr() for _ in range(self.rng.randint(1, 3)))
        if r < 0.45:
            fmt = " ".join(self.pick(FORMATS) for _ in range(self.rng.randint(1, 3)))
            args = ", ".join(self.expr(2) for _ in range(fmt.count("%") - 2 * fmt.count("%%")))
            return f'printf "{fmt}\\n"' + (", " + args if args else "")
        if r < 0.65:
            return f"{self.lvalue()} = {self.expr()}"
        if r < 0.72 and depth > 0:
            then, other = self.statement(depth - 1), self.statement(depth - 1)
            return f"if ({self.expr(2)}) {{ {then} }} else {{ {other} }}"
        if r < 0.78 and depth > 0:
            k = self.rng.randint(0, 4)
            return f"for (i = 0; i < {k}; i++) {{ {self.statement(depth - 1)} }}"
        if r < 0.82:
            return 'n = 0; for (k in a) n++; print "count", n'
        if r < 0.86:
            return f"$0 = {self.expr(2)}; print NF, $1"
        if r < 0.9:
            return f"${self.rng.randint(1, 5)} = {self.expr(2)}; print; print NF"
        if r < 0.93:
            return f"print {self.builtin(2)}, RSTART, RLENGTH"
        if r < 0.96:
            return self.pick(['"echo p q" | getline; print NR, NF, $0',
                              '"echo 7 8" | getline v; print NR, v, (v < 10)',
                              'getline; print NR, FNR, $0', 'getline t; print NR, t, $0',
                              'print (getline t < "/nonexistent/file")'])
        return f"{self.lvalue()}++; print {self.expr(1)}"

    def case(self) -> Case:
        rng = self.rng
        parts = []
        if rng.random() < 0.7:
            parts.append("BEGIN { " + "; ".join(self.statement() for _ in range(rng.randint(1, 3)))
                         + " }")
        for _ in range(rng.randint(0, 2)):
            pattern = self.pick(["", "NR == 1 ", "NR % 2 ", "/a/ ", "$1 ", "NF > 2 ",
                                 self.regex() + " "])
            parts.append(pattern + "{ " + "; ".join(
                self.statement() for _ in range(rng.randint(1, 3))) + " }")
        if rng.random() < 0.5:
            parts.append("END { " + "; ".join(self.statement() for _ in range(rng.randint(1, 2)))
                         + " }")
        if not parts:
            parts.append("{ print }")
        lines = [" ".join(self.pick(WORDS) for _ in range(rng.randint(0, 5)))
                 for _ in range(rng.randint(0, 4))]
        options: list[str] = []
        if rng.random() < 0.15:
            options += ["-F", self.pick([",", ":", "[ab]", "a+", "(x|xy)", "\\|", "[0-9]"])]
        if rng.random() < 0.15:
            options += ["-v", f"{self.pick(self.vars)}={self.pick(STRINGS + NUMBERS)}"]
        operands: list[str] = []
        if rng.random() < 0.3:
            operands.append(f"{self.pick(self.vars)}={self.pick(STRINGS + NUMBERS)}")
        if operands or rng.random() < 0.2:
            for name in self.rng.sample(self.files, rng.randint(1, 2)):
                operands.append(name)
                if rng.random() < 0.5:
                    operands.append(f"{self.pick(self.vars)}={self.pick(STRINGS + NUMBERS)}")
            if rng.random() < 0.5:
                operands.append("-")
        return Case(options, "\n".join(parts), operands,
                    "".join(line + "\n" for line in lines))


def run_reference(argv: list[str], case: Case) -> tuple[bool, str] | None:
    try:
        r = subprocess.run([*argv, *case.argv()],
                           input=case.stdin.encode("latin-1"), capture_output=True,
                           env=ENV, timeout=10)
    except subprocess.TimeoutExpired:
        return None
    return r.returncode == 0, r.stdout.decode("latin-1")


def run_ours(case: Case) -> tuple[bool, str]:
    out = io.BytesIO()
    err = io.StringIO()
    rc = awk_main(case.argv(), stdin=io.BytesIO(case.stdin.encode("latin-1")),
                  stdout=out, stderr=err)
    return rc == 0, out.getvalue().decode("latin-1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="programs to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=10, help="disagreements to print")
    parser.add_argument("--out", type=Path, help="write every disagreement as JSON lines")
    args = parser.parse_args()
    missing = [argv[0] for argv in REFERENCES if shutil.which(argv[0]) is None]
    if missing:
        sys.exit(f"differential: not installed: {', '.join(missing)}")
    tmp = Path(tempfile.mkdtemp(prefix="awkdiff"))
    files = []
    rng = random.Random(args.seed)
    for i in range(3):
        path = tmp / f"in{i}.txt"
        path.write_text("".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4)))
                                + "\n" for _ in range(rng.randint(1, 3))))
        files.append(str(path))
    gen = Generator(rng, files)
    consensus = agree = 0
    disagreements: list[dict[str, object]] = []
    for _ in range(args.count):
        case = gen.case()
        results = [run_reference(argv, case) for argv in REFERENCES]
        if results[0] is None or results[0] != results[1]:
            continue
        consensus += 1
        mine = run_ours(case)
        if mine == results[0]:
            agree += 1
        else:
            disagreements.append({"options": case.options, "program": case.program,
                                  "operands": case.operands,
                                  "stdin": case.stdin, "expected": results[0],
                                  "got": mine})
    shutil.rmtree(tmp)
    rate = 100.0 * agree / consensus if consensus else 0.0
    print(f"programs: {args.count}, with a consensus: {consensus}, "
          f"fusevm agrees: {agree} ({rate:.1f}%)")
    for d in disagreements[: args.show]:
        print("-" * 72)
        print(json.dumps(d, indent=1))
    if args.out is not None:
        with args.out.open("w") as f:
            for d in disagreements:
                f.write(json.dumps(d) + "\n")


if __name__ == "__main__":
    main()
