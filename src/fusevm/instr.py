"""Instructions: the tuple encoding of one op in a chunk, and its decoded view.

An instruction is a plain tuple `(Op, *operands)`. Extension ops are stored as
`(Op.Extended, id, arg)` / `(Op.ExtendedWide, id, payload)`; `decode()` gives every tool
one view of both: the op's table row and its operand values.
"""

from __future__ import annotations

from fusevm.errors import BuildError
from fusevm.ops import F, Kind, Op, OpSpec
from fusevm.ops.extension import ExtOp, pack, registered_sets, require, unpack
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object  # run-time stand-in: only the type checker reads it

Instr = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Decoded:
    """An instruction seen through its (core or extension) table row."""

    spec: OpSpec
    operands: tuple[Any, ...]
    ext: ExtOp | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def targets(self) -> tuple[int, ...]:
        return tuple(self.operands[i] for i in self.spec.targets)


def decode(instr: Instr) -> Decoded:
    """Decode an instruction; extension ops resolve through the extension registry."""
    op = instr[0]
    if op is Op.Extended or op is Op.ExtendedWide:
        return decode_ext(instr[1], instr[2], op.name)
    return Decoded(op.spec, instr[1:])


#: Extension instructions decoded, by (id, payload), under the registry `_ext_registry`
#: (a registration starts the table over). The builder, the verifier, the loop facts and
#: the interpreter's binding each decode every extension op of every chunk: a shell
#: script makes a chunk of each of its commands.
_ext_decoded: dict[tuple[int, int], Decoded] = {}
_ext_registry: tuple[Any, ...] = ()
_EXT_DECODED_MAX = 65_536


def decode_ext(ext_id: int, payload: int, op: str = "Extended") -> Decoded:
    """The decoded extension instruction `(op, ext_id, payload)`; UnknownExtension (naming
    `op`) when no registered set declares `ext_id`."""
    global _ext_registry
    registry = registered_sets()
    if registry is not _ext_registry:
        _ext_decoded.clear()
        _ext_registry = registry
    key = (ext_id, payload)
    found = _ext_decoded.get(key)
    if found is None:
        ext = require(ext_id, op=op)
        found = Decoded(ext.spec, unpack(ext, payload), ext)
        if len(_ext_decoded) >= _EXT_DECODED_MAX:
            _ext_decoded.clear()
        _ext_decoded[key] = found
    return found


#: Per table row, by the row's identity (the row is kept in the entry, so a reused id is
#: seen): what the builder and the loop facts read of every op of every chunk, worked out
#: once (a shell makes a chunk of each command it reads): (row, extended, returns,
#: branches, ends its block, has a TARGET operand, the positions of its SLOT operands,
#: each operand's (lo, hi): an int in that range is the operand's value as
#: `check_operand` gives it (a FLOAT operand's range is empty: an int becomes a float)).
SHAPES: dict[int, tuple[Any, bool, bool, bool, bool, bool, tuple[int, ...],
                        tuple[tuple[int, int], ...]]] = {}


def shape(spec: OpSpec) -> tuple[Any, bool, bool, bool, bool, bool, tuple[int, ...],
                                 tuple[tuple[int, int], ...]]:
    """The row's entry in SHAPES (made on its first use)."""
    found = SHAPES.get(id(spec))
    if found is None or found[0] is not spec:
        found = SHAPES[id(spec)] = (
            spec, spec.has(F.EXTENDED), spec.has(F.RETURN), spec.has(F.BRANCH),
            spec.has(F.TERMINATOR), bool(spec.targets),
            tuple(i for i, o in enumerate(spec.operands) if o.kind is Kind.SLOT),
            tuple((1, 0) if o.kind is Kind.FLOAT else _range(o.kind) for o in spec.operands))
    return found


def encode(op: Op | ExtOp, operands: tuple[Any, ...]) -> Instr:
    """Encode an op and its operand values as an instruction (no range checks)."""
    if isinstance(op, ExtOp):
        return pack(op, operands)
    return (op, *operands)


def with_operands(d: Decoded, operands: tuple[Any, ...]) -> Instr:
    """Re-encode a decoded instruction with new operand values (e.g. remapped targets)."""
    return encode(d.ext if d.ext is not None else Op[d.spec.name], operands)


#: Each integer kind's (lo, hi), worked out on first use (the verifier and the builder
#: check every operand of every op they see).
_RANGES: dict[Kind, tuple[int, int]] = {}


def _range(kind: Kind) -> tuple[int, int]:
    """The (lo, hi) of an integer kind's values."""
    bounds = _RANGES.get(kind)
    if bounds is None:
        bounds = _RANGES[kind] = (kind.lo, kind.hi)
    return bounds


def check_operand(spec: OpSpec, index: int, value: Any) -> Any:
    """Range-check one operand value for its kind; returns the normalized value."""
    o = spec.operands[index]
    kind = o.kind
    if kind is Kind.FLOAT:
        if type(value) not in (int, float):
            raise BuildError(f"{spec.name}: operand {o.name} must be a number, got {value!r}",
                             op=spec.name)
        try:
            return float(value)
        except OverflowError:
            raise BuildError(f"{spec.name}: operand {o.name}={value!r:.30} is too large for a "
                             "float", op=spec.name) from None
    t = type(value)
    if t is not int:
        if not isinstance(value, int) or t is bool:
            raise BuildError(f"{spec.name}: operand {o.name} must be an integer, "
                             f"got {value!r}", op=spec.name)
        value = int(value)  # an IntEnum code (Redir.APPEND, ParamMod.UPPER) is its number
    bounds = _range(kind)
    if not bounds[0] <= value <= bounds[1]:
        raise BuildError(f"{spec.name}: operand {o.name}={value} is outside the "
                         f"{kind.value} range {kind.lo}..{kind.hi}", op=spec.name)
    return value
