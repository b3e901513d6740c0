"""Write-time pre-linking of one relocatable ELF object into a position-independent blob.

`prelink(obj, entry)` reads an ELF64 relocatable object (as `TargetMachine.emit_object()`
produces it), lays the entry symbol's section and every allocated section it reaches through
relocations (`.text`, `.rodata.cst*`, ...) out in one buffer, and resolves the PC-relative
relocations between them. Code and constants then move together, so the bytes run at any
address. Anything else refuses with `Unlinkable`: a relocation to a symbol the
object does not define (an external call LLVM synthesised), an absolute relocation, a
writable section, another machine. The caller falls back to an in-memory JIT for such units
and never caches them.
"""

from __future__ import annotations

import struct

from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

EM_X86_64: Final = 62
ET_REL: Final = 1
SHT_RELA: Final = 4
SHT_REL: Final = 9
SHT_NOBITS: Final = 8
SHT_SYMTAB: Final = 2
SHF_WRITE: Final = 0x1
SHF_ALLOC: Final = 0x2
SHN_UNDEF: Final = 0
SHN_ABS: Final = 0xFFF1

R_X86_64_PC32: Final = 2
R_X86_64_PLT32: Final = 4
R_X86_64_PC64: Final = 24
_PC_RELATIVE: Final = {R_X86_64_PC32: 4, R_X86_64_PLT32: 4, R_X86_64_PC64: 8}

_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_SHDR = struct.Struct("<IIQQQQIIQQ")
_SYM = struct.Struct("<IBBHQQ")
_RELA = struct.Struct("<QQq")


class Unlinkable(Exception):
    """The object cannot be turned into a self-contained blob (the reason is the message)."""


@dataclass(frozen=True, slots=True)
class Blob:
    """Pre-linked machine code: run `code` from any address; `entry` is the function's offset."""

    code: bytes
    entry: int
    relocations: int  # how many intra-object relocations were resolved at write time


@dataclass(frozen=True, slots=True)
class _Section:
    name: str
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    align: int


@dataclass(frozen=True, slots=True)
class _Symbol:
    name: str
    shndx: int
    value: int


def _cstr(table: bytes, at: int) -> str:
    end = table.index(b"\0", at)
    return table[at:end].decode("latin-1")


def _parse(obj: bytes) -> tuple[list[_Section], list[_Symbol]]:
    if len(obj) < _EHDR.size or obj[:4] != b"\x7fELF":
        raise Unlinkable("not an ELF object")
    ident, e_type, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx = \
        _EHDR.unpack_from(obj, 0)
    if ident[4] != 2 or ident[5] != 1:
        raise Unlinkable("not a little-endian ELF64 object")
    if e_type != ET_REL:
        raise Unlinkable(f"ELF type {e_type} is not a relocatable object")
    if machine != EM_X86_64:
        raise Unlinkable(f"machine {machine} has no pre-linker (only x86-64)")
    raw = [_SHDR.unpack_from(obj, shoff + i * shentsize) for i in range(shnum)]
    names = obj[raw[shstrndx][4]: raw[shstrndx][4] + raw[shstrndx][5]]
    sections = [_Section(_cstr(names, r[0]), r[1], r[2], r[4], r[5], r[6], r[7], max(r[8], 1))
                for r in raw]
    symbols: list[_Symbol] = []
    for sec in sections:
        if sec.type == SHT_SYMTAB:
            strtab = sections[sec.link]
            strings = obj[strtab.offset: strtab.offset + strtab.size]
            for off in range(sec.offset, sec.offset + sec.size, _SYM.size):
                st_name, _, _, shndx, value, _ = _SYM.unpack_from(obj, off)
                symbols.append(_Symbol(_cstr(strings, st_name), shndx, value))
    return sections, symbols


def prelink(obj: bytes, entry: str) -> Blob:
    """Lay out and link the sections reachable from symbol `entry`; raises Unlinkable."""
    sections, symbols = _parse(obj)
    start = next((s for s in symbols if s.name == entry and s.shndx != SHN_UNDEF), None)
    if start is None:
        raise Unlinkable(f"the object does not define {entry!r}")
    relocs: dict[int, list[tuple[int, int, int, int]]] = {}
    for sec in sections:
        if sec.type == SHT_REL:
            raise Unlinkable(f"section {sec.name} uses REL relocations")
        if sec.type == SHT_RELA and sections[sec.info].flags & SHF_ALLOC:
            rows = relocs.setdefault(sec.info, [])
            for off in range(sec.offset, sec.offset + sec.size, _RELA.size):
                r_offset, r_info, addend = _RELA.unpack_from(obj, off)
                rows.append((r_offset, r_info >> 32, r_info & 0xFFFFFFFF, addend))

    # Sections to place: the entry's, then whatever its relocations reach, transitively.
    order: list[int] = []
    todo = [start.shndx]
    while todo:
        idx = todo.pop()
        if idx in order:
            continue
        sec = sections[idx]
        if not sec.flags & SHF_ALLOC or sec.flags & SHF_WRITE or sec.type == SHT_NOBITS:
            raise Unlinkable(f"section {sec.name} is not read-only allocated data")
        order.append(idx)
        for _, sym_index, rtype, _ in relocs.get(idx, ()):
            sym = symbols[sym_index]
            if sym.shndx == SHN_UNDEF:
                raise Unlinkable(f"relocation to external symbol {sym.name!r}")
            if sym.shndx == SHN_ABS or rtype not in _PC_RELATIVE:
                raise Unlinkable(f"relocation type {rtype} in {sec.name} is not PC-relative")
            todo.append(sym.shndx)

    base: dict[int, int] = {}
    size = 0
    for idx in order:
        sec = sections[idx]
        size = (size + sec.align - 1) // sec.align * sec.align
        base[idx] = size
        size += sec.size
    image = bytearray(size)
    for idx in order:
        sec = sections[idx]
        image[base[idx]: base[idx] + sec.size] = obj[sec.offset: sec.offset + sec.size]

    count = 0
    for idx in order:
        for r_offset, sym_index, rtype, addend in relocs.get(idx, ()):
            sym = symbols[sym_index]
            place = base[idx] + r_offset
            value = base[sym.shndx] + sym.value + addend - place
            width = _PC_RELATIVE[rtype]
            limit = 1 << (8 * width - 1)
            if not -limit <= value < limit:
                raise Unlinkable(f"relocation at {place:#x} does not fit in {width} bytes")
            image[place: place + width] = value.to_bytes(width, "little", signed=True)
            count += 1
    return Blob(bytes(image), base[start.shndx] + start.value, count)
