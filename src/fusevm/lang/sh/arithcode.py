"""Stack code for a `$(( ))` whose text is fixed when the script is compiled: its tree
(`arith.parse`) as core ops where they mean the same (LoadInt, wrapping Add/Sub/Mul/Negate,
jumps) and `sh` ops for the rest (variables, `/ % << ...`, `! ~`).

The code leaves the value (an int) on the stack, evaluating operands left to right and
`&& || ?:` lazily, exactly as `arith.closure` does at run time.
"""

from __future__ import annotations

from fusevm.chunk import ChunkBuilder
from fusevm.lang.sh import arith
from fusevm.lang.sh.errors import ShError
from fusevm.lang.sh.opset import ARITH_BINARY, ARITH_UNARY, SH
from fusevm.ops import Op

TYPE_CHECKING = False
if TYPE_CHECKING:
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


def emit(b: ChunkBuilder, e: arith.Expr) -> None:
    """Code pushing the value of `e`."""
    if isinstance(e, arith.Num):
        b.emit(Op.LoadInt, e.value)
    elif isinstance(e, arith.Var):
        b.emit(SH["ShArithGet"], b.add_constant(e.name))
    elif isinstance(e, arith.Assign):
        name = b.add_constant(e.name)
        if e.op == "=":
            emit(b, e.value)
        else:
            emit(b, arith.Binary(e.op, arith.Var(e.name), e.value))
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
            emit(b, arith.Binary("+", arith.Var(e.name), arith.Num(e.delta)))
            b.emit(SH["ShArithPut"], name)
    elif isinstance(e, arith.Unary):
        emit(b, e.operand)
        if e.op == "-":
            b.emit(Op.Negate)
        elif e.op != "+":
            b.emit(SH["ShArithUn"], _UN[e.op])
    elif isinstance(e, arith.Cond):
        no, end = b.label(), b.label()
        emit(b, e.test)
        b.emit(Op.JumpIfFalse, no)
        emit(b, e.yes)
        b.emit(Op.Jump, end)
        b.bind(no)
        emit(b, e.no)
        b.bind(end)
    elif e.op in ("&&", "||"):
        # 0 or 1, the right side evaluated only when the left does not decide
        decided, end = b.label(), b.label()
        jump = Op.JumpIfFalse if e.op == "&&" else Op.JumpIfTrue
        emit(b, e.left)
        b.emit(jump, decided)
        emit(b, e.right)
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
        if isinstance(e.left, arith.Var):
            b.emit(SH["ShArithVarK"], _BIN[e.op], b.add_constant(e.left.name), k)
        else:
            emit(b, e.left)
            b.emit(SH["ShArithK"], _BIN[e.op], k)
    else:
        emit(b, e.left)
        emit(b, e.right)
        _binary(b, e.op)


def _binary(b: ChunkBuilder, op: str) -> None:
    core = _CORE.get(op)
    if core is not None:
        b.emit(core)
    else:
        b.emit(SH["ShArithBin"], _BIN[op])
