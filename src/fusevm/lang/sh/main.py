"""`fusevm sh`: the command line, start-up environment, the read-parse-run loop, exit.

    sh [-euxfnvCa] [-o option]... [-c command [name [arg...]] | -s [arg...] | file [arg...]]

With neither -c nor a file the script is read from stdin. Each complete command is
parsed, compiled and run before the next one is read, as in dash, so a syntax error
late in a script does not stop the commands before it. Errors go to stderr as
`sh: LINE: message`; a syntax error exits 2.
"""

from __future__ import annotations

import os
import signal
import sys

import fusevm.lang.sh.builtins  # noqa: F401  - registers the builtins
from fusevm.errors import VMError
from fusevm.lang.sh import runtime
from fusevm.lang.sh.compiler import compile_items
from fusevm.lang.sh.errors import ShError, ShExit, ShLoopJump, ShReturn, ShSyntaxError
from fusevm.lang.sh.parser import Parser
from fusevm.lang.sh.state import LONG_OPTIONS, OPTION_LETTERS, ShState, write

USAGE = "usage: sh [-euxfnvCa] [-o option] [-c command [name [arg...]] | file [arg...]]\n"


def new_state() -> ShState:
    s = ShState()
    for k, v in os.environ.items():
        s.vars[k] = v
        s.exported.add(k)
    s.vars["IFS"] = " \t\n"
    s.vars.setdefault("PS4", "+ ")
    s.vars["OPTIND"] = "1"
    s.vars["PPID"] = str(os.getppid())
    try:
        # trust an inherited PWD that names this directory (no getcwd call, as in dash)
        pwd = s.vars.get("PWD")
        if not pwd or not os.path.isabs(pwd) or not os.path.samestat(os.stat(pwd),
                                                                     os.stat(".")):
            s.vars["PWD"] = os.getcwd()
    except OSError:
        pass
    return s


def run_text(s: ShState, text: str, line: int = 1) -> int:
    """Run a whole script, command by command; the final status (exits via ShExit)."""
    p = Parser(text, line, s.aliases)
    status = 0
    while True:
        start = p.pos
        try:
            items = p.parse_command()
        except ShSyntaxError as e:
            s.lineno = e.line
            s.error(f"Syntax error: {e.message}")
            raise ShExit(2) from None
        if s.opts["v"]:
            write(2, p.text[start:p.pos].lstrip("\n"))
        if items is None:
            return status
        if s.opts["n"]:
            continue
        chunk = compile_items(items)
        try:
            status = runtime.run_chunk(s, chunk, status)
        except ShReturn as r:
            status = r.status
        except ShLoopJump:
            status = 0
        except ShError as e:
            if e.line:
                s.lineno = e.line
            s.error(e.message)
            if e.fatal and not s.interactive:
                raise ShExit(e.status) from None
            status = e.status
        except ShExit:
            raise
        except VMError as e:
            # a bug in a handler, not a shell error: report it plainly, never a traceback
            cause = e.__cause__
            detail = f"{type(cause).__name__}: {cause}" if cause is not None else e.message
            s.error(f"internal error: {detail}")
            raise ShExit(2) from None


def run_file_as_new_shell(path: str, args: list[str], env: dict[str, str]) -> int:
    """In a forked child: run a script without a #! line as a fresh shell would."""
    os.environ.clear()
    os.environ.update(env)
    runtime._pool.clear()
    s = new_state()
    s.arg0 = path
    s.positional = list(args)
    status = 0
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
        status = run_text(s, text)
    except ShExit as e:
        status = e.status
    except OSError as e:
        write(2, f"sh: 0: cannot open {path}: {e.strerror}\n")
        return 127
    status = runtime.run_exit_trap(s, status)
    return status & 0xFF


def main(argv: list[str]) -> int:
    """Run the shell with these arguments; returns the exit status. The process-wide
    settings it changes (signal dispositions, the recursion limit) are put back after, for
    a caller that runs it in its own process (tests, `fusevm.cli.main`)."""
    saved = {sig: signal.getsignal(sig) for sig in _SHELL_SIGNALS}
    limit = sys.getrecursionlimit()
    try:
        return _main(argv)
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)
        sys.setrecursionlimit(limit)


#: Signals CPython ignores or handles itself that a shell dies of like any program.
_SHELL_SIGNALS = (signal.SIGPIPE, signal.SIGINT, signal.SIGXFSZ)


def _main(argv: list[str]) -> int:
    for sig in _SHELL_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    sys.setrecursionlimit(20000)
    s = new_state()
    args = list(argv)
    command: str | None = None
    use_c = False
    use_stdin = False
    while args:
        a = args[0]
        if a == "--":
            args.pop(0)
            break
        if a == "-" :
            args.pop(0)
            break
        if len(a) < 2 or a[0] not in "-+":
            break
        args.pop(0)
        on = a[0] == "-"
        for c in a[1:]:
            if c == "c":
                use_c = True
            elif c == "o":
                if not args:
                    write(2, USAGE)
                    return 2
                name = args.pop(0)
                if name in LONG_OPTIONS:
                    s.opts[LONG_OPTIONS[name]] = on
            elif c in OPTION_LETTERS:
                s.opts[c] = on
            elif c == "s":
                use_stdin = True
            elif c in "im":
                s.interactive = s.interactive or c == "i"
            else:
                write(2, f"sh: Illegal option -{c}\n{USAGE}")
                return 2
    status = 0
    try:
        if use_c:
            if not args:
                write(2, "sh: -c requires an argument\n")
                return 2
            command = args.pop(0)
            if args:
                s.arg0 = args.pop(0)
            s.positional = args
            status = run_text(s, command)
        elif args and not use_stdin:
            path = args.pop(0)
            s.arg0 = path
            s.positional = args
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                write(2, f"sh: 0: cannot open {path}: {e.strerror}\n")
                return 127 if isinstance(e, FileNotFoundError) else 126
            status = run_text(s, data.decode("utf-8", "surrogateescape"))
        else:
            data = os.read(0, 1 << 20)
            chunks = [data]
            while data:
                data = os.read(0, 1 << 20)
                chunks.append(data)
            s.positional = args
            status = run_text(s, b"".join(chunks).decode("utf-8", "surrogateescape"))
    except ShExit as e:
        status = e.status
    except KeyboardInterrupt:
        status = 130
    except RecursionError:
        s.error("recursion too deep")
        status = 2
    status = runtime.run_exit_trap(s, status)
    return status & 0xFF


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
