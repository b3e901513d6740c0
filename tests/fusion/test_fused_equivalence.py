"""Every fused op against its `fuses` expansion, on drawn states (D14).

Generated from the table: for each FUSED op, the unfused program is the op's own `fuses`
text with the drawn operands substituted (assembled by `fusevm.asm`, not by the fusion
pass), so the check does not trust the pass's pattern parser. Both programs start from the
same slots, global and stack, in strict and wrapping mode, and must agree on the exit taken,
the stack, the slots, the globals and the error class. On an error the stack is compared up
to the initial depth only: the values an unfused sequence had pushed when it failed are
debris that no program can observe.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from fusekit import TIMEOUT, Outcome, run_bounded, same_list
from hypothesis import assume, given, note
from hypothesis import strategies as st

from fusevm.asm import assemble
from fusevm.chunk import Chunk
from fusevm.errors import IntegerOverflow, TypeMismatch
from fusevm.ops import FUSED_OPS, Kind, Op
from fusevm.ops.fuses import items as fuse_items
from fusevm.values import INT_MAX, INT_MIN, Undef, format_value

from strategies import values

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
CONSTS: tuple[Any, ...] = ("x", "", "ab", 1.5, 7, -0.0, Undef, [1, "a"], {"k": 2}, True)
SLOTS = 3
BUDGET = 4000  # unfused ops per case; whole-loop cases needing more are skipped


def _operand_text(kind: Kind, value: Any) -> str:
    if kind is Kind.CONST:
        return f"#{value}"
    if kind is Kind.NAME:
        return "arr"
    if kind is Kind.TARGET:
        return "taken"
    return str(value)


def _unfused_body(op: Op, operands: dict[str, Any]) -> list[str]:
    """The op's `fuses` text with operands substituted, as assembler lines."""
    kinds = {o.name: o.kind for o in op.spec.operands}
    lines = []
    for item in fuse_items(op.spec):
        lines.extend(f"{label}:" for label in item.labels)
        if item.mnemonic is None:
            continue
        words = [item.mnemonic]
        for tok in item.args:
            if tok.startswith("$"):
                words.append(_operand_text(kinds[tok[1:]], operands[tok[1:]]))
            elif tok.startswith("@"):
                words.append(tok[1:])
            else:
                words.append(tok)
        lines.append(" ".join(words))
    return lines


@functools.lru_cache(maxsize=4096)
def program(op: Op, operand_items: tuple[tuple[str, Any], ...], fused: bool) -> Chunk:
    """`op` (or its expansion), then `LoadInt 111` on fall-through or `LoadInt 222` at its
    jump target, so the exit taken shows on the stack."""
    operands = dict(operand_items)
    head = [f".slots {SLOTS}", ".name arr"] + [f".const {format_value(c)}" for c in CONSTS]
    if fused:
        body = [" ".join([op.name] + [_operand_text(o.kind, operands[o.name])
                                      for o in op.spec.operands])]
    else:
        body = _unfused_body(op, operands)
    tail = ["LoadInt 111", "Jump out", "taken:", "LoadInt 222", "out:"]
    text = "\n".join(head + body + tail)
    return assemble(text, source=f"{op.name}-{'fused' if fused else 'plain'}.fasm")


def _limits() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(-5, 30),
                     st.sampled_from([0, 1, I32_MIN, I32_MAX, I32_MIN + 1, I32_MAX - 1]))


EDGE_INTS = st.sampled_from([INT_MAX, INT_MIN, INT_MAX - 1, INT_MIN + 1, INT_MAX - 40,
                             INT_MIN + 40, 2**62, -(2**62), 0, -1, 1])
ODD_SCALARS = st.sampled_from([float("nan"), float("inf"), -float("inf"), -0.5, 0.5, 1.5,
                               -0.0, 2.5, 1e300, "", "0", "3", "3.5", "-2", "abc", " 7",
                               "9223372036854775807", Undef, True, False])


@st.composite
def cases(draw: st.DrawFn, op: Op) -> dict[str, Any]:
    operands: dict[str, Any] = {}
    for o in op.spec.operands:
        if o.kind is Kind.SLOT:
            operands[o.name] = draw(st.integers(0, SLOTS - 1))
        elif o.kind is Kind.I32:
            operands[o.name] = draw(_limits())
        elif o.kind is Kind.CONST:
            operands[o.name] = draw(st.integers(0, len(CONSTS) - 1))
        elif o.kind in (Kind.NAME, Kind.TARGET):
            operands[o.name] = o.kind.value
        else:  # pragma: no cover - a new operand kind in a fused op needs a strategy here
            raise AssertionError(f"no strategy for {o.kind} in {op.name}")
    limit = operands.get("limit", 0)
    slot_values = st.one_of(
        st.integers(-40, 3).map(lambda d: limit + d),  # a loop counter a few steps short
        EDGE_INTS, ODD_SCALARS, values,
        st.lists(st.integers(-3, 3), max_size=3))
    slots = {i: draw(slot_values) for i in range(SLOTS)}
    glob = draw(st.one_of(st.lists(st.integers(-5, 5) | ODD_SCALARS, max_size=3),
                          st.sampled_from([Undef, 0, "arr", {"a": 1}]), values))
    stack = draw(st.lists(values, max_size=2))
    return {"operands": operands, "slots": slots, "globals": {0: glob}, "stack": stack,
            "strict": draw(st.booleans())}


def run_pair(op: Op, case: dict[str, Any],
             budget: int = BUDGET) -> tuple[Outcome, Outcome] | None:
    """Run the expansion, then the fused op, from one state; None if the expansion needs
    more than `budget` ops (the fused op is then not run: it would do the same work)."""
    items = tuple(sorted(case["operands"].items()))
    state = {k: case[k] for k in ("stack", "slots", "strict")}
    slow = run_bounded(program(op, items, False), budget=budget, globals_=case["globals"],
                       **state)
    if slow is TIMEOUT:
        return None
    fast = run_bounded(program(op, items, True), budget=budget, globals_=case["globals"],
                       **state)
    assert isinstance(slow, Outcome) and isinstance(fast, Outcome)
    return slow, fast


def assert_agree(case: dict[str, Any], slow: Outcome, fast: Outcome) -> None:
    why = f"\nunfused: {slow}\nfused:   {fast}"
    assert fast.error is slow.error, "error" + why
    if slow.error is None:
        assert same_list(fast.stack, slow.stack), "stack" + why
    else:
        depth = len(case["stack"])
        assert len(fast.stack) >= depth, "stack" + why
        assert same_list(fast.stack[:depth], slow.stack[:depth]), "stack below the op" + why
    assert same_list(fast.slots, slow.slots), "slots" + why
    assert same_list(fast.globals, slow.globals), "globals" + why


def check(op: Op, case: dict[str, Any], budget: int = BUDGET) -> tuple[Outcome, Outcome]:
    """Assert the fused op and its expansion agree from this state (which must finish)."""
    pair = run_pair(op, case, budget)
    assert pair is not None, "the unfused sequence ran out of budget"
    assert_agree(case, *pair)
    return pair


@pytest.mark.parametrize("op", FUSED_OPS, ids=str)
@given(data=st.data())
def test_fused_op_agrees_with_its_expansion(op: Op, data: st.DataObject) -> None:
    case = data.draw(cases(op))
    pair = run_pair(op, case)
    assume(pair is not None)
    assert pair is not None
    note(f"unfused: {pair[0]}\nfused:   {pair[1]}")
    assert_agree(case, *pair)


# -- Pinned cases: where truncating fused ops would differ from their sequences (D14)


def _case(operands: dict[str, Any], slots: dict[int, Any], *, strict: bool = False,
          glob: Any = Undef, stack: tuple[Any, ...] = ()) -> dict[str, Any]:
    ops = {k: ("NAME" if k == "name" else "TARGET" if k == "target" else v)
           for k, v in operands.items()}
    full = {i: Undef for i in range(SLOTS)} | slots
    return {"operands": ops, "slots": full, "globals": {0: glob}, "stack": list(stack),
            "strict": strict}


PINNED = [
    # Cases a truncating fused op would get wrong (D14): each is exact here.
    (Op.PostIncSlot, _case({"slot": 0}, {0: "5"})),
    (Op.PostDecSlot, _case({"slot": 0}, {0: [1, 2]})),
    (Op.AddAssignSlotVoid, _case({"a": 0, "b": 1}, {0: 1.5, 1: 2.5})),
    (Op.AddAssignSlotVoid, _case({"a": 0, "b": 0}, {0: INT_MAX}, strict=True)),
    (Op.SlotLtIntJumpIfFalse, _case({"slot": 0, "limit": 0, "target": 0}, {0: -0.5})),
    (Op.SlotLtIntJumpIfFalse, _case({"slot": 0, "limit": 1, "target": 0}, {0: float("nan")})),
    (Op.SlotIncLtIntJumpBack, _case({"slot": 0, "limit": 5, "target": 0}, {0: INT_MAX})),
    (Op.SlotIncLtIntJumpBack, _case({"slot": 0, "limit": 5, "target": 0}, {0: INT_MAX},
                                    strict=True)),
    (Op.PreIncSlotVoid, _case({"slot": 1}, {1: INT_MAX}, strict=True)),
    (Op.PreDecSlot, _case({"slot": 1}, {1: INT_MIN})),
    (Op.AccumSumLoop, _case({"sum": 0, "i": 1, "limit": 5}, {0: Undef, 1: Undef})),
    (Op.AccumSumLoop, _case({"sum": 0, "i": 1, "limit": 5}, {0: 1.5, 1: 0})),
    (Op.AccumSumLoop, _case({"sum": 0, "i": 1, "limit": 0}, {0: Undef, 1: Undef})),
    (Op.AccumSumLoop, _case({"sum": 0, "i": 1, "limit": 50}, {0: INT_MAX - 100, 1: 3},
                            strict=True)),
    (Op.AccumSumLoop, _case({"sum": 0, "i": 1, "limit": 50}, {0: INT_MAX - 100, 1: 3})),
    (Op.AccumSumLoop, _case({"sum": 0, "i": 1, "limit": -5}, {0: INT_MIN + 100, 1: -60},
                            strict=True)),
    (Op.AccumSumLoop, _case({"sum": 1, "i": 1, "limit": 20}, {1: 1})),
    (Op.AccumSumLoop, _case({"sum": 0, "i": 1, "limit": 9}, {0: 0, 1: "2"})),
    (Op.ConcatConstLoop, _case({"const": 0, "s": 0, "i": 1, "limit": 3}, {0: 1.5, 1: Undef})),
    (Op.ConcatConstLoop, _case({"const": 4, "s": 0, "i": 0, "limit": 30}, {0: 1})),
    (Op.ConcatConstLoop, _case({"const": 7, "s": 0, "i": 1, "limit": 4}, {0: [1], 1: 2.5})),
    (Op.PushIntRangeLoop, _case({"name": 0, "i": 1, "limit": 3}, {1: 0}, glob=Undef)),
    (Op.PushIntRangeLoop, _case({"name": 0, "i": 1, "limit": 0}, {1: 0}, glob="x")),
    (Op.PushIntRangeLoop, _case({"name": 0, "i": 1, "limit": 4}, {1: 0.5}, glob=[9])),
    (Op.PushIntRangeLoop, _case({"name": 0, "i": 1, "limit": 4}, {1: "-2"}, glob=[])),
]


@pytest.mark.parametrize("op,case", PINNED, ids=lambda x: str(x) if isinstance(x, Op) else "")
def test_pinned_state_agrees(op: Op, case: dict[str, Any]) -> None:
    check(op, case)


def test_accum_sum_loop_overflow_stops_where_the_sequence_stops() -> None:
    slow, fast = check(Op.AccumSumLoop, _case({"sum": 0, "i": 1, "limit": 1000},
                                              {0: INT_MAX - 5000, 1: 0}, strict=True),
                       budget=20_000)
    assert fast.error is IntegerOverflow
    assert fast.slots[1] < 1000


def test_push_int_range_loop_on_a_non_array_global_is_the_array_push_error() -> None:
    _, fast = check(Op.PushIntRangeLoop, _case({"name": 0, "i": 1, "limit": 3}, {1: 0},
                                               glob={"a": 1}))
    assert fast.error is TypeMismatch


def test_whole_loop_closed_forms_are_fast() -> None:
    # A million iterations in one dispatch each: the closed forms, not a loop.
    sum_case = _case({"sum": 0, "i": 1, "limit": 1_000_000}, {0: 0, 1: 0})
    out = run_bounded(program(Op.AccumSumLoop, tuple(sorted(sum_case["operands"].items())),
                              True), slots=sum_case["slots"], budget=10)
    assert isinstance(out, Outcome) and out.slots[:2] == [499999500000, 1_000_000]
    push_case = _case({"name": 0, "i": 1, "limit": 100_000}, {1: 0}, glob=[])
    out = run_bounded(program(Op.PushIntRangeLoop,
                              tuple(sorted(push_case["operands"].items())), True),
                      slots=push_case["slots"], globals_=push_case["globals"], budget=10)
    assert isinstance(out, Outcome) and out.globals[0] == list(range(100_000))


def _sum_loop_model(total: int, k: int, limit: int, strict: bool) -> tuple[int, int, bool]:
    """The AccumSumLoop sequence on Int slots, one iteration at a time (the oracle)."""
    while k < limit:
        r = total + k
        if not INT_MIN <= r <= INT_MAX:
            if strict:
                return total, k, True
            r = (r + 2**63) % 2**64 - 2**63
        total, k = r, k + 1
    return total, k, False


@given(total=st.one_of(EDGE_INTS, st.integers(INT_MIN, INT_MAX)),
       k=st.integers(-12_000, 12_000), limit=st.integers(-12_000, 12_000),
       strict=st.booleans())
def test_accum_sum_loop_closed_form_matches_the_loop_on_long_runs(
        total: int, k: int, limit: int, strict: bool) -> None:
    # Up to 24k iterations, with the sum starting anywhere: the strict overflow search
    # must stop exactly where the loop's Add first leaves 64 bits.
    case = _case({"sum": 0, "i": 1, "limit": limit}, {0: total, 1: k}, strict=strict)
    out = run_bounded(program(Op.AccumSumLoop, tuple(sorted(case["operands"].items())),
                              True), slots=case["slots"], strict=strict, budget=10)
    assert isinstance(out, Outcome)
    s, i, overflow = _sum_loop_model(total, k, limit, strict)
    assert (out.error is IntegerOverflow) == overflow
    assert out.slots[:2] == [s, i]
