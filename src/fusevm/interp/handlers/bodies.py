"""Interpreter handlers generated from the ops' one definition (`fusevm.interp.bodies`).

For each op with a body, the step factory is written out as Python source once, at import:
the step pops the op's inputs but the first, which it reads in place and replaces by the
first output (the shape of the hand-tuned binary handlers), runs the body, and returns
the next op's index, or the TARGET operand when a branch's `taken` holds. The baseline
tier writes the same body into its regions; no op's behaviour is written twice.
"""

from __future__ import annotations

from typing import Any

from fusevm.interp.bodies import BODIES, ENV, Body
from fusevm.interp.registry import Factory, handler
from fusevm.ops import F, Kind


def _indent(text: str, levels: int) -> str:
    pad = "    " * levels
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())


def factory_source(b: Body) -> str:
    """The source of `factory(vm, operands, ip)` for one body."""
    spec = b.op.spec
    p, q = len(b.inputs), len(b.outputs)
    lines = ["def factory(vm, operands, ip):",
             "    stack = vm.stack", "    pop = stack.pop", "    push = stack.append",
             "    nxt = ip + 1"]
    if "strict" in b.uses:
        lines.append("    strict = vm.strict_int")
    if "globals_" in b.uses:
        lines.append("    globals_ = vm.globals")
    if "consts" in b.uses:
        lines.append("    consts = vm.chunk.constants")
    if spec.operands:
        names = ", ".join(o.name for o in spec.operands)
        lines.append(f"    {names}, = operands")
    lines.append("    def step():")
    if "slots" in b.uses:
        lines.append("        slots = vm.slots")
    if p and q:
        for name in reversed(b.inputs[1:]):
            lines.append(f"        {name} = pop()")
        lines.append(f"        {b.inputs[0]} = stack[-1]")
    else:
        for name in reversed(b.inputs):
            lines.append(f"        {name} = pop()")
    lines.append(_indent(b.source, 2))
    if q:
        first = b.outputs[0]
        lines.append(f"        stack[-1] = {first}" if p else f"        push({first})")
        for name in b.outputs[1:]:
            lines.append(f"        push({name})")
    if b.branches:
        target = next(o.name for o in spec.operands if o.kind is Kind.TARGET)
        lines.append(f"        return {target} if taken else nxt")
    else:
        lines.append("        return nxt")
    lines.append("    return step")
    return "\n".join(lines) + "\n"


def _make(b: Body) -> Factory:
    namespace: dict[str, Any] = dict(ENV)
    code = compile(factory_source(b), f"<interp {b.op.name}>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated from the op table's bodies
    made: Factory = namespace["factory"]
    made.__doc__ = f"{b.op.name}, generated from its body in fusevm.interp.bodies."
    made.from_body = True  # type: ignore[attr-defined]
    return made


for _op, _body in BODIES.items():
    assert not _op.spec.has(F.EXTENDED)
    handler(_op)(_make(_body))
