"""Tiny: a small language compiled to fusevm bytecode, built step by step in docs/tutorial.md.

    fn fib(n) { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }
    let i = 0;
    while i < 10 { print "fib(" .. i .. ") = " .. fib(i); i = i + 1; }
    print upper("done");

Functions, `let` variables (globals at the top level, frame slots inside a function),
`if`/`else`, `while`, `return`, `print`, integers and strings, `..` to concatenate,
numeric comparisons (`< <= > >= == !=`) and string ones (`eq`, `ne`). `upper(s)` is the
language's own extension op; `len(s)` maps to a core op. Run a file with
`python examples/tiny/tiny.py FILE` (or `-c CODE`).
"""

# --8<-- [start:imports]
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from fusevm import VM, ChunkBuilder, ExtensionSet, Op, VMError
from fusevm.chunk import Chunk
from fusevm.values import to_str

# --8<-- [end:imports]

# --8<-- [start:ops]
TINY = ExtensionSet("tiny", first_id=0x4000, count=0x10)


@TINY.op("TinyUpper", effect="s -- u", formula="u = str(s) in upper case")
def upper(vm: VM) -> None:
    vm.push(to_str(vm.pop()).upper())
# --8<-- [end:ops]


# --8<-- [start:lexer]
class TinySyntaxError(VMError):
    """Tiny source that does not parse; carries the file and line like every VMError."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "num", "str", "name", "op" or "eof"
    text: str
    line: int


KEYWORDS = {"fn", "let", "if", "else", "while", "return", "print", "true", "false",
            "eq", "ne"}
TOKEN = re.compile(r"""
    (?P<skip>[ \t\r]+|\#[^\n]*)
  | (?P<newline>\n)
  | (?P<num>\d+)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<name>[A-Za-z_]\w*)
  | (?P<op>\.\.|==|!=|<=|>=|[-+*/%<>=(){},;])
""", re.VERBOSE)


def tokenize(text: str, source: str) -> list[Token]:
    tokens: list[Token] = []
    line, pos = 1, 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None:
            raise TinySyntaxError(f"unexpected character {text[pos]!r}", source=source,
                                  line=line)
        kind = m.lastgroup or ""
        if kind == "newline":
            line += 1
        elif kind != "skip":
            tokens.append(Token(kind, m.group(), line))
        pos = m.end()
    tokens.append(Token("eof", "", line))
    return tokens
# --8<-- [end:lexer]


# --8<-- [start:parser]
class Parser:
    """Token handling for a one-pass compiler that emits ops as it parses."""

    def __init__(self, text: str, source: str) -> None:
        self.tokens = tokenize(text, source)
        self.pos = 0
        self.source = source
        self.b = ChunkBuilder(source=source)
        self.locals: dict[str, int] | None = None  # None: at the top level

    # -- tokens ---------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def error(self, message: str) -> TinySyntaxError:
        got = self.tok.text or "end of input"
        return TinySyntaxError(f"{message} (got {got!r})", source=self.source,
                               line=self.tok.line)

    def accept(self, text: str) -> bool:
        if self.tok.text == text and self.tok.kind in ("op", "name"):
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise self.error(f"expected {text!r}")

    def name(self) -> str:
        if self.tok.kind != "name" or self.tok.text in KEYWORDS:
            raise self.error("expected a name")
        self.pos += 1
        return self.tokens[self.pos - 1].text

    def emit(self, op: Any, *operands: Any) -> int:
        """Emit an op on the line of the token just read."""
        return self.b.emit(op, *operands, line=self.tokens[max(self.pos - 1, 0)].line)
# --8<-- [end:parser]


# --8<-- [start:expressions]
BINARY = {"+": Op.Add, "-": Op.Sub, "*": Op.Mul, "/": Op.Div, "%": Op.Mod,
          "<": Op.NumLt, "<=": Op.NumLe, ">": Op.NumGt, ">=": Op.NumGe,
          "==": Op.NumEq, "!=": Op.NumNe, "eq": Op.StrEq, "ne": Op.StrNe}
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=", "eq", "ne")


class ExpressionCompiler(Parser):
    """Expressions, by precedence: comparison < `..` < `+ -` < `* / %` < unary < primary."""

    def expression(self) -> None:
        self.concat()
        if self.tok.text in COMPARISONS:
            op = BINARY[self.tok.text]
            self.pos += 1
            self.concat()
            self.emit(op)

    def concat(self) -> None:
        self.binary(("+", "-"), lambda: self.binary(("*", "/", "%"), self.unary))
        while self.accept(".."):
            self.binary(("+", "-"), lambda: self.binary(("*", "/", "%"), self.unary))
            self.emit(Op.Concat)

    def binary(self, ops: tuple[str, ...], operand: Any) -> None:
        operand()
        while self.tok.kind == "op" and self.tok.text in ops:
            op = BINARY[self.tok.text]
            self.pos += 1
            operand()
            self.emit(op)

    def unary(self) -> None:
        if self.accept("-"):
            self.unary()
            self.emit(Op.Negate)
        else:
            self.primary()

    def primary(self) -> None:
        tok = self.tok
        if tok.kind == "num":
            self.pos += 1
            self.emit(Op.LoadInt, int(tok.text))
        elif tok.kind == "str":
            self.pos += 1
            text = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]),
                          tok.text[1:-1])
            self.emit(Op.LoadConst, self.b.add_constant(text))
        elif self.accept("true"):
            self.emit(Op.LoadTrue)
        elif self.accept("false"):
            self.emit(Op.LoadFalse)
        elif self.accept("("):
            self.expression()
            self.expect(")")
        else:
            name = self.name()
            if self.accept("("):
                self.call(name)
            elif self.locals is not None and name in self.locals:
                self.emit(Op.GetSlot, self.locals[name])
            else:
                self.emit(Op.GetVar, name)

    def call(self, name: str) -> None:
        argc = 0
        while not self.accept(")"):
            if argc:
                self.expect(",")
            self.expression()
            argc += 1
        if name in ("upper", "len"):
            if argc != 1:
                raise self.error(f"{name}() takes one argument")
            self.emit(TINY["TinyUpper"] if name == "upper" else Op.StringLen)
        else:
            self.emit(Op.Call, name, argc)
# --8<-- [end:expressions]


# --8<-- [start:statements]
class StatementCompiler(ExpressionCompiler):
    """Statements and whole programs (without functions yet)."""

    def compile(self) -> Chunk:
        while self.tok.kind != "eof":
            self.statement()
        return self.b.build()

    def statement(self) -> None:
        if self.accept("let"):
            name = self.name()
            self.expect("=")
            self.expression()
            self.expect(";")
            self.store(name, declare=True)
        elif self.accept("if"):
            self.if_statement()
        elif self.accept("while"):
            top, done = self.b.label(), self.b.label()
            self.b.bind(top)
            self.expression()
            self.emit(Op.JumpIfFalse, done)
            self.block()
            self.emit(Op.Jump, top)
            self.b.bind(done)
        elif self.accept("return"):
            if self.locals is None:
                raise self.error("'return' outside a function")
            self.expression()
            self.expect(";")
            self.emit(Op.ReturnValue)
        elif self.accept("print"):
            self.expression()
            self.expect(";")
            self.emit(Op.PrintLn, 1)
        elif self.tok.kind == "name" and self.tokens[self.pos + 1].text == "=":
            name = self.name()
            self.expect("=")
            self.expression()
            self.expect(";")
            self.store(name, declare=False)
        else:
            self.expression()
            self.expect(";")
            self.emit(Op.Pop)

    def block(self) -> None:
        self.expect("{")
        while not self.accept("}"):
            if self.tok.kind == "eof":
                raise self.error("expected '}'")
            self.statement()

    def if_statement(self) -> None:
        otherwise, done = self.b.label(), self.b.label()
        self.expression()
        self.emit(Op.JumpIfFalse, otherwise)
        self.block()
        self.emit(Op.Jump, done)
        self.b.bind(otherwise)
        if self.accept("else"):
            if self.accept("if"):
                self.if_statement()
            else:
                self.block()
        self.b.bind(done)

    def store(self, name: str, *, declare: bool) -> None:
        if self.locals is None:
            self.emit(Op.SetVar, name)
        elif declare or name in self.locals:
            self.emit(Op.SetSlot, self.locals.setdefault(name, len(self.locals)))
        else:
            self.emit(Op.SetVar, name)
# --8<-- [end:statements]


# --8<-- [start:functions]
class Compiler(StatementCompiler):
    """The whole language: statements plus `fn` declarations at the top level."""

    def statement(self) -> None:
        if self.accept("fn"):
            self.function()
        else:
            super().statement()

    def function(self) -> None:
        if self.locals is not None:
            raise self.error("functions are declared at the top level")
        name = self.name()
        self.expect("(")
        params: list[str] = []
        while not self.accept(")"):
            if params:
                self.expect(",")
            params.append(self.name())
        # The body is laid out in line; the top-level code jumps over it.
        skip, entry = self.b.label(), self.b.label()
        self.emit(Op.Jump, skip)
        self.b.bind(entry)
        self.b.add_sub_entry(name, entry, arity=len(params))
        # Arguments arrive on the callee's stack, the last one on top: pop them into
        # the parameters' slots in reverse order.
        self.locals = {p: i for i, p in enumerate(params)}
        for slot in reversed(range(len(params))):
            self.emit(Op.SetSlot, slot)
        self.block()
        self.emit(Op.LoadUndef)  # falling off the end returns undef
        self.emit(Op.ReturnValue)
        self.locals = None
        self.b.bind(skip)
# --8<-- [end:functions]


# --8<-- [start:run]
def compile_tiny(text: str, source: str = "<tiny>") -> Chunk:
    """Tiny source to a verified, fused chunk; raises a VMError subclass on bad input."""
    return Compiler(text, source).compile()


def run(text: str, source: str = "<tiny>", *, stdout: TextIO | None = None) -> Any:
    """Compile and run a Tiny program; returns what it leaves on the stack (usually None)."""
    return VM(compile_tiny(text, source), stdout=stdout, extensions=[TINY]).run()


def main(argv: list[str]) -> int:
    """`tiny FILE` or `tiny -c CODE`: the shape of a `fusevm.frontends` entry point."""
    from fusevm.cli import format_backtrace
    if len(argv) == 2 and argv[0] == "-c":
        text, source = argv[1], "<-c>"
    elif len(argv) == 1:
        text, source = Path(argv[0]).read_text(), argv[0]
    else:
        print("usage: tiny FILE | tiny -c CODE", file=sys.stderr)
        return 2
    try:
        run(text, source)
    except VMError as e:
        print(f"{e.where()}: {e.message}", file=sys.stderr)
        if len(e.backtrace) > 1:
            print(format_backtrace(e.backtrace), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
# --8<-- [end:run]
