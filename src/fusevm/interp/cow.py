"""Copy on write for Array and Hash values (D8): the exclusive-ownership check of every write.

The rule: a container (an exact `list` or `dict`) may be shared freely between storage
locations (globals, slots, stack entries, constant-pool entries, elements of other
containers) because nothing mutates it in place until it has been made exclusive to the
one location being written. Reads (`GetSlot`, `GetVar`, `Dup`, `LoadConst`, element
reads) therefore push the very object, O(1) whatever its size, and the first write through
a location whose container is also held anywhere else replaces it there with a shallow copy
once; later writes find it exclusive and mutate it in place.

How "held anywhere else" is decided: CPython's reference count. Every holder of a
container, VM-visible or not (another slot, a stack entry, the constant pool, an enclosing
container, a Python caller's variable, a builtin that kept it), owns one reference, so a
count above what the checking helper itself accounts for means some other holder exists.
That makes the test exact in the direction that matters: it never misses a holder, so no
aliasing can become observable; a holder that is invisible to the program (a traceback, a
debugger) costs at most one unneeded copy. The count a helper sees for an exclusive
container differs between CPython versions (3.14 borrows references that 3.11 takes), so
each helper's threshold is calibrated once at import by running that very helper on a
probe, and checked against a probe with one extra holder (an op body that writes the test
inline, `refcount(store[index]) > INLINE_LIMIT` then `unshare`, gets the limit of a probe
function of the same shape). Where calibration fails (an
interpreter without meaningful reference counts), the threshold is -1 and every write
copies: still never aliased, only slower. A tracer that snapshots frame locals (a
debugger) adds holders too: writes then copy more often, never less.

Why this and not the alternatives: copy on read, which this replaces, made `GetSlot` of a
200k-element array cost about 0.6 ms against 0.8 us for a 10-element one (ratio 763;
benchmarks/bench_cow.py now measures 1.00). A wrapper class carrying an explicit share
count (not built) would add an attribute update to every read and every drop of a
container, change the representation every module relies on (Array is `list`), and still
not see holders outside the VM, such as a Python caller keeping a value run() returned.

Exact types only: a `dict` or `list` subclass (awk's `AwkArray`) is a by-reference value of
its frontend and is never copied here.

Callers must hold no reference of their own to the container when they call a helper
(pass the location, not the value): a reference in the caller counts as another holder.
"""

from __future__ import annotations

import sys

from fusevm.errors import TypeMismatch
from fusevm.values import kind_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping, MutableSequence
    from typing import Any, Final
else:
    Any = object  # run-time stand-in: only the type checker reads it

__all__ = ["COW_EXACT", "INLINE_LIMIT", "own_result", "unshare", "writable", "writable_array",
           "writable_hash"]

_getrefcount: Final[Callable[[Any], int]] = getattr(sys, "getrefcount", lambda v: 1 << 30)

# Thresholds: the largest count a helper sees for a container held only by the location it
# was given. Set by _calibrate() below; 0 until then (every container looks shared).
_ANY_LIMIT = 0
_ARRAY_LIMIT = 0
_HASH_LIMIT = 0
#: The same for the test written inline, in an op's body (`bodies`: HashSet), where a
#: helper's call would cost more than the test: `getrefcount(store[index]) > INLINE_LIMIT`
#: means another holder exists, and `unshare` then copies.
INLINE_LIMIT = 0

if TYPE_CHECKING:
    Store = MutableSequence[Any] | MutableMapping[Any, Any]


def writable(store: Store, key: Any) -> Any:
    """`store[key]`, made exclusive to that location first if it is a shared Array or Hash.

    For extension handlers and builtins that mutate a core container in place: call it
    with the location (a `vm.globals` or `vm.slots` list and an index, or a container and
    a key) and mutate what it returns. Non-container values are returned as they are.
    """
    v = store[key]
    t = type(v)
    if (t is list or t is dict) and _getrefcount(v) > _ANY_LIMIT:
        v = v.copy()
        store[key] = v
    return v


def unshare(store: list[Any], index: int) -> None:
    """Replace the container at `store[index]` by a shallow copy of it (the inline test
    found it shared: `INLINE_LIMIT`)."""
    store[index] = store[index].copy()


def writable_array(store: list[Any], index: int, where: str) -> list[Any]:
    """The Array at `store[index]`, exclusive to it; TypeMismatch naming `where` otherwise."""
    v = store[index]
    if type(v) is not list:
        raise TypeMismatch(f"{where} holds {kind_name(v)}, not an Array")
    if _getrefcount(v) > _ARRAY_LIMIT:
        v = v.copy()
        store[index] = v
    return v


def writable_hash(store: list[Any], index: int, where: str) -> dict[str, Any]:
    """The Hash at `store[index]`, exclusive to it; TypeMismatch naming `where` otherwise."""
    v = store[index]
    if type(v) is not dict:
        raise TypeMismatch(f"{where} holds {kind_name(v)}, not a Hash")
    if _getrefcount(v) > _HASH_LIMIT:
        v = v.copy()
        store[index] = v
    return v


def own_result(store: list[Any], index: int) -> Any:
    """Make `store[index]` and every container nested in it exclusive; return it.

    For values leaving the VM to Python code that may mutate them (what `run()` returns):
    afterwards nothing the VM holds is reachable from the value. Exclusive parts are not
    copied, so handing out a freshly built result costs one walk and no copies.
    """
    top = writable(store, index)
    t = type(top)
    if t is not list and t is not dict:
        return top
    pending: list[Any] = [top]
    seen: set[int] = set()
    while pending:
        c = pending.pop()
        if id(c) in seen:  # a cycle built by Python code outside the VM
            continue
        seen.add(id(c))
        keys: Any = range(len(c)) if type(c) is list else list(c)
        for k in keys:
            e = c[k]
            te = type(e)
            if te is list or te is dict:
                del e  # our own reference would make every element look shared
                pending.append(writable(c, k))
    return top


# -- calibration ------------------------------------------------------------------------

def _exclusive_limit(check: Callable[[Any], object], make: Callable[[], Any]) -> int:
    """The threshold at which `check(probe)` leaves an exclusive container in place and
    still copies it once one more holder exists; -1 when there is none."""
    global _ANY_LIMIT, _ARRAY_LIMIT, _HASH_LIMIT, INLINE_LIMIT
    for limit in range(1, 16):
        _ANY_LIMIT = _ARRAY_LIMIT = _HASH_LIMIT = INLINE_LIMIT = limit
        probe = [make()]
        before = id(probe[0])  # the id, not the object: holding it would be a holder
        check(probe)
        if id(probe[0]) != before:
            continue
        extra = probe[0]
        check(probe)
        if probe[0] is extra:  # a second holder went unnoticed: the count is useless
            return -1
        return limit
    return -1


def _inline_check(p: list[Any]) -> None:
    # (the shape of a body's test: the count of a location's container read for the call)
    if _getrefcount(p[0]) > INLINE_LIMIT:
        unshare(p, 0)


def _calibrate() -> tuple[int, int, int, int]:
    any_limit = min(_exclusive_limit(lambda p: writable(p, 0), list),
                    _exclusive_limit(lambda p: writable(p, 0), dict))
    array_limit = _exclusive_limit(lambda p: writable_array(p, 0, "probe"), list)
    hash_limit = _exclusive_limit(lambda p: writable_hash(p, 0, "probe"), dict)
    inline_limit = _exclusive_limit(_inline_check, dict)
    return any_limit, array_limit, hash_limit, inline_limit


_ANY_LIMIT, _ARRAY_LIMIT, _HASH_LIMIT, INLINE_LIMIT = _calibrate()

#: True when refcounts are meaningful here, so an exclusive container is
#: mutated in place; False means every write copies (correct, slower).
COW_EXACT: Final = min(_ANY_LIMIT, _ARRAY_LIMIT, _HASH_LIMIT, INLINE_LIMIT) > 0
if not COW_EXACT:
    _ANY_LIMIT = _ARRAY_LIMIT = _HASH_LIMIT = INLINE_LIMIT = -1
