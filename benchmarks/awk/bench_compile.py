"""Compile time of fusevm awk against program size (is it linear?), next to gawk's.

    python benchmarks/awk/bench_compile.py [--base 250] [--runs 3]

Generates programs of 1x, 4x and 16x `--base` blocks (each block: a function with
arithmetic, a condition, a loop over sprintf/substr, a regex rule calling it, distinct
string constants), and reports the median CPU time of parse + compile + verify in this
process, the time per KB, and gawk's time to parse the same text (`gawk --posix -f P
/dev/null` with a `BEGIN { exit }` prepended, so nothing runs). Linear compile time shows
as a flat ms/KB column. No target is asserted: the numbers are a report.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from fusevm.lang.awk.api import compile_program  # noqa: E402


def block(i: int) -> str:
    return f"""
function f{i}(a, b,   c) {{
    c = a + b * {i}
    if (c > {i} && a != "s{i}") {{ x["k{i}"] = c; y = y "t" }}
    else if (b ~ /r{i % 50}[a-z]+/) {{ z++ }}
    for (k = 0; k < 3; k++) s = s sprintf("%d-%s", k, substr("abc{i}", 1, 2))
    return c
}}
/pat{i % 97}/ {{ n{i % 13} += f{i}($1, $2); print $1, NR > "/dev/null" }}
"""


def program(blocks: int) -> str:
    return "".join(block(i) for i in range(blocks))


def ours(source: str) -> float:
    gc.collect()
    began = time.process_time()
    compile_program(source, fuse=False)
    return time.process_time() - began


def gawk(path: Path) -> float | None:
    exe = shutil.which("gawk")
    if exe is None:
        return None
    began = time.perf_counter()
    subprocess.run([exe, "--posix", "-f", str(path), "/dev/null"], check=True,
                   capture_output=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=250, help="blocks in the 1x program")
    parser.add_argument("--runs", type=int, default=3, help="median of N runs")
    args = parser.parse_args()
    print(f"{'size':>5} {'KB':>8} {'fusevm':>9} {'ms/KB':>7} {'gawk':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for factor in (1, 4, 16):
            source = program(args.base * factor)
            path = Path(tmp) / "p.awk"
            path.write_text("BEGIN { exit }\n" + source)
            mine = statistics.median(ours(source) for _ in range(args.runs))
            times = [gawk(path) for _ in range(args.runs)]
            theirs = None if times[0] is None else statistics.median(
                t for t in times if t is not None)
            kb = len(source) / 1024
            gawk_text = "-" if theirs is None else f"{theirs:7.2f}s"
            print(f"{factor:>4}x {kb:8.0f} {mine:8.2f}s {1000 * mine / kb:7.2f} {gawk_text:>8}")


if __name__ == "__main__":
    main()
