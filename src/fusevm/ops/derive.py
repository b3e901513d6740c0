"""Everything built from the op table: the Op enum, lookups, categories, schema hash.

No list of ops is kept anywhere else; code that needs "every op that ..." asks these views.
"""

from __future__ import annotations

from fusevm.enums import IntEnum
from fusevm.ops.spec import F, OpSpec, operand_kinds_text
from fusevm.ops.table import DECLARED, spec


class _Spec:
    """`Op.X.spec`: the row's `OpSpec`, built on first use and then kept on the member (a
    non-data descriptor: the member's own attribute wins from then on)."""

    def __get__(self, op: object, owner: object = None) -> object:
        if op is None:
            return self
        found = spec(op)  # type: ignore[arg-type]
        op.__dict__["spec"] = found
        return found


class _Doc(str):
    """`Op.__doc__`, the class's docstring (a `str`, for what reads the class's own
    attribute), and `Op.X.__doc__`: its row's effect and formula, written on first use and
    then kept on the member (the help of 160-odd members is rarely read; writing them all
    would cost every process)."""

    def __get__(self, op: object, owner: object = None) -> str:
        if op is None:
            return str(self)
        row = next(row for row, member in _MEMBERS if member is op)
        found = op.__dict__["__doc__"] = f"{row[3]}: {row[4]}"
        return found


TYPE_CHECKING = False


class _OpBase(IntEnum):
    """One member per core op, named by its CamelCase mnemonic; `.spec` is its table row."""

    if TYPE_CHECKING:
        spec: OpSpec
    else:
        spec = _Spec()

    @property
    def mnemonic(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name


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
    # (ValueError for an op number or mnemonic declared twice: `fusevm.enums`)
    Op = _OpBase("Op", [(row[1], row[0]) for row in DECLARED])
    Op.__doc__ = _Doc(_OpBase.__doc__)
# Members are looked up once here, not with `Op(number)` per use (an enum iterates in
# declaration order: each row's member).
_MEMBERS: Final = tuple(zip(DECLARED, Op, strict=True))

#: Op by mnemonic.
BY_NAME: Final[dict[str, Op]] = {row[1]: op for row, op in _MEMBERS}
#: Section names in table order, with their ops.
SECTIONS: Final[dict[str, tuple[Op, ...]]] = {}
_in_section: dict[str, list[Op]] = {}
for _row, _op in _MEMBERS:
    _in_section.setdefault(_row[6], []).append(_op)
for _name, _ops in _in_section.items():
    SECTIONS[_name] = tuple(_ops)


def ops_with(flag: F) -> tuple[Op, ...]:
    """Every op carrying `flag`, in table order."""
    bit = flag._value_
    return tuple(op for row, op in _MEMBERS if row[5]._value_ & bit)


if TYPE_CHECKING:
    FUSED_OPS: tuple[Op, ...]
    EXTENDED_OPS: tuple[Op, ...]
    SHELL_OPS: tuple[Op, ...]
    BRANCH_OPS: tuple[Op, ...]
#: The tuples of ops with a flag that `__getattr__` makes on first use (a short run asks
#: for none of them; `ops_with`).
_WITH_FLAG: Final = {"FUSED_OPS": "FUSED", "EXTENDED_OPS": "EXTENDED", "SHELL_OPS": "SHELL",
                     "BRANCH_OPS": "BRANCH"}
#: Every name `__getattr__` makes on first use (`fusevm.ops` passes them on).
LAZY: Final = frozenset({"OPS", "SCHEMA_HASH", *_WITH_FLAG})


def _schema_hash() -> str:
    # One line per op, hashed as one text (one update, not one per row: start-up time).
    # From the declared text (`spec.operand_kinds_text`).
    from fusevm.digests import blake2b
    text = "".join(f"{number}:{name}:{operand_kinds_text(operands)}:{effect}\n"
                   for number, name, operands, effect, *_ in DECLARED)
    return blake2b(text.encode(), digest_size=8).hexdigest()


if TYPE_CHECKING:
    #: Hash of (number, mnemonic, operand kinds, effect) of every op. Stamped into
    #: serialized chunks and JIT cache keys: any change to the table's shape invalidates
    #: both.
    SCHEMA_HASH: str
    #: Table row by op number.
    OPS: dict[int, OpSpec]


def __getattr__(name: str) -> object:
    # Made on first use: `OPS` builds every row's spec (the deserializer and tools ask
    # for it), `SCHEMA_HASH` reads every row (serialized chunks and cache keys carry it),
    # and so does each tuple of the ops with a flag; a run that asks for none makes none.
    if name == "OPS":
        ops = {row[0]: spec(row[0]) for row in DECLARED}
        globals()["OPS"] = ops
        return ops
    if name == "SCHEMA_HASH":
        found = globals()["SCHEMA_HASH"] = _schema_hash()
        return found
    flag = _WITH_FLAG.get(name)
    if flag is not None:
        flagged = globals()[name] = ops_with(getattr(F, flag))
        return flagged
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
