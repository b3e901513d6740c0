"""`$(( ))` arithmetic: a precedence-climbing evaluator over C integer expressions.

Integers are 64-bit signed and wrap, as in dash. Variables are read and assigned through
callbacks (a variable's value is itself evaluated as an expression when it is not a plain
number).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from fusevm.lang.sh.errors import ShError

_TOKEN: Final = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|[0-9]+[0-9a-zA-Z_]*)|([A-Za-z_][A-Za-z0-9_]*)|"
                           r"(<<=|>>=|&&|\|\||==|!=|<=|>=|<<|>>|\+=|-=|\*=|/=|%=|&=|\^=|\|=|"
                           r"\+\+|--|[-+*/%<>&|^!~?:=()]))")
_BINARY: Final = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, "<=": 7, ">": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10,
    "%": 10,
}
_ASSIGN: Final = frozenset(("=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="))


def wrap(n: int) -> int:
    n &= 0xFFFFFFFFFFFFFFFF
    return n - (1 << 64) if n >> 63 else n


def parse_number(text: str) -> int:
    t = text.strip()
    neg = False
    if t[:1] in "+-":
        neg = t[0] == "-"
        t = t[1:]
    try:
        if t[:2] in ("0x", "0X"):
            n = int(t[2:], 16)
        elif len(t) > 1 and t[0] == "0":
            n = int(t, 8)
        else:
            n = int(t, 10)
    except ValueError:
        raise ShError(f"Illegal number: {text}") from None
    return wrap(-n if neg else n)


class Arith:
    def __init__(self, text: str, get: Callable[[str], str | None],
                 put: Callable[[str, str], None]) -> None:
        self.text = text
        self.get = get
        self.put = put
        self.toks: list[tuple[str, str]] = []
        pos = 0
        while True:
            m = _TOKEN.match(text, pos)
            if m is None:
                rest = text[pos:].strip()
                if rest:
                    raise ShError(f"arithmetic expression: expecting primary: \"{text}\"")
                break
            pos = m.end()
            if m.group(1):
                self.toks.append(("num", m.group(1)))
            elif m.group(2):
                self.toks.append(("name", m.group(2)))
            else:
                self.toks.append(("op", m.group(3)))
        self.i = 0

    def error(self) -> ShError:
        return ShError(f"arithmetic expression: expecting primary: \"{self.text}\"")

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take_op(self, op: str) -> bool:
        t = self.peek()
        if t is not None and t == ("op", op):
            self.i += 1
            return True
        return False

    def evaluate(self) -> int:
        if not self.toks:
            return 0
        v = self.expr(True)
        if self.i != len(self.toks):
            raise self.error()
        return v

    def var(self, name: str) -> int:
        value = self.get(name)
        if value is None or value == "":
            return 0
        try:
            return parse_number(value)
        except ShError:
            raise ShError(f"Illegal number: {value}") from None

    def expr(self, live: bool) -> int:
        t = self.peek()
        if t is not None and t[0] == "name" and self.i + 1 < len(self.toks):
            op = self.toks[self.i + 1]
            if op[0] == "op" and op[1] in _ASSIGN:
                self.i += 2
                value = self.expr(live)
                if live:
                    if op[1] != "=":
                        value = self.binop(op[1][:-1], self.var(t[1]), value)
                    self.put(t[1], str(value))
                return value
        return self.ternary(live)

    def ternary(self, live: bool) -> int:
        cond = self.binary(1, live)
        if self.take_op("?"):
            a = self.expr(live and cond != 0)
            if not self.take_op(":"):
                raise self.error()
            b = self.expr(live and cond == 0)
            return a if cond else b
        return cond

    def binary(self, level: int, live: bool) -> int:
        left = self.unary(live)
        while True:
            t = self.peek()
            if t is None or t[0] != "op" or _BINARY.get(t[1], 0) < level:
                return left
            op = t[1]
            prec = _BINARY[op]
            self.i += 1
            if op == "&&":
                right = self.binary(prec + 1, live and left != 0)
                left = int(left != 0 and right != 0)
            elif op == "||":
                right = self.binary(prec + 1, live and left == 0)
                left = int(left != 0 or right != 0)
            else:
                right = self.binary(prec + 1, live)
                left = self.binop(op, left, right) if live else 0

    def binop(self, op: str, a: int, b: int) -> int:
        if op in ("/", "%"):
            if b == 0:
                raise ShError("arithmetic expression: division by zero")
            q = abs(a) // abs(b)
            if (a < 0) != (b < 0):
                q = -q
            return wrap(q) if op == "/" else wrap(a - q * b)
        if op == "+":
            return wrap(a + b)
        if op == "-":
            return wrap(a - b)
        if op == "*":
            return wrap(a * b)
        if op == "<<":
            return wrap(a << (b & 63))
        if op == ">>":
            return a >> (b & 63)
        if op == "&":
            return a & b
        if op == "|":
            return a | b
        if op == "^":
            return a ^ b
        return int({"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
                    ">=": a >= b}[op])

    def unary(self, live: bool) -> int:
        t = self.peek()
        if t is None:
            raise self.error()
        kind, val = t
        self.i += 1
        if kind == "op":
            if val == "(":
                v = self.expr(live)
                if not self.take_op(")"):
                    raise self.error()
                return v
            if val == "-":
                return wrap(-self.unary(live))
            if val == "+":
                return self.unary(live)
            if val == "!":
                return int(self.unary(live) == 0)
            if val == "~":
                return ~self.unary(live)
            if val in ("++", "--"):
                n = self.peek()
                if n is None or n[0] != "name":
                    raise self.error()
                self.i += 1
                v = wrap(self.var(n[1]) + (1 if val == "++" else -1))
                if live:
                    self.put(n[1], str(v))
                return v
            raise self.error()
        if kind == "num":
            return parse_number(val)
        n = self.peek()
        if n is not None and n[0] == "op" and n[1] in ("++", "--"):
            self.i += 1
            v = self.var(val)
            if live:
                self.put(val, str(wrap(v + (1 if n[1] == "++" else -1))))
            return v
        return self.var(val) if live else 0


def evaluate(text: str, get: Callable[[str], str | None],
             put: Callable[[str, str], None]) -> int:
    return Arith(text, get, put).evaluate()
