"""Enumerations for the start-up path: `enum` as the type checker sees it, built cheaply.

`import enum` loads `functools`, `collections`, `operator` and `types`, and creating the
`Op` enum (one member per op) through enum's Python-level machinery costs more than the
rest of the op table: together about half of starting Python itself, paid by every
`fusevm` command. Modules on that path import `Enum`, `IntEnum` and `Flag` from here
instead. The type checker sees the real `enum` classes (so members, values and methods are
checked as usual); at run time these classes make the same members from the class body (or
from `Base("Name", [(name, value), ...])`) and behave as the standard ones do for what
the package asks of them:

- `Cls.NAME`, `Cls(value)`, `Cls[name]`, `iter(Cls)` in declaration order, `len(Cls)`,
  `Cls.__members__`, `member.name` and `member.value`, `repr`, `str` and `format` as in
  Python 3.11, `copy` and `pickle` giving the member itself;
- `IntEnum` members are `int`s (equal to and hashing like their values);
- `Flag` members combine with `|`, `&`, `^` and `~` into canonical members (one object per
  value, named `A|B`), test with `in` and `bool`, and iterate the single-bit members.

Aliases (two names for one value), `auto()` and the `enum` decorators are not supported:
declaring an alias (or, in the functional form, a name twice) raises ValueError, so a
class needing more uses `enum` itself.
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from enum import Enum, Flag, IntEnum
else:

    def _is_member(name, value):
        return not name.startswith("_") and not hasattr(type(value), "__get__")

    class _EnumType(type):
        """Turns the public plain attributes of a class body into members."""

        def __new__(mcls, cls_name, bases, namespace):
            members = namespace.pop("_members_", None)  # (given by the functional form)
            if members is None:
                members = [(k, v) for k, v in namespace.items() if _is_member(k, v)]
                for k, _ in members:
                    del namespace[k]
            cls = super().__new__(mcls, cls_name, bases, namespace)
            by_name = {}
            by_value = {}
            type.__setattr__(cls, "_member_map_", by_name)
            type.__setattr__(cls, "_value2member_map_", by_value)
            new = cls._new_member_
            for name, value in members:  # (names bound once: `Op` has 160 members)
                if value in by_value:
                    raise ValueError(f"{cls_name}: {name} and {by_value[value]._name_} "
                                     f"share {value!r}")
                if name in by_name:  # (only the functional form can repeat a name)
                    raise ValueError(f"{cls_name}: {name} is declared twice")
                member = new(value)
                member._name_ = member.name = name
                member._value_ = member.value = value
                by_name[name] = by_value[value] = member
            # The class attributes last: setting one invalidates the type's attribute
            # cache, which each member's attribute assignments above would then refill
            # (a third of the time `Op` takes to make).
            for name, member in by_name.items():
                type.__setattr__(cls, name, member)
            return cls

        def __call__(cls, value, names=None):
            if names is not None:  # the functional form: Base("Name", [(name, value), ...])
                namespace = {"__module__": cls.__module__, "__qualname__": value,
                             "_members_": list(names)}
                return type(cls)(value, (cls,), namespace)
            member = cls._value2member_map_.get(value)
            if member is None:
                member = cls._missing_(value)
            return member

        def _missing_(cls, value):
            raise ValueError(f"{value!r} is not a valid {cls.__qualname__}")

        def __getitem__(cls, name):
            return cls._member_map_[name]

        def __iter__(cls):
            return iter(cls._member_map_.values())

        def __len__(cls):
            return len(cls._member_map_)

        def __contains__(cls, value):
            if isinstance(value, cls):
                return True
            return value in cls._value2member_map_

        @property
        def __members__(cls):
            return dict(cls._member_map_)

        def __bool__(cls):
            return True

        def __repr__(cls):
            return f"<enum {cls.__name__!r}>"

        def __setattr__(cls, name, value):
            if name in cls.__dict__.get("_member_map_", ()):
                raise AttributeError(f"cannot reassign member {name!r}")
            type.__setattr__(cls, name, value)

    class Enum(metaclass=_EnumType):
        """A member is its class's only instance with its value."""

        @classmethod
        def _new_member_(cls, value):
            return object.__new__(cls)

        def __repr__(self):
            return f"<{type(self).__name__}.{self._name_}: {self._value_!r}>"

        def __str__(self):
            return f"{type(self).__name__}.{self._name_}"

        def __format__(self, spec):
            return format(str(self), spec)

        def __reduce_ex__(self, protocol):
            return type(self), (self._value_,)

        def __copy__(self):
            return self

        def __deepcopy__(self, memo):
            return self

        __hash__ = object.__hash__

    class IntEnum(int, Enum):
        """Members are `int`s: equal to, ordered and hashed as their values."""

        @classmethod
        def _new_member_(cls, value):
            return int.__new__(cls, value)

        def __repr__(self):
            return f"<{type(self).__name__}.{self._name_}: {int(self)}>"

        __str__ = int.__repr__

        def __format__(self, spec):
            # As Python 3.11's IntEnum: an empty spec gives str() (a subclass's own
            # __str__ included), any other formats the number.
            return str(self) if not spec else int.__format__(self, spec)

        __hash__ = int.__hash__
        __eq__ = int.__eq__

    class _FlagType(_EnumType):
        def __iter__(cls):
            # The single-bit members, in declaration order, as Python 3.11 iterates a Flag.
            return (m for m in cls._member_map_.values() if m._value_.bit_count() == 1)

    class Flag(Enum, metaclass=_FlagType):
        """Bit flags; any combination of declared bits is a member of its own."""

        @classmethod
        def _missing_(cls, value):
            known = 0
            names = []  # (of the single-bit members in `value`, in declaration order)
            for member in cls._member_map_.values():
                bits = member._value_
                known |= bits
                if bits & value and bits.bit_count() == 1:
                    names.append(member._name_)
            if not isinstance(value, int) or value < 0 or value & ~known:
                raise ValueError(f"{value!r} is not a valid {cls.__qualname__}")
            member = cls._new_member_(value)
            member._name_ = member.name = "|".join(names) if names else None
            member._value_ = member.value = value
            return cls._value2member_map_.setdefault(value, member)

        def __iter__(self):
            return (m for m in type(self) if m._value_ & self._value_)

        def __len__(self):
            return self._value_.bit_count()

        def __contains__(self, other):
            if not isinstance(other, type(self)):
                raise TypeError(f"unsupported operand type(s) for 'in': "
                                f"{type(other).__qualname__!r} and {type(self).__qualname__!r}")
            return other._value_ & self._value_ == other._value_

        def __bool__(self):
            return bool(self._value_)

        def _combined(self, other, value):
            if type(other) is not type(self):
                return NotImplemented
            member = self._value2member_map_.get(value)
            return member if member is not None else type(self)._missing_(value)

        def __or__(self, other):
            return self._combined(other, self._value_ | getattr(other, "_value_", 0))

        def __and__(self, other):
            return self._combined(other, self._value_ & getattr(other, "_value_", 0))

        def __xor__(self, other):
            return self._combined(other, self._value_ ^ getattr(other, "_value_", 0))

        __ror__ = __or__
        __rand__ = __and__
        __rxor__ = __xor__

        def __invert__(self):
            every = 0
            for member in type(self)._member_map_.values():
                every |= member._value_
            return type(self)(every & ~self._value_)

__all__ = ["Enum", "Flag", "IntEnum"]
