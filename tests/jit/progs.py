"""Random programs for differential JIT testing (`oracle` runs and compares them).

`Gen(source).program(...)` builds a valid program from any `Source` of choices: a seeded
`random.Random` (the fuzz script) or a Hypothesis `data` object (the test suite, which
then shrinks failures). Programs are straight-line, or have if/else, ternaries, `&&`/`||`
with Keep jumps, top- and bottom-tested loops (fused and unfused), nested loops and
AccumSumLoop; operands include 0, -1, INT64_MIN, NaN, +-inf and -0.0, Int, Float, Bool,
Undef and Str slots, in default or strict_int mode. Every loop is bounded by a counter slot
the body cannot write, so every program terminates.

A share of the programs with branches (`Gen.hof`) also have higher-order blocks and
functions, laid out after a first `Jump` over them: MapBlock, GrepBlock, SortBlock and
ForEachBlock over arrays the program makes (Range, MakeArray, constants, other blocks'
results), with bodies that loop, branch, call functions, run other blocks (nesting), read
and write globals, and leave their result from different places (their last op, before a
loop, on both arms of a branch that jumps to the block's end, an early ReturnValue or
Return); functions return on one or several paths. Some blocks are laid out inside the
main code, which then runs their ops too. A body only uses blocks and functions made
before it, so nothing recurses.

Wide programs (`Gen.wide`, a second source of choices) also have string ops (Concat,
StringLen, StringRepeat with any count, the string comparisons) in half of them, awk's
numeric extension ops (AwkNum, AwkTruth, AwkNot, AwkCmp, AwkArith, AwkConcat, also on
values awk never makes), and loops in which a slot changes its kind, or a divisor is
zero, at one iteration; innermost loops that would make 4 trips make LONG_LOOP (long
enough to trace). Their VM has a small `max_size`, so growing strings stop with a
MemoryLimit error.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fusevm import ChunkBuilder, Op
from fusevm.chunk import Chunk
from fusevm.values import INT_MAX, INT_MIN, Undef

INT_EDGES = [0, 1, -1, 2, 3, -2, 5, 7, 63, 64, 100, 2**31, -(2**31), INT_MAX, INT_MIN,
             INT_MAX - 1, INT_MIN + 1, 1 << 40, 12345678901]
FLOAT_EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, 1.5, -2.5, 3.0, 0.1, math.nan, math.inf, -math.inf,
               1e308, -1e308, 5e-324, 9.2e18, -9.3e18, 2.0**63, 100.0]
UNARY = ["Negate", "Inc", "Dec", "BitNot", "LogNot", "TruncInt", "AbsInt", "AbsFloat",
         "SqrtFloat", "FloorFloat", "CeilFloat", "RoundFloat", "TruncFloat", "SinFloat",
         "CosFloat", "ExpFloat", "LogFloat", "Log2Float", "Log10Float", "TanFloat",
         "AsinFloat", "AcosFloat", "AtanFloat", "SinhFloat", "CoshFloat", "TanhFloat"]
BINARY = ["Add", "Sub", "Mul", "Div", "Mod", "Pow", "BitAnd", "BitOr", "BitXor", "Shl", "Shr",
          "NumEq", "NumNe", "NumLt", "NumGt", "NumLe", "NumGe", "Spaceship", "LogAnd",
          "LogOr", "GcdInt", "LcmInt", "PowFloat", "Atan2Float"]
#: Weighted: the common ops come up more often.
BINARY_HOT = ["Add", "Sub", "Mul", "Div", "Mod", "NumLt", "NumEq", "BitXor", "Shl"]
HIGHER_ORDER = ("MapBlock", "GrepBlock", "SortBlock", "ForEachBlock")
#: Globals the higher-order programs read and write (GetVar of one never set is Undef).
GLOBALS = ["g0", "g1", "g2"]
#: Ops of wide programs (`Gen.wide`): string ops, and awk's numeric extension ops (which
#: the native tiers and the baseline tier lower, for the kinds they take).
STRING_COMPARE = ["StrEq", "StrNe", "StrLt", "StrGt", "StrLe", "StrGe", "StrCmp"]
STRINGS = ["", "a", "ab", "-3", "1e3", "0x1A", " 12 ", "inf", "nan", "\u00e9t\u00e9"]
#: The awk ops a wide program uses: pure functions of their operands (AwkConcat reads
#: CONVFMT from the run's AwkState), AwkArith's / and % raising at a zero divisor.
AWK_UNARY = ["AwkNum", "AwkTruth", "AwkNot"]
#: Ops whose native code leaves for the interpreter to compute some values, not only to
#: raise: awk's % outside the operands fmod is exact for (`fusevm.lang.awk.jit`). A unit
#: running one may deoptimise where the interpreter raises nothing.
DEOPT_TO_COMPUTE = {("AwkArith", 4)}
#: The trips of a wide program's innermost loops that would make 4: enough for the trace
#: tier to record the loop, run its trace and leave it (by a kind change or an error at
#: one iteration, too), few enough inside two loops of 4.
LONG_LOOP = 24
#: A wide program's VM refuses strings longer than this (MemoryLimit): concatenations in
#: loops stay small, or stop with an error every tier must raise at the same op.
WIDE_MAX_SIZE = 4096
#: Constant arrays for the higher-order ops (MakeArray and Range make the others).
ARRAYS = [[], [3, 1, 2], [5, -1.5, "7", True, Undef], [2.5, 0, INT_MIN, math.nan, 9],
          ["b", "a", "", "10"], [[1, 2], [3], 4]]


class Source(Protocol):
    def int(self, lo: int, hi: int) -> int: ...


class RandomSource:
    """Choices from a seeded random.Random."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


class DataSource:
    """Choices drawn from a Hypothesis `data` object (so failures shrink)."""

    def __init__(self, data: Any) -> None:
        from hypothesis import strategies as st
        self.data = data
        self.st = st

    def int(self, lo: int, hi: int) -> int:
        return int(self.data.draw(self.st.integers(lo, hi)))


def pick(src: Source, seq: Sequence[Any]) -> Any:
    return seq[src.int(0, len(seq) - 1)]


def chance(src: Source, percent: int) -> bool:
    return src.int(0, 99) < percent


Item = tuple[Any, ...]  # ("label", name) or (mnemonic, *operands); targets are "@name"


@dataclass
class Program:
    """A generated program: its ops, initial slot values and numeric mode."""

    items: list[Item]
    slots: list[Any]
    strict: bool = False
    fuse: bool = False
    #: Block ranges (start label, end label), indexed by the higher-order ops' operand.
    blocks: list[tuple[str, str]] = field(default_factory=list)
    #: Functions (name, entry label, arity).
    subs: list[tuple[str, str, int]] = field(default_factory=list)
    #: A wide program (`Gen.wide`): its VM has awk's extension set and an AwkState, and
    #: refuses strings longer than WIDE_MAX_SIZE.
    wide: bool = False

    def block_ops(self) -> int:
        """How many higher-order ops the program has."""
        return sum(1 for item in self.items if item[0] in HIGHER_ORDER)

    def build(self) -> Chunk:
        b = ChunkBuilder(source="gen")
        labels: dict[str, Any] = {}

        def label(name: str) -> Any:
            if name not in labels:
                labels[name] = b.label(name)
            return labels[name]

        b.reserve_slots(len(self.slots))
        for n, item in enumerate(self.items):
            if item[0] == "label":
                b.bind(label(item[1]))
                continue
            name, *args = item
            if name == "LoadConst":
                b.emit(Op.LoadConst, b.add_constant(args[0]), line=n + 1)
                continue
            ops = [label(a[1:]) if isinstance(a, str) and a.startswith("@") else a
                   for a in args]
            b.emit(op_named(name), *ops, line=n + 1)
        for start, end in self.blocks:
            b.add_block_range(label(start), label(end))
        for name, entry, arity in self.subs:
            b.add_sub_entry(name, label(entry), arity=arity)
        return b.build(fuse=self.fuse)

    def text(self) -> str:
        lines = [f"; slots={self.slots!r} strict={self.strict} fuse={self.fuse}"
                 + (" wide" if self.wide else "")]
        lines += [f".block {i} {start} {end}" for i, (start, end) in enumerate(self.blocks)]
        lines += [f".sub {name} {entry} {arity}" for name, entry, arity in self.subs]
        for item in self.items:
            if item[0] == "label":
                lines.append(f"{item[1]}:")
            else:
                lines.append("    " + " ".join(repr(a) if not isinstance(a, str) else a
                                               for a in item))
        return "\n".join(lines)


def op_named(name: str) -> Any:
    """The core op or awk extension op called `name`."""
    if name in Op.__members__:
        return Op[name]
    from fusevm.lang.awk.ops import AWK
    return AWK[name]


@dataclass
class Gen:
    """Builds one program from a Source."""

    src: Source
    nslots: int = 5
    straight: bool = False
    items: list[Item] = field(default_factory=list)
    protected: set[int] = field(default_factory=set)
    labels: int = 0
    budget: int = 60  # ops left before statements stop nesting
    #: Higher-order blocks, functions and globals in this program (never when straight).
    hof: bool = False
    #: The bodies of blocks and functions, laid out after the program's first Jump.
    bodies: list[Item] = field(default_factory=list)
    #: Made so far: (start, end, leaves a result); (name, entry, arity).
    blocks: list[tuple[str, str, bool]] = field(default_factory=list)
    subs: list[tuple[str, str, int]] = field(default_factory=list)
    #: The choices of a wide program's added constructs (strings, awk's extension ops, a
    #: slot changing its type at one iteration, a division by zero at one iteration): a
    #: second source, so that the first one's choices are drawn as in a plain program
    #: (None), whose seeds keep giving the same programs.
    wide: Source | None = None
    #: Whether a wide program has string ops (no native tier lowers them: without them,
    #: the native tiers can take the whole program).
    strings: bool = False

    def emit(self, *item: Any) -> None:
        self.items.append(item)
        self.budget -= 1

    def label(self) -> str:
        self.labels += 1
        return f"L{self.labels}"

    def bind(self, name: str) -> None:
        self.items.append(("label", name))

    def free_slot(self) -> int | None:
        free = [s for s in range(self.nslots) if s not in self.protected]
        return pick(self.src, free) if free else None

    # -- expressions: each pushes exactly one value ----------------------------------

    def leaf(self) -> None:
        src = self.src
        k = src.int(0, 99)
        if k < 35:
            self.emit("GetSlot", src.int(0, self.nslots - 1))
        elif k < 60:
            self.emit("LoadInt", pick(src, INT_EDGES) if chance(src, 60)
                      else src.int(-1000, 1000))
        elif k < 75:
            self.emit("LoadFloat", pick(src, FLOAT_EDGES))
        elif k < 82:
            self.emit(pick(src, ["LoadTrue", "LoadFalse"]))
        elif k < 86:
            if self.hof and chance(src, 60):
                self.emit("GetVar", pick(src, GLOBALS))
            else:
                self.emit("LoadUndef")
        elif k < 99:
            self.emit("LoadConst", pick(src, [7, -3, 2.5, -0.0, True, Undef, INT_MIN]))
        else:
            self.emit("LoadConst", pick(src, ["abc", "12", ""]))

    def expr(self, depth: int) -> None:
        src = self.src
        if depth <= 0 or self.budget <= 0 or chance(src, 25):
            self.leaf()
            return
        if self.wide is not None and chance(self.wide, 15):
            self.wide_expr(depth)
            return
        if self.hof and chance(src, 15):
            self.hof_expr(depth)
            return
        k = src.int(0, 99)
        if k < 40:
            self.expr(depth - 1)
            self.expr(depth - 1)
            self.emit(pick(src, BINARY_HOT) if chance(src, 50) else pick(src, BINARY))
        elif k < 58:
            self.expr(depth - 1)
            self.emit(pick(src, UNARY))
        elif k < 66:
            self.shuffle(depth)
        elif k < 74:
            slot = self.free_slot()
            if slot is None:
                self.leaf()
            else:
                self.emit(pick(src, ["PreIncSlot", "PreDecSlot", "PostIncSlot",
                                     "PostDecSlot"]), slot)
        elif k < 87 and not self.straight:
            self.ternary(depth)
        elif not self.straight:
            self.logic(depth)
        else:
            self.leaf()

    def shuffle(self, depth: int) -> None:
        src = self.src
        form = src.int(0, 4)
        self.expr(depth - 1)
        if form == 0:
            self.emit("Dup")
            self.emit(pick(src, BINARY_HOT))
        elif form == 1:
            self.expr(depth - 1)
            self.emit("Swap")
            self.emit(pick(src, BINARY_HOT))
        elif form == 2:
            self.expr(depth - 1)
            self.expr(depth - 1)
            self.emit("Rot")
            self.emit(pick(src, BINARY_HOT))
            self.emit(pick(src, BINARY_HOT))
        elif form == 3:
            self.expr(depth - 1)
            self.emit("Dup2")
            for _ in range(3):
                self.emit(pick(src, BINARY_HOT))
        else:
            self.expr(depth - 1)
            self.emit("Pop")

    def ternary(self, depth: int) -> None:
        other, end = self.label(), self.label()
        self.expr(depth - 1)
        self.emit(pick(self.src, ["JumpIfFalse", "JumpIfTrue"]), "@" + other)
        self.expr(depth - 1)
        self.emit("Jump", "@" + end)
        self.bind(other)
        self.expr(depth - 1)
        self.bind(end)

    def logic(self, depth: int) -> None:
        end = self.label()
        self.expr(depth - 1)
        self.emit(pick(self.src, ["JumpIfFalseKeep", "JumpIfTrueKeep"]), "@" + end)
        self.emit("Pop")
        self.expr(depth - 1)
        self.bind(end)

    # -- statements: each leaves the stack as it found it -------------------------------------

    def stmt(self, depth: int) -> None:
        src = self.src
        k = src.int(0, 99)
        slot = self.free_slot()
        if slot is None or self.budget <= 0:
            self.emit("Nop")
        elif self.hof and k < 20:
            self.hof_stmt(depth, slot)
        elif k < 35:
            self.expr(2)
            self.emit("SetSlot", slot)
        elif k < 42:
            self.expr(2)
            self.emit("Pop")
        elif k < 48:
            self.emit("PreIncSlotVoid", slot)
        elif k < 54:
            self.emit("AddAssignSlotVoid", slot, src.int(0, self.nslots - 1))
        elif k < 57:
            # The index starts small and differs from the sum slot: the interpreter steps
            # one iteration at a time until both slots hold Ints, so anything else could
            # run for 2**63 steps.
            index = self.free_slot()
            if index is None or index == slot:
                self.emit("Nop")
                return
            self.emit("LoadInt", src.int(-5, 5))
            self.emit("SetSlot", index)
            self.emit("AccumSumLoop", slot, index, src.int(-3, 40))
        elif self.straight or depth <= 0:
            self.expr(2)
            self.emit("SetSlot", slot)
        elif k < 72:
            self.if_else(depth)
        elif k < 95:
            self.loop(depth)
        else:
            self.expr(1)
            self.loop(depth)
            self.emit("SetSlot", slot)

    def block(self, depth: int, n: int) -> None:
        for _ in range(n):
            self.stmt(depth)

    def if_else(self, depth: int) -> None:
        src = self.src
        other, end = self.label(), self.label()
        self.expr(2)
        self.emit(pick(src, ["JumpIfFalse", "JumpIfTrue"]), "@" + other)
        self.block(depth - 1, src.int(1, 2))
        if chance(src, 60):
            self.emit("Jump", "@" + end)
            self.bind(other)
            self.block(depth - 1, src.int(1, 2))
            self.bind(end)
        else:
            self.bind(other)

    def loop(self, depth: int) -> None:
        src = self.src
        counter = self.free_slot()
        if counter is None:
            self.emit("Nop")
            return
        self.protected.add(counter)
        limit = src.int(0, 4)
        if self.wide is not None and limit == 4 and depth == 1:
            limit = LONG_LOOP  # (no draw: the wide choices stay those of shorter loops)
        top, end = self.label(), self.label()
        self.emit("LoadInt", 0)
        self.emit("SetSlot", counter)
        form = src.int(0, 3)
        if form == 0:
            self.bind(top)
            self.loop_body(depth, counter, limit)
            self.emit("SlotIncLtIntJumpBack", counter, limit, "@" + top)
        elif form == 1:
            self.bind(top)
            self.emit("SlotLtIntJumpIfFalse", counter, limit, "@" + end)
            self.loop_body(depth, counter, limit)
            self.emit("PreIncSlotVoid", counter)
            self.emit("Jump", "@" + top)
            self.bind(end)
        elif form == 2:
            self.bind(top)
            for item in (("GetSlot", counter), ("LoadInt", limit), ("NumLt",),
                         ("JumpIfFalse", "@" + end)):
                self.emit(*item)
            self.loop_body(depth, counter, limit)
            for item in (("GetSlot", counter), ("Inc",), ("SetSlot", counter)):
                self.emit(*item)
            self.emit("Jump", "@" + top)
            self.bind(end)
        else:
            self.bind(top)
            self.loop_body(depth, counter, limit)
            for item in (("PreIncSlotVoid", counter), ("GetSlot", counter),
                         ("LoadInt", limit), ("NumLt",), ("JumpIfTrue", "@" + top)):
                self.emit(*item)
        self.protected.discard(counter)

    def loop_body(self, depth: int, counter: int, limit: int) -> None:
        """A loop's statements; in a wide program, now and then followed by one that acts
        at a single iteration (the counter's value `at`): a slot written with a value of
        another kind, or a division whose divisor is zero then."""
        self.block(depth - 1, self.src.int(1, 3))
        w = self.wide
        if w is None or not chance(w, 40):
            return
        free = [s for s in range(self.nslots) if s not in self.protected]
        if not free:
            return
        slot, at = pick(w, free), w.int(0, max(limit - 1, 0))
        if chance(w, 50):
            skip = self.label()
            for item in (("GetSlot", counter), ("LoadInt", at), ("NumEq",),
                         ("JumpIfFalse", "@" + skip)):
                self.emit(*item)
            self.wide_leaf()
            self.emit("SetSlot", slot)
            self.bind(skip)
        else:
            self.emit("GetSlot", pick(w, range(self.nslots)))
            for item in (("GetSlot", counter), ("LoadInt", at), ("Sub",)):
                self.emit(*item)
            self.emit(*pick(w, [("Div",), ("Mod",), ("AwkArith", 3), ("AwkArith", 4)]))
            self.emit("SetSlot", slot)

    # -- wide programs' constructs (only when `wide`) --------------------------------

    def wide_leaf(self) -> None:
        """A value of any kind, chosen by the wide source."""
        w = self.wide
        assert w is not None
        k = w.int(0, 99)
        if k < 35:
            self.emit("LoadConst", pick(w, STRINGS))
        elif k < 60:
            self.emit("LoadFloat", pick(w, FLOAT_EDGES))
        elif k < 80:
            self.emit("LoadInt", pick(w, INT_EDGES))
        elif k < 90:
            self.emit(pick(w, ["LoadTrue", "LoadFalse"]))
        else:
            self.emit("LoadUndef")

    def wide_expr(self, depth: int) -> None:
        """Push a value made by a string op (when `strings`) or one of awk's numeric ops
        (AwkConcat makes a string too)."""
        w = self.wide
        assert w is not None
        k = w.int(0, 99) if self.strings else w.int(52, 92)
        if k < 20:  # (the VM's max_size bounds what concatenations in loops make)
            for _ in range(2):
                if chance(w, 50):
                    self.wide_leaf()
                else:
                    self.expr(depth - 1)
            self.emit("Concat")
        elif k < 30:
            self.expr(depth - 1)
            self.emit("StringLen")
        elif k < 45:
            self.expr(depth - 1)
            if chance(w, 50):
                self.wide_leaf()
            else:
                self.expr(depth - 1)
            self.emit(pick(w, STRING_COMPARE))
        elif k < 52:
            self.emit("LoadConst", pick(w, STRINGS))
            self.expr(depth - 1)  # any count: negative, huge (MemoryLimit), NaN
            self.emit("StringRepeat")
        elif k < 70:
            self.expr(depth - 1)
            self.emit(pick(w, AWK_UNARY))
        elif k < 80:
            self.expr(depth - 1)
            self.expr(depth - 1)
            self.emit("AwkCmp", w.int(0, 5))
        elif k < 93:
            self.expr(depth - 1)
            self.expr(depth - 1)
            self.emit("AwkArith", w.int(0, 5))
        else:
            # One item that may grow (a slot's string), the others constants, so that
            # a loop's AwkConcat cannot double a string (it has no size limit).
            count = w.int(1, 3)
            grow = w.int(0, count - 1)
            for n in range(count):
                if n == grow:
                    self.expr(depth - 1)
                else:
                    self.wide_leaf()
            self.emit("AwkConcat", count)

    # -- higher-order blocks, functions and globals (only when `hof`) ---------------------

    def array(self, depth: int) -> None:
        """Push an array (or, now and then, any value: the ops take a scalar as [x])."""
        src = self.src
        k = src.int(0, 99)
        if k < 30:
            # Small bounds: Range of two slot values could ask for 2**64 elements.
            self.emit("LoadInt", src.int(-2, 3))
            self.emit("LoadInt", src.int(-1, 7))
            self.emit("Range")
        elif k < 50:
            count = src.int(0, 4)
            for _ in range(count):
                self.expr(min(depth, 1) - 1 if chance(src, 50) else 0)
            self.emit("MakeArray", count)
        elif k < 65:
            self.emit("LoadConst", pick(src, ARRAYS))
        elif k < 80 and self.blocks and depth > 0:
            self.array(depth - 1)
            self.higher_order(result=True)
        else:
            self.leaf()

    def higher_order(self, result: bool) -> None:
        """The op that runs a block made before: MapBlock/GrepBlock/SortBlock push an
        array; ForEachBlock (also over blocks that leave nothing) pushes nothing."""
        src = self.src
        if result:
            with_result = [i for i, b in enumerate(self.blocks) if b[2]]
            if with_result:
                op = pick(src, ["MapBlock", "MapBlock", "GrepBlock", "SortBlock"])
                self.emit(op, pick(src, with_result))
                return
            self.emit("ForEachBlock", src.int(0, len(self.blocks) - 1))
            self.emit("LoadConst", pick(src, ARRAYS))
            return
        self.emit("ForEachBlock", src.int(0, len(self.blocks) - 1))

    def hof_expr(self, depth: int) -> None:
        """Push one value made by a block op, a call or a global."""
        src = self.src
        k = src.int(0, 99)
        if k < 50 and self.blocks:
            self.array(depth)
            self.higher_order(result=True)
        elif k < 80 and self.subs:
            name, _, arity = pick(src, self.subs)
            for _ in range(arity):
                self.expr(depth - 1)
            self.emit("Call", name, arity)
        else:
            self.emit("GetVar", pick(src, GLOBALS))

    def hof_stmt(self, depth: int, slot: int) -> None:
        src = self.src
        k = src.int(0, 99)
        if k < 12 and depth > 0:
            self.inline_block(depth)
        elif k < 35 and self.blocks:
            self.array(2)
            self.higher_order(result=chance(src, 60))
            if self.items[-1][0] != "ForEachBlock":
                self.emit(*(("SetSlot", slot) if chance(src, 60)
                            else ("SetVar", pick(src, GLOBALS))))
        elif k < 70:
            self.expr(2)
            self.emit("SetVar", pick(src, GLOBALS))
        else:
            self.hof_expr(2)
            self.emit("SetSlot", slot)

    def body(self, make: Any) -> None:
        """Write a block's or function's body with `make`, into `bodies`: its own slots
        (a fresh frame), its own budget."""
        items, protected, budget = self.items, self.protected, self.budget
        self.items, self.protected, self.budget = [], set(), 25
        try:
            make()
        finally:
            self.bodies += self.items
            self.items, self.protected, self.budget = items, protected, budget

    def make_block(self) -> None:
        """A block: slot 0 holds the element (slot 1 SortBlock's second one); its value
        is the top of its stack at its end, reached by falling or jumping there."""
        src = self.src
        start, end = self.label(), self.label()
        result = chance(src, 85)
        depth = src.int(1, 2)

        def make() -> None:
            self.bind(start)
            self.block(depth, src.int(0, 2))
            form = src.int(0, 6) if result else -1
            if form == 0:  # the last op pushes it
                self.expr(2)
            elif form == 1:  # pushed before a loop that ends the block
                self.expr(1)
                self.loop(depth)
            elif form == 2:  # on two paths, the first jumping to the block's end
                self.ternary(2)
            elif form == 3:  # read after a loop that wrote it
                self.loop(depth)
                self.emit("GetSlot", src.int(0, self.nslots - 1))
            elif form == 4:  # a comparator's usual shape, or its reverse
                a, b = (0, 1) if chance(src, 50) else (1, 0)
                self.emit("GetSlot", a)
                self.emit("GetSlot", b)
                self.emit("Spaceship" if chance(src, 70) else pick(src, BINARY_HOT))
            elif form == 5:  # an if/else whose arms each push it
                other = self.label()
                self.expr(1)
                self.emit(pick(src, ["JumpIfFalse", "JumpIfTrue"]), "@" + other)
                self.block(depth - 1, 1)
                self.expr(1)
                self.emit("Jump", "@" + end)
                self.bind(other)
                self.expr(2)
            elif form == 6:  # or returned early (ReturnValue or Return: Undef)
                other = self.label()
                self.expr(1)
                self.emit(pick(src, ["JumpIfFalse", "JumpIfTrue"]), "@" + other)
                if chance(src, 70):
                    self.expr(1)
                    self.emit("ReturnValue")
                else:
                    self.emit("Return")
                self.bind(other)
                self.block(depth - 1, 1)
                self.expr(2)
            self.bind(end)
        self.body(make)
        self.blocks.append((start, end, result))

    def inline_block(self, depth: int) -> None:
        """A block laid out where it stands, so the code around it runs its ops too (at
        that code's stack depth, which may not be the block's 0: then no tier may compile
        them) before later ops run them as a block."""
        src = self.src
        start, end = self.label(), self.label()
        result = chance(src, 80)
        self.bind(start)
        self.block(depth - 1, src.int(1, 2))
        if result:
            self.expr(2)
        self.bind(end)
        if result:
            self.emit("Pop")
        self.blocks.append((start, end, result))

    def make_sub(self) -> None:
        """A function of 0-2 arguments (popped into its first slots) that returns a
        value, on one path or two."""
        src = self.src
        name, entry, arity = f"f{len(self.subs)}", self.label(), src.int(0, 2)
        depth = src.int(1, 2)

        def make() -> None:
            self.bind(entry)
            for slot in reversed(range(arity)):
                self.emit("SetSlot", slot)
            self.block(depth, src.int(0, 2))
            if chance(src, 40):
                other = self.label()
                self.expr(1)
                self.emit(pick(src, ["JumpIfFalse", "JumpIfTrue"]), "@" + other)
                self.expr(2)
                self.emit("ReturnValue")
                self.bind(other)
                self.block(depth - 1, 1)
            self.expr(2)
            self.emit("ReturnValue")
        self.body(make)
        self.subs.append((name, entry, arity))

    # -- whole programs ---------------------------------------------------------------------------

    def slot_value(self) -> Any:
        src = self.src
        k = src.int(0, 99)
        if k < 50:
            return pick(src, INT_EDGES) if chance(src, 50) else src.int(-50, 50)
        if k < 72:
            return pick(src, FLOAT_EDGES)
        if k < 82:
            return pick(src, [True, False])
        if k < 96:
            return Undef
        return pick(src, ["abc", "7"])

    def program(self) -> Program:
        src = self.src
        self.nslots = src.int(2, 6)
        slots = [self.slot_value() for _ in range(self.nslots)]
        if self.wide is not None:
            self.strings = chance(self.wide, 50)
        depth = 1 if self.straight else src.int(1, 3)
        self.hof = not self.straight and chance(src, 35)
        if self.hof:
            for _ in range(src.int(1, 4)):
                if chance(src, 70):
                    self.make_block()
                else:
                    self.make_sub()
            if not self.blocks:
                self.make_block()
        self.block(depth, src.int(1, 5 if self.straight else 4))
        if self.hof and not any(item[0] in HIGHER_ORDER for item in self.items):
            # The main code runs a block at least once, on its straight path.
            self.array(2)
            self.higher_order(result=chance(src, 70))
            if self.items[-1][0] != "ForEachBlock":
                self.emit("SetSlot", src.int(0, self.nslots - 1))
        tail = src.int(0, 9)
        if tail < 8 or self.straight:
            self.expr(3)
        elif tail == 8:
            self.expr(1)
            self.expr(1)
        items = self.items
        if self.hof:
            items = [("Jump", "@main"), *self.bodies, ("label", "main"), *items]
        return Program(items, slots, strict=chance(src, 20), fuse=chance(src, 30),
                       blocks=[(start, end) for start, end, _ in self.blocks],
                       subs=list(self.subs), wide=self.wide is not None)


def generate(src: Source, straight: bool, wide: Source | None = None) -> Program:
    """A program from `src`; with `wide`, one with the wide constructs (`Gen.wide`)
    chosen by it."""
    return Gen(src, straight=straight, wide=wide).program()
