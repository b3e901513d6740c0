"""Pure Int code's flow (fusevm.jit.trace.funcir) read from the op table: the depths it
finds are the verifier's, and a call's argument count is its callee's."""

from __future__ import annotations

import pytest
from trace_progs import pure_program

from fusevm.asm import assemble
from fusevm.bench.jit_workloads import ACK_SUB, FIB_SUB
from fusevm.jit.trace.funcir import NotPure, _flow, emit_main, function_body, main_body
from fusevm.verify import analysis

FIB = "LoadInt 7\nCall fib 1\nReturnValue\n" + FIB_SUB
ACK = "LoadInt 2\nLoadInt 3\nCall ack 2\nReturnValue\n" + ACK_SUB


@pytest.mark.parametrize("text", [FIB, ACK] + [pure_program(seed) for seed in range(12)])
def test_the_depths_are_the_verifiers(text: str) -> None:
    chunk = assemble(text)
    want = analysis(chunk).depth
    checked = 0
    try:
        body, _ = main_body(chunk)
        flow = _flow(chunk, body, 0, 0, True)
    except NotPure:
        pass  # (a generated root code may hold what keeps it interpreted)
    else:
        assert flow.depth == {ip: want[ip] for ip in body}
        checked += 1
    for _, entry in chunk.sub_entries:
        try:
            body, argc = function_body(chunk, entry)
        except NotPure:
            continue  # (f3 of the generated programs calls no function)
        flow = _flow(chunk, body, entry, argc, False)
        assert flow.depth == {ip: want[ip] for ip in body}
        checked += 1
    assert checked


def test_a_call_with_other_than_the_native_functions_arguments_is_refused() -> None:
    # (Two values on the stack: a depth walk that took the callee's count would not fail.)
    chunk = assemble("LoadInt 5\n" + FIB)
    (_, entry), = chunk.sub_entries
    emit_main(chunk, {entry: 1})
    with pytest.raises(NotPure, match="a call with 1 arguments, not 2"):
        emit_main(chunk, {entry: 2})
