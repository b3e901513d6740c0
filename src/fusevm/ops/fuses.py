"""A fused op's `fuses` text (the exact core sequence it means, D14), parsed in one place.

The text is `;`-separated items, each `[@label:] [Mnemonic arg ...]`; an argument is
`$operand` (an operand of the fused op), `@label` (a label of the text: `@top` on the first
op, `@end` after the last) or an integer literal. The fusion pass, the JIT's expansion of
fused ops, the benchmark builder and the tests all read it through `items()`.
"""

from __future__ import annotations

from fusevm.memo import memo
from fusevm.ops.spec import OpSpec
from fusevm.records import dataclass


@dataclass(frozen=True, slots=True)
class Item:
    """One item: the labels it defines, its op's mnemonic (None for a bare label), args."""

    labels: tuple[str, ...]
    mnemonic: str | None
    args: tuple[str, ...]


def parse(text: str) -> tuple[Item, ...]:
    """Split `fuses` text into items (no checking against the op table: see
    `peephole.pattern` for that)."""
    out: list[Item] = []
    for raw in text.split(";"):
        piece = raw.strip()
        labels: list[str] = []
        while piece.startswith("@"):
            name, colon, rest = piece[1:].partition(":")
            if not colon or not name.isidentifier():
                break
            labels.append(name)
            piece = rest.strip()
        words = piece.split()
        out.append(Item(tuple(labels), words[0] if words else None, tuple(words[1:])))
    return tuple(out)


def items(spec: OpSpec) -> tuple[Item, ...]:
    """The items of a fused op's row (ValueError for an op that is not fused)."""
    if spec.fuses is None:
        raise ValueError(f"{spec.name} has no `fuses` text")
    return _parsed(spec.fuses)


#: Parsed items by text: every pass over a chunk asks again for the same few rows.
_parsed = memo(1 << 16)(parse)
