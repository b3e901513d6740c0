"""ExtBody: an extension op written once as Python statements, for every tier to inline.

The extension-set counterpart of `fusevm.interp.bodies` (CPython's `bytecodes.c` is the
model there too): `ExtensionSet.body(...)` declares an op together with a few statements,
and both the interpreter's function for the op and the baseline tier's code are made from
that one text. The statements may name:

* the op's stack items, as its stack effect names them (`v -- n`): inputs are bound on
  entry, and every output is assigned once, after everything that may raise (the
  baseline keeps an output in an input's local, and an error must find the inputs);
* the op's operands, as the declaration names them: constants of the instruction;
* the set's `names`: module-level functions and constants the body calls (the same for
  every VM);
* `host` (the VM's `host_data`) and `globals_` (its globals list), bound per VM;
* the set's `hosted` names: objects of the VM's `host_data` (`hosted[name]` is the key),
  looked up once per VM when it binds the op, so a body reading the host's state object
  costs no dict lookup per run (the host puts it there before the VM first runs, and
  keeps it for the VM's life);
* any other name the body assigns: a temporary of that op (the baseline renames it apart).

The interpreter runs `fn(*inputs)` made by compiling `def fn(inputs): <body>; return
outputs` once per process (the first time a VM binds the op), so the op costs what a
function op costs there; the baseline writes the statements into its code in place of the
call (`fusevm.baseline.extbodies`).
"""

from __future__ import annotations

from fusevm.ops.bodytext import (
    BODY_BUILTINS,
    check_known,
    dedent,
    item_names,
    parse_statements,
)
from fusevm.ops.spec import OpSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Final

#: Per-VM names a body may use, and how a VM provides each.
PER_VM: Final = {"host": "vm.host_data", "globals_": "vm.globals"}
#: The exact types a body may promise its outputs have (`ExtBody.results`).
RESULT_TYPES: Final = (int, float, bool, str)

if TYPE_CHECKING:
    from types import CodeType

#: Where the interpreter's compiled `make` of a body comes from, when a process keeps a
#: disk cache of code objects: `code_cache(name, key_text, build) -> code`. Parsing,
#: checking and compiling a body costs a program milliseconds per op; a cached one is
#: read back unparsed (it was checked when built). `fusevm.jit.cache` installs its
#: `cached_code` here when it loads (this module sits below it and cannot import it).
code_cache: Callable[[str, str, Callable[[], CodeType]], CodeType] | None = None


class ExtBody:
    """One extension op's statements and what the generators need to know about them.

    The statements are parsed and checked the first time the baseline writes them
    (`check`), not when the set is declared nor when the interpreter binds them (which
    compiles them without a tree): a frontend's start-up pays nothing for them (tests
    check every body of every set)."""

    __slots__ = ("_spec_of", "_items", "text", "names", "hosted", "results", "_facts",
                 "_tree", "_make")

    def __init__(self, spec_of: Callable[[], OpSpec], source: str, names: Mapping[str, Any],
                 results: Mapping[str, type] | None = None,
                 hosted: Mapping[str, str] | None = None) -> None:
        #: The op's row, asked for when the body's stack items are first needed (a
        #: deferred set builds it then, `fusevm.ops.extension`).
        self._spec_of = spec_of
        self._items: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None = None
        self.text = source
        self.names = dict(names)
        #: Names bound per VM to `vm.host_data[key]` (the set's `hosted`)
        self.hosted = dict(hosted or {})
        #: The exact type of each output named here, whatever the inputs (a promise the
        #: set's tests check against the interpreter's function): the baseline's code
        #: after the op relies on it (`fusevm.baseline.extbodies.result_types`).
        self.results = dict(results or {})
        self._facts: tuple[str, frozenset[str], frozenset[str]] | None = None
        self._tree: Any = None
        self._make: Callable[[Any, tuple[Any, ...]], Callable[..., Any]] | None = None

    @property
    def spec(self) -> OpSpec:
        return self._spec_of()

    def items(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """The names of the op's stack inputs, its outputs and its operands (`item_names`),
        with `results` checked against them: ValueError when either breaks a rule."""
        found = self._items
        if found is None:
            spec = self.spec
            found = item_names(spec)
            wrong = {n: t for n, t in self.results.items()
                     if n not in found[1] or t not in RESULT_TYPES}
            if wrong:
                raise ValueError(f"{spec.name}: results {wrong} are not outputs of an exact "
                                 "type (int, float, bool, str)")
            self._items = found
        return found

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.items()[0]

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.items()[1]

    @property
    def operands(self) -> tuple[str, ...]:
        return self.items()[2]

    @property
    def source(self) -> str:
        """The statements, dedented."""
        return self.check()[0]

    @property
    def uses(self) -> frozenset[str]:
        """The per-VM names the statements read (`PER_VM`'s and `hosted`'s)."""
        return self.check()[1]

    def per_vm(self, name: str) -> str:
        """The expression over `vm` that a per-VM name is bound to."""
        key = self.hosted.get(name)
        return PER_VM[name] if key is None else f"vm.hosted({key!r})"

    @property
    def temps(self) -> frozenset[str]:
        """The names the statements assign that are not stack items."""
        return self.check()[2]

    def check(self) -> tuple[str, frozenset[str], frozenset[str]]:
        """Parse and check the statements (once): their dedented text, the per-VM names
        they read and their temporaries; ValueError when they break a rule above."""
        if self._facts is not None:
            return self._facts
        spec = self.spec
        self.items()
        source, tree, assigned, read, _ = parse_statements(spec, self.text)
        per_vm = set(PER_VM) | set(self.hosted)
        clash = (set(self.names) | per_vm) & (assigned | set(self.inputs)
                                              | set(self.outputs) | set(self.operands))
        if clash:
            raise ValueError(f"{spec.name}: the body rebinds {sorted(clash)}")
        temps = frozenset(assigned - set(self.outputs) - set(self.inputs))
        check_known(spec, read, set(self.inputs) | set(self.outputs) | set(self.operands)
                    | set(self.names) | per_vm | temps | BODY_BUILTINS | {"isinstance"})
        self._tree = tree
        self._facts = (source, frozenset(read & per_vm), temps)
        return self._facts

    @property
    def tree(self) -> Any:
        """The statements' parsed tree (`ast.Module`; never changed in place)."""
        self.check()
        return self._tree

    def function_source(self) -> str:
        """`make(vm, operands) -> fn`: the interpreter's function for one instruction.

        Made without a syntax tree (a short run that binds a body on a cold code cache
        need not load `ast`): the per-VM names are those the compiled statements name
        anywhere, a superset of what they read, and binding an unread one is harmless."""
        source = dedent(self.text).strip("\n")
        named: set[str] = set()
        codes = [compile(source, f"<body {self.spec.name}>", "exec")]
        while codes:
            code = codes.pop()
            named.update(code.co_names)
            codes.extend(c for c in code.co_consts if hasattr(c, "co_names"))
        lines = ["def make(vm, operands):"]
        lines += [f"    {name} = {self.per_vm(name)}"
                  for name in sorted(named & (set(PER_VM) | set(self.hosted)))]
        if self.operands:
            lines.append(f"    {', '.join(self.operands)}, = operands")
        lines.append(f"    def fn({', '.join(self.inputs)}):")
        lines += ["        " + line if line.strip() else line
                  for line in source.splitlines()]
        if len(self.outputs) == 1:
            lines.append(f"        return {self.outputs[0]}")
        elif self.outputs:
            lines.append(f"        return {', '.join(self.outputs)}")
        lines.append("    return fn")
        return "\n".join(lines) + "\n"

    def binder(self, vm: Any, operands: tuple[Any, ...]) -> Callable[..., Any]:
        """The op's binder (`ExtensionSet.function`'s protocol), compiled on first use."""
        make = self._make
        if make is None:
            def build() -> CodeType:
                return compile(self.function_source(), f"<body {self.spec.name}>", "exec")

            cache = code_cache
            if cache is None:
                code = build()
            else:
                # Everything the generated text is made of (the rules that make it are
                # fusevm's source, which the entry's list of sources covers).
                key = repr((self.text, self.inputs, self.outputs, self.operands,
                            sorted(self.names), sorted(self.hosted.items())))
                code = cache(f"extbody:{self.spec.section}:{self.spec.name}", key, build)
            namespace = dict(self.names)
            exec(code, namespace)  # noqa: S102
            make = self._make = namespace["make"]
        fn: Any = make(vm, operands)
        fn.body = self  # the baseline checks that this is what it wrote out
        return fn  # type: ignore[no-any-return]
