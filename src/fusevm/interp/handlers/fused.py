"""Handlers for the fused superinstructions.

Each handler means exactly what its `fuses` sequence in the op table means, for every
value (D14): the fast path runs when the slots hold Ints (closed forms for the whole-loop
ops), and anything else runs the sequence's own semantics step by step through the same
helpers the unfused handlers use. tests/fusion/test_fused_equivalence.py checks this
against the expansion for every fused op.
"""

from __future__ import annotations

from fusevm.errors import IntegerOverflow
from fusevm.interp import semantics as sem
from fusevm.interp.cow import writable_array
from fusevm.interp.registry import Step, handler
from fusevm.interp.vm import VM
from fusevm.limits import check_size
from fusevm.ops import Op
from fusevm.values import INT_MAX, INT_MIN, to_str, wrap64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

# -- Slot increments and decrements --------------------------------------------------

def _step_slot(vm: VM, operands: tuple[Any, ...], ip: int, delta: int, post: bool) -> Step:
    slot = operands[0]
    strict = vm.strict_int
    push = vm.stack.append
    bump = sem.inc if delta > 0 else sem.dec
    edge = INT_MAX if delta > 0 else INT_MIN
    nxt = ip + 1

    def step() -> int:
        slots = vm.slots
        v = slots[slot]
        new = v + delta if type(v) is int and v != edge else bump(v, strict)
        push(v if post else new)
        slots[slot] = new
        return nxt
    return step


@handler(Op.PreDecSlot)
def pre_dec_slot(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _step_slot(vm, operands, ip, -1, post=False)


@handler(Op.PostIncSlot)
def post_inc_slot(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _step_slot(vm, operands, ip, 1, post=True)


@handler(Op.PostDecSlot)
def post_dec_slot(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _step_slot(vm, operands, ip, -1, post=True)


# -- Fused compare-and-branch ---------------------------------------------------------

# -- Whole-loop fusions -----------------------------------------------------------------

def _accum_overflow_step(s: int, k: int, m: int) -> int | None:
    """First iteration j (0-based) whose Add leaves the i64 range, or None.

    The partial sums P(j) = s + j*k + j*(j-1)/2 are convex in j, so they fall until the
    vertex and rise after it: an underflow can only start on the falling part and an
    overflow on the rising part, and each is found by bisection.
    """
    def p(j: int) -> int:
        return s + j * k + j * (j - 1) // 2

    def first(lo: int, hi: int, bad: Any) -> int | None:
        if lo > hi or not bad(p(hi)):
            return None
        while lo < hi:
            mid = (lo + hi) // 2
            if bad(p(mid)):
                hi = mid
            else:
                lo = mid + 1
        return lo

    vertex = min(max(1 - k, 0), m)  # P(j+1) - P(j) = k + j >= 0 from here on
    falls = first(1, vertex, lambda x: x < INT_MIN)
    rises = first(max(vertex, 1), m, lambda x: x > INT_MAX)
    found = [j for j in (falls, rises) if j is not None]
    return min(found) - 1 if found else None


#: Iterations a fused loop runs in its general form (values other than Ints) before its
#: step returns its own ip to the dispatch loop: a pending interrupt stops the loop there
#: (its state is in the slots, as at the loop's header, so a later run goes on), so no
#: such loop runs on unchecked. Under a step budget it returns after each iteration, which
#: the budget counts as one step (as the iteration's first instruction would have been).
SLICE: Final = 4096


def _slice(vm: VM) -> int:
    return SLICE if vm._budget is None else 1


def _paused(vm: VM, ip: int) -> int:
    """`ip` again after a slice (see SLICE); Interrupted when an interrupt is pending."""
    if vm._interrupt_pending:
        vm._interrupter(ip)()  # (raises, as the loop's header would have)
    return ip


@handler(Op.AccumSumLoop)
def accum_sum_loop(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    total, i, limit = operands
    strict = vm.strict_int
    nxt = ip + 1

    def step() -> int:
        slots = vm.slots
        n = 0
        cap = _slice(vm)
        while True:
            s = slots[total]
            k = slots[i]
            if type(s) is int and type(k) is int and total != i:
                break
            # The sequence itself, one iteration, until both slots hold Ints.
            if not sem.num_lt(k, limit):
                return nxt
            if n == cap:
                return _paused(vm, ip)
            n += 1
            slots[total] = sem.add(s, slots[i], strict)
            slots[i] = sem.inc(slots[i], strict)
        m = limit - k if k < limit else 0
        if m == 0:
            return nxt
        result = s + m * k + m * (m - 1) // 2
        if strict:
            j = _accum_overflow_step(s, k, m)
            if j is not None:
                # Leave the slots as the sequence would when its Add raises.
                slots[total] = s + j * k + j * (j - 1) // 2
                slots[i] = k + j
                raise IntegerOverflow("integer overflow in Add: the sum does not fit "
                                      "in 64 bits")
            slots[total] = result
        else:
            slots[total] = wrap64(result)
        slots[i] = limit
        return nxt
    return step


@handler(Op.ConcatConstLoop)
def concat_const_loop(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    const, s, i, limit = operands
    text = to_str(vm.chunk.constants[const])
    strict = vm.strict_int
    nxt = ip + 1

    def step() -> int:
        slots = vm.slots
        n = 0
        cap = _slice(vm)
        while True:
            k = slots[i]
            if type(k) is int and s != i:
                break
            if not sem.num_lt(k, limit):
                return nxt
            if n == cap:
                return _paused(vm, ip)
            n += 1
            head = to_str(slots[s])
            check_size(len(head) + len(text), vm.max_size, "a string")
            slots[s] = head + text
            slots[i] = sem.inc(slots[i], strict)
        m = limit - k if k < limit else 0
        if m == 0:
            return nxt
        head = to_str(slots[s])
        check_size(len(head) + len(text) * m, vm.max_size, "a string")
        slots[s] = head + text * m
        slots[i] = limit
        return nxt
    return step


@handler(Op.PushIntRangeLoop)
def push_int_range_loop(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name, i, limit = operands
    globals_ = vm.globals
    strict = vm.strict_int
    where = f"global {vm.chunk.names[name]!r}"
    nxt = ip + 1

    def step() -> int:
        slots = vm.slots
        n = 0
        cap = _slice(vm)
        while True:
            k = slots[i]
            if type(k) is int:
                break
            if not sem.num_lt(k, limit):
                return nxt
            if n == cap:
                return _paused(vm, ip)
            n += 1
            arr = writable_array(globals_, name, where)
            check_size(len(arr) + 1, vm.max_size, "an array")
            arr.append(k)
            slots[i] = sem.inc(k, strict)
        if k >= limit:
            return nxt
        arr = writable_array(globals_, name, where)
        check_size(len(arr) + limit - k, vm.max_size, "an array")
        arr.extend(range(k, limit))
        slots[i] = limit
        return nxt
    return step
