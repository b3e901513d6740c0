"""The POSIX sh syntax tree: words and their parts, commands, redirections.

Every node is a small class with __slots__ (cheap to define at start-up); commands carry
the line they start on (for `LINENO` and error messages). Words keep their quoting
structure, which expansion needs.
"""

from __future__ import annotations

# -- words -----------------------------------------------------------------------------


class Lit:
    """Unquoted literal text (glob characters in it are active).

    `split` marks text from inside an unquoted `${x-word}`, which field splitting sees.
    """

    __slots__ = ("text", "split")

    def __init__(self, text: str, split: bool = False) -> None:
        self.text = text
        self.split = split


class Quoted:
    """Literal text that was quoted (single quotes, a backslash, or inside double quotes)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class DQ:
    """A double-quoted string: its parts expand but are not split or globbed."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts


class Param:
    """`$name`, `${name}`, `${#name}`, or `${name<op>word}`.

    op is "" (plain), "#len", or one of - = ? + (with colon=True for the :- forms),
    # ## % %% (pattern removal).
    """

    __slots__ = ("name", "op", "colon", "arg")

    def __init__(self, name: str, op: str = "", colon: bool = False,
                 arg: Word | None = None) -> None:
        self.name = name
        self.op = op
        self.colon = colon
        self.arg = arg


class CmdSub:
    """`$(...)` or a backquoted command: the parsed body."""

    __slots__ = ("body", "text")

    def __init__(self, body: list[ListItem], text: str) -> None:
        self.body = body
        self.text = text


class Arith:
    """`$((expr))`: the expression is a word expanded before evaluation."""

    __slots__ = ("expr",)

    def __init__(self, expr: Word) -> None:
        self.expr = expr


class Tilde:
    """A leading `~` or `~user` prefix."""

    __slots__ = ("user",)

    def __init__(self, user: str) -> None:
        self.user = user


Part = Lit | Quoted | DQ | Param | CmdSub | Arith | Tilde


class Word:
    __slots__ = ("parts",)

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts

    def literal(self) -> str | None:
        """The word's text if it is one unquoted literal, else None."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit):
            return self.parts[0].text
        if not self.parts:
            return None
        return None
    def is_static(self) -> bool:
        """True when the word has no expansions at all (only literal and quoted text)."""
        return all(isinstance(p, (Lit, Quoted)) or (isinstance(p, DQ) and all(
            isinstance(q, Quoted) for q in p.parts)) for p in self.parts)


# -- redirections ----------------------------------------------------------------------


class HereDoc:
    """A here-document body; `quoted` delimiters mean no expansion."""

    __slots__ = ("delim", "strip", "quoted", "body")

    def __init__(self, delim: str, strip: bool, quoted: bool, body: Word | None = None) -> None:
        self.delim = delim
        self.strip = strip
        self.quoted = quoted
        self.body = body  # filled when the body is read


class Redir:
    __slots__ = ("fd", "op", "target")

    def __init__(self, fd: int | None, op: str, target: Word | HereDoc) -> None:
        self.fd = fd
        self.op = op  # > >> < <> >| <& >& << <<-
        self.target = target


# -- commands ----------------------------------------------------------------------------


class Simple:
    __slots__ = ("assigns", "words", "redirs", "line")

    def __init__(self, assigns: list[tuple[str, Word]], words: list[Word], redirs: list[Redir],
                 line: int) -> None:
        self.assigns = assigns
        self.words = words
        self.redirs = redirs
        self.line = line


class Pipeline:
    __slots__ = ("cmds", "bang", "line")

    def __init__(self, cmds: list[Command], bang: bool, line: int) -> None:
        self.cmds = cmds
        self.bang = bang
        self.line = line


class AndOr:
    __slots__ = ("first", "rest", "line")

    def __init__(self, first: Command, rest: list[tuple[str, Command]], line: int) -> None:
        self.first = first
        self.rest = rest
        self.line = line


class ListItem:
    __slots__ = ("cmd", "background", "text")

    def __init__(self, cmd: Command, background: bool, text: str = "") -> None:
        self.cmd = cmd
        self.background = background
        self.text = text  # the source of a background command (for `jobs`)


class Group:
    __slots__ = ("body", "line")

    def __init__(self, body: list[ListItem], line: int) -> None:
        self.body = body
        self.line = line


class Subshell:
    __slots__ = ("body", "line")

    def __init__(self, body: list[ListItem], line: int) -> None:
        self.body = body
        self.line = line


class If:
    __slots__ = ("arms", "orelse", "line")

    def __init__(self, arms: list[tuple[list[ListItem], list[ListItem]]],
                 orelse: list[ListItem] | None, line: int) -> None:
        self.arms = arms
        self.orelse = orelse
        self.line = line


class Loop:
    __slots__ = ("cond", "body", "until", "line")

    def __init__(self, cond: list[ListItem], body: list[ListItem], until: bool, line: int) -> None:
        self.cond = cond
        self.body = body
        self.until = until
        self.line = line


class For:
    __slots__ = ("var", "words", "body", "line")

    def __init__(self, var: str, words: list[Word] | None, body: list[ListItem], line: int) -> None:
        self.var = var
        self.words = words
        self.body = body
        self.line = line


class CaseItem:
    __slots__ = ("patterns", "body", "fallthrough")

    def __init__(self, patterns: list[Word], body: list[ListItem],
                 fallthrough: bool = False) -> None:
        self.patterns = patterns
        self.body = body
        self.fallthrough = fallthrough


class Case:
    __slots__ = ("word", "items", "line")

    def __init__(self, word: Word, items: list[CaseItem], line: int) -> None:
        self.word = word
        self.items = items
        self.line = line


class FuncDef:
    __slots__ = ("name", "body", "line", "source")

    def __init__(self, name: str, body: Command, line: int, source: str = "") -> None:
        self.name = name
        self.body = body
        self.line = line
        self.source = source


class Redirected:
    """A compound command with redirections."""

    __slots__ = ("cmd", "redirs", "line")

    def __init__(self, cmd: Command, redirs: list[Redir], line: int) -> None:
        self.cmd = cmd
        self.redirs = redirs
        self.line = line


Command = (Simple | Pipeline | AndOr | Group | Subshell | If | Loop | For | Case | FuncDef
           | Redirected)


class Script:
    __slots__ = ("items",)

    def __init__(self, items: list[ListItem] | None = None) -> None:
        self.items: list[ListItem] = items if items is not None else []
