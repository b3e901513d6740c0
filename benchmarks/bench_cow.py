"""Copy on write (D8): reading a container costs the same whatever its size.

Two measurements, each interleaved (the variants alternate run by run, so machine drift
hits them alike) and reported as medians:

1. `GetSlot` of an array in a counted loop (`GetSlot 1; Pop` per iteration, plus the loop
   counter) with a 10-element and a 200,000-element array in the slot: ns per iteration
   and their ratio, which is about 1.0 when reads are O(1) (copy on read made the large
   one cost about a millisecond per read).
2. The issue's word loop, `while i < len(words) { n = n + len(words[i]); i = i + 1 }` over
   20,000 words, next to the same loop with `len(words)` hoisted out of it: their ratio.

    python benchmarks/bench_cow.py [--runs R] [--iterations N]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from collections.abc import Callable

from fusevm.bench.timing import CLOCKS
from fusevm.chunk import Chunk, ChunkBuilder
from fusevm.interp.vm import VM
from fusevm.ops import Op


def _counted(b: ChunkBuilder, iterations: int, body: Callable[[], None]) -> None:
    """Emit `for slot0 in 0..iterations: body()` (unfused, so every read dispatches)."""
    b.emit(Op.LoadInt, 0)
    b.emit(Op.SetSlot, 0)
    top = b.label("top")
    b.bind(top)
    body()
    b.emit(Op.GetSlot, 0)
    b.emit(Op.LoadInt, 1)
    b.emit(Op.Add)
    b.emit(Op.Dup)
    b.emit(Op.SetSlot, 0)
    b.emit(Op.LoadInt, iterations)
    b.emit(Op.NumLt)
    b.emit(Op.JumpIfTrue, top)


def get_slot_chunk(size: int, iterations: int) -> Chunk:
    b = ChunkBuilder(source=f"<bench_cow get_slot {size}>")
    # From the constant pool (O(1) at run time), so building the array is not timed.
    b.emit(Op.LoadConst, b.add_constant(list(range(1, size + 1))))
    b.emit(Op.SetSlot, 1)

    def body() -> None:
        b.emit(Op.GetSlot, 1)
        b.emit(Op.Pop)
    _counted(b, iterations, body)
    b.emit(Op.GetSlot, 1)
    b.emit(Op.StringLen)
    return b.build(fuse=False)


def word_loop_chunk(words: int, hoisted: bool) -> Chunk:
    """n = sum of len(words[i]) for i < len(words); slots: 0 i, 1 words, 2 n, 3 bound."""
    b = ChunkBuilder(source=f"<bench_cow words hoisted={hoisted}>")
    b.emit(Op.LoadConst, b.add_constant([f"w{i}" for i in range(words)]))
    b.emit(Op.SetSlot, 1)
    b.emit(Op.LoadInt, 0)
    b.emit(Op.SetSlot, 2)
    if hoisted:
        b.emit(Op.GetSlot, 1)
        b.emit(Op.StringLen)
        b.emit(Op.SetSlot, 3)
    b.emit(Op.LoadInt, 0)
    b.emit(Op.SetSlot, 0)
    top, done = b.label("top"), b.label("done")
    b.bind(top)
    b.emit(Op.GetSlot, 0)
    if hoisted:
        b.emit(Op.GetSlot, 3)
    else:
        b.emit(Op.GetSlot, 1)
        b.emit(Op.StringLen)
    b.emit(Op.NumLt)
    b.emit(Op.JumpIfFalse, done)
    b.emit(Op.GetSlot, 2)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.SlotArrayGet, 1)
    b.emit(Op.StringLen)
    b.emit(Op.Add)
    b.emit(Op.SetSlot, 2)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.LoadInt, 1)
    b.emit(Op.Add)
    b.emit(Op.SetSlot, 0)
    b.emit(Op.Jump, top)
    b.bind(done)
    b.emit(Op.GetSlot, 2)
    return b.build(fuse=False)


def interleaved(chunks: dict[str, Chunk], runs: int, baseline: bool,
                clock: str = "cpu") -> dict[str, float]:
    """Median ns of VM(chunk).run() per variant, the variants alternating run by run."""
    now = CLOCKS[clock]
    times: dict[str, list[int]] = {k: [] for k in chunks}
    for chunk in chunks.values():  # warm-up, and a check that each one runs
        VM(chunk, baseline=baseline).run()
    for _ in range(runs):
        for name, chunk in chunks.items():
            vm = VM(chunk, baseline=baseline)
            vm.prepare()
            t0 = now()
            vm.run()
            times[name].append(now() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                   help="cpu: the thread's CPU time (steadier on a busy machine); wall")
    p.add_argument("--baseline", choices=("on", "off"), default="on",
                   help="run with the baseline tier (the default VM) or the interpreter only")
    p.add_argument("--iterations", type=int, default=200_000)
    p.add_argument("--words", type=int, default=20_000)
    args = p.parse_args(argv)
    print(f"bench_cow: {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}, baseline tier {args.baseline}, {args.runs} interleaved runs, "
          f"medians, {args.clock} clock")

    n = args.iterations
    small, large = 10, 200_000
    t = interleaved({"small": get_slot_chunk(small, n), "large": get_slot_chunk(large, n)},
                    args.runs, args.baseline == "on", args.clock)
    print(f"  GetSlot loop, {n:,} iterations:")
    print(f"    {small:>7,}-element array  {t['small'] / n:7.1f} ns/iteration")
    print(f"    {large:>7,}-element array  {t['large'] / n:7.1f} ns/iteration")
    print(f"    ratio large/small          {t['large'] / t['small']:7.2f}")

    w = args.words
    t = interleaved({"in loop": word_loop_chunk(w, hoisted=False),
                     "hoisted": word_loop_chunk(w, hoisted=True)}, args.runs,
                    args.baseline == "on", args.clock)
    print(f"  while i < len(words), {w:,} words:")
    print(f"    len(words) in the loop  {t['in loop'] / 1e6:8.2f} ms")
    print(f"    len(words) hoisted      {t['hoisted'] / 1e6:8.2f} ms")
    print(f"    ratio                   {t['in loop'] / t['hoisted']:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
