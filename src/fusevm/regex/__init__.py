"""The project's one regular-expression module: POSIX EREs and shell patterns on RE2.

Every user-supplied pattern in fusevm goes through here (decision D16): awk's regexes,
the VM's `RegexMatch` (the shell's `[[ =~ ]]`) and `StrMatch` (shell patterns), and the
shell's pattern expansions. Matching is POSIX leftmost-longest and runs in time linear in
the text, whatever the pattern. `translate` owns the syntax (and `classes` the one table
of POSIX bracket classes); `engine` runs the result; `stars` reads a shell pattern's
bracket expressions and matches most shell patterns whole without either.

Back-references (`\\1` in a shell ERE) are not regular and RE2 cannot run them: they raise
RegexError rather than match wrongly. awk's EREs have none.
"""

from fusevm import _lazy_attributes

# Not `from typing import TYPE_CHECKING`: importing typing costs start-up. Type checkers
# treat this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from fusevm.regex.classes import CLASSES, PosixClass
    from fusevm.regex.engine import Regex, Scanner, Span, compile_ere, compile_pattern
    from fusevm.regex.translate import (
        AWK_CLASSES,
        SHELL_CLASSES,
        SHELL_ERE,
        Dialect,
        RegexError,
        Translation,
        translate_ere,
        translate_pattern,
    )

#: Where each public name lives: each is imported from its module on first use, so a
#: module of the package (`stars`, which a script's plain `case` patterns need alone) loads
#: without the others.
_HOMES: dict[str, str] = {
    **dict.fromkeys(("CLASSES", "PosixClass"), "fusevm.regex.classes"),
    **dict.fromkeys(("Regex", "Scanner", "Span", "compile_ere", "compile_pattern"),
                    "fusevm.regex.engine"),
    **dict.fromkeys(("AWK_CLASSES", "SHELL_CLASSES", "SHELL_ERE", "Dialect", "RegexError",
                     "Translation", "translate_ere", "translate_pattern"),
                    "fusevm.regex.translate"),
}


__getattr__, __dir__ = _lazy_attributes(__name__, _HOMES, globals())


__all__ = [
    "AWK_CLASSES", "CLASSES", "SHELL_CLASSES", "SHELL_ERE", "Dialect", "PosixClass",
    "Regex", "RegexError", "Scanner", "Span", "Translation", "compile_ere",
    "compile_pattern", "translate_ere", "translate_pattern",
]  # fmt: skip
