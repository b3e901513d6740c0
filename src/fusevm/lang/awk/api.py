"""The awk frontend's entry points: source text to a verified, fused Chunk.

`compile_program` is what `fusevm dis --awk` calls; `main` (in `main.py`) uses the same
path. The returned chunk runs on a VM created with `extensions=[AWK]` (see `ops`) and an
`AwkState` plus `Streams` in its host data, which `run_chunk` sets up.
"""

from __future__ import annotations

import fusevm.lang.awk.ops_io  # noqa: F401  - registers the I/O and builtin handlers
from fusevm.chunk import Chunk
from fusevm.entry import NoCycleCollection
from fusevm.errors import BuildError
from fusevm.jit.hook import load_with_tiers
from fusevm.lang.awk.compiler import compile_ast
from fusevm.lang.awk.errors import AwkRegexError, AwkSemanticError, AwkSyntaxError
from fusevm.lang.awk.ops import AWK
from fusevm.lang.awk.parser import parse

__all__ = ["AWK", "compile_program", "compile_source"]

# The native lowerings of awk's numeric ops register when the JIT's tiers load.
load_with_tiers("fusevm.lang.awk.jit")


def compile_source(source: str, fuse: bool = True) -> Chunk:
    """`compile_program` for the `fusevm.compilers` protocol (`fusevm dis --awk`): a
    program it rejects is a BuildError with the line, as the protocol asks."""
    try:
        return compile_program(source, fuse)
    except (AwkSyntaxError, AwkSemanticError) as e:
        raise BuildError(e.message, source="<awk>", line=e.line) from None
    except AwkRegexError as e:
        raise BuildError(f"syntax error in regular expression: {e}", source="<awk>") from None
    except RecursionError:  # (the compiler's own recursion, past the parser's)
        raise BuildError("program nested too deeply", source="<awk>") from None


def compile_program(source: str, fuse: bool = True, *,
                    assigned: frozenset[str] = frozenset()) -> Chunk:
    """Parse and compile an awk program; raises AwkSyntaxError or AwkSemanticError.

    `assigned` names variables set from the command line (-v and `var=value` operands),
    which may hold strings.
    """
    if type(source) is not str:
        raise TypeError(f"an awk program is a str, not {type(source).__name__}")
    if isinstance(assigned, str) or not all(type(n) is str for n in assigned):
        raise TypeError("assigned must be a set of variable names (str)")
    assigned = frozenset(assigned)
    # The tree and the chunk are long-lived objects created by the million for a big
    # program; the cyclic collector would rescan them on every generation-2 pass, which
    # makes compile time grow with the square of the program size. They hold no cycles
    # worth collecting, so collection waits until the chunk is built.
    with NoCycleCollection():
        return compile_ast(parse(source), fuse=fuse, source="<awk>", assigned=assigned)
