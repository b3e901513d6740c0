"""The awk lexer: source text to tokens carrying line and column.

It owns three lexical decisions of the POSIX grammar. A `/` starts an ERE token where an
operand is expected, judged from the previous token, and the parser can ask for a rescan
(`Lexer.read_regex`) when its grammar position says otherwise. Newlines are NEWLINE tokens,
except after `{ && || , do else ;` and after backslash-newline, where they are skipped.
A name immediately followed by `(` is a FUNC_NAME (a user call), anything else a NAME.
"""

from __future__ import annotations

from fusevm.enums import Enum
from fusevm.lang.awk.errors import AwkSyntaxError, error_context
from fusevm.lang.awk.escapes import decode_escape
from fusevm.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final


class Tok(Enum):
    """Token kinds; the value is the spelling used in error messages."""

    NEWLINE = "newline"
    EOF = "end of file"
    NUMBER = "number"
    STRING = "string"
    ERE = "regular expression"
    NAME = "name"
    FUNC_NAME = "function name"
    BUILTIN = "builtin function"
    # keywords
    BEGIN = "BEGIN"
    END = "END"
    FUNCTION = "function"
    GETLINE = "getline"
    IF = "if"
    ELSE = "else"
    WHILE = "while"
    FOR = "for"
    DO = "do"
    BREAK = "break"
    CONTINUE = "continue"
    NEXT = "next"
    NEXTFILE = "nextfile"
    EXIT = "exit"
    RETURN = "return"
    DELETE = "delete"
    IN = "in"
    PRINT = "print"
    PRINTF = "printf"
    # punctuation
    LBRACE = "{"
    RBRACE = "}"
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    SEMICOLON = ";"
    COMMA = ","
    # operators
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "%"
    POW = "^"
    NOT = "!"
    GT = ">"
    LT = "<"
    PIPE = "|"
    QUESTION = "?"
    COLON = ":"
    MATCH = "~"
    NOMATCH = "!~"
    DOLLAR = "$"
    ASSIGN = "="
    ADD_ASSIGN = "+="
    SUB_ASSIGN = "-="
    MUL_ASSIGN = "*="
    DIV_ASSIGN = "/="
    MOD_ASSIGN = "%="
    POW_ASSIGN = "^="
    EQ = "=="
    LE = "<="
    GE = ">="
    NE = "!="
    INCR = "++"
    DECR = "--"
    APPEND = ">>"
    AND = "&&"
    OR = "||"


@dataclass(frozen=True, slots=True)
class Token:
    """One token.

    `text` is the decoded value for STRING, the ERE source (with `\\/` already turned into
    `/`) for ERE, the lexeme for NUMBER and operators, and the name for names and keywords.
    `number` is set for NUMBER only. `offset`/`end` index the source, for rescans and errors.
    """

    kind: Tok
    text: str
    line: int
    col: int
    offset: int
    end: int
    number: float = 0.0


KEYWORDS: Final[dict[str, Tok]] = {
    "BEGIN": Tok.BEGIN,
    "END": Tok.END,
    "function": Tok.FUNCTION,
    "func": Tok.FUNCTION,
    "getline": Tok.GETLINE,
    "if": Tok.IF,
    "else": Tok.ELSE,
    "while": Tok.WHILE,
    "for": Tok.FOR,
    "do": Tok.DO,
    "break": Tok.BREAK,
    "continue": Tok.CONTINUE,
    "next": Tok.NEXT,
    "nextfile": Tok.NEXTFILE,
    "exit": Tok.EXIT,
    "return": Tok.RETURN,
    "delete": Tok.DELETE,
    "in": Tok.IN,
    "print": Tok.PRINT,
    "printf": Tok.PRINTF,
}

BUILTIN_FUNCTIONS: Final[frozenset[str]] = frozenset(
    {
        "atan2", "close", "cos", "exp", "fflush", "gsub", "index", "int", "length", "log",
        "match", "rand", "sin", "split", "sprintf", "sqrt", "srand", "sub", "substr",
        "system", "tolower", "toupper",
    }
)  # fmt: skip

# After these a newline is not a terminator (POSIX grammar's `newline_opt` positions).
_NEWLINE_OPTIONAL_AFTER: Final = frozenset(
    {Tok.LBRACE, Tok.AND, Tok.OR, Tok.COMMA, Tok.DO, Tok.ELSE, Tok.SEMICOLON}
)

# After these an operand has just ended, so `/` divides; anywhere else it opens an ERE.
_OPERAND_END: Final = frozenset(
    {
        Tok.NAME, Tok.NUMBER, Tok.STRING, Tok.ERE, Tok.BUILTIN, Tok.RPAREN, Tok.RBRACKET,
        Tok.INCR, Tok.DECR, Tok.GETLINE,
    }
)  # fmt: skip

# Longest match first: three-, then two-, then one-character operators.
_OPERATORS: Final[tuple[tuple[str, Tok], ...]] = (
    ("**=", Tok.POW_ASSIGN),
    ("+=", Tok.ADD_ASSIGN), ("-=", Tok.SUB_ASSIGN), ("*=", Tok.MUL_ASSIGN),
    ("/=", Tok.DIV_ASSIGN), ("%=", Tok.MOD_ASSIGN), ("^=", Tok.POW_ASSIGN),
    ("==", Tok.EQ), ("<=", Tok.LE), (">=", Tok.GE), ("!=", Tok.NE), ("!~", Tok.NOMATCH),
    ("++", Tok.INCR), ("--", Tok.DECR), (">>", Tok.APPEND), ("&&", Tok.AND), ("||", Tok.OR),
    ("**", Tok.POW),
    ("{", Tok.LBRACE), ("}", Tok.RBRACE), ("(", Tok.LPAREN), (")", Tok.RPAREN),
    ("[", Tok.LBRACKET), ("]", Tok.RBRACKET), (";", Tok.SEMICOLON), (",", Tok.COMMA),
    ("+", Tok.ADD), ("-", Tok.SUB), ("*", Tok.MUL), ("/", Tok.DIV), ("%", Tok.MOD),
    ("^", Tok.POW), ("!", Tok.NOT), (">", Tok.GT), ("<", Tok.LT), ("|", Tok.PIPE),
    ("?", Tok.QUESTION), (":", Tok.COLON), ("~", Tok.MATCH), ("$", Tok.DOLLAR),
    ("=", Tok.ASSIGN),
)  # fmt: skip
#: The operators by their first character, longest first (as `_OPERATORS` lists them).
_OPERATORS_BY_START: Final[dict[str, tuple[tuple[str, Tok], ...]]] = {}
for _spelling, _kind in _OPERATORS:
    _OPERATORS_BY_START[_spelling[0]] = (*_OPERATORS_BY_START.get(_spelling[0], ()),
                                         (_spelling, _kind))


class Lexer:
    """Produces tokens on demand, so the parser can rescan a `/` as an ERE."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.prev: Tok | None = None

    # -- errors --------------------------------------------------------------

    def error(self, detail: str, offset: int, length: int = 1) -> AwkSyntaxError:
        """An AwkSyntaxError pointing at `offset` (line and column computed from it)."""
        line = self.source.count("\n", 0, offset) + 1
        col = offset - (self.source.rfind("\n", 0, offset) + 1) + 1
        return AwkSyntaxError(detail, line, col, error_context(self.source, offset, length))

    # -- scanning ------------------------------------------------------------

    def _newline(self) -> None:
        self.line += 1
        self.line_start = self.pos

    def _skip_blanks(self, newlines: bool) -> None:
        """Skip blanks, comments, backslash-newlines, and (if asked) newlines."""
        src = self.source
        n = len(src)
        while self.pos < n:
            ch = src[self.pos]
            if ch in " \t\r\f\v":
                self.pos += 1
            elif ch == "\\" and src.startswith("\n", self.pos + 1):
                self.pos += 2
                self._newline()
            elif ch == "\\" and src.startswith("\r\n", self.pos + 1):
                self.pos += 3
                self._newline()
            elif ch == "#":
                end = src.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif ch == "\n" and newlines:
                self.pos += 1
                self._newline()
            else:
                break

    def _make(
        self, kind: Tok, text: str, start: int, line: int, col: int, num: float = 0.0
    ) -> Token:
        self.prev = kind
        return Token(kind, text, line, col, start, self.pos, num)

    def next_token(self) -> Token:
        """Scan and return the next token (EOF forever at the end)."""
        self._skip_blanks(newlines=self.prev in _NEWLINE_OPTIONAL_AFTER)
        src = self.source
        start = self.pos
        line = self.line
        col = start - self.line_start + 1
        if start >= len(src):
            return self._make(Tok.EOF, "", start, line, col)
        ch = src[start]
        if ch == "\n":
            self.pos += 1
            tok = self._make(Tok.NEWLINE, "\n", start, line, col)
            self._newline()
            return tok
        if ch == '"':
            return self._string(start, line, col)
        if ch.isdigit() or (ch == "." and src[start + 1 : start + 2].isdigit()):
            return self._number(start, line, col)
        if ch.isalpha() or ch == "_":
            return self._word(start, line, col)
        if ch == "/" and self.prev not in _OPERAND_END:
            return self._regex(start, line, col)
        for spelling, kind in _OPERATORS_BY_START.get(ch, ()):
            if src.startswith(spelling, start):
                self.pos += len(spelling)
                return self._make(kind, spelling, start, line, col)
        if ch == "\\":
            raise self.error("backslash not last character on line", start)
        raise self.error(f"unexpected character {ch!r}", start)

    def _word(self, start: int, line: int, col: int) -> Token:
        src = self.source
        end = start
        while end < len(src) and (src[end].isalnum() or src[end] == "_"):
            end += 1
        self.pos = end
        word = src[start:end]
        keyword = KEYWORDS.get(word)
        if keyword is not None:
            return self._make(keyword, word, start, line, col)
        if word in BUILTIN_FUNCTIONS:
            return self._make(Tok.BUILTIN, word, start, line, col)
        if src.startswith("(", end):
            return self._make(Tok.FUNC_NAME, word, start, line, col)
        return self._make(Tok.NAME, word, start, line, col)

    def _number(self, start: int, line: int, col: int) -> Token:
        # Decimal only: `0x1A` is the number 0 followed by the name x1A, as in gawk --posix.
        src = self.source
        n = len(src)
        end = start
        while end < n and src[end].isdigit():
            end += 1
        if end < n and src[end] == ".":
            end += 1
            while end < n and src[end].isdigit():
                end += 1
        if end < n and src[end] in "eE":
            exp = end + 1
            if exp < n and src[exp] in "+-":
                exp += 1
            if exp < n and src[exp].isdigit():
                end = exp
                while end < n and src[end].isdigit():
                    end += 1
        self.pos = end
        text = src[start:end]
        return self._make(Tok.NUMBER, text, start, line, col, float(text))

    def _string(self, start: int, line: int, col: int) -> Token:
        src = self.source
        n = len(src)
        out: list[str] = []
        i = start + 1
        while True:
            if i >= n:
                raise self.error("non-terminated string", start, i - start)
            ch = src[i]
            if ch == '"':
                break
            if ch == "\n":
                raise self.error("newline in string", start, i - start)
            if ch == "\\" and src.startswith("\n", i + 1):
                # backslash-newline continues the string on the next line
                i += 2
                self.pos = i
                self._newline()
                continue
            if ch == "\\":
                decoded, i = decode_escape(src, i)
                out.append(decoded)
                continue
            out.append(ch)
            i += 1
        self.pos = i + 1
        return self._make(Tok.STRING, "".join(out), start, line, col)

    def _regex(self, start: int, line: int, col: int) -> Token:
        """Scan `/ERE/` whose opening slash is at `start`.

        A `/` inside a bracket expression does not end the ERE (gawk's rule), so `/[/]/`
        works; `\\/` becomes `/` and every other escape is kept for the ERE translator.
        """
        src = self.source
        n = len(src)
        out: list[str] = []
        i = start + 1
        in_bracket = False
        while True:
            if i >= n:
                raise self.error("non-terminated regular expression", start, i - start)
            ch = src[i]
            if ch == "\n":
                raise self.error("newline in regular expression", start, i - start)
            if ch == "\\" and i + 1 < n and src[i + 1] != "\n":
                if src[i + 1] == "/":
                    out.append("/")
                else:
                    out.append(src[i : i + 2])
                i += 2
                continue
            if in_bracket:
                if ch == "[" and src[i + 1 : i + 2] in (":", ".", "="):
                    close = src.find(src[i + 1] + "]", i + 2)
                    if close > 0 and "\n" not in src[i:close]:
                        out.append(src[i : close + 2])
                        i = close + 2
                        continue
                if ch == "]":
                    in_bracket = False
            elif ch == "[":
                in_bracket = True
                out.append(ch)
                i += 1
                # `]` right after `[` or `[^` is a literal member, not the end
                if src.startswith("^", i):
                    out.append("^")
                    i += 1
                if src.startswith("]", i):
                    out.append("]")
                    i += 1
                continue
            elif ch == "/":
                break
            out.append(ch)
            i += 1
        self.pos = i + 1
        return self._make(Tok.ERE, "".join(out), start, line, col)

    def read_regex(self, slash: Token) -> Token:
        """Rescan from a DIV or DIV_ASSIGN token as an ERE (the parser wanted an operand)."""
        self.pos = slash.offset
        self.line = slash.line
        self.line_start = slash.offset - (slash.col - 1)
        return self._regex(slash.offset, slash.line, slash.col)


def tokenize(source: str) -> list[Token]:
    """All tokens of `source`, ending with one EOF token (the standalone lexer)."""
    lexer = Lexer(source)
    tokens: list[Token] = []
    while True:
        tok = lexer.next_token()
        tokens.append(tok)
        if tok.kind is Tok.EOF:
            return tokens
