"""Python source for one region: ops with a body written out, the rest called, no dispatch.

The generated `make(vm, plain, code)` binds a VM and returns `run(pc)`, which executes the
region from op `pc` until it has to hand control back to the interpreter's dispatch loop,
returning the index of the op to continue at (exactly like an interpreter step, so the
dispatch loop cannot tell the difference). The frame layout is the interpreter's own
(V8's Sparkplug is the model): slots and globals stay where the interpreter keeps them,
and only the operand stack lives in Python locals `s0, s1, ...` (named by depth, which the
verifier fixed for every op) while the region runs; whenever control leaves, they go back
onto `vm.stack`. So entering or leaving costs nothing but that.

* Dispatch: basic blocks in ascending op order inside `while True`, each guarded by
  `if pc <= <its first op>:`, so a jump is `pc = <target>; continue` and a fall-through
  is free.
* An op with a body (`fusevm.interp.bodies`) is its body with the stack items renamed to
  the locals; any other op calls the interpreter's step for it (`plain[ip]`), with the
  locals flushed to `vm.stack` before and reloaded after. If that step does not continue
  with the next op (a call, a return, an extension op's jump), `run` returns where it goes.
* Edges into a hot point leave through the dispatch loop unless the hot point still runs
  this region's own step: an interrupt patches it (`VM.interrupt`), and a native tier may
  have taken it since (`jit.policy`).
* Errors: the line that raised gives the op (each op's code is on lines of its own), and
  the locals give its operand stack, which goes back onto `vm.stack` first.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from fusevm.chunk import Chunk
from fusevm.instr import Decoded
from fusevm.interp.bodies import BODIES, Body
from fusevm.ops import F, Kind, Op

from .regions import ChunkPlan, Region, inline


@dataclass(frozen=True, slots=True)
class Generated:
    """The source of one region and what its fault handler needs."""

    source: str
    #: Source line -> (op index, how many stack locals to put back on vm.stack when that
    #: line raises: what the interpreter's step would have left there).
    line_ip: dict[int, tuple[int, int]]
    constants: dict[str, Any]  # names bound to non-literal operand values


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line_ip: dict[int, tuple[int, int]] = {}

    def put(self, indent: int, text: str, ip: int | None = None, keep: int = 0) -> None:
        for part in text.splitlines():
            self.lines.append("    " * indent + part)
            if ip is not None:
                self.line_ip[len(self.lines)] = (ip, keep)


def _locals(first: int, count: int) -> list[str]:
    return [f"s{k}" for k in range(first, first + count)]


def _tuple(names: list[str]) -> str:
    return f"({', '.join(names)},)" if names else "()"


def flush(depth: int) -> str:
    """Statements that put the locals of an operand stack of `depth` onto vm.stack."""
    if depth == 0:
        return ""
    if depth == 1:
        return "push(s0)"
    return f"extend({_tuple(_locals(0, depth))})"


def reload(depth: int) -> str:
    """Statements that take the top `depth` values of vm.stack back into the locals."""
    if depth == 0:
        return ""
    if depth == 1:
        return "s0 = pop()"
    names = ", ".join(_locals(0, depth))
    return f"{names} = stack[-{depth}:]\ndel stack[-{depth}:]"


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, ast.expr]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> Any:
        new = self.names.get(node.id)
        if new is None:
            return node
        if isinstance(new, ast.Name):
            return ast.copy_location(ast.Name(new.id, node.ctx), node)
        return ast.copy_location(new, node)


def _body_code(b: Body, d: Decoded, ip: int, depth: int,
               consts: dict[str, Any]) -> tuple[str, str | None]:
    """The op's statements with names bound, and its branch condition (None: no branch)."""
    p, q = len(b.inputs), len(b.outputs)
    names: dict[str, ast.expr] = {}
    for name, local in zip(b.inputs, _locals(depth - p, p)):
        names[name] = ast.Name(local, ast.Load())
    for name, local in zip(b.outputs, _locals(depth - p, q)):
        names[name] = ast.Name(local, ast.Load())
    for operand, value in zip(d.spec.operands, d.operands):
        if operand.kind is Kind.TARGET:
            continue
        if type(value) is int:
            names[operand.name] = ast.Constant(value)
        else:
            bound = f"k{ip}_{operand.name}"
            consts[bound] = value
            names[operand.name] = ast.Name(bound, ast.Load())
    for temp in b.temps:
        names[temp] = ast.Name(f"t{ip}_{temp}", ast.Load())
    tree = _Rename(names).visit(ast.parse(b.source))
    stmts = tree.body
    cond = None
    if b.branches:
        last = stmts[-1]
        assert isinstance(last, ast.Assign) and isinstance(last.targets[0], ast.Name)
        cond = ast.unparse(last.value)
        stmts = stmts[:-1]
    code = "\n".join(ast.unparse(s) for s in stmts if not isinstance(s, ast.Pass))
    return code, cond


def generate(chunk: Chunk, cp: ChunkPlan, region: Region) -> Generated:
    """The Python source of `make(vm, plain, code)` for one region."""
    an = cp.analysis
    w = _Writer()
    consts: dict[str, Any] = {}
    fallbacks = [ip for ip in region.ops if not inline(an.decoded[ip])]
    uses = {"slots"}
    for ip in region.ops:
        d = an.decoded[ip]
        if inline(d):
            uses |= BODIES[Op[d.spec.name]].uses
    w.put(0, "def make(vm, plain, code):")
    w.put(1, "stack = vm.stack\npush = stack.append\npop = stack.pop\nextend = stack.extend")
    if "globals_" in uses:
        w.put(1, "globals_ = vm.globals")
    if "consts" in uses:
        w.put(1, "consts = vm.chunk.constants")
    if "strict" in uses:
        w.put(1, "strict = vm.strict_int")
    for ip in fallbacks:
        w.put(1, f"f{ip} = plain[{ip}]")
    w.put(1, "def run(pc):")
    w.put(2, "if vm._budget is not None:\n    return plain[pc]()")
    w.put(2, "slots = vm.slots")
    for e in region.entries:
        depth = an.depth[e] or 0
        if depth:
            w.put(2, f"if pc == {e}:\n    " + reload(depth).replace("\n", "\n    "))
    w.put(2, "try:")
    w.put(3, "while True:")
    blocks = _blocks(region)
    for k, (start, ips) in enumerate(blocks):
        w.put(4, f"if pc <= {start}:")
        w.put(5, "pass")  # a block of ops with no code of their own (Nop)
        following = blocks[k + 1][0] if k + 1 < len(blocks) else None
        for ip in ips:
            _emit_op(w, chunk, cp, region, ip, consts, following)
        last = ips[-1]
        d = an.decoded[last]
        if inline(d) and not d.spec.has(F.TERMINATOR):
            fall = _fall(region, an, last + 1, following)
            if fall:
                w.put(5, fall)
    w.put(4, "return " + str(len(chunk.ops)))
    w.put(2, "except BaseException as exc:")
    w.put(3, "raise fault(vm, exc, LINE_IP, DEPTH)")
    hot = sorted(region.hot)
    for h in hot:
        w.put(1, f"def st{h}():\n    return run({h})")
    steps = ", ".join(f"{h}: st{h}" for h in hot)
    w.put(1, f"return run, {{{steps}}}")
    return Generated("\n".join(w.lines) + "\n", w.line_ip, consts)


def _blocks(region: Region) -> list[tuple[int, list[int]]]:
    blocks: list[tuple[int, list[int]]] = []
    for ip in region.ops:
        if ip in region.leaders or not blocks or blocks[-1][1][-1] != ip - 1:
            blocks.append((ip, [ip]))
        else:
            blocks[-1][1].append(ip)
    return blocks


def _fall(region: Region, an: Any, nxt: int, following: int | None) -> str:
    """Statements that continue at op `nxt` from the end of the block before it (nothing
    when it is the block laid out next and not a hot point)."""
    if nxt not in region.ops or nxt != following:
        return _goto(region, an, nxt - 1, nxt)
    if nxt in region.hot:
        leave = _leave(_depth_at(an, nxt - 1, nxt), nxt).replace("\n", "\n    ")
        return f"if code[{nxt}] is not st{nxt}:\n    {leave}"
    return ""


def _depth_at(an: Any, src: int, target: int) -> int:
    """The operand-stack depth at op `target` when reached from op `src`: the depth after
    `src` (the verifier's table has none for a block's end or the chunk's end)."""
    d = an.decoded[src]
    return int((an.depth[src] or 0) - d.spec.effect.pops(d.spec, d.operands)
               + d.spec.effect.pushes(d.spec, d.operands))


def _goto(region: Region, an: Any, src: int, target: int) -> str:
    """Statements that continue at op `target` (from the end of op `src`)."""
    depth = _depth_at(an, src, target)
    if target not in region.ops:  # a block's end, or the end of the chunk
        return _leave(depth, target)
    if target in region.hot:
        leave = _leave(depth, target).replace("\n", "\n    ")
        return f"if code[{target}] is not st{target}:\n    {leave}\npc = {target}\ncontinue"
    return f"pc = {target}\ncontinue"


def _leave(depth: int, target: int) -> str:
    out = flush(depth)
    return (out + "\n" if out else "") + f"return {target}"


def _emit_op(w: _Writer, chunk: Chunk, cp: ChunkPlan, region: Region, ip: int,
             consts: dict[str, Any], following: int | None) -> None:
    an = cp.analysis
    d = an.decoded[ip]
    depth = an.depth[ip] or 0
    w.put(5, f"# {ip}: {d.spec.name} {' '.join(map(str, d.operands))}".rstrip())
    if not inline(d):
        pops = d.spec.effect.pops(d.spec, d.operands)
        pushes = d.spec.effect.pushes(d.spec, d.operands)
        after = depth - pops + pushes
        out = flush(depth)
        if out:
            w.put(5, out, ip, depth)
        w.put(5, f"nxt = f{ip}()", ip)  # the step's stack is vm.stack itself
        w.put(5, "slots = vm.slots")
        if ip + 1 in region.ops:
            w.put(5, f"if nxt != {ip + 1}:\n    return nxt")
            back = reload(after)
            if back:
                w.put(5, back)
            fall = _fall(region, an, ip + 1, following)
            if fall:
                w.put(5, fall)
        else:
            w.put(5, "return nxt")
        return
    b = BODIES[Op[d.spec.name]]
    code, cond = _body_code(b, d, ip, depth, consts)
    # The interpreter's step for a body pops its inputs but the first, which it replaces
    # by the first output (bodies assign outputs after whatever may raise).
    p, q = len(b.inputs), len(b.outputs)
    keep = depth - p + (1 if p and q else 0)
    if code:
        w.put(5, code, ip, keep)
    if cond is None:
        return
    target = d.targets()[0]
    if d.spec.has(F.TERMINATOR):
        w.put(5, _goto(region, an, ip, target), ip)
        return
    jump = _goto(region, an, ip, target).replace("\n", "\n    ")
    w.put(5, f"if {cond}:\n    {jump}", ip, keep)
