"""One compile of a chunk's code: what its generators share.

A region's code and the direct forms it calls (`direct`) are written by generators of
their own over the same ops, each analysing them (`flow`) and writing them out: an op's
statements for the same facts are the same in all of them, and are made once
(`Memo`). (Generating allocates thousands of syntax-tree nodes, none in a cycle: the
compile runs under `fusevm.entry.NoCycleCollection`.)
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from fusevm import pyast as ast

    from .ranges import Bounds
    from .types import Env

    #: What binding an op's statements found (`pieces.bind`): the names they
    #: mention, the constants they name (`pieces.operand_local`), the slots they read and
    #: those they write.
    Bound = tuple[frozenset[str], dict[str, Any], frozenset[int], frozenset[int]]


class Memo:
    """The ops' statements one compile has made (`codegen._Gen.body_ast`), for each of its
    generators: per op and the constants its inputs hold, what binding its statements
    found (`Bound`); per that and the facts about the names they mention, the statements
    specialised for those facts (never changed in place), the constant they set and the
    facts after; and those statements as source."""

    __slots__ = ("bound", "made", "texts")

    def __init__(self) -> None:
        self.bound: dict[Any, Bound] = {}
        self.made: dict[Any, tuple[list[ast.stmt], tuple[str, Any] | None, Env, Bounds]] = {}
        #: Statements of `made` as source, by their id and the names holding ints
        #: (`codegen._Gen.body_code`), with the branch condition apart.
        self.texts: dict[tuple[int, frozenset[str]],
                         tuple[list[ast.stmt], str, str | None]] = {}

