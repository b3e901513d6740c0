"""Native self-recursive functions: typed native calls for recursion deeper than a trace.

A trace inlines at most `max_inline_recursion` calls of one function; fib and ackermann
recurse far deeper. This tier compiles such a function whole into a native function that
calls itself natively, when the function is *pure over Ints*: its arguments and every
value it computes are Ints, and its ops are slot access, Int constants and arithmetic,
comparisons feeding a branch, stack shuffles, calls to itself and `ReturnValue`. It
touches no global, does no I/O and cannot fail except by passing the frame limit.

That purity is what makes its exit exact: when anything goes wrong natively (an argument
that is not an Int, the frame limit, an interrupt polled at every call) nothing has been
changed, so the interpreter simply runs the call itself from the function's first op
(and raises, or stops, exactly where it would have). On success the step does what the
`ReturnValue` of the outermost call would: pop its frame and push the result.

Arithmetic wraps like the interpreter's Int ops (two's complement, D4); a VM in
strict_int mode, or under a step budget, interprets.

Native calls return their result in a register and report a failure through a status word,
which only a call whose result feeds more than a return has to test: tail calls and
accumulations (fib's `fib(n - 1) + fib(n - 2)`) stay plain, so LLVM turns them into loops,
and fib(20) runs at the speed of C. Native recursion is bounded by `NATIVE_STACK_BYTES`
as well as by the frame limit: a deeper recursion is the interpreter's, window by window.

Compiling: with background re-optimisation on, a function first compiles quickly
(QUICK_PIPELINE) and its calls switch to the `reopt_pipeline` code once the re-optimiser's
thread has it. The disk cache keeps the newest code of each, keyed by the chunk's digest
and the entry, so a warm process loads it without emitting the IR (and re-optimises quick
code a short run left behind).
"""

from __future__ import annotations

import atexit
import ctypes

from fusevm.chunk import Chunk
from fusevm.jit import runtime
from fusevm.jit.config import TraceJitConfig, get_config, using
from fusevm.jit.trace.funcir import (
    ARGS,
    BUDGET,
    DEEP,
    FUEL_WORD,
    RESULT,
    STATUS,
    NotPure,
    emit_ir,
)
from fusevm.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final, Protocol, TypeVar

    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM

    #: Machine code from the disk cache: the code, argument count, words of locals and the
    #: rest of its metadata.
    Cached = tuple[Any, int, int, dict[str, object]]

    class Swappable(Protocol):
        """Native code calls run (`fn`), replaced once by its re-optimised version; the code
        replaced stays mapped (`retired`): a call may be running it."""

        native: Any
        fn: Any
        retired: list[Any]

    T = TypeVar("T", bound=Swappable)

    #: The code at an entry as a fresh compile needs it: IR text, argument count, words of
    #: locals and metadata for the disk cache; raises NotPure.
    Emitter = Callable[[], tuple[str, int, int, dict[str, object]]]
    #: What the caller makes of machine code: (native, its IR when it is quick code to be
    #: re-optimised, argument count, words of locals, metadata) -> the object calls use.
    Maker = Callable[[Any, str | None, int, int, dict[str, object]], T]

#: Native stack a call may use (its budget is cut to fit): deeper recursion is the
#: interpreter's, whose frames live on the heap, so a large max_depth cannot overflow the
#: thread's stack.
NATIVE_STACK_BYTES: Final = 2 << 20
UNIT_FN: Final = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)

#: compiled: functions made native (compiled or loaded from the disk cache), loaded: those
#: of them loaded, calls: calls run natively, fallbacks: calls handed back, refused:
#: functions that are not pure Int functions.
COUNTS: dict[str, int] = {"compiled": 0, "loaded": 0, "calls": 0, "fallbacks": 0,
                          "refused": 0, "reopts": 0}
#: With background re-optimisation (`reoptimizes`), a function is first compiled at
#: this level (fib: a ~1.7 ms compile, 40 us fib(20), against O2/cg2's ~11.7 ms and
#: 24 us), and its calls run that code while the re-optimiser's thread compiles it at
#: `reopt_pipeline`.
QUICK_PIPELINE: Final = "lite"
QUICK_CODEGEN: Final = 0
#: A process that re-optimised functions waits for them at exit (at most this long), so
#: the disk cache gets the optimised code: a short run would otherwise end before it, and
#: every later run would load quick code and compile it again in vain.
EXIT_WAIT_SECONDS: Final = 0.5
_waits_at_exit = False


@dataclass(eq=False, slots=True)
class NativeFunction:
    entry: int
    argc: int
    native: Any
    fn: Any  # replaced once by the re-optimised code: steps read it at every call
    deepest: int  # native calls deep at most (NATIVE_STACK_BYTES)
    retired: list[Any] = field(default_factory=list)  # kept mapped: a call may run it


#: (chunk digest, entry ip) -> its native function, or None when it has none; the oldest
#: are forgotten past `max_units`.
_compiled: dict[tuple[str, int], NativeFunction | None] = {}  # oldest first


def _disk_key(chunk: Chunk, entry: int) -> bytes:
    """The disk cache key of the function at `entry`. Its IR is a function of the chunk's
    bytes, the entry and fusevm's own source (which every key includes), so a warm
    process finds the code without emitting the IR again (most of a cached first call)."""
    from fusevm.jit import cache
    cfg = get_config()
    return cache.native_key(cache.NATIVE_TAGS["trace"], chunk.digest(), False, "self-calls", entry,
                            cfg.reopt_pipeline, cfg.reopt_codegen)


def _check_meta(entry: int) -> Callable[[dict[str, object]], None]:
    def check(meta: dict[str, object]) -> None:
        if meta.get("function_op") != entry or not all(
                type(meta.get(k)) is int for k in ("argc", "words")):
            raise ValueError("not this function's code")
    return check


def _what(chunk: Chunk, entry: int) -> str:
    """How the log names the code at `entry` (-1: the root code, `main.py`)."""
    return f"{chunk.source}: " + ("root code" if entry < 0 else f"function at op {entry}")


def cached_code(chunk: Chunk, entry: int) -> Cached | None:
    """The machine code, argument count, local words and the rest of its metadata from
    the disk cache, or None."""
    from fusevm.jit import cache
    loaded = cache.load_native(cache.NATIVE_TAGS["trace"], _disk_key(chunk, entry),
                               _check_meta(entry))
    if loaded is None:
        return None
    native, meta = loaded
    COUNTS["loaded"] += 1
    runtime.log(f"{_what(chunk, entry)}: native code loaded from the disk cache")
    return native, int(str(meta["argc"])), int(str(meta["words"])), meta


def compiled_code(chunk: Chunk, entry: int, text: str, argc: int, words: int,
                  extra: dict[str, object] | None = None) -> Any:
    """The machine code of `text`, stored in the disk cache: at QUICK_PIPELINE when a
    background re-optimisation follows (`reoptimize`, which replaces the stored code;
    a short run may end first, and the next process re-optimises what it loads), else at
    `reopt_pipeline`; None on failure."""
    cfg = get_config()
    from fusevm.jit.codegen import compile_text
    quick = reoptimizes(cfg)
    try:
        native = compile_text(text, QUICK_PIPELINE if quick else cfg.reopt_pipeline,
                              QUICK_CODEGEN if quick else cfg.reopt_codegen)
    except Exception as x:  # LLVM rejected the IR: a bug here, reported, not fatal
        runtime.log(f"{_what(chunk, entry)}: native compile failed "
                    f"({type(x).__name__}: {x})")
        return None
    store(chunk, entry, native, argc, words, extra)
    return native


def deepest_calls(words: int, quick_text: str | None, symbol: str = "@rec") -> int:
    """Native calls deep at most within NATIVE_STACK_BYTES. An optimised frame holds at
    most the function's words of locals (most live in registers), saved registers and the
    return address. Quick code (`quick_text`, its IR) is register-allocated without
    optimisation, which may give every virtual register a stack slot of its own: its
    bound counts two words per SSA value of `symbol` on top."""
    frame = 8 * words + 64
    if quick_text is not None:
        rec = quick_text[quick_text.index(f"define internal i64 {symbol}("):]
        rec = rec[:rec.index("\n}\n")]
        frame += 16 * sum(1 for line in rec.splitlines() if line.startswith("  %")
                          and " = " in line)
    return max(64, NATIVE_STACK_BYTES // frame)


def reoptimizes(cfg: TraceJitConfig) -> bool:
    """Whether functions compile quickly first and are re-optimised in the background
    (reopt_after = 0 turns re-optimisation off: then they compile optimised at once)."""
    return cfg.reopt_background and cfg.reopt_after > 0


def store(chunk: Chunk, entry: int, native: Any, argc: int, words: int,
          extra: dict[str, object] | None = None) -> None:
    """Keep `native` in the disk cache, with `extra` metadata (JSON values)."""
    from fusevm.jit import cache
    cache.store_native(cache.NATIVE_TAGS["trace"], _disk_key(chunk, entry), native,
                       {**(extra or {}), "function_op": entry, "argc": argc, "words": words})


def reoptimize(chunk: Chunk, entry: int, text: str, argc: int, words: int,
               swap: Callable[[Any], None], extra: dict[str, object] | None = None) -> None:
    """Compile `text` (the code at `entry`) at `reopt_pipeline` on the re-optimiser's
    thread, then `swap(native)` (calls switch to it) and store it in the disk cache in
    place of the quick code."""
    from fusevm.jit.codegen import REOPTIMIZER, Native
    cfg = get_config()

    def done(native: Native) -> None:
        with using(cfg):  # on the re-optimiser's thread: the cache settings are ours
            swap(native)
            store(chunk, entry, native, argc, words, extra)
            runtime.log(f"{_what(chunk, entry)}: native code re-optimised "
                        f"({native.pipeline}/cg{native.codegen})")
    global _waits_at_exit
    if not _waits_at_exit:
        _waits_at_exit = True
        atexit.register(REOPTIMIZER.wait, EXIT_WAIT_SECONDS)
    REOPTIMIZER.submit(text, cfg.reopt_pipeline, cfg.reopt_codegen, done)


def make_native(chunk: Chunk, entry: int, cached: Cached | None, emit: Emitter,
                made: Maker[T], rebound: Callable[[T, int], None], counts: dict[str, int],
                refusal: str) -> T | None:
    """The native code at `entry` as `made` makes it: `cached` (from the disk cache), or
    compiled from `emit()`'s IR (quickly first when a background re-optimisation follows;
    quick code from the disk cache is re-optimised too). Once the re-optimised code is in
    place, `rebound(found, words)` updates what depends on it. None when the code is not
    pure (`refusal` logged) or did not compile. `counts` gets compiled, refused, reopts."""
    cfg = get_config()
    reopt = reoptimizes(cfg)
    native: Any = None
    text: str | None = None
    argc = words = 0
    meta: dict[str, object] = {}
    if cached is not None:
        native, argc, words, meta = cached
        if (native.pipeline, native.codegen) == (cfg.reopt_pipeline, cfg.reopt_codegen):
            reopt = False
        elif not reopt:
            native = None  # quick code, and no re-optimisation to replace it
    if native is None or reopt:
        try:
            text, argc, words, meta = emit()
        except NotPure as e:
            counts["refused"] += 1
            runtime.log(f"{_what(chunk, entry)}: {refusal} ({e})")
            return None
    if native is None:
        assert text is not None
        native = compiled_code(chunk, entry, text, argc, words, meta)
        if native is None:
            return None
    quick = text if reopt else None
    found = made(native, quick, argc, words, meta)
    counts["compiled"] += 1
    if quick is not None:
        def swap(better: Any) -> None:
            found.retired.append(found.native)
            found.native, found.fn = better, UNIT_FN(better.address)
            rebound(found, words)
            counts["reopts"] += 1
        reoptimize(chunk, entry, quick, argc, words, swap, meta)
    return found


def describe(chunk: Chunk) -> list[str]:
    """One line per function of `chunk` this process made native or refused (jit-dump)."""
    digest = chunk.digest()
    out = []
    for (d, entry), nf in list(_compiled.items()):
        if d != digest:
            continue
        name = next((chunk.names[n] for n, ip in chunk.sub_entries if ip == entry), "?")
        if nf is None:
            out.append(f"; function {name} at op {entry}: interpreted (no native self-calls)")
        else:
            out.append(f"; function {name} at op {entry}: native self-calls ({nf.argc} Int "
                       f"arguments, at most {nf.deepest} native calls deep)")
    return out


def compiled_function(digest: str, entry: int) -> NativeFunction | None:
    """The function at `entry` if this process made it native (without compiling it)."""
    return _compiled.get((digest, entry))


def forget() -> None:
    """Forget every compiled function (the next hot call compiles again)."""
    _compiled.clear()


def native_function(chunk: Chunk, entry: int) -> NativeFunction | None:
    """The compiled function at `entry` (once per chunk and entry), or None."""
    key = (chunk.digest(), entry)
    if key in _compiled:
        return _compiled[key]

    def made(native: Any, quick: str | None, argc: int, words: int,
             _: dict[str, object]) -> NativeFunction:
        runtime.log(f"{chunk.source}: function at op {entry}: runs with native "
                    f"self-calls ({argc} Int arguments)")
        return NativeFunction(entry, argc, native, UNIT_FN(native.address),
                              deepest_calls(words, quick))

    def rebound(nf: NativeFunction, words: int) -> None:
        # Steps made from now on use the optimised frame's bound; earlier ones keep the
        # quick code's (smaller) one, which holds for both.
        nf.deepest = deepest_calls(words, None)

    found = make_native(chunk, entry, cached_code(chunk, entry),
                        lambda: (*emit_ir(chunk, entry), {}), made, rebound, COUNTS,
                        "no native self-calls")
    _compiled[key] = found
    while len(_compiled) > get_config().max_units:
        del _compiled[next(iter(_compiled))]
    return found


def call_step(vm: VM, h: int, original: Step, fuel: int) -> Step | None:
    """The step at function entry `h` running the function natively, or None."""
    from fusevm.interp.vm import frame_cap
    nf = native_function(vm.chunk, h)
    if nf is None:
        return None
    argc = nf.argc
    # This VM's own context words (a VM runs one op at a time: no lock to take).
    ctx = (ctypes.c_int64 * (ARGS + argc))()
    ctx[FUEL_WORD] = fuel
    addr = ctypes.addressof(ctx)
    stack = vm.stack
    frames = vm.frames
    # Calls the interpreter makes without a check: past frame_cap frames it checks the
    # depth and size limits, and may raise.
    room = frame_cap(vm) + 1
    deepest = nf.deepest
    first = ARGS
    # After a call deeper than native code goes, entered at frame depth `low`: the next
    # deepest // 2 levels below it are interpreted, then native code tries again (so a
    # very deep recursion costs about twice its calls natively, not its depth squared).
    low = high = 0

    def step() -> int:
        nonlocal low, high
        if vm._budget is not None or vm.strict_int:
            return original()
        depth = len(frames)
        if low < depth < high:
            return original()
        frame = frames[-1]
        base = frame.stack_base
        if len(stack) - base != argc:
            return original()
        for i in range(argc):
            v = stack[base + i]
            if type(v) is not int:
                return original()
            ctx[first + i] = v
        ctx[STATUS] = 0
        allowed = room - depth
        budget = allowed if allowed < deepest else deepest
        ctx[BUDGET] = budget
        status = nf.fn(addr)
        if status != 0:
            COUNTS["fallbacks"] += 1
            if status == DEEP and budget < allowed:
                low, high = depth, depth + deepest // 2
            return original()  # nothing changed: the interpreter runs the call
        COUNTS["calls"] += 1
        frames.pop()
        vm.slots = frames[-1].slots
        del stack[base:]
        stack.append(ctx[RESULT])
        return frame.return_ip
    return step
