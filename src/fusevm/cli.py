"""The `fusevm` command line: run, asm, dis, demo, bench, jit-dump, cache and frontends.

Frontends (`fusevm awk`, ...) are subcommands registered under the `fusevm.frontends`
entry-point group; `run`, `asm`, `dis` and `jit-dump` load the extension sets registered under
`fusevm.extensions` and any named with `--ext MODULE:ATTR` (see `fusevm.plugins`).
Errors print one line, `file:line: message`, and exit 1, followed by the backtrace when
the error happened inside a function; `--traceback` shows the Python stack instead.
"""

from __future__ import annotations

import os
import sys

from fusevm.entry import exit_process, pause_collector, program_starts
from fusevm.errors import Interrupted, OutputClosed, VMError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    # (what `__getattr__` gives, as the type checker should see it)
    from fusevm.commands import RUN_FLAGS as RUN_FLAGS
    from fusevm.commands import build_parser as build_parser
    from fusevm.commands import load_chunk as load_chunk
    from fusevm.plugins import COMMANDS as COMMANDS


# Only what every command needs is imported here: `fusevm awk` and `fusevm sh` start with
# this module, and each command imports the rest of fusevm it uses (the built-in commands
# and their parser are `fusevm.commands`).

#: Names this module gives from `fusevm.commands` and `fusevm.plugins` on first use.
_ELSEWHERE: dict[str, tuple[str, str]] = {
    "load_chunk": ("fusevm.commands", "load_chunk"),
    "build_parser": ("fusevm.commands", "build_parser"),
    "RUN_FLAGS": ("fusevm.commands", "RUN_FLAGS"),
    "COMMANDS": ("fusevm.plugins", "COMMANDS"),
}


def __getattr__(name: str) -> object:
    found = _ELSEWHERE.get(name)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = found
    __import__(module)  # (not importlib.import_module: the importlib package costs start-up)
    value = getattr(sys.modules[module], attribute)
    globals()[name] = value
    return value


def _cmd_frontend(name: str, rest: list[str]) -> int:
    from fusevm.plugins import find_frontend
    frontend = find_frontend(name)
    if frontend is None:
        raise VMError(f"no frontend named {name!r}")
    program_starts()  # the frontend's modules are loaded (see fusevm.entry)
    return int(frontend(rest))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `bench` and the frontends take their own arguments, unparsed by us.
    at = next((i for i, word in enumerate(argv) if not word.startswith("-")), None)
    # (an option of ours anywhere but after a frontend's name, where it is the frontend's)
    traceback = "--traceback" in argv
    command = None if at is None else argv[at]
    rest = [] if at is None else argv[at + 1:]
    from fusevm.plugins import COMMANDS, is_frontend
    if command is not None and command not in COMMANDS and is_frontend(command):
        name = command
        return _guard(lambda: _cmd_frontend(name, rest), "--traceback" in argv[:at])
    from fusevm import commands
    if command == "bench":
        program_starts()
        return _guard(lambda: commands.cmd_bench(rest), traceback)
    args = commands.quick_run_args(argv) if command == "run" else None
    if args is not None:
        quick = args
        return _guard(lambda: commands.cmd_run(quick), traceback)
    parser = commands.build_parser(
        frontends=command not in COMMANDS or "-h" in argv or "--help" in argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command != "run":
        program_starts()  # only `run` and the frontends are start-up-critical
    return _guard(lambda: commands.HANDLERS[args.command](args), traceback)


def _guard(fn: Callable[[], Any], traceback: bool) -> int:
    try:
        return int(fn())
    except Interrupted:
        # Ctrl-C: stop like a shell command killed by SIGINT, output flushed.
        try:
            sys.stdout.flush()
        except OSError:
            pass
        return 130
    except OutputClosed:
        return _quiet_broken_pipe()
    except VMError as e:
        if traceback:
            raise
        where = e.where() if e.source or e.line is not None else "fusevm"
        text = str(e)
        print(text if text.startswith(f"{e.source}:") else f"{where}: {text}", file=sys.stderr)
        if len(e.backtrace) > 1:
            print(format_backtrace(e.backtrace), file=sys.stderr)
        return 1
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except (OSError, ValueError) as e:
        if traceback:
            raise
        print(f"fusevm: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        # A bug, not bad input: still one line unless --traceback asks for the stack.
        if traceback:
            raise
        print(f"fusevm: internal error: {type(e).__name__}: {e} (--traceback shows where)",
              file=sys.stderr)
        return 70


def _quiet_broken_pipe() -> int:
    """`fusevm run prog | head`: stop quietly; silence the flush at interpreter exit too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141


def format_backtrace(frames: Sequence[tuple[str, str, int | None]], *,
                     limit: int = 20) -> str:
    """The lines the CLI prints under an error: one per frame, innermost last.

    A deep stack (runaway recursion) shows its outermost and innermost `limit // 2` frames.
    """
    lines = ["backtrace (most recent call last):"]
    shown = list(frames)
    omitted = 0
    if len(shown) > limit:
        omitted = len(shown) - limit
        shown = shown[:limit // 2] + shown[-(limit - limit // 2):]
    for k, (function, source, line) in enumerate(shown):
        if omitted and k == limit // 2:
            lines.append(f"  ... {omitted} frames omitted ...")
        where = f"{source}:{line}" if line is not None else source
        lines.append(f"  {where}: in {function}")
    return "\n".join(lines)


def entry() -> None:
    """The `fusevm` command (console script, `python -m fusevm`): `main` as a process of
    its own, with the cycle collector paused while the command loads and the exit of
    `fusevm.entry`."""
    pause_collector()
    exit_process(main())


if __name__ == "__main__":
    entry()
