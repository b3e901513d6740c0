"""The POSIX sh syntax tree: words and their parts, commands, redirections.

Every node is a plain dataclass; commands carry the line they start on (for `LINENO` and
error messages). Words keep their quoting structure, which expansion needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# -- words -----------------------------------------------------------------------------


@dataclass(slots=True)
class Lit:
    """Unquoted literal text (glob characters in it are active).

    `split` marks text from inside an unquoted `${x-word}`, which field splitting sees.
    """

    text: str
    split: bool = False


@dataclass(slots=True)
class Quoted:
    """Literal text that was quoted (single quotes, a backslash, or inside double quotes)."""

    text: str


@dataclass(slots=True)
class DQ:
    """A double-quoted string: its parts expand but are not split or globbed."""

    parts: list[Part]


@dataclass(slots=True)
class Param:
    """`$name`, `${name}`, `${#name}`, or `${name<op>word}`.

    op is "" (plain), "#len", or one of - = ? + (with colon=True for the :- forms),
    # ## % %% (pattern removal).
    """

    name: str
    op: str = ""
    colon: bool = False
    arg: Word | None = None


@dataclass(slots=True)
class CmdSub:
    """`$(...)` or a backquoted command: the parsed body."""

    body: list[ListItem]
    text: str


@dataclass(slots=True)
class Arith:
    """`$((expr))`: the expression is a word expanded before evaluation."""

    expr: Word


@dataclass(slots=True)
class Tilde:
    """A leading `~` or `~user` prefix."""

    user: str


Part = Lit | Quoted | DQ | Param | CmdSub | Arith | Tilde


@dataclass(slots=True)
class Word:
    parts: list[Part]

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


@dataclass(slots=True)
class HereDoc:
    """A here-document body; `quoted` delimiters mean no expansion."""

    delim: str
    strip: bool
    quoted: bool
    body: Word | None = None  # filled when the body is read


@dataclass(slots=True)
class Redir:
    fd: int | None
    op: str  # > >> < <> >| <& >& << <<-
    target: Word | HereDoc


# -- commands ----------------------------------------------------------------------------


@dataclass(slots=True)
class Simple:
    assigns: list[tuple[str, Word]]
    words: list[Word]
    redirs: list[Redir]
    line: int


@dataclass(slots=True)
class Pipeline:
    cmds: list[Command]
    bang: bool
    line: int


@dataclass(slots=True)
class AndOr:
    first: Command
    rest: list[tuple[str, Command]]
    line: int


@dataclass(slots=True)
class ListItem:
    cmd: Command
    background: bool
    text: str = ""  # the source of a background command (for `jobs`)


@dataclass(slots=True)
class Group:
    body: list[ListItem]
    line: int


@dataclass(slots=True)
class Subshell:
    body: list[ListItem]
    line: int


@dataclass(slots=True)
class If:
    arms: list[tuple[list[ListItem], list[ListItem]]]
    orelse: list[ListItem] | None
    line: int


@dataclass(slots=True)
class Loop:
    cond: list[ListItem]
    body: list[ListItem]
    until: bool
    line: int


@dataclass(slots=True)
class For:
    var: str
    words: list[Word] | None
    body: list[ListItem]
    line: int


@dataclass(slots=True)
class CaseItem:
    patterns: list[Word]
    body: list[ListItem]
    fallthrough: bool = False


@dataclass(slots=True)
class Case:
    word: Word
    items: list[CaseItem]
    line: int


@dataclass(slots=True)
class FuncDef:
    name: str
    body: Command
    line: int
    source: str = ""


@dataclass(slots=True)
class Redirected:
    """A compound command with redirections."""

    cmd: Command
    redirs: list[Redir]
    line: int


Command = (Simple | Pipeline | AndOr | Group | Subshell | If | Loop | For | Case | FuncDef
           | Redirected)


@dataclass(slots=True)
class Script:
    items: list[ListItem] = field(default_factory=list)
