"""A minimal LLVM IR text builder: just the instructions the JIT emits.

`llvmlite.ir` builds an object graph and formats it through many small string operations,
which costs more than LLVM's own codegen for a small unit. Units here are one function
with a fixed shape, so this module writes their text directly: a `Function` holds named
`Block`s of instruction lines (phis render last, once all incomings are known), a
`Builder` appends typed instructions and returns `Value`s (a type and a reference), and
`Function.render()` produces the module text, intrinsic declarations included. Value and
block names are quoted, so any block name (`B12`, `B12.1`, `B12v2`, `B12~3`) is valid.
It imports nothing from llvmlite.
"""

from __future__ import annotations

import struct
from typing import Final

I1: Final = "i1"
I8: Final = "i8"
I32: Final = "i32"
I64: Final = "i64"
I128: Final = "i128"
F64: Final = "double"
PTR: Final = "ptr"

_ICMP: Final = {"==": "eq", "!=": "ne", "<": "slt", "<=": "sle", ">": "sgt", ">=": "sge"}
_UCMP: Final = {"==": "eq", "!=": "ne", "<": "ult", "<=": "ule", ">": "ugt", ">=": "uge"}


class Value:
    """An SSA value or constant: its LLVM type and how an operand refers to it."""

    __slots__ = ("type", "ref")

    def __init__(self, type_: str, ref: str) -> None:
        self.type = type_
        self.ref = ref

    def __repr__(self) -> str:
        return f"{self.type} {self.ref}"


def const_int(type_: str, n: int) -> Value:
    return Value(type_, str(n))


def const_double(x: float) -> Value:
    bits = struct.unpack("<Q", struct.pack("<d", x))[0]
    return Value(F64, f"0x{bits:016X}")


class Phi(Value):
    """A phi whose incomings may be added after later blocks are emitted."""

    __slots__ = ("incomings",)

    def __init__(self, type_: str, ref: str) -> None:
        super().__init__(type_, ref)
        self.incomings: list[tuple[Value, Block]] = []

    def add_incoming(self, value: Value, block: Block) -> None:
        self.incomings.append((value, block))

    def render(self) -> str:
        pairs = ", ".join(f"[{v.ref}, %{b.label}]" for v, b in self.incomings)
        return f"  {self.ref} = phi {self.type} {pairs}"


class Block:
    """A basic block: its name and its lines (phis first)."""

    __slots__ = ("name", "label", "phis", "lines", "terminated")

    def __init__(self, name: str) -> None:
        self.name = name
        self.label = f'"{name}"'
        self.phis: list[Phi] = []
        self.lines: list[str] = []
        self.terminated = False


class Function:
    """One function: `i64 @name(ptr)`, its blocks, the intrinsics it declares."""

    def __init__(self, name: str, attributes: str = "") -> None:
        self.name = name
        self.attributes = attributes
        self.arg = Value(PTR, '%"ctx"')
        self.blocks: list[Block] = []
        self.declarations: dict[str, str] = {}
        self._count = 0

    def append_block(self, name: str) -> Block:
        block = Block(name)
        self.blocks.append(block)
        return block

    def fresh(self) -> str:
        self._count += 1
        return f"%v{self._count}"

    def declare(self, name: str, result: str, args: tuple[str, ...]) -> str:
        """Declare an intrinsic once; returns the callee reference."""
        if name not in self.declarations:
            self.declarations[name] = f"declare {result} @{name}({', '.join(args)})"
        return f"@{name}"

    def render(self) -> str:
        out = [f'define i64 @"{self.name}"(ptr %"ctx") {self.attributes} {{']
        for block in self.blocks:
            out.append(f"{block.label}:")
            out.extend(p.render() for p in block.phis)
            out.extend(block.lines)
        out.append("}")
        out.extend(self.declarations.values())
        return "\n".join(out) + "\n"


class Builder:
    """Appends instructions to the current block of a Function."""

    def __init__(self, fn: Function) -> None:
        self.fn = fn
        self.block: Block = Block("<none>")

    def position_at_end(self, block: Block) -> None:
        self.block = block

    def _emit(self, type_: str, text: str) -> Value:
        ref = self.fn.fresh()
        self.block.lines.append(f"  {ref} = {text}")
        return Value(type_, ref)

    # -- arithmetic, comparison, conversion ------------------------------------------

    def binop(self, op: str, a: Value, b: Value) -> Value:
        """`add sub mul and or xor shl ashr lshr srem fadd fsub fmul fdiv`."""
        return self._emit(a.type, f"{op} {a.type} {a.ref}, {b.ref}")

    def fneg(self, a: Value) -> Value:
        return self._emit(a.type, f"fneg {a.type} {a.ref}")

    def icmp(self, pred: str, a: Value, b: Value, unsigned: bool = False) -> Value:
        cond = (_UCMP if unsigned else _ICMP)[pred]
        return self._emit(I1, f"icmp {cond} {a.type} {a.ref}, {b.ref}")

    def fcmp(self, cond: str, a: Value, b: Value) -> Value:
        """`cond` is LLVM's own (`oeq`, `une`, `olt`, ...)."""
        return self._emit(I1, f"fcmp {cond} {a.type} {a.ref}, {b.ref}")

    def cast(self, op: str, v: Value, to: str) -> Value:
        """`sitofp uitofp sext zext trunc bitcast`."""
        return self._emit(to, f"{op} {v.type} {v.ref} to {to}")

    def select(self, c: Value, a: Value, b: Value, rare: bool = False) -> Value:
        """`rare`: `c` almost never holds. The branch weights let LLVM's code generator
        turn the select into a predicted branch, which takes the select off a loop-carried
        dependency chain (a NaN fix-up after every float add would otherwise add the
        compare and blend latency to each trip of `s += x`)."""
        prof = ', !prof !{!"branch_weights", i32 1, i32 2000}' if rare else ""
        return self._emit(a.type,
                          f"select i1 {c.ref}, {a.type} {a.ref}, {b.type} {b.ref}{prof}")

    def not_(self, v: Value) -> Value:
        return self._emit(v.type, f"xor {v.type} {v.ref}, true")

    # -- calls -----------------------------------------------------------------------------

    def call(self, callee: str, result: str, args: list[Value]) -> Value:
        arglist = ", ".join(f"{a.type} {a.ref}" for a in args)
        return self._emit(result, f"call {result} {callee}({arglist})")

    def call_intrinsic(self, name: str, result: str, args: list[Value]) -> Value:
        callee = self.fn.declare(name, result, tuple(a.type for a in args))
        return self.call(callee, result, args)

    def extract(self, agg: Value, index: int, type_: str) -> Value:
        return self._emit(type_, f"extractvalue {agg.type} {agg.ref}, {index}")

    # -- memory ----------------------------------------------------------------------------

    def alloca(self, type_: str) -> Value:
        """A stack variable (SROA turns it into SSA values, phis included)."""
        return self._emit(PTR, f"alloca {type_}, align 8")

    def load(self, type_: str, ptr: Value, volatile: bool = False) -> Value:
        kw = "load volatile" if volatile else "load"
        return self._emit(type_, f"{kw} {type_}, ptr {ptr.ref}")

    def load_relaxed(self, type_: str, ptr: Value) -> Value:
        """An atomic load another thread's store is seen by (LLVM `monotonic`): cheap, and
        never hoisted out of a loop."""
        return self._emit(type_, f"load atomic {type_}, ptr {ptr.ref} monotonic, align 8")

    def store(self, value: Value, ptr: Value, volatile: bool = False) -> None:
        kw = "store volatile" if volatile else "store"
        self.block.lines.append(f"  {kw} {value.type} {value.ref}, ptr {ptr.ref}")

    def gep_field(self, struct_type: str, ptr: Value, index: int) -> Value:
        return self._emit(PTR, f"getelementptr inbounds {struct_type}, ptr {ptr.ref}, "
                               f"i32 0, i32 {index}")

    def gep_element(self, elem_type: str, ptr: Value, index: int) -> Value:
        return self._emit(PTR, f"getelementptr inbounds {elem_type}, ptr {ptr.ref}, "
                               f"i64 {index}")

    # -- phis and terminators -------------------------------------------------------------

    def phi(self, type_: str) -> Phi:
        phi = Phi(type_, self.fn.fresh())
        self.block.phis.append(phi)
        return phi

    def branch(self, target: Block) -> None:
        self.block.lines.append(f"  br label %{target.label}")
        self.block.terminated = True

    def cbranch(self, cond: Value, if_true: Block, if_false: Block) -> None:
        self.block.lines.append(f"  br i1 {cond.ref}, label %{if_true.label}, "
                                f"label %{if_false.label}")
        self.block.terminated = True

    def ret(self, value: Value) -> None:
        self.block.lines.append(f"  ret {value.type} {value.ref}")
        self.block.terminated = True
