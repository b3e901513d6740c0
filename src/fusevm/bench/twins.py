"""The plain-Python twins of the benchmark workloads: the same algorithms as ordinary functions.

Each twin does what its workload's bytecode does, written the way a Python programmer
would, and returns the same result. Integer arithmetic wraps to 64 bits only where the
values can leave the i64 range (slot_mixed); elsewhere the values stay far inside it at
the workloads' sizes (tests/bench checks every twin's result against the workload's), so
the wrap is left out. Like `timing.py`, this module needs only the standard library, so a peer
interpreter can run it as a script:

    pypy3 twins.py serve NAME ARGS_JSON CLOCK

prints one JSON line, the result of `NAME(*ARGS)` and the clock it times with, then
answers each line of input, a call count N, with the ns N back-to-back calls took
(`timing.serve`; `peers.ChildSession` is the other side).
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


_fg_s = 0.0
_fg_i = 0.0


def float_globals(n: int) -> float:
    # (module globals, as the workload's GetVar/SetVar are the VM's)
    global _fg_s, _fg_i
    _fg_s = 0.0
    _fg_i = 0.0
    while _fg_i < n:
        _fg_s = _fg_i * 0.5 + _fg_s
        _fg_i = _fg_i + 1.0
    return _fg_s


_WORDS: dict[int, list[str]] = {}


def word_list(n: int) -> list[str]:
    """`n` words from a vocabulary of 100 (`w0` .. `w99`), each 1 in 100 of them (made once
    per size: the workload's chunk holds them as a constant)."""
    words = _WORDS.get(n)
    if words is None:
        words = _WORDS[n] = [f"w{i * 37 % 100}" for i in range(n)]
    return words


def word_count(n: int) -> float:
    words = word_list(n)
    counts: dict[str, float] = {}
    for w in words:
        counts[w] = counts.get(w, 0.0) + 1
    return counts["w7"]


def string_concat(n: int) -> str:
    s = ""
    i = 0
    while i < n:
        s = s + str(i % 10)
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


def xor_mix(n: int) -> int:
    total = 0
    i = 0
    while True:
        total += (i * 3) ^ (i >> 1)
        i += 1
        if not i < n:
            return total


def branchy(n: int) -> int:
    x, acc, i = 12345, 0, 0
    while True:
        x = (x * 75 + 74) % 65537
        if x & 1:
            acc += x
        else:
            acc -= i
        i += 1
        if not i < n:
            return acc


def nested(n: int, m: int) -> int:
    total = 0
    i = 0
    while True:
        j = 0
        while True:
            total += (i * j) ^ (i + j)
            j += 1
            if not j < m:
                break
        i += 1
        if not i < n:
            return total


def collatz(k: int) -> int:
    total = 0
    start = 1
    while True:
        n = start
        while n != 1:
            n = 3 * n + 1 if n & 1 else n >> 1
            total += 1
        start += 1
        if not start < k + 1:
            return total


#: Every twin by name (the name a Workload and the peers refer to it by).
TWINS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (
        counter_loop, loop_with_branch, fib_iterative, fib_recursive, ackermann, sum_loop,
        sum_builtin, nested_loop, empty_loop, string_build, float_globals, word_count,
        string_concat, array_push, slot_mixed,
        slot_bitwise, slot_float, xor_mix, branchy, nested, collatz)
}


def _main(argv: list[str]) -> int:
    """Serve timed batches of one twin's calls (the peer side of `peers.ChildSession`)."""
    import importlib.util
    import os

    if len(argv) != 4 or argv[0] != "serve":
        print("usage: twins.py serve NAME ARGS_JSON CLOCK", file=sys.stderr)
        return 2
    name, args, clock = argv[1], json.loads(argv[2]), argv[3]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timing.py")
    spec = importlib.util.spec_from_file_location("_fusevm_bench_timing", path)
    assert spec is not None and spec.loader is not None
    timing = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = timing  # dataclasses looks the module up while decorating
    spec.loader.exec_module(timing)
    fn = TWINS[name]
    print(json.dumps({"result": fn(*args), "clock": timing.CLOCK_NAMES[clock]}), flush=True)
    timing.serve(lambda: fn(*args), clock, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
