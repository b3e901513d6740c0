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
  is free.
* An op with a body (`fusevm.interp.bodies`) is its body with the stack items renamed to
  the locals (and type tests of constants folded, `fold.py`); an extension op declared as
  a function of its stack values is a direct call of that function on the locals
  (`extbodies.py`); any other op calls the
  interpreter's step for it (`plain[ip]`), with the locals written back before and read
  again after. If that step does not continue with the next op (a call, a return, an
  extension op's jump), `run` returns where it goes.
* Edges into a hot point leave through the dispatch loop unless the hot point still runs
  this region's own step: an interrupt patches it (`VM.interrupt`), and a native tier may
  have taken it since (`jit.policy`).
* Errors: the line that raised gives the op (each op's code is on lines of its own), and
  the locals give its operand stack and slots, which go back first (`compiler.fault`).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

from fusevm.chunk import Chunk
from fusevm.instr import Decoded
from fusevm.interp.bodies import BODIES, Body
from fusevm.ops import F, Kind, Op

from . import extbodies
from .fold import Folder, Localize
from .regions import ChunkPlan, Region, inline

#: Placeholder lines replaced once the region's slot locals are known (each stays one line,
#: so line numbers, which locate errors, do not move).
FLUSH, RELEASE, RELOAD = "#FLUSH", "#RELEASE", "#RELOAD"


@dataclass(frozen=True, slots=True)
class Generated:
    """The source of one region and what its fault handler needs."""

    source: str
    #: Source line -> (op index, how many stack locals to put back on vm.stack when that
    #: line raises: what the interpreter's step would have left there, and whether the slot
    #: locals are already back in the frame there).
    line_ip: dict[int, tuple[int, int, bool]]
    constants: dict[str, Any]  # names bound to non-literal operand values
    written: tuple[int, ...]  # frame slots the region writes through its locals


def _locals(first: int, count: int) -> list[str]:
    return [f"s{k}" for k in range(first, first + count)]


def flush(depth: int) -> str:
    """A statement putting the locals of an operand stack of `depth` onto vm.stack."""
    if depth == 0:
        return ""
    if depth == 1:
        return "push(s0)"
    return f"extend(({', '.join(_locals(0, depth))},))"


def reload(depth: int) -> str:
    """Statements taking the top `depth` values of vm.stack back into the locals."""
    if depth == 0:
        return ""
    if depth == 1:
        return "s0 = pop()"
    return f"{', '.join(_locals(0, depth))} = stack[-{depth}:]\ndel stack[-{depth}:]"


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


def _literal(value: Any) -> bool:
    """A value the generated source can spell as a literal."""
    if type(value) is float:
        return math.isfinite(value)
    return type(value) in (int, bool)


class _Gen:
    def __init__(self, chunk: Chunk, cp: ChunkPlan, region: Region) -> None:
        self.chunk = chunk
        self.an = cp.analysis
        self.region = region
        self.lines: list[str] = []
        self.line_ip: dict[int, tuple[int, int, bool]] = {}
        self.consts: dict[str, Any] = {}
        self.slots = Localize()
        self.known: dict[str, Any] = {}  # stack local -> constant it holds

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
        return int((self.an.depth[src] or 0) - d.spec.effect.pops(d.spec, d.operands)
                   + d.spec.effect.pushes(d.spec, d.operands))

    def leave(self, depth: int, target: int) -> str:
        out = flush(depth)
        return (out + "\n" if out else "") + f"{FLUSH}\nreturn {target}"

    def goto(self, src: int, target: int) -> str:
        """Statements that continue at op `target` from the end of op `src`."""
        depth = self.depth_after(src)
        if target not in self.region.ops:  # a block's end, or the end of the chunk
            return self.leave(depth, target)
        if target in self.region.hot:
            leave = self.leave(depth, target).replace("\n", "\n    ")
            return f"if code[{target}] is not st{target}:\n    {leave}\npc = {target}\ncontinue"
        return f"pc = {target}\ncontinue"

    def fall(self, src: int, following: int | None) -> str:
        """Statements that continue at op src + 1 from the end of a block (nothing when
        it is the block laid out next and not a hot point)."""
        nxt = src + 1
        if nxt not in self.region.ops or nxt != following:
            return self.goto(src, nxt)
        if nxt in self.region.hot:
            leave = self.leave(self.depth_after(src), nxt).replace("\n", "\n    ")
            return f"if code[{nxt}] is not st{nxt}:\n    {leave}"
        return ""

    # -- ops --------------------------------------------------------------------------

    def body_code(self, b: Body, d: Decoded, ip: int,
                  depth: int) -> tuple[str, str | None, tuple[str, Any] | None]:
        """The op's statements with names bound, its branch condition (if a branch), and
        the stack local it sets to a constant when that is all it does (`LoadInt 5`)."""
        p, q = len(b.inputs), len(b.outputs)
        names: dict[str, ast.expr] = {}
        stored = {n.id for n in ast.walk(b.tree) if isinstance(n, ast.Name)
                  and isinstance(n.ctx, ast.Store)}
        for name, local in zip(b.inputs, _locals(depth - p, p)):
            if local in self.known and name not in stored:
                names[name] = ast.Constant(self.known[local])
            else:
                names[name] = ast.Name(local, ast.Load())
        for name, local in zip(b.outputs, _locals(depth - p, q)):
            names[name] = ast.Name(local, ast.Load())
        for operand, value in zip(d.spec.operands, d.operands):
            if operand.kind is Kind.TARGET:
                continue
            if _literal(value):
                names[operand.name] = ast.Constant(value)
            else:
                bound = f"k{ip}_{operand.name}"
                self.consts[bound] = value
                names[operand.name] = ast.Name(bound, ast.Load())
        for temp in b.temps:
            names[temp] = ast.Name(f"t{ip}_{temp}", ast.Load())
        tree = _Rename(names).visit(ast.parse(b.source))
        tree = Folder().visit(self.slots.visit(tree))
        ast.fix_missing_locations(tree)
        stmts = tree.body
        cond = None
        if b.branches:
            last = stmts[-1]
            assert isinstance(last, ast.Assign)
            cond = ast.unparse(last.value)
            stmts = stmts[:-1]
        code = "\n".join(ast.unparse(s) for s in stmts if not isinstance(s, ast.Pass))
        known = None
        if len(stmts) == 1 and isinstance(stmts[0], ast.Assign) and \
                isinstance(stmts[0].value, ast.Constant):
            target = stmts[0].targets[0]
            if isinstance(target, ast.Name) and target.id.startswith("s"):
                known = (target.id, stmts[0].value.value)
        return code, cond, known

    def emit_op(self, ip: int, following: int | None) -> None:
        d = self.an.decoded[ip]
        depth = self.an.depth[ip] or 0
        self.put(5, f"# {ip}: {d.spec.name} {' '.join(map(str, d.operands))}".rstrip())
        if not inline(d):
            self.emit_call(ip, d, depth, following)
            return
        if d.ext is not None:  # a function of its stack values, called directly
            p, q = extbodies.arity(d)
            code, keep = extbodies.call(ip, d, _locals(depth - p, p), _locals(depth - p, q),
                                        depth)
            self.put(5, code, ip, keep)
            for local in _locals(depth - p, max(p, q)):
                self.known.pop(local, None)
            return
        b = BODIES[Op[d.spec.name]]
        code, cond, known = self.body_code(b, d, ip, depth)
        # The interpreter's step for a body pops its inputs but the first, which it
        # replaces by the first output (bodies assign outputs after whatever may raise).
        p, q = len(b.inputs), len(b.outputs)
        keep = depth - p + (1 if p and q else 0)
        if code:
            self.put(5, code, ip, keep)
        for local in _locals(depth - p, max(p, q)):
            self.known.pop(local, None)
        if known is not None:
            self.known[known[0]] = known[1]
        if cond is None:
            return
        target = d.targets()[0]
        if d.spec.has(F.TERMINATOR):
            self.put(5, self.goto(ip, target), ip)
            return
        jump = self.goto(ip, target).replace("\n", "\n    ")
        self.put(5, f"if {cond}:\n    {jump}", ip, keep)

    def emit_call(self, ip: int, d: Decoded, depth: int, following: int | None) -> None:
        """An op without a body: its interpreter step, with the locals written back."""
        self.known.clear()
        after = depth - d.spec.effect.pops(d.spec, d.operands) + \
            d.spec.effect.pushes(d.spec, d.operands)
        out = flush(depth)
        if out:
            self.put(5, out, ip, depth)
        self.put(5, f"{FLUSH}\n{RELEASE}", ip, 0, True)
        self.put(5, f"nxt = f{ip}()", ip, 0, True)  # its stack is vm.stack itself
        self.put(5, f"slots = vm.slots\n{RELOAD}")
        if ip + 1 in self.region.ops:
            self.put(5, f"if nxt != {ip + 1}:\n    return nxt")
            back = reload(after)
            if back:
                self.put(5, back)
            fall = self.fall(ip, following)
            if fall:
                self.put(5, fall)
        else:
            self.put(5, "return nxt")

    # -- the function -------------------------------------------------------------------

    def generate(self) -> Generated:
        an, region = self.an, self.region
        fallbacks = [ip for ip in region.ops if not inline(an.decoded[ip])]
        uses = {"slots"}
        for ip in region.ops:
            d = an.decoded[ip]
            if inline(d) and d.ext is None:
                uses |= BODIES[Op[d.spec.name]].uses
        self.put(0, "def make(vm, plain, code):")
        self.put(1, "stack = vm.stack\npush = stack.append\npop = stack.pop\n"
                    "extend = stack.extend")
        for name, expr in (("globals_", "vm.globals"), ("consts", "vm.chunk.constants"),
                           ("strict", "vm.strict_int")):
            if name in uses:
                self.put(1, f"{name} = {expr}")
        for ip in fallbacks:
            self.put(1, f"f{ip} = plain[{ip}]")
        for ip in region.ops:
            if an.decoded[ip].ext is not None and inline(an.decoded[ip]):
                self.consts["callee"] = extbodies.callee
                self.put(1, extbodies.binding(ip, an.decoded[ip]))
        self.put(1, "def run(pc):")
        self.put(2, "if vm._budget is not None:\n    return plain[pc]()")
        self.put(2, f"slots = vm.slots\n{RELOAD}")
        for e in region.entries:
            depth = an.depth[e] or 0
            if depth:
                self.put(2, f"if pc == {e}:\n    " + reload(depth).replace("\n", "\n    "))
        self.put(2, "try:")
        self.put(3, "while True:")
        blocks = _blocks(region)
        for k, (start, ips) in enumerate(blocks):
            self.known.clear()
            self.put(4, f"if pc <= {start}:")
            self.put(5, "pass")  # a block of ops with no code of their own (Nop)
            following = blocks[k + 1][0] if k + 1 < len(blocks) else None
            for ip in ips:
                self.emit_op(ip, following)
            d = an.decoded[ips[-1]]
            if inline(d) and not d.spec.has(F.TERMINATOR):
                fall = self.fall(ips[-1], following)
                if fall:
                    self.put(5, fall)
        self.put(4, f"{FLUSH}\nreturn {len(self.chunk.ops)}")
        self.put(2, "except BaseException as exc:")
        self.put(3, "raise fault(vm, exc, LINE_IP, DEPTH, WRITTEN)")
        hot = sorted(region.hot)
        for h in hot:
            self.put(1, f"def st{h}():\n    return run({h})")
        self.put(1, f"return run, {{{', '.join(f'{h}: st{h}' for h in hot)}}}")
        return Generated(self.finish(), self.line_ip, self.consts,
                         tuple(sorted(self.slots.written)))

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
        }
        out = []
        for line in self.lines:
            stripped = line.strip()
            out.append(line.replace(stripped, fills[stripped]) if stripped in fills else line)
        return "\n".join(out) + "\n"


def _blocks(region: Region) -> list[tuple[int, list[int]]]:
    blocks: list[tuple[int, list[int]]] = []
    for ip in region.ops:
        if ip in region.leaders or not blocks or blocks[-1][1][-1] != ip - 1:
            blocks.append((ip, [ip]))
        else:
            blocks[-1][1].append(ip)
    return blocks


def generate(chunk: Chunk, cp: ChunkPlan, region: Region) -> Generated:
    """The Python source of `make(vm, plain, code)` for one region."""
    return _Gen(chunk, cp, region).generate()
