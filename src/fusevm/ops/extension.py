"""ExtensionSet: a frontend's own ops, declared with the core table's schema in its own id range.

An extension op travels in a chunk as the core op `Extended(id, arg)` when its operands fit
in one byte, or `ExtendedWide(id, payload)` otherwise, with the operands packed into the
payload by their declared widths. Every tool (verifier, assembler, disassembler, fusion, JIT)
decodes it through `decode()` and so sees the extension op's own mnemonic, operands, stack
effect and flags, exactly like a core op.

Three handler protocols, chosen per op (an op has exactly one):

* a **factory**, exactly like a core op's (`@ext.factory(...)`):
  `factory(vm, operands, ip) -> step`, called once per instruction when a VM prepares the
  chunk, with the op's unpacked operands; `step()` runs the op and returns the index of
  the next op: `ip + 1`, a TARGET operand (a jump), `fusevm.interp.extapi.HALT` (a halt),
  or, after `vm.unwind_to_root()`, an ip of root code (a non-local exit). The step is
  dispatched directly, so an extension op costs what a core op costs. It works on the
  stack through `vm.stack_api` (`fusevm.interp.extapi.OperandStack`).
* a **function** of its stack values (`@ext.function(...)`): `binder(vm, operands) -> fn`,
  called once per instruction when a VM prepares the chunk; `fn(*inputs)` takes the op's
  input values (bottom first, as its stack effect names them; an operand-sized run such
  as `items[count]` comes as one list) and returns its output, a tuple of its outputs when
  it has several, or None when it has none. The op cannot jump (no TARGET operand, no
  BRANCH or TERMINATOR flag) and returns a fixed number of values. The interpreter's step
  for it is derived from `fn` and the effect
  (`fusevm.interp.extapi.function_step`), and the baseline tier calls `fn` directly with
  the values it keeps in locals, so the op is written once and costs one Python call
  in compiled code, with no round trip through the VM's stack.
  An op may instead be written as **statements** (`ext.body(name, source=...)`,
  `fusevm.ops.extbody`): its function is compiled from them and the baseline tier writes
  them into its code, so a hot op costs no call there either.
* a plain **handler** (`@ext.op(...)`), `handler(vm, *operands)`, the original protocol:
  it uses `vm.push/pop/peek`, and `vm.jump(target)` / `vm.halt()` to leave; the VM wraps
  it in an adapter step (one more Python call and the side-channel checks per op).

Sets register themselves in a process-wide registry when created; overlapping id ranges
are refused. Re-creating a set with the same name and range replaces the old one (so a
frontend module can be reloaded); another range under a registered name is refused.
"""

from __future__ import annotations

import _thread

from fusevm.errors import BuildError, UnknownExtension
from fusevm.ops.derive import BY_NAME, Op
from fusevm.ops.spec import F, Kind, OpSpec, make_spec, operand_kinds_text, sized_count

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Any, Final, NoReturn

    from fusevm.ops.extbody import ExtBody

    Handler = Callable[..., Any]
    #: `factory(vm, operands, ip) -> step`, with `step() -> next ip` (the core protocol).
    Factory = Callable[[Any, tuple[Any, ...], int], Callable[[], int]]
    #: `binder(vm, operands) -> fn`, with `fn(*inputs) -> output | tuple of outputs | None`.
    Binder = Callable[[Any, tuple[Any, ...]], Callable[..., Any]]
else:
    Any = object  # run-time stand-in: only the type checker reads it

#: Extension ids below this are reserved so that they never look like core numbers.
MIN_EXT_ID: Final = 0x0100
MAX_EXT_ID: Final = 0xFFFF
#: The (first id, count) of fusevm's own sets, kept for them from the start: a set of
#: another name made there first would stop that frontend from loading in the process.
RESERVED: Final = {"awk": (0x1000, 0x400), "sh": (0x1400, 0x100)}


class ExtOp:
    """An extension op: its id, name and owning set, and its table row (`spec`).

    The row is built from the declaration (and checked) when the set declares the op, or,
    in a set declared with `deferred=True`, the first time anything asks for it."""

    __slots__ = ("id", "name", "owner", "_declared", "_spec", "_layout")

    def __init__(self, ext_id: int, name: str, owner: ExtensionSet,
                 declared: tuple[str, str, str, F]) -> None:
        self.id = ext_id
        self.name = name
        self.owner = owner
        #: (operands, effect, formula, flags) as declared.
        self._declared = declared
        self._spec: OpSpec | None = None
        #: `layout()`, made on first use.
        self._layout: tuple[tuple[tuple[int, int, int, int], ...], bool] | None = None

    @property
    def spec(self) -> OpSpec:
        spec = self._spec
        if spec is None:
            spec = self._spec = self.owner._row(self)
        return spec

    @property
    def schema(self) -> tuple[int, str, str, str, int]:
        """(id, name, operand kinds joined by commas, stack effect, flag bits), read from
        the declaration: what the compile cache keys a set's ops by, without their rows."""
        operands, effect, _, flags = self._declared
        return (self.id, self.name, operand_kinds_text(operands), effect,
                flags._value_ | F.EXTENDED._value_)

    @property
    def wide(self) -> bool:
        """True when its operands travel in ExtendedWide's 64-bit payload."""
        return self.layout()[1]

    def layout(self) -> tuple[tuple[tuple[int, int, int, int], ...], bool]:
        """Where each operand lies in the payload, (shift, mask, 0 / 1 signed / 2 float,
        the sign bit), low bits first, and whether they take more than Extended's 8 bits
        (`wide`): worked out once, as `pack` and `unpack` run for every op built or
        decoded."""
        found = self._layout
        if found is None:
            fields = []
            shift = 0
            for o in self.spec.operands:
                width = o.kind.bits
                mode = 2 if o.kind is Kind.FLOAT else 1 if o.kind.signed else 0
                fields.append((shift, (1 << width) - 1, mode, 1 << (width - 1)))
                shift += width
            found = self._layout = (tuple(fields), shift > 8)
        return found

    @property
    def handler(self) -> Handler | None:
        return self.owner.handlers.get(self.id)

    @property
    def factory(self) -> Factory | None:
        return self.owner.factories.get(self.id)

    @property
    def function(self) -> Binder | None:
        return self.owner.functions.get(self.id)

    def __repr__(self) -> str:
        return f"<ExtOp {self.owner.name}.{self.name} {self.id:#x}>"


#: `fusevm.ops.extbody.ExtBody`, loaded with the first body any set declares: a set with
#: none (sh's) and a run of core ops never need it. (Kept here once loaded: a `from`
#: import of a plain module costs thousands of instructions each time it runs.)
_ExtBody: type[ExtBody] | None = None


def _load_ext_body() -> type[ExtBody]:
    global _ExtBody
    from fusevm.ops.extbody import ExtBody
    _ExtBody = ExtBody
    return ExtBody


def _not_callable(fn: object, name: str) -> NoReturn:
    raise TypeError(f"{name}: its implementation must be callable, not {type(fn).__name__}")


def _need_int(what: str, value: object, owner: str) -> None:
    if type(value) is not int:
        raise TypeError(f"extension set {owner!r}: {what} must be an int, not "
                        f"{type(value).__name__}")


class ExtensionSet:
    """A frontend's op declarations and handlers, owning ids [first_id, first_id + count)."""

    def __init__(self, name: str, *, first_id: int, count: int,
                 lowerings_from: str | None = None, deferred: bool = False,
                 hosted: Mapping[str, str] | None = None) -> None:
        if type(name) is not str or not name:
            raise TypeError(f"an extension set's name must be a non-empty str, not {name!r:.40}")
        _need_int("first_id", first_id, name)
        _need_int("count", count, name)
        if lowerings_from is not None and type(lowerings_from) is not str:
            raise TypeError(f"extension set {name!r}: lowerings_from must be a module name "
                            f"(a str) or None, not {type(lowerings_from).__name__}")
        if hosted is not None and not all(type(k) is str and type(v) is str
                                          for k, v in dict(hosted).items()):
            raise TypeError(f"extension set {name!r}: hosted must map names (str) to keys "
                            "(str)")
        if not (MIN_EXT_ID <= first_id and first_id + count - 1 <= MAX_EXT_ID and count > 0):
            raise ValueError(
                f"extension set {name!r}: ids must lie in {MIN_EXT_ID:#x}..{MAX_EXT_ID:#x}")
        self.name = name
        self.first_id = first_id
        self.count = count
        self.ops: dict[str, ExtOp] = {}
        self.by_id: dict[int, ExtOp] = {}
        self.handlers: dict[int, Handler] = {}
        self.factories: dict[int, Factory] = {}
        self.functions: dict[int, Binder] = {}
        #: Ops written as statements (`body`), whose binder in `functions` is made from them.
        self.bodies: dict[int, ExtBody] = {}
        #: Optional JIT lowerings registered by the frontend, by op id (see fusevm.jit).
        self.lowerings: dict[int, Any] = {}
        #: The module that registers those lowerings: the JIT imports it the first time it
        #: looks for one, so a frontend's start-up never pays for it.
        self.lowerings_from = lowerings_from
        #: Rows built on first use (see `declare`): a frontend whose tests build every
        #: row of its set (`check`) declares it so, and a short program then builds only
        #: the rows of the ops it uses.
        self.deferred = deferred
        #: Names every body of the set may read for an object of the VM's host data
        #: (`hosted[name]` its key), bound once per VM (`fusevm.ops.extbody`)
        self.hosted = dict(hosted or {})
        self._next = first_id
        self._schema: tuple[object, ...] | None = None  # (`schema`, until an op is declared)
        _register(self)

    def overlaps(self, first_id: int, count: int) -> bool:
        """Whether ids [first_id, first_id + count) share an id with this set's range."""
        return first_id < self.first_id + self.count and self.first_id < first_id + count

    def __contains__(self, ext_id: object) -> bool:
        return isinstance(ext_id, int) and self.first_id <= ext_id < self.first_id + self.count

    def __getitem__(self, name: str) -> ExtOp:
        try:
            return self.ops[name]
        except KeyError:
            raise KeyError(f"extension set {self.name!r} has no op {name!r}") from None

    def __iter__(self) -> Iterator[ExtOp]:
        return iter(self.ops.values())

    def ops_with(self, flag: F) -> tuple[ExtOp, ...]:
        """Every op of the set declared with `flag`, in declaration order (`ops.ops_with`
        for a set): read from the declarations, so no row of a `deferred` set is built."""
        bit = flag._value_
        return tuple(op for op in self.ops.values() if op._declared[3]._value_ & bit)

    def declare(self, name: str, *, operands: str = "", effect: str = "--", formula: str = "",
                flags: F = F.NONE, id: int | None = None) -> ExtOp:
        """Declare an op (without a handler yet); returns it.

        The id and the name are checked here; the operands, the stack effect and the flags
        when the op's row is built: here too, unless the set is `deferred`."""
        if type(name) is not str:
            raise TypeError(f"extension set {self.name!r}: an op name must be a str, not "
                            f"{type(name).__name__}")
        if not name.isidentifier():
            # (The assembler reads a mnemonic as one word; the baseline tier names code by it.)
            raise ValueError(f"extension set {self.name!r}: an op name must be an identifier, "
                             f"not {name!r:.40}")
        if type(operands) is not str or type(effect) is not str or type(formula) is not str:
            what, text = next((w, t) for w, t in (("operands", operands), ("effect", effect),
                                                  ("formula", formula)) if type(t) is not str)
            raise TypeError(f"{name}: {what} must be a str, not {type(text).__name__}")
        if type(flags) is not F:
            raise TypeError(f"{name}: flags must be fusevm.ops.F flags, not "
                            f"{type(flags).__name__}")
        if id is not None:
            _need_int("id", id, self.name)
        ext_id = self._next if id is None else id
        if ext_id not in self:
            raise ValueError(f"{name}: id {ext_id:#x} is outside set {self.name!r}")
        if ext_id in self.by_id:
            raise ValueError(f"{name}: id {ext_id:#x} already used by {self.by_id[ext_id].name}")
        if name in self.ops or name in BY_NAME:
            raise ValueError(f"op name {name!r} is already taken")
        op = ExtOp(ext_id, name, self, (operands, effect, formula or name, flags))
        if not self.deferred:
            op._spec = self._row(op)  # (ValueError before anything is recorded)
        self.ops[name] = op
        self.by_id[ext_id] = op
        self._next = max(self._next, ext_id + 1)
        self._schema = None
        return op

    def schema(self) -> tuple[object, ...]:
        """The set's name, range and each op's `ExtOp.schema`: what the compile cache keys
        a chunk by (each of its keys asks: worked out once per set of declared ops)."""
        found = self._schema
        if found is None:
            found = self._schema = (self.name, self.first_id, self.count,
                                    tuple(op.schema for op in self))
        return found

    def _row(self, op: ExtOp) -> OpSpec:
        """Build and check the row of `op` (ValueError when its declaration is malformed)."""
        operands, effect, formula, flags = op._declared
        spec = make_spec(op.id, op.name, operands, effect, formula, flags | F.EXTENDED,
                         section=f"ext:{self.name}")
        if sum(k.bits for k in spec.kinds) > 64:
            raise ValueError(f"{op.name}: operands do not fit in a 64-bit payload")
        if any(k is Kind.FLOAT for k in spec.kinds) and len(spec.kinds) > 1:
            raise ValueError(f"{op.name}: a FLOAT operand must be the only one")
        if op.id in self.functions:
            _check_function(spec)
        return spec

    def check(self) -> None:
        """Build the row of every op, and check every op written as statements: ValueError
        for the first malformed one (what a `deferred` set's tests call)."""
        for op in self.ops.values():
            op.spec  # noqa: B018  - (built and checked on first use)
        for written in self.bodies.values():
            written.check()

    def op(self, name: str, *, operands: str = "", effect: str = "--", formula: str = "",
           flags: F = F.NONE, id: int | None = None) -> Callable[[Handler], Handler]:
        """Decorator: declare an op and register the decorated function as its handler.

        The handler is called as `handler(vm, *operands)` (see the module docstring).
        """
        ext = self.declare(name, operands=operands, effect=effect, formula=formula,
                           flags=flags, id=id)
        return self.handle(ext.name)

    def handle(self, name: str) -> Callable[[Handler], Handler]:
        """Decorator: attach a `handler(vm, *operands)` to an already declared op."""
        ext = self[name]

        def register(fn: Handler) -> Handler:
            if not callable(fn):
                _not_callable(fn, ext.name)
            self._forget(ext.id)
            self.handlers[ext.id] = fn
            return fn

        return register

    def factory(self, name: str, *, operands: str = "", effect: str = "--", formula: str = "",
                flags: F = F.NONE, id: int | None = None) -> Callable[[Factory], Factory]:
        """Decorator: declare an op and register the decorated step factory for it.

        `factory(vm, operands, ip) -> step` with `step() -> next ip`, as for core ops (see
        the module docstring).
        """
        ext = self.declare(name, operands=operands, effect=effect, formula=formula,
                           flags=flags, id=id)
        return self.bind(ext.name)

    def bind(self, name: str) -> Callable[[Factory], Factory]:
        """Decorator: attach a step factory to an already declared op."""
        ext = self[name]

        def register(fn: Factory) -> Factory:
            if not callable(fn):
                _not_callable(fn, ext.name)
            self._forget(ext.id)
            self.factories[ext.id] = fn
            return fn

        return register

    def function(self, name: str, *, operands: str = "", effect: str = "--",
                 formula: str = "", flags: F = F.NONE,
                 id: int | None = None) -> Callable[[Binder], Binder]:
        """Decorator: declare an op and register the decorated binder for it.

        `binder(vm, operands) -> fn` with `fn(*inputs) -> outputs` (see the module
        docstring): the interpreter's step and the baseline tier's code both call `fn`.
        """
        ext = self.declare(name, operands=operands, effect=effect, formula=formula,
                           flags=flags, id=id)
        return self.bind_function(ext.name)

    def bind_function(self, name: str) -> Callable[[Binder], Binder]:
        """Decorator: attach a binder to an already declared op (one that cannot jump and
        returns a fixed number of values)."""
        ext = self[name]
        if ext._spec is not None:  # (otherwise checked when the row is built)
            _check_function(ext._spec)

        def register(fn: Binder) -> Binder:
            if not callable(fn):
                _not_callable(fn, ext.name)
            self._forget(ext.id)
            self.functions[ext.id] = fn
            return fn

        return register

    def body(self, name: str, *, source: str, names: Mapping[str, Any] | None = None,
             operands: str = "", effect: str = "--", formula: str = "", flags: F = F.NONE,
             id: int | None = None, results: Mapping[str, type] | None = None) -> ExtOp:
        """Declare an op written as statements (`fusevm.ops.extbody`): the interpreter runs
        them as a function of the op's stack values and the baseline tier writes them into
        its code. `names` are the module-level values the statements call; `results`
        gives the exact type (int, float, bool or str) of outputs that always have it,
        which the baseline's code after the op then relies on instead of testing."""
        if type(source) is not str:
            raise TypeError(f"{name}: source must be a str of statements, not "
                            f"{type(source).__name__}")
        if not hasattr(names or {}, "items") or not hasattr(results or {}, "items"):
            what, given = ("names", names) if not hasattr(names or {}, "items") else (
                "results", results)
            raise TypeError(f"{name}: {what} must be a mapping, not {type(given).__name__}")
        ext_body = _ExtBody or _load_ext_body()
        ext = self.declare(name, operands=operands, effect=effect, formula=formula,
                           flags=flags, id=id)
        written = ext_body(lambda: ext.spec, source, names or {}, results or {}, self.hosted)
        if not self.deferred:
            written.items()  # (its stack items and `results` checked now)
        self.bind_function(name)(written.binder)
        self.bodies[ext.id] = written
        return ext

    def _forget(self, ext_id: int) -> None:
        """Drop the op's implementation: an op has one, in one protocol."""
        self.handlers.pop(ext_id, None)
        self.factories.pop(ext_id, None)
        self.functions.pop(ext_id, None)
        self.bodies.pop(ext_id, None)

    def implementation(self, ext_id: int) -> Handler | Factory | Binder | None:
        """The op's handler, factory or binder (whichever it has), or None."""
        return (self.factories.get(ext_id) or self.functions.get(ext_id)
                or self.handlers.get(ext_id))

    def implemented(self, ext_id: int) -> bool:
        """True when the op has a handler, a factory or a function."""
        return self.implementation(ext_id) is not None

    def __repr__(self) -> str:
        return (f"<ExtensionSet {self.name!r} {self.first_id:#x}.."
                f"{self.first_id + self.count - 1:#x}, {len(self.ops)} ops>")


def _check_function(spec: OpSpec) -> None:
    """ValueError unless the op can be a function of its stack values (`function`)."""
    if spec.has(F.BRANCH) or spec.has(F.TERMINATOR) or \
            any(o.kind is Kind.TARGET for o in spec.operands):
        raise ValueError(f"{spec.name}: an op that jumps needs a factory, not a function")
    if any(sized is not None for _, sized in spec.effect.outputs):
        raise ValueError(f"{spec.name}: a function returns a fixed number of stack values")


# -- Registry ----------------------------------------------------------------

_lock = _thread.allocate_lock()  # (threading's import costs start-up time)
_sets: dict[str, ExtensionSet] = {}
#: `_sets`' values as of the last registration (read without the lock: preparing a chunk
#: looks up every extension op it holds).
_registered: tuple[ExtensionSet, ...] = ()


def _register(new: ExtensionSet) -> None:
    global _registered
    with _lock:
        held = RESERVED.get(new.name)
        if held is not None and held != (new.first_id, new.count):
            raise ValueError(f"extension set {new.name!r} is fusevm's own, with ids "
                             f"{held[0]:#x}+{held[1]}")
        for name, (first, count) in RESERVED.items():
            if name != new.name and new.overlaps(first, count):
                raise ValueError(
                    f"extension set {new.name!r} ({new.first_id:#x}+{new.count}) overlaps "
                    f"the ids of fusevm's own set {name!r} ({first:#x}+{count}), kept for it "
                    "before it loads")
        old = _sets.get(new.name)
        if old is not None and (old.first_id, old.count) != (new.first_id, new.count):
            raise ValueError(
                f"extension set {new.name!r} is registered with ids {old.first_id:#x}+"
                f"{old.count}: a set of that name replaces it only with the same range "
                f"(not {new.first_id:#x}+{new.count})")
        for other in _sets.values():
            if other is old:
                continue
            if new.overlaps(other.first_id, other.count):
                raise ValueError(
                    f"extension set {new.name!r} ({new.first_id:#x}+{new.count}) overlaps "
                    f"{other.name!r} ({other.first_id:#x}+{other.count})")
        _sets[new.name] = new
        _registered = tuple(_sets.values())


def set_list(extensions: object) -> tuple[Any, ...]:
    """The `extensions=` argument a VM or the assembler takes, as a tuple: TypeError for
    what is no list of sets (a str, bytes, None); its items are checked by their user."""
    if isinstance(extensions, (str, bytes)) or not hasattr(extensions, "__iter__"):
        raise TypeError(f"extensions must be a list of ExtensionSets, not "
                        f"{type(extensions).__name__}")
    return tuple(extensions)  # type: ignore[call-overload]


def registered_sets() -> tuple[ExtensionSet, ...]:
    return _registered


def lookup(ext_id: int) -> ExtOp | None:
    """The extension op with this id, from any registered set."""
    for s in registered_sets():
        found = s.by_id.get(ext_id)  # (the sets' ranges never overlap)
        if found is not None:
            return found
    return None


def lookup_name(name: str) -> ExtOp | None:
    for s in registered_sets():
        if name in s.ops:
            return s.ops[name]
    return None


# -- Operand packing -----------------------------------------------------------

def pack(ext: ExtOp, operands: tuple[Any, ...]) -> tuple[Op, int, int]:
    """Encode an extension op instruction as a core Extended/ExtendedWide instruction."""
    spec = ext.spec
    if len(operands) != len(spec.operands):
        raise BuildError(f"{spec.name} takes {len(spec.operands)} operand(s), "
                         f"got {len(operands)}", op=spec.name)
    layout, wide = ext.layout()
    payload = 0
    for (shift, mask, mode, _), value in zip(layout, operands):
        if mode == 2:
            import struct  # only for a FLOAT operand: no frontend's start-up pays for it

            bits = struct.unpack("<Q", struct.pack("<d", float(value)))[0]
        else:
            bits = int(value) & mask
        payload |= bits << shift
    return (Op.ExtendedWide if wide else Op.Extended, ext.id, payload)


def unpack(ext: ExtOp, payload: int) -> tuple[Any, ...]:
    """Decode packed operands back into the extension op's operand values."""
    out: list[Any] = []
    for shift, mask, mode, sign in ext.layout()[0]:
        bits = (payload >> shift) & mask
        if not mode:
            out.append(bits)
        elif mode == 2:
            import struct

            out.append(struct.unpack("<d", struct.pack("<Q", bits))[0])
        else:
            out.append(bits - sign - sign if bits & sign else bits)
    return tuple(out)


def run_sizes(spec: OpSpec, operands: tuple[Any, ...]) -> tuple[int | None, ...]:
    """Each input's length for one instruction: None for a single value, the run's length
    for an operand-sized run (`items[count]`)."""
    out: list[int | None] = []
    for _, sized_by in spec.effect.inputs:
        if sized_by is None:
            out.append(None)
        else:
            i = spec.operand_index(sized_by)
            out.append(sized_count(spec.operands[i].kind, int(operands[i])))
    return tuple(out)


def require(ext_id: int, *, op: str) -> ExtOp:
    """The extension op for ext_id, or a clear UnknownExtension error."""
    ext = lookup(ext_id)
    if ext is None:
        raise UnknownExtension(f"no extension set declares op id {ext_id:#x}", op=op)
    return ext
