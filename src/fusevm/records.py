"""Record classes for the start-up path: `@dataclass` as the type checker sees it, built cheaply.

`import dataclasses` loads `inspect` (and with it `ast`, `dis`, `tokenize`), and each
`@dataclass(slots=True)` class costs about a millisecond to create: together more than
starting Python itself, paid by every `fusevm awk` and `fusevm sh`. Modules on that path
import `dataclass`, `field` and `replace` from here instead. The type checker sees the
real `dataclasses` names (so signatures, frozenness and defaults are checked as usual);
at run time `dataclass` builds the same class from the annotations: a positional and
keyword `__init__` with the defaults, `__eq__`, `__hash__` (frozen and eq, as
dataclasses does), `__repr__`, `__match_args__`, `__slots__` with `slots=True`, and
assignment refused with `frozen=True`. Only these options are accepted; anything else is a
TypeError, so a record that needs more uses `dataclasses` itself. The `__init__` of the
package's own record classes is compiled ahead (`fusevm.ahead`).
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from dataclasses import FrozenInstanceError, dataclass, field, replace
else:
    from fusevm.ahead import function as _function

    _MISSING = object()

    class FrozenInstanceError(AttributeError):
        """Assignment to a field of a frozen record."""

    class _Field:
        __slots__ = ("default", "default_factory", "compare", "repr")

        def __init__(self, default, default_factory, compare, repr):
            self.default = default
            self.default_factory = default_factory
            self.compare = compare
            self.repr = repr

    def field(*, default=_MISSING, default_factory=_MISSING, compare=True, repr=True):
        """A field with a default, a default factory, or left out of `==` and `repr`."""
        return _Field(default, default_factory, compare, repr)

    #: Each record class's fields, in order: (name, default or _MISSING, factory or
    #: _MISSING, compared, shown).
    _FIELDS = {}
    #: (module, source) of each record class's `__init__` (`fusevm.tools.gen_ahead`
    #: compiles the package's own ahead).
    _SOURCES = []

    def _frozen_setattr(self, name, value):
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def _frozen_delattr(self, name):
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _build(cls, frozen, slots, eq):
        annotations = cls.__dict__.get("__annotations__", {})
        fields = []
        for name, note in annotations.items():
            if isinstance(note, str) and note.startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, _Field):
                fields.append((name, value.default, value.default_factory, value.compare,
                               value.repr))
            else:
                fields.append((name, value, _MISSING, True, True))
        names = [f[0] for f in fields]
        ns = {k: v for k, v in cls.__dict__.items()
              if k not in ("__dict__", "__weakref__") and (k not in names or not slots)}
        if slots:
            ns["__slots__"] = tuple(names)
        for name, default, _, _, _ in fields:
            if not slots and default is not _MISSING:
                ns[name] = default
        ns["__match_args__"] = tuple(names)

        # __init__ from source, as dataclasses does: an instance is made at the cost of a
        # plain class's.
        params, body, env, defaults = [], [], {"_set": object.__setattr__}, []
        defaulted = False  # (a field with a default or factory came before)
        for i, (name, default, factory, _, _) in enumerate(fields):
            if factory is not _MISSING or default is not _MISSING:
                defaulted = True
            elif defaulted:
                raise TypeError(f"{cls.__name__}: field {name!r} without a default "
                                "follows one with a default")
            if factory is not _MISSING:
                env[f"_f{i}"] = factory
                params.append(f"{name}=_MISSING")
                defaults.append(_MISSING)
                value = f"_f{i}() if {name} is _MISSING else {name}"
                env["_MISSING"] = _MISSING
            elif default is not _MISSING:
                env[f"_d{i}"] = default
                params.append(f"{name}=_d{i}")
                defaults.append(default)
                value = name
            else:
                params.append(name)
                value = name
            body.append(f"_set(self, {name!r}, {value})" if frozen
                        else f"self.{name} = {value}")
        src = (f"def __init__(self, {', '.join(params)}):\n    "
               + ("\n    ".join(body) or "pass"))
        # (Compiled with the package for its own record classes: fusevm.ahead.)
        _SOURCES.append((cls.__module__, src))
        init = _function(src, env, "__init__", qualname=f"{cls.__qualname__}.__init__",
                         defaults=tuple(defaults))
        ns["__init__"] = init
        if "__post_init__" in ns:
            raise TypeError(f"{cls.__name__}: __post_init__ is not supported here")

        compared = tuple(f[0] for f in fields if f[3])
        shown = tuple(f[0] for f in fields if f[4])
        if "__repr__" not in cls.__dict__:
            def __repr__(self):
                inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
                return f"{type(self).__qualname__}({inner})"
            ns["__repr__"] = __repr__
        if eq and "__eq__" not in cls.__dict__:
            def __eq__(self, other):
                if other.__class__ is not self.__class__:
                    return NotImplemented
                return all(getattr(self, n) == getattr(other, n) for n in compared)
            ns["__eq__"] = __eq__
            if "__hash__" not in cls.__dict__:
                if frozen:
                    def __hash__(self):
                        return hash(tuple(getattr(self, n) for n in compared))
                    ns["__hash__"] = __hash__
                else:
                    ns["__hash__"] = None
        if frozen:
            ns["__setattr__"] = _frozen_setattr
            ns["__delattr__"] = _frozen_delattr
        new = type(cls)(cls.__name__, cls.__bases__, ns)
        new.__qualname__ = cls.__qualname__
        _FIELDS[new] = tuple(fields)
        return new

    def dataclass(cls=None, /, *, frozen=False, slots=False, eq=True):
        """`@dataclass` with only `frozen`, `slots` and `eq` (see the module docstring)."""
        if cls is None:
            return lambda c: _build(c, frozen, slots, eq)
        return _build(cls, frozen, slots, eq)

    def replace(obj, /, **changes):
        """A copy of record `obj` with the named fields changed."""
        fields = _FIELDS[type(obj)]
        unknown = set(changes) - {f[0] for f in fields}
        if unknown:
            raise TypeError(f"{type(obj).__name__} has no field {sorted(unknown)[0]!r}")
        return type(obj)(**{f[0]: changes.get(f[0], getattr(obj, f[0])) for f in fields})

__all__ = ["FrozenInstanceError", "dataclass", "field", "replace"]
