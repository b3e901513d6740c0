"""`math`, loaded at its first use: the modules every command loads name it through this.

`math` is a C extension module here (a shared library, not built into the interpreter),
and loading one costs a process about as much CPU as importing a few modules of ours
(mapping and linking the library: some 0.4 ms on the machines measured, `python -c
"import math"` against `python -c pass`), though most short commands (`fusevm sh -c :`)
never divide or format a float. `from fusevm.lazymath import math` gives an object that
imports the real module the first time any attribute is asked for and then holds all of
its names as its own, so later uses cost what `math.x` costs. The type checker sees the
real module.
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    import math as math
else:

    class _Math:
        """Stands for `math` until its first attribute lookup loads it."""

        def __getattr__(self, name):
            # Called only for names not set yet: from then on they all are.
            import math

            self.__dict__.update(vars(math))
            return getattr(math, name)

        def __repr__(self):
            return "<math, loaded on first use>"

    math = _Math()

__all__ = ["math"]
