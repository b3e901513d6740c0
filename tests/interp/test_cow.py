"""Copy on write (D8): reads share containers, the first write through a shared location
copies once, and no aliasing is ever observable, from VM code or from Python."""

from __future__ import annotations

import io

import pytest

from fusevm import VM, ExtensionSet, Undef
from fusevm.asm import assemble
from fusevm.interp.cow import COW_EXACT, own_result, writable, writable_array, writable_hash
from fusevm.lang.awk.state import AwkArray
from fusevm.values import is_value

from .support import asm


def with_block(main: str, body: str) -> str:
    return f"""
    .block b blk blk_end
        {main}
        Jump end
    blk:
        {body}
    blk_end:
    end:
    """


# -- the checks themselves -----------------------------------------------------------------

def test_reference_counts_are_usable_here():
    assert COW_EXACT


#: A Hash global, shared with slot 0 before a hot loop stores into it 300 times: the first
#: store copies it (slot 0 keeps the Hash as it was), the others go in place.
SHARED_HASH_LOOP = """
    DeclareHash h
    LoadInt 1
    LoadConst "a"
    HashSet h
    GetHash h
    SetSlot 0
    LoadInt 0
    SetSlot 1
top:
    GetSlot 1
    GetSlot 1
    HashSet h
    GetSlot 1
    Inc
    SetSlot 1
    GetSlot 1
    LoadInt 300
    NumLt
    JumpIfTrue top
    GetSlot 0
"""


@pytest.mark.parametrize("baseline", [False, True])
@pytest.mark.parametrize("counts", ["usable", "unusable"])
def test_a_hash_store_written_inline_copies_a_shared_hash_once(baseline, counts,
                                                                monkeypatch):
    # (HashSet's body tests the count inline, against its own calibrated limit)
    from fusevm.interp import cow
    from fusevm.interp import semantics as sem
    assert cow.INLINE_LIMIT > 0 and sem.INLINE_LIMIT == cow.INLINE_LIMIT
    if counts == "unusable":
        monkeypatch.setattr(sem, "INLINE_LIMIT", -1)
    copies = []
    real = sem.unshare
    monkeypatch.setattr(sem, "unshare", lambda store, i: (copies.append(i), real(store, i)))
    chunk = assemble(SHARED_HASH_LOOP)
    vm = VM(chunk, baseline=baseline)
    if baseline:
        vm._tiers.region_threshold = 1
    assert vm.run() == {"a": 1}
    h = vm.globals[chunk.names.index("h")]
    assert h == {"a": 1, **{str(i): i for i in range(300)}}
    assert len(copies) == (1 if counts == "usable" else 301)  # (unusable: every store)


@pytest.mark.parametrize("helper", [writable, lambda s, i: writable_array(s, i, "x")])
def test_an_exclusive_array_is_mutated_in_place_and_a_shared_one_is_copied(helper):
    store = [[1, 2]]
    first = id(store[0])
    helper(store, 0).append(3)
    assert id(store[0]) == first and store[0] == [1, 2, 3]
    other = store[0]
    helper(store, 0).append(4)
    assert store[0] is not other
    assert other == [1, 2, 3] and store[0] == [1, 2, 3, 4]


def test_a_shared_hash_is_copied_before_a_write():
    store = [{"k": 1}]
    other = store[0]
    writable_hash(store, 0, "x")["k"] = 2
    assert other == {"k": 1} and store[0] == {"k": 2}


def test_a_dict_subclass_is_a_by_reference_value_and_never_copied():
    arr = AwkArray()
    store = [arr]
    assert writable(store, 0) is arr
    assert store[0] is arr


def test_own_result_unshares_every_nested_container():
    inner = [1]
    holder = {"h": inner}
    store = [[inner, holder, 5]]
    result = own_result(store, 0)
    result[0].append(2)
    result[1]["h"].append(3)
    assert inner == [1] and holder == {"h": [1]}


def test_own_result_copies_nothing_that_is_already_exclusive():
    store = [[[1], {"k": [2]}]]
    ids = (id(store[0]), id(store[0][0]), id(store[0][1]), id(store[0][1]["k"]))
    result = own_result(store, 0)
    assert (id(result), id(result[0]), id(result[1]), id(result[1]["k"])) == ids


# -- reads are O(1): the very object is pushed ----------------------------------------------

def test_get_slot_get_var_dup_and_load_const_share_the_container():
    run = asm("""
        LoadConst [1, 2, 3]
        Dup
        SetSlot 0
        SetVar g
        GetSlot 0
        GetVar g
        Dup
        LoadConst [1, 2, 3]
        LoadInt 0
    """)
    a, b, c, const = run.vm.stack[:4]
    assert a is run.vm.root.slots[0]
    assert a is b is c is run.vm.globals[0]
    assert const is run.vm.chunk.constants[0]


def test_a_loop_of_pushes_copies_a_shared_array_once():
    """The first ArrayPush copies the array GetArray shared; later ones find it exclusive."""
    seen: list[int] = []
    chunk = assemble("""
        DeclareArray a
        GetArray a
        SetSlot 0
        LoadInt 0
        SetSlot 1
    top:
        GetSlot 1
        ArrayPush a
        CallBuiltin 1 0
        Pop
        GetSlot 1
        LoadInt 1
        Add
        Dup
        SetSlot 1
        LoadInt 50
        NumLt
        JumpIfTrue top
        GetSlot 0
    """)
    vm = VM(chunk)
    vm.register_builtin(1, lambda vm: seen.append(id(vm.globals[0])))
    assert vm.run() == []
    assert len(seen) == 50 and len(set(seen)) == 1
    assert vm.globals[0] == list(range(50))


# -- no aliasing, whichever way a container travels ------------------------------------------

def test_a_write_to_a_slot_leaves_the_global_it_was_read_from():
    run = asm("""
        LoadConst [1, 2]
        SetVar g
        GetVar g
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        GetVar g
        GetSlot 0
    """)
    assert run.stack == [[1, 2], [9, 2]]


def test_the_constant_pool_survives_writes_and_reruns():
    text = """
        LoadConst [1]
        SetSlot 0
        LoadInt 7
        LoadInt 3
        SlotArraySet 0
        GetSlot 0
    """
    run = asm(text)
    assert run.value == [1, Undef, Undef, 7]
    assert run.vm.chunk.constants[0] == [1]
    run.vm.reset()
    assert run.vm.run() == [1, Undef, Undef, 7]
    assert run.vm.chunk.constants[0] == [1]


def test_nested_arrays_read_out_and_written_leave_the_outer_array():
    run = asm("""
        LoadConst [[1], [2]]
        SetArray a
        LoadInt 0
        ArrayGet a
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        GetArray a
        GetSlot 0
    """)
    assert run.stack == [[[1], [2]], [9]]


def test_an_array_stored_in_a_hash_does_not_follow_later_writes():
    run = asm("""
        LoadConst [1]
        SetSlot 0
        DeclareHash h
        GetSlot 0
        LoadConst "k"
        HashSet h
        LoadInt 2
        LoadInt 1
        SlotArraySet 0
        LoadConst "k"
        HashGet h
        SetSlot 1
        LoadInt 5
        LoadInt 0
        SlotArraySet 1
        GetHash h
        GetSlot 0
        GetSlot 1
    """)
    assert run.stack == [{"k": [1]}, [1, 2], [5]]


def test_an_array_pushed_into_itself_holds_its_old_value_not_a_cycle():
    run = asm("""
        LoadConst [1]
        SetArray a
        GetArray a
        ArrayPush a
        GetArray a
        SetSlot 0
        GetSlot 0
        LoadInt 1
        SlotArraySet 0
        GetSlot 0
    """)
    assert run.value == [1, [1, [1]]]
    assert is_value(run.vm.globals[0]) and run.vm.globals[0] == [1, [1]]


def test_pop_and_delete_results_do_not_alias_what_is_left():
    run = asm("""
        LoadConst {"k": [1], "j": [2]}
        Dup
        SetHash h
        SetSlot 0
        LoadConst "k"
        HashDelete h
        SetSlot 1
        LoadInt 3
        LoadInt 1
        SlotArraySet 1
        GetSlot 0
        GetHash h
        GetSlot 1
    """)
    assert run.stack == [{"k": [1], "j": [2]}, {"j": [2]}, [1, 3]]


def test_a_block_writing_to_its_element_leaves_the_input_array():
    run = asm(with_block("""
        LoadConst [[1], [2]]
        SetSlot 0
        GetSlot 0
        MapBlock b
        GetSlot 0
    """, "LoadInt 9\nLoadInt 0\nSlotArraySet 0\nGetSlot 0"))
    assert run.stack == [[[9], [9]], [[1], [2]]]


def test_a_block_pushing_to_the_array_it_iterates_does_not_change_the_iteration():
    # Elements pushed are >= 10 and push nothing more, so an aliased run still ends.
    run = asm(with_block("""
        LoadConst [1, 2]
        SetArray a
        DeclareArray seen
        GetArray a
        ForEachBlock b
        GetArray seen
        GetArray a
    """, """
        GetSlot 0
        ArrayPush seen
        GetSlot 0
        LoadInt 10
        NumLt
        JumpIfFalse skip
        GetSlot 0
        LoadInt 10
        Add
        ArrayPush a
    skip:
        LoadUndef
    """))
    assert run.stack == [[1, 2], [1, 2, 11, 12]]


def test_a_subshell_restores_an_array_written_inside_it():
    run = asm("""
        LoadConst [1]
        SetArray a
        SubshellBegin
        LoadInt 2
        ArrayPush a
        SubshellEnd
        GetArray a
    """)
    assert run.value == [1]


# -- the boundary with Python ----------------------------------------------------------------

def test_mutating_what_run_returns_leaves_the_vm():
    chunk = assemble("""
        LoadConst [[1], {"k": [2]}]
        SetArray a
        GetArray a
    """)
    vm = VM(chunk)
    result = vm.run()
    result.append(3)
    result[0].append(4)
    result[1]["k"].append(5)
    assert vm.globals[0] == [[1], {"k": [2]}]
    assert chunk.constants[0] == [[1], {"k": [2]}]


def test_a_container_a_python_caller_holds_is_not_changed_by_vm_writes():
    chunk = assemble("""
        LoadInt 2
        ArrayPush a
        LoadInt 0
        LoadConst "k"
        HashSet h
    """)
    arr, h = [1], {"j": 1}
    vm = VM(chunk)
    vm.globals[chunk.names.index("a")] = arr
    vm.globals[chunk.names.index("h")] = h
    vm.run()
    assert arr == [1] and h == {"j": 1}
    assert vm.globals[chunk.names.index("a")] == [1, 2]


def test_a_builtin_that_mutates_its_argument_leaves_the_vm_slot():
    chunk = assemble("""
        LoadConst [1]
        SetSlot 0
        GetSlot 0
        CallBuiltin 1 1
        GetSlot 0
    """)
    vm = VM(chunk)

    def grow(vm, arr):
        arr.append(2)
        return arr
    vm.register_builtin(1, grow)
    vm.run()
    assert vm.stack == [[1, 2]]
    assert vm.root.slots[0] == [1]


def test_a_container_a_builtin_keeps_is_not_changed_by_vm_writes():
    kept = [1]
    chunk = assemble("""
        CallBuiltin 1 0
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        GetSlot 0
    """)
    vm = VM(chunk)
    vm.register_builtin(1, lambda vm: kept)
    assert vm.run() == [9]
    assert kept == [1]


COW_EXT = ExtensionSet("interp-test-cow", first_id=0xF380, count=4)


@COW_EXT.op("TCowGrow", effect="arr -- arr", formula="arr.append(0)")
def _cow_grow(vm):
    arr = vm.pop()
    arr.append(0)
    vm.push(arr)


def test_an_extension_handler_that_mutates_a_popped_array_leaves_the_slot():
    chunk = assemble("""
        LoadConst [1]
        SetSlot 0
        GetSlot 0
        TCowGrow
        GetSlot 0
    """)
    vm = VM(chunk, stdout=io.StringIO(), extensions=[COW_EXT])
    assert vm.run() == [1]
    assert vm.stack == [[1, 0]]


def test_without_usable_reference_counts_every_write_copies_and_nothing_aliases(monkeypatch):
    """The fallback when calibration fails: correct, only slower."""
    import fusevm.interp.cow as cow
    for name in ("_ANY_LIMIT", "_ARRAY_LIMIT", "_HASH_LIMIT"):
        monkeypatch.setattr(cow, name, -1)
    store = [[1]]
    first = store[0]
    writable_array(store, 0, "x").append(2)
    assert store[0] is not first and first == [1]
    run = asm("""
        LoadConst [1, 2]
        SetVar g
        GetVar g
        SetSlot 0
        LoadInt 9
        LoadInt 0
        SlotArraySet 0
        LoadInt 3
        ArrayPush g
        GetVar g
        GetSlot 0
    """)
    assert run.stack == [[1, 2, 3], [9, 2]]
    assert run.vm.chunk.constants[0] == [1, 2]


def test_a_global_python_code_read_raw_keeps_its_value_when_the_vm_writes_on():
    grabbed: list[object] = []
    chunk = assemble("""
        LoadConst [1]
        SetArray a
        LoadInt 0
        ArrayPush a
        CallBuiltin 1 0
        Pop
        LoadInt 2
        ArrayPush a
        GetArray a
    """)
    vm = VM(chunk)
    vm.register_builtin(1, lambda vm: grabbed.append(vm.globals[0]))
    assert vm.run() == [1, 0, 2]
    assert grabbed == [[1, 0]]
