"""Functions the package writes as source at run time, compiled ahead where it can be.

Record classes write their `__init__` (`fusevm.records`) and extension ops their step
makers (`fusevm.interp.extapi`) as Python source, which is then compiled: a tenth of a
millisecond each, paid by every process for every record class and step shape it uses. The
sources the package knows of are compiled with the package instead, into
`ahead_generated.py` (`python -m fusevm.tools.gen_ahead`; a test fails when it is stale):
`function()` takes the code compiled there when the very same source is found, and
compiles the source itself otherwise, so a stale file costs time, never meaning.
"""

from __future__ import annotations

from fusevm.ahead_generated import COMPILED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FunctionType as _Function
    from typing import Any
else:
    _Function = type(lambda: None)  # (types.FunctionType without importing types)


def function(source: str, env: dict[str, Any], name: str, *, qualname: str | None = None,
             defaults: tuple[Any, ...] | None = None) -> Any:
    """The function `name` that `exec(source, env)` would define (with `defaults` for its
    parameters' defaults and `qualname`)."""
    compiled = COMPILED.get(source)
    if compiled is None:
        exec(source, env)  # noqa: S102 - the callers' sources are built from their own data
        fn = env[name]
        if qualname is not None:
            fn.__qualname__ = qualname
        return fn
    code = compiled.__code__
    if qualname is not None:
        code = code.replace(co_qualname=qualname)
    return _Function(code, env, name, defaults or None)
