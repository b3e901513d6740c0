"""A program compiles to the same chunk in every process, whatever its string hash seed.

The baseline tier's disk cache and the JIT's are keyed by the chunk's digest, and `fusevm
dis` prints the chunk: an order taken from a set of names would differ from one process
to the next.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROGRAM = r"""
function f(a, b) { c = a b; arr[c] = 1; return c }
BEGIN { zeta = 1; alpha = 2; m["k"] = 3; q = f("x", "y"); split("a b", parts) }
{ total += $1; seen[$2]++; last = $0 }
END { for (k in seen) n++; print total, n, last, zeta, alpha, q }
"""

_CHILD = (
    "import sys\n"
    "from fusevm.lang.awk.compiler import compile_ast\n"
    "from fusevm.lang.awk.parser import parse\n"
    "print(compile_ast(parse(sys.stdin.read())).digest())\n"
)


def _digest(seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    out = subprocess.run([sys.executable, "-c", _CHILD], input=PROGRAM, env=env,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_the_chunk_does_not_depend_on_the_hash_seed() -> None:
    digests = {_digest(seed) for seed in ("1", "2", "3")}
    assert len(digests) == 1, digests
