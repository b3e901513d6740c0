"""`$(( ))` arithmetic: C integer expressions parsed once per text into closures.

Integers are 64-bit signed and wrap, as in dash. Variables are read and assigned through
callbacks; an unset or empty variable is 0, any other value must be a number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from fusevm.lang.sh.errors import ShError

_TOKEN: Final = re.compile(r"\s*(?:(0[xX][0-9a-fA-F]+|[0-9]+[0-9a-zA-Z_]*)|"
                           r"([A-Za-z_][A-Za-z0-9_]*)|(<<=|>>=|&&|\|\||==|!=|<=|>=|<<|>>|\+=|-=|\*=|/=|%=|&=|\^=|\|=|"
                           r"\+\+|--|[-+*/%<>&|^!~?:=()]))")
_BINARY: Final = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, "<=": 7, ">": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10,
    "%": 10,
}
_ASSIGN: Final = frozenset(("=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="))

Get = Callable[[str], "str | None"]
Put = Callable[[str, str], None]
Node = Callable[[Get, Put], int]


def wrap(n: int) -> int:
    if -0x8000000000000000 <= n <= 0x7FFFFFFFFFFFFFFF:
        return n
    n &= 0xFFFFFFFFFFFFFFFF
    return n - (1 << 64) if n >> 63 else n


def parse_number(text: str) -> int:
    t = text.strip()
    if t.isdigit() and (t[0] != "0" or len(t) == 1):
        return wrap(int(t))
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


def _var(get: Get, name: str) -> int:
    value = get(name)
    if not value or value.isspace():
        return 0
    return parse_number(value)


def binop(op: str, a: int, b: int) -> int:
    if op == "+":
        return wrap(a + b)
    if op == "-":
        return wrap(a - b)
    if op == "*":
        return wrap(a * b)
    if op in ("/", "%"):
        if b == 0:
            raise ShError("arithmetic expression: division by zero")
        q = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            q = -q
        return wrap(q) if op == "/" else wrap(a - q * b)
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
    if op == "==":
        return int(a == b)
    if op == "!=":
        return int(a != b)
    if op == "<":
        return int(a < b)
    if op == "<=":
        return int(a <= b)
    if op == ">":
        return int(a > b)
    return int(a >= b)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks: list[tuple[str, str]] = []
        pos = 0
        while True:
            m = _TOKEN.match(text, pos)
            if m is None:
                if text[pos:].strip():
                    raise self.error()
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
        if self.i < len(self.toks) and self.toks[self.i] == ("op", op):
            self.i += 1
            return True
        return False

    def program(self) -> Node:
        if not self.toks:
            return lambda get, put: 0
        node = self.expr()
        if self.i != len(self.toks):
            raise self.error()
        return node

    def expr(self) -> Node:
        t = self.peek()
        if t is not None and t[0] == "name" and self.i + 1 < len(self.toks):
            op = self.toks[self.i + 1]
            if op[0] == "op" and op[1] in _ASSIGN:
                self.i += 2
                value = self.expr()
                name, aop = t[1], op[1]
                if aop == "=":
                    def assign(get: Get, put: Put) -> int:
                        v = value(get, put)
                        put(name, str(v))
                        return v
                    return assign
                bop = aop[:-1]

                def update(get: Get, put: Put) -> int:
                    v = binop(bop, _var(get, name), value(get, put))
                    put(name, str(v))
                    return v
                return update
        return self.ternary()

    def ternary(self) -> Node:
        cond = self.binary(1)
        if self.take_op("?"):
            a = self.expr()
            if not self.take_op(":"):
                raise self.error()
            b = self.expr()
            return lambda get, put: a(get, put) if cond(get, put) else b(get, put)
        return cond

    def binary(self, level: int) -> Node:
        left = self.unary()
        while True:
            t = self.peek()
            if t is None or t[0] != "op" or _BINARY.get(t[1], 0) < level:
                return left
            op = t[1]
            self.i += 1
            right = self.binary(_BINARY[op] + 1)
            left = _combine(op, left, right)

    def unary(self) -> Node:
        t = self.peek()
        if t is None:
            raise self.error()
        kind, val = t
        self.i += 1
        if kind == "op":
            if val == "(":
                v = self.expr()
                if not self.take_op(")"):
                    raise self.error()
                return v
            if val in ("-", "+", "!", "~"):
                operand = self.unary()
                if val == "-":
                    return lambda get, put: wrap(-operand(get, put))
                if val == "+":
                    return operand
                if val == "!":
                    return lambda get, put: int(operand(get, put) == 0)
                return lambda get, put: ~operand(get, put)
            if val in ("++", "--"):
                n = self.peek()
                if n is None or n[0] != "name":
                    raise self.error()
                self.i += 1
                name, delta = n[1], (1 if val == "++" else -1)

                def pre(get: Get, put: Put) -> int:
                    v = wrap(_var(get, name) + delta)
                    put(name, str(v))
                    return v
                return pre
            raise self.error()
        if kind == "num":
            value = parse_number(val)
            return lambda get, put: value
        n = self.peek()
        if n is not None and n[0] == "op" and n[1] in ("++", "--"):
            self.i += 1
            name, delta = val, (1 if n[1] == "++" else -1)

            def post(get: Get, put: Put) -> int:
                v = _var(get, name)
                put(name, str(wrap(v + delta)))
                return v
            return post
        return lambda get, put: _var(get, val)


def _combine(op: str, left: Node, right: Node) -> Node:
    if op == "&&":
        return lambda get, put: int(bool(left(get, put)) and bool(right(get, put)))
    if op == "||":
        return lambda get, put: int(bool(left(get, put)) or bool(right(get, put)))
    if op == "+":
        return lambda get, put: wrap(left(get, put) + right(get, put))
    if op == "-":
        return lambda get, put: wrap(left(get, put) - right(get, put))
    if op == "<":
        return lambda get, put: int(left(get, put) < right(get, put))
    return lambda get, put: binop(op, left(get, put), right(get, put))


_cache: dict[str, Node] = {}


def evaluate(text: str, get: Get, put: Put) -> int:
    node = _cache.get(text)
    if node is None:
        node = _Parser(text).program()
        if len(_cache) > 2000:
            _cache.clear()
        _cache[text] = node
    return node(get, put)
