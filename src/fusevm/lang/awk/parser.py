"""The awk parser: recursive descent over the POSIX grammar, producing `ast.Program`.

Precedence, loosest first: assignment (right), `?:` (right), `||`, `&&`, `in`, `~ !~`,
relational (non-associative), concatenation, `+ -`, `* / %`, unary `! + -`, `^` (right),
`++ --`, `$`, grouping. Inside an unparenthesised print/printf argument list `>` is
output redirection, not a comparison (`_no_gt`). `cmd | getline` binds just below
concatenation, and the file operand of `getline < file` is an additive expression, so
`getline < "f" > 0` and `"cmd" | getline > 0` compare the getline result (gawk's rules).

Name rules checked here, as both reference awks reject them before running: duplicate
functions or parameters, a function name used as a variable or array, `return`
outside a function, `break`/`continue` outside a loop, and `next`/`nextfile` in BEGIN/END.
"""

from __future__ import annotations

from fusevm.lang.awk import ast
from fusevm.lang.awk.errors import AwkSyntaxError
from fusevm.lang.awk.lexer import Lexer, Tok, Token

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

_ASSIGN_OPS: Final[dict[Tok, str]] = {
    Tok.ASSIGN: "=", Tok.ADD_ASSIGN: "+=", Tok.SUB_ASSIGN: "-=", Tok.MUL_ASSIGN: "*=",
    Tok.DIV_ASSIGN: "/=", Tok.MOD_ASSIGN: "%=", Tok.POW_ASSIGN: "^=",
}  # fmt: skip

_COMPARE_OPS: Final[dict[Tok, str]] = {
    Tok.LT: "<", Tok.LE: "<=", Tok.EQ: "==", Tok.NE: "!=", Tok.GT: ">", Tok.GE: ">=",
}  # fmt: skip

# Tokens that can begin an operand of implicit concatenation. `+` and `-` are absent on
# purpose: after an operand they are binary, so `a -1` subtracts.
_CONCAT_START: Final = frozenset(
    {
        Tok.NUMBER, Tok.STRING, Tok.ERE, Tok.NAME, Tok.FUNC_NAME, Tok.BUILTIN, Tok.DOLLAR,
        Tok.NOT, Tok.LPAREN, Tok.INCR, Tok.DECR,
    }
)  # fmt: skip

_SIMPLE_END: Final = frozenset({Tok.SEMICOLON, Tok.NEWLINE, Tok.RBRACE, Tok.EOF})

# Builtin arity (min, max) and which argument positions take a regex literal as a regex.
_BUILTIN_ARITY: Final[dict[str, tuple[int, int]]] = {
    "atan2": (2, 2), "close": (1, 2), "cos": (1, 1), "exp": (1, 1), "fflush": (0, 1),
    "gsub": (2, 3), "index": (2, 2), "int": (1, 1), "length": (0, 1), "log": (1, 1),
    "match": (2, 2), "rand": (0, 0), "sin": (1, 1), "split": (2, 3), "sprintf": (1, 255),
    "sqrt": (1, 1), "srand": (0, 1), "sub": (2, 3), "substr": (2, 3), "system": (1, 1),
    "tolower": (1, 1), "toupper": (1, 1),
}  # fmt: skip
_REGEX_ARG: Final[dict[str, int]] = {"split": 2, "sub": 0, "gsub": 0, "match": 1}


def parse(source: str) -> ast.Program:
    """Parse a whole awk program; raises AwkSyntaxError."""
    parser = Parser(source)
    try:
        return parser.parse_program()
    except RecursionError:
        raise parser.error("program nested too deeply") from None


class Parser:
    """One parse of one source text."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lexer = Lexer(source)
        self.buf: list[Token] = []
        # print-list context: an unparenthesised `>` is a redirection
        self._no_gt = False
        # a primary already parsed by print's `(` lookahead, consumed by _primary
        self._pending: ast.Expr | None = None
        self._loop_depth = 0
        self._in_function = False
        self._function_params: frozenset[str] = frozenset()
        self._action: Tok | None = None  # BEGIN or END while parsing those actions
        self._functions: dict[str, Token] = {}
        self._var_uses: list[tuple[str, Token]] = []

    # -- token stream --------------------------------------------------------

    @property
    def tok(self) -> Token:
        """The current token."""
        buf = self.buf  # (the parser asks this of nearly every token: no call when read)
        return buf[0] if buf else self.peek(0)

    def peek(self, k: int) -> Token:
        """The k-th token ahead (0 is current)."""
        while len(self.buf) <= k:
            self.buf.append(self.lexer.next_token())
        return self.buf[k]

    def advance(self) -> Token:
        """Consume and return the current token."""
        tok = self.peek(0)
        del self.buf[0]
        return tok

    def at(self, *kinds: Tok) -> bool:
        """Whether the current token is one of `kinds`."""
        buf = self.buf
        return (buf[0] if buf else self.peek(0)).kind in kinds

    def expect(self, kind: Tok, what: str | None = None) -> Token:
        """Consume a token of `kind` or fail."""
        if self.tok.kind is not kind:
            raise self.error(f"expected {what or repr(kind.value)}")
        return self.advance()

    def error(self, detail: str, tok: Token | None = None) -> AwkSyntaxError:
        """A syntax error at `tok` (default: the current token)."""
        tok = tok or self.tok
        if tok.kind is Tok.EOF:
            detail = f"{detail}, found end of file"
        elif tok.kind is Tok.NEWLINE:
            detail = f"{detail}, found newline"
        else:
            detail = f"{detail}, found {self.source[tok.offset : tok.end]!r}"
        return self.lexer.error(detail, tok.offset, tok.end - tok.offset)

    def _regex_token(self) -> Token:
        """The current DIV/DIV_ASSIGN token rescanned as an ERE, consumed."""
        tok = self.lexer.read_regex(self.buf[0])
        self.buf = []
        return tok

    def _skip_newlines(self) -> None:
        while self.at(Tok.NEWLINE):
            self.advance()

    def _skip_terminators(self) -> None:
        while self.at(Tok.NEWLINE, Tok.SEMICOLON):
            self.advance()

    # -- program -------------------------------------------------------------

    def parse_program(self) -> ast.Program:
        """program: item_list, items separated by newlines or `;`."""
        items: list[ast.Item] = []
        self._skip_terminators()
        while not self.at(Tok.EOF):
            item = self._item()
            items.append(item)
            if self.at(Tok.NEWLINE, Tok.SEMICOLON, Tok.EOF) or _has_action(item):
                self._skip_terminators()
            else:
                raise self.error("expected newline or ';' after pattern")
        self._check_names()
        return ast.Program(1, tuple(items))

    def _item(self) -> ast.Item:
        tok = self.tok
        if tok.kind is Tok.FUNCTION:
            return self._function_def()
        if tok.kind in (Tok.BEGIN, Tok.END):
            self.advance()
            if not self.at(Tok.LBRACE):
                raise self.error(f"{tok.text} blocks must have an action part")
            self._action = tok.kind
            body = self._block()
            self._action = None
            if tok.kind is Tok.BEGIN:
                return ast.BeginAction(tok.line, body)
            return ast.EndAction(tok.line, body)
        if tok.kind is Tok.LBRACE:
            return ast.PatternAction(tok.line, None, self._block())
        pattern = self._expr()
        if self.at(Tok.COMMA):
            self.advance()
            stop = self._expr()
            return ast.RangePattern(tok.line, pattern, stop, self._optional_action())
        return ast.PatternAction(tok.line, pattern, self._optional_action())

    def _optional_action(self) -> ast.Block | None:
        """A pattern's action, if a `{` follows on the same line."""
        return self._block() if self.at(Tok.LBRACE) else None

    def _function_def(self) -> ast.Function:
        start = self.advance()
        name_tok = self.tok
        if name_tok.kind is Tok.BUILTIN:
            raise self.error("cannot redefine builtin function")
        if name_tok.kind not in (Tok.NAME, Tok.FUNC_NAME):
            raise self.error("expected function name")
        self.advance()
        name = name_tok.text
        if name in self._functions:
            raise self.error(f"function {name} redefined", name_tok)
        self._functions[name] = name_tok
        self.expect(Tok.LPAREN)
        params: list[str] = []
        while not self.at(Tok.RPAREN):
            ptok = self.tok
            if ptok.kind not in (Tok.NAME, Tok.FUNC_NAME):
                raise self.error("expected parameter name")
            self.advance()
            if ptok.text == name:
                raise self.error(f"function {name}: cannot use own name as parameter", ptok)
            if ptok.text in params:
                raise self.error(f"function {name}: duplicate parameter {ptok.text}", ptok)
            params.append(ptok.text)
            if not self.at(Tok.RPAREN):
                self.expect(Tok.COMMA, "',' or ')'")
        self.advance()
        self._skip_newlines()
        self._in_function = True
        self._function_params = frozenset(params)
        body = self._block()
        self._in_function = False
        self._function_params = frozenset()
        return ast.Function(start.line, name, tuple(params), body)

    # -- statements ----------------------------------------------------------

    def _block(self) -> ast.Block:
        open_tok = self.expect(Tok.LBRACE)
        body: list[ast.Stmt] = []
        while not self.at(Tok.RBRACE):
            if self.at(Tok.EOF):
                raise self.error("missing '}'")
            stmt = self._statement()
            if stmt is not None:
                body.append(stmt)
        self.advance()
        return ast.Block(open_tok.line, tuple(body))

    def _body(self) -> ast.Stmt:
        """The statement controlled by if/while/for/do; `;` alone is an empty statement."""
        self._skip_newlines()
        if self.at(Tok.SEMICOLON):
            tok = self.advance()
            return ast.Block(tok.line, ())
        stmt = self._statement()
        assert stmt is not None  # only NEWLINE/SEMICOLON give None, both handled above
        return stmt

    def _loop_body(self) -> ast.Stmt:
        self._loop_depth += 1
        try:
            return self._body()
        finally:
            self._loop_depth -= 1

    def _statement(self) -> ast.Stmt | None:
        tok = self.tok
        kind = tok.kind
        if kind in (Tok.NEWLINE, Tok.SEMICOLON):
            self.advance()
            return None
        if kind is Tok.LBRACE:
            return self._block()
        if kind is Tok.IF:
            self.advance()
            self.expect(Tok.LPAREN)
            test = self._paren_expr()
            then = self._body()
            self._skip_newlines()
            otherwise = None
            if self.at(Tok.ELSE):
                self.advance()
                otherwise = self._body()
            return ast.If(tok.line, test, then, otherwise)
        if kind is Tok.WHILE:
            self.advance()
            self.expect(Tok.LPAREN)
            test = self._paren_expr()
            return ast.While(tok.line, test, self._loop_body())
        if kind is Tok.DO:
            self.advance()
            body = self._loop_body()
            self._skip_terminators_before(Tok.WHILE)
            self.expect(Tok.WHILE, "'while' after do body")
            self.expect(Tok.LPAREN)
            test = self._paren_expr()
            self._end_simple()
            return ast.Do(tok.line, body, test)
        if kind is Tok.FOR:
            return self._for()
        stmt = self._simple_statement()
        self._end_simple()
        return stmt

    def _skip_terminators_before(self, kind: Tok) -> None:
        """Skip newlines (and one `;` ending a simple body) before `kind`."""
        self._skip_newlines()
        if self.at(Tok.SEMICOLON) and self.peek(1).kind is kind:
            self.advance()

    def _paren_expr(self) -> ast.Expr:
        """An expression after `(`, through the closing `)`."""
        saved, self._no_gt = self._no_gt, False
        expr = self._expr()
        self.expect(Tok.RPAREN)
        self._no_gt = saved
        return expr

    def _end_simple(self) -> None:
        """A simple statement ends at `;`, newline, `}` or end of input."""
        if self.at(Tok.SEMICOLON, Tok.NEWLINE):
            self.advance()
        elif not self.at(Tok.RBRACE, Tok.EOF):
            raise self.error("expected ';' or newline")

    def _for(self) -> ast.Stmt:
        tok = self.advance()
        self.expect(Tok.LPAREN)
        if (
            self.at(Tok.NAME)
            and self.peek(1).kind is Tok.IN
            and self.peek(2).kind is Tok.NAME
            and self.peek(3).kind is Tok.RPAREN
        ):
            var = self.advance()
            self.advance()
            array = self.advance()
            self.advance()
            self._use_name(var)
            self._use_name(array)
            return ast.ForIn(tok.line, var.text, array.text, self._loop_body())
        init = None if self.at(Tok.SEMICOLON) else self._simple_statement()
        self.expect(Tok.SEMICOLON)
        self._skip_newlines()
        test = None if self.at(Tok.SEMICOLON) else self._expr()
        self.expect(Tok.SEMICOLON)
        self._skip_newlines()
        step = None if self.at(Tok.RPAREN) else self._simple_statement()
        self.expect(Tok.RPAREN)
        return ast.For(tok.line, init, test, step, self._loop_body())

    def _simple_statement(self) -> ast.Stmt:
        tok = self.tok
        kind = tok.kind
        if kind in (Tok.PRINT, Tok.PRINTF):
            return self._print()
        if kind is Tok.DELETE:
            self.advance()
            name = self.expect(Tok.NAME, "array name")
            self._use_name(name)
            if self.at(Tok.LBRACKET):
                return ast.Delete(tok.line, name.text, self._subscripts())
            return ast.Delete(tok.line, name.text, None)
        if kind in (Tok.NEXT, Tok.NEXTFILE):
            self.advance()
            if self._action is not None:
                raise self.error(f"{tok.text} used in {self._action.value} action", tok)
            return ast.Next(tok.line) if kind is Tok.NEXT else ast.NextFile(tok.line)
        if kind is Tok.EXIT:
            self.advance()
            return ast.Exit(tok.line, None if self.at(*_SIMPLE_END) else self._expr())
        if kind is Tok.RETURN:
            self.advance()
            if not self._in_function:
                raise self.error("return used outside function context", tok)
            return ast.Return(tok.line, None if self.at(*_SIMPLE_END) else self._expr())
        if kind in (Tok.BREAK, Tok.CONTINUE):
            self.advance()
            if self._loop_depth == 0:
                raise self.error(f"{tok.text} is not allowed outside a loop", tok)
            return ast.Break(tok.line) if kind is Tok.BREAK else ast.Continue(tok.line)
        return ast.ExprStmt(tok.line, self._expr())

    def _print(self) -> ast.Stmt:
        tok = self.advance()
        args: list[ast.Expr] = []
        if self.at(Tok.LPAREN):
            # `print (a, b) > f` vs `print (a)(b)` vs `print (a, b) in arr`: parse the
            # parenthesised list, then decide from what follows it.
            lparen = self.advance()
            group = self._expr_list_until(Tok.RPAREN)
            self.advance()
            if len(group) > 1 and not self.at(Tok.IN):
                args = group
            else:
                if len(group) == 1:
                    self._pending = ast.Group(lparen.line, group[0])
                else:
                    self.advance()
                    array = self.expect(Tok.NAME, "array name after 'in'")
                    self._use_name(array)
                    self._pending = ast.In(lparen.line, tuple(group), array.text)
                args = self._print_list()
        elif not self.at(Tok.GT, Tok.APPEND, Tok.PIPE, *_SIMPLE_END):
            args = self._print_list()
        redirect = None
        if self.at(Tok.GT, Tok.APPEND, Tok.PIPE):
            op = self.advance()
            redirect = ast.Redirect(op.line, op.text, self._concat())
        if tok.kind is Tok.PRINTF:
            return ast.Printf(tok.line, tuple(args), redirect)
        return ast.Print(tok.line, tuple(args), redirect)

    def _print_list(self) -> list[ast.Expr]:
        saved, self._no_gt = self._no_gt, True
        args = [self._expr()]
        while self.at(Tok.COMMA):
            self.advance()
            args.append(self._expr())
        self._no_gt = saved
        return args

    def _expr_list_until(self, close: Tok) -> list[ast.Expr]:
        """Comma-separated expressions up to (not consuming) `close`; `>` compares."""
        saved, self._no_gt = self._no_gt, False
        items = [self._expr()]
        while self.at(Tok.COMMA):
            self.advance()
            items.append(self._expr())
        if not self.at(close):
            raise self.error(f"expected ',' or {close.value!r}")
        self._no_gt = saved
        return items

    def _subscripts(self) -> tuple[ast.Expr, ...]:
        self.expect(Tok.LBRACKET)
        items = self._expr_list_until(Tok.RBRACKET)
        self.advance()
        return tuple(items)

    # -- expressions, loosest first ------------------------------------------

    def _expr(self) -> ast.Expr:
        """expr: ternary, or lvalue assign-op expr (right associative)."""
        left = self._ternary()
        if self.tok.kind in _ASSIGN_OPS and not isinstance(left, ast.LVALUE_TYPES):
            raise self.error("assignment to a non-lvalue")
        return self._assignable(left)

    def _assignable(self, operand: ast.Expr) -> ast.Expr:
        """`operand` or, if it is a bare lvalue followed by an assign-op, the assignment.

        The yacc grammars of both reference awks shift an assign-op that follows an lvalue
        opening an expression-level operand, so `1 && x = 2` is `1 && (x = 2)` and
        `a != a = 1` is `a != (a = 1)`; arithmetic and concatenation operands never do.
        """
        op = _ASSIGN_OPS.get(self.tok.kind)
        if op is None or not isinstance(operand, ast.LVALUE_TYPES):
            return operand
        self.advance()
        return ast.Assign(operand.line, op, operand, self._expr())

    def _ternary(self) -> ast.Expr:
        test = self._or()
        if not self.at(Tok.QUESTION):
            return test
        self.advance()
        if_true = self._expr()
        self.expect(Tok.COLON, "':' in conditional expression")
        return ast.Cond(test.line, test, if_true, self._expr())

    def _or(self) -> ast.Expr:
        left = self._and()
        while self.at(Tok.OR):
            self.advance()
            left = ast.Logical(left.line, "||", left, self._assignable(self._and()))
        return left

    def _and(self) -> ast.Expr:
        left = self._in()
        while self.at(Tok.AND):
            self.advance()
            left = ast.Logical(left.line, "&&", left, self._assignable(self._in()))
        return left

    def _in(self) -> ast.Expr:
        left = self._match()
        while self.at(Tok.IN):
            self.advance()
            array = self.expect(Tok.NAME, "array name after 'in'")
            self._use_name(array)
            left = ast.In(left.line, (left,), array.text)
        return left

    def _match(self) -> ast.Expr:
        left = self._compare()
        while self.at(Tok.MATCH, Tok.NOMATCH):
            negated = self.advance().kind is Tok.NOMATCH
            right = self._assignable(self._compare())
            if isinstance(right, ast.RecordMatch):
                right = right.regex
            left = ast.Match(left.line, negated, left, right)
        return left

    def _compare(self) -> ast.Expr:
        left = self._concat()
        op = self._compare_op()
        if op is None:
            return left
        self.advance()
        result = ast.Compare(left.line, op, left, self._assignable(self._concat()))
        if self._compare_op() is not None:
            raise self.error("comparisons are non-associative; use parentheses")
        return result

    def _compare_op(self) -> str | None:
        kind = self.tok.kind
        if kind is Tok.GT and self._no_gt:
            return None
        return _COMPARE_OPS.get(kind)

    def _concat(self) -> ast.Expr:
        left = self._additive()
        while True:
            if self.at(Tok.PIPE) and self.peek(1).kind is Tok.GETLINE:
                self.advance()
                self.advance()
                target = self._getline_target()
                # the getline result may still be an arithmetic operand: `cmd | getline x + 1`
                self._pending = ast.Getline(left.line, "command", target, left)
                left = self._additive()
            elif self.tok.kind in _CONCAT_START or (
                # after a concatenated operand `/=` cannot assign, so it opens an ERE
                self.at(Tok.DIV_ASSIGN) and isinstance(left, ast.Concat)
            ):
                left = ast.Concat(left.line, left, self._additive())
            else:
                return left

    def _additive(self) -> ast.Expr:
        left = self._multiplicative()
        while self.at(Tok.ADD, Tok.SUB):
            op = self.advance().text
            left = ast.Binary(left.line, op, left, self._multiplicative())
        return left

    def _multiplicative(self) -> ast.Expr:
        left = self._unary()
        while self.at(Tok.MUL, Tok.DIV, Tok.MOD):
            op = self.advance().text
            left = ast.Binary(left.line, op, left, self._unary())
        return left

    def _unary(self) -> ast.Expr:
        if self._pending is None and self.at(Tok.NOT, Tok.SUB, Tok.ADD):
            tok = self.advance()
            return ast.Unary(tok.line, tok.text, self._unary())
        return self._power()

    def _power(self) -> ast.Expr:
        base = self._postfix()
        if not self.at(Tok.POW):
            return base
        self.advance()
        return ast.Binary(base.line, "^", base, self._exponent())

    def _exponent(self) -> ast.Expr:
        """The right operand of `^`: may carry unary signs (`2^-1`), recurses for `2^3^2`."""
        if self.at(Tok.NOT, Tok.SUB, Tok.ADD):
            tok = self.advance()
            return ast.Unary(tok.line, tok.text, self._exponent())
        return self._power()

    def _postfix(self) -> ast.Expr:
        expr = self._primary()
        if isinstance(expr, ast.LVALUE_TYPES) and self.at(Tok.INCR, Tok.DECR):
            op = self.advance().text
            return ast.IncDec(expr.line, op, False, expr)
        return expr

    def _primary(self) -> ast.Expr:
        pending = self._pending
        if pending is not None:
            self._pending = None
            return pending
        tok = self.tok
        kind = tok.kind
        if kind is Tok.NUMBER:
            self.advance()
            return ast.Num(tok.line, tok.number)
        if kind is Tok.STRING:
            self.advance()
            return ast.Str(tok.line, tok.text)
        if kind in (Tok.ERE, Tok.DIV, Tok.DIV_ASSIGN):
            ere = self.advance() if kind is Tok.ERE else self._regex_token()
            return ast.RecordMatch(ere.line, ast.Regex(ere.line, ere.text))
        if kind is Tok.LPAREN:
            self.advance()
            items = self._expr_list_until(Tok.RPAREN)
            self.advance()
            if len(items) == 1:
                return ast.Group(tok.line, items[0])
            if not self.at(Tok.IN):
                raise self.error("expected 'in' after parenthesised list")
            self.advance()
            array = self.expect(Tok.NAME, "array name after 'in'")
            self._use_name(array)
            return ast.In(tok.line, tuple(items), array.text)
        if kind is Tok.DOLLAR:
            self.advance()
            return ast.Field(tok.line, self._field_operand())
        if kind in (Tok.INCR, Tok.DECR):
            self.advance()
            target = self._primary()
            if not isinstance(target, ast.LVALUE_TYPES):
                raise self.error(f"{tok.text} needs a variable, element or field", tok)
            return ast.IncDec(tok.line, tok.text, True, target)
        if kind is Tok.NAME:
            return self._variable()
        if kind is Tok.FUNC_NAME:
            self.advance()
            self.advance()  # the `(` that made it a FUNC_NAME
            args = [] if self.at(Tok.RPAREN) else self._expr_list_until(Tok.RPAREN)
            self.advance()
            return ast.Call(tok.line, tok.text, tuple(args))
        if kind is Tok.BUILTIN:
            return self._builtin()
        if kind is Tok.GETLINE:
            self.advance()
            into = self._getline_target()
            if self.at(Tok.LT):
                self.advance()
                return ast.Getline(tok.line, "file", into, self._additive())
            return ast.Getline(tok.line, "simple", into, None)
        raise self.error("syntax error")

    def _field_operand(self) -> ast.Expr:
        """The operand of `$`: binds tighter than everything but grouping and `++`/`--`.

        A postfix `++`/`--` after an inner field belongs to that field, so `$$a++` is
        `$(($a)++)`, as POSIX and both reference awks read it.
        """
        if self.at(Tok.SUB, Tok.ADD, Tok.NOT):
            tok = self.advance()
            inner = self._field_operand()
            # after a sign, a postfix ++/-- belongs to the variable: `$+i++` is $(+(i++))
            if isinstance(inner, (ast.Var, ast.Index)) and self.at(Tok.INCR, Tok.DECR):
                inner = ast.IncDec(inner.line, self.advance().text, False, inner)
            return ast.Unary(tok.line, tok.text, inner)
        operand = self._primary()
        if isinstance(operand, ast.Field) and self.at(Tok.INCR, Tok.DECR):
            op = self.advance().text
            return ast.IncDec(operand.line, op, False, operand)
        return operand

    def _variable(self) -> ast.Expr:
        tok = self.advance()
        self._use_name(tok)
        if self.at(Tok.LBRACKET):
            return ast.Index(tok.line, tok.text, self._subscripts())
        return ast.Var(tok.line, tok.text)

    def _getline_target(self) -> ast.Expr | None:
        """The optional lvalue after `getline`."""
        if self.at(Tok.NAME):
            return self._variable()
        if self.at(Tok.DOLLAR):
            tok = self.advance()
            return ast.Field(tok.line, self._field_operand())
        return None

    def _builtin(self) -> ast.Expr:
        tok = self.advance()
        name = tok.text
        if not self.at(Tok.LPAREN):
            if name == "length":
                return ast.Builtin(tok.line, name, ())
            raise self.error(f"expected '(' after {name}")
        self.advance()
        args = [] if self.at(Tok.RPAREN) else self._expr_list_until(Tok.RPAREN)
        self.advance()
        low, high = _BUILTIN_ARITY[name]
        if not low <= len(args) <= high:
            raise self.error(f"{name}: wrong number of arguments ({len(args)})", tok)
        regex_at = _REGEX_ARG.get(name)
        if regex_at is not None and regex_at < len(args):
            arg = args[regex_at]
            if isinstance(arg, ast.RecordMatch):
                args[regex_at] = arg.regex
        return ast.Builtin(tok.line, name, tuple(args))

    # -- names ---------------------------------------------------------------

    def _use_name(self, tok: Token) -> None:
        """Record a variable or array use, unless it is a parameter of this function."""
        if tok.text not in self._function_params:
            self._var_uses.append((tok.text, tok))

    def _check_names(self) -> None:
        """Reject function names used as variables or arrays (outside parameter scope).

        A parameter may shadow a function name: gawk rejects that, onetrue-awk allows it.
        """
        for name, tok in self._var_uses:
            if name in self._functions:
                raise self.error(f"function {name} used as a variable or array", tok)


def _has_action(item: ast.Item) -> bool:
    """Whether the item ended with a `}` (so no terminator is required after it)."""
    if isinstance(item, ast.PatternAction | ast.RangePattern):
        return item.body is not None
    return True
