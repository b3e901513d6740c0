"""Extension ops with the core handler protocol: a factory bound when the chunk is
prepared, whose step returns the next ip (jumps, halts and unwinds as return values), next
to plain `handler(vm, *operands)` ops through the adapter, and the OperandStack API."""

from __future__ import annotations

import io
from typing import Any

import pytest

from fusevm import VM, ExtensionSet, Undef, VMError
from fusevm.asm import assemble, disassemble
from fusevm.errors import StackUnderflow
from fusevm.interp.extapi import HALT, OperandStack
from fusevm.ops import F

EXT = ExtensionSet("interp-test-factories", first_id=0xF400, count=0x20)
PREPARED: list[int] = []


@EXT.factory("FAddK", operands="k:U8", effect="a b -- r", formula="r = a + b + k")
def f_add_k(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    k, = operands
    stack = vm.stack_api
    pop, items = stack.pop, stack.items
    nxt = ip + 1
    PREPARED.append(ip)

    def step() -> int:
        b = pop()
        items[-1] = items[-1] + b + k
        return nxt
    return step


@EXT.factory("FJumpIfZero", operands="target:TARGET", effect="v --",
             formula="if v == 0: ip = target")
def f_jump_if_zero(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    target, = operands
    pop = vm.stack_api.pop
    nxt = ip + 1

    def step() -> int:
        return target if pop() == 0 else nxt
    return step


@EXT.factory("FHalt", formula="stop the run")
def f_halt(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    def step() -> int:
        return HALT
    return step


@EXT.factory("FMark", operands="target:TARGET", flags=F.BRANCH,
             formula="remember target for FExit")
def f_mark(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    target, = operands
    nxt = ip + 1

    def step() -> int:
        vm.host_data["exit"] = target
        return nxt
    return step


@EXT.factory("FExit", formula="leave every function and continue at the marked ip")
def f_exit(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    def step() -> int:
        vm.unwind_to_root()
        target: int = vm.host_data["exit"]
        return target
    return step


@EXT.factory("FFail", formula="raise a Python error")
def f_fail(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    def step() -> int:
        raise KeyError("boom")
    return step


@EXT.factory("FPopTwo", effect="a --", formula="drop two: pops more than it declares")
def f_pop_two(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    drop = vm.stack_api.drop
    nxt = ip + 1

    def step() -> int:
        drop(2)
        return nxt
    return step


@EXT.factory("FGrow", effect="arr -- arr", formula="append 0 to an owned copy")
def f_grow(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    stack = vm.stack_api
    nxt = ip + 1

    def step() -> int:
        arr = stack.pop_owned()
        arr.append(0)
        stack.push(arr)
        return nxt
    return step


@EXT.factory("FBadFactory", formula="its factory raises")
def f_bad_factory(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    raise RuntimeError("cannot bind")


@EXT.factory("FNoStep", formula="its factory returns no step")
def f_no_step(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    return 42


@EXT.op("POldDouble", effect="v -- r", formula="r = 2 * v")
def p_old_double(vm: Any) -> None:
    vm.push(vm.pop() * 2)


EXT.declare("FLate", effect="-- v", formula="push 7, bound after declaration")


@EXT.bind("FLate")
def f_late(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
    push = vm.stack_api.push
    nxt = ip + 1

    def step() -> int:
        push(7)
        return nxt
    return step


def run(text: str, **kw: Any) -> tuple[Any, VM]:
    chunk = assemble(text, source="fact.fasm")
    vm = VM(chunk, stdout=io.StringIO(), extensions=[EXT], **kw)
    return vm.run(), vm


def test_a_factory_op_computes_through_the_stack_api():
    assert run("LoadInt 2\nLoadInt 3\nFAddK 10")[0] == 15


def test_the_factory_runs_once_per_instruction_at_preparation_not_per_execution():
    PREPARED.clear()
    value, _ = run("""
        LoadInt 0
        SetSlot 0
    top:
        GetSlot 0
        LoadInt 1
        FAddK 0
        Dup
        SetSlot 0
        LoadInt 5
        NumLt
        JumpIfTrue top
        GetSlot 0
    """)
    assert value == 5
    assert PREPARED == [4]


def test_a_jump_is_the_steps_return_value():
    text = """
        FJumpIfZero skip
        LoadInt 1
        Jump end
    skip:
        LoadInt 2
    end:
    """
    assert run("LoadInt 0\n" + text)[0] == 2
    assert run("LoadInt 5\n" + text)[0] == 1


def test_returning_halt_stops_the_run():
    value, vm = run("LoadInt 1\nFHalt\nLoadInt 2")
    assert value == 1 and vm.halted


def test_an_unwind_then_a_root_ip_leaves_every_function():
    value, vm = run("""
        FMark out
        Call f 0
        Pop
        LoadInt 99
        Jump end
    out:
        LoadInt 42
    end:
        FHalt
    .sub f
        LoadInt 5
        FExit
        ReturnValue
    """)
    assert value == 42
    assert len(vm.frames) == 1 and vm.stack == []


def test_a_python_error_in_a_step_is_that_ops_vmerror_with_its_cause():
    with pytest.raises(VMError) as info:
        run("Nop\nFFail")
    e = info.value
    assert "extension op FFail failed: KeyError" in e.message
    assert e.op == "FFail" and e.ip == 1
    assert isinstance(e.__cause__, KeyError)


@pytest.mark.parametrize(("op", "message"), [
    ("FBadFactory", "could not be prepared: RuntimeError: cannot bind"),
    ("FNoStep", "returned 42, not a step function")])
def test_a_failing_factory_is_a_located_vmerror_when_its_op_runs(op, message):
    with pytest.raises(VMError, match=message) as info:
        run(f"LoadInt 1\nPop\n{op}")
    assert info.value.op == op and info.value.ip == 2
    chunk = assemble(f"Jump end\n{op}\nend:\nLoadInt 3")
    assert VM(chunk, extensions=[EXT]).run() == 3  # never reached: no error


def test_a_step_popping_below_its_inputs_is_a_stack_underflow():
    with pytest.raises(StackUnderflow):
        run("LoadInt 1\nFPopTwo")


def test_pop_owned_gives_a_copy_when_the_array_is_shared():
    value, vm = run("""
        LoadConst [1]
        SetSlot 0
        GetSlot 0
        FGrow
        GetSlot 0
    """)
    assert value == [1]
    assert vm.stack == [[1, 0]]


def test_old_handlers_and_factories_run_side_by_side():
    assert run("LoadInt 4\nPOldDouble\nLoadInt 1\nFAddK 0\nFLate\nFAddK 0")[0] == 16


def test_rebinding_switches_the_protocol():
    s = ExtensionSet("interp-test-rebind", first_id=0xF480, count=2)

    @s.op("RSeven", effect="-- v")
    def old(vm: Any) -> None:
        vm.push(1)

    assert s["RSeven"].handler is old and s["RSeven"].factory is None

    @s.bind("RSeven")
    def new(vm: Any, operands: tuple[Any, ...], ip: int) -> Any:
        def step() -> int:
            vm.stack_api.push(7)
            return ip + 1
        return step

    assert s["RSeven"].factory is new and s["RSeven"].handler is None
    vm = VM(assemble("RSeven"), extensions=[s])
    assert vm.run() == 7
    assert vm.ext_handler(s["RSeven"].id, "RSeven") is new


def test_factory_ops_assemble_and_disassemble_by_mnemonic():
    chunk = assemble("LoadInt 0\nFJumpIfZero end\nFLate\nend:\nFHalt")
    assert "FJumpIfZero" in disassemble(chunk) and "FLate" in disassemble(chunk)


# -- OperandStack ---------------------------------------------------------------------------

def test_operand_stack_operations():
    items: list[Any] = []
    s = OperandStack(items)
    s.push(1)
    s.pushn([2, 3, 4])
    assert len(s) == 4 and s.peek() == 4 and s.peek(2) == 2
    s.set_top(5)
    assert s.popn(2) == [3, 5]
    assert s.pop() == 2
    s.drop(1)
    assert items == [] and s.popn(0) == []
    with pytest.raises(IndexError):
        s.popn(1)
    with pytest.raises(IndexError):
        s.drop(1)


def test_the_vm_stack_api_is_the_vm_stack_across_resets():
    chunk = assemble("LoadInt 1")
    vm = VM(chunk)
    api = vm.stack_api
    vm.run()
    vm.reset()
    api.push(Undef)
    assert vm.stack == [Undef]
