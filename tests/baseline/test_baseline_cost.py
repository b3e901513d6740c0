"""When the baseline tier compiles: the cost model of `baseline.compiler.worth_after`."""

from __future__ import annotations

from fusevm import VM
from fusevm.asm import assemble
from fusevm.baseline import compiler
from fusevm.baseline.regions import plan
from fusevm.bench.jit_workloads import FIB_SUB
from fusevm.loops import loop_facts

LOOP = """
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    LoadInt 2
    Mod
    JumpIfFalse even
    GetSlot 0
    LoadInt 3
    Mul
    Pop
even:
    PreIncSlotVoid 0
    GetSlot 0
    LoadInt {n}
    NumLt
    JumpIfTrue top
    GetSlot 0
"""

#: fib(n) with the benchmarks' fib body (`FIB_SUB`).
FIB = "    LoadInt {n}\n    Call fib 1\n    Jump done\n" + FIB_SUB + "done:\n"


def _fib(n: int) -> str:
    return FIB.format(n=n)


def test_least_work_takes_the_cheapest_iteration() -> None:
    chunk = assemble(LOOP.format(n=10), source="least.fasm")
    VM(chunk)
    cp, facts = plan(chunk), loop_facts(chunk)
    (header,) = facts.back_edges
    region = cp.regions[cp.region_of[header]]
    # The odd path's four ops do not count: the cheapest iteration skips them.
    bodies, steps = compiler.least_work(chunk, cp, region, facts, header)
    assert (bodies, steps) == (9, 0)
    wait = compiler.worth_after(chunk, cp.region_of[header], header, 0)
    assert wait == compiler.COMPILE_COST * len(region.ops) // bodies


def test_functions_with_a_direct_form_compile_once_calls_pay() -> None:
    # fib's calls and returns run as Python calls once compiled (`calls`): its cheapest
    # call is seven ops with a body and no frame protocol, so it compiles after enough
    # calls to pay.
    chunk = assemble(_fib(18), source="fib.fasm")
    VM(chunk)
    cp, facts = plan(chunk), loop_facts(chunk)
    entry = chunk.sub_entries[0][1]
    index = cp.region_of[entry]
    assert compiler.least_work(chunk, cp, cp.regions[index], facts, entry) == (7, 0)
    wait = compiler.worth_after(chunk, index, entry, 0)
    ops = len(cp.regions[index].ops)
    # Compiling it compiles its direct forms too (an integer and a generic one).
    saved = 7 - compiler.ENTRY_COST + compiler.CALL_COST
    assert wait == compiler.COMPILE_COST * 3 * ops // saved
    before = compiler.stats()["compiles"]
    assert VM(assemble(_fib(20), source="fib2.fasm")).run() == 6765  # 21,891 calls
    assert compiler.stats()["compiles"] == before + 1


def test_call_bound_functions_without_a_direct_form_are_not_compiled() -> None:
    # `BitNot` has no body: the function has no direct form, so each call is the
    # interpreter's frame protocol either way and compiling would save about nothing.
    text = _fib(18).replace("GetSlot 0\n    ReturnValue",
                            "GetSlot 0\n    BitNot\n    Pop\n"
                            "    GetSlot 0\n    ReturnValue")
    chunk = assemble(text, source="fibc.fasm")
    before = compiler.stats()["compiles"]
    assert VM(chunk).run() == 2584
    cp, facts = plan(chunk), loop_facts(chunk)
    entry = chunk.sub_entries[0][1]
    index = cp.region_of[entry]
    bodies, steps = compiler.least_work(chunk, cp, cp.regions[index], facts, entry)
    assert steps == 2
    assert compiler.worth_after(chunk, index, entry, 2) is None
    assert compiler.stats()["compiles"] == before


def test_a_long_loop_compiles_once_and_a_short_one_never() -> None:
    before = compiler.stats()["compiles"]
    assert VM(assemble(LOOP.format(n=300), source="short.fasm")).run() == 300
    assert compiler.stats()["compiles"] == before
    assert VM(assemble(LOOP.format(n=20000), source="long.fasm")).run() == 20000
    assert compiler.stats()["compiles"] == before + 1
