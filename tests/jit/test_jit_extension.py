"""A frontend registers lowerings for its own extension ops (docs/frontends.md)."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from typing import Any

import pytest
from jitkit import runs

from conftest import requires_llvmlite
from fusevm import VM, ChunkBuilder, ExtensionSet, Op
from fusevm.chunk import Chunk
from fusevm.instr import Decoded
from fusevm.jit import (
    Cx,
    JitCompiler,
    lower_extension,
    register_global_extension,
    register_jit_helper,
    unregister_global_extension,
)
from fusevm.values import to_float, to_int, wrap64

pytestmark = requires_llvmlite

ext = ExtensionSet("jit-tests", first_id=0x7000, count=0x10)


@ext.op("Triple", effect="a -- r", formula="r = wrap(int(a) * 3)")
def triple(vm: VM) -> None:
    vm.push(wrap64(to_int(vm.pop()) * 3))


@ext.op("AddK", operands="k:U8", effect="a -- r", formula="r = int(a) + k")
def add_k(vm: VM, k: int) -> None:
    vm.push(wrap64(to_int(vm.pop()) + k))


@ext.op("Halve", effect="a -- r", formula="r = float(a) / 2")
def halve(vm: VM) -> None:
    vm.push(to_float(vm.pop()) / 2)


@ext.op("Square", effect="a -- r", formula="r = wrap(int(a) ** 2) via a host helper")
def square(vm: VM) -> None:
    vm.push(wrap64(to_int(vm.pop()) ** 2))


@ext.op("Opaque", effect="a -- r", formula="r = a (no JIT lowering)")
def opaque(vm: VM) -> None:
    pass


@lower_extension(ext, "Triple")
def lower_triple(cx: Cx, d: Decoded) -> None:
    cx.push(cx.int_arith("mul", cx.to_int(cx.pop()), cx.int_const(3)))


@lower_extension(ext, "AddK")
def lower_add_k(cx: Cx, d: Decoded) -> None:
    cx.push(cx.int_arith("add", cx.to_int(cx.pop()), cx.int_const(d.operands[0])))


_SQUARE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64)(lambda x: wrap64(x * x))
SQUARE_ID = register_jit_helper("jit-tests.square", ctypes.cast(_SQUARE, ctypes.c_void_p).value,
                                1, False, keepalive=_SQUARE)


@lower_extension(ext, "Square")
def lower_square(cx: Cx, d: Decoded) -> None:
    cx.push(cx.call_helper(SQUARE_ID, cx.to_int(cx.pop())))


class HalvingExtension:
    """The JitExtension protocol: lowers Halve, declines everything else it is asked."""

    def name(self) -> str:
        return "halving"

    def op_count(self) -> int:
        return 1

    def can_jit(self, ext_id: int) -> bool:
        return ext_id in (ext["Halve"].id, ext["Opaque"].id)

    def emit_extended(self, ext_id: int, arg: int, cx: Any) -> bool:
        if ext_id != ext["Halve"].id:
            return False
        cx.push(cx.float_op("fdiv", cx.to_float(cx.pop()), cx.float_const(2.0)))
        return True


@pytest.fixture(autouse=True)
def halving() -> Iterator[None]:
    register_global_extension(HalvingExtension())
    yield
    unregister_global_extension("halving")


def chunk_of(*names: str, start: int = 7) -> Chunk:
    b = ChunkBuilder(source="ext.fasm")
    b.emit(Op.LoadInt, start)
    for name in names:
        if name == "AddK":
            b.emit(ext[name], 5)
        else:
            b.emit(ext[name])
    return b.build(fuse=False)


def run_both(chunk: Chunk) -> tuple[Any, Any, bool]:
    plain = VM(chunk, extensions=[ext]).run()
    vm = VM(chunk, extensions=[ext])
    vm.set_tier_hook(None)
    from fusevm.jit.policy import JitHook
    vm.set_tier_hook(JitHook(False, force="block"))
    before = runs("block")
    jitted = vm.run()
    return plain, jitted, runs("block") > before


def test_a_registered_lowering_runs_natively() -> None:
    plain, jitted, ran = run_both(chunk_of("Triple", "AddK", "Triple"))
    assert plain == jitted == 78 and ran


def test_a_host_helper_is_called_through_the_units_table() -> None:
    plain, jitted, ran = run_both(chunk_of("Square", "AddK", start=-9))
    assert plain == jitted == 86 and ran


def test_a_jit_extension_object_lowers_its_ops() -> None:
    plain, jitted, ran = run_both(chunk_of("Halve", "Halve"))
    assert plain == jitted == 1.75 and ran


def test_a_declining_extension_refuses_the_unit() -> None:
    chunk = chunk_of("Triple", "Opaque")
    why = JitCompiler().why_not(chunk, "block")
    assert why == "op 2 (Opaque) in B0: extension 'halving' declined to lower Opaque"
    plain, jitted, ran = run_both(chunk)
    assert plain == jitted == 21 and not ran


def test_an_unlowered_extension_op_is_named_by_why_not() -> None:
    unregister_global_extension("halving")
    why = JitCompiler().why_not(chunk_of("Halve"), "block")
    assert why == ("op 1 (Halve): no lowering rule for Halve (no JIT lowering is registered "
                   "for this extension op)")


def test_a_vm_without_the_extension_is_not_jitted() -> None:
    vm = VM(chunk_of("Triple"))
    vm.enable_jit()
    with pytest.raises(Exception, match="not registered"):
        vm.run()
