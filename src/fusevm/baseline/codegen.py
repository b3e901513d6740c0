"""Python source for one region: ops with a body written out, the rest called, no dispatch.

The generated `make(vm, plain, code)` binds a VM and returns `run(pc)`, which executes the
region from op `pc` until it has to hand control back to the interpreter's dispatch loop,
returning the index of the op to continue at (exactly like an interpreter step, so the
dispatch loop cannot tell the difference). The frame layout is the interpreter's own
(V8's Sparkplug is the model): slots and globals stay where the interpreter keeps them;
while the region runs, the operand stack lives in Python locals `s0, s1, ...` (named by
depth, which the verifier fixed for every op) and the frame slots it names in locals
`l0, l1, ...`; whenever control leaves, both go back where the interpreter keeps them.

* Dispatch: basic blocks in ascending op order inside `while True`, each guarded by
  `if pc <= <its first op>:`, so a jump is `pc = <target>; continue` and a fall-through
  is free. A test no dispatch can pass with a later target is always true and becomes
  `if True:`, which `finish` then drops, its block moved out a level (`shape.without_nops`:
  CPython would run a NOP for the line on every turn of a loop); a loop whose ops no
  jump lands inside needs no `pc` on its back edge; a branch between blocks entered from
  it alone is an `if`/`else` around them, with no dispatch at all.
* An op with a body (`fusevm.interp.bodies`) is its body with the stack items renamed to
  the locals (and type tests of constants folded, `fold.py`); an extension op declared as
  a function of its stack values is a direct call of that function on the locals
  (`extbodies.py`); any other op calls the
  interpreter's step for it (`plain[ip]`), with the locals written back before and read
  again after. If that step does not continue with the next op (a call, a return, an
  extension op's jump), `run` returns where it goes.
* Edges into a hot point leave through the dispatch loop unless the hot point still runs
  this region's own step: an interrupt patches it (`VM.interrupt`), and a native tier may
  have taken it since (`jit.policy`). A loop's own back edges test that every `POLL`
  iterations only (`open_loop`).
* Errors: the line that raised gives the op (each op's code is on lines of its own), and
  the locals give its operand stack and slots, which go back first (`compiler.fault`).
"""

from __future__ import annotations

from fusevm import pyast as ast
from fusevm.chunk import Chunk
from fusevm.instr import Decoded
from fusevm.interp.bodies import BODIES, PER_VM_EXPR, Body
from fusevm.ops import F, Kind, Op
from fusevm.records import dataclass

from . import flow, shape
from .calls import direct_callee, eligible
from .fold import Localize
from .groups import Groups
from .loopcode import LoopCode
from .pieces import (
    basic_blocks,
    bind,
    flush,
    frame_spelling,
    local_index,
    reload,
    stack_locals,
    type_test,
    unparse,
)
from .ranges import Bounds
from .regions import ChunkPlan, Region, inline
from .session import Memo
from .shape import BACK, TEST, Block, Part
from .trees import copy_tree
from .types import KNOWN, Env, place_source, result_into, specialize, without_globals

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

    from . import growth

#: Placeholder lines replaced once the region's slot locals are known (each stays one line,
#: so line numbers, which locate errors, do not move).
FLUSH, RELEASE, RELOAD = "#FLUSH", "#RELEASE", "#RELOAD"
#: Placeholder of the line binding the direct forms the code calls: it asks for the
#: generic ones too when it calls any (`generic_calls`, known once the code is written).
FORMS = "#FORMS"

#: Back edges of a loop between its hot point's tests (an interrupt or a native tier waits
#: for at most this many iterations of the loop the region code is running).
POLL: Final = 1024

#: What an entry of specialised code checks: the exact types of its locals, and the
#: intervals of those the code relies on (`ranges`).
Guard = tuple[Env, Bounds]


@dataclass(frozen=True, slots=True)
class Generated:
    """The source of one region and what its fault handler needs."""

    source: str
    #: Source line -> (op index, how many stack locals to put back on vm.stack when that
    #: line raises: what the interpreter's step would have left there, and whether the slot
    #: locals are already back in the frame there; and where the op reads stack locals
    #: from slot locals, those (stack local, slot local) pairs: `fault_table`).
    line_ip: dict[int, tuple[Any, ...]]
    constants: dict[str, Any]  # names bound to non-literal operand values
    written: tuple[int, ...]  # frame slots the region writes through its locals
    #: The specialised code's guards, by entry, when it has a generic version besides
    #: (`generate_generic`, made when a guard first fails); None: one version.
    guards: dict[int, Guard] | None = None
    calls: bool = False  # it calls the chunk's direct forms (`make` binds them)
    generic_calls: bool = False  # some with arguments not known to be integers


class _Gen(Groups, LoopCode):
    def __init__(self, chunk: Chunk, cp: ChunkPlan, region: Region,
                 seen: tuple[int, Env] | None, memo: Memo | None = None) -> None:
        self.chunk = chunk
        self.an = cp.analysis
        self.region = region
        self.seen = seen  # the types the locals held at one entry when it was compiled
        self.lines: list[str] = []
        self.line_ip: dict[int, tuple[int, int, bool]] = {}
        self.consts: dict[str, Any] = {}
        self.slots = Localize()
        self.known: dict[str, Any] = {}  # stack local -> constant it holds
        self.env: Env = {}  # exact types of locals where the op being written starts
        #: Intervals of int locals there (`ranges`), and after the last op written with
        #: its temporaries (what its branch tests); per block start, from `analyze`.
        self.bounds: Bounds = {}
        self.bounds_full: Bounds = {}
        self.block_bounds: dict[int, Bounds] = {}
        #: The intervals each entry's guard checks besides the types (specialised code).
        self.guard_bounds: dict[int, Bounds] = {}
        #: Loop headers whose code assumes the intervals its guard on entry checks
        #: (`growth`: every slot the loop's sums read stays within its bound), with the
        #: growth each guard works out.
        self.assumed: dict[int, Bounds] = {}
        self.versioned: dict[int, growth.Growth] = {}
        self.last_stmts: list[ast.stmt] = []  # the code of the op `body_ast` gave last
        #: The code of the block's ops since its start or the last op with no body (in
        #: `analyze`): what a branch at its end tests (`ranges.resolve`).
        self.run_stmts: list[ast.stmt] = []
        #: Entry point -> the types of locals the specialised code assumes there (checked
        #: on entry), and hot point -> that check on its locals, for the generic code.
        self.guards: dict[int, Env] = {}
        self.edge_guard: dict[int, str] = {}
        self.base = 5  # the indentation of an op's code
        #: Whether an entry's guard checks the intervals its own code gives it (else
        #: entries bring none).
        self.guarded = True
        self.memo = Memo() if memo is None else memo  # (`body_ast`)
        #: The loops being written (first and last op), innermost last.
        self.nest: list[tuple[int, int]] = []
        #: The loops being written whose back edges are polled every `POLL` iterations
        #: (by first op), with the ops their `continue`s dispatch to (`poll_loop`).
        self.polls: dict[tuple[int, int], set[int]] = {}
        #: The jumps written as `pc = <target>` and a `continue` or `break`: (the first op
        #: whose block test the dispatch passes, the target). A block test no dispatch
        #: passes with a later target is always true, and left out (`finish`).
        self.dispatch: set[tuple[int, int]] = set()
        #: Branches written as an `if` around the blocks they choose between (by branch
        #: op: the block not taken, the block taken or None), the types at those blocks,
        #: and the last ops of those blocks (whose `Jump` to the join is not written).
        self.diamonds: dict[int, tuple[Block, Part]] = {}
        self.part_envs: dict[int, Env] = {}
        self.joined: set[int] = set()
        #: The op being written reads these stack locals from the slot locals they copy
        #: (`emit_group`'s `copies`), and the lines of such ops, with theirs (a fault
        #: there finds the stack local's value under the slot local's name).
        self.alias: dict[str, str] = {}
        #: (stack local, slot local): the op being written leaves its result in the slot
        #: local (`retarget`); set again to None once it has.
        self.into: tuple[str, str] | None = None
        self.retargeted = False
        self.moved = ("", "")
        self.line_alias: dict[int, dict[str, str]] = {}
        #: Functions with a direct form (`calls`), and those this code calls directly.
        self.forms = eligible(chunk, cp)
        self.callees = {e for ip in region.ops
                        if (e := self.direct_callee(cp.analysis.decoded[ip])) is not None}
        #: The globals its ops name (whose types an entry's guard may check), and the
        #: types of the constants they name: facts at every entry (`types.place`).
        self.globals_named, self.const_facts = places(chunk, cp, region)
        #: Those it calls with arguments not known to be integers (their generic forms:
        #: `direct.source`).
        self.generic_calls: set[int] = set()

    def put(self, indent: int, text: str, ip: int | None = None, keep: int = 0,
            flushed: bool = False) -> None:
        for part in text.splitlines():
            self.lines.append("    " * indent + part)
            if ip is not None:
                self.line_ip[len(self.lines)] = (ip, keep, flushed)

    # -- control ----------------------------------------------------------------------

    def depth_after(self, src: int) -> int:
        """The operand-stack depth after op `src` (what any successor starts with)."""
        d = self.an.decoded[src]
        depth = self.an.depth
        after = depth[src + 1] if src + 1 < len(depth) else None
        if after is not None and not d.spec.has(F.TERMINATOR) \
                and src + 1 not in self.region.stops:
            # The verifier's, which knows `PopFrame` truncates; not past a block's last
            # op, where the op after it (outside the block) has the depth of the code
            # around the block, not of the block's result.
            return after
        return int((depth[src] or 0) - d.spec.effect.pops(d.spec, d.operands)
                   + d.spec.effect.pushes(d.spec, d.operands))

    def leave(self, depth: int, target: int) -> str:
        out = flush(depth)
        return (out + "\n" if out else "") + f"{FLUSH}\nreturn {target}"

    def goto(self, src: int, target: int) -> str:
        """Statements that continue at op `target` from the end of op `src`."""
        return self.entry_guard(src, target) + self.jump(src, target)

    def jump(self, src: int, target: int) -> str:
        depth = self.depth_after(src)
        if target not in self.region.ops:  # a block's end, or the end of the chunk
            return self.leave(depth, target)
        again = f"pc = {target}\ncontinue"
        origin = self.nest[-1][0] if self.nest else -1  # where `continue` dispatches from
        polled = False
        if self.nest:
            first, last = self.nest[-1]
            # (A loop's own back edge tests nothing: its poll does, or it needs none.)
            polled = target == first and (self.nest[-1] in self.polls or not self.polled(first))
            if first == last and target == first:
                again = "continue"  # a one-block loop's back edge
            elif not first <= target <= last:
                again = f"pc = {target}\nbreak"  # out of the loop (forward, see `loops`)
                origin = last + 1
            else:
                self.polls.get(self.nest[-1], set()).add(target)
                if target == first:
                    again = f"{BACK} {first} {last}\ncontinue"
        if again != "continue":
            self.dispatch.add((origin, target))
        if target in self.region.hot and not polled:
            leave = self.leave(depth, target).replace("\n", "\n    ")
            return f"if {self.hot_test(target)}:\n    {leave}\n{again}"
        return again

    def hot_test(self, h: int) -> str:
        """When an edge into hot point `h` leaves through the dispatch loop: the interpreter
        no longer runs this region's step there (an interrupt, a native tier), or, in the
        generic code, the specialised code's check at `h` now holds."""
        test = f"code[{h}] is not st{h}"
        guard = self.edge_guard.get(h)
        return f"{test} or {guard}" if guard else test

    def check(self, e: int, spell: Callable[[str], str]) -> str:
        """The test of entry `e`'s guard: the types of its locals, then their intervals,
        and at a versioned loop's header its growth (`growth.guard_source`)."""
        types = self.guards.get(e, {})
        def where(name: str) -> str:  # (a local, or a global's fact: `types.place`)
            return place_source(name) or spell(name)
        parts = [type_test(types, where)] if types else []
        parts += [f"{lo} <= {spell(name)} <= {hi}"
                  for name, (lo, hi) in sorted(self.guard_bounds.get(e, {}).items())]
        g = self.versioned.get(e)
        if g is not None:
            from . import growth  # (loaded with the versioned loop: `LoopCode`)
            parts.append(growth.guard_source(g, lambda k: spell(f"l{k}"), f"g{e}_", types))
        return " and ".join(parts)

    def fall(self, src: int, following: int | None) -> str:
        """Statements that continue at op src + 1 from the end of a block (nothing when
        it is the block laid out next and not a hot point)."""
        nxt = src + 1
        if nxt not in self.region.ops or nxt != following:
            return self.goto(src, nxt)
        guard = self.entry_guard(src, nxt)
        if nxt in self.region.hot:
            leave = self.leave(self.depth_after(src), nxt).replace("\n", "\n    ")
            return f"{guard}if {self.hot_test(nxt)}:\n    {leave}"
        return guard.rstrip("\n")

    # -- ops --------------------------------------------------------------------------

    def body_ast(self, b: Body, d: Decoded, ip: int,
                 depth: int) -> tuple[list[ast.stmt], tuple[str, Any] | None]:
        """The op's statements with names bound and the types known folded (a branch's
        last one assigns `taken`), and the stack local it sets to a constant when that is
        all it does (`LoadInt 5`)."""
        p = len(b.inputs)
        inputs = stack_locals(depth - p, p)
        # The same op with the same facts about the names it mentions comes up again (the
        # analyses' rounds, which change the facts of other names, the writing, the other
        # generators of the compile: `Memo`): its statements are made once (they are
        # never changed in place), and the facts of the names it does not mention pass
        # through unchanged (`specialize` reads and changes only those it mentions).
        shape = (ip, tuple((type(self.known[k]), self.known[k]) if k in self.known else None
                           for k in inputs))
        memo = self.memo
        body = binder = None
        bound = memo.bound.get(shape)
        if bound is None:
            body, binder, bound = bind(b, d, ip, depth, self.known)
            memo.bound[shape] = bound
        mentioned, consts, read, written = bound
        self.consts.update(consts)
        self.slots.read.update(read)
        self.slots.written.update(written)
        key = self._memo_key(shape, mentioned)
        found = memo.made.get(key)
        if found is not None:
            self.env = {k: t for k, t in self.env.items() if k not in mentioned}
            self.env.update(found[2])
            self.bounds_full = {k: r for k, r in self.bounds.items() if k not in mentioned}
            self.bounds_full.update(found[3])
            self.bounds = {k: r for k, r in self.bounds_full.items() if k[0] != "t"}
            self.last_stmts = found[0]
            return found[0], found[1]
        if body is None:
            body, binder, _ = bind(b, d, ip, depth, self.known)
        bounds = dict(self.bounds)
        stmts, env = specialize(body, self.env, bounds, binder)
        self.env = {k: t for k, t in env.items() if k[0] != "t"}  # temps die with the op
        self.bounds_full = bounds
        self.bounds = {k: r for k, r in bounds.items() if k[0] != "t"}
        known = None
        if len(stmts) == 1 and isinstance(stmts[0], ast.Assign) and \
                isinstance(stmts[0].value, ast.Constant):
            target = stmts[0].targets[0]
            if isinstance(target, ast.Name) and target.id.startswith("s"):
                known = (target.id, stmts[0].value.value)
        memo.made[key] = (stmts, known,
                          {k: t for k, t in self.env.items() if k in mentioned},
                          {k: r for k, r in bounds.items() if k in mentioned})
        self.last_stmts = stmts
        return stmts, known

    def _memo_key(self, shape: Any, mentioned: frozenset[str]) -> Any:
        """What decides an op's statements besides the op: the types and intervals of the
        names they mention (and whether any interval is known: `types.specialize`)."""
        return (shape, frozenset((k, t) for k, t in self.env.items() if k in mentioned),
                frozenset((k, r) for k, r in self.bounds.items() if k in mentioned),
                not self.bounds)

    def body_code(self, b: Body, d: Decoded, ip: int,
                  depth: int) -> tuple[str, str | None, tuple[str, Any] | None]:
        """`body_ast` as source: the statements, the branch condition (if a branch), and
        the constant it sets."""
        ints = frozenset(k for k, t in self.env.items() if t is int)
        stmts, known = self.body_ast(b, d, ip, depth)
        if self.alias:
            reads: dict[str, ast.expr] = {local: ast.Name(slot, ast.Load())
                                          for local, slot in self.alias.items()}
            stmts = [copy_tree(st, reads) for st in stmts]
        if self.into is not None and not b.branches:
            moved = result_into(stmts, *self.into)
            self.retargeted, self.moved = moved is not None, self.into
            stmts = moved or stmts
        self.into = None
        # (an input read from the slot it copies has the input's type)
        ints |= {slot for local, slot in self.alias.items() if local in ints}
        # The memo's statements, written as they are, are written once a compile (their
        # source depends on the statements and `ints` only).
        texts = self.memo.texts
        key = (id(stmts), ints)
        found = texts.get(key)
        if found is not None and found[0] is stmts:
            return found[1], found[2], known
        text, cond = _source(stmts, ints, b.branches)
        if stmts is self.last_stmts:  # (held by the memo: its id stays its own)
            texts[key] = (stmts, text, cond)
        return text, cond, known

    def note_known(self, b: Body, depth: int, known: tuple[str, Any] | None) -> None:
        """After an op: the stack locals it wrote hold no known constant but the one
        it sets (`LoadInt 5`)."""
        for local in stack_locals(depth - len(b.inputs), max(len(b.inputs), len(b.outputs))):
            self.known.pop(local, None)
        if known is not None:
            self.known[known[0]] = known[1]

    def after_function(self, d: Decoded, depth: int) -> None:
        """After an extension op called as a function: what it wrote is not known but
        for the types its body promises."""
        from . import extbodies  # (loaded with the first extension op)
        p, q = extbodies.arity(d)
        for local in stack_locals(depth - p, max(p, q)):
            self.known.pop(local, None)
            self.env.pop(local, None)
        self.env = without_globals(self.env)  # (it may store any)
        self.env.update(extbodies.result_types(d, stack_locals(depth - p, q)))
        self.bounds = {}  # (it may have changed the frame's slots)

    def emit_op(self, ip: int, following: int | None) -> None:
        d = self.an.decoded[ip]
        depth = self.an.depth[ip] or 0
        self.put(self.base, f"# {ip}: {d.spec.name} {' '.join(map(str, d.operands))}".rstrip())
        if not inline(d):
            self.emit_call(ip, d, depth, following)
            return
        if d.ext is not None:  # a function of its stack values, called directly
            from . import extbodies
            p, q = extbodies.arity(d)
            code, keep = extbodies.call(ip, d, stack_locals(depth - p, p),
                                        stack_locals(depth - p, q), depth)
            self.put(self.base, code, ip, keep)
            self.after_function(d, depth)
            return
        b = BODIES[Op[d.spec.name]]
        start = len(self.lines)
        code, cond, known = self.body_code(b, d, ip, depth)
        # The interpreter's step for a body pops its inputs but the first, which it
        # replaces by the first output (bodies assign outputs after whatever may raise).
        p, q = len(b.inputs), len(b.outputs)
        keep = depth - p + (1 if p and q else 0)
        if code:
            self.put(self.base, code, ip, keep)
        self.note_known(b, depth, known)
        if cond is not None:
            self.emit_branch(ip, d, cond, keep)
        if self.alias:
            for line in range(start + 1, len(self.lines) + 1):
                if line in self.line_ip:
                    self.line_alias[line] = dict(self.alias)

    def emit_branch(self, ip: int, d: Decoded, cond: str, keep: int) -> None:
        target = d.targets()[0]
        if d.spec.has(F.TERMINATOR):
            if ip not in self.joined:  # (a diamond's block goes on after its `if`)
                self.put(self.base, self.goto(ip, target), ip)
            return
        if ip in self.diamonds:
            self.emit_diamond(ip, cond, keep)
            return
        if cond == "False":
            return  # (the types or intervals decide it is never taken)
        jump = self.goto(ip, target).replace("\n", "\n    ")
        self.put(self.base, f"if {cond}:\n    {jump}", ip, keep)

    def direct_callee(self, d: Decoded) -> int | None:
        """The entry of the function a `Call` runs when it has a direct form."""
        return direct_callee(self.chunk, self.forms, d)

    def emit_call(self, ip: int, d: Decoded, depth: int, following: int | None) -> None:
        """An op without a body: its interpreter step, with the locals written back."""
        self.known.clear()
        self.bounds = {}  # the step may change the frame's slots and stack
        callee = self.direct_callee(d)
        if callee is not None:
            self.emit_direct_call(ip, d, depth, following, callee)
            return
        after = self.depth_after(ip)
        out = flush(depth)
        if out:
            self.put(self.base, out, ip, depth)
        self.put(self.base, f"{FLUSH}\n{RELEASE}", ip, 0, True)
        self.put(self.base, f"nxt = f{ip}()", ip, 0, True)  # its stack is vm.stack itself
        self.put(self.base, f"slots = vm.slots\n{RELOAD}")
        if ip + 1 in self.region.ops:
            self.put(self.base, f"if nxt != {ip + 1}:\n    return nxt")
            if self.specialised and self.guards.get(ip + 1):
                # The step may have changed this frame's slots: the code after it assumes
                # their types, so it runs only if they still hold (else the generic code).
                self.put(self.base, f"if not ({self.check(ip + 1, str)}):\n"
                            f"    return {ip + 1}")
            back = reload(after)
            if back:
                self.put(self.base, back)
            fall = self.fall(ip, following)
            if fall:
                self.put(self.base, fall)
        else:
            self.put(self.base, "return nxt")

    def emit_direct_call(self, ip: int, d: Decoded, depth: int, following: int | None,
                         callee: int) -> None:
        """A `Call` of a function with a direct form: a Python call of that form with
        the stack locals (`calls`), unless the frames reach the VM's limits, where the
        interpreter's step runs it (and raises what it raises), or an interrupt is
        pending (the forms test none at their entries: the step enters the function's
        patched hot point)."""
        argc = d.operands[1]
        first = depth - argc
        self.put(self.base, f"r = cap - len(frames)\n"
                            f"if r < 0 or {callee} in native or vm._interrupt_pending:")
        out = flush(depth)
        if out:
            self.put(self.base + 1, out, ip, depth)
        self.put(self.base + 1, f"{FLUSH}\n{RELEASE}\nreturn f{ip}()", ip, 0, True)
        args = ", ".join([*stack_locals(first, argc), "r if r < bound else bound"])
        result = f"s{first} = " if self.an.returns_value.get(callee, True) else ""
        ints = argc and all(self.env.get(k) is int for k in stack_locals(first, argc))
        name = f"d{callee}i" if ints else f"d{callee}"
        if not ints:
            self.generic_calls.add(callee)
        self.put(self.base, f"STATS.entries += 1\n{result}{name}({args})", ip, first)
        self.after_call(ip, following)

    def after_call(self, ip: int, following: int | None) -> None:
        """Where a direct call continues: at the next op (falling into it when it is laid
        out next), or out of the region."""
        if ip + 1 in self.region.ops:
            fall = self.fall(ip, following)
            if fall:
                self.put(self.base, fall)
        else:
            self.put(self.base, self.leave(self.depth_after(ip), ip + 1))

    # -- the function -------------------------------------------------------------------

    def prelude(self, signature: str) -> None:
        """`def make(<signature>):` and the names its functions use, bound once."""
        an, region = self.an, self.region
        uses = {"slots"}
        for ip in region.ops:
            d = an.decoded[ip]
            if inline(d) and d.ext is None:
                uses |= BODIES[Op[d.spec.name]].uses
        self.put(0, f"def make({signature}):")
        self.put(1, "stack = vm.stack\npush = stack.append\npop = stack.pop\n"
                    f"extend = stack.extend\nticks = (None,) * {POLL}\ntick = (None,)")
        for name, expr in PER_VM_EXPR.items():
            if name in uses:
                self.put(1, f"{name} = {expr}")
        for ip in region.ops:
            if not inline(an.decoded[ip]):
                self.put(1, f"f{ip} = plain[{ip}]")
        for ip in region.ops:
            if an.decoded[ip].ext is not None and inline(an.decoded[ip]):
                from . import extbodies
                self.consts.update(extbodies.constants(ip, an.decoded[ip]))
                self.put(1, extbodies.binding(ip, an.decoded[ip]))
        if self.callees:
            self.put(1, "frames = vm.frames\ncap = frame_cap(vm)\nbound = room()\n"
                        f"native = vm.native_points\n{FORMS}")
            for e in sorted(self.callees):
                # (its integer form, where it has one: a call passing ints only skips the
                # generic form's type dispatch)
                self.put(1, f"d{e} = direct[{e}]\nd{e}i = direct.get('{e}i', d{e})")

    def generate(self) -> Generated:
        an, region = self.an, self.region
        self.prelude("vm, plain, code")
        self.version_loops()
        self.assumed = {h: g.assumed() for h, g in self.versioned.items()}
        spec_envs = self.analyze(optimistic=True)
        used = self.slots.read | self.slots.written
        self.guards = {e: {name: t for name, t in spec_envs.get(e, {}).items()
                           if (name[0] == "l" and int(name[1:]) in used)
                           or (name[0] == "s" and int(name[1:]) < (an.depth[e] or 0))
                           or (name[0] == "G" and int(name[1:]) in self.globals_named)}
                       for e in region.entries}
        # (An interval a versioned loop assumes at its header is its guard's to check.)
        # An interval is checked only where the entry's type says Int: a local's interval
        # can come from a path whose guard assumed an Int (a versioned loop's) while
        # the entry's type is another (a block's Str element), and comparing that with
        # the bounds would raise TypeError.
        self.guard_bounds = {e: {name: r for name, r in self.block_bounds.get(e, {}).items()
                                 if self.guards[e].get(name) is int
                                 and r != self.assumed.get(e, {}).get(name)}
                             for e in region.entries}
        # A versioned loop's header is checked on entry even with no type to check.
        checked = {e: bool(self.guards[e]) or e in self.versioned for e in region.entries}
        two = any(checked.values())
        self.specialised = True
        self.emit_version("spec" if two else "run", spec_envs)
        steps = ", ".join(f"{e}: st{e}" for e in region.entries)
        if two:
            # The generic code runs only when a guard fails, which most regions never
            # see: it is generated and compiled then (`generic`), once per region.
            self.put(1, "def gen(pc):")
            self.put(2, f"nonlocal gen\ngen = GENERIC(vm, plain, code, {{{steps}}})\n"
                        "return gen(pc)")
            self.put(1, "def run(pc):")
            self.put(2, "if vm._budget is not None:\n    return plain[pc]()")
            self.put(2, "slots = vm.slots")
            for e in region.entries:
                if checked[e]:
                    where = frame_spelling(an.depth[e] or 0)
                    self.put(2, f"if pc == {e} and not ({self.check(e, where)}):"
                                f"\n    return gen(pc)")
            self.put(2, "return spec(pc)")
        # Each entry's own step: no second call through `run`, no test of `pc`.
        for e in region.entries:
            if not two:
                # (`partial` calls `run` from C: one Python frame fewer per entry)
                self.put(1, f"st{e} = partial(run, {e})")
                continue
            self.put(1, f"def st{e}():")
            self.put(2, f"if vm._budget is not None:\n    return plain[{e}]()")
            if checked[e]:
                where = frame_spelling(an.depth[e] or 0)
                self.put(2, f"slots = vm.slots\nif not ({self.check(e, where)}):\n"
                            f"    return gen({e})")
            self.put(2, f"return spec({e})")
        self.put(1, f"return run, {{{steps}}}")
        return Generated(self.finish(), self.fault_table(), self.consts,
                         tuple(sorted(self.slots.written)),
                         {e: (self.guards[e], self.guard_bounds.get(e, {}))
                          for e in region.entries} if two else None, bool(self.callees),
                         bool(self.generic_calls))

    def generic(self, guards: dict[int, Guard]) -> Generated:
        """The source of `make(vm, plain, code, steps)` returning `gen(pc)`: the region
        written for any types, leaving at a hot point whose guard (`guards`, the
        specialised code's) holds again, through its step in `steps`."""
        self.prelude("vm, plain, code, steps")
        for h in sorted(self.region.hot):
            self.put(1, f"st{h} = steps[{h}]")
        self.guards = {e: types for e, (types, _) in guards.items()}
        self.guard_bounds = {e: bounds for e, (_, bounds) in guards.items()}
        self.specialised = False
        self.version_loops()  # (what their guards check; this code assumes nothing)
        # The same test as the specialised code's step makes (`check`): an edge whose
        # test passed here enters that code, not this again.
        self.edge_guard = {h: self.check(h, str) for h in self.region.hot
                           if self.guards.get(h) or h in self.versioned}
        self.emit_version("gen", self.analyze(optimistic=False))
        self.put(1, "return gen")
        return Generated(self.finish(), self.fault_table(), self.consts,
                         tuple(sorted(self.slots.written)))

    def fault_table(self) -> dict[int, tuple[Any, ...]]:
        """`line_ip` for the fault handler: a line whose op reads stack locals from the
        slot locals they copy (`line_alias`) carries those (stack local, slot local)
        pairs as a fourth item, since the stack locals were never assigned there."""
        alias = self.line_alias
        if not alias:
            return dict(self.line_ip)
        return {line: (*at, tuple(sorted(alias[line].items()))) if line in alias else at
                for line, at in self.line_ip.items()}

    def emit_version(self, name: str, envs: dict[int, Env]) -> None:
        """One function running the region from `pc`, written for the types `envs` gives
        at each block's start (the specialised code's checked on entry, by `run`)."""
        an, region = self.an, self.region
        self.put(1, f"def {name}(pc):")
        if name == "run":
            self.put(2, "if vm._budget is not None:\n    return plain[pc]()")
        self.put(2, f"slots = vm.slots\n{RELOAD}")
        for e in region.entries:
            depth = an.depth[e] or 0
            if depth:
                self.put(2, f"if pc == {e}:\n    " + reload(depth).replace("\n", "\n    "))
        self.put(2, "try:")
        self.emit_blocks(envs)
        if self.callees:
            self.put(2, "except Unwind as u:")
            self.put(3, "return resume(vm, u, LINE_IP, WRITTEN)")
        self.put(2, "except BaseException as exc:")
        self.put(3, "raise fault(vm, exc, LINE_IP, DEPTH, WRITTEN)")

    def emit_blocks(self, envs: dict[int, Env]) -> None:
        """The region's blocks in a `while True` (at indentation 3), each written for
        the types `envs` gives at its start."""
        an, region = self.an, self.region
        self.put(3, "while True:")
        blocks = basic_blocks(region)
        loops = shape.loops(self.an, self.region, blocks)
        ends: dict[int, int] = {}
        indent = 4
        self.diamonds = shape.diamonds(self.an, self.region, blocks, loops)
        self.part_envs = envs
        inside = {part[0] for parts in self.diamonds.values() for part in parts if part}
        for k, (start, ips) in enumerate(blocks):
            if start in inside:
                continue  # written in the `if` of the branch before it (`emit_diamond`)
            self.known.clear()
            self.env = dict(envs.get(start, {}))
            self.bounds = dict(self.block_bounds.get(start, {}))
            following = blocks[k + 1][0] if k + 1 < len(blocks) else None
            # A loop of several blocks is a Python loop around their tests: a jump inside
            # it is `continue`, out of it (always forward) `break`.
            for last in sorted((e for j, e in loops if j == k and e != k), reverse=True):
                indent = self.open_loop(indent, start, blocks[last][1][-1])
                ends[last] = ends.get(last, 0) + 1
            self.put(indent, f"{TEST} {start}")
            self.put(indent + 1, "pass")  # a block of ops with no code of their own (Nop)
            self.base = indent + 1
            # A block that branches back to its own start is a Python loop of its own,
            # with no block test on its back edge.
            looped = (k, k) in loops
            if looped:
                self.base = self.open_loop(self.base, start, ips[-1])
            self.emit_ops(ips, following)
            if looped:
                self.base = self.close_loop(self.base)
            d = an.decoded[ips[-1]]
            if inline(d) and not d.spec.has(F.TERMINATOR):
                fall = self.fall(ips[-1], following)
                if fall:
                    self.put(self.base, fall)
            for _ in range(ends.pop(k, 0)):
                indent = self.close_loop(indent)
        self.put(4, self.leave(0, len(self.chunk.ops)))

    def emit_diamond(self, ip: int, cond: str, keep: int) -> None:
        """The branch `ip` (`shape.diamonds`) and the blocks it chooses between."""
        then, other = self.diamonds[ip]
        base = self.base
        if other is None:
            self.put(base, f"if not ({cond}):", ip, keep)
            self.emit_part(then, base + 1)
        else:
            self.put(base, f"if {cond}:", ip, keep)
            self.emit_part(other, base + 1)
            self.put(base, "else:")
            self.emit_part(then, base + 1)
        self.base = base

    def emit_part(self, part: Block, indent: int) -> None:
        """One block of a diamond, at `indent`, ending where it falls or jumps (the
        join, which follows the `if`)."""
        start, ips = part
        self.known.clear()
        self.env = dict(self.part_envs.get(start, {}))
        self.bounds = dict(self.block_bounds.get(start, {}))
        self.base = indent
        self.put(indent, "pass")
        self.joined.add(ips[-1])
        self.emit_ops(ips, None)

    def emit_ops(self, ips: list[int], following: int | None) -> None:
        """A block's ops (those that cannot raise in runs written as one), an op's inputs
        that copy a slot read from the slot's local (its `copies`): `GetSlot 0 ... Concat;
        SetSlot 0` extends the slot's string in place, as CPython does for `s = s + t`
        when `s` alone holds it."""
        group: list[tuple[int, list[ast.stmt]]] = []
        for ip in ips:
            if self.stored(ip, group) or self.try_group(ip, group):
                continue
            self.alias = self.emit_group(group, None, self.copies_read(ip))
            self.retarget(ip, ips)
            self.emit_op(ip, following)
            self.alias = {}
        self.emit_group(group)

    def analyze(self, optimistic: bool) -> dict[int, Env]:
        """The exact types known at each block's start (`flow.analyze`)."""
        return flow.analyze(self, optimistic)

    def bounds_after_step(self, ip: int, d: Decoded) -> Bounds:
        """The intervals known after an op run by its interpreter step or called directly
        (from those before): after a direct call (`calls`), whose callee keeps its slots
        in locals of its own, the frame's slots and the stack below its arguments keep
        theirs; after any other step none is known."""
        if self.direct_callee(d) is None:
            return {}
        first = (self.an.depth[ip] or 0) - d.operands[1]
        return {k: r for k, r in self.bounds.items() if k[0] == "l"
                or (i := local_index(k)) is not None and i < first}

    def env_after_step(self, ip: int, d: Decoded) -> Env:
        """The types known after an op run by its interpreter step (from those before):
        the frame's slots and the constants keep theirs, the stack's are unknown, and
        the globals' too unless the op table says the op touches no variable (`_KEEPS`)."""
        keep = "lKG" if d.spec.flags & _KEEPS and not d.spec.flags & _MAY_STORE else "lK"
        return {k: t for k, t in self.env.items() if k[0] in keep}

    def successors(self, last: int) -> list[int]:
        return shape.successors(self.an, self.region, last)

    def finish(self) -> str:
        """The source with the slot placeholders filled in (one line each)."""
        cached = sorted(self.slots.read | self.slots.written)
        written = sorted(self.slots.written)
        fills = {
            FLUSH: (f"{', '.join(f'slots[{k}]' for k in written)}, = "
                    f"{', '.join(f'l{k}' for k in written)},") if written else "pass",
            RELEASE: f"{' = '.join(f'l{k}' for k in cached)} = None" if cached else "pass",
            RELOAD: (f"{', '.join(f'l{k}' for k in cached)}, = "
                     f"{', '.join(f'slots[{k}]' for k in cached)},") if cached else "pass",
            FORMS: "direct = forms(vm, plain, code, True)" if self.generic_calls
            else "direct = forms(vm, plain, code)",
        }
        for e in self.region.entries:
            self.dispatch.add((-1, e))
        out = []
        for line in self.lines:
            stripped = line.strip()
            if stripped in fills:
                line = line.replace(stripped, fills[stripped])
            elif stripped.startswith((TEST, BACK)):
                line = line.replace(stripped, shape.dispatch_line(stripped, self.dispatch))
            out.append(line)
        return "\n".join(shape.without_nops("\n".join(out).split("\n"))) + "\n"


#: Ops whose interpreter step stores no global, by their flags: a pure op, one that
#: pushes or pops a scope frame, one that reads or writes the VM's streams; unless it
#: also calls, runs blocks, an extension handler or the shell host (`_MAY_STORE`).
_KEEPS: Final = F.PURE | F.SCOPE | F.IO
_MAY_STORE: Final = F.CALL | F.BLOCK_CALL | F.EXTENDED | F.SHELL


def places(chunk: Chunk, cp: ChunkPlan, region: Region) -> tuple[frozenset[int], Env]:
    """The globals a region's op bodies may name (their NAME operands: `globals_[name]`),
    and the exact types of the constants they may name (their CONST operands:
    `consts[const]`) as facts (`types.place`). From the op table alone: a region the disk
    cache holds parses no body."""
    an = cp.analysis
    named: set[int] = set()
    facts: Env = {}
    constants = chunk.constants
    for ip in region.ops:
        d = an.decoded[ip]
        if not inline(d) or d.ext is not None:
            continue
        for operand, v in zip(d.spec.operands, d.operands):
            if operand.kind is Kind.NAME:
                named.add(v)
            elif operand.kind is Kind.CONST and type(constants[v]) in KNOWN:
                facts[f"K{v}"] = type(constants[v])
    return frozenset(named), facts


def _source(stmts: list[ast.stmt], ints: frozenset[str],
            branches: bool) -> tuple[str, str | None]:
    """An op's statements as source (`ints`: `unparse`'s), and a branch's condition (which
    its last statement assigns `taken`) apart."""
    if not branches:
        return unparse(stmts, ints), None
    last = stmts[-1]
    assert isinstance(last, ast.Assign)
    return unparse(stmts[:-1], ints), ast.unparse(last.value)


def generate(chunk: Chunk, cp: ChunkPlan, region: Region,
             seen: tuple[int, Env] | None = None, memo: Memo | None = None) -> Generated:
    """The Python source of `make(vm, plain, code)` for one region: specialised for the
    types its own code gives its locals, and at entry `seen[0]` for the types `seen[1]`
    found there when it was compiled (each checked on entry), with generic code besides.
    `memo`: what the compile's other generators made of its ops (`Memo`)."""
    return _Gen(chunk, cp, region, seen, memo).generate()


def generate_generic(chunk: Chunk, cp: ChunkPlan, region: Region,
                     guards: dict[int, Guard]) -> Generated:
    """The source of `make(vm, plain, code, steps)` for the generic version of a region
    whose specialised code checks `guards` (`Generated.guards`)."""
    return _Gen(chunk, cp, region, None).generic(guards)
