"""The shell's tokens and words: characters to operators, words with their quoting
structure, `$...` expansions, backquotes and here-document bodies (XCU 2.2-2.3, 2.6).

Tokens depend on the grammar's context (reserved words count only in command position;
`$(...)` nests a whole command list; here-document bodies start after the next newline),
so the lexer is the base class of `parser.Parser`, which supplies the grammar methods the
lexer calls back (`parse_list`, `parse_all`).
"""

from __future__ import annotations

from fusevm.lang.sh import ast
from fusevm.lang.sh.errors import ShSyntaxError
from fusevm.lang.sh.tildes import assign_tildes, leading_tilde

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

RESERVED: Final = frozenset(
    "if then else elif fi do done case esac while until for { } ! in".split())
_OPS: Final = ("&&", "||", ";;", "<<-", "<<", ">>", "<&", ">&", "<>", ">|",
               ";", "&", "|", "(", ")", "<", ">")
#: The operators by their first character, in `_OPS`' order (longest first).
_OPS_BY_START: Final = {c: tuple(op for op in _OPS if op[0] == c) for c in
                        dict.fromkeys(op[0] for op in _OPS)}
_META: Final = frozenset(" \t\n;&|()<>")
#: What ends a run of plain characters inside double quotes: its close, a backslash, an
#: expansion, and a newline (counted as it is read).
_DQ_STOPS: Final = frozenset('"\\$`\n')
#: What ends a run of plain characters in a word: an operator or blank, or a quote,
#: backslash, `$` or backquote.
_WORD_STOPS: Final = _META | frozenset("\\'\"$`")
# Names ([A-Za-z_][A-Za-z0-9_]*) are scanned with str methods: a regex here would load
# `re` into every shell that parses a word.
_NAME_START: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS: Final = _NAME_START | frozenset("0123456789")
_SPECIAL: Final = frozenset("@*#?-$!0123456789")

Token = tuple[str, object, int]  # kind ("op", "word", "io", "nl", "eof"), value, line



def is_name(s: str) -> bool:
    """Whether `s` is a shell name: [A-Za-z_][A-Za-z0-9_]* (an ASCII identifier)."""
    return s.isascii() and s.isidentifier()


def name_end(text: str, pos: int) -> int:
    """Where the name starting at `pos` ends (`pos` when none starts there)."""
    if pos >= len(text) or text[pos] not in _NAME_START:
        return pos
    end = pos + 1
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    return end


class Lexer:
    """Reads tokens and words from shell source text."""

    #: Supplied by the grammar (parser.Parser): a compound list up to a terminator.
    parse_list: Callable[[tuple[str, object]], list[ast.ListItem]]
    #: Supplied by the grammar: the whole text as one command list.
    parse_all: Callable[[], list[ast.ListItem]]

    def sub(self, text: str, line: int) -> Lexer:
        """A reader of the same kind for nested text (backquotes, here-documents)."""
        return type(self)(text, line, self.aliases)

    def __init__(self, text: str, line: int = 1, aliases: dict[str, str] | None = None) -> None:
        self.text = text
        self.pos = 0
        self.line = line
        self.heredocs: list[ast.HereDoc] = []
        self.peeked: Token | None = None
        self.aliases = aliases if aliases is not None else {}
        self._alias_end = -1
        self._alias_active: list[tuple[str, int]] = []  # (alias, end of its text)
        self.tok_start = 0

    # -- errors -------------------------------------------------------------------------------

    def error(self, message: str, line: int | None = None) -> ShSyntaxError:
        return ShSyntaxError(message, self.line if line is None else line)

    def unexpected(self, tok: Token) -> ShSyntaxError:
        kind, value, line = tok
        if kind == "eof":
            return self.error("end of file unexpected", line)
        if kind == "nl":
            return self.error("newline unexpected", line)
        if kind == "word":
            return self.error(f'"{self._raw(tok)}" unexpected', line)
        return self.error(f'"{value}" unexpected', line)

    # -- characters ------------------------------------------------------------------------------

    def _peekc(self, k: int = 0) -> str:
        i = self.pos + k
        return self.text[i] if i < len(self.text) else ""

    def _skip_continuations(self) -> None:
        while self.text.startswith("\\\n", self.pos):
            self.pos += 2
            self.line += 1

    def _getc(self) -> str:
        """Next character with backslash-newline pairs removed."""
        self._skip_continuations()
        if self.pos >= len(self.text):
            return ""
        c = self.text[self.pos]
        self.pos += 1
        if c == "\n":
            self.line += 1
        return c

    def _cur(self) -> str:
        """The next character, line continuations skipped first."""
        text = self.text
        pos = self.pos
        if pos >= len(text):
            return ""
        c = text[pos]
        if c == "\\" and text.startswith("\\\n", pos):
            self._skip_continuations()
            return self._peekc()
        return c

    # -- tokens ----------------------------------------------------------------------------------

    def peek(self) -> Token:
        if self.peeked is None:
            tok = self._lex()
            # The word after an alias whose value ends in a blank is alias-expanded too, and
            # so, recursively, is the first word of that expansion.
            first_of_value = False
            while tok[0] == "word":
                after_blank = 0 <= self._alias_end <= self.tok_start
                if not (after_blank or first_of_value):
                    break
                if after_blank:
                    self._alias_end = -1
                lit = self._word_of(tok).literal()
                if lit is None or not self.can_alias(lit):
                    break
                self.peeked = tok
                self.expand_alias(lit)
                tok = self._lex()
                first_of_value = True
            self.peeked = tok
        return self.peeked

    def can_alias(self, name: str) -> bool:
        """True if the peeked word `name` is an alias not already being expanded here."""
        return name in self.aliases and len(self._alias_active) < 100 and not any(
            n == name and self.tok_start < end for n, end in self._alias_active)

    def expand_alias(self, name: str) -> None:
        """Replace the peeked word by the alias text, to be lexed again in place."""
        value = self.aliases[name]
        start, end = self.tok_start, self.pos
        self.peeked = None
        delta = len(value) + 1 - (end - start)
        self._alias_active = [(n, e + delta) for n, e in self._alias_active if e > start]
        self.text = self.text[:start] + value + " " + self.text[end:]
        self.pos = start
        self._alias_active.append((name, start + len(value)))
        self._alias_end = start + len(value) if value.endswith((" ", "\t")) else -1

    def next(self) -> Token:
        tok = self.peek()
        self.peeked = None
        return tok

    def _lex(self) -> Token:
        while True:
            c = self._cur()
            if c in (" ", "\t"):
                self.pos += 1
            elif c == "#":
                while self.pos < len(self.text) and self.text[self.pos] != "\n":
                    self.pos += 1
            else:
                break
        line = self.line
        self.tok_start = self.pos
        if c == "":
            return ("eof", None, line)
        if c == "\n":
            self.pos += 1
            self.line += 1
            if self.heredocs:
                self._read_heredocs()
            return ("nl", None, line)
        ops = _OPS_BY_START.get(c)
        if ops is not None:
            for op in ops:
                if self._match_op(op):
                    return ("op", op, line)
        if c.isdigit():
            j = self.pos
            while j < len(self.text) and self.text[j].isdigit():
                j += 1
            digits = self.text[self.pos:j]
            # An fd the shell ops can name (0-255); longer digits are a word, as dash
            # takes any above 9.
            if j < len(self.text) and self.text[j] in "<>" and digits.isascii() and \
                    len(digits) <= 3 and int(digits) <= 255:
                self.pos = j
                return ("io", int(digits), line)
        start = self.pos
        word = self._word()
        return ("word", (word, self.text[start:self.pos]), line)

    def _match_op(self, op: str) -> bool:
        # operators may be split by line continuations (rare); check the plain text only
        if self.text.startswith(op, self.pos):
            self.pos += len(op)
            return True
        if len(op) == 2 and self.text.startswith("\\\n", self.pos + 1) and \
                self.text.startswith(op[0] + "\\\n" + op[1], self.pos):
            self.pos += 4
            self.line += 1
            return True
        return False

    @staticmethod
    def _raw(tok: Token) -> str:
        value = tok[1]
        assert isinstance(value, tuple)
        return str(value[1])

    @staticmethod
    def _word_of(tok: Token) -> ast.Word:
        value = tok[1]
        assert isinstance(value, tuple)
        word = value[0]
        assert isinstance(word, ast.Word)
        return word

    def _reserved(self, tok: Token) -> str | None:
        """The reserved word this token is, if it is one (unquoted, plain)."""
        if tok[0] != "word":
            return None
        lit = self._word_of(tok).literal()
        return lit if lit in RESERVED else None

    # -- words -----------------------------------------------------------------------------------

    def _word(self) -> ast.Word:
        parts: list[ast.Part] = []
        lit: list[str] = []

        def flush() -> None:
            if lit:
                parts.append(ast.Lit("".join(lit)))
                lit.clear()

        while True:
            c = self._cur()
            if c == "" or c in _META:
                break
            if c == "\\":
                self.pos += 1
                n = self._peekc()
                if n == "":
                    lit.append("\\")
                    continue
                self.pos += 1
                if n == "\n":
                    self.line += 1
                flush()
                parts.append(ast.Quoted(n))
            elif c == "'":
                flush()
                parts.append(ast.Quoted(self._single()))
            elif c == '"':
                flush()
                self.pos += 1
                parts.append(ast.DQ(self._dq_parts('"')))
            elif c == "$":
                part = self._dollar(False)
                if isinstance(part, ast.Lit):
                    lit.append(part.text)
                else:
                    flush()
                    parts.append(part)
            elif c == "`":
                flush()
                parts.append(self._backquote(False))
            else:
                # a run of plain characters at once (`_WORD_STOPS` ends it: a newline is
                # in _META, and a line continuation begins with a backslash)
                text = self.text
                j = self.pos + 1
                end = len(text)
                while j < end and text[j] not in _WORD_STOPS:
                    j += 1
                lit.append(text[self.pos:j])
                self.pos = j
        flush()
        return ast.Word(leading_tilde(parts))

    def _single(self) -> str:
        start_line = self.line
        self.pos += 1
        end = self.text.find("'", self.pos)
        if end < 0:
            raise self.error("Unterminated quoted string", start_line)
        s = self.text[self.pos:end]
        self.line += s.count("\n")
        self.pos = end + 1
        return s

    def _dq_parts(self, close: str) -> list[ast.Part]:
        """Parts of a double-quoted string up to `close` (consumed)."""
        start_line = self.line
        parts: list[ast.Part] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                parts.append(ast.Quoted("".join(buf)))
                buf.clear()

        while True:
            c = self._getc()
            if c == "":
                raise self.error("Unterminated quoted string", start_line)
            if c == close:
                break
            if c == "\\":
                n = self._peekc()
                if n in ("$", "`", '"', "\\"):
                    self.pos += 1
                    buf.append(n)
                else:
                    buf.append("\\")
            elif c == "$":
                self.pos -= 1
                part = self._dollar(True)
                if isinstance(part, ast.Lit):
                    buf.append(part.text)
                else:
                    flush()
                    parts.append(part)
            elif c == "`":
                self.pos -= 1
                flush()
                parts.append(self._backquote(True))
            else:
                # with the run of plain characters after it (`_DQ_STOPS` ends it; a line
                # continuation begins with a backslash)
                text = self.text
                j = self.pos
                end = len(text)
                while j < end and text[j] not in _DQ_STOPS:
                    j += 1
                buf.append(c)
                if j > self.pos:
                    buf.append(text[self.pos:j])
                    self.pos = j
        flush()
        return parts

    def _dollar(self, in_dq: bool) -> ast.Part:
        self.pos += 1  # the $
        c = self._cur()
        if c == "(":
            if self._peekc(1) == "(":
                save = (self.pos, self.line)
                try:
                    return self._arith()
                except ShSyntaxError:
                    self.pos, self.line = save
            return self._cmdsub()
        if c == "{":
            self.pos += 1
            return self._braced(in_dq)
        if c and c in _SPECIAL:
            self.pos += 1
            return ast.Param(c)
        name = self._name()
        if name:
            return ast.Param(name)
        return ast.Lit("$")

    def _name(self) -> str:
        """The name starting here ("" when none does); a backslash-newline inside it is
        removed like anywhere else (`$v\\<newline>ar` is `$var`)."""
        chars: list[str] = []
        c = self._cur()
        while c and c in (_NAME_CHARS if chars else _NAME_START):
            chars.append(c)
            self.pos += 1
            c = self._cur()
        return "".join(chars)

    def _arith(self) -> ast.Arith:
        self.pos += 2
        start_line = self.line
        parts: list[ast.Part] = []
        buf: list[str] = []
        depth = 0

        def flush() -> None:
            if buf:
                parts.append(ast.Quoted("".join(buf)))
                buf.clear()

        while True:
            c = self._cur()
            if c == "":
                raise self.error("Missing '))'", start_line)
            if c == ")" and depth == 0:
                if self._peekc(1) == ")":
                    self.pos += 2
                    break
                raise self.error("Missing '))'", start_line)
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            if c == "$":
                part = self._dollar(True)
                if isinstance(part, ast.Lit):
                    buf.append(part.text)
                else:
                    flush()
                    parts.append(part)
            elif c == "`":
                flush()
                parts.append(self._backquote(True))
            elif c == '"':
                self.pos += 1
                flush()
                parts.extend(self._dq_parts('"'))
            elif c == "'":
                buf.append(self._single())
            elif c == "\\":
                self.pos += 1
                buf.append(self._getc())
            else:
                self._getc()
                buf.append(c)
        flush()
        return ast.Arith(ast.Word(parts))

    def _cmdsub(self) -> ast.CmdSub:
        self.pos += 1  # (
        start = self.pos
        saved_docs, self.heredocs = self.heredocs, []
        saved_peek, self.peeked = self.peeked, None
        body = self.parse_list(("op", ")"))
        tok = self.next()
        if tok != ("op", ")", tok[2]):
            raise self.unexpected(tok)
        self.heredocs = saved_docs
        self.peeked = saved_peek
        return ast.CmdSub(body, self.text[start:self.pos - 1])

    def _backquote(self, in_dq: bool) -> ast.CmdSub:
        start_line = self.line
        self.pos += 1
        buf: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.error("EOF in backquote substitution", start_line)
            c = self.text[self.pos]
            self.pos += 1
            if c == "`":
                break
            if c == "\\" and self.pos < len(self.text):
                n = self.text[self.pos]
                if n in "$`\\" or (in_dq and n == '"'):
                    buf.append(n)
                    self.pos += 1
                    continue
                if n == "\n":
                    self.pos += 1
                    self.line += 1
                    continue
            if c == "\n":
                self.line += 1
            buf.append(c)
        text = "".join(buf)
        body = self.sub(text, start_line).parse_all()
        return ast.CmdSub(body, text)

    def _braced(self, in_dq: bool) -> ast.Part:
        """`${...}`; a malformed one becomes a Param that fails when expanded (as in dash
        and bash, a bad substitution is a run-time error)."""
        start = self.pos
        try:
            return self._braced_checked(in_dq)
        except ShSyntaxError as e:
            if e.message != "Bad substitution":
                raise
            self.pos = start
            depth = 0
            while self.pos < len(self.text):
                c = self.text[self.pos]
                self.pos += 1
                if c == "{":
                    depth += 1
                elif c == "}":
                    if depth == 0:
                        break
                    depth -= 1
            else:
                # no `}` at all: a syntax error, as in dash and bash (status 2)
                raise self.error("Missing '}'", e.line) from None
            return ast.Param("${" + self.text[start:self.pos], "bad")

    def _braced_checked(self, in_dq: bool) -> ast.Part:
        start_line = self.line
        c = self._cur()
        length = False
        if c == "#" and self._peekc(1) not in ("}", ""):
            # ${#name} unless it is ${#} or ${#-...} style operators on `#`
            n = self._peekc(1)
            if n in _SPECIAL or n.isalpha() or n == "_":
                if not (n in "-=?+%#:" and self._peekc(2) != "}"):
                    length = True
                    self.pos += 1
        name = self._param_name()
        if not name:
            raise self.error("Bad substitution", start_line)
        if length:
            if self._getc() != "}":
                raise self.error("Bad substitution", start_line)
            return ast.Param(name, "#len")
        c = self._getc()
        if c == "}":
            return ast.Param(name)
        colon = False
        if c == ":":
            colon = True
            c = self._getc()
            if c not in ("-", "=", "?", "+"):
                raise self.error("Bad substitution", start_line)
        if c in ("-", "=", "?", "+"):
            arg = self._brace_word(in_dq, pattern=False)
            return ast.Param(name, c, colon, arg)
        if c in ("#", "%"):
            op = c
            if self._cur() == c:
                self.pos += 1
                op += c
            arg = self._brace_word(in_dq, pattern=True)
            return ast.Param(name, op, False, arg)
        raise self.error("Bad substitution", start_line)

    def _param_name(self) -> str:
        c = self._cur()
        if c.isdigit():
            j = self.pos
            while j < len(self.text) and self.text[j].isdigit():
                j += 1
            name = self.text[self.pos:j]
            self.pos = j
            return name
        if c and c in _SPECIAL:
            self.pos += 1
            return c
        return self._name()

    def _brace_word(self, in_dq: bool, pattern: bool) -> ast.Word:
        """The word in `${x-word}` up to the matching `}`."""
        start_line = self.line
        parts: list[ast.Part] = []
        lit: list[str] = []
        depth = 0

        def flush() -> None:
            if lit:
                text = "".join(lit)
                if in_dq and not pattern:
                    parts.append(ast.Quoted(text))
                else:
                    parts.append(ast.Lit(text, split=not in_dq and not pattern))
                lit.clear()

        while True:
            c = self._cur()
            if c == "":
                raise self.error("Missing '}'", start_line)
            if c == "}" and depth == 0:
                self.pos += 1
                break
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            if c == "\\":
                self.pos += 1
                n = self._getc()
                if in_dq and n not in ("$", "`", '"', "\\", "}"):
                    lit.append("\\")
                    lit.append(n)
                else:
                    flush()
                    parts.append(ast.Quoted(n))
            elif c == "'" and (not in_dq or pattern):
                flush()
                parts.append(ast.Quoted(self._single()))
            elif c == '"':
                flush()
                self.pos += 1
                inner = self._dq_parts('"')
                parts.append(ast.DQ(inner))
            elif c == "$":
                part = self._dollar(in_dq)
                if isinstance(part, ast.Lit):
                    lit.append(part.text)
                else:
                    flush()
                    # a pattern's expansions stay pattern characters even inside "..."
                    parts.append(ast.DQ([part]) if in_dq and not pattern else part)
            elif c == "`":
                flush()
                bq = self._backquote(in_dq)
                parts.append(ast.DQ([bq]) if in_dq and not pattern else bq)
            else:
                self._getc()
                lit.append(c)
        flush()
        if not in_dq:
            parts = leading_tilde(parts)
        return ast.Word(parts)

    # -- here-documents --------------------------------------------------------------------------

    def _read_heredocs(self) -> None:
        docs, self.heredocs = self.heredocs, []
        for doc in docs:
            lines: list[str] = []
            start_line = self.line
            while self.pos < len(self.text):  # dash accepts one ended by end of file
                raw = self._physical_line()
                # an unquoted body's backslash-newline joins lines before `<<-` strips the
                # leading tabs and before the delimiter is looked for (as dash and bash)
                while (not doc.quoted and (len(raw) - len(raw.rstrip("\\"))) % 2 == 1
                       and self.pos < len(self.text)):
                    raw = raw[:-1] + self._physical_line()
                if doc.strip:
                    raw = raw.lstrip("\t")
                if raw == doc.delim:
                    break
                lines.append(raw + "\n")
            text = "".join(lines)
            if doc.quoted:
                doc.body = ast.Word([ast.Quoted(text)] if text else [])
            else:
                doc.body = _heredoc_word(self.sub(text, start_line))

    def _physical_line(self) -> str:
        """The rest of this source line, consumed with its newline."""
        end = self.text.find("\n", self.pos)
        if end < 0:
            end = len(self.text)
        raw = self.text[self.pos:end]
        self.pos = min(end + 1, len(self.text))
        self.line += 1
        return raw

    # -- grammar ---------------------------------------------------------------------------------

def _assignment(word: ast.Word) -> tuple[str, ast.Word] | None:
    if not word.parts or not isinstance(word.parts[0], ast.Lit):
        return None
    text = word.parts[0].text
    end = name_end(text, 0)
    if not end or text[end:end + 1] != "=":
        return None
    rest = text[end + 1:]
    parts: list[ast.Part] = ([ast.Lit(rest)] if rest else []) + word.parts[1:]
    return text[:end], ast.Word(assign_tildes(parts))


def _unquote(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
        elif c in "'\"":
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _heredoc_word(p: Lexer) -> ast.Word:
    """An unquoted here-document body (read by `p`): `$`, backquotes and `\\` escapes are
    active."""
    parts: list[ast.Part] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            parts.append(ast.Quoted("".join(buf)))
            buf.clear()

    while p.pos < len(p.text):
        c = p.text[p.pos]
        if c == "\\":
            n = p._peekc(1)
            if n == "\n":
                p.pos += 2
                continue
            if n in ("$", "`", "\\"):
                buf.append(n)
                p.pos += 2
                continue
            buf.append(c)
            p.pos += 1
        elif c == "$":
            part = p._dollar(True)
            if isinstance(part, ast.Lit):
                buf.append(part.text)
            else:
                flush()
                parts.append(part)
        elif c == "`":
            flush()
            parts.append(p._backquote(True))
        else:
            buf.append(c)
            p.pos += 1
    flush()
    return ast.Word(parts)
