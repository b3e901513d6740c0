"""Compiled units: building one from a chunk analysis, and calling it with VM values.

`Analysis` is what every tier needs to know about a chunk once (digest, verifier depths,
the micro-op CFG, the slots it may read first). `build_unit` runs kind inference, emits the
LLVM function and compiles it. A `Unit` owns its context and buffers (sized from the
unit's highest slot, made on its first call) and marshals values: copy in only the
live-in slots (word + kind byte), call `unit(ctx)`, and on OK copy back only the slots
the unit may have written, turning words back into Int, Float, Bool or Undef (a slot
whose kind byte says OTHER keeps its object), and return the final operand stack as
Python values. On DEOPT `enter()` copies back the state
the unit wrote before the op it stopped at, so the interpreter resumes exactly there.
"""

from __future__ import annotations

import _thread  # (threading's import costs start-up: its locks are these)
import ctypes
import time

from fusevm.chunk import Chunk
from fusevm.jit import cfg as cfg_mod
from fusevm.jit.abi import CTX_FIELD, JitCtx, SlotKind, TrapCode, helper_address
from fusevm.jit.config import TraceJitConfig
from fusevm.records import dataclass
from fusevm.values import Undef, UndefType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

    from fusevm.jit.typeflow import Typing

INT: Final = int(SlotKind.INT)
FLOAT: Final = int(SlotKind.FLOAT)
BOOL: Final = int(SlotKind.BOOL)
UNDEF: Final = int(SlotKind.UNDEF)
OTHER: Final = int(SlotKind.OTHER)
MIXED_BYTE: Final = int(SlotKind.MIXED)  # this and above: read the kind byte

#: Kind byte of a value by its exact type (bool is not int; everything else is OTHER).
KIND_OF: Final[dict[type, int]] = {int: INT, float: FLOAT, bool: BOOL, UndefType: UNDEF}

class _Kinds(dict[type, int]):
    """`KIND_OF`, and OTHER for any other type (kept once asked)."""

    def __missing__(self, t: type) -> int:
        self[t] = OTHER
        return OTHER


_KIND: Final = _Kinds(KIND_OF)

#: A CFUNCTYPE releases the GIL while native code runs, so a timer or signal watcher thread
#: can call `vm.interrupt()`, which writes the fuel word the unit polls (abi.py).
_UNIT_FN: Final = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)

#: Fuel with no budget and no interrupt: loop headers never run out.
FUEL_MAX: Final = 1 << 62

# Word index of each JitCtx field (every field is one 8-byte word), derived from the struct.
assert all(getattr(JitCtx, f[0]).offset == 8 * i for i, f in enumerate(JitCtx._fields_))
_CTX_WORDS: Final = ctypes.sizeof(JitCtx) // 8
(_SLOTS, _SLOT_KINDS, _RESULTS, _RESULT_KINDS, _HELPERS, _NSLOTS, _NRESULTS, _TRAP, _TRAP_IP,
 _FUEL, _EXIT_DEPTH) = (CTX_FIELD[f] for f in (
     "slots", "slot_kinds", "results", "result_kinds", "helpers", "nslots", "nresults",
     "trap", "trap_ip", "fuel", "exit_depth"))


class Analysis:
    """Per-chunk facts shared by the tiers, computed once per chunk object."""

    def __init__(self, chunk: Chunk, digest: str) -> None:
        from fusevm.jit.lower.rule import generation
        from fusevm.verify import verify
        self.generation = generation()
        # No reference to the chunk itself: the analysis must not keep it alive (the
        # runtime drops an analysis when its chunk is collected).
        self.ops = chunk.ops
        self.source = chunk.source
        self.slot_count = chunk.slot_count
        self.digest = digest
        self.n_ops = len(chunk.ops)
        verified = verify(chunk)
        self.depth = verified.depth
        #: Ops reached at different depths by two regions (`verify.Analysis.mixed`).
        self.mixed = frozenset(verified.mixed)
        #: Room for the operand stack a DEOPT may hand back (the deepest point + 1).
        self.max_depth = max((d for d in self.depth if d is not None), default=0) + 1
        self.cfg = cfg_mod.build(chunk)
        self.live_in: tuple[int, ...] = tuple(self.cfg.live_in)
        self.tracked: tuple[int, ...] = tuple(self.cfg.tracked)
        self.nslots = (max(self.cfg.tracked) + 1) if self.cfg.tracked else 0
        self.ext_ids = tuple(sorted({m.d.ext.id for m in self.cfg.micro if m.d.ext is not None}))
        self.end_depth = self._end_depth()
        self.static_refusal: dict[str, str | None] = {}
        #: Units of this chunk object by (tier, strict, kinds): the runtime's fast path.
        self.entries: dict[tuple[Any, ...], Any] = {}
        #: The policy's tier choice by forced tier name (None key: the default order).
        self.decisions: dict[str | None, Any] = {}

    def _end_depth(self) -> int | None:
        """Stack depth after the last op when it falls off the end (None if unknown)."""
        if not self.n_ops or self.depth[-1] is None:
            return None
        from fusevm.instr import decode
        d = decode(self.ops[-1])
        depth = self.depth[-1]
        return depth - d.spec.effect.pops(d.spec, d.operands) + \
            d.spec.effect.pushes(d.spec, d.operands)

    def kinds_of(self, slots: list[Any]) -> tuple[int, ...]:
        """Kind byte of each live-in slot's current value (the key of a unit)."""
        live = self.live_in
        if not live:
            return ()
        kind = _KIND
        if len(live) == 1:
            return (kind[type(slots[live[0]])],)
        return tuple([kind[type(slots[s])] for s in live])


@dataclass(slots=True)
class UnitInfo:
    """What a unit was compiled from (for logs, dumps and stats)."""

    tier: str
    source: str
    kinds: tuple[int, ...]
    strict: bool
    ops: int
    blocks: int
    ir_text: str
    helper_ids: tuple[int, ...]
    traps: frozenset[int]  # the TrapCode values the unit may deoptimise with
    compile_seconds: float
    pipeline: str
    codegen: int


#: Unit attributes made on a unit's first call (`Unit._prepare`), not when it is built.
_PREPARED: Final = frozenset({
    "_buf", "cw", "iw", "fw", "ir_", "fr", "kb", "kr", "default_fuel", "ctx_addr", "code",
    "single_result", "int_in", "float_in", "restore", "_owner"})
#: Serialises first calls of units, so that two threads never both build one's context.
_PREPARING: Final = _thread.allocate_lock()


class Unit:
    """A compiled unit and its context; `run(slots)` is the whole calling protocol.

    A unit is selected by the kinds of its live-in slots, so the kind bytes it checks at
    entry are written once, and copying in and out is planned per kind up front. Building
    a Unit only stores what it was made from: its context buffer, the function pointer to
    its code and the copy plans are made when it is first called or its context first
    read (`_prepare`, through `__getattr__`), once. A unit loaded from the disk cache that
    never runs costs a few attribute stores, and a compiled one the same.
    """

    __slots__ = ("info", "live_in", "tracked", "copy_out", "result_kinds", "nslots",
                 "max_depth", "native", "runs", "deopts", "reopt_at", "reopt_seconds",
                 "native_seconds", "cache_key", "ir_source", *sorted(_PREPARED))

    def __init__(self, native: Any, info: UnitInfo, live_in: tuple[int, ...],
                 copy_out: tuple[tuple[int, int], ...], result_kinds: tuple[int, ...],
                 nslots: int, tracked: tuple[int, ...] = (), max_depth: int = 1) -> None:
        """`copy_out`: (slot, kind byte) of every slot the unit may write; `result_kinds`:
        the kind byte of each result (plain ints: `build_unit` converts the typing's)."""
        self.info = info
        self.live_in = live_in
        self.tracked = tracked
        self.copy_out = copy_out
        self.result_kinds = result_kinds
        self.nslots = nslots
        self.max_depth = max_depth
        self.native = native
        self.runs = 0
        self.deopts = 0
        self.reopt_at = 0  # run count at which to re-optimise (0: never); set by the runtime
        self.reopt_seconds = 0.0  # ... or native time after which to re-optimise
        self.native_seconds = 0.0
        #: The disk-cache key of this unit (None: not cached); set by the runtime.
        self.cache_key: bytes | None = None
        #: What `info.ir_text` is rebuilt from for a unit loaded from disk without it
        #: (re-optimisation), with `info.kinds` and `info.strict`: its chunk's analysis.
        self.ir_source: Analysis | None = None

    def __getattr__(self, name: str) -> Any:
        # Only reached for an attribute not set yet: the context and plans of a unit that
        # has not been called.
        if name not in _PREPARED:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        with _PREPARING:
            try:
                return object.__getattribute__(self, name)  # another thread prepared it
            except AttributeError:
                self._prepare()
        return object.__getattribute__(self, name)

    def _prepare(self) -> None:
        """Build the context and the copy plans (once, under `_PREPARING`)."""
        info = self.info
        nslots = self.nslots
        result_kinds = self.result_kinds
        # One buffer holds the context, the default fuel word, the slot and result words,
        # the helper table and the kind bytes.
        n = nslots or 1
        nresults = len(result_kinds)
        m = max(nresults, self.max_depth, 1)
        helpers = info.helper_ids
        w0 = _CTX_WORDS + 1
        r0 = w0 + n
        h0 = r0 + m
        k0 = h0 + (len(helpers) or 1)
        # A bytearray, not a ctypes array: each new array length would create a ctypes
        # type. Its memory is 16-byte aligned and, exported to the views below, never
        # moves.
        buf = bytearray(8 * (k0 + (n + m + 7) // 8))
        base = ctypes.addressof(ctypes.c_char.from_buffer(buf))
        raw = memoryview(buf)
        # Two whole-buffer casts sliced per region: a slice is cheaper than a cast.
        words = raw.cast("q")
        doubles = raw.cast("d")
        cw = words[:w0]
        kb = raw[k0 * 8:k0 * 8 + n]
        for i, h in enumerate(helpers):
            words[h0 + i] = helper_address(h)
        cw[_SLOTS] = base + w0 * 8
        cw[_SLOT_KINDS] = base + k0 * 8
        cw[_RESULTS] = base + r0 * 8
        cw[_RESULT_KINDS] = base + k0 * 8 + n
        cw[_HELPERS] = base + h0 * 8
        cw[_NSLOTS] = nslots
        cw[_NRESULTS] = nresults
        cw[_CTX_WORDS] = FUEL_MAX  # the fuel word used when the caller passes none
        cw[_FUEL] = base + _CTX_WORDS * 8
        # Copy plans: live-in slots by how their word is written, written slots and
        # results by how their word is read back (None: read the kind byte).
        ints: list[int] = []
        floats: list[int] = []
        restore: list[tuple[int, int]] = []
        if self.live_in:
            written = dict(self.copy_out)  # slot -> kind; only membership is used
            for s, k in zip(self.live_in, info.kinds):
                kb[s] = k
                if k == INT or k == BOOL:
                    ints.append(s)
                elif k == FLOAT:
                    floats.append(s)
                if s in written:
                    restore.append((s, k))
        self._buf = buf
        self.cw = cw
        self.iw = words[w0:r0]
        self.fw = doubles[w0:r0]
        self.ir_ = words[r0:h0]
        self.fr = doubles[r0:h0]
        self.kb = kb
        self.kr = raw[k0 * 8 + n:k0 * 8 + n + m]
        self.ctx_addr = base
        self.default_fuel = base + _CTX_WORDS * 8
        self.single_result = result_kinds[0] if nresults == 1 else -1
        self.int_in = tuple(ints)
        self.float_in = tuple(floats)
        # The unit stores the kind byte of every slot it writes; those that are also
        # live-in get their entry kind back after each run, for the next entry guard.
        self.restore = tuple(restore)
        self._owner = _thread.allocate_lock()
        # Last: a thread reading `code` without the lock sees a prepared unit.
        self.code = (_UNIT_FN(self.native.address), self.native)

    def install(self, native: Any) -> None:
        """Switch to other machine code for the same IR (re-optimisation)."""
        with _PREPARING:
            self.native = native
            try:
                object.__getattribute__(self, "code")
            except AttributeError:  # never called: its first call makes the pointer
                pass
            else:
                self.code = (_UNIT_FN(native.address), native)
        self.info.pipeline = native.pipeline
        self.info.codegen = native.codegen

    def trap(self) -> tuple[TrapCode, int]:
        """Why and where the last DEOPT happened."""
        return TrapCode(self.cw[_TRAP]), self.cw[_TRAP_IP]

    def run(self, slots: list[Any], kinds: tuple[int, ...] | None = None) -> list[Any] | None:
        """Run with `slots`; the final stack, or None on DEOPT (`slots` unchanged).

        `kinds` (live-in order) overrides the kind bytes the unit was compiled for, which
        only a caller that did not select the unit by kind needs (the entry guard then
        deopts on a mismatch).
        """
        out = self._call(slots, kinds, self.default_fuel, False)
        return out[1] if out is not None and out[0] < 0 else None

    def enter(self, slots: list[Any], fuel: int) -> tuple[int, list[Any]] | None:
        """Run with `slots` and the fuel word at address `fuel`, resuming exactly.

        Returns (-1, final stack) when the unit ran to its end, (op index, stack) when it
        stopped before that op (a guard, or no fuel left) with `slots` holding the state
        there, or None when it did not start (entry kinds, or the unit is busy).
        """
        return self._call(slots, None, fuel, True)

    def _call(self, slots: list[Any], kinds: tuple[int, ...] | None, fuel: int,
              exact: bool) -> tuple[int, list[Any]] | None:
        # One caller at a time owns the context; another thread (or a helper re-entering
        # the unit) is told to interpret instead of waiting.
        if not self._owner.acquire(False):
            return None
        try:
            iw = self.iw
            if kinds is not None:
                for s, k in zip(self.live_in, kinds):
                    self.kb[s] = k
            for s in self.int_in:
                iw[s] = slots[s]
            if self.float_in:
                fw = self.fw
                for s in self.float_in:
                    fw[s] = slots[s]
            cw = self.cw
            cw[_FUEL] = fuel
            code = self.code  # keeps this code's region alive even if it is replaced
            status = code[0](self.ctx_addr)
            if not status:
                out: tuple[int, list[Any]] | None = (-1, self._copy_out(slots))
            else:
                self.deopts += 1
                depth = cw[_EXIT_DEPTH]
                out = None
                if exact and depth >= 0:
                    out = (cw[_TRAP_IP], self._copy_state(slots, depth))
                for s, k in zip(self.live_in, self.info.kinds):
                    self.kb[s] = k
            if kinds is not None:
                for s, k in zip(self.live_in, self.info.kinds):
                    self.kb[s] = k
            return out
        finally:
            self._owner.release()

    def _copy_state(self, slots: list[Any], depth: int) -> list[Any]:
        """After a DEOPT that wrote its state: every tracked slot, and the stack."""
        iw, fw, kb = self.iw, self.fw, self.kb
        for s in self.tracked:
            k = kb[s]
            if k != OTHER:  # an object native code never held stays in its slot
                slots[s] = _decode(k, iw, fw, s)
        return [_decode(self.kr[i], self.ir_, self.fr, i) for i in range(depth)]

    def _copy_out(self, slots: list[Any]) -> list[Any]:
        """After OK: the written slots into `slots`, the final stack as values."""
        self.runs += 1
        iw, fw, kb = self.iw, self.fw, self.kb
        for s, k in self.copy_out:
            if k >= MIXED_BYTE:
                k = kb[s]
            if k != OTHER:
                slots[s] = _decode(k, iw, fw, s)
        for s, k in self.restore:
            kb[s] = k
        k = self.single_result
        if k == INT:
            return [self.ir_[0]]
        if k == FLOAT:
            return [self.fr[0]]
        return [_decode(self.kr[i] if k >= MIXED_BYTE else k, self.ir_, self.fr, i)
                for i, k in enumerate(self.result_kinds)]


def _decode(k: int, ints: memoryview[int], floats: memoryview[float], i: int) -> Any:
    """The VM value of word `i` with kind byte `k` (Undef for Undef and other)."""
    if k == INT:
        return ints[i]
    if k == FLOAT:
        return floats[i]
    if k == BOOL:
        return ints[i] != 0
    return Undef


def infer_for(an: Analysis, kinds: tuple[int, ...], strict: bool) -> Typing:
    """Kind inference for entry kinds given in live-in order; raises Refuse."""
    # (Kind inference loads with the first compile: a process running cached units
    # never needs it.)
    from fusevm.jit.typeflow import infer
    entry = {s: SlotKind(k) for s, k in zip(an.live_in, kinds)}
    return infer(an.cfg, entry, strict)


def emit_text(an: Analysis, typing: Typing, strict: bool) -> tuple[str, tuple[int, ...]]:
    """LLVM IR text of the unit and its helper ids."""
    from fusevm.jit.codegen import module_text
    from fusevm.jit.lower.emit import emit_unit
    emitted = emit_unit(an.cfg, typing, strict)
    return module_text(emitted.text, f"fusevm.{an.digest[:16]}"), emitted.helper_ids


def build_unit(an: Analysis, tier: str, kinds: tuple[int, ...], strict: bool,
               config: TraceJitConfig, check: Callable[[Typing], None] | None = None) -> Unit:
    """Infer, `check`, emit and compile; raises Refuse or RuntimeError (LLVM)."""
    from fusevm.jit.codegen import compile_text
    t0 = time.perf_counter()
    typing = infer_for(an, kinds, strict)
    if check is not None:
        check(typing)
    text, helper_ids = emit_text(an, typing, strict)
    native = compile_text(text, config.first_pipeline, config.first_codegen)
    info = UnitInfo(tier, an.source, kinds, strict, an.n_ops, len(typing.order), text,
                    helper_ids, frozenset(typing.traps), time.perf_counter() - t0,
                    native.pipeline, native.codegen)
    return Unit(native, info, an.live_in, tuple([(s, int(k)) for s, k in typing.writes()]),
                tuple([int(k) for k in typing.results()]), an.nslots, an.tracked,
                an.max_depth)
