"""The sh frontend's entry point for tools: source text -> one Chunk (`fusevm dis --sh`)."""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.lang.sh.compiler import compile_items
from fusevm.lang.sh.parser import parse


def compile_script(source: str, *, fuse: bool = False) -> Chunk:
    """Parse a whole script and compile it into one chunk (functions become sub-chunks).

    `fuse` is accepted for the `fusevm.compilers` protocol (`fusevm dis --lang sh`): the
    fusion pass finds nothing to fuse in shell code, so the chunk is the same either way.
    """
    del fuse
    return compile_items(parse(source), source="<sh>")
