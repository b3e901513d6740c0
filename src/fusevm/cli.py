"""The `fusevm` command line: run, asm, dis, demo, bench, jit-dump, awk and sh.

Errors print one line, `file:line: message`, and exit 1; `--traceback` shows the Python
stack instead.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fusevm import __version__
from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.serialize import MAGIC
from fusevm.values import format_value


def load_chunk(path: str, *, fuse: bool = True) -> Chunk:
    """Read a `.fasm` text file or a serialized chunk (told apart by the magic bytes).

    With fuse=True the fusion pass runs; with fuse=False any fused op already in the
    program is expanded to its unfused sequence, so the chunk really runs unfused.
    """
    from fusevm.peephole.fuse import fuse as run_fusion
    from fusevm.peephole.fuse import unfuse
    data = Path(path).read_bytes()
    if data.startswith(MAGIC):
        chunk = Chunk.from_bytes(data)
    else:
        from fusevm.asm import assemble
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise VMError(f"{path} is neither assembler text (UTF-8) nor a serialized "
                          "chunk", source=path) from e
        chunk = assemble(text, source=path)
    return run_fusion(chunk) if fuse else unfuse(chunk)


def _cmd_run(args: argparse.Namespace) -> int:
    from fusevm.interp.vm import VM
    chunk = load_chunk(args.file, fuse=not args.no_fuse)
    with VM(chunk, strict_int=args.strict_int) as vm:
        if args.jit or args.jit_log:
            if args.jit_log:
                from fusevm.jit import set_log
                set_log(lambda msg: print(f"jit: {msg}", file=sys.stderr))
            vm.enable_jit()
        result = vm.run()
    sys.stdout.flush()
    if args.result and result is not None:
        print(format_value(result))
    return 0


def _cmd_asm(args: argparse.Namespace) -> int:
    chunk = load_chunk(args.file, fuse=not args.no_fuse)
    out = Path(args.output) if args.output else Path(args.file).with_suffix(".fvmc")
    out.write_bytes(chunk.to_bytes())
    print(f"{out}: {len(chunk.ops)} ops, {len(chunk.constants)} constants, "
          f"digest {chunk.digest()}")
    return 0


def _cmd_dis(args: argparse.Namespace) -> int:
    from fusevm.disasm import disassemble
    if args.awk is not None:
        from fusevm.lang.awk.api import compile_program
        chunk = compile_program(args.awk, fuse=not args.no_fuse)
    elif args.sh is not None:
        from fusevm.lang.sh.api import compile_script
        chunk = compile_script(args.sh)
    elif args.file is None:
        raise SystemExit("fusevm dis: give a FILE, --awk PROGRAM or --sh SCRIPT")
    else:
        chunk = load_chunk(args.file, fuse=not args.no_fuse)
    print(disassemble(chunk))
    return 0


def _examples() -> list[Path]:
    return sorted((Path(__file__).parent / "examples").glob("*.fasm"))


def _cmd_demo(args: argparse.Namespace) -> int:
    import io

    from fusevm.interp.vm import VM
    files = [Path(f) for f in args.files] or _examples()
    print(f"fusevm {__version__}: running {len(files)} example program(s)\n")
    for path in files:
        chunk = load_chunk(str(path))
        unfused = load_chunk(str(path), fuse=False)
        timings = []
        output = ""
        for c in (chunk, unfused):
            out = io.StringIO()
            start = time.perf_counter()
            VM(c, stdout=out).run()
            timings.append(time.perf_counter() - start)
            output = output or out.getvalue()
        lines = output.splitlines()
        if len(lines) > 8:
            lines = lines[:4] + [f"... ({len(lines) - 7} lines more)"] + lines[-3:]
        print(f"== {path.name}: {len(chunk.ops)} ops fused, {len(unfused.ops)} unfused")
        print("\n".join("    " + line for line in lines))
        print(f"   time: {timings[0] * 1e3:.2f} ms fused, {timings[1] * 1e3:.2f} ms unfused\n")
    return 0


def _cmd_bench(rest: list[str]) -> int:
    from fusevm.bench.harness import main as bench_main
    return int(bench_main(rest))


def _cmd_jit_dump(args: argparse.Namespace) -> int:
    from fusevm.jit import dump
    print(dump(load_chunk(args.file, fuse=not args.no_fuse)))
    return 0


def _cmd_awk(rest: list[str]) -> int:
    from fusevm.lang.awk.main import main as awk_main
    return int(awk_main(rest))


def _cmd_sh(rest: list[str]) -> int:
    from fusevm.lang.sh.main import main as sh_main
    return int(sh_main(rest))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fusevm", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"fusevm {__version__}")
    p.add_argument("--traceback", action="store_true", help="show the Python stack on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a .fasm file or a serialized chunk")
    run.add_argument("file")
    run.add_argument("--no-fuse", action="store_true", help="run without the fusion pass")
    run.add_argument("--jit", action="store_true", help="enable the JIT tiers")
    run.add_argument("--jit-log", action="store_true",
                     help="print each JIT tier decision to stderr (implies --jit)")
    run.add_argument("--strict-int", action="store_true",
                     help="raise on 64-bit integer overflow instead of wrapping")
    run.add_argument("-r", "--result", action="store_true",
                     help="print the value the program leaves on the stack")
    run.add_argument("--traceback", action="store_true", help=argparse.SUPPRESS)

    asm = sub.add_parser("asm", help="assemble a .fasm file into a serialized chunk")
    asm.add_argument("file")
    asm.add_argument("-o", "--output", help="output path (default: FILE with .fvmc)")
    asm.add_argument("--no-fuse", action="store_true", help="do not run the fusion pass")

    dis = sub.add_parser("dis", help="disassemble a chunk (fused unless --no-fuse)")
    dis.add_argument("file", nargs="?")
    dis.add_argument("--no-fuse", action="store_true", help="show the unfused chunk")
    dis.add_argument("--awk", metavar="PROGRAM", help="disassemble an awk program instead")
    dis.add_argument("--sh", metavar="SCRIPT", help="disassemble a POSIX sh script instead")

    demo = sub.add_parser("demo", help="run the bundled example programs")
    demo.add_argument("files", nargs="*", help="programs to run (default: the bundled ones)")

    sub.add_parser("bench", help="run the benchmark harness (see `fusevm bench --help`)",
                   add_help=False)

    dump = sub.add_parser("jit-dump", help="print the LLVM IR and tier decision for a chunk")
    dump.add_argument("file")
    dump.add_argument("--no-fuse", action="store_true")

    sub.add_parser("awk", help="POSIX awk on the VM (see `fusevm awk --help`)", add_help=False)
    sub.add_parser("sh", help="POSIX sh on the VM: sh [-c CMD [NAME [ARG...]] | FILE [ARG...]]",
                   add_help=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    traceback = "--traceback" in argv
    # `awk` and `bench` take their own arguments, unparsed by us.
    for i, word in enumerate(argv):
        if not word.startswith("-"):
            if word in ("awk", "bench", "sh"):
                runner = {"awk": _cmd_awk, "bench": _cmd_bench, "sh": _cmd_sh}[word]
                return _guard(functools.partial(runner, argv[i + 1:]), traceback)
            break
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers: dict[str, Any] = {"run": _cmd_run, "asm": _cmd_asm, "dis": _cmd_dis,
                                "demo": _cmd_demo, "jit-dump": _cmd_jit_dump}
    if args.command is None:
        parser.print_help()
        return 2
    return _guard(lambda: handlers[args.command](args), traceback)


def _guard(fn: Any, traceback: bool) -> int:
    try:
        return int(fn())
    except VMError as e:
        if traceback:
            raise
        where = e.where() if e.source or e.line is not None else "fusevm"
        text = str(e)
        print(text if text.startswith(f"{e.source}:") else f"{where}: {text}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `fusevm run prog | head`: stop quietly; silence the flush at interpreter exit too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (OSError, ValueError) as e:
        if traceback:
            raise
        print(f"fusevm: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
