"""`$(( ))` arithmetic: C integer expressions parsed into a tree, which the compiler turns
into stack code when the text is static, and `evaluate` into closures (cached per text)
when it is only known at run time.

Integers are 64-bit signed and wrap, as in dash. Variables are read and assigned through
callbacks; an unset or empty variable is 0, any other value must be a number. The
semantics of each operator are written once, here (`BINARY`, `unary`, `value_of`, `wrap`);
the compiled form uses them or the core ops that mean the same (wrapping Add/Sub/Mul).
"""

from __future__ import annotations

from fusevm.lang.sh.errors import ShError
from fusevm.values import INT_MAX, INT_MIN, wrap64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

#: The operators, longest first within each first character (so the first that matches is
#: the longest).
_OPERATORS: Final = ("<<=", ">>=", "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "+=", "-=",
                     "*=", "/=", "%=", "&=", "^=", "|=", "++", "--", *"-+*/%<>&|^!~?:=()")
_OPS_BY_FIRST: Final = {c: tuple(o for o in _OPERATORS if o[0] == c)
                        for c in "-+*/%<>&|^!~?:=()"}
_DIGITS: Final = frozenset("0123456789")
_NAME_START: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
#: The characters of a name or number token (one token when adjacent).
WORD: Final = _NAME_START | _DIGITS
_BINARY: Final = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, "<=": 7, ">": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10,
    "%": 10,
}
_ASSIGN: Final = frozenset(("=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="))

if TYPE_CHECKING:
    Get = Callable[[str], "str | None"]
    Put = Callable[[str, str], None]
    Node = Callable[[Get, Put], int]


#: n as a signed 64-bit integer (two's complement wrap-around), as the VM's ints wrap.
wrap = wrap64


_HEX: Final = frozenset("0123456789abcdefABCDEF")
_OCTAL: Final = frozenset("01234567")
_DECIMAL: Final = frozenset("0123456789")


def parse_number(text: str) -> int:
    """A C integer constant (decimal, octal `0..`, hex `0x..`), optionally signed and
    surrounded by white space; ASCII digits only."""
    t = text.strip()
    if len(t) > 1000:  # (Python converts at most 4,300 digits at once)
        return _long_number(text, t)
    if t.isdigit() and t.isascii() and (t[0] != "0" or len(t) == 1):
        return wrap(int(t))
    body = t[1:] if t[:1] in ("+", "-") else t
    if body[:2] in ("0x", "0X") and len(body) > 2 and _HEX.issuperset(body[2:]):
        n = int(body[2:], 16)
    elif body.isdigit() and body.isascii() and (body[0] != "0" or _OCTAL.issuperset(body)):
        n = int(body, 8 if body[0] == "0" else 10)
    else:
        raise ShError(f"Illegal number: {text}")
    return wrap(-n if t[0] == "-" else n)


def _long_number(text: str, t: str) -> int:
    """`parse_number` of a long constant, wrapped as a short one is: its digits taken a
    thousand at a time."""
    body = t[1:] if t[:1] in ("+", "-") else t
    if body[:2] in ("0x", "0X"):
        base, digits, allowed = 16, body[2:], _HEX
    elif body[:1] == "0":
        base, digits, allowed = 8, body, _OCTAL
    else:
        base, digits, allowed = 10, body, _DECIMAL
    if not digits or not allowed.issuperset(digits):
        raise ShError(f"Illegal number: {text}")
    n = 0
    for i in range(0, len(digits), 1000):
        part = digits[i:i + 1000]
        n = (n * base ** len(part) + int(part, base)) & 0xFFFFFFFFFFFFFFFF
    return wrap(-n if t[0] == "-" else n)


def value_of(value: str | None) -> int:
    """The number a variable's value stands for: unset, empty or blank is 0."""
    if not value or value.isspace():
        return 0
    return parse_number(value)


def _quotient(a: int, b: int) -> int:
    """C division: truncated toward zero."""
    if b == 0:
        raise ShError("arithmetic expression: division by zero")
    if a >= 0 and b > 0:
        return a // b
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def _div(a: int, b: int) -> int:
    return wrap(_quotient(a, b))


def _mod(a: int, b: int) -> int:
    """C remainder: the sign of the dividend."""
    if a >= 0 and b > 0:
        return a % b
    return wrap(a - _quotient(a, b) * b)


def _add(a: int, b: int) -> int:
    r = a + b
    return r if INT_MIN <= r <= INT_MAX else wrap(r)


def _sub(a: int, b: int) -> int:
    r = a - b
    return r if INT_MIN <= r <= INT_MAX else wrap(r)


def _mul(a: int, b: int) -> int:
    r = a * b
    return r if INT_MIN <= r <= INT_MAX else wrap(r)


#: Each binary operator's meaning (`&&` and `||` evaluate lazily, so they are not here).
BINARY: Final[dict[str, Callable[[int, int], int]]] = {
    "+": _add,
    "-": _sub,
    "*": _mul,
    "/": _div,
    "%": _mod,
    "<<": lambda a, b: wrap(a << (b & 63)),
    ">>": lambda a, b: a >> (b & 63),
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b),
    "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b),
    ">=": lambda a, b: int(a >= b),
}


def with_constant(op: str, k: int) -> Callable[[int], int]:
    """`a OP k` as a function of a (for stack code with a constant operand): + - * as
    `_add`, `_sub`, `_mul` with k bound, saving a call, and `% k` for k > 0 (C's remainder
    is Python's for a >= 0); any other operator by BINARY."""
    if op == "+":
        def add(a: int) -> int:
            r = a + k
            return r if INT_MIN <= r <= INT_MAX else wrap(r)
        return add
    if op == "-":
        def sub(a: int) -> int:
            r = a - k
            return r if INT_MIN <= r <= INT_MAX else wrap(r)
        return sub
    if op == "*":
        def mul(a: int) -> int:
            r = a * k
            return r if INT_MIN <= r <= INT_MAX else wrap(r)
        return mul
    if op == "%" and k > 0:
        def rem(a: int) -> int:
            return a % k if a >= 0 else _mod(a, k)
        return rem
    fn = BINARY[op]
    return lambda a: fn(a, k)


def unary(op: str, a: int) -> int:
    """`-a`, `+a`, `!a`, `~a`."""
    if op == "-":
        return wrap(-a)
    if op == "!":
        return int(a == 0)
    if op == "~":
        return ~a
    return a


# -- the tree ---------------------------------------------------------------------------------


# Plain slotted classes, not dataclasses: the tree is built per static `$(( ))` and the
# module is imported at every start-up, where dataclass creation costs milliseconds.


class Num:
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


class Var:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Assign:
    """`name = value`, or `name op= value` (op the binary operator)."""

    __slots__ = ("name", "op", "value")

    def __init__(self, name: str, op: str, value: Expr) -> None:
        self.name, self.op, self.value = name, op, value


class Incr:
    """`++name` / `--name` (post False) and `name++` / `name--` (post True)."""

    __slots__ = ("name", "delta", "post")

    def __init__(self, name: str, delta: int, post: bool) -> None:
        self.name, self.delta, self.post = name, delta, post


class Unary:
    __slots__ = ("op", "operand")

    def __init__(self, op: str, operand: Expr) -> None:
        self.op, self.operand = op, operand


class Binary:
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.op, self.left, self.right = op, left, right


class Cond:
    __slots__ = ("test", "yes", "no")

    def __init__(self, test: Expr, yes: Expr, no: Expr) -> None:
        self.test, self.yes, self.no = test, yes, no


Expr = Num | Var | Assign | Incr | Unary | Binary | Cond


def _tokens(text: str) -> list[tuple[str, str]] | None:
    """The (kind, text) tokens of `text`: "num" (a hex constant `0x..`, or a digit
    followed by any word characters, for parse_number to judge), "name" or "op"; None
    when something else (not white space) is met. Written out by hand rather than as a
    regular expression so that `$(( ))` does not import `re`."""
    toks: list[tuple[str, str]] = []
    n = len(text)
    pos = 0
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos == n:
            return toks
        c = text[pos]
        start = pos
        if c in _DIGITS:
            pos += 1
            if c == "0" and pos + 1 < n and text[pos] in "xX" and text[pos + 1] in _HEX:
                pos += 2
                while pos < n and text[pos] in _HEX:
                    pos += 1
            else:
                while pos < n and text[pos] in WORD:
                    pos += 1
            toks.append(("num", text[start:pos]))
        elif c in _NAME_START:
            pos += 1
            while pos < n and text[pos] in WORD:
                pos += 1
            toks.append(("name", text[start:pos]))
        else:
            for op in _OPS_BY_FIRST.get(c, ()):
                if text.startswith(op, pos):
                    toks.append(("op", op))
                    pos += len(op)
                    break
            else:
                return None


_OPERAND_END: Final = frozenset(("name", "num", ")"))


def _signs(toks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`toks` with each `++` / `--` that is no increment or decrement split into two signs
    (`2--5` is 2 - -5, as in dash). It is one after a variable name when no operand
    follows (`a--`, `a-- -b`), or before a name when no operand precedes it (`--a`); so
    `a--b` and `2--a` are subtractions of a negated operand, and `--5` is 5."""
    out: list[tuple[str, str]] = []
    n = len(toks)
    for i, t in enumerate(toks):
        if t[0] == "op" and t[1] in ("++", "--"):
            before = toks[i - 1] if i else None
            after = toks[i + 1] if i + 1 < n else None
            postfix = before is not None and before[0] == "name" and (
                after is None or after[0] == "op" and after[1] != "(")
            prefix = after is not None and after[0] == "name" and (
                before is None or (before[1] if before[0] == "op" else before[0])
                not in _OPERAND_END)
            if not (postfix or prefix):
                sign = ("op", t[1][0])
                out += (sign, sign)
                continue
        out.append(t)
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        toks = _tokens(text)
        if toks is None:
            raise self.error()
        self.toks = _signs(toks)
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

    def program(self) -> Expr:
        if not self.toks:
            return Num(0)
        node = self.expr()
        if self.i != len(self.toks):
            raise self.error()
        return node

    def expr(self) -> Expr:
        t = self.peek()
        if t is not None and t[0] == "name" and self.i + 1 < len(self.toks):
            op = self.toks[self.i + 1]
            if op[0] == "op" and op[1] in _ASSIGN:
                self.i += 2
                value = self.expr()
                return Assign(t[1], op[1] if op[1] == "=" else op[1][:-1], value)
        return self.ternary()

    def ternary(self) -> Expr:
        cond = self.binary(1)
        if self.take_op("?"):
            a = self.expr()
            if not self.take_op(":"):
                raise self.error()
            # as in C, the last operand is a conditional expression: `0 ? 1 : y = 3` is an
            # error (an assignment to `0 ? 1 : y`), not `0 ? 1 : (y = 3)`
            b = self.ternary()
            return Cond(cond, a, b)
        return cond

    def binary(self, level: int) -> Expr:
        left = self.unary()
        while True:
            t = self.peek()
            if t is None or t[0] != "op" or _BINARY.get(t[1], 0) < level:
                return left
            op = t[1]
            self.i += 1
            right = self.binary(_BINARY[op] + 1)
            left = Binary(op, left, right)

    def unary(self) -> Expr:
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
                return Unary(val, self.unary())
            if val in ("++", "--"):
                n = self.peek()
                if n is None or n[0] != "name":
                    raise self.error()
                self.i += 1
                return Incr(n[1], 1 if val == "++" else -1, False)
            raise self.error()
        if kind == "num":
            return Num(parse_number(val))
        n = self.peek()
        if n is not None and n[0] == "op" and n[1] in ("++", "--"):
            self.i += 1
            return Incr(val, 1 if n[1] == "++" else -1, True)
        return Var(val)


def parse(text: str) -> Expr:
    """The expression tree of `text`.

    Raises:
        ShError: a syntax error or a malformed number.
    """
    return _Parser(text).program()


# -- closures: the run-time form --------------------------------------------------------------


def closure(e: Expr) -> Node:
    """A function evaluating `e` with the given variable callbacks."""
    if isinstance(e, Num):
        value = e.value
        return lambda get, put: value
    if isinstance(e, Var):
        name = e.name
        return lambda get, put: value_of(get(name))
    if isinstance(e, Assign):
        name, bop, rhs = e.name, e.op, closure(e.value)
        if bop == "=":
            def assign(get: Get, put: Put) -> int:
                v = rhs(get, put)
                put(name, str(v))
                return v
            return assign

        fn = BINARY[bop]

        def update(get: Get, put: Put) -> int:
            v = fn(value_of(get(name)), rhs(get, put))
            put(name, str(v))
            return v
        return update
    if isinstance(e, Incr):
        name, delta = e.name, e.delta
        if e.post:
            def post(get: Get, put: Put) -> int:
                v = value_of(get(name))
                put(name, str(wrap(v + delta)))
                return v
            return post

        def pre(get: Get, put: Put) -> int:
            v = wrap(value_of(get(name)) + delta)
            put(name, str(v))
            return v
        return pre
    if isinstance(e, Unary):
        operand, uop = closure(e.operand), e.op
        if uop == "+":
            return operand
        return lambda get, put: unary(uop, operand(get, put))
    if isinstance(e, Cond):
        c, a, b = closure(e.test), closure(e.yes), closure(e.no)
        return lambda get, put: a(get, put) if c(get, put) else b(get, put)
    return _combine(e.op, closure(e.left), closure(e.right))


def _combine(op: str, left: Node, right: Node) -> Node:
    if op == "&&":
        return lambda get, put: int(bool(left(get, put)) and bool(right(get, put)))
    if op == "||":
        return lambda get, put: int(bool(left(get, put)) or bool(right(get, put)))
    fn = BINARY[op]
    return lambda get, put: fn(left(get, put), right(get, put))


_cache: dict[str, Node] = {}


def evaluate(text: str, get: Get, put: Put) -> int:
    node = _cache.get(text)
    if node is None:
        node = closure(parse(text))
        if len(_cache) > 2000:
            _cache.clear()
        _cache[text] = node
    return node(get, put)
