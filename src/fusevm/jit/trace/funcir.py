"""LLVM IR of pure Int code: a self-recursive function, or a chunk's root code calling such
functions (`main.py`).

Pure Int code is what `calls.py` describes: slot access, Int constants and wrapping
arithmetic, comparisons feeding a branch, stack shuffles and calls. Its arguments and
every value it computes are Ints, it touches no global and does no I/O, so native code
that gives up part-way has changed nothing the interpreter can see.

A function compiles to `@rec(args..., budget, fuelptr, status)`, which returns its result
in a register and reports a failure (FUEL, DEEP) through the status word; `@unit(ctx)`
wraps it for a call from Python. A chunk's root code compiles to `@unit(ctx)` itself,
calling the functions' `@rec` bodies (renamed per entry) in the same module, and stores
its final operand stack and the root slots it set in the ctx words.
"""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.instr import Instr, decode
from fusevm.loops import loop_facts, reachable_until
from fusevm.ops import F, Op
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

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

#: A function's ctx words: status (0: done, FUEL, or DEEP), fuel word address, call
#: budget, result, then the arguments.
STATUS, FUEL_WORD, BUDGET, RESULT, ARGS = 0, 1, 2, 3, 4
#: Why native code gave a call back: the fuel word said stop, or the call budget ran out.
FUEL, DEEP = 1, 2


class NotPure(Exception):
    """The code is not pure Int code this tier compiles."""


def _check_ops(chunk: Chunk, body: list[int],
               callee_argc: Callable[[int], int | None]) -> None:
    """Raise NotPure unless every op of `body` is pure Int code: `callee_argc(name)` is
    the argument count of a call the code may make (None: it may not)."""
    for ip in body:
        instr = chunk.ops[ip]
        op = instr[0]
        if op not in _SIMPLE:
            raise NotPure(f"op {ip} ({decode(instr).name})")
        if op is Op.Call:
            want = callee_argc(instr[1])
            if want is None:
                raise NotPure(f"op {ip} calls {chunk.names[instr[1]]}, which is not native")
            if want != instr[2]:
                raise NotPure(f"op {ip}: a call with {instr[2]} arguments, not {want}")
        if op in _CMP:
            nxt = chunk.ops[ip + 1][0] if ip + 1 < len(chunk.ops) else None
            if nxt is not Op.JumpIfFalse and nxt is not Op.JumpIfTrue:
                raise NotPure(f"op {ip}: a comparison whose result is not branched on")
        if op is Op.JumpIfFalse or op is Op.JumpIfTrue:
            prev = chunk.ops[ip - 1][0] if ip else None
            if prev not in _CMP or ip - 1 not in body:
                raise NotPure(f"op {ip}: a branch on something other than a comparison")
        if op is Op.LoadInt and type(instr[1]) is not int:
            raise NotPure(f"op {ip}: a non-Int constant")


def function_body(chunk: Chunk, entry: int) -> tuple[list[int], int]:
    """The function's ops (sorted) and its argument count; raises NotPure."""
    facts = loop_facts(chunk)
    stops = frozenset(ip for ip, instr in enumerate(chunk.ops) if instr[0].spec.has(F.RETURN))
    body = sorted(reachable_until(facts, entry, stops))
    name = next((n for n, ip in chunk.sub_entries if ip == entry), None)
    if name is None:
        raise NotPure("not a function entry")
    calls = [ip for ip in body if chunk.ops[ip][0] is Op.Call]
    other = next((ip for ip in calls if chunk.ops[ip][1] != name), None)
    if other is not None:
        raise NotPure(f"op {other} calls another function")
    argcs = {chunk.ops[ip][2] for ip in calls}
    if len(argcs) > 1:
        raise NotPure("calls with different argument counts")
    argc = next(iter(argcs), None)
    _check_ops(chunk, body, lambda n: argc if n == name else None)
    if argc is None:
        raise NotPure("the function does not call itself")
    return body, argc


def main_body(chunk: Chunk) -> tuple[list[int], dict[int, int]]:
    """The root code's ops (sorted) and the name indexes it calls with each one's argument
    count; raises NotPure when it is not pure Int code apart from its callees (checked by
    `emit_main`)."""
    facts = loop_facts(chunk)
    body = sorted(reachable_until(facts, 0, frozenset()))
    calls = {chunk.ops[ip][1]: chunk.ops[ip][2] for ip in body
             if chunk.ops[ip][0] is Op.Call}
    _check_ops(chunk, body, calls.get)
    if not calls:
        raise NotPure("the root code calls no function")
    return body, calls


@dataclass(slots=True)
class _Flow:
    """Operand-stack depths before each op, the block leaders, and the slots set on every
    path (`must`) and on some path (`may`) when the code reaches the chunk's end."""

    depth: dict[int, int]
    leaders: set[int]
    end_depth: int | None
    must: frozenset[int]
    may: frozenset[int]


def _effect(instr: Instr) -> tuple[int, int]:
    """The values the op pops and pushes, from the op table (a `Call`'s are its argument
    count, which `_check_ops` has checked against its callee's)."""
    spec = instr[0].spec
    operands = instr[1:]
    return spec.effect.pops(spec, operands), spec.effect.pushes(spec, operands)


def _successors(chunk: Chunk, ip: int, to_end: bool) -> tuple[int, ...]:
    """Where control goes after the op at `ip` (`loop_facts`): a return goes to the
    chunk's end when `to_end` (the root frame's), else nowhere in the code."""
    if to_end and chunk.ops[ip][0].spec.has(F.RETURN):
        return (len(chunk.ops),)
    return loop_facts(chunk).succs[ip]


def _flow(chunk: Chunk, body: list[int], entry: int, argc: int, to_end: bool) -> _Flow:
    """Depths and definitions of the code at `entry` (raises NotPure where they do not
    agree, a slot is read before it is set, or control leaves `body`, other than to the
    chunk's end when `to_end`)."""
    inside = set(body)
    end = len(chunk.ops)
    depth: dict[int, int] = {entry: argc}
    end_depth: int | None = None
    work = [entry]
    leaders = {entry}
    while work:
        ip = work.pop()
        instr = chunk.ops[ip]
        op = instr[0]
        d = depth[ip]
        pops, pushes = _effect(instr)
        if d < pops:
            raise NotPure(f"op {ip} pops below the code's own stack")
        succ = _successors(chunk, ip, to_end)
        if op.spec.has(F.BRANCH):
            leaders.update(succ)
        # The root frame's return halts with its stack kept.
        dt = d if op is Op.ReturnValue else d - pops + pushes
        for t in succ:
            if t == end and to_end:
                if end_depth is not None and end_depth != dt:
                    raise NotPure("stack depths differ at the chunk's end")
                end_depth = dt
                continue
            if t not in inside:
                raise NotPure(f"control leaves the code at op {ip}")
            if t not in depth:
                depth[t] = dt
                work.append(t)
            elif depth[t] != dt:
                raise NotPure(f"stack depths differ at op {t}")
    must = _defined(chunk, depth, entry, True, to_end)
    # (only root code, which ends at the chunk's end, compares the two)
    may = _defined(chunk, depth, entry, False, to_end) if to_end else must
    return _Flow(depth, leaders, end_depth, must, may)


def _defined(chunk: Chunk, depth: dict[int, int], entry: int, every: bool,
             to_end: bool) -> frozenset[int]:
    """Slots set before each op on every path (`every`, raising NotPure for a read before
    a set) or on some path; returns those at the chunk's end (which a `ReturnValue`
    reaches when `to_end`)."""
    end = len(chunk.ops)
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
            if every and instr[0] is Op.GetSlot and instr[1] not in defined[ip]:
                raise NotPure(f"op {ip} reads slot {instr[1]} before setting it")
            for t in _successors(chunk, ip, to_end):
                old = defined.get(t)
                new = out if old is None else (old & out if every else old | out)
                if new != old:
                    defined[t] = new
                    changed = True
    return defined.get(end, frozenset())


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


if TYPE_CHECKING:
    #: How a call is emitted: (its name index, the argument registers, the op's ip) ->
    #: lines leaving the result in the register the last line defines as `%r<ip>`.
    CallEmitter = Callable[[int, list[str], int], list[str]]


def _emit_code(chunk: Chunk, flow: _Flow, entry: int, argc: int, poll_entry: bool,
               emit_call: CallEmitter, end: list[str] | None) -> list[str]:
    """The basic blocks of the code at `entry` (after its allocas), with `fail:` (FUEL),
    `deep:` (DEEP) and `bail:` (status already stored) for the caller to define, and
    `end` as the block at the chunk's end (root code)."""
    depth = flow.depth
    leaders = set(flow.leaders)
    order = sorted(depth)
    n_ops = len(chunk.ops)
    if end is not None:
        leaders.add(n_ops)
        order.append(n_ops)
    lines: list[str] = []
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

    lines.append(f"  br label %B{entry}")
    for ip in order:
        if ip in leaders:
            if not lines[-1].startswith(("  br ", "  ret ")):  # an empty block too
                lines.append(f"  br label %B{ip}")
            lines.append(f"B{ip}:")
            if ip == entry and poll_entry:
                poll("E")
                lines.append("BE:")
        if ip == n_ops:
            assert end is not None
            lines.extend(end)
            break
        instr = chunk.ops[ip]
        op = instr[0]
        d = depth[ip]
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
        elif op is Op.Jump:
            lines.append(f"  br label {_edge(ip, instr[1])}")
        elif op is Op.Call:
            k = instr[2]
            vals = [tmp() for _ in range(k)]
            lines += [f"  {v} = load i64, ptr %t{d - k + i}" for i, v in enumerate(vals)]
            lines += emit_call(instr[1], vals, ip)
            lines.append(f"  store i64 %r{ip}, ptr %t{d - k}")
        elif op is Op.ReturnValue and end is not None:
            lines += ["  store i64 1, ptr %halted", f"  br label %B{n_ops}"]
        elif op is Op.ReturnValue:
            v = tmp()
            lines += [f"  {v} = load i64, ptr %t{d - 1}", f"  ret i64 {v}"]
        if op.spec.has(F.BRANCH) and instr[1] <= ip:  # a back edge, through its poll
            lines.append(f"P{ip}:")
            poll(instr[1])
    return lines


def _locals(nslots: int, width: int) -> list[str]:
    return [f"  %s{i} = alloca i64" for i in range(nslots)] + \
        [f"  %t{i} = alloca i64" for i in range(width)]


def function_ir(chunk: Chunk, entry: int, symbol: str = "@rec") -> tuple[list[str], int, int]:
    """The lines of the function at `entry` as `symbol`, its argument count and its words
    of locals (for the native stack bound); raises NotPure."""
    body, argc = function_body(chunk, entry)
    flow = _flow(chunk, body, entry, argc, False)
    width = max(flow.depth.values()) + 1

    def call(_: int, vals: list[str], ip: int) -> list[str]:
        # A call whose result goes straight to a return needs no test of %status (the
        # caller's caller tests it), so such calls stay tail calls (and fib's second
        # call an accumulator), which LLVM turns into loops.
        lines = [f"  %room{ip} = icmp sle i64 %budget, 0",
                 f"  br i1 %room{ip}, label %deep, label %C{ip}", f"C{ip}:",
                 f"  %ok{ip} = sub i64 %budget, 1",
                 f"  %r{ip} = call i64 {symbol}({', '.join('i64 ' + v for v in vals)}, "
                 f"i64 %ok{ip}, ptr %fuelptr, ptr %status)"]
        if not _returns_next(chunk, ip + 1):
            lines += [f"  %st{ip} = load i64, ptr %status",
                      f"  %bad{ip} = icmp ne i64 %st{ip}, 0",
                      f"  br i1 %bad{ip}, label %bail, label %R{ip}", f"R{ip}:"]
        return lines

    args = ", ".join(f"i64 %a{i}" for i in range(argc))
    lines = [f"define internal i64 {symbol}({args}, i64 %budget, ptr %fuelptr, "
             "ptr %status) nounwind {", "entry:"]
    lines += _locals(chunk.slot_count, width)
    lines += [f"  store i64 %a{i}, ptr %t{i}" for i in range(argc)]
    lines += _emit_code(chunk, flow, entry, argc, True, call, None)
    lines += ["fail:", f"  store i64 {FUEL}, ptr %status", "  ret i64 0",
              "deep:", f"  store i64 {DEEP}, ptr %status", "  ret i64 0",
              "bail:", "  ret i64 0", "}", ""]
    return lines, argc, width + chunk.slot_count + argc


def emit_ir(chunk: Chunk, entry: int) -> tuple[str, int, int]:
    """LLVM IR text of the function at `entry` (`@rec`) and its `@unit(ctx)` wrapper, its
    argument count and its words of locals; raises NotPure."""
    lines, argc, words = function_ir(chunk, entry)
    call_args = []
    wrapper = ["define i64 @unit(ptr %ctx) nounwind {", "entry:",
               f"  %bp = getelementptr i64, ptr %ctx, i64 {BUDGET}",
               "  %budget = load i64, ptr %bp",
               f"  %fp = getelementptr i64, ptr %ctx, i64 {FUEL_WORD}",
               "  %fa = load i64, ptr %fp", "  %fuelptr = inttoptr i64 %fa to ptr"]
    for i in range(argc):
        wrapper += [f"  %p{i} = getelementptr i64, ptr %ctx, i64 {ARGS + i}",
                    f"  %x{i} = load i64, ptr %p{i}"]
        call_args.append(f"i64 %x{i}")
    wrapper += [f"  %r = call i64 @rec({', '.join(call_args)}, i64 %budget, "
                "ptr %fuelptr, ptr %ctx)",
                f"  %rp = getelementptr i64, ptr %ctx, i64 {RESULT}", "  store i64 %r, ptr %rp",
                "  %s = load i64, ptr %ctx", "  ret i64 %s", "}", ""]
    return "\n".join(wrapper + lines), argc, words


@dataclass(frozen=True, slots=True)
class MainShape:
    """What a chunk's root code needs and leaves: the function entries it calls (their
    call budgets are ctx words 2.., in this order), then whether it halted (by returning
    from the root frame), its final operand stack and the root slots it set (`slots`, in
    this order)."""

    callees: tuple[int, ...]
    words: tuple[int, ...]  # each callee's words of locals (its native stack bound)
    end_depth: int
    slots: tuple[int, ...]

    def as_json(self) -> list[list[int]]:
        return [list(self.callees), list(self.words), [self.end_depth], list(self.slots)]

    @staticmethod
    def from_json(data: object) -> MainShape | None:
        """The shape `as_json` wrote, or None when `data` is not one."""
        if not (isinstance(data, list) and len(data) == 4 and all(
                isinstance(x, list) and all(type(v) is int and v >= 0 for v in x)
                for x in data)) or len(data[2]) != 1 or len(data[0]) != len(data[1]):
            return None
        return MainShape(tuple(data[0]), tuple(data[1]), data[2][0], tuple(data[3]))

    def outputs(self) -> int:
        """The ctx word of the first output (the halted flag)."""
        return BUDGET + len(self.callees)

    def size(self) -> int:
        """The ctx words."""
        return self.outputs() + 1 + self.end_depth + len(self.slots)


def emit_main(chunk: Chunk, argc_of: dict[int, int]) -> tuple[str, MainShape]:
    """LLVM IR text running the chunk's root code as `@unit(ctx)`, with each callee's
    body (`argc_of`: entry -> argument count, only functions already native); raises
    NotPure. ctx words: status, fuel word address, then `MainShape`'s."""
    body, calls = main_body(chunk)
    entries: dict[int, int] = {}
    for name in sorted(calls):
        e = chunk.find_sub(name)
        if e is None or e not in argc_of:
            raise NotPure(f"{chunk.names[name]} is not a native function")
        if calls[name] != argc_of[e]:
            raise NotPure(f"{chunk.names[name]}: a call with {calls[name]} arguments, "
                          f"not {argc_of[e]}")
        entries[name] = e
    flow = _flow(chunk, body, 0, 0, True)
    if flow.end_depth is None:
        raise NotPure("the root code never reaches the chunk's end")
    if flow.must != flow.may:
        raise NotPure("the root code sets some slots on some paths only")
    callees = tuple(sorted(set(entries.values())))
    bodies = [function_ir(chunk, e, f"@f{e}") for e in callees]
    shape = MainShape(callees, tuple(words for _, _, words in bodies), flow.end_depth,
                      tuple(sorted(flow.must)))
    width = max(max(flow.depth.values()), flow.end_depth) + 1
    out = shape.outputs()
    end = ["  %hv = load i64, ptr %halted",
           f"  %ho = getelementptr i64, ptr %ctx, i64 {out}", "  store i64 %hv, ptr %ho"]
    out += 1
    end += [f"  %e{i} = load i64, ptr %t{i}" for i in range(shape.end_depth)]
    end += [f"  %o{i} = getelementptr i64, ptr %ctx, i64 {out + i}\n"
            f"  store i64 %e{i}, ptr %o{i}" for i in range(shape.end_depth)]
    out += shape.end_depth
    for i, s in enumerate(shape.slots):
        end += [f"  %w{i} = load i64, ptr %s{s}",
                f"  %q{i} = getelementptr i64, ptr %ctx, i64 {out + i}",
                f"  store i64 %w{i}, ptr %q{i}"]
    end.append("  ret i64 0")

    def call(name: int, vals: list[str], ip: int) -> list[str]:
        e = entries[name]
        return [f"  %r{ip} = call i64 @f{e}({', '.join('i64 ' + v for v in vals)}, "
                f"i64 %budget{e}, ptr %fuelptr, ptr %ctx)",
                f"  %st{ip} = load i64, ptr %ctx", f"  %bad{ip} = icmp ne i64 %st{ip}, 0",
                f"  br i1 %bad{ip}, label %bail, label %R{ip}", f"R{ip}:"]

    lines = ["define i64 @unit(ptr %ctx) nounwind {", "entry:",
             f"  %fp = getelementptr i64, ptr %ctx, i64 {FUEL_WORD}",
             "  %fa = load i64, ptr %fp", "  %fuelptr = inttoptr i64 %fa to ptr"]
    for i, e in enumerate(callees):
        lines += [f"  %bp{e} = getelementptr i64, ptr %ctx, i64 {BUDGET + i}",
                  f"  %budget{e} = load i64, ptr %bp{e}"]
    lines += _locals(chunk.slot_count, width)
    lines += ["  %halted = alloca i64", "  store i64 0, ptr %halted"]
    lines += _emit_code(chunk, flow, 0, 0, False, call, end)
    lines += ["fail:", f"  store i64 {FUEL}, ptr %ctx", f"  ret i64 {FUEL}",
              "deep:", "  unreachable",
              "bail:", "  %why = load i64, ptr %ctx", "  ret i64 %why", "}", ""]
    for body_lines, _, _ in bodies:
        lines += body_lines
    return "\n".join(lines), shape
