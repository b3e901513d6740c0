"""Functions the package writes as source at run time, compiled ahead where it can be.

Record classes write their `__init__` (`fusevm.records`) and extension ops their step
makers (`fusevm.interp.extapi`) as Python source, which is then compiled: a tenth of a
millisecond each, paid by every process for every record class and step shape it uses. The
sources the package knows of are compiled with the package instead, into
`ahead_generated.py` (`python -m fusevm.tools.gen_ahead`; a test fails when it is stale):
`function()` takes the code compiled there when the very same source is found, and
compiles the source itself otherwise (once per source), so a stale file costs time, never
meaning. The regex engine's testers and awk's printf formatters are made by it too.
"""

from __future__ import annotations

from fusevm.ahead_generated import COMPILED
from fusevm.memo import memo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import CodeType
    from types import FunctionType as _Function
    from typing import Any
else:
    _Function = type(lambda: None)  # (types.FunctionType without importing types)


def function(source: str, env: dict[str, Any], name: str, *, qualname: str | None = None,
             defaults: tuple[Any, ...] | None = None) -> Any:
    """The function `name` that `exec(source, env)` would define, with `defaults` for its
    parameters' defaults and `qualname`. Its code is compiled once per source, so the
    functions of sources that differ only in `env` (the values they name) share it."""
    compiled = COMPILED.get(source)
    # (A source compiled ahead holds one function; one that defines several is compiled
    # here, whatever the file holds for it.)
    if compiled is not None and compiled.__code__.co_name == name:
        code = compiled.__code__
    else:
        code = _codes(source)[name]
    if qualname is not None:
        code = code.replace(co_qualname=qualname)
    return _Function(code, env, name, defaults or None)


@memo(256)
def _codes(source: str) -> dict[str, CodeType]:
    """The code of each function `source` defines at its top level, by name."""
    module = compile(source, "<fusevm.ahead>", "exec")
    return {c.co_name: c for c in module.co_consts if hasattr(c, "co_code")}
