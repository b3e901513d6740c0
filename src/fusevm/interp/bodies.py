"""The one definition of the hot ops' behaviour, as Python statements every tier inlines.

CPython's `bytecodes.c` is the model: an op's body is written once, here, and both the
interpreter's step (`interp/handlers/bodies.py`) and the baseline tier's code
(`fusevm.baseline`) are generated from it. An op without a body here has its behaviour in
exactly one interpreter handler instead, which the baseline tier calls; no op has both
(tests/interp/test_bodies.py checks it).

A body is a few statements over these names and nothing else:

* the op's stack items, named as in its stack effect in the op table (`a b -- r`): the
  inputs are bound on entry and the body assigns every output (an output may reuse an
  input's name, as `Dup`'s `a -- a a2` does). Outputs are assigned once, after everything
  that may raise, or from a tuple: the baseline tier may keep an output in the same
  variable as an input, and an error must find the inputs as they were;
* the op's operands, named as in the op table (`slot`, `value`, `target`, ...), constants
  of the instruction;
* `taken`: a BRANCH op's body ends with `taken = <condition>`, and the op continues at its
  TARGET operand when that holds (a TERMINATOR jump's condition is `True`);
* the environment `ENV` below: the frame's `slots`, the VM's `globals_`, the constant pool
  `consts`, `strict` (VM(strict_int=...)), `max_size` (VM(max_size=...)), the chunk's
  `names` (for an error naming a global), the semantics module `sem` and a few coercions.

Any other name a body assigns is a temporary of that op (the generators rename it apart).
"""

from __future__ import annotations

from fusevm import pyast as ast
from fusevm.interp import semantics as sem
from fusevm.ops import F, Op
from fusevm.ops.bodytext import BODY_BUILTINS, check_known, item_names, parse_statements
from fusevm.records import dataclass
from fusevm.values import INT_MAX, INT_MIN, Undef, to_float, to_int, to_str, truthy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Final
else:
    # (The class `collections.abc` re-exports, from the module Python loads at start:
    # importing `collections` costs a process that compiles 1.7 ms.)
    from _collections_abc import Mapping

#: What a body may name besides its stack items, operands and temporaries. `slots` and
#: the names of `PER_VM_EXPR` (`globals_`, `consts`, `strict`, `max_size`, the chunk's
#: `names`) are bound per VM (and `slots` per frame) by each tier.
ENV: Final[dict[str, object]] = {
    "sem": sem, "INT_MIN": INT_MIN, "INT_MAX": INT_MAX, "Undef": Undef,
    "to_float": to_float, "to_int": to_int, "to_str": to_str, "truthy": truthy,
}
#: The per-VM names a body may read besides `slots` (bound per frame), and the expression
#: over `vm` each tier binds each one to, once per VM, where a body uses it.
PER_VM_EXPR: Final[dict[str, str]] = {
    "globals_": "vm.globals", "consts": "vm.chunk.constants", "strict": "vm.strict_int",
    "max_size": "vm.max_size", "names": "vm.chunk.names",
}
PER_VM: Final = frozenset({"slots", *PER_VM_EXPR})


@dataclass(frozen=True, slots=True)
class Body:
    """One op's definition: its source and what the generators need to know about it."""

    op: Op
    source: str
    tree: ast.Module
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    operands: tuple[str, ...]
    uses: frozenset[str]  # the per-VM names it reads
    env: frozenset[str]  # the names of ENV it reads
    temps: frozenset[str]  # names it assigns that are neither outputs nor `taken`
    stored: frozenset[str]  # every name it assigns
    named: frozenset[str]  # every name it mentions

    @property
    def branches(self) -> bool:
        return self.op.spec.has(F.BRANCH)


class _Bodies(Mapping[Op, "Body"]):
    """Op -> its Body, each parsed and checked from its source the first time it is asked
    for: compiling a region parses the bodies of the ops it holds, not all of them (about
    a third of a millisecond each), and a region loaded from the disk cache none."""

    def __init__(self) -> None:
        self._sources: dict[Op, str] = {}
        self._made: dict[Op, Body] = {}

    def declare(self, op: Op, source: str) -> None:
        if op in self._sources:
            raise ValueError(f"{op.name} has two bodies")
        self._sources[op] = source

    def __getitem__(self, op: Op) -> Body:
        made = self._made.get(op)
        if made is None:
            made = self._made[op] = _make(op, self._sources[op])
        return made

    def __contains__(self, op: object) -> bool:
        return op in self._sources

    def __iter__(self) -> Iterator[Op]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)


BODIES: Final = _Bodies()


def body(*ops: Op, source: str) -> None:
    """Declare the body of one or more ops (ops sharing a body share their item names)."""
    for op in ops:
        BODIES.declare(op, source)


def _make(op: Op, source: str) -> Body:
    spec = op.spec
    inputs, outputs, operands = item_names(spec)
    text, tree, assigned, read, named = parse_statements(spec, source)
    if spec.has(F.BRANCH) != ("taken" in assigned):
        raise ValueError(f"{op.name}: a BRANCH op's body, and only one, assigns `taken`")
    _check_global_calls(op, tree)
    temps = frozenset(assigned - set(outputs) - set(inputs) - {"taken"})
    check_known(spec, read, set(inputs) | set(outputs) | set(operands) | set(ENV) | PER_VM
                | temps | {"taken"} | BODY_BUILTINS)
    return Body(op, text, tree, inputs, outputs, operands, frozenset(read & PER_VM),
                frozenset(read & set(ENV)), temps, frozenset(assigned), named)


def _check_global_calls(op: Op, tree: ast.Module) -> None:
    """A body hands `globals_` only to the `sem` functions that keep the globals' types
    (`sem.KEEP_GLOBAL_TYPES`): the baseline tier keeps knowing them across its calls."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not any(
                isinstance(a, ast.Name) and a.id == "globals_" for a in node.args):
            continue
        f = node.func
        if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                and f.value.id == "sem" and f.attr in sem.KEEP_GLOBAL_TYPES):
            raise ValueError(f"{op.name}: a body passes globals_ to {ast.unparse(f)}, "
                             "which sem.KEEP_GLOBAL_TYPES does not list")


# -- Constants and the stack ------------------------------------------------------------

body(Op.Nop, source="pass")
body(Op.LoadInt, source="n = value")
body(Op.LoadFloat, source="f = value")
body(Op.LoadConst, source="v = consts[const]")
body(Op.LoadTrue, source="b = True")
body(Op.LoadFalse, source="b = False")
body(Op.LoadUndef, source="u = Undef")
body(Op.Pop, source="a = None")  # copy on write counts holders: let go of the value
body(Op.Dup, source="a2 = a")
body(Op.Swap, source="b2, a2 = b, a")

# -- Variables: containers are shared on read, copied on their first write (D8) ---------

body(Op.GetSlot, source="v = slots[slot]")
body(Op.SetSlot, source="slots[slot] = v")
body(Op.GetVar, source="v = globals_[name]")
body(Op.GetArray, source="arr = globals_[name]")
body(Op.GetHash, source="h = globals_[name]")
body(Op.SetVar, Op.DeclareVar, source="globals_[name] = v")
body(Op.SetArray, source="globals_[name] = arr")
body(Op.SetHash, source="globals_[name] = h")
body(Op.DeclareArray, source="globals_[name] = []")
body(Op.DeclareHash, source="globals_[name] = {}")

# -- Arrays and hashes in globals: the element reads and a Hash's store ------------------
# (No temporary keeps a container: copy on write counts its holders, and a temporary of a
# compiled region lives on after its op, as if a second variable held the container.)

body(Op.ArrayLen, source="""
    if type(globals_[name]) is not list:
        sem.not_a_container(globals_, name, names, "an Array")
    n = len(globals_[name])
    """)
body(Op.ArrayGet, source="""
    if type(globals_[name]) is not list:
        sem.not_a_container(globals_, name, names, "an Array")
    i = index if type(index) is int else to_int(index)
    if i >= 0:
        try:  # (costs nothing unless it raises: a test of the length would cost a call)
            v = globals_[name][i]
        except IndexError:
            v = Undef
    else:
        v = Undef
    """)
body(Op.HashGet, source="""
    if type(globals_[name]) is not dict:
        sem.not_a_container(globals_, name, names, "a Hash")
    v = globals_[name].get(key if type(key) is str else to_str(key), Undef)
    """)
body(Op.HashSet, source="""
    if type(globals_[name]) is not dict:
        sem.not_a_container(globals_, name, names, "a Hash")
    k = key if type(key) is str else to_str(key)
    if sem.refcount(globals_[name]) > sem.INLINE_LIMIT:  # (held elsewhere too: D8)
        sem.unshare(globals_, name)
    if len(globals_[name]) >= max_size and k not in globals_[name]:
        sem.check_size(len(globals_[name]) + 1, max_size, "a hash")
    globals_[name][k] = v
    """)

# -- Arithmetic: the Int and Float paths inline, everything else in `sem` -----------------

# A Float with an Int is Python's own `a + b` too: Python converts the Int as to_float
# does (an Int of the VM is within 64 bits, which a float always holds or rounds). The sum
# or product of two NaNs is the first one's (D5), quieted by `+ 0.0` or `* 1.0` (one NaN
# operand: no choice to make): CPython's own `a + b` and `a * b` give the first or the
# second depending on whether the bytecode is specialised yet.
for _op, _sym in ((Op.Add, "+"), (Op.Sub, "-"), (Op.Mul, "*")):
    # (one expression, inputs read before the output is assigned; `b` tested first: a
    # constant `b` is no NaN, so the common test is one comparison)
    _float = f"a {_sym} b" if _op is Op.Sub else \
        f"a {_sym} b if b == b or a == a else a {_sym} {0.0 if _op is Op.Add else 1.0}"
    body(_op, source=f"""
        if type(a) is int and type(b) is int:
            exact = a {_sym} b
            r = exact if INT_MIN <= exact <= INT_MAX else sem.int_result(exact, strict,
                                                                          "{_op.name}")
        elif type(a) is float and (type(b) is float or type(b) is int) or \\
                type(a) is int and type(b) is float:
            r = {_float}
        else:
            r = sem.{_op.name.lower()}(a, b, strict)
        """)
body(Op.Div, source="""
    if type(a) is float and type(b) is float and b:
        r = a / b
    else:
        r = sem.div(a, b)
    """)
body(Op.Mod, source="""
    if type(a) is int and type(b) is int:
        if a >= 0 and b > 0:
            r = a % b
        else:
            r = sem.int_mod(a, b)
    else:
        r = sem.mod(a, b)
    """)
body(Op.Negate, source="r = sem.negate(a, strict)")
body(Op.Inc, source="""
    if type(a) is int and a != INT_MAX:
        r = a + 1
    else:
        r = sem.inc(a, strict)
    """)
body(Op.Dec, source="""
    if type(a) is int and a != INT_MIN:
        r = a - 1
    else:
        r = sem.dec(a, strict)
    """)

for _op, _sym in ((Op.BitAnd, "&"), (Op.BitOr, "|"), (Op.BitXor, "^")):
    body(_op, source=f"""
        if type(a) is int and type(b) is int:
            r = a {_sym} b
        else:
            r = sem.bit_{_op.name[3:].lower()}(a, b)
        """)
body(Op.Shr, source="""
    if type(a) is int and type(b) is int:
        r = a >> (b & 63)
    else:
        r = sem.shr(a, b)
    """)
body(Op.Shl, source="""
    if type(a) is int and type(b) is int:
        exact = a << (b & 63)
        r = exact if INT_MIN <= exact <= INT_MAX else sem.int_result(exact, strict, "Shl")
    else:
        r = sem.shl(a, b, strict)
    """)

# -- Strings ------------------------------------------------------------------------------

# `a + tb` is the whole expression assigned: where the baseline tier keeps `a` and the
# result in one local (`s = s + str(i)` into a slot), CPython extends the string in place
# as it does for Python's own `s = s + t`, instead of copying it at every append.
body(Op.Concat, source="""
    if type(a) is str:
        if type(b) is str:
            tb = b
        elif type(b) is int:
            tb = str(b)  # (to_str's spelling of an Int)
        else:
            tb = to_str(b)
        if len(a) + len(tb) <= max_size:
            s = a + tb
        else:
            s = sem.concat(a, tb, max_size)
    else:
        s = sem.concat(a, b, max_size)
    """)

# -- Comparisons --------------------------------------------------------------------------

for _op, _sym in ((Op.NumEq, "=="), (Op.NumNe, "!="), (Op.NumLt, "<"), (Op.NumGt, ">"),
                  (Op.NumLe, "<="), (Op.NumGe, ">=")):
    body(_op, source=f"""
        if type(a) is int and type(b) is int or type(a) is float and type(b) is float:
            r = a {_sym} b
        else:
            r = sem.num_{_op.name[3:].lower()}(a, b)
        """)
body(Op.LogNot, source="r = not truthy(a)")

# -- Control flow -------------------------------------------------------------------------

body(Op.Jump, source="taken = True")
body(Op.JumpIfTrue, source="taken = cond is True or cond is not False and truthy(cond)")
body(Op.JumpIfFalse, source="taken = cond is False or cond is not True and not truthy(cond)")
body(Op.JumpIfTrueKeep, source="taken = truthy(cond)")
body(Op.JumpIfFalseKeep, source="taken = not truthy(cond)")

# -- Fused slot ops (each means exactly its `fuses` sequence, D14) ------------------------

body(Op.PreIncSlotVoid, source="""
    old = slots[slot]
    slots[slot] = old + 1 if type(old) is int and old != INT_MAX else sem.inc(old, strict)
    """)
body(Op.PreIncSlot, source="""
    old = slots[slot]
    v = old + 1 if type(old) is int and old != INT_MAX else sem.inc(old, strict)
    slots[slot] = v
    """)
body(Op.AddAssignSlotVoid, source="""
    x = slots[a]
    y = slots[b]
    if type(x) is int and type(y) is int:
        z = x + y
        if not INT_MIN <= z <= INT_MAX:
            z = sem.int_result(z, strict, "Add")
    else:
        z = sem.add(x, y, strict)
    slots[a] = z
    """)
body(Op.SlotLtIntJumpIfFalse, source="""
    v = slots[slot]
    taken = not (v < limit if type(v) is int else sem.num_lt(v, limit))
    """)
body(Op.SlotIncLtIntJumpBack, source="""
    v = slots[slot]
    v = v + 1 if type(v) is int and v != INT_MAX else sem.inc(v, strict)
    slots[slot] = v
    taken = v < limit
    """)

del _op, _sym, _float
