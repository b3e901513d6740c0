"""The assembler: fusevm assembly text to a Chunk, driven by the op table's operand kinds.

Syntax (one statement per line; `;` starts a comment):

    .source "name"          the chunk's source name
    .slots N                frames get at least N slots (else: highest SLOT operand + 1)
    .name ident             declare a name (names are otherwise added as operands use them)
    .const VALUE            append a value to the constant pool
    .sub NAME [LABEL] [N]   function entry: at LABEL, or at the next op; N declares its
                            arity (every Call of it must pass N arguments)
    .block NAME START END   block range [START, END) for the higher-order ops
    .line N                 following ops record source line N (default: their text line)
    .chunk NAME ... .end    a nested sub-chunk, in the same syntax
    LABEL:                  a jump target
    Mnemonic OPERAND...     an op (core or from a registered ExtensionSet)
    [LINE] [>>] OFFSET Mnemonic OPERAND...
                            the same op in `disassemble`'s listing form: LINE sets the
                            source line (as `.line`), OFFSET must be the op's index, and
                            `>>` (a jump target) is only a marker

Operands by kind: integers for INT/I32/U8/COUNT/SLOT/FD/BUILTIN/PAYLOAD/EXT_ID; a number for
FLOAT (`nan(0x7ff8000000000123)` gives a NaN its exact bits); a value literal (`42`, `1.5`,
`"text"`, `true`, `undef`, `[1, 2]`, `{"k": 1}`, `Status(0)`) or `#index` for CONST; an
identifier or quoted string for NAME; a label or `@index` for TARGET; a block name or index
for BLOCK; a sub-chunk name or index for SUB; shell spellings for REDIR (`>>`), FILETEST
(`-f`) and PARAMMOD (`:-`). Errors are AsmError
with file:line:col and what was expected.
"""

from __future__ import annotations

from fusevm.chunk import Chunk, ChunkBuilder, Label
from fusevm.disasm import disassemble, ident_end
from fusevm.errors import AsmError, BuildError
from fusevm.limits import MAX_INT_LITERAL, MAX_NESTING, MAX_SLOTS
from fusevm.ops import BY_NAME, Kind, Op, OpSpec
from fusevm.ops.extension import ExtensionSet, ExtOp, lookup_name, set_list
from fusevm.records import dataclass, field
from fusevm.values import NativeFn, Ref, Status, Undef, same_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from typing import Any, Final

__all__ = ["assemble", "disassemble", "parse_value"]

# The tokens are read by the scanners below (str methods, no `re`: loading `re` costs
# `fusevm run` a third of Python's own start-up). Each returns where its token ends, or
# None, exactly where the regular expression in its docstring would.
_WORD_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_BINARY: Final = frozenset("01")
_OCTAL: Final = frozenset("01234567")


def _digits(text: str, pos: int) -> int | None:
    r"""`\d+` (any Unicode decimal digit, as `re` reads `\d`)"""
    end = _run(text, pos, None)
    return end if end > pos else None


def _number_end(text: str, pos: int) -> int | None:
    r"""`[+-]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|(?:\d+\.?\d*|\.\d+)`
    `(?:[eE][+-]?\d+)?|inf|nan\(0x[0-9a-fA-F]{16}\)|nan)(?![A-Za-z0-9_])`: the ends the
    expression would try, in its order of preference, until one is not followed by a
    word character."""
    n = len(text)
    for end in _number_ends(text, pos + 1 if pos < n and text[pos] in "+-" else pos):
        if end >= n or text[end] not in _WORD_CHARS:
            return end
    return None


def _run(text: str, pos: int, chars: frozenset[str] | None) -> int:
    """The end of the run of `chars` (None: decimal digits) from `pos`."""
    end = pos
    while end < len(text) and (text[end] in chars if chars is not None
                               else text[end].isdecimal()):
        end += 1
    return end


def _number_ends(text: str, pos: int) -> Iterator[int]:
    """`_number_end`'s candidates after the sign, most preferred first (greedy runs give
    back one character at a time, as a backtracking matcher does)."""
    head = text[pos:pos + 2]
    for prefix, chars in (("xX", _HEX), ("bB", _BINARY), ("oO", _OCTAL)):
        if len(head) == 2 and head[0] == "0" and head[1] in prefix:
            yield from range(_run(text, pos + 2, chars), pos + 2, -1)
    whole = _run(text, pos, None)
    for int_end in range(whole, pos, -1):  # \d+ \.? \d*
        if int_end < len(text) and text[int_end] == ".":
            for frac_end in range(_run(text, int_end + 1, None), int_end, -1):
                yield from _with_exponent(text, frac_end)
        yield from _with_exponent(text, int_end)
    if text[pos:pos + 1] == ".":  # \.\d+
        for frac_end in range(_run(text, pos + 1, None), pos + 1, -1):
            yield from _with_exponent(text, frac_end)
    if text.startswith("inf", pos):
        yield pos + 3
    if text.startswith("nan(0x", pos):
        bits = text[pos + 6:pos + 22]
        if len(bits) == 16 and _HEX.issuperset(bits) and text[pos + 22:pos + 23] == ")":
            yield pos + 23
    if text.startswith("nan", pos):
        yield pos + 3


def _with_exponent(text: str, pos: int) -> Iterator[int]:
    r"""`(?:[eE][+-]?\d+)?` after a mantissa ending at `pos`."""
    if text[pos:pos + 1] in ("e", "E"):
        at = pos + 1 + (text[pos + 1:pos + 2] in ("+", "-"))
        yield from range(_run(text, at, None), at, -1)
    yield pos


_INTEGER_KINDS = {Kind.INT, Kind.I32, Kind.U8, Kind.COUNT, Kind.SLOT, Kind.FD, Kind.BUILTIN,
                  Kind.PAYLOAD, Kind.EXT_ID}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


class _Cursor:
    """A position in one line of source text, for tokens and error columns."""

    def __init__(self, text: str, source: str, line: int) -> None:
        self.text = text
        self.pos = 0
        self.source = source
        self.line = line

    def error(self, message: str, pos: int | None = None) -> AsmError:
        return AsmError(message, source=self.source, line=self.line,
                        col=(self.pos if pos is None else pos) + 1)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t,":
            self.pos += 1

    def skip_blanks(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def code_word(self) -> str:
        """A shell-spelled code (`>>`, `-f`, `,,`): commas belong to the token here."""
        self.skip_blanks()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in " \t;":
            self.pos += 1
        return self.text[start:self.pos]

    def at_end(self) -> bool:
        self.skip()
        return self.pos >= len(self.text) or self.text[self.pos] == ";"

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def word(self) -> str:
        """The next whitespace-delimited token."""
        self.skip()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in " \t,;":
            self.pos += 1
        return self.text[start:self.pos]

    def match(self, scan: Callable[[str, int], int | None]) -> str | None:
        """The token `scan` finds here (`ident_end`: the disassembler's names;
        `_number_end`, `_digits`), or None."""
        self.skip()
        end = scan(self.text, self.pos)
        if end is None:
            return None
        start, self.pos = self.pos, end
        return self.text[start:end]

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise self.error(f"expected {ch!r}")
        self.pos += 1


# -- Values ----------------------------------------------------------------------------------

_I64_LO: Final = -(1 << 63)
_I64_HI: Final = (1 << 63) - 1


def _number(text: str, cur: _Cursor, pos: int) -> int | float:
    body = text.lstrip("+-")
    if body in ("inf", "nan"):
        return float(text)
    if body.startswith("nan("):  # a NaN's exact bits, as format_float writes them
        import struct  # (only for this spelling: no start-up cost otherwise)
        x: float = struct.unpack("<d", struct.pack("<Q", int(body[4:-1], 16)))[0]
        if x == x:
            raise cur.error(f"{text} does not spell a NaN (its exponent bits must all be "
                            "set and its fraction not zero)", pos)
        return -x if text.startswith("-") else x
    is_int = body[:2].lower() in ("0x", "0b", "0o") or not any(c in body for c in ".eE")
    if not is_int:
        return float(text)
    # Refused before conversion: Python's int() of a huge literal is slow or raises.
    if len(body) > MAX_INT_LITERAL:
        raise cur.error(f"integer literal of {len(body):,} characters is out of range "
                        "(integers are 64-bit)", pos)
    return int(text, 0) if body[:2].lower() in ("0x", "0b", "0o") else int(text)


def _string(cur: _Cursor) -> str:
    start = cur.pos
    cur.pos += 1  # opening quote
    out: list[str] = []
    text = cur.text
    while cur.pos < len(text):
        c = text[cur.pos]
        if c == '"':
            cur.pos += 1
            return "".join(out)
        if c == "\\":
            cur.pos += 1
            if cur.pos >= len(text):
                break
            e = text[cur.pos]
            width = {"x": 2, "u": 4, "U": 8}.get(e)
            if width is not None:
                digits = text[cur.pos + 1:cur.pos + 1 + width]
                if len(digits) != width or not all(d in "0123456789abcdefABCDEF"
                                                   for d in digits):
                    raise cur.error(f"bad \\{e} escape: expected {width} hex digits")
                code = int(digits, 16)
                if code > 0x10FFFF:
                    raise cur.error(f"\\{e}{digits} is above U+10FFFF, the last code point",
                                    cur.pos - 1)
                out.append(chr(code))
                cur.pos += 1 + width
                continue
            if e not in _ESCAPES:
                raise cur.error(f"unknown escape \\{e}")
            out.append(_ESCAPES[e])
            cur.pos += 1
            continue
        out.append(c)
        cur.pos += 1
    raise cur.error("unterminated string", start)


def _value(cur: _Cursor, depth: int = 0) -> Any:
    if depth > MAX_NESTING:
        raise cur.error(f"value literal is nested more than {MAX_NESTING} deep")
    c = cur.peek()
    start = cur.pos
    if c == '"':
        return _string(cur)
    if c == "[":
        cur.pos += 1
        items = []
        while cur.peek() != "]":
            if not cur.peek():
                raise cur.error("expected ']' to close the array", start)
            items.append(_value(cur, depth + 1))
        cur.pos += 1
        return items
    if c == "{":
        cur.pos += 1
        out: dict[str, Any] = {}
        while cur.peek() != "}":
            if cur.peek() != '"':
                raise cur.error("expected a quoted hash key or '}'")
            key = _string(cur)
            cur.expect(":")
            out[key] = _value(cur, depth + 1)
        cur.pos += 1
        return out
    num = cur.match(_number_end)
    if num is not None:
        value = _number(num, cur, start)
        if type(value) is int and not _I64_LO <= value <= _I64_HI:
            raise cur.error(f"integer constant {value} is outside the 64-bit range", start)
        return value
    word = cur.match(ident_end)
    if word in ("true", "false"):
        return word == "true"
    if word == "undef":
        return Undef
    if word in ("Status", "NativeFn", "Ref"):
        cur.expect("(")
        inner = _value(cur, depth + 1)
        cur.expect(")")
        try:
            if word == "Ref":
                return Ref(inner)
            if type(inner) is not int:
                raise TypeError("needs an integer")
            return Status(inner) if word == "Status" else NativeFn(inner)
        except (TypeError, ValueError) as e:
            raise cur.error(f"bad {word} literal: {e}", start) from None
    raise cur.error("expected a value (number, \"string\", true, false, undef, [..], {..}, "
                    "Status(n), Ref(v), NativeFn(n))", start)


def parse_value(text: str) -> Any:
    """Parse one value literal (the syntax `fusevm.values.format_value` prints)."""
    cur = _Cursor(text, "<value>", 1)
    v = _value(cur)
    if not cur.at_end():
        raise cur.error("unexpected text after the value")
    return v


# -- Statements --------------------------------------------------------------------------------

@dataclass
class _Pending:
    """Forward references resolved once the whole chunk has been read."""

    blocks: dict[str, int] = field(default_factory=dict)
    subs: dict[str, int] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    bound: dict[str, tuple[int, int]] = field(default_factory=dict)  # label -> (line, col)
    used: dict[str, tuple[int, int]] = field(default_factory=dict)


def _chunk_ends(lines: list[tuple[int, str]]) -> dict[int, int]:
    """Index of the `.end` matching each `.chunk` line, in one pass (so nesting costs no
    rescans); an unmatched `.chunk` has no entry."""
    ends: dict[int, int] = {}
    open_: list[int] = []
    for j, (_, text) in enumerate(lines):
        head = text.split(";", 1)[0].split()
        if head and head[0] == ".chunk":
            open_.append(j)
        elif head and head[0] == ".end" and open_:
            ends[open_.pop()] = j
    return ends


class _Assembler:
    """Assembles lines[start:stop] (a whole text, or the body of one `.chunk`)."""

    def __init__(self, lines: list[tuple[int, str]], source: str, file: str,
                 extensions: Sequence[ExtensionSet] = (), depth: int = 0,
                 span: tuple[int, int] | None = None,
                 ends: dict[int, int] | None = None) -> None:
        self.lines = lines
        self.extensions = tuple(extensions)
        self.start, self.stop = span if span is not None else (0, len(lines))
        self.ends = ends if ends is not None else _chunk_ends(lines)
        self.depth = depth
        self.file = file
        self.b = ChunkBuilder(source)
        self.p = _Pending()
        self.pending_subs: list[tuple[str, int | None]] = []
        self.line_override: int | None = None
        self.text_line = 0

    def label(self, name: str, cur: _Cursor, pos: int, use: bool) -> Label:
        lab = self.p.labels.get(name)
        if lab is None:
            lab = self.b.label(name)
            self.p.labels[name] = lab
        if use:
            self.p.used.setdefault(name, (cur.line, pos + 1))
        return lab

    def run(self) -> Chunk:
        i = self.start
        while i < self.stop:
            lineno, text = self.lines[i]
            self.text_line = lineno
            cur = _Cursor(text, self.file, lineno)
            if cur.at_end():
                i += 1
                continue
            try:
                if cur.peek() == ".":
                    i = self.directive(cur, i)
                    continue
                self.statement(cur)
            except BuildError as e:  # a builder limit (pool sizes): located at this line
                raise cur.error(e.message, 0) from None
            i += 1
        return self.finish()

    def finish(self) -> Chunk:
        for name, (line, col) in self.p.used.items():
            if self.p.labels[name].pos is None:
                raise AsmError(f"label {name!r} is used but never defined", source=self.file,
                               line=line, col=col)
        if self.pending_subs:
            # `.sub` right before the end of the text: an entry at the end of the ops.
            for name, arity in self.pending_subs:
                self.b.add_sub_entry(name, self.b.current_pos(), arity=arity)
        try:
            return self.b.build(fuse=False)
        except BuildError as e:
            line = e.line or (self.lines[self.stop - 1][0] if self.stop > self.start else 1)
            raise AsmError(e.message, source=self.file, line=line, col=1) from e

    def directive(self, cur: _Cursor, i: int) -> int:
        start = cur.pos
        word = cur.word()
        if word == ".source":
            if cur.peek() != '"':
                raise cur.error("expected a quoted source name")
            self.b.source = _string(cur)
        elif word == ".slots":
            self.b.reserve_slots(self.integer(cur, Kind.PAYLOAD, "slot count", MAX_SLOTS))
        elif word == ".name":
            self.b.add_name(self.name(cur))
        elif word == ".const":
            self.b.add_constant(_value(cur))
        elif word == ".line":
            self.line_override = self.integer(cur, Kind.TARGET, "line number")
        elif word == ".sub":
            name = self.name(cur)
            target: Label | None = None
            if not cur.at_end() and not cur.peek().isdigit():
                pos = cur.pos
                target = self.label(self.ident(cur, "a label or an arity"), cur, pos, True)
            arity = None if cur.at_end() else self.integer(cur, Kind.COUNT, "arity")
            if target is None:
                self.pending_subs.append((name, arity))
            else:
                self.b.add_sub_entry(name, target, arity=arity)
        elif word == ".block":
            name = self.ident(cur, "a block name")
            pos = cur.pos
            start_label = self.label(self.ident(cur, "a start label"), cur, pos, True)
            pos = cur.pos
            end_label = self.label(self.ident(cur, "an end label"), cur, pos, True)
            self.p.blocks[name] = self.b.add_block_range(start_label, end_label)
        elif word == ".chunk":
            name = self.ident(cur, "a sub-chunk name")
            self.expect_end(cur)
            if self.depth >= MAX_NESTING:
                raise cur.error(f".chunk nested more than {MAX_NESTING} deep", start)
            end = self.find_end(i, cur)
            sub = _Assembler(self.lines, name, self.file, self.extensions, self.depth + 1,
                             (i + 1, end), self.ends).run()
            self.p.subs[name] = self.b.add_sub_chunk(sub)
            return end + 1
        elif word == ".end":
            raise cur.error(".end without a matching .chunk", start)
        else:
            raise cur.error(f"unknown directive {word!r} (expected .source, .slots, .name, "
                            ".const, .sub, .block, .line or .chunk)", start)
        self.expect_end(cur)
        return i + 1

    def find_end(self, i: int, cur: _Cursor) -> int:
        end = self.ends.get(i)
        if end is None or end >= self.stop:
            raise cur.error(".chunk without a matching .end", 0)
        return end

    def expect_end(self, cur: _Cursor) -> None:
        if not cur.at_end():
            pos = cur.pos
            raise cur.error(f"unexpected {cur.word()!r} at the end of the statement", pos)

    def ident(self, cur: _Cursor, what: str) -> str:
        pos = cur.pos
        word = cur.match(ident_end)
        if word is None:
            cur.skip()
            raise cur.error(f"expected {what}, got {cur.word() or 'end of line'!r}", pos)
        return word

    def name(self, cur: _Cursor) -> str:
        if cur.peek() == '"':
            return _string(cur)
        return self.ident(cur, "a name")

    def integer(self, cur: _Cursor, kind: Kind, what: str, hi: int | None = None) -> int:
        """An integer of `kind`'s range (up to `hi` when given)."""
        cur.skip()
        pos = cur.pos
        num = cur.match(_number_end)
        if num is None:
            raise cur.error(f"expected {what} (an integer), got {cur.word() or 'end of line'!r}",
                            pos)
        value = _number(num, cur, pos)
        if type(value) is not int:
            raise cur.error(f"expected {what} (an integer), got {num!r}", pos)
        top = kind.hi if hi is None else hi
        if not kind.lo <= value <= top:
            raise cur.error(f"{what} {value} is outside {kind.lo}..{top}", pos)
        return value

    def listing_prefix(self, cur: _Cursor) -> None:
        """Read `[LINE] [>>] OFFSET` before an op (the disassembler's listing columns)."""
        numbers: list[tuple[int, int]] = []
        while True:
            cur.skip_blanks()
            pos = cur.pos
            if cur.text.startswith(">>", pos):
                cur.pos += 2
                continue
            if not cur.text[pos:pos + 1].isdigit():
                break
            numbers.append((self.integer(cur, Kind.TARGET, "a line or op offset"), pos))
        if not numbers or len(numbers) > 2:
            raise cur.error("expected [LINE] [>>] OFFSET before an op", cur.pos)
        if len(numbers) == 2:
            self.line_override = numbers[0][0]
        offset, pos = numbers[-1]
        if offset != self.b.current_pos():
            raise cur.error(f"offset {offset} does not match this op's index "
                            f"{self.b.current_pos()}", pos)

    def statement(self, cur: _Cursor) -> None:
        while True:  # any number of `label:` prefixes, then at most one op
            cur.skip()
            if cur.peek().isdigit() or cur.peek() == ">":
                self.listing_prefix(cur)
            pos = cur.pos
            word = cur.match(ident_end)
            if word is None:
                raise cur.error(f"expected an op or a label, got {cur.word()!r}", pos)
            if cur.text[cur.pos:cur.pos + 1] != ":":  # `name:` with no space is a label
                break
            cur.pos += 1
            lab = self.label(word, cur, pos, False)
            if lab.pos is not None:
                line, col = self.p.bound[word]
                raise cur.error(f"label {word!r} is already defined at line {line}", pos)
            self.b.bind(lab)
            self.p.bound[word] = (cur.line, pos + 1)
            if cur.at_end():
                return
        op = self.resolve_op(word, cur, pos)
        spec = op.spec
        operands = [self.operand(cur, spec, i) for i in range(len(spec.operands))]
        if not cur.at_end():
            pos = cur.pos
            raise cur.error(f"{spec.name} takes {len(spec.operands)} operand(s); unexpected "
                            f"{cur.word()!r}", pos)
        line = self.line_override if self.line_override is not None else cur.line
        at = self.b.current_pos()
        try:
            self.b.emit(op, *operands, line=line)
        except BuildError as e:
            raise cur.error(e.message, pos) from None
        for name, arity in self.pending_subs:
            self.b.add_sub_entry(name, at, arity=arity)
        self.pending_subs = []

    def resolve_op(self, word: str, cur: _Cursor, pos: int) -> Op | ExtOp:
        op = BY_NAME.get(word)
        if op is not None:
            return op
        for ext_set in self.extensions:
            if word in ext_set.ops:
                return ext_set.ops[word]
        ext = lookup_name(word)
        if ext is not None:
            return ext
        from difflib import get_close_matches
        close = get_close_matches(word, list(BY_NAME), n=1)
        hint = (f" (did you mean {close[0]!r}?)" if close else
                " (if it is an extension op, load its ExtensionSet first: "
                "assemble(..., extensions=[...]) or `--ext MODULE:ATTR` on the command line)")
        err = cur.error(f"unknown op {word!r}{hint}", pos)
        err.unknown_op = word
        raise err

    def operand(self, cur: _Cursor, spec: OpSpec, i: int) -> Any:
        o = spec.operands[i]
        kind = o.kind
        if kind in (Kind.REDIR, Kind.FILETEST, Kind.PARAMMOD):
            cur.skip_blanks()
        else:
            cur.skip()
        pos = cur.pos
        if pos >= len(cur.text) or cur.text[pos] == ";":
            raise cur.error(f"{spec.name} needs operand {o.name} ({kind.value})")
        what = f"{spec.name} operand {o.name}"
        if kind in _INTEGER_KINDS:
            return self.integer(cur, kind, what)
        if kind is Kind.FLOAT:
            num = cur.match(_number_end)
            if num is None:
                raise cur.error(f"expected a number for {what}", pos)
            return float(_number(num, cur, pos))
        if kind is Kind.CONST:
            if cur.peek() == "#":
                cur.pos += 1
                return self.integer(cur, kind, f"{what} constant index")
            value = _value(cur)
            for k, existing in enumerate(self.b._constants):
                if type(existing) is type(value) and same_value(existing, value):
                    return k
            return self.b.add_constant(value)
        if kind is Kind.NAME:
            return self.b.add_name(self.name(cur))
        if kind is Kind.TARGET:
            if cur.peek() == "@":
                cur.pos += 1
                return self.integer(cur, kind, f"{what} op index")
            return self.label(self.ident(cur, f"a label for {what}"), cur, pos, True)
        if kind in (Kind.BLOCK, Kind.SUB):
            table = self.p.blocks if kind is Kind.BLOCK else self.p.subs
            if cur.match(_digits) is not None:
                cur.pos = pos
                return self.integer(cur, Kind.COUNT, what)
            name = self.ident(cur, f"a {kind.value.lower()} name for {what}")
            if name not in table:
                raise cur.error(f"unknown {'block' if kind is Kind.BLOCK else 'sub-chunk'} "
                                f"{name!r} (declare it first with "
                                f"{'.block' if kind is Kind.BLOCK else '.chunk'})", pos)
            return table[name]
        from fusevm.ops.shell_codes import FileTest, ParamMod, Redir
        enum_type = {Kind.REDIR: Redir, Kind.FILETEST: FileTest, Kind.PARAMMOD: ParamMod}[kind]
        word = cur.code_word()
        try:
            return int(enum_type.from_symbol(word))
        except ValueError:
            symbols = " ".join(m.symbol for m in enum_type)
            raise cur.error(f"expected a {kind.value} code for {what} ({symbols}), "
                            f"got {word!r}", pos) from None


def assemble(text: str, source: str = "<asm>", *, fuse: bool = False,
             extensions: Iterable[ExtensionSet] = ()) -> Chunk:
    """Assemble text into a verified Chunk; `fuse=True` also runs the fusion pass.

    Mnemonics are looked up in the core table, then in `extensions` (in order), then in
    every ExtensionSet created in this process.

    Raises:
        AsmError: a syntax or validation error, with file:line:col.
    """
    if type(text) is not str or type(source) is not str:
        raise TypeError(f"assemble takes the text and its source name as str, not "
                        f"{type(text if type(text) is not str else source).__name__}")
    extensions = set_list(extensions)
    if not all(isinstance(e, ExtensionSet) for e in extensions):
        raise TypeError("extensions must be a list of ExtensionSets")
    lines = list(enumerate(text.splitlines(), start=1))
    chunk = _Assembler(lines, source, source, extensions).run()
    if fuse:
        from fusevm.peephole.fuse import fuse as run_fusion
        chunk = run_fusion(chunk)
    return chunk

