"""The project's one regular-expression module: POSIX EREs and shell patterns on RE2.

Every user-supplied pattern in fusevm goes through here (decision D16): awk's regexes,
the VM's `RegexMatch` (the shell's `[[ =~ ]]`) and `StrMatch` (shell patterns), and the
shell's pattern expansions. Matching is POSIX leftmost-longest and runs in time linear in
the text, whatever the pattern. `translate` owns the syntax (and `classes` the one table
of POSIX bracket classes); `engine` runs the result.

Back-references (`\\1` in a shell ERE) are not regular and RE2 cannot run them: they raise
RegexError rather than match wrongly. awk's EREs have none.
"""

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

__all__ = [
    "AWK_CLASSES", "CLASSES", "SHELL_CLASSES", "SHELL_ERE", "Dialect", "PosixClass",
    "Regex", "RegexError", "Scanner", "Span", "Translation", "compile_ere",
    "compile_pattern", "translate_ere", "translate_pattern",
]  # fmt: skip
