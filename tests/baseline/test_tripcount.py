"""Counted loops (`baseline.tripcount`): the iterations left, read from the exit test and
the counter, against the interpreter's own count of header entries."""

from __future__ import annotations

from typing import Any, cast

import pytest

from fusevm import VM
from fusevm.asm import assemble
from fusevm.baseline import tripcount
from fusevm.chunk import Chunk
from fusevm.loops import entered_at, loop_facts

BOTTOM = """
    LoadInt {start}
    SetSlot 0
top:
    PreIncSlotVoid 0
    GetSlot 0
    LoadInt {n}
    NumLt
    JumpIfTrue top
    GetSlot 0
"""

TOP_DOWN = """
    LoadInt {start}
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 0
    LoadInt {n}
    NumLe
    JumpIfTrue done
    GetSlot 1
    GetSlot 0
    Add
    SetSlot 1
    GetSlot 0
    Dec
    SetSlot 0
    Jump top
done:
    GetSlot 1
"""

FUSED_TOP = """
    LoadInt {start}
    SetSlot 0
top:
    SlotLtIntJumpIfFalse 0 {n} done
    GetSlot 0
    Pop
    PreIncSlotVoid 0
    Jump top
done:
    GetSlot 0
"""

FUSED_BOTTOM = """
    LoadInt {start}
    SetSlot 0
top:
    Nop
    SlotIncLtIntJumpBack 0 {n} top
    GetSlot 0
"""

#: The counter moves by an Add of a constant (a sum read from its body): counted.
BY_ADD = """
    LoadInt {start}
    SetSlot 0
top:
    GetSlot 0
    LoadInt 3
    Add
    SetSlot 0
    GetSlot 0
    LoadInt {n}
    NumLt
    JumpIfTrue top
    GetSlot 0
"""

#: The counter moves by another slot's value, or on two paths: not counted.
BY_SLOT = """
    LoadInt 0
    SetSlot 0
    LoadInt 3
    SetSlot 1
top:
    GetSlot 0
    GetSlot 1
    Add
    SetSlot 0
    GetSlot 0
    LoadInt 30
    NumLt
    JumpIfTrue top
    GetSlot 0
"""

TWO_PATHS = """
    LoadInt 0
    SetSlot 0
top:
    GetSlot 0
    LoadInt 1
    BitAnd
    JumpIfFalse even
    PreIncSlotVoid 0
    Jump test
even:
    GetSlot 0
    Inc
    SetSlot 0
test:
    GetSlot 0
    LoadInt 30
    NumLt
    JumpIfTrue top
    GetSlot 0
"""


def _entries(text: str) -> tuple[int, Any, int]:
    """The loop's header, the counted loop found there and how many times the
    interpreter enters the header, with the counter's value at the first entry."""
    chunk = assemble(text, source="count.fasm")
    vm = VM(chunk, baseline=False)
    code = vm.prepare()
    (header,) = loop_facts(chunk).back_edges
    seen: list[Any] = []
    original = code[header]

    def step() -> int:
        seen.append(vm.slots[0])
        return original()
    code[header] = step
    vm.run()
    return len(seen), tripcount.counted(chunk, loop_facts(chunk), header), seen[0]


@pytest.mark.parametrize("shape", [BOTTOM, TOP_DOWN, FUSED_TOP, FUSED_BOTTOM, BY_ADD])
@pytest.mark.parametrize(("start", "n"), [(0, 10), (0, 1), (5, 5), (-7, 40), (3, 1000)])
def test_the_count_is_the_interpreters(shape: str, start: int, n: int) -> None:
    if shape is TOP_DOWN:
        start, n = n, start  # counts down to the limit
    entries, counted, first = _entries(shape.format(start=start, n=n))
    assert counted is not None
    assert counted.remaining(first) == entries


def test_what_is_left_from_any_entry() -> None:
    entries, counted, first = _entries(BOTTOM.format(start=0, n=100))
    assert counted is not None and (counted.slot, counted.step) == (0, 1)
    assert [counted.remaining(first + k) for k in (0, 1, 50, 99, 100, 500)] == \
        [entries, entries - 1, entries - 50, 1, 1, 1]  # bottom-tested: at least once
    assert counted.remaining(1.5) is None and counted.remaining("7") is None
    assert counted.remaining(-(1 << 60)) == tripcount.LONG  # capped


@pytest.mark.parametrize("shape", [BY_SLOT, TWO_PATHS])
def test_loops_not_followed_are_not_counted(shape: str) -> None:
    _, counted, _ = _entries(shape)
    assert counted is None


def test_a_loop_with_a_call_is_not_counted() -> None:
    text = """
        LoadInt 0
        SetSlot 0
    top:
        LoadInt 1
        Call f 1
        Pop
        PreIncSlotVoid 0
        GetSlot 0
        LoadInt 10
        NumLt
        JumpIfTrue top
        Jump end
    .sub f
        ReturnValue
    end:
        GetSlot 0
    """
    chunk = assemble(text, source="call.fasm")
    VM(chunk)
    facts = loop_facts(chunk)
    (header,) = facts.back_edges
    assert tripcount.counted(chunk, facts, header) is None


@pytest.mark.parametrize("relation", ["lt", "le", "gt", "ge", "eq", "ne"])
@pytest.mark.parametrize("swapped", [False, True])
@pytest.mark.parametrize("stay", [False, True])
def test_what_is_left_is_the_first_failing_test(relation: str, swapped: bool,
                                                stay: bool) -> None:
    import operator
    for step in (1, -1, 3, -2):
        for counter, offset, limit in ((0, 0, 10), (0, 1, 10), (7, 0, -5), (-4, 2, 4),
                                       (10, -1, 10)):
            c = tripcount.Counted(0, step, offset, limit, getattr(operator, relation),
                                  swapped, stay)
            brute = next((i for i in range(200) if not c.goes_on(counter, i)), None)
            got = c.remaining(counter)
            if brute is None:
                assert got is not None and got > 200
            else:
                assert got == brute + 1


def test_extension_ops_that_name_no_slot_leave_a_loop_counted() -> None:
    from fusevm import ExtensionSet
    from fusevm.values import to_int, wrap64

    ext = ExtensionSet("tripcount-test", first_id=0x4F00, count=0x10)

    @ext.function("Twice", effect="a -- r", formula="r = wrap(2 * int(a))")
    def twice(vm: VM, operands: tuple[int, ...]) -> Any:
        return lambda a: wrap64(to_int(a) * 2)

    @ext.op("Halve", effect="a -- r", formula="r = int(a) // 2")
    def halve(vm: VM) -> None:
        vm.push(to_int(vm.pop()) // 2)

    text = """
        LoadInt 0
        SetSlot 0
        LoadInt 0
        SetSlot 1
    top:
        GetSlot 0
        {op}
        SetSlot 1
        PreIncSlotVoid 0
        GetSlot 0
        LoadInt 300
        NumLt
        JumpIfTrue top
        GetSlot 1
    """
    for op, counted in (("Twice", True), ("Halve", False)):
        chunk = assemble(text.format(op=op), source="ext.fasm", extensions=[ext])
        VM(chunk, extensions=[ext])
        facts = loop_facts(chunk)
        (header,) = facts.back_edges
        found = tripcount.counted(chunk, facts, header)
        # A handler may do anything to the frame: its loop is not counted.
        assert (found is not None) == counted
        if found is not None:
            assert found.remaining(0) == 300


def test_each_ops_template_is_its_fused_expansion() -> None:
    # The per-op templates the count is read from say what expanding the op
    # (`peephole.pattern.expand`) and reading each core op's body say, for every op.
    from fusevm.ops import F, Kind, Op
    from fusevm.peephole.pattern import BY_OP, expand

    samples = {Kind.SLOT: 3, Kind.TARGET: 9}
    for op in Op:
        spec = op.spec
        if spec.has(F.EXTENDED):
            continue
        operands = tuple(samples.get(o.kind, 7) for o in spec.operands)
        instr = (op, *operands)
        core = expand(BY_OP[op], operands, 5, 6) if spec.has(F.FUSED) else [instr]
        kinds = [tripcount.op_kind(cast(Op, c[0])) for c in core]
        template = tripcount._template(op)
        if any(k is None for k in kinds):
            assert template is None, op
            continue
        assert template is not None, op
        steps, writes = template
        assert [s[0] for s in steps] == [k[0] for k in kinds if k is not None], op
        for (name, _, index, literal), c, k in zip(steps, core, kinds):
            assert k is not None
            if name in ("get", "set", "const"):
                assert tripcount._operand(instr, 5, index, literal) == c[1 + k[1]], op
        assert [tripcount._operand(instr, 5, i, lit) for i, lit in writes] == \
            [c[1 + k[1]] for c, k in zip(core, kinds) if k is not None and k[0] == "set"], op


def test_a_loops_body_is_the_same_with_the_chunks_predecessors() -> None:
    # `loop_body` uses the predecessors worked out once per chunk object.
    from fusevm.loops import natural_loop, predecessors

    for text in (BOTTOM.format(start=0, n=5), TOP_DOWN.format(start=5, n=0), TWO_PATHS):
        chunk = assemble(text, source="body.fasm")
        VM(chunk, baseline=False)
        facts = loop_facts(chunk)
        preds = predecessors(chunk, facts)
        assert predecessors(chunk, facts) is preds  # once per chunk object
        for header in facts.back_edges:
            assert tripcount.loop_body(chunk, facts, header) == natural_loop(facts, header) \
                == natural_loop(facts, header, preds)


def _every_chunk(chunk: Chunk) -> list[Chunk]:
    return [chunk, *(c for sub in chunk.sub_chunks for c in _every_chunk(sub))]


def test_a_loop_with_one_exit_is_counted_from_two_blocks_as_any_loop() -> None:
    # `_one_exit` (a loop whose only exit is its back edge, its other branches forward
    # within it: the first and last blocks run, nothing tabled) answers as the general
    # way does wherever it answers, one-block loops and loops with branches inside.
    answered = {False: 0, True: 0}
    counted = 0
    for chunk in _loop_chunks("exit.fasm", 5_100_000, 400, fused=True):
        facts = loop_facts(chunk)
        for header in facts.back_edges:
            last = max(facts.back_edges[header])
            if not entered_at(facts, header, last):
                continue
            found = tripcount._one_exit(chunk.ops, facts, header, last)
            if found is tripcount._GENERAL:
                continue
            body = tripcount.loop_body(chunk, facts, header)
            assert body == frozenset(range(header, last + 1)), (chunk.source, header)
            answered[any(header <= b < last for b in facts.branches)] += 1
            counted += found is not None
            assert found == tripcount._counted_general(chunk, facts, header, body), \
                (chunk.source, header)
    assert answered[False] > 20 and answered[True] > 20 and counted > 10


def _loop_chunks(source: str, seed: int, count: int, fused: bool) -> list[Chunk]:
    """Chunks with loops of every shape, their sub-chunks included: this file's loops, the
    benchmark workloads, `count` generated programs from `seed` on and the test programs;
    with `fused`, the workloads and generated programs through the fusion pass too."""
    import sys
    from pathlib import Path

    from fusevm.bench.workloads import WORKLOADS

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "jit"))
    from progs import RandomSource, generate

    chunks = [assemble(text, source=source) for text in (
        BOTTOM.format(start=0, n=5), TOP_DOWN.format(start=5, n=0),
        FUSED_TOP.format(start=0, n=5), TWO_PATHS, INTO_THE_MIDDLE)]
    chunks += [w.reference() for w in WORKLOADS if w.emit is not None]
    if fused:
        chunks += [w.build(fuse=True) for w in WORKLOADS if w.emit is not None]
    for n in range(count):
        program = generate(RandomSource(seed + n), straight=False)
        chunks.append(program.build())
        if fused:
            program.fuse = True
            chunks.append(program.build())
    programs = Path(__file__).resolve().parent.parent / "programs"
    chunks += [assemble(p.read_text(), source=p.name) for p in sorted(programs.glob("*.fasm"))]
    return [c for top in chunks for c in _every_chunk(top)]


def test_a_contiguous_loop_is_the_natural_loop() -> None:
    # `loops.contiguous_loop` finds a loop's body without the chunk's predecessors: when
    # it answers, it is the natural loop; it declines a loop entered in the middle.
    from fusevm.loops import contiguous_loop, natural_loop

    answered = declined = 0
    for chunk in _loop_chunks("body.fasm", 7_300_000, 300, fused=False):
        facts = loop_facts(chunk)
        for header in facts.back_edges:
            found = contiguous_loop(facts, header)
            if found is None:
                declined += 1
            else:
                answered += 1
                assert found == natural_loop(facts, header), (chunk.source, header)
    assert answered > 100 and declined > 0
    middle = assemble(INTO_THE_MIDDLE, source="middle.fasm")
    facts = loop_facts(middle)
    header = max(facts.back_edges)  # `top`'s
    assert contiguous_loop(facts, header) is None
    body = tripcount.loop_body(middle, facts, header)
    assert body == natural_loop(facts, header) and min(body) < header


#: A loop whose middle is also reached by a jump from before it, from code that the loop's
#: exit leads back to: that code is in the natural loop too (it reaches the back edge
#: without passing the header).
INTO_THE_MIDDLE = """
    LoadInt 0
    SetSlot 0
again:
    GetSlot 0
    LoadInt 3
    NumGt
    JumpIfTrue middle
top:
    PreIncSlotVoid 0
middle:
    GetSlot 0
    LoadInt 10
    NumLt
    JumpIfTrue top
    GetSlot 0
    LoadInt 20
    NumLt
    JumpIfTrue again
    GetSlot 0
"""


def test_a_contiguous_loop_is_counted_as_any_loop() -> None:
    # `_counted_range` (one pass over a loop that is one range of ops) answers as the
    # general way does, wherever it answers.
    answered = counted = 0
    for chunk in _loop_chunks("count.fasm", 7_400_000, 400, fused=True):
        facts = loop_facts(chunk)
        for header in facts.back_edges:
            body = tripcount.loop_body(chunk, facts, header)
            last = max(facts.back_edges[header])
            fast = tripcount._counted_range(chunk.ops, facts, header, last)
            if fast is tripcount._GENERAL:
                continue
            assert body == frozenset(range(header, last + 1)), (chunk.source, header)
            answered += 1
            counted += fast is not None
            assert fast == tripcount._counted_general(chunk, facts, header, body), \
                (chunk.source, header)
    assert answered > 100 and counted > 10
