"""Shared timing driver: bench_main(name, size, fn) times fn(size) with the process CPU clock."""

import sys
import time


def bench_main(name, default_size, fn):
    size = int(sys.argv[1]) if len(sys.argv) > 1 else default_size
    result = None
    for _ in range(3):
        result = fn(size)
    t0 = time.process_time()
    fn(size)
    one = max(time.process_time() - t0, 1e-7)
    inner = max(1, int(0.05 / one))
    samples = []
    for _ in range(7):
        s = time.process_time()
        for _ in range(inner):
            result = fn(size)
        samples.append((time.process_time() - s) / inner)
    samples.sort()
    print(f"{name} {size} {samples[3]:.9e} {result}")


def wrap64(n):
    n &= 0xFFFFFFFFFFFFFFFF
    return n - (1 << 64) if n >> 63 else n
