"""JIT lowerings for a frontend's extension ops (docs/frontends.md, JIT lowerings).

Two ways to make an `Extended` op compile, both feeding the one lowering registry:

* `@lower_extension(ext_set, "AwkAnd")` registers a rule `rule(cx, decoded)` written against
  the same `Cx` as the core rules (`decoded.operands` are the op's unpacked operands);
* `register_global_extension(obj)` registers an object with the `JitExtension` protocol
  (`name()`, `op_count()`, `can_jit(ext_id)`, `emit_extended(ext_id, arg, cx) -> bool`);
  the first registered extension answering `can_jit` handles the id, and returning False
  from `emit_extended` refuses the unit.

A rule runs twice per compile: once while typing (`cx.b is None`, values carry kinds only)
and once while emitting IR. Only ops without BRANCH/TERMINATOR flags can be lowered; the
frontend keeps its interpreter handler, which must mean the same thing. Host helpers are
registered with `register_jit_helper` (fusevm.jit.abi) and called with `cx.call_helper`.
"""

from __future__ import annotations

import _thread

from fusevm.instr import Decoded
from fusevm.jit.lower.cx import Cx
from fusevm.jit.lower.rule import Rule, bump_generation, wrap_extension
from fusevm.ops.extension import ExtensionSet, pack

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

    from fusevm.jit.lower.rule import RuleFn


#: What a JitExtension implements (a class need not derive from it: any object with these
#: methods is one, as for a runtime-checkable Protocol).
_METHODS: Final = ("name", "op_count", "can_jit", "emit_extended")

if TYPE_CHECKING:
    from typing import Protocol, runtime_checkable

    @runtime_checkable
    class JitExtension(Protocol):
        """What a frontend implements to lower its extension ops natively."""

        def name(self) -> str: ...

        def op_count(self) -> int: ...

        def can_jit(self, ext_id: int) -> bool: ...

        def emit_extended(self, ext_id: int, arg: int, cx: Cx) -> bool: ...
else:
    class _Structural(type):
        """`isinstance` by the methods an object has (`typing`, whose Protocol does this,
        costs the JIT's load a few milliseconds of imports)."""

        def __instancecheck__(cls, obj):
            return all(callable(getattr(obj, m, None)) for m in _METHODS)

    class JitExtension(metaclass=_Structural):
        """What a frontend implements to lower its extension ops natively."""

        def name(self) -> str: ...

        def op_count(self) -> int: ...

        def can_jit(self, ext_id: int) -> bool: ...

        def emit_extended(self, ext_id: int, arg: int, cx: Cx) -> bool: ...


_lock = _thread.allocate_lock()
_extensions: list[JitExtension] = []


def register_global_extension(ext: JitExtension) -> None:
    """Register process-wide; registering another object with the same name() replaces it."""
    if not all(callable(getattr(ext, m, None)) for m in _METHODS):
        raise TypeError(f"{type(ext).__name__} does not implement the JitExtension protocol")
    with _lock:
        _extensions[:] = [e for e in _extensions if e.name() != ext.name()] + [ext]
        bump_generation()


def unregister_global_extension(name: str) -> None:
    """Remove a registered extension by name (tests)."""
    with _lock:
        _extensions[:] = [e for e in _extensions if e.name() != name]
        bump_generation()


def claims(ext_id: int) -> bool:
    """Whether a registered JitExtension says it can lower extension op `ext_id`."""
    return _claimant(ext_id) is not None


def _claimant(ext_id: int) -> JitExtension | None:
    """The first registered JitExtension that says it can lower `ext_id`."""
    with _lock:
        candidates = list(_extensions)
    return next((e for e in candidates if e.can_jit(ext_id)), None)


def registered() -> tuple[JitExtension, ...]:
    """The registered JitExtension objects, in lookup order."""
    with _lock:
        return tuple(_extensions)


def lower_extension(ext_set: ExtensionSet, name: str) -> Callable[[RuleFn], RuleFn]:
    """Decorator: register `rule(cx, decoded)` as the lowering of `ext_set[name]`."""
    op = ext_set[name]

    def register(fn: RuleFn) -> RuleFn:
        ext_set.lowerings[op.id] = fn
        bump_generation()
        return fn

    return register


def _protocol_rule(ext: JitExtension) -> RuleFn:
    def rule(cx: Cx, d: Decoded) -> None:
        assert d.ext is not None
        arg = pack(d.ext, d.operands)[2]
        if not ext.emit_extended(d.ext.id, arg, cx):
            cx.refuse(f"extension {ext.name()!r} declined to lower {d.name}")
    return rule


#: `ExtensionSet.lowerings_from` modules imported so far.
_imported: set[str] = set()


def extension_rule(d: Decoded) -> Rule | None:
    """The lowering of an extension instruction, or None when nobody provides one."""
    ext = d.ext
    if ext is None:
        return None
    owner = ext.owner
    if owner.lowerings_from is not None and owner.lowerings_from not in _imported:
        _imported.add(owner.lowerings_from)
        __import__(owner.lowerings_from)  # registers through lower_extension
    fn = owner.lowerings.get(ext.id)
    if fn is not None:
        return wrap_extension(fn, f"ExtensionSet {ext.owner.name!r}")
    e = _claimant(ext.id)
    return None if e is None else wrap_extension(_protocol_rule(e), f"JitExtension {e.name()!r}")
