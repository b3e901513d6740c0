"""Compiled regions on disk: a region's code object and what binds it, for later processes.

A region compiled once is stored (tag `code`) under a key of everything that decides its
code: the chunk's digest, the region, the types it was specialised for, CPython's bytecode
magic number, the fusevm version and the directory of its package, the op-table schema and
every registered extension set's. Its metadata lists the fusevm sources that made it
(`fusevm.jit.cache.sources`), and a load takes it only while they are unchanged. The body
is `marshal` data: the code object, its fault table (`Generated.line_ip`), the slots it
writes, where each bound constant comes from (an op's operand, read back from the chunk)
and the specialised code's guards (types and intervals, from which the generic code is
generated if one fails). A later process loads all that instead of generating and
compiling the region.

The disk cache is used only when a front end or the JIT has loaded it already
(`fusevm.jit.cache` imported): a short run that compiles a region would otherwise pay more
for loading the cache machinery than it saves. What is compiled, and when, never depends on
the cache (`compiler.worth_after` does not look at it): it only makes a compile cheaper.
"""

from __future__ import annotations

import marshal
import sys

from .fold import TYPES
from .pieces import operand_of
from .types import Env

#: The interpreter's .pyc magic number, from the import system's own module
#: (`importlib.util` would load the importlib package and `warnings` for it).
_PYC_MAGIC: bytes = sys.modules["_frozen_importlib_external"].MAGIC_NUMBER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import CodeType
    from typing import Any, Final

    from fusevm.chunk import Chunk

    from .codegen import Guard

    #: A region's cached parts: its code object, fault table, slots written, constants
    #: and the guards of its specialised code (None: it has one version).
    Loaded = tuple[CodeType, dict[int, tuple[int, int, bool]], tuple[int, ...],
                   dict[str, Any], dict[int, Guard] | None]
    from .regions import ChunkPlan
else:
    CodeType = type((lambda: None).__code__)  # (`types` costs a compiling process 0.3 ms)

TAG: Final = "code"



def _store_module() -> Any:
    """`fusevm.jit.cache` when it is loaded and on, else None."""
    cache = sys.modules.get("fusevm.jit.cache")
    if cache is None or not cache.STORE.enabled():
        return None
    return cache


def _key(chunk: Chunk, index: int, seen: tuple[int, Env] | None) -> bytes:
    from fusevm import __version__
    from fusevm.jit.cache.frontend import extension_schemas
    from fusevm.jit.cache.sources import ROOT
    from fusevm.jit.cache.store import key_digest
    from fusevm.ops import SCHEMA_HASH
    seen_parts = None if seen is None else (
        seen[0], tuple(sorted((name, t.__name__) for name, t in seen[1].items())))
    return key_digest("fusevm-baseline", _PYC_MAGIC, __version__, ROOT, SCHEMA_HASH,
                      extension_schemas(), chunk.digest(), index, seen_parts)


def _operand(cp: ChunkPlan, name: str) -> tuple[int, int]:
    """Where bound constant `name` (`pieces.operand_local`) comes from: op and operand
    index."""
    found = operand_of(name)
    if found is None:
        raise KeyError(name)
    ip, operand = found
    d = cp.analysis.decoded[ip]
    names = [o.name for o in d.spec.operands]
    return ip, names.index(operand)


#: The source of a constant made from an extension op's declaration (`extbodies`):
#: made again from the chunk's op when the region is loaded.
_DERIVED: Final = -1


def _derived(cp: ChunkPlan, index: int) -> dict[str, Any]:
    """The constants the region's extension ops bind (their functions, statements and
    the names those use), as `extbodies.constants` makes them from the ops."""
    from . import extbodies
    from .regions import inline
    found: dict[str, Any] = {}
    decoded = cp.analysis.decoded
    for ip in cp.regions[index].ops:
        d = decoded[ip]
        if d.ext is not None and inline(d):
            found.update(extbodies.constants(ip, d))
    return found


def load(chunk: Chunk, cp: ChunkPlan, index: int,
         seen: tuple[int, Env] | None) -> Loaded | None:
    """The region's cached parts, or None (no cache, a miss, or an entry that does not
    fit this chunk: then it is counted as a reject and replaced)."""
    cache = _store_module()
    if cache is None:
        return None
    from fusevm.jit.cache.frontend import load_entry

    def parts(body: memoryview) -> Loaded:
        code, line_ip, written, sources, guards = marshal.loads(body)
        if not isinstance(code, CodeType):
            raise TypeError("the entry does not hold a code object")
        consts: dict[str, Any] = {}
        derived = _derived(cp, index)
        for name, ip, k in sources:
            if ip == _DERIVED:
                consts[name] = derived[name]  # KeyError: not this chunk's (a reject)
            elif _operand(cp, name) != (ip, k):
                raise ValueError(f"constant {name} is not operand {k} of op {ip}")
            else:
                consts[name] = cp.analysis.decoded[ip].operands[k]
        checks = None if guards is None else {
            e: ({name: TYPES[t] for name, t in types},
                {name: (lo, hi) for name, lo, hi in bounds})
            for e, types, bounds in guards}
        return code, line_ip, tuple(written), consts, checks

    return load_entry(cache.STORE, TAG, _key(chunk, index, seen), parts)


def store(chunk: Chunk, cp: ChunkPlan, index: int, seen: tuple[int, Env] | None,
          code: CodeType, line_ip: dict[int, tuple[int, int, bool]], written: tuple[int, ...],
          consts: dict[str, Any], guards: dict[int, Guard] | None) -> None:
    """Keep a compiled region for later processes (when the cache is loaded and on)."""
    cache = _store_module()
    if cache is None:
        return
    sources = []
    derived = _derived(cp, index)
    for name, value in consts.items():
        if derived.get(name, _DERIVED) is value:
            sources.append((name, _DERIVED, _DERIVED))
            continue
        try:
            ip, k = _operand(cp, name)
        except (KeyError, ValueError):
            return  # a constant that cannot be found again: not cached
        if cp.analysis.decoded[ip].operands[k] is not value:
            return
        sources.append((name, ip, k))
    parts = None if guards is None else tuple(
        (e, tuple(sorted((name, t.__name__) for name, t in types.items())),
         tuple(sorted((name, lo, hi) for name, (lo, hi) in bounds.items())))
        for e, (types, bounds) in sorted(guards.items()))
    body = marshal.dumps((code, line_ip, written, tuple(sources), parts))
    from fusevm.jit.cache.sources import loaded
    cache.STORE.store(TAG, _key(chunk, index, seen),
                      {"name": code.co_filename, "sources": loaded()}, body)
