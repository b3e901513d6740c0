"""D1: every failure is a VMError subclass naming the op, its index, the source and line.

One test per error case of D1. Build-time errors come from ChunkBuilder.build() or
fusevm.verify.verify (BuildError); run-time errors from VM.run().
"""

from __future__ import annotations

import io

import pytest

from fusevm import VM, BuildError, Chunk, ChunkBuilder, ExtensionSet, Op, VMError
from fusevm.errors import (
    FormatError,
    IndexOutOfRange,
    IntegerOverflow,
    RecursionLimit,
    TypeMismatch,
    UnknownExtension,
    ZeroDivision,
)
from fusevm.ops import SECTIONS, Kind
from fusevm.verify import verify

SOURCE = "errors.fasm"


def build(*ops: tuple, names=(), subs=None, consts=()) -> Chunk:
    """A chunk from (op, *operands) tuples; op i gets source line 10 + i."""
    b = ChunkBuilder(source=SOURCE)
    for n in names:
        b.add_name(n)
    for c in consts:
        b.add_constant(c)
    labels = {}
    for i, (op, *operands) in enumerate(ops):
        if op == "label":
            labels[operands[0]] = b.current_pos()
            continue
        b.emit(op, *operands, line=10 + i)
    for name, label in (subs or {}).items():
        b.add_sub_entry(name, labels[label])
    return b.build(fuse=False)


def run(chunk: Chunk, **options):
    return VM(chunk, stdout=io.StringIO(), **options).run()


def assert_located(err: VMError, op: str, ip: int, line: int) -> None:
    assert (err.op, err.ip, err.source, err.line) == (op, ip, SOURCE, line)
    assert f"{op} at op {ip}" in str(err)
    assert err.where() == f"{SOURCE}:{line}"


def test_stack_underflow_is_refused_at_build():
    with pytest.raises(BuildError, match="stack underflow") as info:
        build((Op.LoadInt, 1), (Op.Add,))
    assert_located(info.value, "Add", 1, 11)


def _one_value_too_few(op: Op) -> tuple[ChunkBuilder, int]:
    """A builder running `op` (generic operands) on one value fewer than it pops; its ip."""
    b = ChunkBuilder(source=SOURCE)
    end = b.label("end")
    body = b.label("body")
    generic = {
        Kind.CONST: lambda: b.add_constant(1), Kind.NAME: lambda: b.add_name("f"),
        Kind.TARGET: lambda: end, Kind.BLOCK: lambda: b.add_block_range(body, end),
        Kind.COUNT: lambda: 2, Kind.U8: lambda: 2, Kind.SLOT: lambda: 0,
        Kind.I32: lambda: 0, Kind.INT: lambda: 0, Kind.FLOAT: lambda: 0.0,
        Kind.BUILTIN: lambda: 1,
    }
    operands = tuple(generic[o.kind]() for o in op.spec.operands)
    pops = op.spec.effect.pops(op.spec, operands)
    for _ in range(pops - 1):
        b.emit(Op.LoadInt, 1, line=1)
    ip = b.emit(op, *operands, line=2)
    b.emit(Op.Jump, end, line=3)
    b.add_sub_entry("f", b.current_pos())  # a function and a block body to point at
    b.bind(body)
    b.emit(Op.LoadInt, 1, line=4)
    b.emit(Op.ReturnValue, line=5)
    b.bind(end)
    return b, ip


#: Every core op outside the Shell section that pops at least one value.
POPPING_OPS = [op for section, ops in SECTIONS.items() if section != "Shell" for op in ops
               if op.spec.effect.inputs]


@pytest.mark.parametrize("op", POPPING_OPS, ids=lambda op: op.name)
def test_every_op_given_one_value_too_few_is_refused_at_build(op):
    b, ip = _one_value_too_few(op)
    with pytest.raises(BuildError, match="stack underflow") as info:
        b.build(fuse=False)
    assert (info.value.op, info.value.ip, info.value.line) == (op.name, ip, 2)


def test_stack_underflow_in_a_function_is_refused_at_build():
    b = ChunkBuilder(source=SOURCE)
    b.emit(Op.LoadInt, 1, line=1)
    b.emit(Op.Call, b.add_name("f"), 1, line=2)
    end = b.label()
    b.emit(Op.Jump, end, line=3)
    b.add_sub_entry("f", b.current_pos())
    b.emit(Op.Pop, line=4)
    b.emit(Op.Pop, line=5)
    b.emit(Op.LoadInt, 0, line=6)
    b.emit(Op.ReturnValue, line=7)
    b.bind(end)
    with pytest.raises(BuildError, match="stack underflow in function 'f'") as info:
        b.build(fuse=False)
    assert_located(info.value, "Pop", 4, 5)


def test_a_container_op_on_a_global_of_the_wrong_kind_raises_type_mismatch():
    chunk = build((Op.LoadInt, 5), (Op.SetVar, 0), (Op.LoadInt, 1), (Op.ArrayPush, 0),
                  names=["a"])
    with pytest.raises(TypeMismatch, match="global 'a' holds Int, not an Array") as info:
        run(chunk)
    assert_located(info.value, "ArrayPush", 3, 13)


def test_a_hash_op_on_an_array_global_raises_type_mismatch():
    chunk = build((Op.DeclareArray, 0), (Op.LoadConst, 0), (Op.HashGet, 0),
                  names=["h"], consts=["k"])
    with pytest.raises(TypeMismatch, match="global 'h' holds Array, not a Hash") as info:
        run(chunk)
    assert_located(info.value, "HashGet", 2, 12)


def test_a_slot_array_op_on_a_slot_of_the_wrong_kind_raises_type_mismatch():
    chunk = build((Op.LoadConst, 0), (Op.SetSlot, 0), (Op.LoadInt, 0), (Op.SlotArrayGet, 0),
                  consts=["text"])
    with pytest.raises(TypeMismatch, match="slot 0 holds Str") as info:
        run(chunk)
    assert_located(info.value, "SlotArrayGet", 3, 13)


def test_a_call_to_an_unknown_function_is_refused_at_build():
    with pytest.raises(BuildError, match="undefined function 'nope'") as info:
        build((Op.LoadInt, 0), (Op.Call, 0, 0), names=["nope"])
    assert_located(info.value, "Call", 1, 11)


EXT = ExtensionSet("interp-errors", first_id=0xF300, count=4)


@EXT.op("ErrProbe", effect="-- v")
def err_probe(vm):
    vm.push(1)


def test_an_extension_op_not_registered_with_the_vm_raises_unknown_extension():
    chunk = build((Op.LoadInt, 0), (EXT["ErrProbe"],))
    with pytest.raises(UnknownExtension, match="not registered with this VM") as info:
        run(chunk)
    assert_located(info.value, "ErrProbe", 1, 11)
    assert run(chunk, extensions=[EXT]) == 1


def test_an_extension_id_no_set_declares_is_refused_at_build():
    with pytest.raises(BuildError, match="no extension set declares op id 0xfff1") as info:
        build((Op.LoadInt, 0), (Op.ExtendedWide, 0xFFF1, 3))
    assert_located(info.value, "ExtendedWide", 1, 11)


def test_an_unregistered_builtin_id_raises_unknown_extension():
    chunk = build((Op.LoadInt, 0), (Op.CallBuiltin, 77, 0))
    with pytest.raises(UnknownExtension, match="no builtin is registered with id 77") as info:
        run(chunk)
    assert_located(info.value, "CallBuiltin", 1, 11)


def _raw(ops, *, names=(), consts=(), slot_count=0, block_ranges=(), sub_chunks=()) -> Chunk:
    return Chunk(ops, consts, names, [10 + i for i in range(len(ops))], slot_count,
                 sub_chunks, block_ranges, (), SOURCE)


BAD_INDEXES = {
    "constant": ([(Op.LoadInt, 0), (Op.LoadConst, 3)], {}, "LoadConst",
                 "const index 3 is out of range"),
    "name": ([(Op.LoadInt, 0), (Op.GetVar, 2)], {"names": ["a"]}, "GetVar",
             "name index 2 is out of range"),
    "slot": ([(Op.LoadInt, 0), (Op.GetSlot, 4)], {"slot_count": 2}, "GetSlot",
             "slot 4 is not below"),
    "block": ([(Op.LoadConst, 0), (Op.MapBlock, 1)], {"consts": [[1]]}, "MapBlock",
              "block index 1 is out of range"),
    "sub-chunk": ([(Op.LoadInt, 0), (Op.CmdSubst, 0)], {}, "CmdSubst",
                  "sub index 0 is out of range"),
    "jump target": ([(Op.LoadInt, 0), (Op.Jump, 9)], {}, "Jump", "jump target 9 is past"),
}


@pytest.mark.parametrize("kind", BAD_INDEXES)
def test_an_out_of_range_index_is_refused_by_the_verifier(kind):
    ops, pools, op, message = BAD_INDEXES[kind]
    with pytest.raises(BuildError, match=message) as info:
        verify(_raw(ops, **pools))
    assert_located(info.value, op, 1, 11)


@pytest.mark.parametrize("kind", BAD_INDEXES)
def test_a_vm_refuses_an_unverified_chunk_with_an_out_of_range_index(kind):
    ops, pools, op, message = BAD_INDEXES[kind]
    with pytest.raises(BuildError, match=message) as info:
        VM(_raw(ops, **pools))
    assert_located(info.value, op, 1, 11)


def test_loading_serialized_bytes_with_an_out_of_range_index_is_refused():
    from fusevm.serialize import dump  # (the writer itself: `to_bytes` would refuse it)
    data = dump(_raw([(Op.LoadInt, 0), (Op.LoadConst, 3)]))
    with pytest.raises(FormatError, match="const index 3 is out of range") as info:
        Chunk.from_bytes(data)
    cause = info.value.__cause__
    assert isinstance(cause, BuildError)
    assert_located(cause, "LoadConst", 1, 11)


@pytest.mark.parametrize("op", [Op.ArraySet, Op.SlotArraySet])
def test_a_negative_index_write_raises_index_out_of_range(op):
    target = (Op.DeclareArray, 0) if op is Op.ArraySet else (Op.LoadConst, 0)
    ops = [target]
    if op is Op.SlotArraySet:
        ops.append((Op.SetSlot, 0))
    ops += [(Op.LoadInt, 9), (Op.LoadInt, -2), (op, 0)]
    chunk = build(*ops, names=["a"], consts=[[1, 2]])
    with pytest.raises(IndexOutOfRange, match="negative array index -2") as info:
        run(chunk)
    assert_located(info.value, op.name, len(ops) - 1, 10 + len(ops) - 1)


def test_division_by_zero_raises_zero_division():
    chunk = build((Op.LoadInt, 1), (Op.LoadFloat, -0.0), (Op.Div,))
    with pytest.raises(ZeroDivision, match="division by zero") as info:
        run(chunk)
    assert_located(info.value, "Div", 2, 12)


def test_modulo_by_zero_raises_zero_division():
    chunk = build((Op.LoadInt, 7), (Op.LoadInt, 0), (Op.Mod,))
    with pytest.raises(ZeroDivision, match="modulo by zero") as info:
        run(chunk)
    assert_located(info.value, "Mod", 2, 12)


def test_a_call_depth_over_the_limit_raises_recursion_limit():
    chunk = build((Op.Call, 0, 0), (Op.Return,), ("label", "f"), (Op.Call, 0, 0),
                  (Op.Return,), names=["f"], subs={"f": "f"})
    with pytest.raises(RecursionLimit, match="limit of 50 frames") as info:
        run(chunk, max_depth=50)
    assert_located(info.value, "Call", 2, 13)


def test_integer_overflow_under_strict_int_raises_integer_overflow():
    chunk = build((Op.LoadInt, 2**62), (Op.LoadInt, 2), (Op.Mul,))
    with pytest.raises(IntegerOverflow, match="integer overflow in Mul") as info:
        run(chunk, strict_int=True)
    assert_located(info.value, "Mul", 2, 12)
    assert run(chunk) == -(2**63)


def test_an_error_in_a_called_function_names_the_op_inside_it():
    chunk = build((Op.LoadInt, 0), (Op.Call, 0, 1), (Op.Return,), ("label", "f"),
                  (Op.LoadInt, 1), (Op.Swap,), (Op.Div,), (Op.ReturnValue,),
                  names=["f"], subs={"f": "f"})
    with pytest.raises(ZeroDivision) as info:
        run(chunk)
    assert_located(info.value, "Div", 5, 16)


def test_every_error_class_is_a_vm_error():
    for cls in (BuildError, TypeMismatch, UnknownExtension, IndexOutOfRange, ZeroDivision,
                RecursionLimit, IntegerOverflow, FormatError):
        assert issubclass(cls, VMError)


def test_a_vm_whose_run_failed_refuses_to_continue_until_rewound():
    """The failing op consumed its operands and pushed no result: going on from there
    would compute with a broken stack (10 + (1 / 0) gave 11), so run() refuses; ip is
    left past the op for inspection, and rewind() or reset() starts over."""
    chunk = build((Op.LoadInt, 10), (Op.LoadInt, 1), (Op.LoadInt, 0), (Op.Div,), (Op.Add,))
    vm = VM(chunk)
    with pytest.raises(ZeroDivision):
        vm.run()
    assert vm.ip == 4
    with pytest.raises(VMError, match="cannot continue: its run failed at op 3"):
        vm.run()
    vm.rewind()
    with pytest.raises(ZeroDivision):
        vm.run()
    vm.reset(build((Op.LoadInt, 7)))
    assert vm.run() == 7
