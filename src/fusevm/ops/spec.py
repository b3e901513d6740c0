"""The schema of the op table: operand kinds, flags, stack effects and the OpSpec row.

Everything the rest of the package knows about an op (how to parse and print its operands,
how many values it pops and pushes, whether it branches, which unfused sequence a fused op
stands for) is read from an `OpSpec`. Nothing here names a particular op.
"""

from __future__ import annotations

from fusevm.enums import Enum, Flag
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final


class Kind(Enum):
    """Operand kinds. Each fixes a value range, a serialized width and an assembler syntax."""

    INT = "INT"  # i64 immediate
    FLOAT = "FLOAT"  # f64 immediate
    I32 = "I32"  # i32 immediate (fused-loop limits)
    U8 = "U8"  # small unsigned immediate: counts, argc, inline extension argument
    COUNT = "COUNT"  # u16 count of stack values
    CONST = "CONST"  # u16 index into chunk.constants
    NAME = "NAME"  # u16 index into chunk.names (globals and function names)
    SLOT = "SLOT"  # u16 index into the current frame's slots
    TARGET = "TARGET"  # absolute op index, 0..len(ops)
    BLOCK = "BLOCK"  # u16 index into chunk.block_ranges
    SUB = "SUB"  # u16 index into chunk.sub_chunks
    FD = "FD"  # u8 file descriptor
    REDIR = "REDIR"  # u8 redirect kind (ops.shell_codes.Redir)
    FILETEST = "FILETEST"  # u8 file test code (ops.shell_codes.FileTest)
    PARAMMOD = "PARAMMOD"  # u8 parameter expansion modifier (ops.shell_codes.ParamMod)
    EXT_ID = "EXT_ID"  # u16 extension op id
    BUILTIN = "BUILTIN"  # u16 builtin id
    PAYLOAD = "PAYLOAD"  # u64 payload of ExtendedWide

    @property
    def bits(self) -> int:
        """Serialized width in bits (floats and ints are 64-bit)."""
        return _BITS[self]

    @property
    def signed(self) -> bool:
        return self in (Kind.INT, Kind.I32)

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1


_BITS: Final = {
    Kind.INT: 64, Kind.FLOAT: 64, Kind.I32: 32, Kind.U8: 8, Kind.COUNT: 16, Kind.CONST: 16,
    Kind.NAME: 16, Kind.SLOT: 16, Kind.TARGET: 32, Kind.BLOCK: 16, Kind.SUB: 16, Kind.FD: 8,
    Kind.REDIR: 8, Kind.FILETEST: 8, Kind.PARAMMOD: 8, Kind.EXT_ID: 16, Kind.BUILTIN: 16,
    Kind.PAYLOAD: 64,
}

#: Kinds whose operand indexes a chunk pool; the verifier range-checks them.
POOL_KINDS: Final = {
    Kind.CONST: "constants", Kind.NAME: "names", Kind.BLOCK: "block_ranges",
    Kind.SUB: "sub_chunks",
}


class F(Flag):
    """Semantic facts about an op. JIT capability is not a flag: see the lowering registry."""

    NONE = 0
    BRANCH = 1 << 0  # may continue at a TARGET operand
    TERMINATOR = 1 << 1  # never falls through to the next op
    CALL = 1 << 2  # enters a function frame
    RETURN = 1 << 3  # leaves the current function frame (halts at the root, D2)
    SCOPE = 1 << 4  # pushes or pops a scope frame
    MAY_RAISE = 1 << 5  # can raise a VMError for some operand values
    PURE = 1 << 6  # result depends only on inputs; no state touched
    FUSED = 1 << 7  # a superinstruction with a `fuses` expansion
    SHELL = 1 << 8  # routed to the shell host
    IO = 1 << 9  # reads or writes the VM's stdin/stdout
    EXTENDED = 1 << 10  # dispatches to a frontend's extension handler
    HOT_COUNTER = 1 << 11  # a loop back-edge or function entry where hotness is counted
    SPAWN = 1 << 12  # starts processes (capability `spawn`)
    FS_READ = 1 << 13  # reads the file system (capability `fs_read`)
    FS_WRITE = 1 << 14  # writes the file system (capability `fs_write`)
    BLOCK_CALL = 1 << 15  # runs a block range (higher-order ops)


@dataclass(frozen=True, slots=True)
class Operand:
    """One operand slot of an op: its role name and its kind."""

    name: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Effect:
    """A parsed stack effect: inputs and outputs, each a fixed count or an operand-sized run.

    `pops(operands)` and `pushes(operands)` give concrete counts for one instruction.
    """

    text: str
    inputs: tuple[tuple[str, str | None], ...]  # (item name, operand name sizing it or None)
    outputs: tuple[tuple[str, str | None], ...]

    def _count(self, side: tuple[tuple[str, str | None], ...], spec: OpSpec,
               operands: tuple[object, ...]) -> int:
        n = 0
        for _, sized_by in side:
            if sized_by is None:
                n += 1
            else:
                i = spec.operand_index(sized_by)
                value = operands[i]
                assert isinstance(value, int)
                n += sized_count(spec.operands[i].kind, value)
        return n

    def pops(self, spec: OpSpec, operands: tuple[object, ...]) -> int:
        return self._count(self.inputs, spec, operands)

    def pushes(self, spec: OpSpec, operands: tuple[object, ...]) -> int:
        return self._count(self.outputs, spec, operands)

    @property
    def counts(self) -> tuple[int, int] | None:
        """(pops, pushes) when no operand sizes a run of items, else None (they differ
        from one instruction to the next: `pops`, `pushes`)."""
        for _, sized_by in self.inputs + self.outputs:
            if sized_by is not None:
                return None
        return len(self.inputs), len(self.outputs)

    @property
    def names(self) -> set[str]:
        return {n for n, _ in self.inputs} | {n for n, _ in self.outputs}


def sized_count(kind: Kind, value: int) -> int:
    """How many stack values an operand of this kind stands for (`args[mod]` effects)."""
    if kind is Kind.PARAMMOD:
        from fusevm.ops.shell_codes import param_argc
        return param_argc(value)
    return value


def _item(tok: str, text: str) -> tuple[str, str | None]:
    """`name` or `name[operand]`, both ASCII identifiers."""
    name, bracket, rest = tok.partition("[")
    sized = rest[:-1] if bracket and rest.endswith("]") else None
    if (not _ident(name) or (bracket and (sized is None or not _ident(sized)))):
        raise ValueError(f"bad stack item {tok!r} in {text!r}")
    return name, sized


def _ident(word: str) -> bool:
    return word.isidentifier() and word.isascii()


# Parsed once per distinct text: many rows share an effect or an operand list, and the
# table is parsed by every process at start-up. The results are immutable.
_EFFECTS: dict[str, Effect] = {}
_OPERANDS: dict[str, tuple[Operand, ...]] = {}


def parse_effect(text: str) -> Effect:
    """Parse CPython-style `a b -- r` notation; `args[n]` is a run sized by operand n."""
    found = _EFFECTS.get(text)
    if found is not None:
        return found
    if text.count("--") != 1:
        raise ValueError(f"stack effect {text!r} needs exactly one '--'")
    left, right = text.split("--")
    effect = Effect(text, tuple(_item(tok, text) for tok in left.split()),
                    tuple(_item(tok, text) for tok in right.split()))
    _EFFECTS[text] = effect
    return effect


def operand_kinds_text(text: str) -> str:
    """The kinds of declared operands `slot:SLOT limit:I32` joined by commas (a kind's
    value is its name): what schema hashes and cache keys read, without parsing rows."""
    return ",".join([tok.partition(":")[2] for tok in text.split()])


def parse_operands(text: str) -> tuple[Operand, ...]:
    """Parse `slot:SLOT limit:I32 target:TARGET` into Operand records."""
    found = _OPERANDS.get(text)
    if found is not None:
        return found
    out = []
    for tok in text.split():
        name, _, kind = tok.partition(":")
        if not name or not kind:
            raise ValueError(f"operand {tok!r} must be name:KIND")
        out.append(Operand(name, Kind[kind]))
    operands = _OPERANDS[text] = tuple(out)
    return operands


@dataclass(frozen=True, slots=True)
class OpSpec:
    """One row of the op table: everything there is to know about an op, as data."""

    number: int
    name: str
    operands: tuple[Operand, ...]
    effect: Effect
    formula: str
    flags: F
    section: str
    fuses: str | None = None

    def operand_index(self, name: str) -> int:
        """Position of the operand called `name` (KeyError for none). A scan: an op has at
        most a few operands, and a per-row index would be one more dict per op at start-up."""
        for i, o in enumerate(self.operands):
            if o.name == name:
                return i
        raise KeyError(name)

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return tuple(o.kind for o in self.operands)

    def has(self, flag: F) -> bool:
        # Plain int arithmetic: Flag's own `&` looks up a member on every call, and
        # the verifier and JIT ask this for every op of every chunk.
        return bool(self.flags._value_ & flag._value_)

    @property
    def targets(self) -> tuple[int, ...]:
        """Positions of TARGET operands."""
        return tuple(i for i, o in enumerate(self.operands) if o.kind is Kind.TARGET)


def make_spec(number: int, name: str, operands: str, effect: str, formula: str,
              flags: F = F.NONE, *, section: str, fuses: str | None = None) -> OpSpec:
    """Build and sanity-check one table row."""
    ops = parse_operands(operands)
    eff = parse_effect(effect)
    op_names = {o.name for o in ops}
    for _, sized in eff.inputs + eff.outputs:
        if sized is not None and sized not in op_names:
            raise ValueError(f"{name}: effect sized by unknown operand {sized!r}")
    if bool(flags._value_ & F.FUSED._value_) != (fuses is not None):  # (see `OpSpec.has`)
        raise ValueError(f"{name}: FUSED flag and `fuses` must go together")
    return OpSpec(number, name, ops, eff, formula, flags, section, fuses)
