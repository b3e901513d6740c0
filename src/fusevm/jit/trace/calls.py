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
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from fusevm.chunk import Chunk
from fusevm.instr import decode
from fusevm.jit import runtime
from fusevm.jit.config import TraceJitConfig, get_config, using
from fusevm.loops import loop_facts, reachable_until
from fusevm.ops import F, Op

if TYPE_CHECKING:
    from fusevm.interp.registry import Step
    from fusevm.interp.vm import VM

_ARITH: Final = {Op.Add: "add", Op.Sub: "sub", Op.Mul: "mul"}
_UNARY: Final = {Op.Inc: ("add", 1), Op.Dec: ("sub", 1)}
_CMP: Final = {Op.NumLt: "slt", Op.NumLe: "sle", Op.NumGt: "sgt", Op.NumGe: "sge",
               Op.NumEq: "eq", Op.NumNe: "ne"}
_SIMPLE: Final = frozenset({Op.GetSlot, Op.SetSlot, Op.LoadInt, Op.Dup, Op.Swap, Op.Pop,
                            Op.Jump, Op.JumpIfFalse, Op.JumpIfTrue, Op.Call, Op.ReturnValue,
                            Op.Nop}) | set(_ARITH) | set(_UNARY) | set(_CMP)

#: Ops that neither branch nor call.
_STRAIGHT: Final = frozenset(op for op in _SIMPLE - set(_CMP)
                             if not op.spec.flags & (F.BRANCH | F.CALL | F.RETURN))

#: ctx words: status (0: done, FUEL, or DEEP), fuel word address, call budget, result,
#: then the arguments.
_STATUS, _FUEL, _BUDGET, _RESULT, _ARGS = 0, 1, 2, 3, 4
#: Why native code gave a call back: the fuel word said stop, or the call budget ran out.
FUEL, DEEP = 1, 2
#: Native stack a call may use (its budget is cut to fit): deeper recursion is the
#: interpreter's, whose frames live on the heap, so a large max_depth cannot overflow the
#: thread's stack.
NATIVE_STACK_BYTES: Final = 2 << 20
_UNIT_FN: Final = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)

#: compiled: functions made native (compiled or loaded from the disk cache), loaded: those
#: of them loaded, calls: calls run natively, fallbacks: calls handed back, refused:
#: functions that are not pure Int functions.
COUNTS: dict[str, int] = {"compiled": 0, "loaded": 0, "calls": 0, "fallbacks": 0,
                          "refused": 0, "reopts": 0}
#: With background re-optimisation (`_reoptimizes`), a function is first compiled at
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


class NotPure(Exception):
    """The function is not a pure Int function this tier compiles."""


@dataclass(eq=False, slots=True)
class NativeFunction:
    entry: int
    argc: int
    native: Any
    fn: Any  # replaced once by the re-optimised code: steps read it at every call
    deepest: int  # native calls deep at most (NATIVE_STACK_BYTES)
    retired: list[Any] = field(default_factory=list)  # kept mapped: a call may run it


def _body(chunk: Chunk, entry: int) -> tuple[list[int], int]:
    """The function's ops (sorted) and its argument count; raises NotPure."""
    facts = loop_facts(chunk)
    stops = frozenset(ip for ip, instr in enumerate(chunk.ops) if instr[0].spec.has(F.RETURN))
    body = sorted(reachable_until(facts, entry, stops))
    name = next((n for n, ip in chunk.sub_entries if ip == entry), None)
    if name is None:
        raise NotPure("not a function entry")
    argc: int | None = None
    for ip in body:
        instr = chunk.ops[ip]
        op = instr[0]
        if op not in _SIMPLE:
            raise NotPure(f"op {ip} ({decode(instr).name})")
        if op is Op.Call:
            if instr[1] != name:
                raise NotPure(f"op {ip} calls another function")
            if argc is not None and argc != instr[2]:
                raise NotPure("calls with different argument counts")
            argc = instr[2]
        if op in _CMP:
            nxt = chunk.ops[ip + 1][0] if ip + 1 < len(chunk.ops) else None
            if nxt is not Op.JumpIfFalse and nxt is not Op.JumpIfTrue:
                raise NotPure(f"op {ip}: a comparison whose result is not branched on")
        if op is Op.JumpIfFalse or op is Op.JumpIfTrue:
            prev = chunk.ops[ip - 1][0]
            if prev not in _CMP or ip - 1 not in body:
                raise NotPure(f"op {ip}: a branch on something other than a comparison")
        if op is Op.LoadInt and type(instr[1]) is not int:
            raise NotPure(f"op {ip}: a non-Int constant")
    if argc is None:
        raise NotPure("the function does not call itself")
    return body, argc


def _edge(ip: int, target: int) -> str:
    """The label a branch at `ip` to `target` goes to: a backward one through its poll."""
    return f"%P{ip}" if target <= ip else f"%B{target}"


def _returns_next(chunk: Chunk, ip: int) -> bool:
    """True when the ops from `ip` reach a `ReturnValue` straight (stack and slot work and
    arithmetic only): a call's result there is returned without another call."""
    while ip < len(chunk.ops):
        op = chunk.ops[ip][0]
        if op is Op.ReturnValue:
            return True
        if op not in _STRAIGHT:
            return False
        ip += 1
    return False


def emit_ir(chunk: Chunk, entry: int) -> tuple[str, int, int]:
    """LLVM IR text of the function (`@rec`) and its `@unit(ctx)` wrapper, its argument
    count and its words of locals (for the native stack bound); raises NotPure."""
    body, argc = _body(chunk, entry)
    inside = set(body)
    nslots = chunk.slot_count
    # Operand-stack depth before each op, from the entry (where the arguments are).
    depth: dict[int, int] = {entry: argc}
    work = [entry]
    leaders = {entry}
    while work:
        ip = work.pop()
        op = chunk.ops[ip][0]
        d = depth[ip]
        succ: list[tuple[int, int]] = []
        if op in (Op.GetSlot, Op.LoadInt, Op.Dup):
            succ = [(ip + 1, d + 1)]
        elif op in (Op.SetSlot, Op.Pop) or op in _ARITH:
            succ = [(ip + 1, d - 1)]
        elif op in (Op.Swap, Op.Nop) or op in _UNARY:
            succ = [(ip + 1, d)]
        elif op in _CMP:
            succ = [(ip + 1, d - 1)]
        elif op is Op.Jump:
            succ = [(chunk.ops[ip][1], d)]
            leaders.add(chunk.ops[ip][1])
        elif op is Op.JumpIfFalse or op is Op.JumpIfTrue:
            succ = [(chunk.ops[ip][1], d - 1), (ip + 1, d - 1)]
            leaders.update((chunk.ops[ip][1], ip + 1))
        elif op is Op.Call:
            succ = [(ip + 1, d - argc + 1)]
        for t, dt in succ:
            if t not in inside:
                raise NotPure(f"control leaves the function body at op {ip}")
            if t not in depth:
                depth[t] = dt
                work.append(t)
            elif depth[t] != dt:
                raise NotPure(f"stack depths differ at op {t}")
    # Slots must be set before they are read on every path (else they would be Undef).
    defined: dict[int, frozenset[int]] = {entry: frozenset()}
    order = sorted(depth)
    changed = True
    while changed:
        changed = False
        for ip in order:
            if ip not in defined:
                continue
            instr = chunk.ops[ip]
            out = defined[ip] | {instr[1]} if instr[0] is Op.SetSlot else defined[ip]
            if instr[0] is Op.GetSlot and instr[1] not in defined[ip]:
                raise NotPure(f"op {ip} reads slot {instr[1]} before setting it")
            targets = []
            if instr[0] is Op.Jump:
                targets = [instr[1]]
            elif instr[0] is Op.JumpIfFalse or instr[0] is Op.JumpIfTrue:
                targets = [instr[1], ip + 1]
            elif instr[0] is not Op.ReturnValue:
                targets = [ip + 1]
            for t in targets:
                old = defined.get(t)
                new = out if old is None else old & out
                if new != old:
                    defined[t] = new
                    changed = True
    width = max(depth.values()) + 1
    args = ", ".join(f"i64 %a{i}" for i in range(argc))
    # @rec returns its result in one register; a failure stores 1 at %status and returns
    # 0. A call whose result goes straight to a return needs no test of %status (the
    # caller's caller tests it), so such calls stay tail calls (and fib's second call an
    # accumulator), which LLVM turns into loops.
    lines = [f"define internal i64 @rec({args}, i64 %budget, ptr %fuelptr, ptr %status) "
             "nounwind {", "entry:"]
    lines += [f"  %s{i} = alloca i64" for i in range(nslots)]
    lines += [f"  %t{i} = alloca i64" for i in range(width)]
    lines += [f"  store i64 %a{i}, ptr %t{i}" for i in range(argc)]
    lines += [f"  br label %B{entry}"]
    leaders.add(entry)
    n = 0

    def tmp() -> str:
        nonlocal n
        n += 1
        return f"%v{n}"

    def poll(target: int | str) -> None:
        """Branch to op `target` once the fuel word says go on (every function entry
        and loop header polls: an interrupt reaches deep recursion and loops)."""
        fuel, out = tmp(), tmp()
        lines.extend([f"  {fuel} = load atomic i64, ptr %fuelptr monotonic, align 8",
                      f"  {out} = icmp slt i64 {fuel}, 0",
                      f"  br i1 {out}, label %fail, label %B{target}"])

    for ip in order:
        instr = chunk.ops[ip]
        op = instr[0]
        d = depth[ip]
        if ip in leaders:
            if lines[-1].startswith("  ") and not lines[-1].startswith(("  br ", "  ret ")):
                lines.append(f"  br label %B{ip}")
            lines.append(f"B{ip}:")
            if ip == entry:
                poll("E")
                lines.append("BE:")
        if op is Op.GetSlot:
            v = tmp()
            lines += [f"  {v} = load i64, ptr %s{instr[1]}", f"  store i64 {v}, ptr %t{d}"]
        elif op is Op.SetSlot:
            v = tmp()
            lines += [f"  {v} = load i64, ptr %t{d - 1}", f"  store i64 {v}, ptr %s{instr[1]}"]
        elif op is Op.LoadInt:
            lines.append(f"  store i64 {instr[1]}, ptr %t{d}")
        elif op is Op.Dup:
            v = tmp()
            lines += [f"  {v} = load i64, ptr %t{d - 1}", f"  store i64 {v}, ptr %t{d}"]
        elif op is Op.Pop or op is Op.Nop:
            pass
        elif op is Op.Swap:
            a, b = tmp(), tmp()
            lines += [f"  {a} = load i64, ptr %t{d - 2}", f"  {b} = load i64, ptr %t{d - 1}",
                      f"  store i64 {b}, ptr %t{d - 2}", f"  store i64 {a}, ptr %t{d - 1}"]
        elif op in _ARITH or op in _UNARY:
            a, r = tmp(), tmp()
            if op in _ARITH:
                b = tmp()
                lines += [f"  {a} = load i64, ptr %t{d - 2}", f"  {b} = load i64, ptr %t{d - 1}",
                          f"  {r} = {_ARITH[op]} i64 {a}, {b}",
                          f"  store i64 {r}, ptr %t{d - 2}"]
            else:
                how, k = _UNARY[op]
                lines += [f"  {a} = load i64, ptr %t{d - 1}", f"  {r} = {how} i64 {a}, {k}",
                          f"  store i64 {r}, ptr %t{d - 1}"]
        elif op in _CMP:
            pass  # emitted with the branch that follows it
        elif op is Op.JumpIfFalse or op is Op.JumpIfTrue:
            cmp = _CMP[chunk.ops[ip - 1][0]]
            a, b, c = tmp(), tmp(), tmp()
            lines += [f"  {a} = load i64, ptr %t{d - 1}", f"  {b} = load i64, ptr %t{d}",
                      f"  {c} = icmp {cmp} i64 {a}, {b}"]
            yes, no = _edge(ip, instr[1]), f"%B{ip + 1}"
            if op is Op.JumpIfFalse:
                yes, no = no, yes
            lines.append(f"  br i1 {c}, label {yes}, label {no}")
            if instr[1] <= ip:
                lines.append(f"P{ip}:")
                poll(instr[1])
        elif op is Op.Jump:
            lines.append(f"  br label {_edge(ip, instr[1])}")
            if instr[1] <= ip:
                lines.append(f"P{ip}:")
                poll(instr[1])
        elif op is Op.Call:
            vals = [tmp() for _ in range(argc)]
            lines += [f"  {v} = load i64, ptr %t{d - argc + i}" for i, v in enumerate(vals)]
            ok, room, r = tmp(), tmp(), tmp()
            lines += [f"  {room} = icmp sle i64 %budget, 0",
                      f"  br i1 {room}, label %deep, label %C{ip}", f"C{ip}:",
                      f"  {ok} = sub i64 %budget, 1",
                      f"  {r} = call i64 @rec({', '.join('i64 ' + v for v in vals)}, "
                      f"i64 {ok}, ptr %fuelptr, ptr %status)"]
            if not _returns_next(chunk, ip + 1):
                st, bad = tmp(), tmp()
                lines += [f"  {st} = load i64, ptr %status",
                          f"  {bad} = icmp ne i64 {st}, 0",
                          f"  br i1 {bad}, label %bail, label %R{ip}", f"R{ip}:"]
            lines.append(f"  store i64 {r}, ptr %t{d - argc}")
        elif op is Op.ReturnValue:
            v = tmp()
            lines += [f"  {v} = load i64, ptr %t{d - 1}", f"  ret i64 {v}"]
    lines += ["fail:", f"  store i64 {FUEL}, ptr %status", "  ret i64 0",
              "deep:", f"  store i64 {DEEP}, ptr %status", "  ret i64 0",
              "bail:", "  ret i64 0", "}", ""]
    call_args = []
    wrapper = ["define i64 @unit(ptr %ctx) nounwind {", "entry:",
               "  %bp = getelementptr i64, ptr %ctx, i64 2", "  %budget = load i64, ptr %bp",
               "  %fp = getelementptr i64, ptr %ctx, i64 1", "  %fa = load i64, ptr %fp",
               "  %fuelptr = inttoptr i64 %fa to ptr"]
    for i in range(argc):
        wrapper += [f"  %p{i} = getelementptr i64, ptr %ctx, i64 {_ARGS + i}",
                    f"  %x{i} = load i64, ptr %p{i}"]
        call_args.append(f"i64 %x{i}")
    wrapper += [f"  %r = call i64 @rec({', '.join(call_args)}, i64 %budget, "
                "ptr %fuelptr, ptr %ctx)",
                "  %rp = getelementptr i64, ptr %ctx, i64 3", "  store i64 %r, ptr %rp",
                "  %s = load i64, ptr %ctx", "  ret i64 %s", "}", ""]
    return "\n".join(wrapper + lines), argc, width + nslots + argc


#: (chunk digest, entry ip) -> its native function, or None when it has none; the oldest
#: are forgotten past `max_units`.
_compiled: OrderedDict[tuple[str, int], NativeFunction | None] = OrderedDict()


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


def _cached_code(chunk: Chunk, entry: int) -> tuple[Any, int, int] | None:
    """The machine code, argument count and local words from the disk cache, or None."""
    from fusevm.jit import cache
    loaded = cache.load_native(cache.NATIVE_TAGS["trace"], _disk_key(chunk, entry),
                               _check_meta(entry))
    if loaded is None:
        return None
    native, meta = loaded
    COUNTS["loaded"] += 1
    runtime.log(f"{chunk.source}: function at op {entry}: native self-calls loaded "
                "from the disk cache")
    return native, int(str(meta["argc"])), int(str(meta["words"]))


def _compiled_code(chunk: Chunk, entry: int, text: str, argc: int, words: int) -> Any:
    """The machine code of `text`, stored in the disk cache: at QUICK_PIPELINE when a
    background re-optimisation follows (`_reoptimize`, which replaces the stored code;
    a short run may end first, and the next process re-optimises what it loads), else at
    `reopt_pipeline`; None on failure."""
    cfg = get_config()
    from fusevm.jit.codegen import compile_text
    quick = _reoptimizes(cfg)
    try:
        native = compile_text(text, QUICK_PIPELINE if quick else cfg.reopt_pipeline,
                              QUICK_CODEGEN if quick else cfg.reopt_codegen)
    except Exception as x:  # LLVM rejected the IR: a bug here, reported, not fatal
        runtime.log(f"{chunk.source}: function at op {entry}: native compile failed "
                    f"({type(x).__name__}: {x})")
        return None
    _store(chunk, entry, native, argc, words)
    return native


def _deepest(words: int, quick_text: str | None) -> int:
    """Native calls deep at most within NATIVE_STACK_BYTES. An optimised frame holds at
    most the function's words of locals (most live in registers), saved registers and the
    return address. Quick code (`quick_text`, its IR) is register-allocated without
    optimisation, which may give every virtual register a stack slot of its own: its
    bound counts two words per SSA value of `@rec` on top."""
    frame = 8 * words + 64
    if quick_text is not None:
        rec = quick_text[quick_text.index("define internal i64 @rec("):]
        frame += 16 * sum(1 for line in rec.splitlines() if line.startswith("  %")
                          and " = " in line)
    return max(64, NATIVE_STACK_BYTES // frame)


def _reoptimizes(cfg: TraceJitConfig) -> bool:
    """Whether functions compile quickly first and are re-optimised in the background
    (reopt_after = 0 turns re-optimisation off: then they compile optimised at once)."""
    return cfg.reopt_background and cfg.reopt_after > 0


def _store(chunk: Chunk, entry: int, native: Any, argc: int, words: int) -> None:
    from fusevm.jit import cache
    cache.store_native(cache.NATIVE_TAGS["trace"], _disk_key(chunk, entry), native,
                       {"function_op": entry, "argc": argc, "words": words})


def _reoptimize(nf: NativeFunction, chunk: Chunk, text: str, words: int) -> None:
    """Compile `nf` at `reopt_pipeline` on the re-optimiser's thread, then switch its
    calls to that code and store it in the disk cache in place of the quick code."""
    from fusevm.jit.codegen import REOPTIMIZER, Native
    cfg = get_config()
    source = chunk.source

    def done(native: Native) -> None:
        with using(cfg):  # on the re-optimiser's thread: the cache settings are ours
            nf.retired.append(nf.native)
            # Steps made from now on use the optimised frame's bound; earlier ones keep
            # the quick code's (smaller) one, which holds for both.
            nf.native, nf.fn = native, _UNIT_FN(native.address)
            nf.deepest = _deepest(words, None)
            COUNTS["reopts"] += 1
            _store(chunk, nf.entry, native, nf.argc, words)
            runtime.log(f"{source}: function at op {nf.entry}: native self-calls "
                        f"re-optimised ({native.pipeline}/cg{native.codegen})")
    global _waits_at_exit
    if not _waits_at_exit:
        _waits_at_exit = True
        atexit.register(REOPTIMIZER.wait, EXIT_WAIT_SECONDS)
    REOPTIMIZER.submit(text, cfg.reopt_pipeline, cfg.reopt_codegen, done)


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


def forget() -> None:
    """Forget every compiled function (the next hot call compiles again)."""
    _compiled.clear()


def native_function(chunk: Chunk, entry: int) -> NativeFunction | None:
    """The compiled function at `entry` (once per chunk and entry), or None."""
    key = (chunk.digest(), entry)
    if key in _compiled:
        return _compiled[key]
    found: NativeFunction | None = None
    cfg = get_config()
    reopt = _reoptimizes(cfg)
    native: Any = None
    text: str | None = None  # the IR, when this code is to be re-optimised
    cached = _cached_code(chunk, entry)
    if cached is not None:
        native, argc, words = cached
        if (native.pipeline, native.codegen) != (cfg.reopt_pipeline, cfg.reopt_codegen):
            # Quick code a process stored before its re-optimisation finished.
            if reopt:
                text = emit_ir(chunk, entry)[0]
            else:
                native = None
    if native is None:
        try:
            text, argc, words = emit_ir(chunk, entry)
        except NotPure as e:
            COUNTS["refused"] += 1
            runtime.log(f"{chunk.source}: function at op {entry}: no native self-calls "
                        f"({e})")
        else:
            native = _compiled_code(chunk, entry, text, argc, words)
    if native is not None:
        quick = text is not None and reopt
        deepest = _deepest(words, text if quick else None)
        found = NativeFunction(entry, argc, native, _UNIT_FN(native.address), deepest)
        COUNTS["compiled"] += 1
        runtime.log(f"{chunk.source}: function at op {entry}: runs with native "
                    f"self-calls ({argc} Int arguments)")
        if quick:
            assert text is not None
            _reoptimize(found, chunk, text, words)
    _compiled[key] = found
    while len(_compiled) > cfg.max_units:
        _compiled.popitem(last=False)
    return found


def call_step(vm: VM, h: int, original: Step, fuel: int) -> Step | None:
    """The step at function entry `h` running the function natively, or None."""
    nf = native_function(vm.chunk, h)
    if nf is None:
        return None
    argc = nf.argc
    # This VM's own context words (a VM runs one op at a time: no lock to take).
    ctx = (ctypes.c_int64 * (_ARGS + argc))()
    ctx[_FUEL] = fuel
    addr = ctypes.addressof(ctx)
    stack = vm.stack
    frames = vm.frames
    # Calls the interpreter would still allow: it refuses one once len(frames) passes
    # max_depth.
    room = vm.max_depth + 1
    deepest = nf.deepest
    first = _ARGS
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
        ctx[_STATUS] = 0
        allowed = room - depth
        budget = allowed if allowed < deepest else deepest
        ctx[_BUDGET] = budget
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
        stack.append(ctx[_RESULT])
        return frame.return_ip
    return step
