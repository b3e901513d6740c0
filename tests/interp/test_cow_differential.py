"""Copy on write against eager copies (D8): random straight-line container programs run in
the VM and in a model that deep-copies a value every time one is read, and both must end in
the same state (or fail with the same error). Any aliasing the VM let through would show
up as a difference."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusevm import VM, Undef, VMError
from fusevm.asm import assemble
from fusevm.values import format_value, same_value

SLOTS = 3
GLOBALS = ("a", "b", "h")
SMALL_VALUES = st.recursive(
    st.integers(-3, 3) | st.sampled_from(["s", ""]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["k", "j"]), inner, max_size=2),
    max_leaves=6,
)


class ModelError(Exception):
    pass


def _arr(v: Any) -> list[Any]:
    if type(v) is not list:
        raise ModelError
    return v


def _hash(v: Any) -> dict[str, Any]:
    if type(v) is not dict:
        raise ModelError
    return v


def _store(arr: list[Any], i: int, v: Any) -> None:
    if i < len(arr):
        arr[i] = v
    else:
        arr.extend([Undef] * (i - len(arr)))
        arr.append(v)


class Model:
    """The same macros with eager value semantics: every read is a deep copy."""

    def __init__(self) -> None:
        self.stack: list[Any] = []
        self.slots: list[Any] = [Undef] * SLOTS
        self.globals: dict[str, Any] = {"a": [], "b": [], "h": {}}

    def do(self, m: tuple[Any, ...]) -> None:
        kind, *args = m
        s, g = self.stack, self.globals
        read = copy.deepcopy
        if kind == "const":
            s.append(read(args[0]))
        elif kind == "get_slot":
            s.append(read(self.slots[args[0]]))
        elif kind == "set_slot":
            self.slots[args[0]] = s.pop()
        elif kind == "dup":
            s.append(read(s[-1]))
        elif kind == "pop":
            s.pop()
        elif kind == "get_var":
            s.append(read(g[args[0]]))
        elif kind == "set_var":
            g[args[0]] = s.pop()
        elif kind == "slot_elem_set":
            _store(_arr(self.slots[args[0]]), args[1], s.pop())
        elif kind == "slot_elem_get":
            arr = _arr(self.slots[args[0]])
            s.append(read(arr[args[1]]) if args[1] < len(arr) else Undef)
        elif kind == "array_push":
            _arr(g[args[0]]).append(s.pop())
        elif kind == "array_set":
            _store(_arr(g[args[0]]), args[1], s.pop())
        elif kind == "array_get":
            arr = _arr(g[args[0]])
            s.append(read(arr[args[1]]) if args[1] < len(arr) else Undef)
        elif kind == "array_pop":
            arr = _arr(g[args[0]])
            s.append(arr.pop() if arr else Undef)
        elif kind == "hash_set":
            _hash(g[args[0]])[args[1]] = s.pop()
        elif kind == "hash_get":
            s.append(read(_hash(g[args[0]]).get(args[1], Undef)))
        elif kind == "hash_delete":
            s.append(_hash(g[args[0]]).pop(args[1], Undef))
        elif kind == "make_array":
            n = args[0]
            items = s[len(s) - n:]
            del s[len(s) - n:]
            s.append(items)
        else:  # pragma: no cover - the generator emits only the kinds above
            raise AssertionError(kind)


def _text(m: tuple[Any, ...]) -> str:
    kind, *args = m
    return {
        "const": lambda: f"LoadConst {format_value(args[0])}",
        "get_slot": lambda: f"GetSlot {args[0]}",
        "set_slot": lambda: f"SetSlot {args[0]}",
        "dup": lambda: "Dup",
        "pop": lambda: "Pop",
        "get_var": lambda: f"GetVar {args[0]}",
        "set_var": lambda: f"SetVar {args[0]}",
        "slot_elem_set": lambda: f"LoadInt {args[1]}\nSlotArraySet {args[0]}",
        "slot_elem_get": lambda: f"LoadInt {args[1]}\nSlotArrayGet {args[0]}",
        "array_push": lambda: f"ArrayPush {args[0]}",
        "array_set": lambda: f"LoadInt {args[1]}\nArraySet {args[0]}",
        "array_get": lambda: f"LoadInt {args[1]}\nArrayGet {args[0]}",
        "array_pop": lambda: f"ArrayPop {args[0]}",
        "hash_set": lambda: f"LoadConst {format_value(args[1])}\nHashSet {args[0]}",
        "hash_get": lambda: f"LoadConst {format_value(args[1])}\nHashGet {args[0]}",
        "hash_delete": lambda: f"LoadConst {format_value(args[1])}\nHashDelete {args[0]}",
        "make_array": lambda: f"MakeArray {args[0]}",
    }[kind]()


@st.composite
def programs(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Macros valid in the state they run in (the generator runs the model as it goes), so
    programs rarely stop at a type error and mostly move containers around."""
    model = Model()
    out: list[tuple[Any, ...]] = []
    index = st.integers(0, 3)
    key = st.sampled_from(["k", "j"])
    for _ in range(draw(st.integers(1, 40))):
        depth = len(model.stack)
        arrays_s = [i for i, v in enumerate(model.slots) if type(v) is list]
        arrays_g = [g for g, v in model.globals.items() if type(v) is list]
        hashes_g = [g for g, v in model.globals.items() if type(v) is dict]
        choices: list[tuple[Any, ...]] = [
            ("const", draw(SMALL_VALUES)), ("get_slot", draw(st.integers(0, SLOTS - 1))),
            ("get_var", draw(st.sampled_from(GLOBALS)))]
        if depth:
            choices += [("set_slot", draw(st.integers(0, SLOTS - 1))), ("pop",), ("dup",),
                        ("set_var", draw(st.sampled_from(GLOBALS))),
                        ("make_array", draw(st.integers(1, min(depth, 3))))]
        for s in arrays_s:
            choices.append(("slot_elem_get", s, draw(index)))
            if depth:
                choices.append(("slot_elem_set", s, draw(index)))
        for g in arrays_g:
            choices += [("array_get", g, draw(index)), ("array_pop", g)]
            if depth:
                choices += [("array_push", g), ("array_set", g, draw(index))]
        for g in hashes_g:
            choices += [("hash_get", g, draw(key)), ("hash_delete", g, draw(key))]
            if depth:
                choices.append(("hash_set", g, draw(key)))
        m = draw(st.sampled_from(choices))
        model.do(m)
        out.append(m)
    return out


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and same_value(a, b)


@given(programs())
def test_copy_on_write_matches_eager_copies(prog: list[tuple[Any, ...]]) -> None:
    text = "DeclareArray a\nDeclareArray b\nDeclareHash h\n" + "\n".join(map(_text, prog))
    chunk = assemble(text, source="cow.fasm")
    model = Model()
    expected_error = None
    try:
        for m in prog:
            model.do(m)
    except ModelError:
        expected_error = "TypeMismatch"
    vm = VM(chunk)
    try:
        top = vm.run()
    except VMError as e:
        assert type(e).__name__ == expected_error, (text, e)
        return
    assert expected_error is None, text
    stack = list(vm.stack) + ([] if top is None else [top])
    assert len(stack) == len(model.stack), text
    assert all(map(_same, stack, model.stack)), (text, stack, model.stack)
    assert all(map(_same, vm.root.slots, model.slots)), (text, vm.root.slots, model.slots)
    for name in GLOBALS:
        got = vm.globals[chunk.names.index(name)]
        assert _same(got, model.globals[name]), (text, name, got, model.globals[name])
    # The constant pool is never written through.
    fresh = assemble(text, source="cow.fasm").constants
    assert all(map(_same, chunk.constants, fresh)), text


LOOPS = 4  # the baseline tier compiles a loop after two entries of its header


@pytest.mark.parametrize("baseline", [False, True], ids=["interpreter", "baseline"])
@given(prog=programs())
def test_copy_on_write_matches_eager_copies_in_a_loop(baseline: bool,
                                                      prog: list[tuple[Any, ...]]) -> None:
    """The same programs as the body of a loop run LOOPS times, each pass ending with an
    empty stack, so the tiers that compile loops run them too."""
    depth = Model()
    for m in prog:
        depth.do(m)
    drops = len(depth.stack)
    body = "\n".join(map(_text, prog)) + "\nPop" * drops
    counter = SLOTS  # a slot of its own, after the ones the macros use
    text = (f"DeclareArray a\nDeclareArray b\nDeclareHash h\nLoadInt 0\nSetSlot {counter}\n"
            f"top:\n{body}\nGetSlot {counter}\nLoadInt 1\nAdd\nDup\nSetSlot {counter}\n"
            f"LoadInt {LOOPS}\nNumLt\nJumpIfTrue top")
    chunk = assemble(text, source="cow-loop.fasm")
    model = Model()
    expected_error = None
    try:
        for _ in range(LOOPS):
            for m in prog:
                model.do(m)
            del model.stack[:]
    except ModelError:
        expected_error = "TypeMismatch"
    vm = VM(chunk, baseline=baseline)
    try:
        vm.run()
    except VMError as e:
        assert type(e).__name__ == expected_error, (text, e)
        return
    assert expected_error is None, text
    assert vm.stack == []
    assert all(map(_same, vm.root.slots[:SLOTS], model.slots)), (text, vm.root.slots,
                                                                 model.slots)
    for name in GLOBALS:
        got = vm.globals[chunk.names.index(name)]
        assert _same(got, model.globals[name]), (text, name, got, model.globals[name])
    fresh = assemble(text, source="cow-loop.fasm").constants
    assert all(map(_same, chunk.constants, fresh)), text
