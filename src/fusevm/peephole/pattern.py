"""Fusion patterns: every fused op's `fuses` text from the op table, parsed once at import.

A pattern is the exact core-op sequence a fused op stands for (D14). `$name` operands bind
to the fused op's operands; `@top:` labels the pattern's first op and `@end` means the op
right after the pattern. `PATTERNS` is derived from the table and is the only list of
fusions anywhere: `match` recognises a pattern in a stream of core ops and `expand` writes
the sequence back, so a fused op and its expansion always come from the same text.
"""

from __future__ import annotations

from fusevm.instr import Instr
from fusevm.ops import BY_NAME, FUSED_OPS, F, Kind, Op, OpSpec
from fusevm.ops.fuses import items as fuse_items
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Final

# -- Pattern structure ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bind:
    """`$name`: the operand of the fused op called `name`."""

    name: str


@dataclass(frozen=True, slots=True)
class LabelRef:
    """`@top` (the pattern's first op) or `@end` (the op right after the pattern)."""

    at_end: bool


@dataclass(frozen=True, slots=True)
class Literal:
    """A fixed integer operand."""

    value: int


Arg = Bind | LabelRef | Literal


@dataclass(frozen=True, slots=True)
class Step:
    """One core op of a pattern with its operand arguments."""

    op: Op
    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class Pattern:
    """A fused op and the core sequence it replaces."""

    op: Op
    steps: tuple[Step, ...]
    #: Fused operands that a wider core operand binds (LoadInt's i64 into an I32 limit):
    #: a match must check the value fits.
    narrow: tuple[tuple[str, Kind], ...]
    #: Number of core ops (the window length).
    size: int = 0
    #: The core op of each step, for a quick first comparison.
    ops: tuple[Op, ...] = ()
    #: Whether the sequence jumps back to its own first op (`@top`): the fused op then
    #: loops inside one dispatch, passing its own position without stopping there.
    loops: bool = False

    def __len__(self) -> int:
        return self.size

    @property
    def first_ops(self) -> tuple[Op, ...]:
        """Ops a matching window can start with (see `match` for the forwarded store)."""
        if _forwardable(self.steps, 0):
            return (self.steps[0].op, Op.SetSlot)
        return (self.steps[0].op,)


# -- Parsing the table's `fuses` text ------------------------------------------------------

_TOP: Final = "top"
_END: Final = "end"


def _parse_arg(token: str, where: str) -> Arg:
    if token.startswith("$"):
        return Bind(token[1:])
    if token.startswith("@"):
        label = token[1:]
        if label not in (_TOP, _END):
            raise ValueError(f"{where}: unknown label {token!r} (only @top and @end)")
        return LabelRef(label == _END)
    try:
        return Literal(int(token, 0))
    except ValueError:
        raise ValueError(f"{where}: bad operand {token!r}") from None


def parse(fused: Op) -> Pattern:
    """Parse a fused op's `fuses` text into a Pattern, checking it against the table."""
    steps, narrow, loops = parse_spec(fused.spec)
    return Pattern(fused, steps, narrow, len(steps), tuple(step.op for step in steps), loops)


def parse_spec(spec: OpSpec) -> tuple[tuple[Step, ...], tuple[tuple[str, Kind], ...], bool]:
    """The steps, narrowed operands and `@top` use of a table row's `fuses` text.

    Raises:
        ValueError: the text names an unknown op or operand, a label other than `@top:`
            on the first op and `@end:` at the end, mismatched operand kinds, or leaves a
            fused operand unbound.
    """
    parsed = fuse_items(spec)
    steps: list[Step] = []
    defined: set[str] = set()
    used_labels: set[str] = set()
    kinds: dict[str, Kind] = {}
    narrow: dict[str, Kind] = {}
    fused_kinds = {o.name: o.kind for o in spec.operands}
    for n, item in enumerate(parsed):
        words = " ".join(([item.mnemonic] if item.mnemonic else []) + list(item.args))
        where = f"{spec.name} fuses item {n + 1} {words!r}"
        for label in item.labels:
            # A label anywhere else would make an op strictly inside the window a jump
            # target, which no fusion may have.
            if label == _TOP and steps:
                raise ValueError(f"{where}: @top: must label the first op")
            if label == _END and (item.mnemonic or n != len(parsed) - 1):
                raise ValueError(f"{where}: @end: must stand alone at the end")
            if label not in (_TOP, _END):
                raise ValueError(f"{where}: unknown label @{label} (only @top and @end)")
            defined.add(label)
        if item.mnemonic is None:
            if item.labels:
                continue
            raise ValueError(f"{where}: empty item")
        mnemonic, tokens = item.mnemonic, list(item.args)
        op = BY_NAME.get(mnemonic)
        if op is None:
            raise ValueError(f"{where}: unknown op {mnemonic!r}")
        if op.spec.has(F.FUSED) or op.spec.has(F.EXTENDED):
            raise ValueError(f"{where}: a pattern is made of plain core ops")
        if len(tokens) != len(op.spec.operands):
            raise ValueError(f"{where}: {mnemonic} takes {len(op.spec.operands)} operand(s)")
        args = tuple(_parse_arg(t, where) for t in tokens)
        for arg, o in zip(args, op.spec.operands):
            if isinstance(arg, LabelRef):
                if o.kind is not Kind.TARGET:
                    raise ValueError(f"{where}: a label can only be a jump target")
                used_labels.add(_END if arg.at_end else _TOP)
            elif isinstance(arg, Bind):
                fk = fused_kinds.get(arg.name)
                if fk is None:
                    raise ValueError(f"{where}: ${arg.name} is not an operand of {spec.name}")
                if fk is not o.kind:
                    # The only allowed difference: an i64 immediate standing for an i32
                    # fused operand, which a match checks for range.
                    if not (fk is Kind.I32 and o.kind is Kind.INT):
                        raise ValueError(f"{where}: ${arg.name} is {fk.value} in {spec.name} "
                                         f"but {o.kind.value} in {mnemonic}")
                    narrow[arg.name] = fk
                kinds.setdefault(arg.name, o.kind)
            elif o.kind is Kind.TARGET:
                raise ValueError(f"{where}: a literal jump target is meaningless in a pattern")
        steps.append(Step(op, args))
    missing = [name for name in fused_kinds if name not in kinds]
    if missing:
        raise ValueError(f"{spec.name}: operand(s) {', '.join(missing)} never appear in fuses")
    if used_labels - defined:
        raise ValueError(f"{spec.name}: label(s) {sorted(used_labels - defined)} not defined")
    if not steps:
        raise ValueError(f"{spec.name}: empty fuses")
    return tuple(steps), tuple(narrow.items()), _TOP in used_labels


def _forwardable(steps: Sequence[Step], k: int) -> bool:
    """Whether steps k, k+1 are `Dup; SetSlot $x`, which a forwarded store also matches."""
    return (k + 1 < len(steps) and steps[k].op is Op.Dup
            and steps[k + 1].op is Op.SetSlot)


#: One pattern per fused op, in table order.
PATTERNS: Final[tuple[Pattern, ...]] = tuple(parse(op) for op in FUSED_OPS)
#: Patterns by fused op.
BY_OP: Final[dict[Op, Pattern]] = {p.op: p for p in PATTERNS}


def _index() -> dict[Op, tuple[Pattern, ...]]:
    # Longest first, so a whole loop wins over the smaller fusions inside it; ties keep
    # table order.
    ranked = sorted(PATTERNS, key=lambda p: -p.size)
    out: dict[Op, list[Pattern]] = {}
    for pat in ranked:
        for op in pat.first_ops:
            out.setdefault(op, []).append(pat)
    return {op: tuple(pats) for op, pats in out.items()}


#: Candidate patterns by the op a window starts with, longest first.
STARTING_WITH: Final[dict[Op, tuple[Pattern, ...]]] = _index()
#: Length of the longest pattern.
MAX_LEN: Final[int] = max(p.size for p in PATTERNS)


# -- Matching and expanding -----------------------------------------------------------


def match(pat: Pattern, ops: Sequence[Instr], p: int,
          boundary: bytearray) -> tuple[Any, ...] | None:
    """The fused op's operands if `pat` matches the core ops at `p`, else None.

    `boundary[q]` is true when op q is a jump target, sub entry or block-range edge; none
    may lie strictly inside the window (entering mid-window would skip part of the
    sequence). `@top` must target `p` and `@end` the op right after the window. Besides
    the literal sequence, the pattern steps `Dup; SetSlot $x` also match a forwarded store
    `SetSlot x; GetSlot x`: both leave the value in the slot and on the stack as
    independent copies (D8), so the two are exactly equivalent.
    """
    steps = pat.steps
    n = pat.size
    end = p + n
    if end > len(ops):
        return None
    # Cheap rejection first: the op sequence, noting where a store is forwarded.
    want = pat.ops
    forwarded: list[int] = []
    skip = -1
    for k in range(n):
        if k == skip:
            continue  # the GetSlot of a forwarded store
        op = ops[p + k][0]
        if op is not want[k]:
            if op is Op.SetSlot and _forwardable(steps, k) and ops[p + k + 1][0] is Op.GetSlot:
                forwarded.append(k)
                skip = k + 1
                continue
            return None
    if boundary.find(1, p + 1, end) >= 0:
        return None
    bound: dict[str, Any] = {}
    k = 0
    while k < n:
        ins = ops[p + k]
        if forwarded and k in forwarded:
            if ops[p + k + 1][1] != ins[1] or not _bind(steps[k + 1].args[0], ins[1], bound,
                                                        p, end):
                return None
            k += 2
            continue
        for arg, value in zip(steps[k].args, ins[1:]):
            if not _bind(arg, value, bound, p, end):
                return None
        k += 1
    for name, kind in pat.narrow:
        value = bound[name]
        if not kind.lo <= value <= kind.hi:
            return None
    return tuple(bound[o.name] for o in pat.op.spec.operands)


def _bind(arg: Arg, value: Any, bound: dict[str, Any], top: int, end: int) -> bool:
    if isinstance(arg, Bind):
        old = bound.get(arg.name, _UNSET)
        if old is _UNSET:
            bound[arg.name] = value
            return True
        return type(old) is type(value) and bool(old == value)
    if isinstance(arg, LabelRef):
        return bool(value == (end if arg.at_end else top))
    return type(value) is int and value == arg.value


_UNSET: Final = object()


def expand(pat: Pattern, operands: Sequence[Any], top: int, end: int) -> list[Instr]:
    """The core sequence a fused op stands for, with `@top`/`@end` resolved to `top`/`end`."""
    values = {o.name: v for o, v in zip(pat.op.spec.operands, operands)}
    out: list[Instr] = []
    for step in pat.steps:
        args: list[Any] = []
        for arg in step.args:
            if isinstance(arg, Bind):
                args.append(values[arg.name])
            elif isinstance(arg, LabelRef):
                args.append(end if arg.at_end else top)
            else:
                args.append(arg.value)
        out.append((step.op, *args))
    return out


def render(pat: Pattern) -> str:
    """The pattern as one line of assembler-like text (for docs and error messages)."""
    parts = []
    for step in pat.steps:
        words = [step.op.name]
        for arg in step.args:
            if isinstance(arg, Bind):
                words.append(f"${arg.name}")
            elif isinstance(arg, LabelRef):
                words.append("@end" if arg.at_end else "@top")
            else:
                words.append(str(arg.value))
        parts.append(" ".join(words))
    refs = {arg.at_end for step in pat.steps for arg in step.args if isinstance(arg, LabelRef)}
    if False in refs:
        parts[0] = "@top: " + parts[0]
    if True in refs:
        parts.append("@end:")
    return f"{pat.op.name} = " + "; ".join(parts)
