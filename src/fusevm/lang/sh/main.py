"""`fusevm sh`: the command line, its options, where the script comes from, and the exit.

    sh [-euxfnvCa] [-o option]... [-c command [name [arg...]] | -s [arg...] | file [arg...]]

With neither -c nor a file the script is read from stdin. The script runs with
`runtime.run_text`: each complete command is parsed, compiled and run before the next one
is read, as in dash, so a syntax error late in a script does not stop the commands before
it. Errors go to stderr as `sh: LINE: message`; a syntax error exits 2.

This is the top of the frontend: importing it registers the op handlers (`ops`) and the
builtins that `runtime` runs (`builtins`; the regular ones load with the first command
that names one).
"""

from __future__ import annotations

import os
import sys

import fusevm.lang.sh.builtins  # noqa: F401  - registers the builtins
import fusevm.lang.sh.ops  # noqa: F401  - attaches the sh op handlers
from fusevm.lang.sh import runtime
from fusevm.lang.sh.errors import ShExit
from fusevm.lang.sh.runtime import run_text
from fusevm.lang.sh.state import (
    IGNORED_OPTIONS,
    LONG_OPTIONS,
    OPTION_LETTERS,
    new_state,
    write,
)
from fusevm.shell import csignal as signal
from fusevm.shell import text

USAGE = "usage: sh [-euxfnvCa] [-o option] [-c command [name [arg...]] | file [arg...]]\n"


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


#: Signals whose disposition at start-up is the inherited one: every one a trap can name
#: but SIGPIPE and SIGXFSZ, which CPython ignores itself, whatever came (it leaves a SIGINT
#: ignored on entry ignored), and the two no process can catch.
_ENTRY_SIGNALS = tuple(number for name, number in signal.SIGNAL_NAMES.items()
                       if name not in ("PIPE", "XFSZ", "KILL", "STOP"))


def _main(argv: list[str]) -> int:
    for sig in _SHELL_SIGNALS:
        # CPython leaves a SIGINT ignored on entry ignored (an asynchronous list's child,
        # `nohup`): so does a shell. It ignores SIGPIPE and SIGXFSZ itself, whatever came.
        if sig != signal.SIGINT or signal.getsignal(sig) != signal.SIG_IGN:
            signal.signal(sig, signal.SIG_DFL)
    sys.setrecursionlimit(20000)
    text.use_locale(os.environ)
    s = new_state()
    s.ignored_on_entry = {num for num in _ENTRY_SIGNALS
                          if signal.getsignal(num) == signal.SIG_IGN}
    args = [text.from_os(a) for a in argv]
    command: str | None = None
    use_c = False
    use_stdin = False
    if args[:1] == ["--help"]:  # (as the first argument only, as bash takes it)
        write(1, f"{USAGE}  -c runs COMMAND (NAME is $0, the ARGs $1...), FILE runs a "
                 "script, and with\n  neither the script is standard input. `set -o` "
                 "lists the long options.\n  See docs/sh.md.\n")
        return 0
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
                elif name not in IGNORED_OPTIONS:
                    write(2, f"sh: Illegal option -o {name}\n{USAGE}")
                    return 2
            elif c in OPTION_LETTERS:
                s.opts[c] = on
            elif c == "s":
                use_stdin = True
            elif c == "i":
                s.interactive = on  # (+i: explicitly not interactive)
            elif c in "ml":  # (-l, a login shell: accepted, as dash and bash do)
                pass
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
            status = run_text(s, text.decode(data), cache=True)
        else:
            data = os.read(0, 1 << 20)
            chunks = [data]
            while data:
                data = os.read(0, 1 << 20)
                chunks.append(data)
            s.positional = args
            status = run_text(s, text.decode(b"".join(chunks)))
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
