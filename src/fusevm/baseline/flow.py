"""The facts a region's code relies on at each block's start: a fixpoint over its edges.

`analyze` runs a generator (`codegen._Gen`) over the region's basic blocks without keeping
the code it writes, joining at each block the exact types (`types.py`) and the integer
intervals (`ranges.py`) every edge into it brings; a conditional branch narrows the
intervals along each of its edges by its test (`edge_bounds`). Loop headers widen their
intervals through the region's constants for a few rounds, then to the 64-bit limits.
"""

from __future__ import annotations

from fusevm import pyast as ast
from fusevm.interp.bodies import BODIES
from fusevm.ops import F, Op
from fusevm.values import INT_MAX, INT_MIN

from . import shape
from .pieces import basic_blocks
from .ranges import Bounds, hull, meet, refine, resolve, widen
from .regions import inline
from .types import Env, join

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .codegen import _Gen

#: Any VM int's interval (D4).
_ANY_INT = (INT_MIN, INT_MAX)


def analyze(g: _Gen, optimistic: bool) -> dict[int, Env]:
    """The exact types known at each block's start: a fixpoint over the region's
    edges. Pessimistic (the generic code): entering from outside brings nothing known.
    Optimistic (the specialised code): an entry the region's own code also reaches
    is assumed to get what that code brings it (its guard checks the rest), and one
    it does not reach gets what `seen` says was there when it was compiled."""
    an, region = g.an, g.region
    blocks = dict(basic_blocks(region))
    reached = {t for _, ips in blocks.items() for t in g.successors(ips[-1])}
    envs: dict[int, Env] = {}
    # An entry's intervals are its own code's only where its guard checks them.
    bounds: dict[int, Bounds] = {}
    for e in region.entries:
        if not optimistic:
            envs[e] = dict(g.const_facts)
        elif e not in reached:
            envs[e] = {**g.const_facts, **(g.seen[1] if g.seen and g.seen[0] == e else {})}
        if not (optimistic and g.guarded and e in reached):
            bounds[e] = {}
    marks = shape.marks(g.chunk.constants, g.an, g.region)
    rounds: dict[int, int] = {}
    work = sorted(envs)
    lines, line_ip, consts = g.lines, g.line_ip, g.consts
    g.lines, g.line_ip = [], {}
    try:
        while work:
            start = work.pop(0)
            g.known.clear()
            g.env = dict(envs[start])
            g.bounds = dict(bounds.get(start, {}))
            g.bounds_full = g.bounds
            ips = blocks[start]
            g.run_stmts = []
            for ip in ips:
                d = an.decoded[ip]
                if inline(d) and d.ext is not None:
                    g.after_function(d, an.depth[ip] or 0)
                    g.run_stmts = []
                    continue
                if inline(d):
                    b = BODIES[Op[d.spec.name]]
                    depth = an.depth[ip] or 0
                    g.note_known(b, depth, g.body_ast(b, d, ip, depth)[1])
                    g.run_stmts.extend(g.last_stmts)
                    continue
                g.env = g.env_after_step(ip, d)
                g.bounds = g.bounds_full = g.bounds_after_step(ip, d)
                g.run_stmts = []
            edges = edge_bounds(g, ips[-1])
            for succ in g.successors(ips[-1]):
                old = envs.get(succ)
                new = dict(g.env) if old is None else join(old, g.env)
                came = edges.get(succ, g.bounds)
                was = bounds.get(succ)
                if was is None:
                    now = dict(came)
                elif succ <= start:
                    # A loop header: its bounds grow through the marks eight rounds
                    # at most, then to the 64-bit limits (each round costs an analysis
                    # of the loop's ops: compile time a short run pays; nested loops
                    # with a few constants settle within eight).
                    rounds[succ] = rounds.get(succ, 0) + 1
                    now = widen(was, came, marks if rounds[succ] <= 8 else ())
                else:
                    now = hull(was, came)
                if succ in g.assumed:
                    # A versioned loop's header: its guard keeps its slots within these
                    # for every iteration (`growth`).
                    now = meet(now, g.assumed[succ])
                if new != old or now != was:
                    envs[succ] = new
                    bounds[succ] = now
                    if succ not in work:
                        work.append(succ)
    finally:
        g.lines, g.line_ip, g.consts = lines, line_ip, consts
    for e in region.entries:
        envs.setdefault(e, {})
    g.block_bounds = bounds
    return envs

def edge_bounds(g: _Gen, last: int) -> dict[int, Bounds]:
    """The intervals along each edge out of a conditional branch `last` (just analysed:
    `bounds_full` holds after its code), narrowed by its test; {} for other ops."""
    d = g.an.decoded[last]
    if not (inline(d) and d.ext is None and d.spec.has(F.BRANCH)) or \
            d.spec.has(F.TERMINATOR):
        return {}
    b = BODIES[Op[d.spec.name]]
    stmts = g.last_stmts
    target = d.targets()[0]
    if not b.branches or not stmts or target == last + 1:
        return {}
    last_stmt = stmts[-1]
    if not isinstance(last_stmt, ast.Assign):
        return {}
    full = dict(g.bounds_full)
    # A VM int local holds a value in the 64-bit range (D4): a test can narrow it.
    for name, t in g.env.items():
        if t is int and name[0] in "ls" and name not in full:
            full[name] = _ANY_INT
    out: dict[int, Bounds] = {}
    keep = g.bounds.keys()
    run = g.run_stmts or stmts
    cond = resolve(run[:-1], last_stmt.value)
    for succ, truth in ((target, True), (last + 1, False)):
        narrowed = refine(full, run, cond, truth)
        out[succ] = {k: r for k, r in narrowed.items() if r != _ANY_INT
                     and (k in keep or (k in g.env and k[0] in "ls"))}
    return out
