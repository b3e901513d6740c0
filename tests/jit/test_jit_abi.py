"""The native ABI: one context struct, relocation-free position-independent code, guards.

Units are `i64 unit(JitCtx*)`; the LLVM struct is derived from the ctypes declaration;
machine code is pre-linked into a blob that runs from any address and names no external
symbol (helpers come from the context's table); the slot buffer is sized from the unit's
highest slot and only slots the unit may write are copied back.
"""

from __future__ import annotations

import ctypes

import pytest
from jitkit import asm

from conftest import requires_llvmlite
from fusevm.jit import runtime
from fusevm.jit.abi import CTX_FIELD, Helper, JitCtx, SlotKind, Status, TrapCode
from fusevm.jit.config import get_config
from fusevm.jit.unit import Unit, build_unit

pytestmark = requires_llvmlite


def _unit(text: str, kinds: tuple[int, ...] = (), strict: bool = False) -> Unit:
    an = runtime.analysis(asm(text))
    return build_unit(an, "block", kinds, strict, get_config())


def test_the_llvm_context_type_is_derived_from_the_ctypes_struct() -> None:
    import llvmlite.binding as llvm

    from fusevm.jit.codegen import target_machine
    from fusevm.jit.lower.builder import CTX_TYPE
    tm = target_machine(0)
    mod = llvm.parse_assembly(f'target datalayout = "{tm.target_data}"\n'
                              f"@ctx = global {CTX_TYPE} zeroinitializer\n")
    struct = mod.get_global_variable("ctx").global_value_type
    td = tm.target_data
    assert len(CTX_TYPE.split(",")) == len(JitCtx._fields_)
    assert td.get_abi_size(struct) == ctypes.sizeof(JitCtx)
    for name, index in CTX_FIELD.items():
        assert td.get_element_offset(struct, index) == getattr(JitCtx, name).offset


def test_units_are_relocation_free_blobs_that_run_from_any_address() -> None:
    from fusevm.jit.loader import CodeRegion
    unit = _unit("GetSlot 0\nLoadFloat 0.1\nAdd\nLoadFloat 2.5\nPow\nLoadFloat 3.0\nMod\n"
                 "SinFloat\nGetSlot 1\nGcdInt\nPop\n", (SlotKind.FLOAT, SlotKind.INT))
    native = unit.native
    assert native.blob is not None and native.cacheable
    assert set(unit.info.helper_ids) == {Helper.POW, Helper.FMOD, Helper.SIN, Helper.GCD}
    slots = [1.25, 12]
    first = unit.run(slots, (int(SlotKind.FLOAT), int(SlotKind.INT)))
    # The same bytes mapped elsewhere compute the same thing.
    copy = CodeRegion(native.blob)
    fn = ctypes.PYFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)(copy.address + native.entry_offset)
    assert fn(unit.ctx_addr) == Status.OK
    assert first == [] and slots == [1.25, 12]


def test_an_object_calling_an_external_symbol_is_not_pre_linked() -> None:
    import llvmlite.binding as llvm

    from fusevm.jit.codegen import compile_text, target_machine
    from fusevm.jit.objlink import Unlinkable, prelink
    text = ('declare double @fmod(double, double)\n'
            'define i64 @"unit"(ptr %".1") nounwind {\n'
            'entry:\n  %r = call double @fmod(double 7.0, double 2.0)\n'
            '  %b = bitcast double %r to i64\n  ret i64 %b\n}\n')
    tm = target_machine(0)
    obj = tm.emit_object(llvm.parse_assembly(text))
    with pytest.raises(Unlinkable, match="external symbol 'fmod'"):
        prelink(obj, "unit")
    native = compile_text(text)  # falls back to MCJIT, not cacheable
    assert native.blob is None and not native.cacheable
    fn = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)(native.address)
    assert fn(0) == ctypes.c_int64.from_buffer_copy(ctypes.c_double(1.0)).value


def test_the_slot_buffer_is_sized_from_the_highest_slot_and_only_writes_are_copied() -> None:
    unit = _unit(".slots 9\nGetSlot 3\nGetSlot 5\nAdd\nSetSlot 4\nGetSlot 4\n",
                 (SlotKind.INT, SlotKind.INT))
    assert unit.nslots == 6
    assert [s for s, _ in unit.copy_out] == [4]
    slots = ["a", "b", "c", 2, Ellipsis, 3]
    assert unit.run(slots, (int(SlotKind.INT), int(SlotKind.INT))) == [5]
    assert slots == ["a", "b", "c", 2, 5, 3]


def test_a_kind_byte_that_differs_from_the_units_entry_kinds_deopts() -> None:
    unit = _unit("GetSlot 0\nLoadInt 1\nAdd\n", (SlotKind.INT,))
    slots = [41]
    assert unit.run(slots, (int(SlotKind.INT),)) == [42]
    assert unit.run(slots, (int(SlotKind.FLOAT),)) is None
    assert unit.trap() == (TrapCode.KIND_GUARD, 0)


def test_traps_deopt_with_their_code_and_op_index() -> None:
    unit = _unit("GetSlot 0\nLoadInt 3\nGetSlot 1\nMod\nAdd\n", (SlotKind.INT, SlotKind.INT))
    assert unit.run([1, 0], (0, 0)) is None
    assert unit.trap() == (TrapCode.MOD_ZERO, 3)
    unit = _unit("GetSlot 0\nLoadInt 1\nAdd\n", (SlotKind.INT,), strict=True)
    assert unit.run([2**63 - 1], (0,)) is None
    assert unit.trap() == (TrapCode.OVERFLOW, 2)


def test_block_names_follow_op_indices_in_the_ir() -> None:
    unit = _unit("LoadInt 0\nSetSlot 0\ntop:\nPreIncSlotVoid 0\nGetSlot 0\nLoadInt 5\nNumLt\n"
                 "JumpIfTrue top\nGetSlot 0\n")
    text = unit.info.ir_text
    for name in ("B0", "B2", "B7", "B8", "entry"):
        assert f'"{name}":' in text, name
