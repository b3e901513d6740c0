"""The direct forms of a chunk's functions: Python functions of their arguments.

For every function `calls.eligible` picks, one generated module holds
`def d<entry>(s0, .., s<argc-1>, room)`: the function's region written by the region
code generator (`codegen`), with its operand stack and all its slots in Python locals
(the slots start as Undef, as a new frame's do), `Call`s of other direct forms as Python
calls, `ReturnValue` as `return`. `room` is how many more direct calls may nest inside
it; at 0 the call is left to the interpreter. Where the interpreter must take over the
function raises `Leave`; its handler turns any exception into the `Unwind` that rebuilds
the frames (`calls`).

One module per chunk, compiled once, bound once per VM (to its globals, constants and
extension functions) by the region code that calls into it (`bind`).
"""

from __future__ import annotations

import dataclasses
import time
import weakref
from typing import TYPE_CHECKING, Any

from fusevm.chunk import Chunk
from fusevm.instr import Decoded
from fusevm.interp.bodies import ENV
from fusevm.ops import Op

from . import extbodies
from .calls import STATS, Leave, eligible, unwound
from .codegen import _Gen, _locals
from .regions import ChunkPlan, Region, inline, plan

if TYPE_CHECKING:
    from fusevm.interp.vm import VM


class _DirectGen(_Gen):
    """The region code generator writing one function's direct form instead."""

    def __init__(self, chunk: Chunk, cp: ChunkPlan, region: Region) -> None:
        # Entered only at its entry: loop headers are reached from its own code alone.
        super().__init__(chunk, cp, dataclasses.replace(region, entries=(region.entry,)),
                         None)

    def leave(self, depth: int, target: int) -> str:
        return f"raise Leave({target}, {depth})"

    def hot_test(self, h: int) -> str:
        return "vm._interrupt_pending"

    def emit_call(self, ip: int, d: Decoded, depth: int, following: int | None) -> None:
        self.known.clear()
        if d.spec is Op.ReturnValue.spec:
            self.put(self.base, f"return s{depth - 1}", ip)
            return
        if d.spec is Op.Return.spec:
            self.put(self.base, "return", ip)
            return
        callee = self.direct_callee(d)
        assert callee is not None, "only functions whose calls have direct forms get one"
        argc = d.operands[1]
        first = depth - argc
        # Out of room: the interpreter runs this Call (and checks the depth limit).
        self.put(self.base, f"if not room:\n    {self.leave(depth, ip)}")
        args = ", ".join([*_locals(first, argc), "room - 1"])
        result = f"s{first} = " if self.an.returns_value.get(callee, True) else ""
        self.put(self.base, f"{result}d{callee}({args})", ip, first)
        if ip + 1 in self.region.ops:
            fall = self.fall(ip, following)
            if fall:
                self.put(self.base, fall)
        else:
            self.put(self.base, self.leave(self.depth_after(ip), ip + 1))

    def write(self) -> None:
        """The function's definition (at indentation 1, inside the module's `make`)."""
        entry = self.region.entry
        argc = self.an.arity[entry]
        self.put(1, f"def d{entry}({', '.join([*_locals(0, argc), 'room'])}):")
        self.put(2, "#SLOTS\npc = " + str(entry))
        self.put(2, "try:")
        self.put(3, f"if vm._interrupt_pending:\n    {self.leave(argc, entry)}")
        self.specialised = True  # runs of ops that cannot raise are written as one
        self.emit_blocks(self.analyze(optimistic=False))
        self.put(2, "except BaseException as exc:")
        cached = tuple(sorted(self.slots.read | self.slots.written))
        self.put(3, f"raise unwound(exc, LINE_IP, {cached!r}, NSLOTS, {entry}) from None")
        # A new frame's slots are Undef (on the placeholder's line: no line moves).
        fill = " = ".join(f"l{k}" for k in cached) + " = Undef" if cached else "pass"
        self.lines = [line.replace("#SLOTS", fill) for line in self.lines]


def source(chunk: Chunk) -> tuple[str, dict[int, tuple[int, int, bool]], dict[str, Any]]:
    """The module of `chunk`'s direct forms: its source, line -> (op, stack locals that
    are the interpreter's stack there) and the constants it names."""
    cp = plan(chunk)
    forms = eligible(chunk, cp)
    an = cp.analysis
    lines = ["def make(vm, plain, code):", "    stack = vm.stack",
             "    globals_ = vm.globals", "    consts = vm.chunk.constants",
             "    strict = vm.strict_int"]
    line_ip: dict[int, tuple[int, int, bool]] = {}
    consts: dict[str, Any] = {}
    for region in cp.regions:
        if region.entry not in forms:
            continue
        for ip in region.ops:
            d = an.decoded[ip]
            if d.ext is not None and inline(d):
                consts["callee"] = extbodies.callee
                lines.append("    " + extbodies.binding(ip, d))
    for region in cp.regions:
        if region.entry not in forms:
            continue
        gen = _DirectGen(chunk, cp, region)
        gen.write()
        text = gen.finish().splitlines()
        line_ip.update((k + len(lines), v) for k, v in gen.line_ip.items())
        lines.extend(text)
        consts.update(gen.consts)
    entries = ", ".join(f"{e}: d{e}" for e in sorted(forms))
    lines.append(f"    return {{{entries}}}")
    return "\n".join(lines) + "\n", line_ip, consts


_made: weakref.WeakKeyDictionary[Chunk, Any] = weakref.WeakKeyDictionary()
_bound: weakref.WeakKeyDictionary[VM, tuple[list[Any], dict[int, Any]]] = \
    weakref.WeakKeyDictionary()


def compiled(chunk: Chunk) -> Any:
    """The `make(vm, plain, code)` of `chunk`'s direct forms (compiled on first use)."""
    make = _made.get(chunk)
    if make is not None:
        return make
    started = time.perf_counter()
    text, line_ip, consts = source(chunk)
    namespace: dict[str, Any] = dict(ENV)
    namespace.update(consts)
    namespace.update(Leave=Leave, unwound=unwound, LINE_IP=line_ip,
                     NSLOTS=chunk.slot_count)
    exec(compile(text, f"<direct {chunk.source}>", "exec"), namespace)  # noqa: S102
    make = _made[chunk] = namespace["make"]
    STATS.forms += 1
    STATS.seconds += time.perf_counter() - started
    return make


def bind(vm: VM, plain: list[Any], code: list[Any]) -> dict[int, Any]:
    """The direct forms bound to `vm` (once per VM and preparation of its code)."""
    found = _bound.get(vm)
    if found is not None and found[0] is plain:
        return found[1]
    forms: dict[int, Any] = compiled(vm.chunk)(vm, plain, code)
    _bound[vm] = (plain, forms)
    STATS.bound += 1
    return forms
