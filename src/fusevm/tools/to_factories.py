"""Rewrites a frontend module's plain extension handlers as step factories.

`python -m fusevm.tools.to_factories --set AWK FILE...` turns every
`@AWK.op(...) def f(vm, a, b): ...` in each FILE into the factory form of
`fusevm.interp.extapi` (`@AWK.factory(...) def f(vm, operands, ip) -> Step`), in place.
The body is kept as written, one level deeper inside `def step() -> int:`, with only what
the protocol changes rewritten:

* `stack = vm.stack` moves to the factory as `stack = vm.stack_api.items`, and `vm.stack`,
  `vm.push(x)`, `vm.pop()` and `vm.peek()` use that list;
* a bare `return` becomes `return nxt`, and falling off the end returns `nxt`;
* `vm.halt()` (last in its block, or followed by `return`) becomes `return HALT`;
* `vm.jump(x)` (last in its block) becomes `return x`;
* `from fusevm.interp.extapi import HALT, Step` is added as needed;
* in the module's other functions, `vm.stack` becomes `vm.stack_api` (`.items`, `.pop()`,
  `.push()`).

Anything else that reaches the old protocol (`vm.jump` mid-block, a return with a value,
`vm._jump`, `vm.halted`) is refused with the line, so the result never silently differs.
`--check` exits 1 when a file still has plain handlers.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

__all__ = ["PortError", "port_source"]

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LINE = 100


class PortError(ValueError):
    """A handler uses the old protocol in a way the rewrite cannot carry over."""


def _own_nodes(fn: ast.FunctionDef) -> list[ast.AST]:
    """Every node of fn's body, not descending into nested scopes."""
    out: list[ast.AST] = []
    pending: list[ast.AST] = list(fn.body)
    while pending:
        n = pending.pop()
        out.append(n)
        if isinstance(n, _SCOPES):
            continue
        pending.extend(ast.iter_child_nodes(n))
    return out


def _vm_call(stmt: ast.AST, name: str) -> ast.Call | None:
    if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Attribute)
            and isinstance(stmt.value.func.value, ast.Name)
            and stmt.value.func.value.id == "vm" and stmt.value.func.attr == name):
        return stmt.value
    return None


def _indent(line: str) -> str:
    m = re.match(r"\s*", line)
    return m.group(0) if m else ""


def _decorated_by(fn: ast.FunctionDef, set_name: str) -> ast.Call | None:
    for d in fn.decorator_list:
        if (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                and d.func.attr == "op" and isinstance(d.func.value, ast.Name)
                and d.func.value.id == set_name):
            return d
    return None


def _decorator(lines: list[str], dec: ast.Call, set_name: str) -> list[str]:
    """`@SET.op(` -> `@SET.factory(`, continuation lines re-aligned, long lines split."""
    assert dec.end_lineno is not None
    shift = len("factory") - len("op")
    first = lines[dec.lineno - 1].replace(f"@{set_name}.op(", f"@{set_name}.factory(", 1)
    out = [first] + [" " * shift + line for line in lines[dec.lineno:dec.end_lineno]]
    pad = " " * (len(f"@{set_name}.factory("))
    split: list[str] = []
    for line in out:
        if len(line) > _LINE and ", formula=" in line:
            head, tail = line.split(", formula=", 1)
            split += [head + ",", pad + "formula=" + tail]
        else:
            split.append(line)
    return [part for line in split for part in _wrap_formula(line)]


def _wrap_formula(line: str) -> list[str]:
    """A too-long `formula="..."` line as two adjacent literals, split at a space."""
    start = line.find('formula="')
    if len(line) <= _LINE or start < 0:
        return [line]
    quote = start + len("formula=")
    cut = line.rfind(" ", quote + 1, _LINE - 1)
    if cut < 0 or '"' in line[quote + 1:cut]:
        return [line]
    return [line[:cut + 1] + '"', " " * (quote) + '"' + line[cut + 1:]]


def _port_function(src: str, lines: list[str], fn: ast.FunctionDef,
                   dec: ast.Call, set_name: str) -> tuple[list[str], set[str]]:
    """The factory's lines (decorator to end) and the extapi names it needs."""
    where = f"{fn.name} (line {fn.lineno})"
    own = _own_nodes(fn)
    returns: set[int] = set()
    for n in own:
        if isinstance(n, ast.Return):
            if n.value is not None:
                raise PortError(f"{where}: a handler's return value has no meaning; "
                                f"line {n.lineno} returns one")
            returns.add(n.lineno - 1)
        if (isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                and n.value.id == "vm" and n.attr in ("_jump", "halted")):
            raise PortError(f"{where}: line {n.lineno} reads vm.{n.attr}")
    halts: set[int] = set()
    jumps: dict[int, str] = {}
    dropped: set[int] = set()
    for n in [fn, *own]:
        for field in ("body", "orelse", "finalbody"):
            seq = getattr(n, field, None)
            if not isinstance(seq, list) or (n is not fn and isinstance(n, _SCOPES)):
                continue
            for i, stmt in enumerate(seq):
                after = seq[i + 1] if i + 1 < len(seq) else None
                if _vm_call(stmt, "halt") is not None:
                    if isinstance(after, ast.Return):
                        dropped.add(after.lineno - 1)
                    elif after is not None:
                        raise PortError(f"{where}: vm.halt() on line {stmt.lineno} is "
                                        "followed by more code")
                    halts.add(stmt.lineno - 1)
                call = _vm_call(stmt, "jump")
                if call is not None:
                    if after is not None or len(call.args) != 1:
                        raise PortError(f"{where}: vm.jump() on line {stmt.lineno} is not "
                                        "the last statement of its block")
                    target = ast.get_source_segment(src, call.args[0])
                    assert target is not None
                    jumps[stmt.lineno - 1] = target
    assert fn.end_lineno is not None
    body_start = fn.body[0].lineno - 1
    body = lines[body_start:fn.end_lineno]
    needs: set[str] = {"Step"}
    new_body: list[str] = []
    uses_stack = False
    for k, line in enumerate(body):
        li = body_start + k
        if li in dropped:
            continue
        if line.strip() == "stack = vm.stack":
            uses_stack = True
            continue
        ind = "    " + _indent(line)
        if li in halts:
            new_body.append(ind + "return HALT")
            needs.add("HALT")
            continue
        if li in jumps:
            new_body.append(ind + f"return {jumps[li]}")
            continue
        if li in returns:
            line = re.sub(r"\breturn\b", "return nxt", line, count=1)
        for old, new in (("vm.stack.", "stack."), ("vm.stack[", "stack["),
                         ("vm.push(", "stack.append("), ("vm.pop()", "stack.pop()"),
                         ("vm.peek()", "stack[-1]")):
            if old in line:
                line = line.replace(old, new)
                uses_stack = True
        if re.search(r"\bvm\.stack\b", line):
            raise PortError(f"{where}: line {li + 1} uses vm.stack in a way the rewrite "
                            "does not know")
        new_body.append("    " + line if line.strip() else line)
    last = fn.body[-1]
    if not (isinstance(last, ast.Return | ast.Raise) or _vm_call(last, "jump") is not None
            or _vm_call(last, "halt") is not None):
        new_body.append("    " + _indent(body[0]) + "return nxt")
    ind = _indent(body[0])
    params = [a.arg for a in fn.args.args][1:]
    pre: list[str] = []
    if params:
        pre.append(ind + (f"{params[0]}, = operands" if len(params) == 1
                          else f"{', '.join(params)} = operands"))
    if uses_stack:
        pre.append(ind + "stack = vm.stack_api.items")
    if any(re.search(r"\bnxt\b", line) for line in new_body):
        pre.append(ind + "nxt = ip + 1")
    pre += ["", ind + "def step() -> int:"]
    sig = f"def {fn.name}(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:"
    head = _decorator(lines, dec, set_name)
    between = lines[dec.end_lineno:fn.lineno - 1] if dec.end_lineno else []
    return head + between + [sig, *pre, *new_body, ind + "return step"], needs


def _add_import(lines: list[str], names: set[str]) -> list[str]:
    wanted = ", ".join(sorted(names))
    new = f"from fusevm.interp.extapi import {wanted}"
    for i, line in enumerate(lines):
        if line.startswith("from fusevm.interp.extapi import "):
            have = {n.strip() for n in line.split(" import ", 1)[1].split(",")}
            lines[i] = f"from fusevm.interp.extapi import {', '.join(sorted(have | names))}"
            return lines
    fusevm_lines = [i for i, line in enumerate(lines) if line.startswith(("from fusevm.",
                                                                          "import fusevm"))]
    after = [i for i in fusevm_lines if lines[i].split()[1] > "fusevm.interp.extapi"]
    if after:
        at = after[0]
    elif fusevm_lines:
        at = fusevm_lines[-1] + 1
        while at < len(lines) and lines[at].startswith((" ", ")")):
            at += 1  # past a parenthesised import
    else:
        at = next((i for i, line in enumerate(lines) if line.startswith(("import ", "from "))
                   and "__future__" not in line), 0)
    lines.insert(at, new)
    return lines


#: How a helper that is not a handler (it takes the vm) reaches the stack instead.
_HELPER_REWRITES = ((re.compile(r"= vm\.stack$"), "= vm.stack_api.items"),
                    (re.compile(r"\bvm\.stack\.pop\(\)"), "vm.stack_api.pop()"),
                    (re.compile(r"\bvm\.stack\.append\("), "vm.stack_api.push("),
                    (re.compile(r"\bvm\.stack\["), "vm.stack_api.items["))


def _port_helper(lines: list[str], fn: ast.FunctionDef) -> None:
    assert fn.end_lineno is not None
    for i in range(fn.lineno - 1, fn.end_lineno):
        for pattern, new in _HELPER_REWRITES:
            lines[i] = pattern.sub(new, lines[i])
        if re.search(r"\bvm\.stack\b(?!_api)", lines[i]):
            raise PortError(f"{fn.name} (line {i + 1}) uses vm.stack in a way the rewrite "
                            "does not know")


def port_source(text: str, set_name: str) -> str:
    """The module text with every `@set_name.op` handler rewritten as a step factory, and
    `vm.stack` in its other functions reached through `vm.stack_api`."""
    tree = ast.parse(text)
    lines = text.split("\n")
    edits: list[tuple[int, int, list[str]]] = []
    needs: set[str] = set()
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        dec = _decorated_by(fn, set_name)
        if dec is None:
            _port_helper(lines, fn)
            continue
        if fn.args.vararg or fn.args.kwonlyargs or not fn.args.args:
            raise PortError(f"{fn.name} (line {fn.lineno}): expected (vm, operand, ...)")
        new, wanted = _port_function(text, lines, fn, dec, set_name)
        needs |= wanted
        assert fn.end_lineno is not None
        edits.append((dec.lineno - 1, fn.end_lineno, new))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = new
    if needs:
        lines = _add_import(lines, needs)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", required=True, help="the ExtensionSet's variable name, e.g. AWK")
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 when a file still has plain handlers")
    p.add_argument("files", nargs="+", type=Path)
    args = p.parse_args(argv)
    status = 0
    for path in args.files:
        text = path.read_text(encoding="utf-8")
        try:
            new = port_source(text, args.set)
        except PortError as e:
            print(f"{path}: {e}", file=sys.stderr)
            status = 1
            continue
        if new != text:
            if args.check:
                print(f"{path}: has plain {args.set}.op handlers", file=sys.stderr)
                status = 1
            else:
                path.write_text(new, encoding="utf-8")
                print(f"{path}: rewritten", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
