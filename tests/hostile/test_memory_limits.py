"""Every op that grows a string or container stops at the VM's size limit with MemoryLimit.

One limit (`VM(max_size=...)`, default `fusevm.limits.DEFAULT_MAX_SIZE`) governs them all;
the error names the op and its location, and the VM never raises MemoryError.
"""

from __future__ import annotations

from typing import Any

import pytest

from fusevm import VM, MemoryLimit, ResourceLimit
from fusevm.asm import assemble
from fusevm.limits import DEFAULT_MAX_SIZE

LIMIT = 1000

#: (op that must fail, program). Each grows past LIMIT at that op.
GROWERS: dict[str, str] = {
    "Concat": """
        LoadConst "x"
        SetSlot 0
    top:
        GetSlot 0
        GetSlot 0
        Concat
        SetSlot 0
        Jump top
    """,
    "StringRepeat": 'LoadConst "ab"\nLoadInt 501\nStringRepeat',
    "ConcatConstLoop": 'LoadConst ""\nSetSlot 0\nLoadInt 0\nSetSlot 1\n'
                       'ConcatConstLoop "xy" 0 1 600',
    "PushIntRangeLoop": "DeclareArray a\nLoadInt 0\nSetSlot 0\nPushIntRangeLoop a 0 1001",
    "Range": "LoadInt 1\nLoadInt 1001\nRange",
    "RangeStep": "LoadInt 0\nLoadInt 2002\nLoadInt 2\nRangeStep",
    "ArrayPush": "DeclareArray a\ntop:\nLoadInt 1\nArrayPush a\nJump top",
    "ArraySet": "DeclareArray a\nLoadInt 1\nLoadInt 1000\nArraySet a",
    "SlotArraySet": "MakeArray 0\nSetSlot 0\nLoadInt 1\nLoadInt 1000\nSlotArraySet 0",
    "Call": """
        .slots 100
        Call f 0
    .sub f
        Call f 0
        Return
    """,
    "HashSet": """
        DeclareHash h
        LoadInt 0
        SetSlot 0
    top:
        LoadInt 1
        GetSlot 0
        HashSet h
        PreIncSlotVoid 0
        Jump top
    """,
}


@pytest.mark.parametrize("op", list(GROWERS))
def test_growth_past_the_limit_is_a_located_memory_limit(op: str) -> None:
    vm = VM(assemble(GROWERS[op], source="grow.fasm"), max_size=LIMIT)
    with pytest.raises(MemoryLimit) as info:
        vm.run()
    err = info.value
    assert err.op == op
    assert err.source == "grow.fasm" and err.line is not None
    assert "max_size" in str(err)
    assert isinstance(err, ResourceLimit)


def test_growth_up_to_the_limit_is_fine() -> None:
    vm = VM(assemble('LoadConst "ab"\nLoadInt 500\nStringRepeat'), max_size=LIMIT)
    assert len(vm.run()) == LIMIT


def test_default_limit_is_the_one_in_fusevm_limits() -> None:
    vm = VM(assemble("Nop"))
    assert vm.max_size == DEFAULT_MAX_SIZE


def test_memory_error_inside_a_handler_becomes_memory_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the limit misses, a MemoryError still leaves the VM as a located VMError."""
    from fusevm.interp.handlers import compare

    def oom(*_: Any) -> None:
        raise MemoryError
    monkeypatch.setattr(compare, "check_size", oom)
    vm = VM(assemble('LoadConst "a"\nLoadConst "b"\nConcat', source="oom.fasm"), max_size=0)
    with pytest.raises(MemoryLimit) as info:
        vm.run()
    assert info.value.op == "Concat" and info.value.line == 3


def test_pattern_substitution_that_multiplies_lengths_is_a_memory_limit() -> None:
    """`${v//?/r}` makes len(v) * len(r) characters: 4,096 x 32,768 is past the default."""
    text = ('LoadConst "v"\nLoadConst "?"\nLoadConst ' + '"' + "r" * 32768 + '"' +
            "\nExpandParam //")
    vm = VM(assemble(".name v\n" + 'LoadConst "' + "x" * 4096 + '"\nSetVar v\n' + text,
                     source="subst.fasm"))
    with pytest.raises(MemoryLimit) as info:
        vm.run()
    assert info.value.op == "ExpandParam"
