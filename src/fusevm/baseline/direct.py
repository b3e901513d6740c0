"""The direct forms of a chunk's functions: Python functions of their arguments.

For every function `calls.eligible` picks, one generated module holds
`def d<entry>(s0, .., s<argc-1>, room)`: the function's region written by the region
code generator (`codegen`), with its operand stack and all its slots in Python locals
(the slots start as Undef, as a new frame's do), `Call`s of other direct forms as Python
calls, `ReturnValue` as `return`. `room` is how many more direct calls may nest inside
it; at 0 the call is left to the interpreter. Where the interpreter must take over the
function raises `Leave`; its handler turns any exception into the `Unwind` that rebuilds
the frames (`calls`). An interrupt is seen at function entries without a test there: it
switches the names the forms call each other by to stand-ins (`_completed`).

One module per chunk, compiled once, and run once per VM (`bind`) in a namespace of its
own holding that VM, its globals, constants and extension functions: the forms are
module-level functions of that namespace, so a call of one by another is a global's
load, where functions nested in a binding function would copy their closure's cells
at every call and load the callee from a cell (about a tenth of fib's instructions).
"""

from __future__ import annotations

import time

from fusevm import pyast as ast
from fusevm.chunk import Chunk
from fusevm.entry import NoCycleCollection
from fusevm.instr import Decoded
from fusevm.interp.bodies import ENV, PER_VM_EXPR
from fusevm.loops import loop_facts, predecessors
from fusevm.ops import F, Op
from fusevm.records import replace
from fusevm.values import Undef

from . import shape
from .calls import STATS, Leave, Unwind, eligible, unwound
from .codegen import POLL, _Gen
from .pieces import basic_blocks, local_index, stack_locals
from .regions import ChunkPlan, Region, inline, plan
from .session import Memo
from .twins import Twins, WeakKeys
from .types import Env

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import CodeType
    from typing import Any

    from fusevm.interp.vm import VM

    from . import growth


class Restart(Exception):
    """A versioned loop's guard failed: the checked integer form runs the call. (A new
    instance each time: a shared one would keep every raising frame in its traceback.)"""


class _DirectGen(_Gen):
    """The region code generator writing one function's direct form instead: `d<entry>`
    for any arguments, or with `ints`, `d<entry>i` for integer arguments (`returns`: the
    functions whose integer form returns an integer, as far as known)."""

    def __init__(self, chunk: Chunk, cp: ChunkPlan, region: Region, ints: bool,
                 int_forms: frozenset[int], returns: frozenset[int], memo: Memo,
                 checked: bool = False) -> None:
        # Entered only at its entry: loop headers are reached from its own code alone.
        super().__init__(chunk, cp, replace(region, entries=(region.entry,)), None, memo)
        self.ints = ints
        #: The integer form's first loop written without the 64-bit checks its guard
        #: makes needless (`growth`), or None; `checked`: the integer form without it,
        #: `d<entry>ic`, which the other restarts when its guard fails.
        found = None if checked or not ints else versioned_loop(chunk, cp, region)
        self.suffix = "ic" if checked else "i" if ints else ""
        #: The slots of the arguments, in order, that a restart passes again.
        self.restart: tuple[int, ...] | None = None
        if found is not None:
            h, g, self.restart = found
            self.versioned = {h: g}
            self.assumed[h] = g.assumed()
        self.int_forms = int_forms
        self.returns = returns
        self.guarded = False  # no guard at its entry checks intervals
        self.flat = False  # written as plain Python (`structured`), no block dispatch
        #: The exact type of each value a ReturnValue returns (None: not known).
        self.returned: set[type | None] = set()
        #: The inputs of the call or return being written that `emit_group` folded into
        #: it: stack local -> the source of its value (the local is not assigned).
        self.folded: dict[str, str] = {}
        #: Each op's predecessors in the function (`room_tested`).
        self.preds: dict[int, set[int]] = {}
        for ip in self.region.ops:
            for target in self.successors(ip):
                self.preds.setdefault(target, set()).add(ip)

    def leave(self, depth: int, target: int) -> str:
        return f"raise Leave({target}, {depth})"

    def guard_failed(self, src: int, target: int) -> str:
        """The checked integer form runs the call from its start (what ran so far only
        set the function's own slots, `versioned_loop`), once the handler is left
        (`write`)."""
        return "raise Restart"

    # -- structured code: a function without loops needs no block dispatch ---------------

    def structured(self, blocks: list[tuple[int, list[int]]], lo: int, hi: int,
                   closed: bool) -> bool:
        """Whether blocks `lo` .. `hi - 1` can be written in order as plain Python, each
        forward branch over blocks that never come back (they return or leave) being an
        `if` around them; `closed`: control must not run past the last of them."""
        index = {start: k for k, (start, _) in enumerate(blocks)}
        k = lo
        while k < hi:
            d = self.an.decoded[blocks[k][1][-1]]
            nxt = k + 1
            jumps = inline(d) and d.spec.has(F.BRANCH)
            targets = d.targets() if jumps else []
            inside = [t for t in targets if t in self.region.ops]
            if len(targets) > 1:
                return False
            if inside:
                j = index.get(inside[0], -1)
                if j <= k or (d.spec.has(F.TERMINATOR) and j != k + 1):
                    return False
                if j > k + 1:
                    if j > hi or not self.structured(blocks, k + 1, j, True):
                        return False
                    nxt = j
            if closed and nxt == hi and (inside or not d.spec.has(F.TERMINATOR)):
                return False  # it would run on into the blocks after the range
            k = nxt
        return True

    def emit_blocks(self, envs: dict[int, Env]) -> None:
        blocks = basic_blocks(self.region)
        if not self.structured(blocks, 0, len(blocks), False):
            super().emit_blocks(envs)
            return
        self.flat = True
        k = 0
        stack: list[int] = []  # where the enclosing `if`s end
        while k < len(blocks):
            while stack and stack[-1] == k:
                stack.pop()
            start, ips = blocks[k]
            self.known.clear()
            self.env = dict(envs.get(start, {}))
            self.bounds = dict(self.block_bounds.get(start, {}))
            following = blocks[k + 1][0] if k + 1 < len(blocks) else None
            self.base = 3 + len(stack)
            self.emit_ops(ips, following)
            d = self.an.decoded[ips[-1]]
            if inline(d) and d.spec.has(F.BRANCH) and not d.spec.has(F.TERMINATOR):
                target = d.targets()[0]
                if target in self.region.ops and target != following:
                    stack.append(next(j for j, (s, _) in enumerate(blocks) if s == target))
            elif inline(d) and not d.spec.has(F.TERMINATOR):
                fall = self.fall(ips[-1], following)
                if fall:
                    self.put(self.base, fall)
            k += 1

    def emit_ops(self, ips: list[int], following: int | None) -> None:
        """A block's ops, the values a call or return reads computed in its argument list
        or `return` statement where they are used once (`emit_group`'s `into`), and an
        op's inputs that copy a slot read from the slot's local (its `copies`)."""
        group: list[tuple[int, list[ast.stmt]]] = []
        for ip in ips:
            if self.stored(ip, group) or self.try_group(ip, group):
                continue
            d = self.an.decoded[ip]
            if d.spec is Op.ReturnValue.spec or self.direct_callee(d) is not None:
                self.folded = self.emit_group(group, ip)
            else:
                self.alias = self.emit_group(group, None, self.copies_read(ip))
            self.retarget(ip, ips)
            self.emit_op(ip, following)
            self.folded, self.alias = {}, {}
        self.emit_group(group)

    def return_in_place(self, ip: int, top: str) -> bool:
        """Make the op before `ReturnValue` at `ip` (laid out before it, in its block)
        return the value it gives `top` instead of assigning it: its last line
        `top = X` becomes `return X`, and its 64-bit check's `if C: top = X` /
        `else: top = Y` returns on both branches. False when its code ends otherwise."""
        if ip == self.region.entry or self.preds.get(ip) != {ip - 1}:
            return False
        end = len(self.lines)
        while end and self.lines[end - 1].lstrip().startswith("#"):
            end -= 1
        pad = "    " * self.base
        assign = f"{pad}{top} = "
        tail = self.lines[max(0, end - 4):end]
        if len(tail) == 4 and tail[0].startswith(f"{pad}if ") and tail[2] == f"{pad}else:" \
                and all(line.startswith(f"{pad}    {top} = ") for line in tail[1::2]):
            for k in (end - 3, end - 1):
                self.lines[k] = self.lines[k].replace(f"{top} = ", "return ", 1)
            return True
        if end and self.lines[end - 1].startswith(assign) \
                and not self.lines[end - 1].startswith(assign + "("):
            self.lines[end - 1] = f"{pad}return " + self.lines[end - 1][len(assign):]
            return True
        return False

    def room_tested(self, ip: int) -> bool:
        """Whether control reaches op `ip` only straight from an earlier direct call,
        whose test of `room` (unchanged since) holds for this one too."""
        while ip != self.region.entry and self.preds.get(ip) == {ip - 1}:
            ip -= 1
            if self.direct_callee(self.an.decoded[ip]) is not None:
                return True
        return False

    def emit_branch(self, ip: int, d: Decoded, cond: str, keep: int) -> None:
        if not self.flat:
            super().emit_branch(ip, d, cond, keep)
            return
        target = d.targets()[0]
        if target not in self.region.ops:
            super().emit_branch(ip, d, cond, keep)  # it leaves
        elif not d.spec.has(F.TERMINATOR) and target != ip + 1:
            # The blocks up to the target run when the branch is not taken.
            self.put(self.base, f"if not ({cond}):", ip, keep)

    def hot_test(self, h: int) -> str:
        return "vm._interrupt_pending"

    def ticks(self, h: int) -> str:
        return "ticks"  # (no other step wraps a direct form's loops)

    def polled(self, first: int) -> bool:
        """A direct form's loops are polled for an interrupt alone, which a versioned loop
        whose guard bounds its iterations to fewer than `POLL` never reaches (fib's pair:
        at most 62): it needs no polling."""
        g = self.versioned.get(first)
        if g is not None and first in self.assumed:
            most = g.most_entries
            if most is not None and most < POLL:
                return False
        return super().polled(first)

    def env_after_step(self, ip: int, d: Decoded) -> Env:
        """After a direct call the values below its arguments keep their types, and the
        integer form of a function that returns integers returns one."""
        callee = self.direct_callee(d)
        if callee is None:
            return super().env_after_step(ip, d)
        depth = self.an.depth[ip] or 0
        first = depth - d.operands[1]
        env = super().env_after_step(ip, d)
        env.update((k, t) for k, t in self.env.items()
                   if (i := local_index(k)) is not None and i < first)
        if callee in self.returns and self.passes_ints(d, callee, depth):
            env[f"s{first}"] = int
        return env

    def passes_ints(self, d: Decoded, callee: int, depth: int) -> bool:
        """Whether the Call `d` (at stack depth `depth`) passes integers only, as the
        types known before it say, to a function with an integer form."""
        argc = d.operands[1]
        return callee in self.int_forms and all(
            self.env.get(name) is int for name in stack_locals(depth - argc, argc))

    def emit_call(self, ip: int, d: Decoded, depth: int, following: int | None) -> None:
        self.known.clear()
        folded = self.folded
        if d.spec is Op.ReturnValue.spec:
            top = f"s{depth - 1}"
            self.returned.add(self.env.get(top))
            if top in folded or not self.return_in_place(ip, top):
                self.put(self.base, f"return {folded.get(top, top)}", ip)
            return
        if d.spec is Op.Return.spec:
            self.put(self.base, "return", ip)
            return
        callee = self.direct_callee(d)
        assert callee is not None, "only functions whose calls have direct forms get one"
        argc = d.operands[1]
        first = depth - argc
        ints = self.passes_ints(d, callee, depth)
        name = f"d{callee}i" if ints else f"d{callee}"
        if not ints:
            self.generic_calls.add(callee)
        # Out of room: the interpreter runs this Call (and checks the depth limit), with
        # the arguments folded into the call on its stack. The room the callee gets is
        # worked out with the test, once for the calls after it that the test covers
        # (`room_tested`): fib's two calls pay one subtraction, not two.
        if not self.room_tested(ip):
            values = "".join(f"\n    {k} = {v}" for k, v in folded.items())
            self.put(self.base, f"if not room:{values}\n    {self.leave(depth, ip)}")
            self.put(self.base, "inner = room - 1")
        args = ", ".join([*(folded.get(k, k) for k in stack_locals(first, argc)), "inner"])
        result = f"s{first} = " if self.an.returns_value.get(callee, True) else ""
        self.put(self.base, f"{result}{name}({args})", ip, first)
        self.after_call(ip, following)

    def write(self) -> None:
        """The function's definition, written at indentation 1 as the generators write a
        function's body (`source` moves the module's lines out a level)."""
        entry = self.region.entry
        argc = self.an.arity[entry]
        at = len(self.lines)
        self.put(1, "#DEF")
        if self.ints:
            self.seen = (entry, {name: int for name in stack_locals(0, argc)})
        elif entry in self.int_forms:
            # Integer arguments: the integer form (outside the handler: not a frame).
            test = " and ".join(f"type({name}) is int" for name in stack_locals(0, argc))
            self.put(2, f"if {test}:\n    return d{entry}i(#ARGS)")
        self.put(2, "#SLOTS\n#PC")
        self.put(2, "try:")
        self.specialised = True  # runs of ops that cannot raise are written as one
        self.emit_blocks(self.analyze(optimistic=self.ints))
        if self.restart is not None:
            # The restart runs outside the handler: its errors are the call's own, not
            # those of a call from this one.
            self.put(2, "except Restart:\n    pass")
        self.put(2, "except BaseException as exc:")
        cached = tuple(sorted(self.slots.read | self.slots.written))
        self.put(3, f"raise unwound(exc, LINE_IP, {cached!r}, NSLOTS, {entry}, ALIAS) "
                    "from None")
        if self.restart is not None:
            again = ", ".join([*(f"l{k}" for k in self.restart), "room"])
            self.put(2, f"STATS.fallbacks += 1\nreturn d{entry}ic({again})")
        # A new frame's slots are Undef; block dispatch starts at the entry (each on its
        # placeholder's line: no line moves).
        # Not those the prologue sets before anything reads them (its `SetSlot`s of the
        # arguments): the handler reads a slot not set yet as Undef.
        prologue: list[int] = []
        ip = entry
        while ip in self.region.ops and self.an.decoded[ip].spec is Op.SetSlot.spec:
            prologue.append(self.an.decoded[ip].operands[0])
            ip += 1
        blank = [k for k in cached if k not in prologue]
        params = ", ".join([*self.parameters(at, prologue[:argc]), "room"])
        fill = {"#SLOTS": " = ".join(f"l{k}" for k in blank) + " = Undef" if blank
                else "pass", "#PC": "pass" if self.flat else f"pc = {entry}",
                "#DEF": f"def d{entry}{self.suffix}({params}):"}
        self.lines = [line.replace(line.strip(), fill[line.strip()])
                      if line.strip() in fill else line.replace("#ARGS", params)
                      for line in self.lines]

    def parameters(self, at: int, prologue: list[int]) -> list[str]:
        """The names of the function's parameters: its arguments' stack locals, but the
        slot local of each that the prologue's `SetSlot`s store it in (`prologue`: their
        slots, innermost argument first), where their statements `l<k> = s<j>` are the
        first the function runs (they become `pass`: the argument arrives there)."""
        argc = self.an.arity[self.region.entry]
        names = stack_locals(0, argc)
        if len(set(prologue)) < len(prologue) or self.region.entry in self.preds:
            return names  # (a slot set twice; or the prologue runs again)
        wanted = [f"l{k} = s{argc - 1 - i}" for i, k in enumerate(prologue)]
        found: list[int] = []
        for k in range(at + 1, len(self.lines)):
            line = self.lines[k].strip()
            if not wanted[len(found):]:
                break
            if line == wanted[len(found)]:
                found.append(k)
            elif not (line.startswith("#") or line in ("pass", "try:", "while True:")):
                return names  # the function does something else first
        if len(found) < len(wanted):
            return names
        for k in found:
            line = self.lines[k]
            self.lines[k] = line[:len(line) - len(line.lstrip())] + "pass"
        for i, slot in enumerate(prologue):
            names[argc - 1 - i] = f"l{slot}"
        return names


def _int_forms(chunk: Chunk, cp: ChunkPlan, forms: frozenset[int]) -> frozenset[int]:
    """The functions that also get an integer form: those with arguments, entered only
    from outside (no jump back to their first op, which the form's types assume)."""
    found = set()
    for region in cp.regions:
        if region.entry in forms and cp.analysis.arity[region.entry] \
                and not shape.reentered(cp.analysis, region):
            found.add(region.entry)
    return frozenset(found)


def _write(chunk: Chunk, cp: ChunkPlan, forms: frozenset[int], int_forms: frozenset[int],
           returns: frozenset[int], memo: Memo, generic: bool
           ) -> tuple[list[_DirectGen], frozenset[int]]:
    """Every direct form (the generic forms of functions with an integer form only with
    `generic`), and the functions whose integer form was seen to return only integers
    when those in `returns` are assumed to."""
    gens: list[_DirectGen] = []
    proven = set()
    for region in cp.regions:
        if region.entry not in forms:
            continue
        has_ints = region.entry in int_forms
        for ints in ((True, False) if generic else (True,)) if has_ints else (False,):
            gen = _DirectGen(chunk, cp, region, ints, int_forms, returns, memo)
            gen.write()
            gens.append(gen)
            returned = [gen.returned]
            if gen.restart is not None:
                checked = _DirectGen(chunk, cp, region, True, int_forms, returns, memo, True)
                checked.write()
                gens.append(checked)
                returned.append(checked.returned)
            if ints and all(r == {int} for r in returned):
                proven.add(region.entry)
    return gens, frozenset(proven)


def form_ops(chunk: Chunk, cp: ChunkPlan, forms: frozenset[int]) -> int:
    """How many ops the direct forms of `forms` write at their first compile, as the
    compile decision estimates it: each function's once (its integer form, where it has
    one, else its generic form: `source`), twice where its integer form has a versioned
    loop (the checked copy besides)."""
    int_forms = _int_forms(chunk, cp, forms)
    total = 0
    for r in cp.regions:
        if r.entry in forms:
            copies = 2 if r.entry in int_forms and versioned_loop(chunk, cp, r) is not None \
                else 1
            total += copies * len(r.ops)
    return total


def versioned_loop(chunk: Chunk, cp: ChunkPlan,
                   region: Region) -> tuple[int, growth.Growth, tuple[int, ...]] | None:
    """The loop of function `region` that its integer form writes without 64-bit checks
    behind a guard (`growth`): the first loop, when the function gets there in a
    straight line of ops that only set its own slots from constants, slots and sums
    (so that running the call again from its start, when the guard fails, is the same
    as running it once), none of them the slot of an argument once it is set. Its
    header, its growth and the slots of the arguments in order (the restart's
    arguments); None when there is no such loop or its values cannot be bounded."""
    an = cp.analysis
    facts = loop_facts(chunk)
    inside = frozenset(region.ops)
    if inside.isdisjoint(facts.back_edges):
        return None  # (no loop in the function: nothing to find)
    from . import tripcount  # (loaded with the first function that has a loop)
    ip = region.entry
    argc = an.arity[region.entry]
    bound: list[int] = []  # the slot each argument is set in, innermost first
    while len(bound) < argc and ip in region.ops and an.decoded[ip].spec is Op.SetSlot.spec:
        bound.append(an.decoded[ip].operands[0])
        ip += 1
    params = set(bound)
    if len(params) < argc:
        return None  # (an argument not kept in a slot of its own: no restart from it)
    while ip not in facts.back_edges:
        if ip not in inside or facts.succs[ip] != (ip + 1,) or \
                ip in facts.entries and ip != region.entry:
            return None
        core = tripcount.core_ops(chunk.ops[ip], ip)
        if core is None:
            return None
        for instr in core:
            kind = tripcount.op_kind(instr[0])
            if kind is None:
                return None
            if kind[0] == "set" and instr[1 + kind[1]] in params:
                return None
            if kind[0] not in ("get", "set", "const", "copy", "step", "sum", "rel"):
                return None
        ip += 1
    h = ip
    body = tripcount.loop_body(chunk, facts, h)
    # Entered only from the op before it (its guard's edge) and from its own back edges.
    if any(src != h - 1 and src not in body for src in predecessors(chunk, facts).get(h, ())):
        return None
    from . import growth  # (loaded by the first function with such a loop)
    found = growth.growth(chunk, facts, h, an.depth[h] or 0)
    if found is None or found.counter_only:  # (a function's loop is entered per call)
        return None
    return h, found, tuple(reversed(bound))


def source(chunk: Chunk, memo: Memo | None = None, generic: bool = False) -> tuple[
        str, dict[int, tuple[int, int, bool]], dict[str, Any], bool]:
    """The module of `chunk`'s direct forms: its source, line -> (op, stack locals that
    are the interpreter's stack there), the constants it names, and whether it has every
    generic form. `memo`: what the compile's other generators made of the chunk's ops
    (`codegen.Memo`).

    Without `generic`, a function with an integer form gets no generic form when no
    integer form calls one: its `d<entry>` hands integer arguments to the integer form
    and others to the generic form of the module with them all, made at the first such
    call (`generic_forms`). Call-bound code passing integers (fib, ackermann) calls
    only integer forms, and their generic forms were half of what its compile wrote."""
    memo = Memo() if memo is None else memo
    cp = plan(chunk)
    forms = eligible(chunk, cp)
    an = cp.analysis
    lines = ["# (run in a namespace holding vm, plain and code: `_binder`)", "    stack = vm.stack",
             *(f"    {name} = {expr}" for name, expr in PER_VM_EXPR.items()),
             f"    ticks = (None,) * {POLL}"]
    line_ip: dict[int, tuple[int, int, bool]] = {}
    consts: dict[str, Any] = {}
    for region in cp.regions:
        if region.entry not in forms:
            continue
        for ip in region.ops:
            d = an.decoded[ip]
            if d.ext is not None and inline(d):
                from . import extbodies  # (loaded with the first extension op)
                consts.update(extbodies.constants(ip, d))
                lines.extend("    " + line for line in extbodies.binding(ip, d).splitlines())
    # Which integer forms return integers: assume all do, keep what the code then shows
    # (a greatest fixpoint: each round can only drop functions).
    int_forms = _int_forms(chunk, cp, forms)
    returns = int_forms
    while True:
        gens, proven = _write(chunk, cp, forms, int_forms, returns, memo, generic)
        if not generic and any(gen.generic_calls & int_forms for gen in gens):
            generic = True  # (an integer form calls a generic one: write them all)
            continue
        if proven >= returns:
            break
        returns = returns & proven
    alias: dict[int, dict[str, str]] = {}
    for gen in gens:
        text = gen.finish().splitlines()
        line_ip.update((k + len(lines), v) for k, v in gen.line_ip.items())
        alias.update((k + len(lines), v) for k, v in gen.line_alias.items())
        lines.extend(text)
        consts.update(gen.consts)
    handing_on = not generic and int_forms
    if handing_on:
        lines.extend(_handing_on(an.arity, int_forms))
    # What binding it adds (`_completed`): the stand-ins and their switch, `bind_generic`.
    consts["SWITCH"] = (tuple(f"d{e}{i}" for e in sorted(forms)
                              for i in ("", "i")[:1 + (e in int_forms)]),
                        tuple((e, an.arity[e]) for e in sorted(forms)),
                        tuple(sorted(int_forms)) if handing_on else ())
    entries = ", ".join([*(f"{e}: d{e}" for e in sorted(forms)),
                         *(f"'{e}i': d{e}i" for e in sorted(int_forms))])
    lines.append(f"    FORMS = {{{entries}}}")
    consts["ALIAS"] = alias
    # Written one level in, as the generators write a function's body; run at the top
    # level (the first line is a comment: no line moves, so `line_ip` holds).
    module = "\n".join([lines[0], *(line[4:] for line in lines[1:])]) + "\n"
    return module, line_ip, consts, generic or not int_forms


def _handing_on(arity: dict[int, int], int_forms: frozenset[int]) -> list[str]:
    """Lines of the module defining `d<entry>` of each function with an integer form, where
    its generic form is not written: integer arguments go to the integer form, others to
    the generic form `g<entry>` of the module with them all (`generic_forms`, bound by
    `bind_generic()` at the first such call: `_completed`). Neither has a frame of its own
    to unwind: the form called does."""
    lines = [f"    {' = '.join(f'g{e}' for e in sorted(int_forms))} = None"]
    for e in sorted(int_forms):
        params = ", ".join([*stack_locals(0, arity[e]), "room"])
        test = " and ".join(f"type({name}) is int" for name in stack_locals(0, arity[e]))
        lines += [f"    def d{e}({params}):",
                  f"        if {test}:",
                  f"            return d{e}i({params})",
                  f"        if g{e} is None:",
                  "            bind_generic()",
                  f"        return g{e}({params})"]
    return lines


def _completed(namespace: dict[str, Any]) -> Any:
    """Complete a module of direct forms just run for one VM (`namespace`, its globals):
    `bind_generic()`, which binds the forms `d<entry>` hand other arguments on to
    (`_handing_on`), the interrupted stand-in of each form and `interrupted(on)`, which
    rebinds the names the forms call each other by to the stand-ins (on) or back; returns
    `interrupted`. (Functions of this module, not written into each chunk's: compiling
    them cost each one-shot compile more than the forms themselves.)

    An interrupt costs the calls nothing: the forms test no flag at their entries. A
    stand-in raises the `Unwind` the form's handler would make of a `Leave` to the
    function's entry with its arguments as the stack and a new frame's slots (where the
    interpreter's patched hot point raises Interrupted); one that finds no interrupt
    pending (it was seen elsewhere) puts the forms back and calls the real one."""
    names, arities, generic = namespace["SWITCH"]
    vm = namespace["vm"]
    if generic:
        def bind_generic() -> None:
            found = generic_forms(vm, namespace["plain"], namespace["code"])
            namespace.update((f"g{e}", found[e]) for e in generic)
        namespace["bind_generic"] = bind_generic
    nslots = namespace["NSLOTS"]

    def stand_in(entry: int, argc: int) -> Any:
        form = f"d{entry}"

        def x(*args: Any) -> Any:
            if not vm._interrupt_pending:
                interrupted(False)
                if vm._interrupt_pending:  # set again meanwhile
                    interrupted(True)
                return namespace[form](*args)
            raise Unwind(entry, list(args[:argc]), [Undef] * nslots, None) from None
        return x
    made = {e: stand_in(e, argc) for e, argc in arities}
    stand_ins = tuple(made[int(name[1:].rstrip("i"))] for name in names)
    real = tuple(namespace[name] for name in names)

    def interrupted(on: bool) -> None:
        namespace.update(zip(names, stand_ins if on else real))
    return interrupted


#: The `make` of each chunk's direct forms (an equal chunk object shares it), and of the
#: module with every generic form (`generic_forms`).
_made: Twins[Any] = Twins("baseline.direct")
_made_generic: Twins[Any] = Twins("baseline.direct.generic")
#: Per VM: the code list the forms were bound for, the forms, their `interrupted(on)`;
#: the same for the generic forms once bound.
_bound: WeakKeys[VM, tuple[list[Any], dict[int | str, Any], Any]] = WeakKeys()
_bound_generic: WeakKeys[VM, tuple[list[Any], dict[int | str, Any], Any]] = WeakKeys()


def is_compiled(chunk: Chunk) -> bool:
    """Whether `chunk`'s direct forms are compiled already (in this process)."""
    return _made.get(chunk) is not None


def compiled(chunk: Chunk, memo: Memo | None = None, generic: bool = False) -> Any:
    """The `make(vm, plain, code)` of `chunk`'s direct forms, or with `generic` of a
    module with every generic form (`source`), compiled on first use (`memo`: what the
    compile's other generators made of the chunk's ops). A module with every generic
    form serves as both. `make` returns the forms bound to that VM and their
    `interrupted(on)`."""
    make = _made_generic.get(chunk) if generic else \
        _made.get(chunk) or _made_generic.get(chunk)
    if make is not None:
        return make
    started = time.perf_counter()
    with NoCycleCollection():
        text, line_ip, consts, full = source(chunk, memo, generic)
        code = compile(text, f"<direct {chunk.source}{' generic' if generic else ''}>",
                       "exec")
    namespace: dict[str, Any] = dict(ENV)
    namespace.update(consts)
    namespace.update(Leave=Leave, unwound=unwound, LINE_IP=line_ip,
                     NSLOTS=chunk.slot_count, STATS=STATS, Restart=Restart,
                     generic_forms=generic_forms)
    make = _binder(code, namespace)
    if _made.get(chunk) is None:
        _made.add(chunk, make)
    if full and _made_generic.get(chunk) is None:
        _made_generic.add(chunk, make)
    STATS.forms += 1
    STATS.seconds += time.perf_counter() - started
    return make


def _binder(module: CodeType, base: dict[str, Any]) -> Any:
    """`make(vm, plain, code)`: runs the module of direct forms `module` in a namespace
    of its own, `base` (what every VM's forms name) with that VM's `vm`, `plain` and
    `code`, and returns its forms and their `interrupted(on)`."""
    def make(vm: VM, plain: list[Any], code: list[Any]) -> tuple[dict[int | str, Any], Any]:
        namespace = dict(base)
        namespace.update(vm=vm, plain=plain, code=code)
        exec(module, namespace)  # noqa: S102
        return namespace["FORMS"], _completed(namespace)
    return make


def bind(vm: VM, plain: list[Any], code: list[Any],
         generic: bool = False) -> dict[int | str, Any]:
    """The direct forms bound to `vm` (once per VM and preparation of its code); with
    `generic` (code calling some with arguments not known to be integers), or once they
    are compiled for its chunk, those of the module with every generic form."""
    if generic or _made_generic.get(vm.chunk) is not None:
        return generic_forms(vm, plain, code)
    return _bound_to(vm, plain, code, False)


def generic_forms(vm: VM, plain: list[Any], code: list[Any]) -> dict[int | str, Any]:
    """The forms of `vm`'s chunk with every generic one written out, bound to `vm`: for
    code that calls generic forms (`bind`), and at the first call of a function's
    `d<entry>` with arguments its integer form does not take (`source`)."""
    return _bound_to(vm, plain, code, True)


def _bound_to(vm: VM, plain: list[Any], code: list[Any],
              generic: bool) -> dict[int | str, Any]:
    """The forms of `compiled(vm.chunk, generic=generic)` bound to `vm`, once per VM and
    preparation of its code (`plain`)."""
    table = _bound_generic if generic else _bound
    found = table.get(vm)
    if found is not None and found[0] is plain:
        return found[1]
    forms: dict[int | str, Any]
    forms, switch = compiled(vm.chunk, generic=generic)(vm, plain, code)
    table[vm] = (plain, forms, switch)
    if vm._interrupt_pending:  # (an interrupt that looked for the binding too early)
        switch(True)
    STATS.bound += 1
    return forms


def interrupt(vm: VM) -> None:
    """`vm.interrupt()`: the calls between `vm`'s direct forms enter their stand-ins,
    which leave to the interpreter at the callee's entry (its patched hot point)."""
    for bound in (_bound, _bound_generic):
        found = bound.get(vm)
        if found is not None:
            found[2](True)
