"""Loop versioning (`fusevm.baseline.growth`): how a counted loop's integers grow, the
guard on entry, and the code behind it against the interpreter (results, wrapping, strict
overflow errors), in direct forms (`direct.versioned_loop`) and in region code, with the
counters showing which code ran: the loop without its 64-bit checks, or the checked form
restarted (direct forms) or the generic code (region code)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusevm import VM, Interrupted, VMError
from fusevm.asm import assemble
from fusevm.baseline import calls, compiler, direct, growth, tripcount
from fusevm.baseline.regions import plan
from fusevm.chunk import Chunk
from fusevm.loops import loop_facts
from fusevm.values import INT_MAX, INT_MIN

from baseline_kit import SUMS, agree, budget_stops, interrupt_once_compiled, outcome

FIELDS = ("result", "error", "output", "slots", "ip", "stack", "backtrace")

#: Iterative fib(n) in a function, called once from the root.
FIB = SUMS.replace("{a}", "0")

#: n times {body} over slots 0-2 while slot 3 counts down, then the sum of slots 0-2.
LOOP = """{prologue}loop:
    GetSlot 3
    LoadInt 0
    NumLe
    JumpIfTrue done
{body}    GetSlot 3
    Dec
    SetSlot 3
    Jump loop
done:
    GetSlot 0
    GetSlot 1
    Add
    GetSlot 2
    Add
"""

#: f(a0, a1, a2, n): LOOP in a function called once from the root.
LINEAR = """
    LoadInt {a0}
    LoadInt {a1}
    LoadInt {a2}
    LoadInt {n}
    Call f 4
    Jump end
.sub f
    SetSlot 3
    SetSlot 2
    SetSlot 1
    SetSlot 0
""" + LOOP + "    ReturnValue\nend:\n"


def both(text: str, strict: bool = False) -> tuple[Any, dict[str, float]]:
    """Run `text` in the interpreter and in the baseline tier (every region compiled at
    its first entry); they must agree. The baseline's outcome and the direct counters'
    changes."""
    chunk = assemble(text, source="growth.fasm")
    ref = outcome(chunk, False, strict, runs=1)
    before = calls.STATS.as_dict()
    got = outcome(assemble(text, source="growth.fasm"), True, strict, threshold=1, runs=1)
    after = calls.STATS.as_dict()
    agree(ref, got, *FIELDS)
    return got, {k: after[k] - before[k] for k in after}


def the_loop(text: str) -> tuple[Chunk, int, growth.Growth | None]:
    chunk = assemble(text)
    facts = loop_facts(chunk)
    (h,) = [h for h in facts.back_edges if h > chunk.sub_entries[0][1]]
    return chunk, h, growth.growth(chunk, facts, h, 0)


def test_fib_grows_geometrically_and_its_temporary_needs_no_bound() -> None:
    _, _, g = the_loop(FIB.format(n=10))
    assert g is not None and g.order is None  # a and b feed each other
    assert g.forms[1] == ({0: 1, 1: 1}, 0) and g.forms[0] == ({1: 1}, 0)
    assert g.forms[2] == ({2: 1}, 1)  # the counter
    assert 3 not in g.slots  # t is written before it is read: dead at the header
    assert g.bound == (INT_MAX - g.offset) // g.spread


def test_a_sum_grows_polynomially_after_what_it_adds() -> None:
    body = "    GetSlot 0\n    GetSlot 1\n    Add\n    SetSlot 0\n" \
           "    GetSlot 1\n    LoadInt 3\n    Add\n    SetSlot 1\n"
    _, _, g = the_loop(LINEAR.format(a0=0, a1=0, a2=0, n=5, prologue="", body=body))
    assert g is not None and g.order is not None
    assert g.order.index(1) < g.order.index(0)  # s after i, which it adds
    assert g.forms[0] == ({0: 1, 1: 1}, 0) and g.forms[1] == ({1: 1}, 3)


def test_a_product_leaves_its_slot_unbounded() -> None:
    body = "    GetSlot 0\n    GetSlot 0\n    Mul\n    SetSlot 0\n" \
           "    GetSlot 1\n    LoadInt 1\n    Add\n    SetSlot 1\n"
    _, _, g = the_loop(LINEAR.format(a0=2, a1=0, a2=0, n=5, prologue="", body=body))
    assert g is not None and 0 not in g.forms and g.forms[1] == ({1: 1}, 1)


def test_the_guard_is_a_bound_the_loop_keeps() -> None:
    # Run the guard's own expression, then the loop in Python's ints: whenever the guard
    # holds, no value the loop computes leaves 64 bits, and each slot stays in bound.
    _, _, g = the_loop(FIB.format(n=10))
    assert g is not None
    test = compile(growth.guard_source(g, lambda k: f"l{k}", "g_"), "<guard>", "eval")
    for n in range(-3, 120):
        a, b = 0, 1
        if not eval(test, {"l0": a, "l1": b, "l2": n}):  # noqa: S307
            assert n > 40
            continue
        for _ in range(max(n, 0)):
            assert max(abs(a), abs(b)) <= g.bound
            a, b = b, a + b
            assert INT_MIN <= b <= INT_MAX


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("n", [0, 1, 2, 35, 55, 56, 58, 90, 92, 93, 150, -4])
def test_fib_agrees_with_the_interpreter(n: int, strict: bool) -> None:
    got, counted = both(FIB.format(n=n), strict)
    assert counted["direct_entries"] == 1  # the root called fib's integer form
    # Small n: the loop ran without its checks; the guard sends the others to the
    # checked form, which wraps (or raises, strict) where the interpreter does.
    assert counted["versioned_fallbacks"] == (0 if n <= 55 else 1)  # (n + 1) << (n + 1) < 2 ** 62
    if strict and n >= 92:
        assert got.error is not None and got.error[0] == "IntegerOverflow"


def test_only_loops_reached_by_a_restartable_prologue_are_versioned() -> None:
    body = "    GetSlot 0\n    GetSlot 1\n    Add\n    SetSlot 0\n"
    cases = {
        "": True,  # the arguments' SetSlots alone
        "    LoadInt 5\n    SetSlot 4\n": True,  # sets its own slots from constants
        "    LoadInt 5\n    PrintLn 1\n": False,  # an effect would happen twice
        "    LoadInt 5\n    SetSlot 3\n": False,  # an argument's slot: its value is gone
    }
    for prologue, versioned in cases.items():
        chunk = assemble(LINEAR.format(a0=1, a1=2, a2=3, n=4, prologue=prologue, body=body))
        cp = plan(chunk)
        (region,) = [r for r in cp.regions if r.entry == chunk.sub_entries[0][1]]
        assert (direct.versioned_loop(chunk, cp, region) is not None) == versioned, prologue
        both(LINEAR.format(a0=1, a1=2, a2=3, n=4, prologue=prologue, body=body))


#: One statement of a random loop body: slot[a] = slot[b] op (slot[c] | constant).
_STATEMENT = st.tuples(st.integers(0, 2), st.integers(0, 2),
                       st.one_of(st.integers(0, 2), st.integers(-5, 5).map(lambda k: ("k", k))),
                       st.sampled_from(["Add", "Sub"]))
_VALUE = st.one_of(st.integers(-1000, 1000), st.integers(INT_MIN, INT_MAX),
                   st.sampled_from([INT_MAX, INT_MIN, INT_MAX // 2, -(1 << 62), 1 << 40]))


@settings(max_examples=60, deadline=None)
@given(st.lists(_STATEMENT, min_size=1, max_size=4), st.tuples(_VALUE, _VALUE, _VALUE),
       st.integers(-2, 70), st.booleans())
def test_random_linear_loops_agree(statements: list[Any], args: tuple[int, int, int],
                                   n: int, strict: bool) -> None:
    body = ""
    for a, b, c, op in statements:
        other = f"LoadInt {c[1]}" if isinstance(c, tuple) else f"GetSlot {c}"
        body += f"    GetSlot {b}\n    {other}\n    {op}\n    SetSlot {a}\n"
    text = LINEAR.format(a0=args[0], a1=args[1], a2=args[2], n=n, prologue="", body=body)
    _, counted = both(text, strict)
    assert counted["direct_entries"] == 1


#: A loop in the root: s += i + k while ++i < limit, its slots set by the host (`seed`
#: empty: the region is entered at the loop's header) or by its own code first.
ROOT = """
{seed}loop:
    GetSlot 0
    GetSlot 1
    Add
    LoadInt {k}
    Add
    SetSlot 0
    PreIncSlotVoid 1
    GetSlot 1
    LoadInt {limit}
    NumLt
    JumpIfTrue loop
    GetSlot 0
"""


def root_run(text: str, slots: tuple[int, ...], baseline: bool, strict: bool) -> Any:
    """Run `text` with its first slots set to `slots` (the baseline tier compiling at a
    hot point's first entry): result, slots and error."""
    vm = VM(assemble(text, source="root.fasm"), baseline=baseline, strict_int=strict)
    if baseline:
        vm._tiers.region_threshold = 1
    vm.slots[:len(slots)] = list(slots)
    try:
        return vm.run(), list(vm.slots), None
    except VMError as e:
        return None, list(vm.slots), (type(e).__name__, e.op, e.ip, e.line)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize(("s0", "i0", "k", "limit", "versioned"), [
    (0, 0, 1, 10_000, True),
    (-5, 3, -7, 5_000, True),
    (INT_MAX - 10, 0, 1, 100, False),  # the sum leaves 64 bits at once
    (1 << 61, 0, 1 << 58, 100, False),  # it may leave them: the guard cannot bound it
    (0, -(1 << 62), 1, -(1 << 62) + 50, False),
])
def test_a_root_loop_agrees_with_the_interpreter(s0: int, i0: int, k: int, limit: int,
                                                 versioned: bool, strict: bool) -> None:
    # Entered at the loop's header (the region's entry, its step checking the guard), or
    # from the root's own code setting the slots first (the edge into the loop checks it).
    for seed in ("    Nop\n", f"    LoadInt {s0}\n    SetSlot 0\n    LoadInt {i0}\n"
                 "    SetSlot 1\n"):
        text = ROOT.format(seed=seed, k=k, limit=limit)
        chunk = assemble(text)
        (h,) = loop_facts(chunk).back_edges
        cp = plan(chunk)
        assert h in growth.region_loops(chunk, cp.regions[0], cp.analysis.depth)
        ref = root_run(text, (s0, i0), False, strict)
        before = {**calls.STATS.as_dict(), **compiler.COUNTERS.as_dict()}
        got = root_run(text, (s0, i0), True, strict)
        after = {**calls.STATS.as_dict(), **compiler.COUNTERS.as_dict()}
        assert ref == got
        assert after["runs"] == before["runs"] + 1  # the region's code ran
        # Where the guard holds, the loop ran in the code that assumes it: nothing else.
        failed = after["versioned_fallbacks"] + after["generic"] - before[
            "versioned_fallbacks"] - before["generic"]
        assert (failed == 0) == versioned, (seed, ref)


@settings(max_examples=60, deadline=None)
@given(st.lists(_STATEMENT, min_size=1, max_size=4), st.tuples(_VALUE, _VALUE, _VALUE),
       st.integers(-2, 70), st.booleans(), st.booleans())
def test_random_linear_root_loops_agree(statements: list[Any], args: tuple[int, int, int],
                                        n: int, strict: bool, seeded: bool) -> None:
    body = ""
    for a, b, c, op in statements:
        other = f"LoadInt {c[1]}" if isinstance(c, tuple) else f"GetSlot {c}"
        body += f"    GetSlot {b}\n    {other}\n    {op}\n    SetSlot {a}\n"
    values = (*args, n)
    prologue = "".join(f"    LoadInt {v}\n    SetSlot {k}\n" for k, v in enumerate(values)) \
        if seeded else "    Nop\n"
    text = LOOP.format(prologue=prologue, body=body)
    ref = root_run(text, values, False, strict)
    assert root_run(text, values, True, strict) == ref



#: sum(n): s, i = 0, 0; n times s += i, i += 1; s. A function whose loop is versioned.
SUM = """
    LoadInt 1
    LoadInt {n}
    Call sum 1
    Add
    Jump end
.sub sum
    SetSlot 2
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
loop:
    GetSlot 2
    LoadInt 0
    NumLe
    JumpIfTrue done
    GetSlot 0
    GetSlot 1
    Add
    SetSlot 0
    GetSlot 1
    Inc
    SetSlot 1
    GetSlot 2
    Dec
    SetSlot 2
    Jump loop
done:
    GetSlot 0
    ReturnValue
end:
"""


def test_an_interrupt_in_a_versioned_loop_resumes_exactly() -> None:
    n = 3_000_000
    chunk = assemble(SUM.format(n=n), source="sum.fasm")
    cp = plan(chunk)
    (region,) = [r for r in cp.regions if r.entry == chunk.sub_entries[0][1]]
    assert direct.versioned_loop(chunk, cp, region) is not None
    vm = VM(chunk)
    vm._tiers.region_threshold = 1
    before = calls.STATS.as_dict()
    watcher = interrupt_once_compiled(vm)
    with pytest.raises(Interrupted):
        vm.run()  # left at the loop's header, every slot written back
    watcher.join()
    after = calls.STATS.as_dict()
    assert after["direct_unwinds"] == before["direct_unwinds"] + 1
    assert after["versioned_fallbacks"] == before["versioned_fallbacks"]
    assert len(vm.frames) == 2 and vm.stack == [1]
    assert vm.run() == 1 + n * (n - 1) // 2


def test_a_geometric_guard_bounds_the_iterations_an_additive_one_does_not() -> None:
    _, _, fib = the_loop(FIB.format(n=10))
    assert fib is not None and fib.growth_bits == 1 and fib.most_entries == 62
    _, _, total = the_loop(SUM.format(n=10))
    assert total is not None and total.growth_bits == 0 and total.most_entries is None


#: fib(40) called {n} times from a loop of the root, the sum of the results.
FIB_CALLS = """
    LoadInt 0
    SetSlot 0
    LoadInt 0
    SetSlot 1
again:
    GetSlot 1
    LoadInt {n}
    NumLt
    JumpIfFalse end
    GetSlot 0
    LoadInt 40
    Call sums 1
    Add
    SetSlot 0
    PreIncSlotVoid 1
    Jump again
.sub sums
""" + SUMS.split(".sub sums\n", 1)[1].replace("{a}", "0").replace("end:\n", "") + """end:
    GetSlot 0
"""


def test_a_loop_its_guard_bounds_below_the_poll_interval_is_not_polled() -> None:
    # fib's loop runs at most 62 times from an entry its guard passes: the integer form
    # writes it as a plain loop, with no poll and no test on its back edge (the checked
    # form, and the additive sum's loop, keep theirs); calls of it still stop at an
    # interrupt, and resume exactly.
    chunk = assemble(FIB.format(n=40))
    code = direct.source(chunk)[0]
    integer, checked = code.split("def d", 2)[1:3]
    assert "for _ in ticks" not in integer and "_interrupt_pending" in integer
    assert "for _ in ticks" in checked
    total = assemble(SUM.format(n=40))
    assert "for _ in ticks" in direct.source(total)[0].split("def d", 2)[1]
    n = 400_000
    chunk = assemble(FIB_CALLS.format(n=n), source="fibs.fasm")
    got, counters = both(FIB_CALLS.format(n=300))
    assert got.result == 300 * 102334155 and counters["versioned_fallbacks"] == 0
    vm = VM(chunk)
    vm._tiers.region_threshold = 1
    watcher = interrupt_once_compiled(vm)
    with pytest.raises(Interrupted):
        vm.run()
    watcher.join()
    assert vm.run() == n * 102334155


def test_a_budget_stops_a_versioned_loop_where_the_interpreter_does() -> None:
    chunk = assemble(SUM.format(n=500), source="sum.fasm")
    outcomes = [budget_stops(chunk, baseline, 613) for baseline in (False, True)]
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == 1 + 500 * 499 // 2


#: A jump from before the loop into its body, past its header (and its guard).
INTO_BODY = """
{seed}    GetSlot 1
    JumpIfTrue mid
top:
    GetSlot 0
    LoadInt 10
    NumLt
    JumpIfFalse done
mid:
    GetSlot 1
    GetSlot 0
    Add
    SetSlot 1
    GetSlot 0
    Inc
    SetSlot 0
    Jump top
done:
    GetSlot 1
"""


@pytest.mark.parametrize("seed", [
    "", "    LoadInt 0\n    SetSlot 0\n    LoadInt 1\n    SetSlot 1\n"])
def test_a_loop_entered_past_its_header_is_not_versioned(seed: str) -> None:
    # With the slots set by the host the loop is counted, and only its entry past the
    # header keeps it from being versioned.
    text = INTO_BODY.format(seed=seed)
    chunk = assemble(text)
    facts = loop_facts(chunk)
    (h,) = facts.back_edges
    assert (tripcount.counted(chunk, facts, h) is not None) == (seed == "")
    assert growth.growth(chunk, facts, h, 0) is None
    for slots in ((0, INT_MAX - 3), (0, 5), (9, -2)):
        for strict in (False, True):
            assert root_run(text, slots, False, strict) == root_run(text, slots, True, strict)


#: A counted loop storing INT_MIN (a constant no bound on the slots keeps a sum of in 64
#: bits) and shifting by its counter, whose interval the code behind a guard would assume.
INT_MIN_STORED = """
    LoadInt 0
    SetSlot 1
loop:
    LoadInt -9223372036854775808
    SetSlot 2
    LoadInt 1
    GetSlot 1
    Shl
    SetSlot 3
    PreIncSlotVoid 1
    GetSlot 1
    LoadInt 4
    NumLt
    JumpIfTrue loop
    GetSlot 3
"""


def test_a_loop_no_bound_can_keep_in_64_bits_is_not_versioned() -> None:
    # |INT_MIN| exceeds INT_MAX: no slot value passes such a guard, and the intervals the
    # code behind it would assume are empty (the shift's interval raised ValueError).
    chunk = assemble(INT_MIN_STORED)
    facts = loop_facts(chunk)
    (h,) = facts.back_edges
    assert tripcount.counted(chunk, facts, h) is not None
    assert growth.growth(chunk, facts, h, 0) is None
    for slots in ((0,), (0, 2), (7, -3)):
        for strict in (False, True):
            ref = root_run(INT_MIN_STORED, slots, False, strict)
            assert ref[0] == 8
            assert root_run(INT_MIN_STORED, slots, True, strict) == ref
