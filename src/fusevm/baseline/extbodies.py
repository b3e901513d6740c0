"""Extension ops the baseline tier calls directly: functions of their stack values.

An extension op declared with `ExtensionSet.function` is written once, as the function
`fn(*inputs)` its binder returns; the interpreter's step is derived from it
(`fusevm.interp.extapi.function_step`) and keeps it as `step.function`. Baseline code
binds that same function per VM (`callee`) and calls it on the stack locals: one Python
call, no write-back of the locals, no round trip through vm.stack. The locals an error
leaves behind are those of the derived step, which pops the inputs but the first and
replaces the first by the first output once `fn` has returned, the shape of a core body.

An op declared with `ExtensionSet.body` (`fusevm.ops.extbody`) is written out instead: its
statements, the same text its interpreter function is compiled from, go into the code with
the stack locals for its items, so it costs no call at all.
"""

from __future__ import annotations

from fusevm import pyast as ast
from fusevm.errors import VMError
from fusevm.instr import Decoded
from fusevm.interp.extapi import gather
from fusevm.ops.extbody import ExtBody
from fusevm.ops.extension import run_sizes

from .fold import Localize
from .pieces import bind_names

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def arity(d: Decoded) -> tuple[int, int]:
    """How many values the op takes from the stack and how many it leaves."""
    effect = d.spec.effect
    return effect.pops(d.spec, d.operands), len(effect.outputs)


def written(d: Decoded) -> ExtBody | None:
    """The op's statements when its set declares it with `ExtensionSet.body`."""
    ext = d.ext
    return None if ext is None else ext.owner.bodies.get(ext.spec.number)


def result_types(d: Decoded, outputs: list[str]) -> dict[str, type]:
    """The exact types the op's body promises for the locals `outputs` it assigns (its
    `results`); {} for any other op."""
    b = written(d)
    if b is None or not b.results:
        return {}
    return {local: b.results[item] for item, local in zip(b.outputs, outputs)
            if item in b.results}


def constants(ip: int, d: Decoded) -> dict[str, Any]:
    """The names op `ip`'s code needs in the generated module."""
    if (b := written(d)) is None:
        return {"callee": callee}
    found = {f"e{ip}_{name}": value for name, value in b.names.items()}
    found.update((f"e{ip}_{name}", value) for name, value in zip(b.operands, d.operands)
                 if not _operand(value))
    found[f"e{ip}_body"] = b
    found["check_body"] = check_body
    return found


def binding(ip: int, d: Decoded) -> str:
    """The statements in `make` that bind op `ip`'s function, or what its inlined
    statements use, for one VM."""
    if (b := written(d)) is not None:
        return "\n".join([f"check_body(plain[{ip}], e{ip}_body)"]
                         + [f"e{ip}_{name} = {b.per_vm(name)}" for name in sorted(b.uses)])
    return f"x{ip} = callee(plain[{ip}], {run_sizes(d.spec, d.operands)!r}, " \
        f"{arity(d)[1]}, stack, {ip})"


def check_body(step: Any, b: ExtBody) -> None:
    """Refuse a VM that binds an inlined op other than by its statements (only a set
    replaced under a chunk already compiled could)."""
    if getattr(getattr(step, "function", None), "body", None) is not b:
        raise VMError(f"{b.spec.name} is bound other than by the statements compiled for "
                      "it; the baseline tier cannot run this chunk here")


def _operand(value: Any) -> bool:
    """Whether an operand value is written into the code as a literal."""
    return type(value) in (int, str, bool)


def inline(ip: int, d: Decoded, b: ExtBody, inputs: list[str],
           outputs: list[str]) -> str:
    """Op `ip`'s statements with its names bound: stack items to the locals, operands to
    constants, the set's names and the per-VM ones to the module's, temporaries apart."""
    names: dict[str, ast.expr] = {}
    for item, local in (*zip(b.inputs, inputs), *zip(b.outputs, outputs)):
        names[item] = ast.Name(local, ast.Load())
    for name in (*b.names, *b.uses):
        names[name] = ast.Name(f"e{ip}_{name}", ast.Load())
    for temp in b.temps:
        names[temp] = ast.Name(f"t{ip}_{temp}", ast.Load())
    for name, value in zip(b.operands, d.operands):
        # A literal operand is written in (and folds `if k == 2:`); others are bound by
        # `constants`.
        names[name] = ast.Constant(value) if _operand(value) else \
            ast.Name(f"e{ip}_{name}", ast.Load())
    slots = Localize()  # extension bodies name no slots: nothing is localised
    stmts = [bind_names(st, names, slots) for st in b.tree.body]
    return ast.unparse(_Fold().visit(ast.Module(stmts, [])))


class _Fold(ast.NodeTransformer):
    """Keep only the branch an operand selects: `if k == 2:` with `k` written as 2."""

    def visit_If(self, node: ast.If) -> Any:
        self.generic_visit(node)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], (ast.Eq, ast.NotEq)) and \
                isinstance(test.left, ast.Constant) and \
                isinstance(test.comparators[0], ast.Constant):
            same = test.left.value == test.comparators[0].value
            kept = node.body if same == isinstance(test.ops[0], ast.Eq) else node.orelse
            return kept or ast.Pass()
        return node


def call(ip: int, d: Decoded, inputs: list[str], outputs: list[str],
         depth: int) -> tuple[str, int]:
    """The statement calling op `ip`'s function on the locals `inputs` (an operand-sized
    run of them as one list) and assigning `outputs`, or the op's statements written out,
    and how many stack locals go back to vm.stack when it raises (what the derived step
    leaves there)."""
    b = written(d)
    if b is not None:
        p, q = len(inputs), len(outputs)
        return inline(ip, d, b, inputs, outputs), depth - p + (1 if p and q else 0)
    sizes = run_sizes(d.spec, d.operands)
    args = [a if isinstance(a, str) else f"[{', '.join(a)}]" for a in gather(inputs, sizes)]
    expr = f"x{ip}({', '.join(args)})"
    if outputs:
        expr = f"{', '.join(outputs)}{',' if len(outputs) > 1 else ''} = {expr}"
    p, q = len(inputs), len(outputs)
    gathered = any(n is not None for n in sizes)
    return expr, depth - p + (1 if p and q and not gathered else 0)


def callee(step: Any, sizes: tuple[int | None, ...], outputs: int, stack: list[Any],
           ip: int) -> Callable[..., Any]:
    """The function the interpreter's step for op `ip` runs; for a VM that binds the op
    some other way (another set under the same ids, a factory that failed), a function
    that runs that step through vm.stack."""
    fn: Callable[..., Any] | None = getattr(step, "function", None)
    if fn is not None:
        return fn

    def through_stack(*args: Any) -> Any:
        base = len(stack)
        for arg, n in zip(args, sizes):
            if n is None:
                stack.append(arg)
            else:
                stack.extend(arg)
        try:
            nxt = step()
        except BaseException:
            del stack[base:]
            raise
        if nxt != ip + 1:
            raise VMError("an extension op compiled as a function of its stack values "
                          "did not continue with the next op")
        if outputs == 0:
            return None
        if outputs == 1:
            return stack.pop()
        values = tuple(stack[-outputs:])
        del stack[-outputs:]
        return values

    return through_stack
