"""CallBuiltin, Extended, ExtendedWide and the ExtensionSet API (docs/frontends.md, D1).

Extension sets register process-wide, so the sets here use names and ids of their own
(0xF000 and up) and are created once per module.
"""

from __future__ import annotations

import io

import pytest

from fusevm import VM, BuildError, ChunkBuilder, ExtensionSet, Op, Undef, VMError
from fusevm.asm import assemble, disassemble
from fusevm.errors import AsmError, UnknownExtension

from .support import asm, assert_same, run_chunk

# -- a test extension set ---------------------------------------------------------------

EXT = ExtensionSet("interp-test", first_id=0xF000, count=0x20)


@EXT.op("TDouble", effect="v -- r", formula="r = 2 * int(v)")
def t_double(vm):
    vm.push(vm.pop() * 2)


@EXT.op("TPushArg", operands="arg:U8", effect="-- v", formula="push arg")
def t_push_arg(vm, arg):
    vm.push(arg)


@EXT.op("TPack", operands="a:I32 b:U8 c:COUNT", effect="-- r", formula="push [a, b, c]")
def t_pack(vm, a, b, c):
    vm.push([a, b, c])


@EXT.op("TFloat", operands="x:FLOAT", effect="-- r", formula="push x")
def t_float(vm, x):
    vm.push(x)


@EXT.op("TPeekSlot", operands="slot:SLOT", effect="-- r", formula="push top and slot")
def t_peek_slot(vm, slot):
    vm.push([vm.peek(), vm.slots[slot]])


@EXT.op("TJumpIfZero", operands="target:TARGET", effect="v --",
        formula="if int(v) == 0: ip = target")
def t_jump_if_zero(vm, target):
    if vm.pop() == 0:
        vm.jump(target)


@EXT.op("THalt", formula="stop the run")
def t_halt(vm):
    vm.halt()


@EXT.op("TFail", formula="raise a Python error")
def t_fail(vm):
    raise KeyError("boom")


@EXT.op("TGlobal", operands="name:NAME", effect="-- v", formula="push globals[name]")
def t_global(vm, name):
    vm.push(vm.globals[name])


EXT.declare("TNoHandler", formula="declared without a handler")

OTHER = ExtensionSet("interp-test-other", first_id=0xF100, count=0x10)


@OTHER.op("TOther", effect="-- v")
def t_other(vm):
    vm.push("other")


def run_ext(text: str, *, extensions=(EXT,), **kw):
    chunk = assemble(text, source="ext.fasm")
    out = io.StringIO()
    vm = VM(chunk, stdout=out, extensions=list(extensions), **kw)
    return vm.run(), vm


# -- ExtensionSet --------------------------------------------------------------------------

def test_extension_ops_get_consecutive_ids_from_the_first_id():
    assert EXT["TDouble"].id == 0xF000
    assert EXT["TPushArg"].id == 0xF001
    assert 0xF000 in EXT and 0xF020 not in EXT


def test_an_overlapping_id_range_is_refused():
    with pytest.raises(ValueError, match="overlaps"):
        ExtensionSet("interp-test-overlap", first_id=0xF010, count=0x100)


def test_recreating_a_set_with_the_same_name_replaces_it():
    a = ExtensionSet("interp-test-reload", first_id=0xF200, count=4)
    b = ExtensionSet("interp-test-reload", first_id=0xF200, count=4)
    assert a is not b


def test_the_ids_of_fusevms_own_sets_are_kept_for_them_before_they_load():
    with pytest.raises(ValueError, match="overlaps the ids of fusevm's own set 'awk'"):
        ExtensionSet("interp-test-in-awk", first_id=0x13F0, count=0x20)
    with pytest.raises(ValueError, match="overlaps the ids of fusevm's own set 'sh'"):
        ExtensionSet("interp-test-in-sh", first_id=0x14FF, count=1)
    with pytest.raises(ValueError, match="'sh' is fusevm's own"):
        ExtensionSet("sh", first_id=0x1400, count=0x10)


def test_ids_below_the_extension_floor_are_refused():
    with pytest.raises(ValueError):
        ExtensionSet("interp-test-low", first_id=0x10, count=4)


def test_declaring_a_core_op_name_is_refused():
    with pytest.raises(ValueError, match="already taken"):
        EXT.declare("Add")


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(name=5, first_id=0xF300, count=4), TypeError, "name must be a non-empty str"),
    (dict(name="", first_id=0xF300, count=4), TypeError, "name must be a non-empty str"),
    (dict(name="interp-test-args", first_id="0xF300", count=4), TypeError,
     "first_id must be an int"),
    (dict(name="interp-test-args", first_id=0xF300, count=None), TypeError,
     "count must be an int"),
    (dict(name="interp-test-args", first_id=0xF300, count=True), TypeError,
     "count must be an int"),
    (dict(name="interp-test-args", first_id=0xF300, count=4, lowerings_from=3), TypeError,
     "lowerings_from"),
    (dict(name="interp-test-args", first_id=0xF300, count=4, hosted={"a": 1}), TypeError,
     "hosted must map"),
], ids=["name-int", "name-empty", "first-id-str", "count-none", "count-bool",
        "lowerings-int", "hosted-value"])
def test_a_set_made_with_arguments_of_the_wrong_type_is_refused_clearly(kwargs, error, match):
    name = kwargs.pop("name")
    with pytest.raises(error, match=match):
        ExtensionSet(name, **kwargs)


@pytest.mark.parametrize(("name", "kwargs", "error", "match"), [
    (7, {}, TypeError, "an op name must be a str"),
    ("two words", {}, ValueError, "must be an identifier"),
    ("", {}, ValueError, "must be an identifier"),
    ("TArgs", dict(operands=5), TypeError, "operands must be a str"),
    ("TArgs", dict(effect=["a", "--"]), TypeError, "effect must be a str"),
    ("TArgs", dict(formula=b"x"), TypeError, "formula must be a str"),
    ("TArgs", dict(flags="BRANCH"), TypeError, "flags must be fusevm.ops.F"),
    ("TArgs", dict(id="0xF010"), TypeError, "id must be an int"),
], ids=["name-int", "name-spaces", "name-empty", "operands", "effect", "formula", "flags",
        "id"])
def test_a_declaration_with_arguments_of_the_wrong_type_is_refused_clearly(name, kwargs,
                                                                           error, match):
    before = dict(EXT.ops)
    with pytest.raises(error, match=match):
        EXT.declare(name, **kwargs)
    assert EXT.ops == before


@pytest.mark.parametrize("decorate", ["op", "factory", "function"])
def test_an_implementation_that_is_not_callable_is_refused(decorate):
    s = ExtensionSet("interp-test-callable", first_id=0xF310, count=4)
    with pytest.raises(TypeError, match="must be callable"):
        getattr(s, decorate)("TNotCallable", effect="-- v")(42)


def test_a_body_whose_source_is_not_text_is_refused():
    s = ExtensionSet("interp-test-body-args", first_id=0xF320, count=4)
    with pytest.raises(TypeError, match="source must be a str"):
        s.body("TNoText", source=5, effect="a -- b")
    with pytest.raises(TypeError, match="names must be a mapping"):
        s.body("TBadNames", source="b = a", names=[1], effect="a -- b")


def test_an_op_with_operands_up_to_one_byte_travels_as_extended():
    b = ChunkBuilder()
    b.emit(EXT["TPushArg"], 7)
    b.emit(EXT["TPack"], -5, 200, 65535)
    chunk = b.build(fuse=False)
    assert chunk.ops[0] == (Op.Extended, 0xF001, 7)
    assert chunk.ops[1][0] is Op.ExtendedWide


# -- running extension ops -----------------------------------------------------------------

def test_an_extended_handler_works_through_push_and_pop():
    value, _ = run_ext("LoadInt 21\nTDouble")
    assert value == 42


def test_extended_passes_its_inline_operand():
    assert run_ext("TPushArg 200")[0] == 200


def test_extended_wide_unpacks_every_operand_with_its_sign():
    assert run_ext("TPack -5 200 65535")[0] == [-5, 200, 65535]
    assert run_ext("TPack -2147483648 0 0")[0] == [-(2**31), 0, 0]


def test_extended_wide_carries_a_float_operand():
    assert_same(run_ext("TFloat -2.5")[0], -2.5)


def test_a_handler_sees_the_current_frames_slots_and_the_stack_top():
    assert run_ext("LoadInt 3\nSetSlot 1\nLoadInt 8\nTPeekSlot 1")[0] == [8, 3]


def test_a_handler_reads_globals_by_name_index():
    assert run_ext("LoadInt 4\nSetVar g\nTGlobal g")[0] == 4


def test_a_handler_jump_continues_at_the_target():
    text = """
        LoadInt {n}
        TJumpIfZero zero
        LoadConst "nonzero"
        Jump end
    zero:
        LoadConst "zero"
    end:
    """
    assert run_ext(text.format(n=0))[0] == "zero"
    assert run_ext(text.format(n=1))[0] == "nonzero"


def test_a_handler_halt_stops_after_the_current_op():
    value, vm = run_ext('LoadInt 1\nTHalt\nLoadConst "not reached"')
    assert value == 1 and vm.halted


def test_extension_ops_assemble_and_disassemble_by_mnemonic():
    chunk = assemble("TPack -1 2 3\nTPushArg 9\nTFloat 0.5", source="ext.fasm")
    text = disassemble(chunk)
    assert "TPack -1 2 3" in text and "TPushArg 9" in text
    assert assemble(text, source="ext.fasm") == chunk


def test_the_verifier_uses_the_extension_stack_effect():
    with pytest.raises(AsmError, match="stack underflow"):
        assemble("TDouble", source="ext.fasm")


def test_register_adds_a_set_to_an_existing_vm():
    chunk = assemble("TOther", source="ext.fasm")
    vm = VM(chunk)
    vm.register(OTHER)
    assert vm.run() == "other"


def test_an_extension_set_not_registered_with_the_vm_is_a_clear_error():
    with pytest.raises(UnknownExtension, match="not registered with this VM") as info:
        run_ext("TOther")
    assert info.value.op == "TOther" and info.value.ip == 0


def test_a_declared_op_without_a_handler_is_a_clear_error():
    with pytest.raises(UnknownExtension, match="has no handler") as info:
        run_ext("TNoHandler")
    assert info.value.op == "TNoHandler"


def test_an_extended_id_no_set_declares_is_refused_at_build():
    b = ChunkBuilder(source="x.fasm")
    b.emit(Op.LoadInt, 1)
    b.emit(Op.Extended, 0xFFF0, 2, line=7)
    with pytest.raises(BuildError, match="no extension set declares") as info:
        b.build(fuse=False)
    assert (info.value.op, info.value.ip, info.value.line) == ("Extended", 1, 7)


def test_a_python_exception_in_a_handler_becomes_a_vm_error():
    with pytest.raises(VMError, match="TFail failed: KeyError") as info:
        run_ext("TFail")
    assert info.value.op == "TFail"


# -- CallBuiltin -----------------------------------------------------------------------------

def test_call_builtin_pops_its_arguments_and_pushes_the_result():
    chunk = assemble("LoadInt 0\nLoadInt 2\nLoadInt 3\nCallBuiltin 7 2")
    vm = VM(chunk)
    seen = []
    vm.register_builtin(7, lambda vm, a, b: seen.append((a, b)) or a * 10 + b)
    assert vm.run() == 23
    assert seen == [(2, 3)] and vm.stack == [0]


def test_call_builtin_pushes_undef_when_the_builtin_returns_none():
    chunk = assemble("CallBuiltin 1 0")
    vm = VM(chunk)
    vm.register_builtin(1, lambda vm: None)
    assert_same(vm.run(), Undef)


def test_call_builtin_receives_copies_it_may_keep():
    chunk = assemble("LoadConst [1]\nSetVar a\nGetVar a\nCallBuiltin 1 1\nGetVar a")
    vm = VM(chunk)
    vm.register_builtin(1, lambda vm, arr: arr.append(2) or arr)
    assert vm.run() == [1]
    assert vm.stack == [[1, 2]]


def test_re_registering_a_builtin_id_replaces_it():
    chunk = assemble("CallBuiltin 1 0")
    vm = VM(chunk)
    vm.register_builtin(1, lambda vm: "old")
    vm.register_builtin(1, lambda vm: "new")
    assert vm.run() == "new"


def test_a_builtin_that_halts_still_gets_its_result_pushed():
    chunk = assemble("LoadInt 55\nCallBuiltin 3 0\nReturnValue\nLoadInt 99")
    vm = VM(chunk)
    vm.register_builtin(3, lambda vm: vm.request_halt() or 0)
    assert_same(vm.run(), 0)
    assert vm.stack == [55]


def test_an_unregistered_builtin_id_raises_unknown_extension():
    with pytest.raises(UnknownExtension, match="no builtin is registered with id 99") as info:
        asm("LoadInt 1\nCallBuiltin 99 0")
    assert (info.value.op, info.value.ip) == ("CallBuiltin", 1)


def test_builtin_ids_outside_u16_are_refused():
    vm = VM(assemble("Nop"))
    with pytest.raises(ValueError):
        vm.register_builtin(70000, lambda vm: 0)


def test_builtins_survive_reset():
    chunk = assemble("CallBuiltin 1 0")
    vm = VM(chunk)
    vm.register_builtin(1, lambda vm: 5)
    vm.run()
    vm.reset()
    assert vm.run() == 5


def test_run_chunk_helper_vm_has_no_builtins():
    assert run_chunk(assemble("Nop")).vm.builtins == {}


def test_a_python_exception_in_a_builtin_becomes_a_located_vm_error():
    chunk = assemble("LoadInt 1\nCallBuiltin 4 1", source="b.fasm")
    vm = VM(chunk)
    vm.register_builtin(4, lambda vm, x: [][x])
    with pytest.raises(VMError, match="builtin 4 failed: IndexError") as info:
        vm.run()
    assert (info.value.op, info.value.ip, info.value.source) == ("CallBuiltin", 1, "b.fasm")


@pytest.mark.parametrize("bad", [2**63, (1, 2), object(), {1, 2}], ids=repr)
def test_a_builtin_returning_something_that_is_not_a_value_is_an_error(bad):
    vm = VM(assemble("CallBuiltin 4 0"))
    vm.register_builtin(4, lambda vm: bad)
    with pytest.raises(VMError, match="not a VM value"):
        vm.run()


STRAY = ExtensionSet("interp-test-stray", first_id=0xF330, count=4)


@STRAY.function("TStraySet", effect="-- v")
def t_stray_set(vm, operands):
    return lambda: {1, 2}


@STRAY.op("TStrayObject", effect="-- v")
def t_stray_object(vm):
    vm.push(object())


@pytest.mark.parametrize("baseline", [False, True], ids=["interp", "baseline"])
@pytest.mark.parametrize("maker", ["TStraySet", "TStrayObject"])
@pytest.mark.parametrize("use", ["LoadInt 1\nAdd", "PrintLn 1\nLoadInt 0",
                                 "SetSlot 0\nGetSlot 0\nLoadConst 0\nConcat"])
def test_a_value_an_extension_op_made_that_no_op_can_is_a_located_error(baseline, maker,
                                                                        use):
    chunk = assemble(f'.const "x"\n{maker}\n{use}', source="stray.fasm")
    vm = VM(chunk, stdout=io.StringIO(), extensions=[STRAY], baseline=baseline)
    with pytest.raises(VMError, match="not a VM value") as info:
        vm.run()
    assert info.value.source == "stray.fasm" and info.value.op not in (None, maker)


# -- deferred sets: rows built on first use ------------------------------------------------

def test_a_deferred_set_builds_a_row_when_it_is_first_asked_for():
    s = ExtensionSet("interp-test-deferred", first_id=0xF800, count=0x10, deferred=True)
    op = s.declare("DPair", operands="a:U8 b:U8", effect="x -- y", formula="y = x")
    assert op._spec is None  # nothing built yet
    assert (op.id, op.name) == (0xF800, "DPair")
    assert op.schema == (0xF800, "DPair", "U8,U8", "x -- y", op.spec.flags.value)
    assert op.spec.kinds[0].value == "U8" and op._spec is op.spec
    # The name and the id are still checked when the op is declared.
    with pytest.raises(ValueError, match="already taken"):
        s.declare("DPair")
    with pytest.raises(ValueError, match="already taken"):
        s.declare("Add")


def test_a_sets_schema_follows_its_declarations():
    s = ExtensionSet("interp-test-schema", first_id=0xF820, count=0x10, deferred=True)
    s.declare("SOne", operands="a:U8", effect="x -- y")
    first = s.schema()
    assert first == ("interp-test-schema", 0xF820, 0x10, (s["SOne"].schema,))
    assert s.schema() is first  # (kept while nothing is declared)
    s.declare("STwo", effect="--")
    assert s.schema() == (*first[:3], (s["SOne"].schema, s["STwo"].schema))


def test_a_sets_ops_with_a_flag_are_read_from_the_declarations():
    from fusevm.ops import F
    s = ExtensionSet("interp-test-flags", first_id=0xF840, count=0x10, deferred=True)
    s.declare("FIo", effect="--", flags=F.IO | F.SPAWN)
    s.declare("FPure", effect="--")
    s.declare("FSpawn", effect="--", flags=F.SPAWN)
    assert [op.name for op in s.ops_with(F.SPAWN)] == ["FIo", "FSpawn"]
    assert [op.name for op in s.ops_with(F.IO)] == ["FIo"]
    assert all(op._spec is None for op in s)  # (no row built to answer)
    assert {op.name for op in s.ops_with(F.SPAWN)} == {
        op.name for op in s if op.spec.has(F.SPAWN)}


def test_a_malformed_deferred_declaration_fails_when_its_row_is_built():
    def fresh() -> ExtensionSet:  # (replaces the last one under this name and range)
        return ExtensionSet("interp-test-deferred-bad", first_id=0xF810, count=0x10,
                            deferred=True)

    cases = [("DWide", dict(operands="a:INT b:U8"), "64-bit payload"),
             ("DKind", dict(operands="a:NOPE"), "NOPE"),
             ("DJump", dict(operands="t:TARGET"), "needs a factory"),
             ("DRun", dict(operands="n:U8", effect="-- items[n]"), "fixed number")]
    for name, decl, message in cases:
        s = fresh()
        s.function(name, **decl)(lambda vm, operands: lambda: None)
        with pytest.raises((ValueError, KeyError), match=message):
            s[name].spec  # noqa: B018
        with pytest.raises((ValueError, KeyError), match=message):
            s.check()
    s = fresh()
    s.body("DBody", operands="n:U8", effect="items[n] -- r", source="r = 0")
    with pytest.raises(ValueError, match="operand-sized"):
        s.check()
    fresh()  # leave no broken op registered for the tests that read every set


def test_fusevms_own_sets_are_deferred_and_every_row_of_them_builds():
    import fusevm.lang.awk.ops_io  # noqa: F401  - the awk set, all of it
    import fusevm.lang.sh.ops  # noqa: F401  - the sh set, with its handlers
    from fusevm.lang.awk.ops import AWK
    from fusevm.lang.sh.opset import SH
    for ext_set in (AWK, SH):
        assert ext_set.deferred
        ext_set.check()
        for op in ext_set:
            assert op.schema == (op.id, op.name, ",".join(k.value for k in op.spec.kinds),
                                 op.spec.effect.text, op.spec.flags.value)
