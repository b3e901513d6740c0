"""The POSIX awk frontend: the VM-independent half (lexer, parser, AST, runtime helpers).

Modules:
    lexer    source text to tokens (regex vs division, newline rules)
    escapes  awk's string and regex escape sequences
    ast      the syntax tree (frozen dataclasses; every node carries its line)
    parser   recursive descent over the POSIX grammar -> ast.Program
    errors   AwkSyntaxError and AwkRegexError
    values   the value model: numbers, strings, numeric strings (StrNum), UNINIT
    format   sprintf and number-to-string conversion (CONVFMT/OFMT)
    regex    awk's ERE dialect on fusevm.regex (RE2), match(), sub/gsub, split by regex
    fields   field splitting by FS and the RS-driven record reader
    runtime  the helpers compiled awk code calls, re-exporting the above

The VM half (these import fusevm's public API):
    infer     static array/scalar inference and numeric-only globals
    exprs     expression compilation (values, conditions, lvalues, calls, builtins)
    compiler  program layout, statements and functions -> Chunk
    ops       the `awk` ExtensionSet (ids 0x1000..0x13FF): values, fields, arrays, regexes
    ops_io    the same set's output, getline and builtin-function ops
    state     per-run state: record, fields, specials, arrays (AwkArray handles)
    streams   input files, getline sources, redirections, pipes, close, system
    api       compile_program(source) -> Chunk (used by `fusevm dis --awk`)
    main      the `fusevm awk` command line

The modules in the first list import nothing else of fusevm but `fusevm.regex` (the
project's one regex engine, which needs only `fusevm.errors`), `fusevm.lang.lazyre` (their
own number patterns, compiled on first use), and the small caches `fusevm.memo` and
`fusevm.ahead` (compiled formatters). Where this frontend departs
from POSIX's text to follow the real awks, `docs/awk.md` says so.
"""

from __future__ import annotations

from fusevm.lang.awk.errors import AwkRegexError, AwkSyntaxError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fusevm.lang.awk.parser import parse


def __getattr__(name: str) -> object:
    # The parser (and its syntax tree) loads on first use: a program found in the compile
    # cache runs without either.
    if name == "parse":
        from fusevm.lang.awk.parser import parse
        return parse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AwkRegexError", "AwkSyntaxError", "parse"]
