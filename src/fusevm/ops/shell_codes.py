"""The numeric sub-codes of the shell ops: redirect kinds, file tests and parameter modifiers.

They are facts of the op table (the REDIR, FILETEST and PARAMMOD operand kinds), so they
live with it, below every layer that reads them. These numbers are part of the serialized
bytecode ABI (docs/shell.md): never renumber or reuse one. Each enum also knows its shell
spelling (`symbol`) and can be built back from it (`from_symbol`), so the assembler
accepts `Redirect 1 >>`, `TestFile -f` and
`ExpandParam :-` and the disassembler prints them the same way.
"""

from __future__ import annotations

from fusevm.enums import IntEnum

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final, Self


class _Coded(IntEnum):
    """Shared `symbol`/`from_symbol` behaviour; subclasses fill in `_symbols()`."""

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        raise NotImplementedError

    @property
    def symbol(self) -> str:
        """The shell spelling of this code (">>", "-f", ":-")."""
        return self._symbols()[int(self)]

    @classmethod
    def from_symbol(cls, text: str) -> Self:
        """Parse a shell spelling, a member name (any case) or a decimal code.

        Raises:
            ValueError: the text names no member.
        """
        for code, sym in cls._symbols().items():
            if sym == text:
                return cls(code)
        alias = cls._aliases().get(text)
        if alias is not None:
            return cls(alias)
        upper = text.upper()
        if upper in cls.__members__:
            return cls.__members__[upper]
        if text.isdecimal():
            try:
                return cls(int(text))
            except ValueError:
                pass
        raise ValueError(f"unknown {cls.__name__} {text!r}")

    @classmethod
    def _aliases(cls) -> dict[str, int]:
        return {}


# -- Redirect kinds (Redirect fd kind) ------------------------------------------------------


class Redir(_Coded):
    """Redirect kinds of the `Redirect(fd, kind)` op (docs/shell.md#redirections)."""

    WRITE = 0  # [n]>file
    APPEND = 1  # [n]>>file
    READ = 2  # [n]<file
    READ_WRITE = 3  # [n]<>file
    CLOBBER = 4  # [n]>|file
    DUP_READ = 5  # [n]<&word
    DUP_WRITE = 6  # [n]>&word
    WRITE_BOTH = 7  # &>file
    APPEND_BOTH = 8  # &>>file

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        return _REDIR_SYMBOLS

    @classmethod
    def _aliases(cls) -> dict[str, int]:
        return {">&file": 7}

    @property
    def default_fd(self) -> int:
        """The fd the compiler puts in the operand when the source names none."""
        return 0 if self in (Redir.READ, Redir.READ_WRITE, Redir.DUP_READ) else 1

    @property
    def opens_file(self) -> bool:
        """True for the kinds whose target is a path (not an fd number or `-`)."""
        return self not in (Redir.DUP_READ, Redir.DUP_WRITE)

    @property
    def writes(self) -> bool:
        """True if the kind may create or change a file (needs the fs_write capability)."""
        return self.opens_file and self is not Redir.READ


_REDIR_SYMBOLS: Final = {0: ">", 1: ">>", 2: "<", 3: "<>", 4: ">|", 5: "<&", 6: ">&",
                         7: "&>", 8: "&>>"}


# -- File tests (TestFile code) -------------------------------------------------------------


class FileTest(_Coded):
    """File test codes of the `TestFile(code)` op (docs/shell.md#file-tests)."""

    IS_FILE = 0  # -f
    IS_DIR = 1  # -d
    IS_READABLE = 2  # -r
    IS_WRITABLE = 3  # -w
    IS_EXECUTABLE = 4  # -x
    EXISTS = 5  # -e
    IS_NONEMPTY = 6  # -s
    IS_SYMLINK = 7  # -L (also -h)
    IS_SOCKET = 8  # -S
    IS_FIFO = 9  # -p
    IS_BLOCK_DEV = 10  # -b
    IS_CHAR_DEV = 11  # -c

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        return _FILETEST_SYMBOLS

    @classmethod
    def _aliases(cls) -> dict[str, int]:
        # `-h` is test(1)'s other spelling of -L; bare letters are what `[ -f` loses its dash to.
        aliases = {"-h": 7, "h": 7}
        aliases.update({sym[1:]: code for code, sym in _FILETEST_SYMBOLS.items()})
        return aliases


_FILETEST_SYMBOLS: Final = {0: "-f", 1: "-d", 2: "-r", 3: "-w", 4: "-x", 5: "-e", 6: "-s",
                            7: "-L", 8: "-S", 9: "-p", 10: "-b", 11: "-c"}


# -- Parameter expansion modifiers (ExpandParam mod) ----------------------------------------


class ParamMod(_Coded):
    """Modifiers of the `ExpandParam(mod)` op (docs/shell.md#parameter-expansion).

    0-17 are the original op set's codes. 18-21 are an extension for the colon-less forms,
    which treat only an *unset* variable (not an empty one) as missing; docs/shell.md allows
    such codes from 18 up. The prefix forms have symbols with a placeholder `v` (`#v`, `!v`)
    because `${#v}` and `${v#p}` would otherwise both be `#`.
    """

    DEFAULT = 0  # ${v:-w}
    ASSIGN = 1  # ${v:=w}
    ERROR = 2  # ${v:?w}
    ALTERNATE = 3  # ${v:+w}
    LENGTH = 4  # ${#v}
    STRIP_SHORT = 5  # ${v#p}
    STRIP_LONG = 6  # ${v##p}
    RSTRIP_SHORT = 7  # ${v%p}
    RSTRIP_LONG = 8  # ${v%%p}
    SUBST_FIRST = 9  # ${v/p/r}
    SUBST_ALL = 10  # ${v//p/r}
    UPPER = 11  # ${v^^}
    LOWER = 12  # ${v,,}
    UPPER_FIRST = 13  # ${v^}
    LOWER_FIRST = 14  # ${v,}
    INDIRECT = 15  # ${!v}
    KEYS = 16  # ${!v[@]}
    SLICE = 17  # ${v:off:len}
    # Python extension: colon-less forms (unset only).
    DEFAULT_UNSET = 18  # ${v-w}
    ASSIGN_UNSET = 19  # ${v=w}
    ERROR_UNSET = 20  # ${v?w}
    ALTERNATE_UNSET = 21  # ${v+w}

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        return _PARAM_SYMBOLS

    @property
    def argc(self) -> int:
        """How many operands the VM pops for this modifier (after the name is pushed first)."""
        return _PARAM_ARGC.get(int(self), 0)


_PARAM_SYMBOLS: Final = {
    0: ":-", 1: ":=", 2: ":?", 3: ":+", 4: "#v", 5: "#", 6: "##", 7: "%", 8: "%%", 9: "/",
    10: "//", 11: "^^", 12: ",,", 13: "^", 14: ",", 15: "!v", 16: "!v[@]", 17: ":",
    18: "-", 19: "=", 20: "?", 21: "+",
}

_PARAM_ARGC: Final = {
    0: 1, 1: 1, 2: 1, 3: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 2, 10: 2, 17: 2,
    18: 1, 19: 1, 20: 1, 21: 1,
}


def param_argc(code: int) -> int:
    """Operand count the VM pops for modifier `code`; any unknown code pops none.

    See docs/shell.md#parameter-expansion.
    """
    return _PARAM_ARGC.get(code, 0)
