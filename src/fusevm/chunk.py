"""Chunk, the unit of compiled bytecode, and ChunkBuilder, which emits and validates one.

A Chunk is immutable once built: its op tuple, constant and name pools, line table, slot
count, nested sub-chunks, block ranges (for the higher-order ops) and function entries.
ChunkBuilder resolves labels and forward jumps in `build()`, then runs the verifier (D9)
and, unless told not to, the fusion pass.
"""

from __future__ import annotations

from fusevm.errors import BuildError, FormatError
from fusevm.instr import SHAPES, Instr, check_operand, decode, encode, shape
from fusevm.limits import MAX_NESTING, MAX_SLOTS, chunk_depth_exceeds
from fusevm.ops import F, Kind, Op
from fusevm.ops.extension import ExtOp
from fusevm.values import constant_problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Final

MAX_POOL = 0x10000
#: The CALL flag's bit (the builder asks it of every op it emits).
_CALL: Final = F.CALL._value_


class Chunk:
    """Compiled bytecode plus everything needed to run it."""

    __slots__ = ("ops", "constants", "names", "lines", "slot_count", "sub_chunks",
                 "block_ranges", "sub_entries", "source", "_digest", "_entries", "derived",
                 "__weakref__")

    #: `derived` key: True once this very chunk object passed `fusevm.verify.verify` (or
    #: was rebuilt from the bytes of one that did: `mark_verified`).
    VERIFIED: Final = "verified"

    def __init__(self, ops: Sequence[Instr], constants: Sequence[Any] = (),
                 names: Sequence[str] = (), lines: Sequence[int] | None = None,
                 slot_count: int = 0, sub_chunks: Sequence[Chunk] = (),
                 block_ranges: Sequence[tuple[int, int]] = (),
                 sub_entries: Sequence[tuple[int, int]] = (), source: str = "<chunk>") -> None:
        put = object.__setattr__  # (what `__setattr__` adds is for later changes only)
        ops = tuple(ops)
        put(self, "ops", ops)
        put(self, "constants", tuple(constants))
        put(self, "names", tuple(names))
        put(self, "lines", tuple(lines) if lines is not None else (0,) * len(ops))
        put(self, "slot_count", slot_count)
        put(self, "sub_chunks", tuple(sub_chunks))
        put(self, "block_ranges", tuple((_index(a), _index(b)) for a, b in block_ranges))
        put(self, "sub_entries", tuple((_index(a), _index(b)) for a, b in sub_entries))
        put(self, "source", source)
        put(self, "_digest", None)
        put(self, "_entries", None)
        #: What other layers work out about this very object, kept with it (the verifier's
        #: verdict and analysis, the loop facts): not content, so equality, hashing and
        #: serialization ignore it, and a copy starts without it.
        put(self, "derived", {})

    if TYPE_CHECKING:
        ops: tuple[Instr, ...]
        constants: tuple[Any, ...]
        names: tuple[str, ...]
        lines: tuple[int, ...]
        slot_count: int
        sub_chunks: tuple[Chunk, ...]
        block_ranges: tuple[tuple[int, int], ...]
        sub_entries: tuple[tuple[int, int], ...]
        source: str
        _digest: str | None
        _entries: dict[int, int] | None
        derived: dict[str, Any]

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _CONTENT:
            # A chunk changed after it was made is verified and hashed anew: what was
            # worked out about it (its verdict, analysis, digest) was of the old content.
            object.__setattr__(self, "_digest", None)
            object.__setattr__(self, "_entries", None)
            self.derived.clear()

    def find_sub(self, name_index: int) -> int | None:
        """Entry ip of the function with this name index (first entry wins), or None."""
        if self._entries is None:
            entries: dict[int, int] = {}
            for n, ip in self.sub_entries:
                entries.setdefault(n, ip)
            self._entries = entries
        return self._entries.get(name_index)

    def line_of(self, ip: int) -> int | None:
        return self.lines[ip] if 0 <= ip < len(self.lines) else None

    def digest(self) -> str:
        """Content hash over everything that decides behaviour (ops, constants, entries,
        block ranges, slot count, sub-chunks); names, lines and source do not count."""
        if self._digest is None:
            if not self.is_verified():
                from fusevm.verify import verify
                verify(self)  # (BuildError for one no digest can be made of)
            from fusevm.digests import blake2b  # (with the first digest: start-up time)
            from fusevm.serialize import semantic_bytes
            self._digest = blake2b(semantic_bytes(self), digest_size=16).hexdigest()
        return self._digest

    def to_bytes(self) -> bytes:
        """Serialize in the versioned format of `fusevm.serialize` (a chunk not verified
        yet is verified first: FormatError, as for anything else the format cannot hold,
        for one the verifier refuses)."""
        if not self.is_verified():
            from fusevm.verify import verify
            try:
                verify(self)
            except BuildError as e:
                raise FormatError(f"the chunk cannot be written: {e.message}",
                                  source=e.source, line=e.line, op=e.op, ip=e.ip) from None
        from fusevm.serialize import dump
        return dump(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> Chunk:
        """Load a serialized chunk; raises FormatError on any bad input."""
        from fusevm.serialize import load
        chunk: Chunk = load(data, cls)
        return chunk

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chunk):
            return NotImplemented
        return self is other or self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.digest())

    def __len__(self) -> int:
        return len(self.ops)

    def is_verified(self) -> bool:
        """Whether this very chunk object passed `fusevm.verify.verify` (or was marked
        verified). Asked of the chunk: one known to be verified runs without the
        verifier's module."""
        return bool(self.derived.get(self.VERIFIED))

    def mark_verified(self) -> None:
        """Count this chunk (and its sub-chunks) as verified without verifying it: only for
        a chunk rebuilt from the bytes of one that was verified (serialize's
        `load(trusted=True)`, the compile cache)."""
        for sub in self.sub_chunks:
            sub.mark_verified()
        self.derived[self.VERIFIED] = True

    def __repr__(self) -> str:
        return (f"<Chunk {self.source!r}: {len(self.ops)} ops, {len(self.constants)} consts, "
                f"{len(self.names)} names, {self.slot_count} slots>")


#: The fields a chunk's behaviour (or its description) is made of.
_CONTENT: Final = frozenset(("ops", "constants", "names", "lines", "slot_count",
                             "sub_chunks", "block_ranges", "sub_entries", "source"))


def _index(value: object) -> int:
    """An op index of a block range or a sub entry: an int (`int()` would truncate a
    float and parse a str)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"an op index must be an int, not {value!r:.40}")
    return int(value)


class Label:
    """A jump target that may be bound after it is used."""

    __slots__ = ("name", "pos")

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.pos: int | None = None

    def __repr__(self) -> str:
        where = "unbound" if self.pos is None else f"@{self.pos}"
        return f"<Label {self.name or id(self)} {where}>"


Target = int | Label


class ChunkBuilder:
    """Emits ops one at a time; `build()` resolves labels, validates and fuses."""

    def __init__(self, source: str = "<chunk>") -> None:
        if type(source) is not str:
            raise TypeError(f"source must be a str, not {type(source).__name__}")
        self.source = source
        self._ops: list[list[Any]] = []
        self._op_of: list[Op | ExtOp] = []
        self._lines: list[int] = []
        self._line = 0
        self._constants: list[Any] = []
        self._names: list[str] = []
        self._name_index: dict[str, int] = {}
        self._sub_chunks: list[Chunk] = []
        self._block_ranges: list[tuple[Target, Target]] = []
        self._sub_entries: list[tuple[int, Target]] = []
        self._labels: list[Label] = []
        self._min_slots = 0
        # Declared arities by name index: (argument count, entry); call sites as
        # (name index, argc, op index, line).
        self._arity: dict[int, tuple[int, Target]] = {}
        self._calls: list[tuple[int, int, int, int]] = []

    # -- emission ----------------------------------------------------------------

    def emit(self, op: Op | ExtOp, *operands: Any, line: int | None = None) -> int:
        """Append an op; returns its index.

        A Label is accepted for any TARGET operand, and a `str` for any NAME operand (the
        name is added to the name pool): `emit(Op.Call, "fib", 1)`.
        """
        if not isinstance(op, (Op, ExtOp)):
            raise TypeError(f"emit needs an Op or an ExtOp, not {op!r:.40}")
        spec = op.spec
        if len(operands) != len(spec.operands):
            want = " ".join(f"{o.name}:{o.kind.value}" for o in spec.operands) or "none"
            raise BuildError(f"{spec.name} takes {len(spec.operands)} operand(s) ({want}), "
                             f"got {len(operands)}", op=spec.name, ip=len(self._ops),
                             source=self.source, line=line)
        values: list[Any] = []
        row = SHAPES.get(id(spec))
        if row is None or row[0] is not spec:
            row = shape(spec)
        ranges = row[7]
        for i, value in enumerate(operands):
            lo, hi = ranges[i]
            if type(value) is int and lo <= value <= hi:  # (most operands: checked here)
                values.append(value)
                continue
            kind = spec.operands[i].kind
            if kind is Kind.TARGET and isinstance(value, Label):
                values.append(value)
                continue
            if kind is Kind.NAME and isinstance(value, str):
                value = self.add_name(value)
            try:
                values.append(check_operand(spec, i, value))
            except BuildError as e:
                raise e.locate(op=spec.name, ip=len(self._ops), source=self.source,
                               line=line if line is not None else self._line) from None
        if line is not None:
            self._line = _line(line)
        if spec.flags._value_ & _CALL:
            self._calls.append((values[0], values[1], len(self._ops), self._line))
        self._ops.append(values)
        self._op_of.append(op)
        self._lines.append(self._line)
        return len(self._ops) - 1

    def set_line(self, line: int) -> None:
        """Line recorded for the following ops that pass no `line=`."""
        self._line = _line(line)

    def current_pos(self) -> int:
        """Index the next emitted op will get."""
        return len(self._ops)

    def add_constant(self, value: Any) -> int:
        """Append a value to the constant pool (no dedup); returns its index."""
        problem = constant_problem(value)
        if problem is not None:
            raise BuildError(f"constant {problem}", source=self.source)
        if len(self._constants) >= MAX_POOL:
            raise BuildError("constant pool is full (65,536 entries)", source=self.source)
        self._constants.append(value)
        return len(self._constants) - 1

    def add_name(self, name: str) -> int:
        """Intern a name; an already-present name returns its existing index."""
        if not isinstance(name, str):
            raise BuildError(f"name {name!r} is not a string", source=self.source)
        idx = self._name_index.get(name)
        if idx is None:
            if len(self._names) >= MAX_POOL:
                raise BuildError("name pool is full (65,536 entries)", source=self.source)
            idx = len(self._names)
            self._names.append(name)
            self._name_index[name] = idx
        return idx

    def label(self, name: str | None = None) -> Label:
        """A new, unbound label."""
        lab = Label(name)
        self._labels.append(lab)
        return lab

    def bind(self, label: Label) -> None:
        """Bind a label to the current position."""
        if not isinstance(label, Label):
            raise TypeError(f"bind takes a Label, not {type(label).__name__}")
        if label.pos is not None:
            raise BuildError(f"label {label.name or ''} bound twice".replace("  ", " "),
                             source=self.source)
        label.pos = len(self._ops)

    def patch_jump(self, index: int, target: Target) -> None:
        """Rewrite the (last) TARGET operand of the op at `index`."""
        op = self._op_of[index]
        targets = op.spec.targets
        if not targets:
            raise BuildError(f"op {index} ({op.spec.name}) has no jump target to patch",
                             op=op.spec.name, ip=index, source=self.source)
        if not isinstance(target, Label):
            try:
                target = check_operand(op.spec, targets[-1], target)
            except BuildError as e:
                raise e.locate(op=op.spec.name, ip=index, source=self.source,
                               line=self._lines[index]) from None
        self._ops[index][targets[-1]] = target

    def add_sub_entry(self, name: str, target: Target, *, arity: int | None = None) -> None:
        """Register a function entry point by name.

        With `arity`, every `Call` of this function must pass exactly that many arguments;
        `build()` raises BuildError naming the call site and this declaration otherwise.
        """
        self._target(target, f"sub entry {name!r}")
        index = self.add_name(name)
        if arity is not None:
            if type(arity) is not int or not 0 <= arity <= 0xFF:
                raise BuildError(f"arity of {name!r} must be an integer in 0..255, "
                                 f"got {arity!r}", source=self.source, line=self._line)
            self._arity[index] = (arity, target)
        self._sub_entries.append((index, target))

    def add_block_range(self, start: Target, end: Target) -> int:
        """Register a block [start, end) for the higher-order ops; returns its index."""
        self._target(start, "a block range")
        self._target(end, "a block range")
        self._block_ranges.append((start, end))
        return len(self._block_ranges) - 1

    def _target(self, target: object, what: str) -> None:
        """BuildError unless `target` is a Label or an op index (a non-negative int)."""
        if not (isinstance(target, Label) or type(target) is int and target >= 0):
            raise BuildError(f"{what}: the target must be a Label or an op index, not "
                             f"{target!r:.40}", source=self.source, line=self._line)

    def add_sub_chunk(self, chunk: Chunk) -> int:
        """Attach a nested chunk (command substitution bodies, trap handlers)."""
        if not isinstance(chunk, Chunk):
            raise BuildError(f"sub-chunk must be a Chunk, got {type(chunk).__name__}",
                             source=self.source)
        if chunk_depth_exceeds(chunk, MAX_NESTING - 1):
            raise BuildError(f"sub-chunks are nested more than {MAX_NESTING} deep",
                             source=self.source)
        self._sub_chunks.append(chunk)
        return len(self._sub_chunks) - 1

    def reserve_slots(self, count: int) -> None:
        """Make frames of this chunk have at least `count` slots."""
        if type(count) is not int or not 0 <= count <= MAX_SLOTS:
            raise BuildError(f"a slot count must be an int 0..{MAX_SLOTS}, not {count!r:.40}",
                             source=self.source, line=self._line)
        self._min_slots = max(self._min_slots, count)

    # -- building ---------------------------------------------------------------

    def _resolve(self, target: Target, what: str) -> int:
        if isinstance(target, Label):
            if target.pos is None:
                raise BuildError(f"label {target.name or '(anonymous)'} used by {what} "
                                 "was never bound", source=self.source)
            return target.pos
        return target

    def _check_arity(self) -> None:
        """Every call site of a function with a declared arity passes that many arguments."""
        for name, argc, ip, line in self._calls:
            declared = self._arity.get(name)
            if declared is None or declared[0] == argc:
                continue
            arity, target = declared
            entry = target.pos if isinstance(target, Label) else target
            fname = self._names[name]
            where = "at an unbound label"
            if entry is not None:
                where = f"at op {entry}"
                if 0 <= entry < len(self._lines):
                    where += f" (line {self._lines[entry]})"
            raise BuildError(
                f"call to {fname!r} passes {argc} argument(s), but {fname!r} is declared "
                f"with arity {arity} {where}",
                op="Call", ip=ip, source=self.source, line=line)

    def build(self, fuse: bool = True, verify: bool = True) -> Chunk:
        """Resolve labels, validate (D9) and, by default, run the fusion pass."""
        self._check_arity()
        ops: list[Instr] = []
        slot_count = self._min_slots
        for i, (op, values) in enumerate(zip(self._op_of, self._ops)):
            spec = op.spec
            row = SHAPES.get(id(spec))
            if row is None or row[0] is not spec:
                row = shape(spec)
            if row[5]:  # (labels only where targets are)
                values = [self._resolve(v, f"op {i} ({spec.name})") if isinstance(v, Label)
                          else v for v in values]
            for k in row[6]:
                if values[k] >= slot_count:
                    slot_count = values[k] + 1
            ops.append(encode(op, tuple(values)))
        chunk = Chunk(
            ops, self._constants, self._names, self._lines, slot_count, self._sub_chunks,
            [(self._resolve(a, "a block range"), self._resolve(b, "a block range"))
             for a, b in self._block_ranges],
            [(n, self._resolve(t, f"sub entry {self._names[n]}"))
             for n, t in self._sub_entries],
            self.source)
        if verify:
            from fusevm.verify import verify as run_verifier
            run_verifier(chunk, built=True)
        if fuse:
            from fusevm.peephole.fuse import fuse as run_fusion
            chunk = run_fusion(chunk)
        return chunk


def _line(line: object) -> int:
    """A source line for the line table: an int the serialized form holds (0..2**32-1)."""
    if type(line) is not int or not 0 <= line <= 0xFFFFFFFF:
        raise TypeError(f"a line must be an int 0..2**32-1, not {line!r:.40}")
    return line


def slot_count_of(ops: Sequence[Instr], minimum: int = 0) -> int:
    """Highest SLOT operand + 1 over `ops` (at least `minimum`)."""
    count = minimum
    for instr in ops:
        d = decode(instr)
        for o, v in zip(d.spec.operands, d.operands):
            if o.kind is Kind.SLOT:
                count = max(count, v + 1)
    return count
