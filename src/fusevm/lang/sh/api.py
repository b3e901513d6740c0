"""The sh frontend's entry point for tools: source text -> one Chunk (`fusevm dis --sh`)."""

from __future__ import annotations

from fusevm.chunk import Chunk
from fusevm.lang.sh.compiler import compile_items
from fusevm.lang.sh.parser import parse


def compile_script(source: str) -> Chunk:
    """Parse a whole script and compile it into one chunk (functions become sub-chunks)."""
    return compile_items(parse(source), source="<sh>")
