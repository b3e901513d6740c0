"""The `fusevm` command line's built-in commands (run, asm, dis, demo, bench, jit-dump) and
their parser.

`fusevm.cli` loads this module for those commands only: `fusevm awk` and `fusevm sh` go
from `cli.main` to their frontend without it.
"""

from __future__ import annotations

import sys

from fusevm import __version__
from fusevm.entry import program_starts
from fusevm.errors import AsmError, FormatError, UnknownExtension, VMError
from fusevm.plugins import COMMANDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from typing import Any

    from fusevm.chunk import Chunk
    from fusevm.ops.extension import ExtensionSet

#: What `fusevm --help` says the command line is.
DESCRIPTION = ("The `fusevm` command line: run, asm, dis, demo, bench, jit-dump, cache and "
               "installed frontends.")


def load_chunk(path: str, *, fuse: bool = True,
               extensions: Sequence[ExtensionSet] = ()) -> Chunk:
    """Read a `.fasm` text file or a serialized chunk (told apart by the magic bytes).

    With fuse=True the fusion pass runs; with fuse=False any fused op already in the
    program is expanded to its unfused sequence, so the chunk really runs unfused.
    `extensions` are the sets whose mnemonics the text may use.
    """
    from fusevm.chunk import Chunk
    from fusevm.formats import CHUNK_MAGIC
    from fusevm.peephole.fuse import fuse as run_fusion
    from fusevm.peephole.fuse import unfuse
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:  # (`path: No such file or directory`, as other tools say it)
        raise VMError(e.strerror or str(e), source=path) from None
    if data.startswith(CHUNK_MAGIC):
        chunk = Chunk.from_bytes(data)
    else:
        from fusevm.asm import assemble
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise VMError(f"{path} is neither assembler text (UTF-8) nor a serialized "
                          "chunk", source=path) from e
        chunk = assemble(text, source=path, extensions=extensions)
    return run_fusion(chunk) if fuse else unfuse(chunk)


def _program(args: argparse.Namespace) -> tuple[Chunk, list[ExtensionSet]]:
    """The chunk of `run`, `asm`, `dis` and `jit-dump`, and the extension sets it needs.

    The sets named with --ext come first. fusevm's own sets load only when the program
    uses an op that neither the core table nor those sets declare, and the installed ones
    (found through package metadata, a scan that costs more than starting Python) only
    when fusevm's own lack it too. Each set appears once.
    """
    from fusevm.plugins import builtin_extensions, installed_extensions, load_extensions
    sets = load_extensions(args.ext or [])
    more: list[Callable[[], list[ExtensionSet]]] = [builtin_extensions, installed_extensions]
    while True:
        try:
            chunk = load_chunk(args.file, fuse=not args.no_fuse, extensions=sets)
        except AsmError as e:
            if e.unknown_op is None or not more:
                raise
        except FormatError as e:  # a serialized chunk using an op of a set not loaded yet
            if not _unknown_extension(e) or not more:
                raise
        else:
            if not more or _ext_ids(chunk) <= {i for s in sets for i in s.by_id}:
                return chunk, sets
        for ext in more.pop(0)():
            if all(ext.name != s.name for s in sets):
                sets.append(ext)


def _unknown_extension(e: BaseException) -> bool:
    """Whether `e` was caused, at some remove, by an extension op id no loaded set
    declares."""
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, UnknownExtension):
            return True
        seen = seen.__cause__
    return False


def _ext_ids(chunk: Chunk) -> set[int]:
    """The extension op ids a chunk (its sub-chunks included) uses."""
    from fusevm.ops import EXTENDED_OPS
    ids = {ins[1] for ins in chunk.ops if ins[0] in EXTENDED_OPS}
    for sub in chunk.sub_chunks:
        ids |= _ext_ids(sub)
    return ids


def cmd_run(args: argparse.Namespace) -> int:
    from fusevm.interp.signals import sigint_interrupts
    from fusevm.interp.vm import VM
    from fusevm.values import format_value
    chunk, extensions = _program(args)
    with VM(chunk, strict_int=args.strict_int, extensions=extensions) as vm:
        if args.jit or args.jit_log:
            if args.jit_log:
                from fusevm.jit import set_log
                set_log(lambda msg: print(f"jit: {msg}", file=sys.stderr))
            vm.enable_tracing_jit()
        program_starts()
        with sigint_interrupts(vm):
            result = vm.run()
    sys.stdout.flush()
    if args.result and result is not None:
        print(format_value(result))
    return 0


def cmd_asm(args: argparse.Namespace) -> int:
    chunk, _ = _program(args)
    from pathlib import Path
    out = Path(args.output) if args.output else Path(args.file).with_suffix(".fvmc")
    out.write_bytes(chunk.to_bytes())
    print(f"{out}: {len(chunk.ops)} ops, {len(chunk.constants)} constants, "
          f"digest {chunk.digest()}")
    return 0


def cmd_dis(args: argparse.Namespace) -> int:
    from fusevm.disasm import disassemble
    if args.awk is not None:
        args.lang, args.file = "awk", args.awk
    if args.sh is not None:
        args.lang, args.file = "sh", args.sh
    if args.lang is not None:
        from fusevm.plugins import find_compiler
        if args.file is None:
            raise SystemExit(f"fusevm dis: --lang {args.lang} needs the PROGRAM text")
        chunk = find_compiler(args.lang)(args.file, fuse=not args.no_fuse)
    elif args.file is None:
        raise SystemExit("fusevm dis: give a FILE, or --lang NAME PROGRAM")
    else:
        chunk, _ = _program(args)
    print(disassemble(chunk))
    return 0


def _examples() -> list[Path]:
    from pathlib import Path
    return sorted((Path(__file__).parent / "examples").glob("*.fasm"))


#: Timed runs of each form of an example (`cmd_demo`), after one untimed run of each.
DEMO_RUNS = 5


def cmd_demo(args: argparse.Namespace) -> int:
    import io
    import statistics
    import time
    from pathlib import Path

    from fusevm.interp.vm import VM
    files = [Path(f) for f in args.files] or _examples()
    print(f"fusevm {__version__}: running {len(files)} example program(s); each time is "
          f"the median of {DEMO_RUNS} runs after one untimed run\n")
    for path in files:
        chunk = load_chunk(str(path))
        unfused = load_chunk(str(path), fuse=False)
        timings: tuple[list[float], list[float]] = ([], [])
        output = ""
        # The forms take turns, and each has run once untimed: a first run also loads
        # what either form needs the first time (handlers, the baseline compiler), which
        # would be charged to whichever form ran first.
        for turn in range(DEMO_RUNS + 1):
            for c, times in zip((chunk, unfused), timings):
                out = io.StringIO()
                start = time.perf_counter()
                VM(c, stdout=out).run()
                if turn:
                    times.append(time.perf_counter() - start)
                output = output or out.getvalue()
        fused_ms, unfused_ms = (statistics.median(t) * 1e3 for t in timings)
        lines = output.splitlines()
        if len(lines) > 8:
            lines = lines[:4] + [f"... ({len(lines) - 7} lines more)"] + lines[-3:]
        print(f"== {path.name}: {len(chunk.ops)} ops fused, {len(unfused.ops)} unfused")
        print("\n".join("    " + line for line in lines))
        print(f"   time: {fused_ms:.2f} ms fused, {unfused_ms:.2f} ms unfused\n")
    return 0


def cmd_bench(rest: list[str]) -> int:
    from fusevm.bench.harness import main as bench_main
    return int(bench_main(rest))


def cmd_jit_dump(args: argparse.Namespace) -> int:
    from fusevm.jit import dump
    chunk, extensions = _program(args)
    if args.run:
        import io

        from fusevm.interp.vm import VM
        # Traces exist once a run has made loops hot: run it (output discarded) first.
        vm = VM(chunk, stdout=io.StringIO(), extensions=extensions)
        vm.enable_tracing_jit()
        try:
            vm.run()
        except VMError as e:
            print(f"; the run stopped: {e}")
    print(dump(chunk))
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from fusevm.jit import cache
    where = cache.cache_dir()
    if where is None:
        print("the disk cache is off (FUSEVM_JIT_CACHE_DIR=off)")
        return 0
    if args.clear:
        removed = cache.clear()
        print(f"{where}: {removed} {'entry' if removed == 1 else 'entries'} removed")
        return 0
    if args.prune:
        print(f"{where}: {_size(cache.prune())} freed")
    cap = cache.STORE.max_bytes()
    print(f"{where}: {_size(cache.size_bytes() or 0)}"
          + (f" of at most {_size(cap)}" if cap else " (no size cap)"))
    for tag, (count, total) in sorted(cache.STORE.contents().items()):
        print(f"  {tag:<7}{count:>7} {_size(total):>10}  {cache.KINDS.get(tag, '')}")
    return 0


def _size(n: int) -> str:
    """A byte count for people: B, KiB, MiB or GiB."""
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KiB", "MiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _add_ext_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ext", action="append", metavar="MODULE:ATTR",
                        help="load the ExtensionSet MODULE.ATTR (repeatable); installed "
                             "sets (entry points `fusevm.extensions`) load anyway")


def build_parser(*, frontends: bool = True) -> argparse.ArgumentParser:
    """The parser of the built-in commands; with `frontends`, the installed frontends too
    (their names come from package metadata: a built-in command does not need them)."""
    import argparse
    p = argparse.ArgumentParser(prog="fusevm", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"fusevm {__version__}")
    p.add_argument("--traceback", action="store_true", help="show the Python stack on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a .fasm file or a serialized chunk")
    run.add_argument("file")
    for flags, help_text in RUN_FLAGS:
        run.add_argument(*flags, action="store_true", help=help_text)
    run.add_argument("--traceback", action="store_true", help=argparse.SUPPRESS)
    _add_ext_option(run)

    asm = sub.add_parser("asm", help="assemble a .fasm file into a serialized chunk")
    asm.add_argument("file")
    asm.add_argument("-o", "--output", help="output path (default: FILE with .fvmc)")
    asm.add_argument("--no-fuse", action="store_true", help="do not run the fusion pass")
    _add_ext_option(asm)

    dis = sub.add_parser("dis", help="disassemble a chunk (fused unless --no-fuse)")
    dis.add_argument("file", nargs="?", help="a .fasm or serialized chunk (with --lang: "
                                              "program text)")
    dis.add_argument("--no-fuse", action="store_true", help="show the unfused chunk")
    dis.add_argument("--lang", metavar="NAME",
                     help="FILE is program text in language NAME, compiled by its installed "
                          "compiler (entry points `fusevm.compilers`)")
    dis.add_argument("--awk", metavar="PROGRAM", help="the same as --lang awk PROGRAM")
    dis.add_argument("--sh", metavar="SCRIPT", help="the same as --lang sh SCRIPT")
    _add_ext_option(dis)

    demo = sub.add_parser("demo", help="run the bundled example programs")
    demo.add_argument("files", nargs="*", help="programs to run (default: the bundled ones)")

    sub.add_parser("bench", help="run the benchmark harness (see `fusevm bench --help`)",
                   add_help=False)

    dump = sub.add_parser("jit-dump", help="print the LLVM IR and tier decision for a chunk")
    dump.add_argument("file")
    dump.add_argument("--no-fuse", action="store_true")
    _add_ext_option(dump)
    dump.add_argument("--run", action="store_true",
                      help="run the chunk with every tier first, then show its traces as IR")

    cache = sub.add_parser("cache", help="show, prune or clear the disk cache of compiled "
                                         "code (FUSEVM_JIT_CACHE_DIR)")
    what = cache.add_mutually_exclusive_group()
    what.add_argument("--prune", action="store_true",
                      help="delete the oldest entries down to 80%% of the size cap first")
    what.add_argument("--clear", action="store_true", help="delete every entry")

    if not frontends:
        return p
    from fusevm.plugins import frontend_names
    for name in frontend_names():
        if name not in COMMANDS:
            sub.add_parser(name, help=f"the {name} frontend (see `fusevm {name} --help`)",
                           add_help=False)
    return p


#: `fusevm run`'s switches (each sets the attribute named after its last flag) and their
#: help: the parser is built from them, and `quick_run_args` reads them without it.
RUN_FLAGS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("--no-fuse",), "run without the fusion pass"),
    (("--jit",), "enable the JIT tiers"),
    (("--jit-log",), "print each JIT tier decision to stderr (implies --jit)"),
    (("--strict-int",), "raise on 64-bit integer overflow instead of wrapping"),
    (("-r", "--result"), "print the value the program leaves on the stack"),
)


def quick_run_args(argv: list[str]) -> argparse.Namespace | None:
    """`fusevm [--traceback] run FILE` with any of `RUN_FLAGS`, `--traceback` and
    `--ext SPEC`, read without argparse: importing it and the help formatter it makes
    (which loads shutil, and with it the bz2 and lzma extensions) costs `fusevm run`
    more than starting Python. None for any other command line, which argparse reads
    (and reports errors in, gives help for, completes abbreviations of)."""
    switches = {flag: flags[-1][2:].replace("-", "_") for flags, _ in RUN_FLAGS
                for flag in flags}
    values: dict[str, Any] = dict.fromkeys(switches.values(), False)
    values.update(command="run", file=None, ext=None, traceback=False)
    words = iter(argv)
    for word in words:
        if word == "run":
            break
        if word != "--traceback":  # (main reads that one itself; argparse drops it)
            return None
    else:
        return None
    for word in words:
        if word in switches:
            values[switches[word]] = True
        elif word == "--traceback":
            values["traceback"] = True
        elif word == "--ext" or word.startswith("--ext="):
            spec = word[6:] if word.startswith("--ext=") else next(words, None)
            if spec is None or spec.startswith("-"):
                return None
            values["ext"] = [*(values["ext"] or []), spec]
        elif word.startswith("-") or values["file"] is not None:
            return None
        else:
            values["file"] = word
    if values["file"] is None:
        return None
    # The attributes argparse would have set (types.SimpleNamespace would load `types`).
    return _Args(values)  # type: ignore[return-value]


class _Args:
    """A namespace of attributes, like the one argparse returns."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"_Args({self.__dict__!r})"


#: The handler of each built-in command that argparse reads (`bench` reads its own).
HANDLERS: dict[str, Callable[[Any], int]] = {
    "run": cmd_run, "asm": cmd_asm, "dis": cmd_dis, "demo": cmd_demo,
    "jit-dump": cmd_jit_dump, "cache": cmd_cache}
