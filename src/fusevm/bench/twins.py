"""The plain-Python twins of the benchmark workloads: the same algorithms as ordinary functions.

Each twin does what its workload's bytecode does, written the way a Python programmer
would, and returns the same result. Integer arithmetic wraps to 64 bits only where the
values can leave the i64 range (slot_mixed); elsewhere the wrap provably never triggers
and is left out. Like `timing.py`, this module needs only the standard library, so a peer
interpreter can run it as a script:

    pypy3 twins.py NAME ARGS_JSON TARGET_S MIN_REPS [CLOCK]

prints one JSON object: the timing of `NAME(*ARGS)` plus the result it returned.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

_MASK = (1 << 64) - 1
_SIGN = 1 << 63


def _wrap(n: int) -> int:
    return ((n + _SIGN) & _MASK) - _SIGN


def counter_loop(n: int) -> int:
    i = 0
    while True:
        i += 1
        if not i < n:
            return i


def loop_with_branch(n: int) -> int:
    i = 0
    while True:
        i += 1
        if i > 0:
            pass
        if not i < n:
            return i


def fib_iterative(n: int) -> int:
    a, b = 0, 1
    i = n
    while not i <= 0:
        t = a + b
        a = b
        b = t
        i -= 1
    return a


def fib_recursive(n: int) -> int:
    if n <= 1:
        return n
    return fib_recursive(n - 1) + fib_recursive(n - 2)


def ackermann(m: int, n: int) -> int:
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


def sum_loop(limit: int) -> int:
    total = 0
    i = 0
    while True:
        total += i
        i += 1
        if not i < limit:
            return total


def sum_builtin(limit: int) -> int:
    return sum(range(limit))


def nested_loop(n: int) -> int:
    total = 0
    i = 0
    while True:
        j = 0
        while True:
            total += i + j
            j += 1
            if not j < n:
                break
        i += 1
        if not i < n:
            return total


def empty_loop(n: int) -> int:
    for _ in range(n):
        pass
    return 0


def string_build(n: int) -> str:
    s = "x"
    i = 0
    while i < n:
        s += "x"
        i += 1
    return s


def array_push(n: int) -> int:
    a: list[int] = []
    i = 0
    while i < n:
        a.append(i)
        i += 1
    return len(a)


def slot_mixed(x: int) -> int:
    for _ in range(100):
        x = _wrap(_wrap(_wrap(x * 3) + 7) - 2)
    return x


def slot_bitwise(x: int) -> int:
    for _ in range(200):
        # (x & 0xFF) << 3 is below 2**11, so Shl's 64-bit wrap never applies.
        x = ((x & 0xFF) << 3) ^ 0x1234
    return x


def slot_float(x: int | float) -> float:
    for _ in range(200):
        x = (x + 0.1) * 1.001
    return float(x)


#: Every twin by name (the name a Workload and the peers refer to it by).
TWINS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (
        counter_loop, loop_with_branch, fib_iterative, fib_recursive, ackermann, sum_loop,
        sum_builtin, nested_loop, empty_loop, string_build, array_push, slot_mixed,
        slot_bitwise, slot_float)
}


def _main(argv: list[str]) -> int:
    """Time one twin and print the timing and result as JSON (for peer interpreters)."""
    import importlib.util
    import os

    name, args, target_s, min_reps = argv[0], json.loads(argv[1]), float(argv[2]), int(argv[3])
    clock = argv[4] if len(argv) > 4 else "wall"
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timing.py")
    spec = importlib.util.spec_from_file_location("_fusevm_bench_timing", path)
    assert spec is not None and spec.loader is not None
    timing = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = timing  # dataclasses looks the module up while decorating
    spec.loader.exec_module(timing)
    fn = TWINS[name]
    result = fn(*args)
    t = timing.measure(lambda: fn(*args), target_s=target_s, min_reps=min_reps, clock=clock)
    out = dict(t.as_dict())
    out["result"] = result
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
