"""Loading extension sets and frontends: `--ext MODULE:ATTR` specs and installed entry points.

Two entry-point groups let an installed package plug into fusevm without fusevm naming it:

* `fusevm.extensions`: `NAME = "package.module:ATTR"`, where ATTR is an `ExtensionSet` (or
  a sequence of them). `fusevm run`, `asm`, `dis` and `jit-dump` load every installed set, so
  chunks that use its ops assemble, disassemble and run from the command line.
* `fusevm.frontends`: `NAME = "package.module:main"`, where `main(argv: list[str]) -> int`
  is the subcommand `fusevm NAME ARG...` (it gets the arguments after NAME and returns the
  exit status).
* `fusevm.compilers`: `NAME = "package.module:compile"`, where
  `compile(source: str, fuse: bool = True) -> Chunk` turns program text into a chunk, for
  `fusevm dis --lang NAME PROGRAM`.

The `--ext MODULE:ATTR` option names a set the same way without installing anything.

fusevm's own frontends (awk, sh) are built in: `BUILTIN` names them for each group, and
they come first, under the same names, in what the functions below return. Finding a
built-in frontend reads no package metadata (scanning the installed distributions costs
more than starting Python), so `fusevm awk` and `fusevm sh` start without it.
"""

from __future__ import annotations

import sys

from fusevm.errors import VMError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from importlib.metadata import EntryPoint
    from typing import Any, Final

    from fusevm.chunk import Chunk
    from fusevm.ops.extension import ExtensionSet

EXTENSIONS_GROUP: Final = "fusevm.extensions"
FRONTENDS_GROUP: Final = "fusevm.frontends"
COMPILERS_GROUP: Final = "fusevm.compilers"

#: The built-in subcommands of `fusevm` (`fusevm.commands`): a frontend cannot take these
#: names.
COMMANDS: Final = ("run", "asm", "dis", "demo", "bench", "jit-dump", "cache")

#: fusevm's own entries per group, `NAME: "module:attr"` as an entry point's value.
BUILTIN: Final[dict[str, dict[str, str]]] = {
    FRONTENDS_GROUP: {"awk": "fusevm.lang.awk.main:main", "sh": "fusevm.lang.sh.main:main"},
    EXTENSIONS_GROUP: {"awk": "fusevm.lang.awk.api:AWK", "sh": "fusevm.lang.sh.ops:SH"},
    COMPILERS_GROUP: {"awk": "fusevm.lang.awk.api:compile_source",
                      "sh": "fusevm.lang.sh.api:compile_script"},
}

if TYPE_CHECKING:
    Frontend = Callable[[list[str]], int]
    Compiler = Callable[..., Chunk]


def entry_points(*, group: str) -> list[EntryPoint]:
    """The installed entry points of `group` (importlib.metadata, imported on first use)."""
    from importlib.metadata import entry_points as scan
    return list(scan(group=group))


def load_object(spec: str, what: str = "--ext") -> Any:
    """Import `module.path:attr.path` and return the attribute; VMError when it cannot."""
    module_name, sep, attr_path = spec.partition(":")
    if not sep or not module_name or not attr_path:
        raise VMError(f"{what} {spec!r}: expected MODULE:ATTR, e.g. mylang.ops:EXT")
    try:
        # __import__ and sys.modules: the importlib package would load `warnings` too.
        __import__(module_name)
        obj: Any = sys.modules[module_name]
    except ImportError as e:
        raise VMError(f"{what} {spec!r}: cannot import {module_name!r}: {e}") from e
    except Exception as e:  # (the module itself failed as it loaded: its error, not ours)
        raise VMError(f"{what} {spec!r}: importing {module_name!r} failed: "
                      f"{type(e).__name__}: {e}") from e
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise VMError(f"{what} {spec!r}: {module_name!r} has no attribute "
                          f"{attr_path!r}") from None
    return obj


def _as_sets(obj: Any, what: str) -> list[ExtensionSet]:
    from fusevm.ops.extension import ExtensionSet
    if isinstance(obj, ExtensionSet):
        return [obj]
    from collections.abc import Iterable
    if isinstance(obj, Iterable) and not isinstance(obj, (str, bytes)):
        items = list(obj)
        if items and all(isinstance(item, ExtensionSet) for item in items):
            return items
    raise VMError(f"{what} is a {type(obj).__name__}, not an ExtensionSet "
                  "(or a sequence of them)")


def load_extensions(specs: Iterable[str]) -> list[ExtensionSet]:
    """The sets named by `--ext MODULE:ATTR` specs, in order."""
    out: list[ExtensionSet] = []
    for spec in specs:
        out += _as_sets(load_object(spec), f"--ext {spec!r}")
    return out


class _Entry:
    """A built-in entry or an installed entry point: its name, value and `load()`."""

    __slots__ = ("name", "value", "_ep")

    def __init__(self, name: str, value: str, ep: EntryPoint | None = None) -> None:
        self.name = name
        self.value = value
        self._ep = ep

    def load(self) -> Any:
        if self._ep is not None:
            return self._ep.load()
        return load_object(self.value, f"built-in {self.name!r}")


def _group(name: str) -> list[_Entry]:
    """The built-in entries of a group, then the installed ones by name (a built-in name
    cannot be taken over)."""
    builtin = BUILTIN[name]
    found = [_Entry(n, v) for n, v in builtin.items()]
    installed = sorted(entry_points(group=name), key=lambda ep: ep.name)
    return found + [_Entry(ep.name, ep.value, ep) for ep in installed
                    if ep.name not in builtin]


def _find(group: str, name: str) -> _Entry | None:
    """The entry called `name`; the installed ones are read only for a non-built-in name."""
    value = BUILTIN[group].get(name)
    if value is not None:
        return _Entry(name, value)
    return next((e for e in _group(group) if e.name == name), None)


def builtin_extensions() -> list[ExtensionSet]:
    """fusevm's own sets (awk, sh), read from no package metadata."""
    out: list[ExtensionSet] = []
    for name, value in BUILTIN[EXTENSIONS_GROUP].items():
        entry = _Entry(name, value)
        out += _as_sets(_load(entry, "extension set"), f"built-in {name!r} ({value})")
    return out


def installed_extensions(warn: Callable[[str], None] | None = None) -> list[ExtensionSet]:
    """Every set registered under `fusevm.extensions`, the built-in ones first.

    One broken package must not break every run: an entry point that fails to load is
    skipped and reported through `warn` (default: a line on stderr).
    """
    report = warn if warn is not None else (lambda msg: print(msg, file=sys.stderr))
    out: list[ExtensionSet] = []
    for ep in _group(EXTENSIONS_GROUP):
        try:
            out += _as_sets(ep.load(), f"entry point {ep.name!r} ({ep.value})")
        except Exception as e:  # any import-time failure of third-party code
            report(f"fusevm: ignoring extension set {ep.name!r} ({ep.value}): {e}")
    return out


def _load(ep: _Entry, what: str) -> Any:
    """Load an entry point, turning any import-time failure into a one-line VMError."""
    try:
        return ep.load()
    except Exception as e:  # third-party import-time code can raise anything
        raise VMError(f"{what} {ep.name!r} ({ep.value}) failed to load: {e}") from e


def frontend_names() -> list[str]:
    """Names of the frontends (`fusevm NAME` subcommands): built in, then installed."""
    return [ep.name for ep in _group(FRONTENDS_GROUP)]


def is_frontend(name: str) -> bool:
    """Whether `fusevm NAME` is a frontend (reads no metadata for a built-in one)."""
    return _find(FRONTENDS_GROUP, name) is not None


def find_frontend(name: str) -> Frontend | None:
    """The `main` of the frontend called `name`, or None."""
    ep = _find(FRONTENDS_GROUP, name)
    if ep is None:
        return None
    main = _load(ep, "frontend")
    if not callable(main):
        raise VMError(f"frontend {name!r} ({ep.value}) is not callable")
    frontend: Frontend = main
    return frontend


def compiler_names() -> list[str]:
    """Names of the compilers (`fusevm dis --lang NAME`): built in, then installed."""
    return [ep.name for ep in _group(COMPILERS_GROUP)]


def find_compiler(name: str) -> Compiler:
    """The `compile(source, fuse=True) -> Chunk` registered as `name`; VMError if none."""
    ep = _find(COMPILERS_GROUP, name)
    if ep is None:
        known = ", ".join(compiler_names()) or "none installed"
        raise VMError(f"no compiler for language {name!r} (known: {known})")
    compile_fn = _load(ep, "compiler")
    if not callable(compile_fn):
        raise VMError(f"compiler {name!r} ({ep.value}) is not callable")
    found: Compiler = compile_fn
    return found
