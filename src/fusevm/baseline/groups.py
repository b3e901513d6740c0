"""Runs of ops written as one piece: ops that cannot raise, folded together (`types.forward`),
and an op's result stored by the `SetSlot` after it assigned to the slot local directly.

A mixin of the region code generator (`codegen`), which the direct forms' generator
(`direct`) extends: it holds the generator's state these read and write.
"""

from __future__ import annotations

from fusevm import pyast as ast
from fusevm.interp.bodies import BODIES, Body
from fusevm.ops import F, Op

from .pieces import local_index, stack_locals, unparse
from .regions import inline
from .trees import name_nodes
from .types import drop_copies, forward_into, reads, safe_stmts, writes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fusevm.instr import Decoded
    from fusevm.verify import Analysis

    from .ranges import Bounds
    from .types import Env


class Groups:
    """`try_group` and `emit_group` (ops that cannot raise), `retarget` and `stored` (a
    result stored in place)."""

    if TYPE_CHECKING:
        an: Analysis
        specialised: bool
        env: Env
        known: dict[str, Any]
        bounds: Bounds
        base: int
        into: tuple[str, str] | None
        retargeted: bool
        moved: tuple[str, str]

        def put(self, indent: int, text: str, ip: int | None = None, keep: int = 0,
                flushed: bool = False) -> None: ...

        def depth_after(self, src: int) -> int: ...

        def body_ast(self, b: Body, d: Decoded, ip: int,
                     depth: int) -> tuple[list[ast.stmt], tuple[str, Any] | None]: ...

        def note_known(self, b: Body, depth: int, known: tuple[str, Any] | None) -> None: ...

        def emit_branch(self, ip: int, d: Decoded, cond: str, keep: int) -> None: ...

    def retarget(self, ip: int, ips: list[int]) -> None:
        """Before writing op `ip`, one that may raise: when the next op of the block is a
        `SetSlot` of its result, its code assigns the slot local itself
        (`types.result_into`) and the `SetSlot` writes nothing (`stored`)."""
        self.retargeted = False
        d = self.an.decoded[ip]
        if not (self.specialised and ip + 1 in ips and inline(d) and d.ext is None):
            return
        nxt = self.an.decoded[ip + 1]
        b = BODIES[Op[d.spec.name]]
        if nxt.spec is not Op.SetSlot.spec or b.branches or len(b.outputs) != 1:
            return
        depth = self.an.depth[ip] or 0
        out = f"s{depth - len(b.inputs)}"
        env, known, bounds = self.env, dict(self.known), self.bounds
        stmts, _ = self.body_ast(BODIES[Op.SetSlot], nxt, ip + 1, depth - len(b.inputs) + 1)
        self.env, self.known, self.bounds = env, known, bounds
        if len(stmts) == 1 and isinstance(stmts[0], ast.Assign) and \
                isinstance(stmts[0].value, ast.Name) and stmts[0].value.id == out and \
                isinstance(stmts[0].targets[0], ast.Name):
            self.into = (out, stmts[0].targets[0].id)

    def stored(self, ip: int, group: list[tuple[int, list[ast.stmt]]]) -> bool:
        """The `SetSlot` after an op that left its result in the slot local: its types
        and intervals noted, its statement left out. (Were it not taken into a group,
        its step would read the stack local: that gets the value back.)"""
        if not self.retargeted:
            return False
        self.retargeted = False
        if self.try_group(ip, group):
            group[-1] = (ip, [])
            return True
        out, into = self.moved
        self.put(self.base, f"{out} = {into}")
        return False

    def try_group(self, ip: int, group: list[tuple[int, list[ast.stmt]]]) -> bool:
        """In the specialised code, take an op that cannot raise (`safe_stmts`) into the
        run of such ops written together (`emit_group`); False when it can raise."""
        d = self.an.decoded[ip]
        if not (self.specialised and inline(d)) or d.ext is not None:
            return False
        b = BODIES[Op[d.spec.name]]
        depth = self.an.depth[ip] or 0
        env, known, bounds = self.env, dict(self.known), self.bounds
        stmts, sets = self.body_ast(b, d, ip, depth)
        if not safe_stmts(stmts, env):
            self.env, self.known, self.bounds = env, known, bounds
            return False
        self.note_known(b, depth, sets)
        group.append((ip, stmts))
        return True

    def emit_group(self, group: list[tuple[int, list[ast.stmt]]],
                   into: int | None = None,
                   copies: frozenset[str] = frozenset()) -> dict[str, str]:
        """Ops none of which can raise, written as one piece with each stack value that
        is used once folded into its use (`types.forward`): no fault can see them.
        `into`: the op right after them, a `Call` or `ReturnValue` that reads its inputs
        once; those of its inputs folded into it are returned (stack local -> its value's
        source), for it to read instead of the local, which is then never assigned.
        `copies`: inputs of the op after them that it may read from the slot local they
        copy; those whose copy (`s1 = l2`, the last write of either) is left out are
        returned (stack local -> slot local)."""
        if not group:
            return {}
        for ip, _ in group:
            d = self.an.decoded[ip]
            self.put(self.base, f"# {ip}: {d.spec.name} {' '.join(map(str, d.operands))}".rstrip())
        last = group[-1][0]
        d = self.an.decoded[last]
        stmts = [st for _, part in group for st in part]
        assigns = [st for st in stmts if isinstance(st, ast.Assign)]
        live = self.depth_after(last)
        inputs: list[str] = []
        if into is not None and not d.spec.has(F.BRANCH):
            depth = self.an.depth[into] or 0
            used = self.an.decoded[into]
            argc = 1 if used.spec is Op.ReturnValue.spec else used.operands[1]
            inputs = stack_locals(depth - argc, argc)
            if inputs:
                live = depth - argc + 1  # (what it returns is the first one)
        names = {n.id for st in assigns for n in name_nodes(st)}
        names.update(inputs)
        dead = {n for n in names if (i := local_index(n)) is not None and i >= live
                or n[0] == "t" and n[1:2].isdigit()}  # temporaries die with their op
        out, folded = forward_into(assigns, inputs, dead)
        if copies and not d.spec.has(F.BRANCH):
            folded.update(drop_copies(out, copies))
        cond = None
        if d.spec.has(F.BRANCH):
            taken = out.pop()
            assert isinstance(taken, ast.Assign)
            cond = ast.unparse(taken.value)
        code = unparse(out)
        if code:
            self.put(self.base, code, group[0][0])
        group.clear()
        if cond is not None:
            self.emit_branch(last, d, cond, 0)
        return folded

    def copies_read(self, ip: int) -> frozenset[str]:
        """The inputs of op `ip` (an op with a body that may raise) that its code may
        read from another local holding the same value: it reads each before writing
        it, and writes no slot local (which the other one could be)."""
        d = self.an.decoded[ip]
        if not inline(d) or d.ext is not None or d.spec.has(F.BRANCH):
            # (a branch that keeps its value leaves the stack local for its target)
            return frozenset()
        b = BODIES[Op[d.spec.name]]
        depth = self.an.depth[ip] or 0
        env, known, bounds = self.env, dict(self.known), self.bounds
        stmts, _ = self.body_ast(b, d, ip, depth)
        self.env, self.known, self.bounds = env, known, bounds
        if any(name[:1] == "l" for st in stmts for name in writes(st)):
            return frozenset()
        return frozenset(k for k in stack_locals(depth - len(b.inputs), len(b.inputs))
                         if _read_before_written(stmts, k))


def _read_before_written(stmts: list[ast.stmt], name: str) -> bool:
    """Whether, running `stmts` (assignments and `if`s), `name` is never read after it
    was written (so reading another name with its first value instead is the same)."""
    def walk(stmts: list[ast.stmt], written: bool) -> bool | None:
        # The state after `stmts` (written or not), None when a read follows a write.
        for st in stmts:
            if isinstance(st, ast.If):
                if written and reads(st.test, name):
                    return None
                body, other = walk(st.body, written), walk(st.orelse, written)
                if body is None or other is None:
                    return None
                written = body or other
            elif isinstance(st, ast.Assign):
                if written and reads(st, name):
                    return None
                written = written or name in writes(st)
            elif isinstance(st, ast.Pass):
                continue
            elif any(n.id == name for n in name_nodes(st)):
                return None
        return written
    return walk(stmts, False) is not None
