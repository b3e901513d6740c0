"""Everything built from the op table at import: the Op enum, lookups, categories, schema hash.

No list of ops is kept anywhere else; code that needs "every op that ..." asks these views.
"""

from __future__ import annotations

from fusevm.digests import blake2b
from fusevm.enums import IntEnum
from fusevm.ops.spec import F, OpSpec
from fusevm.ops.table import ROWS


def _check(rows: tuple[OpSpec, ...]) -> None:
    numbers: set[int] = set()
    names: set[str] = set()
    for row in rows:
        if row.number in numbers:
            raise ValueError(f"op number {row.number:#x} used twice ({row.name})")
        if row.name in names:
            raise ValueError(f"op {row.name} declared twice")
        numbers.add(row.number)
        names.add(row.name)


_check(ROWS)


class _OpBase(IntEnum):
    """One member per core op, named by its CamelCase mnemonic; `.spec` is its table row."""

    spec: OpSpec

    @property
    def mnemonic(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name


TYPE_CHECKING = False
if TYPE_CHECKING:
    from enum import EnumMeta
    from typing import Final

    # The members are created from the table at import; tell the type checker that any
    # attribute of Op is an Op member.
    class _OpMeta(EnumMeta):
        def __getattr__(cls, name: str) -> Op: ...

    class Op(_OpBase, metaclass=_OpMeta):
        pass
else:
    Op = _OpBase("Op", [(row.name, row.number) for row in ROWS])
    Op.__doc__ = _OpBase.__doc__
# Members are looked up once here, not with `Op(number)` per use.
_MEMBERS: Final[tuple[tuple[OpSpec, Op], ...]] = tuple((row, Op[row.name]) for row in ROWS)
for _row, _op in _MEMBERS:
    _op.spec = _row
    _op.__doc__ = f"{_row.effect.text}: {_row.formula}"

#: Table row by op number.
OPS: Final[dict[int, OpSpec]] = {row.number: row for row in ROWS}
#: Op by mnemonic.
BY_NAME: Final[dict[str, Op]] = {row.name: op for row, op in _MEMBERS}
#: Section names in table order, with their ops.
SECTIONS: Final[dict[str, tuple[Op, ...]]] = {}
_in_section: dict[str, list[Op]] = {}
for _row, _op in _MEMBERS:
    _in_section.setdefault(_row.section, []).append(_op)
for _name, _ops in _in_section.items():
    SECTIONS[_name] = tuple(_ops)


def ops_with(flag: F) -> tuple[Op, ...]:
    """Every op carrying `flag`, in table order."""
    bit = flag._value_
    return tuple(op for row, op in _MEMBERS if row.flags._value_ & bit)


FUSED_OPS: Final = ops_with(F.FUSED)
EXTENDED_OPS: Final = ops_with(F.EXTENDED)
SHELL_OPS: Final = ops_with(F.SHELL)
BRANCH_OPS: Final = ops_with(F.BRANCH)


def _schema_hash() -> str:
    # One line per op, hashed as one text (one update, not one per row: start-up time).
    text = "".join(f"{row.number}:{row.name}:{','.join([o.kind.value for o in row.operands])}:"
                   f"{row.effect.text}\n" for row in ROWS)
    return blake2b(text.encode(), digest_size=8).hexdigest()


#: Hash of (number, mnemonic, operand kinds, effect) of every op. Stamped into serialized
#: chunks and JIT cache keys: any change to the table's shape invalidates both.
SCHEMA_HASH: Final[str] = _schema_hash()
