"""JIT benchmark workloads: the canonical loops, loops LLVM cannot fold, straight-line chunks.

Each builder returns a `workloads.Workload` whose `reference()` chunk is the listing below
(hand-fused ops as written) and whose `expected` is computed by a plain Python reference
with the VM's wrapping Int semantics:

- `counter_loop(n)`, `loop_with_branch(n)`: the canonical loops' layout. LLVM's O2
  pipeline folds both to a closed form, so they mostly measure call overhead;
- `xor_mix(n)`: `sum += (i*3) ^ (i>>1)` for i < n (the xor prevents a closed form);
- `branchy(n)`: an LCG `x = (x*75 + 74) % 65537` whose low bit picks `acc += x` or
  `acc -= i`: a data-dependent branch every iteration;
- `nested(n, m)`: `sum += (i*j) ^ (i+j)` over n x m;
- `collatz(k)`: total Collatz steps for the starting values 1..k (`collatz(1500)` takes
  95,708 steps), an inner loop of data-dependent length;
- `slot_mixed(n)`, `slot_bitwise(n)`, `slot_float(n)`: straight-line code, for the linear tier.

`WORKLOADS` contributes the non-foldable loops at about 100k iterations to the harness
(the canonical loops and the straight-line chunks are already in `workloads.py`). Their
twins, timed in the same `fusevm bench` run, are `twins.py` (CPython in process, pypy3)
and `lua_twins.py` (luajit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fusevm.bench.workloads import (
    Emitter,
    Workload,
    counter_loop_emitter,
    loop_with_branch_emitter,
)
from fusevm.ops import Op
from fusevm.values import wrap64

Emit = Callable[[Emitter], None]


def _workload(name: str, description: str, emit: Emit, expected: object,
              slots: tuple[object, ...] = (), small: Workload | None = None,
              twin: str | None = None, twin_args: tuple[object, ...] = ()) -> Workload:
    return Workload(name, "jit", description, emit, expected, twin, twin_args, slots=slots,
                    shrunk=small)


# -- The canonical loops ----------------------------------------------------------------------

def counter_loop(n: int) -> Workload:
    """`i = 0; do { i += 1 } while (i < n); return i` (5 ops per iteration)."""
    return _workload(f"jit_counter_loop_{n}", f"counter loop, N = {n:,}",
                     counter_loop_emitter(n), max(n, 1), twin="counter_loop", twin_args=(n,))


def loop_with_branch(n: int) -> Workload:
    """The counter loop with an always-taken `if (i > 0) { nop }` (10 ops per iteration)."""
    emit = loop_with_branch_emitter(n)
    return _workload(f"jit_loop_with_branch_{n}", f"loop with a branch, N = {n:,}", emit,
                     max(n, 1), twin="loop_with_branch", twin_args=(n,))


# -- Loops LLVM cannot fold -------------------------------------------------------------------

def xor_mix_expected(n: int) -> int:
    total = 0
    for i in range(max(n, 1)):
        total = wrap64(total + ((i * 3) ^ (i >> 1)))
    return total


def xor_mix(n: int) -> Workload:
    """`sum = 0; i = 0; do { sum += (i*3) ^ (i>>1); i += 1 } while (i < n); return sum`."""
    def emit(e: Emitter) -> None:
        top = e.label("top")
        for slot in (0, 1):
            e.op(Op.LoadInt, 0)
            e.op(Op.SetSlot, slot)
        e.bind(top)
        e.op(Op.GetSlot, 0)
        e.op(Op.GetSlot, 1)
        e.op(Op.LoadInt, 3)
        e.op(Op.Mul)
        e.op(Op.GetSlot, 1)
        e.op(Op.LoadInt, 1)
        e.op(Op.Shr)
        e.op(Op.BitXor)
        e.op(Op.Add)
        e.op(Op.SetSlot, 0)
        e.fused(Op.SlotIncLtIntJumpBack, 1, n, top)
        e.op(Op.GetSlot, 0)
    return _workload(f"xor_mix_{_k(n)}", f"sum += (i*3) ^ (i>>1), N = {n:,}", emit,
                     xor_mix_expected(n), twin="xor_mix", twin_args=(n,))


def branchy_expected(n: int) -> int:
    x, acc = 12345, 0
    for i in range(max(n, 1)):
        x = (x * 75 + 74) % 65537
        acc = wrap64(acc + x) if x & 1 else wrap64(acc - i)
    return acc


def branchy(n: int) -> Workload:
    """An LCG whose low bit chooses `acc += x` or `acc -= i`, N iterations."""
    def emit(e: Emitter) -> None:
        top, even, step = e.label("top"), e.label("even"), e.label("step")
        for slot, value in ((0, 12345), (1, 0), (2, 0)):
            e.op(Op.LoadInt, value)
            e.op(Op.SetSlot, slot)
        e.bind(top)
        e.op(Op.GetSlot, 0)
        e.op(Op.LoadInt, 75)
        e.op(Op.Mul)
        e.op(Op.LoadInt, 74)
        e.op(Op.Add)
        e.op(Op.LoadInt, 65537)
        e.op(Op.Mod)
        e.op(Op.SetSlot, 0)                                   # x = (x*75 + 74) % 65537
        e.op(Op.GetSlot, 0)
        e.op(Op.LoadInt, 1)
        e.op(Op.BitAnd)
        e.op(Op.JumpIfFalse, even)
        e.op(Op.GetSlot, 1)
        e.op(Op.GetSlot, 0)
        e.op(Op.Add)
        e.op(Op.SetSlot, 1)                                   # acc += x
        e.op(Op.Jump, step)
        e.bind(even)
        e.op(Op.GetSlot, 1)
        e.op(Op.GetSlot, 2)
        e.op(Op.Sub)
        e.op(Op.SetSlot, 1)                                   # acc -= i
        e.bind(step)
        e.fused(Op.SlotIncLtIntJumpBack, 2, n, top)
        e.op(Op.GetSlot, 1)
    return _workload(f"branchy_{_k(n)}", f"LCG with a data-dependent branch, N = {n:,}", emit,
                     branchy_expected(n), twin="branchy", twin_args=(n,))


def nested_expected(n: int, m: int) -> int:
    total = 0
    for i in range(max(n, 1)):
        for j in range(max(m, 1)):
            total = wrap64(total + ((i * j) ^ (i + j)))
    return total


def nested(n: int, m: int) -> Workload:
    """`sum += (i*j) ^ (i+j)` for i < n, j < m (bottom-tested loops, fused back-edges)."""
    def emit(e: Emitter) -> None:
        outer, inner = e.label("outer"), e.label("inner")
        for slot in (0, 1):
            e.op(Op.LoadInt, 0)
            e.op(Op.SetSlot, slot)
        e.bind(outer)
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 2)
        e.bind(inner)
        e.op(Op.GetSlot, 0)
        e.op(Op.GetSlot, 1)
        e.op(Op.GetSlot, 2)
        e.op(Op.Mul)
        e.op(Op.GetSlot, 1)
        e.op(Op.GetSlot, 2)
        e.op(Op.Add)
        e.op(Op.BitXor)
        e.op(Op.Add)
        e.op(Op.SetSlot, 0)
        e.fused(Op.SlotIncLtIntJumpBack, 2, m, inner)
        e.fused(Op.SlotIncLtIntJumpBack, 1, n, outer)
        e.op(Op.GetSlot, 0)
    return _workload(f"nested_{n}x{m}", f"sum += (i*j) ^ (i+j) over {n} x {m}", emit,
                     nested_expected(n, m), twin="nested", twin_args=(n, m))


def collatz_expected(k: int) -> int:
    total = 0
    for start in range(1, max(k, 1) + 1):
        n = start
        while n != 1:
            n = n >> 1 if n & 1 == 0 else 3 * n + 1
            total += 1
    return total


def collatz(k: int) -> Workload:
    """Total Collatz steps over the starting values 1..k (Shr and BitAnd, no Div)."""
    def emit(e: Emitter) -> None:
        outer, inner, even = e.label("outer"), e.label("inner"), e.label("even")
        count, done = e.label("count"), e.label("done")
        e.op(Op.LoadInt, 0)
        e.op(Op.SetSlot, 0)                                   # total
        e.op(Op.LoadInt, 1)
        e.op(Op.SetSlot, 1)                                   # start
        e.bind(outer)
        e.op(Op.GetSlot, 1)
        e.op(Op.SetSlot, 2)                                   # n = start
        e.bind(inner)
        e.op(Op.GetSlot, 2)
        e.op(Op.LoadInt, 1)
        e.op(Op.NumEq)
        e.op(Op.JumpIfTrue, done)
        e.op(Op.GetSlot, 2)
        e.op(Op.LoadInt, 1)
        e.op(Op.BitAnd)
        e.op(Op.JumpIfFalse, even)
        e.op(Op.GetSlot, 2)
        e.op(Op.LoadInt, 3)
        e.op(Op.Mul)
        e.op(Op.Inc)
        e.op(Op.SetSlot, 2)                                   # n = 3n + 1
        e.op(Op.Jump, count)
        e.bind(even)
        e.op(Op.GetSlot, 2)
        e.op(Op.LoadInt, 1)
        e.op(Op.Shr)
        e.op(Op.SetSlot, 2)                                   # n = n >> 1
        e.bind(count)
        e.fused(Op.PreIncSlotVoid, 0)
        e.op(Op.Jump, inner)
        e.bind(done)
        e.fused(Op.SlotIncLtIntJumpBack, 1, k + 1, outer)
        e.op(Op.GetSlot, 0)
    return _workload(f"collatz_{k}", f"Collatz steps for 1..{k:,}", emit, collatz_expected(k),
                     twin="collatz", twin_args=(k,))


# -- Straight-line chunks for the linear tier --------------------------------------------------

def _straight(name: str, description: str, body: tuple[tuple[Op, object], ...], times: int,
              start: object, expected: Callable[[object], object],
              twin: str | None) -> Workload:
    def emit(e: Emitter) -> None:
        e.op(Op.GetSlot, 0)
        for _ in range(times):
            for op, operand in body:
                if operand is None:
                    e.op(op)
                else:
                    e.op(op, operand)
    return _workload(name, description, emit, expected(start), slots=(start,), twin=twin,
                     twin_args=(start,))


def _mixed(x: object, times: int) -> int:
    assert isinstance(x, int)
    for _ in range(times):
        x = wrap64(wrap64(wrap64(x * 3) + 7) - 2)
    return x


def _bitwise(x: object, times: int) -> int:
    assert isinstance(x, int)
    for _ in range(times):
        x = wrap64((x & 0xFF) << 3) ^ 0x1234
    return x


def _float(x: object, times: int) -> float:
    assert isinstance(x, int | float)
    f = float(x)
    for _ in range(times):
        f = (f + 0.1) * 1.001
    return f


def slot_mixed(times: int = 100, start: int = 42) -> Workload:
    """`GetSlot 0` then times x (`*3 +7 -2`), wrapping (601 ops for 100)."""
    body = ((Op.LoadInt, 3), (Op.Mul, None), (Op.LoadInt, 7), (Op.Add, None),
            (Op.LoadInt, 2), (Op.Sub, None))
    return _straight(f"jit_slot_mixed_{times}", f"{times} x (*3 +7 -2)", body, times, start,
                     lambda x: _mixed(x, times), "slot_mixed" if times == 100 else None)


def slot_bitwise(times: int = 200, start: int = 0xDEADBEEF) -> Workload:
    """`GetSlot 0` then times x (`&0xFF <<3 ^0x1234`) (1201 ops for 200)."""
    body = ((Op.LoadInt, 0xFF), (Op.BitAnd, None), (Op.LoadInt, 3), (Op.Shl, None),
            (Op.LoadInt, 0x1234), (Op.BitXor, None))
    return _straight(f"jit_slot_bitwise_{times}", f"{times} x (&0xFF <<3 ^0x1234)", body,
                     times, start, lambda x: _bitwise(x, times),
                     "slot_bitwise" if times == 200 else None)


def slot_float(times: int = 200, start: int = 1) -> Workload:
    """`GetSlot 0` (an Int) then times x (`+0.1 *1.001`), promoted to Float (801 ops)."""
    body = ((Op.LoadFloat, 0.1), (Op.Add, None), (Op.LoadFloat, 1.001), (Op.Mul, None))
    return _straight(f"jit_slot_float_{times}", f"{times} x ((x + 0.1) * 1.001)", body, times,
                     start, lambda x: _float(x, times), "slot_float" if times == 200 else None)


def _k(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 and n >= 1000 else str(n)


#: The loops LLVM cannot fold, at about 100k iterations each, for the harness and
#: benchmarks/bench_jit.py; `shrunk` copies are small enough for correctness tests.
NON_FOLDABLE: Final[tuple[Callable[[], Workload], ...]] = (
    lambda: xor_mix(100_000), lambda: branchy(100_000), lambda: nested(316, 316),
    lambda: collatz(1500))


def _with_small(big: Workload, small: Workload) -> Workload:
    return Workload(big.name, big.group, big.description, big.emit, big.expected, big.twin,
                    big.twin_args, slots=big.slots, shrunk=small)


WORKLOADS: Final[tuple[Workload, ...]] = (
    _with_small(xor_mix(100_000), xor_mix(100)),
    _with_small(branchy(100_000), branchy(100)),
    _with_small(nested(316, 316), nested(10, 10)),
    _with_small(collatz(1500), collatz(20)),
)


# -- Trace-tier programs (assembler text, `{n}` iterations) ----------------------------------
# The trace tier's goals name these two loops (benchmarks/bench_trace.py); its tests run
# the same programs (tests/jit/test_trace.py).

#: A Float loop over globals: s += i * 0.5 while i < n.
FLOAT_GLOBALS: Final = """
    LoadFloat 0.0
    SetVar s
    LoadFloat 0.0
    SetVar i
top:
    GetVar i
    LoadFloat {n}.0
    NumLt
    JumpIfFalse done
    GetVar i
    LoadFloat 0.5
    Mul
    GetVar s
    Add
    SetVar s
    GetVar i
    LoadFloat 1.0
    Add
    SetVar i
    Jump top
done:
    GetVar s
    ReturnValue
"""

#: A loop calling a small function with a branch: s += f(i), f(x) = 2x or x + 1.
CALLS: Final = """
    LoadInt 0
    SetVar s
    LoadInt 0
    SetVar i
top:
    GetVar i
    LoadInt {n}
    NumLt
    JumpIfFalse done
    GetVar s
    GetVar i
    Call f 1
    Add
    SetVar s
    GetVar i
    LoadInt 1
    Add
    SetVar i
    Jump top
done:
    GetVar s
    ReturnValue
.sub f
    SetSlot 0
    GetSlot 0
    LoadInt 3
    Mod
    LoadInt 0
    NumEq
    JumpIfFalse odd
    GetSlot 0
    LoadInt 2
    Mul
    ReturnValue
odd:
    GetSlot 0
    LoadInt 1
    Add
    ReturnValue
"""

#: fib(20) and ackermann(3, 4) called `{reps}` times in one run (and once more for the
#: result): what a call costs inside a running program, without a VM to set up per call.
#: `repeated_twin` is the same in Python.
_REPEAT: Final = """
    LoadInt 0
    SetSlot 0
top:
    {args}
    Call {name} {argc}
    Pop
    GetSlot 0
    Inc
    SetSlot 0
    GetSlot 0
    LoadInt {reps}
    NumLt
    JumpIfTrue top
    {args}
    Call {name} {argc}
    ReturnValue
"""

FIB_SUB: Final = """
.sub fib
    SetSlot 0
    GetSlot 0
    LoadInt 1
    NumLe
    JumpIfFalse more
    GetSlot 0
    ReturnValue
more:
    GetSlot 0
    Dec
    Call fib 1
    GetSlot 0
    LoadInt 2
    Sub
    Call fib 1
    Add
    ReturnValue
"""

ACK_SUB: Final = """
.sub ack
    SetSlot 1
    SetSlot 0
    GetSlot 0
    LoadInt 0
    NumEq
    JumpIfFalse a
    GetSlot 1
    Inc
    ReturnValue
a:
    GetSlot 1
    LoadInt 0
    NumEq
    JumpIfFalse b
    GetSlot 0
    Dec
    LoadInt 1
    Call ack 2
    ReturnValue
b:
    GetSlot 0
    GetSlot 1
    Dec
    Call ack 2
    GetSlot 0
    Dec
    Swap
    Call ack 2
    ReturnValue
"""

FIB_REPEATED: Final = _REPEAT.replace("{args}", "LoadInt 20").replace(
    "{name}", "fib").replace("{argc}", "1") + FIB_SUB
ACK_REPEATED: Final = _REPEAT.replace("{args}", "LoadInt 3\n    LoadInt 4").replace(
    "{name}", "ack").replace("{argc}", "2") + ACK_SUB


def repeated_twin(fn: Callable[..., int], args: tuple[int, ...], reps: int
                  ) -> Callable[[], int]:
    """CPython running `fn(*args)` reps + 1 times, like FIB_REPEATED / ACK_REPEATED."""
    def run() -> int:
        for _ in range(reps):
            fn(*args)
        return fn(*args)
    return run
