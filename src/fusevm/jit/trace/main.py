"""A chunk's root code run natively, whole, when it is pure Int code calling native functions.

A program such as `fib(20)` is a few root ops calling a function `calls.py` made native.
Once every function the root code calls is native (compiled or loaded in this process),
a run that starts at op 0 in the root frame runs the root code and its calls as one
native unit (`funcir.emit_main`), before the interpreter prepares a step per op: a fresh
VM then costs its construction and one native call. When the disk cache holds the root
code's unit (an earlier process made it), the first run loads it and its functions at
once.

The root code is pure (`funcir`): it reads no slot it did not set, so its result does not
depend on the VM's state, and it changes nothing the interpreter can see until it has
finished. So any failure natively (the fuel word says stop, a call deeper than native
code goes, a VM whose frame limit is below one call) leaves the run to the interpreter
from op 0, which does exactly what it would have done; on success the run ends with the
root code's final stack pushed and the root slots it set written, as the interpreter
leaves them.

The unit is compiled like a function's (`calls.py`): quickly first with background
re-optimisation, and kept in the disk cache under the chunk's digest.
"""

from __future__ import annotations

import ctypes
import sys

from fusevm.chunk import Chunk
from fusevm.jit import runtime
from fusevm.jit.config import get_config
from fusevm.jit.trace import calls
from fusevm.jit.trace.funcir import (
    BUDGET,
    DEEP,
    FUEL_WORD,
    STATUS,
    MainShape,
    NotPure,
    emit_main,
    main_body,
)
from fusevm.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.interp.vm import VM

#: The root code's "function entry" in the disk cache key (no function starts at op -1).
_MAIN_ENTRY: Final = -1

#: compiled: root codes made native (compiled or loaded), runs: runs they ended natively,
#: fallbacks: runs handed to the interpreter from op 0, refused: root codes that are not
#: pure, reopts: quick code replaced by re-optimised code.
COUNTS: dict[str, int] = {"compiled": 0, "runs": 0, "fallbacks": 0, "refused": 0,
                          "reopts": 0}


@dataclass(eq=False, slots=True)
class NativeMain:
    shape: MainShape
    native: Any
    fn: Any  # replaced once by the re-optimised code
    deepest: list[int]  # per callee: native calls deep at most (its code's frames)
    retired: list[Any] = field(default_factory=list)  # kept mapped: a run may use it
    deep_at: int = -1  # runs with room for this many calls or less went too deep


#: Per chunk digest: its native root code, None when it has none, or the name indexes it
#: calls while some of them are not native yet (asked again at the next run).
_mains: dict[str, NativeMain | None | frozenset[int]] = {}


def forget() -> None:
    _mains.clear()


def _native_functions(chunk: Chunk, names: frozenset[int]) -> dict[int, int] | None:
    """Entry -> argument count of the functions the root code calls, or None while one
    of them is not native."""
    digest = chunk.digest()
    found = {}
    for name in names:
        entry = chunk.find_sub(name)
        nf = calls.compiled_function(digest, entry) if entry is not None else None
        if nf is None:
            return None
        found[nf.entry] = nf.argc
    return found


def _bounds(text: str | None, shape: MainShape) -> list[int]:
    """Each callee's native call depth bound in this code (`text`: quick code's IR)."""
    return [calls.deepest_calls(words, text, f"@f{e}")
            for e, words in zip(shape.callees, shape.words)]


def _build(chunk: Chunk, argc_of: dict[int, int],
           cached: calls.Cached | None) -> NativeMain | None:
    """The native root code: `cached` (from the disk cache) or compiled. Code from the
    disk cache comes with its shape, so no IR is emitted unless it is to be
    re-optimised."""
    if cached is None:
        cached = calls.cached_code(chunk, _MAIN_ENTRY)
    if cached is not None:
        shape = MainShape.from_json(cached[3].get("shape"))
        if shape is None or not set(shape.callees) <= set(argc_of):
            cached = None

    def emit() -> tuple[str, int, int, dict[str, object]]:
        text, shape = emit_main(chunk, argc_of)
        return text, 0, shape.size(), {"shape": shape.as_json()}

    def made(native: Any, quick: str | None, _argc: int, _words: int,
             meta: dict[str, object]) -> NativeMain:
        shape = MainShape.from_json(meta.get("shape"))
        assert shape is not None
        runtime.log(f"{chunk.source}: root code runs whole natively, with the native "
                    f"functions at ops {list(shape.callees)}")
        return NativeMain(shape, native, calls.UNIT_FN(native.address), _bounds(quick, shape))

    def rebound(nm: NativeMain, _words: int) -> None:
        nm.deepest = _bounds(None, nm.shape)

    return calls.make_native(chunk, _MAIN_ENTRY, cached, emit, made, rebound, COUNTS,
                             "no native whole run")


def native_main(chunk: Chunk) -> NativeMain | None:
    """The chunk's native root code, made once every function it calls is native."""
    digest = chunk.digest()
    known = _mains.get(digest, frozenset())
    if known is None or isinstance(known, NativeMain):
        return known
    cached = None
    if not known:
        try:
            _, names = main_body(chunk)
        except NotPure as e:
            COUNTS["refused"] += 1
            runtime.log(f"{chunk.source}: root code: no native whole run ({e})")
            _mains[digest] = None
            return None
        known = _mains[digest] = frozenset(names)
        # An earlier process made this root code native: its functions were native too,
        # and both are on disk, so this first run need not wait for them to get hot.
        cached = calls.cached_code(chunk, _MAIN_ENTRY)
        if cached is not None:
            for name in known:
                entry = chunk.find_sub(name)
                if entry is not None:
                    calls.native_function(chunk, entry)
    argc_of = _native_functions(chunk, known)
    if argc_of is None:
        return None
    found = _mains[digest] = _build(chunk, argc_of, cached)
    while len(_mains) > get_config().max_units:  # the oldest first
        del _mains[next(iter(_mains))]
    return found


def try_run(vm: VM, fuel: int) -> bool:
    """Run the VM's chunk from op 0 natively (see the module doc); True when the run is
    over, False to interpret it from op 0 (nothing changed)."""
    if vm.strict_int or vm.ip != 0 or len(vm.frames) != 1:
        return False
    nm = native_main(vm.chunk)
    if nm is None:
        return False
    from fusevm.interp.vm import frame_cap
    # A call from the root frame: the interpreter checks its limits once the frames pass
    # frame_cap, so native calls stay at or below it (the callee's frame is the second).
    allowed = frame_cap(vm) - 1
    if allowed < 0:
        return False
    if allowed <= nm.deep_at:
        return False
    shape = nm.shape
    ctx = (ctypes.c_int64 * shape.size())()
    ctx[FUEL_WORD] = fuel
    for i, deepest in enumerate(nm.deepest):
        ctx[BUDGET + i] = allowed if allowed < deepest else deepest
    if nm.fn(ctypes.addressof(ctx)) != 0:
        COUNTS["fallbacks"] += 1
        if ctx[STATUS] == DEEP:
            # The root code is pure: every run with no more room would give up the same
            # way (any run, when native code's own stack bound was the limit).
            nm.deep_at = sys.maxsize if allowed >= max(nm.deepest) else allowed
            runtime.log(f"{vm.chunk.source}: root code: calls deeper than native code "
                        f"goes, interpreted (with room for {allowed} calls or less)")
        return False
    COUNTS["runs"] += 1
    out = shape.outputs()
    halted = ctx[out] != 0
    out += 1
    vm.stack.extend(ctx[out:out + shape.end_depth])
    out += shape.end_depth
    slots = vm.slots
    for i, s in enumerate(shape.slots):
        slots[s] = ctx[out + i]
    vm.ip = len(vm.chunk.ops)
    if halted:
        vm.halted = True
    return True


def describe(chunk: Chunk) -> list[str]:
    """A line when this process made the chunk's root code native or refused it."""
    found = _mains.get(chunk.digest())
    if isinstance(found, NativeMain):
        return [f"; root code: runs whole natively, calling the native functions at ops "
                f"{list(found.shape.callees)}"]
    if found is None and chunk.digest() in _mains:
        return ["; root code: interpreted (not pure Int code calling native functions)"]
    return []
