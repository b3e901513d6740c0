"""Pure Int code's flow (fusevm.jit.trace.funcir) read from the op table: the depths it
finds are the verifier's, and a call's argument count is its callee's."""

from __future__ import annotations

import pytest

from fusevm.asm import assemble
from fusevm.bench.jit_workloads import ACK_SUB, FIB_SUB
from fusevm.jit.trace.funcir import NotPure, _flow, emit_main, function_body, main_body
from fusevm.verify import analysis

#: Root code calling pure functions: a loop, slots set, values left on the stack, a jump
#: to the chunk's end.
PROGRAMS = [
    "LoadInt 7\nCall fib 1\nReturnValue\n" + FIB_SUB,
    "LoadInt 2\nLoadInt 3\nCall ack 2\nReturnValue\n" + ACK_SUB,
    "LoadInt 9\nCall fib 1\nJump end\n" + FIB_SUB + "end:\n    Nop\n",
    """
    LoadInt 99
    LoadInt 0
    SetSlot 1
    LoadInt 5
top:
    Dup
    Call fib 1
    GetSlot 1
    Add
    SetSlot 1
    Dec
    Dup
    LoadInt 0
    NumGt
    JumpIfTrue top
    GetSlot 1
    Swap
    Pop
    Jump end
""" + FIB_SUB + "end:\n    Nop\n",
]


@pytest.mark.parametrize("text", PROGRAMS)
def test_the_depths_are_the_verifiers(text: str) -> None:
    chunk = assemble(text)
    want = analysis(chunk).depth
    body, _ = main_body(chunk)
    flow = _flow(chunk, body, 0, 0, True)
    assert flow.depth == {ip: want[ip] for ip in body}
    for _, entry in chunk.sub_entries:
        body, argc = function_body(chunk, entry)
        flow = _flow(chunk, body, entry, argc, False)
        assert flow.depth == {ip: want[ip] for ip in body}


def test_a_call_with_other_than_the_native_functions_arguments_is_refused() -> None:
    # (Two values on the stack: a depth walk that took the callee's count would not fail.)
    chunk = assemble("LoadInt 5\n" + PROGRAMS[0])
    (_, entry), = chunk.sub_entries
    emit_main(chunk, {entry: 1})
    with pytest.raises(NotPure, match="a call with 1 arguments, not 2"):
        emit_main(chunk, {entry: 2})
