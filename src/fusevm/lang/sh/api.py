"""The sh frontend's entry point for tools: source text -> one Chunk (`fusevm dis --sh`)."""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.errors import BuildError
from fusevm.lang.sh.compiler import compile_items
from fusevm.lang.sh.errors import ShSyntaxError
from fusevm.lang.sh.parser import parse


def compile_script(source: str, *, fuse: bool = False) -> Chunk:
    """Parse a whole script and compile it into one chunk (functions become sub-chunks).

    `fuse` is accepted for the `fusevm.compilers` protocol (`fusevm dis --lang sh`): the
    fusion pass finds nothing to fuse in shell code, so the chunk is the same either way.
    A syntax error is a BuildError (the protocol's error for a program it rejects).
    """
    del fuse
    if type(source) is not str:
        raise TypeError(f"a shell script is a str, not {type(source).__name__}")
    try:
        items = parse(source)
        return compile_items(items, source="<sh>")
    except ShSyntaxError as e:
        raise BuildError(f"Syntax error: {e.message}", source="<sh>", line=e.line) from None
    except RecursionError:
        # (the parser and the compiler recurse per level: `fusevm sh` allows 20,000 frames)
        raise BuildError("the script is nested too deeply", source="<sh>") from None
