"""Handlers for arrays and hashes stored in globals, the Make* ops and ranges."""

from __future__ import annotations

from fusevm.interp.containers_util import hash_of, store_at
from fusevm.interp.cow import writable_array, writable_hash
from fusevm.interp.registry import Step, handler
from fusevm.interp.vm import VM
from fusevm.limits import check_size
from fusevm.ops import Op
from fusevm.values import Undef, to_int, to_str

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _where(vm: VM, name: int) -> str:
    return f"global {vm.chunk.names[name]!r}"


@handler(Op.ArraySet)
def array_set(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name = operands[0]
    globals_ = vm.globals
    pop = vm.stack.pop
    where = _where(vm, name)
    nxt = ip + 1

    def step() -> int:
        i = pop()
        v = pop()
        store_at(writable_array(globals_, name, where), i, v, vm.max_size)
        return nxt
    return step


@handler(Op.ArrayPush)
def array_push(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name = operands[0]
    globals_ = vm.globals
    pop = vm.stack.pop
    where = _where(vm, name)
    nxt = ip + 1

    def step() -> int:
        arr = writable_array(globals_, name, where)
        if len(arr) >= vm.max_size:
            check_size(len(arr) + 1, vm.max_size, "an array")
        arr.append(pop())
        return nxt
    return step


@handler(Op.ArrayPop, Op.ArrayShift)
def array_pop(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name = operands[0]
    globals_ = vm.globals
    push = vm.stack.append
    where = _where(vm, name)
    index = -1 if vm.chunk.ops[ip][0] is Op.ArrayPop else 0
    nxt = ip + 1

    def step() -> int:
        arr = writable_array(globals_, name, where)
        push(arr.pop(index) if arr else Undef)
        return nxt
    return step


@handler(Op.MakeArray)
def make_array(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    count = operands[0]
    stack = vm.stack
    nxt = ip + 1
    if count == 0:
        def empty() -> int:
            stack.append([])
            return nxt
        return empty

    def step() -> int:
        items = stack[-count:]
        del stack[-count:]
        stack.append(items)
        return nxt
    return step


@handler(Op.HashDelete)
def hash_delete(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name = operands[0]
    globals_ = vm.globals
    stack = vm.stack
    where = _where(vm, name)
    nxt = ip + 1

    def step() -> int:
        stack[-1] = writable_hash(globals_, name, where).pop(to_str(stack[-1]), Undef)
        return nxt
    return step


@handler(Op.HashExists)
def hash_exists(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name = operands[0]
    globals_ = vm.globals
    stack = vm.stack
    where = _where(vm, name)
    nxt = ip + 1

    def step() -> int:
        stack[-1] = to_str(stack[-1]) in hash_of(globals_[name], where)
        return nxt
    return step


@handler(Op.HashKeys, Op.HashValues)
def hash_listing(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name = operands[0]
    globals_ = vm.globals
    push = vm.stack.append
    where = _where(vm, name)
    keys = vm.chunk.ops[ip][0] is Op.HashKeys
    nxt = ip + 1

    def step() -> int:
        h = hash_of(globals_[name], where)
        push(list(h) if keys else list(h.values()))
        return nxt
    return step


@handler(Op.MakeHash)
def make_hash(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    count = operands[0]
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        items = stack[len(stack) - count:]
        del stack[len(stack) - count:]
        out: dict[str, Any] = {}
        for i in range(0, len(items) - 1, 2):
            out[to_str(items[i])] = items[i + 1]
        stack.append(out)
        return nxt
    return step


def _range(start: int, stop: int, step: int, limit: int) -> list[Any]:
    # Counted with exact integers first: len() of a range over the whole i64 span does not
    # fit in a Py_ssize_t and would raise OverflowError.
    if (step > 0 and start > stop) or (step < 0 and start < stop):
        return []
    count = (stop - start) // step + 1
    check_size(count, limit, "a range")
    return list(range(start, stop + (1 if step > 0 else -1), step))


@handler(Op.Range)
def range_(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    pop = stack.pop
    nxt = ip + 1

    def step() -> int:
        stop = to_int(pop())
        stack[-1] = _range(to_int(stack[-1]), stop, 1, vm.max_size)
        return nxt
    return step


@handler(Op.RangeStep)
def range_step(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    pop = stack.pop
    nxt = ip + 1

    def step() -> int:
        by = to_int(pop())
        stop = to_int(pop())
        start = to_int(stack[-1])
        stack[-1] = _range(start, stop, by, vm.max_size) if by != 0 else []
        return nxt
    return step
