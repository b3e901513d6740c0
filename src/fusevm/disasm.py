"""The disassembler: a Chunk as assembly text that assembles back to an equal chunk.

Pools, names, entries, block ranges and sub-chunks are declared up front (in pool order,
so indices survive the round trip). The code follows as a listing in the manner of
CPython's `dis`: a source-line column shown only where the line changes, `>>` on jump
targets, the op's offset, then the op printed by its operand kinds, with constants as
literals, names as identifiers and targets as labels `L<ip>` (declared on a line of their
own before the target, with the function's name when it is an entry).
"""

from __future__ import annotations

from fusevm.chunk import Chunk, slot_count_of
from fusevm.instr import Decoded
from fusevm.ops import F, Kind
from fusevm.values import format_float, format_value, same_value
from fusevm.verify import check_tables

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

_IDENT_START: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_IDENT_REST: Final = _IDENT_START | frozenset("0123456789.$")


def ident_end(text: str, pos: int) -> int | None:
    """Where the name `[A-Za-z_][A-Za-z0-9_.$]*` starting at `pos` ends, or None (the
    assembler's names: read with str methods, since `re` costs start-up)."""
    if pos >= len(text) or text[pos] not in _IDENT_START:
        return None
    end = pos + 1
    while end < len(text) and text[end] in _IDENT_REST:
        end += 1
    return end


_RESERVED = {"true", "false", "undef", "inf", "nan", "Status", "Ref", "NativeFn"}


def _name(text: str) -> str:
    if ident_end(text, 0) == len(text) and text not in _RESERVED:
        return text
    return format_value(text)


def _const(chunk: Chunk, k: int) -> str:
    value = chunk.constants[k]
    for j, existing in enumerate(chunk.constants):
        if type(existing) is type(value) and same_value(existing, value):
            return format_value(value) if j == k else f"#{k}"
    return f"#{k}"  # pragma: no cover - k itself always matches


def _targets(chunk: Chunk, decoded: list[Decoded]) -> set[int]:
    out = {ip for _, ip in chunk.sub_entries}
    for start, end in chunk.block_ranges:
        out.update((start, end))
    for d in decoded:
        if d.spec.has(F.BRANCH) or d.spec.targets:
            out.update(d.targets())
    return out


def _operand(chunk: Chunk, kind: Kind, value: Any) -> str:
    if kind is Kind.CONST:
        return _const(chunk, value)
    if kind is Kind.NAME:
        return _name(chunk.names[value])
    if kind is Kind.TARGET:
        return f"L{value}"
    if kind is Kind.BLOCK:
        return f"b{value}"
    if kind is Kind.SUB:
        return f"c{value}"
    if kind is Kind.FLOAT:
        return format_float(float(value))
    if kind in (Kind.REDIR, Kind.FILETEST, Kind.PARAMMOD):
        from fusevm.ops.shell_codes import FileTest, ParamMod, Redir
        enum_type = {Kind.REDIR: Redir, Kind.FILETEST: FileTest, Kind.PARAMMOD: ParamMod}[kind]
        return str(enum_type(value).symbol) if value in enum_type._value2member_map_ else str(value)
    return str(value)


def disassemble(chunk: Chunk, *, indent: str = "") -> str:
    """Render a chunk as assembler text (`fusevm.asm.assemble` reads it back).

    The chunk need not pass the verifier's flow checks, but its tables and instructions
    must be readable (`verify.check_tables`): BuildError, at the op, otherwise."""
    if not isinstance(chunk, Chunk):
        raise TypeError(f"disassemble takes a Chunk, not {type(chunk).__name__}")
    decoded = check_tables(chunk)
    out: list[str] = []
    emit = out.append
    emit(f"{indent}.source {format_value(chunk.source)}")
    if chunk.slot_count != slot_count_of(chunk.ops):
        emit(f"{indent}.slots {chunk.slot_count}")
    for name in chunk.names:
        emit(f"{indent}.name {_name(name)}")
    for value in chunk.constants:
        emit(f"{indent}.const {format_value(value)}")
    for i, sub in enumerate(chunk.sub_chunks):
        emit(f"{indent}.chunk c{i}")
        emit(disassemble(sub, indent=indent + "    "))
        emit(f"{indent}.end")
    for name_index, ip in chunk.sub_entries:
        emit(f"{indent}.sub {_name(chunk.names[name_index])} L{ip}")
    for i, (start, end) in enumerate(chunk.block_ranges):
        emit(f"{indent}.block b{i} L{start} L{end}")
    labels = _targets(chunk, decoded)
    entries = {ip: chunk.names[n] for n, ip in reversed(chunk.sub_entries)}
    last_line: int | None = None
    width = max(len(str(len(chunk.ops))), 3)
    # One column wider than the longest line number, so op lines always start with a blank
    # (labels start with `L`, directives with `.`).
    line_width = max([len(str(n)) for n in chunk.lines] + [3]) + 1
    for ip, d in enumerate(decoded):
        if ip in labels:
            note = f"  ; {entries[ip]}" if ip in entries else ""
            emit(f"{indent}L{ip}:{note}")
        line = chunk.lines[ip]
        line_col = "" if line == last_line else str(line)
        last_line = line
        mark = ">>" if ip in labels else "  "
        text = " ".join([d.name] + [_operand(chunk, o.kind, v)
                                    for o, v in zip(d.spec.operands, d.operands)])
        emit(f"{indent}{line_col:>{line_width}} {mark} {ip:>{width}}  {text}")
    if len(chunk.ops) in labels:
        emit(f"{indent}L{len(chunk.ops)}:")
    return "\n".join(out)
