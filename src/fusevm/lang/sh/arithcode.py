"""Stack code for a `$(( ))` whose text is fixed when the script is compiled: its tree
(`arith.parse`) as core ops where they mean the same (LoadInt, wrapping Add/Sub/Mul/Negate,
jumps) and `sh` ops for the rest (variables, `/ % << ...`, `! ~`).

The code leaves the value (an int) on the stack, evaluating operands left to right and
`&& || ?:` lazily, exactly as `arith.closure` does at run time.

A `$(( ))` whose text is fixed but for plain parameters (`$(($i + 1))`) is compiled too
(`template`): a parameter whose value is a decimal number without sign is that number
token in the text, so the tree parsed with a placeholder name in its place, read from a
slot, means what the expanded text means, provided the parameter stands alone as a token
(no word character on either side) and is never assigned to. Its value is checked when
the code runs (ShArithParam), and any other value takes the text path.
"""

from __future__ import annotations

from fusevm.chunk import ChunkBuilder
from fusevm.lang.sh import arith, ast
from fusevm.lang.sh.errors import ShError
from fusevm.lang.sh.opset import ARITH_BINARY, ARITH_UNARY, SH
from fusevm.ops import Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Final

_CORE: Final = {"+": Op.Add, "-": Op.Sub, "*": Op.Mul}
_BIN: Final = {op: i for i, op in enumerate(ARITH_BINARY)}
_UN: Final = {op: i for i, op in enumerate(ARITH_UNARY)}


def compile_text(text: str) -> arith.Expr | None:
    """The tree of a static expression, or None when parsing fails (the error is then
    reported when the command runs, by the run-time path)."""
    try:
        return arith.parse(text)
    except ShError:
        return None


_NO_SLOTS: Final[Mapping[str, int]] = {}


def template(parts: list[ast.Part]) -> tuple[arith.Expr, list[tuple[str, str]]] | None:
    """For `$(( ))` text made of fixed text and plain parameters (`$i`, `${i}`, `$1`,
    `$#`, `$?`), each alone as a token: the tree with a placeholder variable for each
    parameter, and the (placeholder, parameter) pairs in order; None otherwise."""
    texts = [p.text for p in parts if isinstance(p, ast.Quoted)]
    base = "_p"
    while any(base in text for text in texts):
        base = "_" + base  # no name in the text can then be a placeholder
    pieces: list[str] = []
    params: list[tuple[str, str]] = []
    for p in parts:
        if isinstance(p, ast.Quoted):
            pieces.append(p.text)
        elif isinstance(p, ast.Param) and p.op == "" and (
                p.name.isidentifier() and p.name.isascii() or p.name.isdigit()
                or p.name in ("#", "?")):
            placeholder = f"{base}{len(params)}"
            params.append((placeholder, p.name))
            pieces.append(placeholder)
        else:
            return None
        if len(pieces) > 1 and pieces[-2] and pieces[-2][-1] in arith.WORD and \
                pieces[-1][:1] in arith.WORD:
            return None  # `x$i`, `$i2`, `$i$j`: tokens that would join
    if not params:
        return None
    tree = compile_text("".join(pieces))
    names = {placeholder for placeholder, _ in params}
    if tree is None or _assigns(tree) & names:
        return None
    return tree, params


def _assigns(e: arith.Expr) -> set[str]:
    """The variables `e` assigns to."""
    if isinstance(e, (arith.Num, arith.Var)):
        return set()
    if isinstance(e, arith.Assign):
        return {e.name} | _assigns(e.value)
    if isinstance(e, arith.Incr):
        return {e.name}
    if isinstance(e, arith.Unary):
        return _assigns(e.operand)
    if isinstance(e, arith.Cond):
        return _assigns(e.test) | _assigns(e.yes) | _assigns(e.no)
    return _assigns(e.left) | _assigns(e.right)


def emit(b: ChunkBuilder, e: arith.Expr, slots: Mapping[str, int] = _NO_SLOTS) -> None:
    """Code pushing the value of `e`; a variable named in `slots` (a placeholder of
    `template`) is read from that slot."""
    if isinstance(e, arith.Num):
        b.emit(Op.LoadInt, e.value)
    elif isinstance(e, arith.Var) and e.name in slots:
        b.emit(Op.GetSlot, slots[e.name])
    elif isinstance(e, arith.Var):
        b.emit(SH["ShArithGet"], b.add_constant(e.name))
    elif isinstance(e, arith.Assign):
        name = b.add_constant(e.name)
        if e.op == "=":
            emit(b, e.value, slots)
        else:
            emit(b, arith.Binary(e.op, arith.Var(e.name), e.value), slots)
        b.emit(SH["ShArithPut"], name)
    elif isinstance(e, arith.Incr):
        name = b.add_constant(e.name)
        if e.post:
            b.emit(SH["ShArithGet"], name)
            b.emit(Op.Dup)
            b.emit(Op.LoadInt, e.delta)
            b.emit(Op.Add)
            b.emit(SH["ShArithPut"], name)
            b.emit(Op.Pop)
        else:
            emit(b, arith.Binary("+", arith.Var(e.name), arith.Num(e.delta)), slots)
            b.emit(SH["ShArithPut"], name)
    elif isinstance(e, arith.Unary):
        emit(b, e.operand, slots)
        if e.op == "-":
            b.emit(Op.Negate)
        elif e.op != "+":
            b.emit(SH["ShArithUn"], _UN[e.op])
    elif isinstance(e, arith.Cond):
        no, end = b.label(), b.label()
        emit(b, e.test, slots)
        b.emit(Op.JumpIfFalse, no)
        emit(b, e.yes, slots)
        b.emit(Op.Jump, end)
        b.bind(no)
        emit(b, e.no, slots)
        b.bind(end)
    elif e.op in ("&&", "||"):
        # 0 or 1, the right side evaluated only when the left does not decide
        decided, end = b.label(), b.label()
        jump = Op.JumpIfFalse if e.op == "&&" else Op.JumpIfTrue
        emit(b, e.left, slots)
        b.emit(jump, decided)
        emit(b, e.right, slots)
        b.emit(jump, decided)
        b.emit(Op.LoadInt, 1 if e.op == "&&" else 0)
        b.emit(Op.Jump, end)
        b.bind(decided)
        b.emit(Op.LoadInt, 0 if e.op == "&&" else 1)
        b.bind(end)
    elif isinstance(e.right, arith.Num):
        # an operation with a constant: one op, reading the variable itself when the other
        # operand is one (left to right still: the constant reads nothing)
        k = b.add_constant(e.right.value)
        if isinstance(e.left, arith.Var) and e.left.name not in slots:
            b.emit(SH["ShArithVarK"], _BIN[e.op], b.add_constant(e.left.name), k)
        else:
            emit(b, e.left, slots)
            b.emit(SH["ShArithK"], _BIN[e.op], k)
    else:
        emit(b, e.left, slots)
        emit(b, e.right, slots)
        _binary(b, e.op)


def _binary(b: ChunkBuilder, op: str) -> None:
    core = _CORE.get(op)
    if core is not None:
        b.emit(core)
    else:
        b.emit(SH["ShArithBin"], _BIN[op])
