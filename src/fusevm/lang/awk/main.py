"""`fusevm awk`: the command line (options, operands), running a program, exit status.

    awk [-F fs] [-v var=value]... [-f progfile | 'program'] [--] [file | var=value]...

Syntax and semantic errors exit 2 before anything runs; runtime errors print
`awk: message` and `source line number N` to stderr and exit 2; otherwise the status is
the one `exit` gave (0 by default). Program text, arguments and data are latin-1, so
every byte passes through unchanged.
"""

from __future__ import annotations

import os
import sys
from stat import S_ISREG

import fusevm.lang.awk.ops_io  # noqa: F401  - declares the I/O ops a cached chunk uses
from fusevm.chunk import Chunk
from fusevm.errors import Interrupted, VMError
from fusevm.interp import tiers
from fusevm.interp.signals import sigint_interrupts
from fusevm.interp.vm import VM
from fusevm.lang.awk.errors import AwkRegexError, AwkSemanticError, AwkSyntaxError
from fusevm.lang.awk.format import FormatError
from fusevm.lang.awk.ops import AWK
from fusevm.lang.awk.runtime import make_strnum
from fusevm.lang.awk.state import AwkState
from fusevm.lang.awk.streams import Streams, assignment, process_escapes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from signal import SIGPIPE
    from typing import IO, Final
else:
    from _signal import SIGPIPE  # (the C module: `signal` builds enums at import)

USAGE = "usage: awk [-F fs][-v var=value][prog | -f progfile][file ...]\n"
MAX_CALL_DEPTH = 100_000


class _Usage(Exception):
    """A command line awk cannot run; `usage`: the usage line follows the message (not
    for a program file that cannot be read, as onetrue-awk reports it)."""

    def __init__(self, message: str, usage: bool = True) -> None:
        super().__init__(message)
        self.usage = usage


def _text(arg: str) -> str:
    """A command-line string as latin-1 text (the bytes the user typed)."""
    return os.fsencode(arg).decode("latin-1")


def _parse_args(argv: list[str]) -> tuple[str, list[tuple[str, str]], str | None, list[str]]:
    """(program, assignments in order (-F as FS), program file names, operands)."""
    assigns: list[tuple[str, str]] = []
    files: list[str] = []
    sources: list[str] = []  # -e program text (gawk's --source)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if len(arg) < 2 or arg[0] != "-":
            break
        opt = arg[1]
        if opt not in "Fvfe":
            if arg in ("--version", "-version", "-V"):
                raise _Usage("fusevm awk (POSIX awk on fusevm)")
            raise _Usage(f"unknown option {arg}")
        value = arg[2:]
        if not value:
            i += 1
            if i >= len(argv):
                raise _Usage(f"no value for option -{opt}")
            value = argv[i]
        value = _text(value)
        if opt == "F":
            fs = "\t" if value == "t" else process_escapes(value)
            assigns.append(("FS", fs))
        elif opt == "v":
            pair = assignment(value)
            if pair is None:
                raise _Usage(f"invalid -v argument: {value}")
            assigns.append((pair[0], process_escapes(pair[1])))
        elif opt == "e":
            sources.append(value)
        else:
            files.append(value)
        i += 1
    rest = [_text(a) for a in argv[i:]]
    if sources and not files:
        return "\n".join(sources), assigns, None, rest
    if files:
        parts = []
        for name in files:
            try:
                if name == "-":
                    parts.append(sys.stdin.buffer.read().decode("latin-1"))
                else:
                    with open(name, "rb") as f:
                        parts.append(f.read().decode("latin-1"))
            except OSError as e:
                raise _Usage(f"can't open file {name}: {e.strerror}", usage=False) from None
        return "\n".join(parts + sources), assigns, files[0], rest
    if not rest:
        raise _Usage("no program given")
    return rest[0], assigns, None, rest[1:]


def _compile(source: str, assigned: frozenset[str]) -> Chunk:
    """The program's chunk, from the compile cache when this text and these options were
    compiled before (jit/cache/frontend.py): a big program starts fast on its second run."""
    from fusevm.jit.cache import cached_chunk

    def build() -> Chunk:
        from fusevm.lang.awk.api import compile_program
        # the fusion pass finds nothing in awk code and costs startup time
        return compile_program(source, fuse=False, assigned=assigned)
    return cached_chunk("awk", (source, "nofuse", tuple(sorted(assigned))), build)


def _native_may_help(chunk: Chunk) -> bool:
    """Whether a native tier may take part of the program: it has a loop some iteration
    of which could run natively (`fusevm.jit.native_ops`: the record loop reads input in
    its header, a `for (k in a)` loop steps its keys there, and no native tier runs
    either). Otherwise the native tiers would load (tens of milliseconds of imports) only
    to refuse those loops, while the baseline tier runs them. A function's loops are the
    chunk's loops; a function without one gains nothing native in awk (the trace tier
    runs calls inside a traced loop, and its native self-calls refuse awk's Float
    constants: awk's fib(24) took as long with the native tiers as without, plus their
    load)."""
    from fusevm.loops import loop_facts
    headers = loop_facts(chunk).back_edges
    if not headers:
        return False
    from fusevm.jit.native_ops import loop_never_native
    return not all(loop_never_native(chunk, h) for h in headers)


#: Bytes of input from which the record loop is compiled at its first look, without the
#: tier's own wait: about 20,000 records of a typical file, what loading and compiling the
#: record loop's code costs in records read interpreted (measured: `{ s += $3 }` breaks
#: even at 15,000-25,000 records in a fresh process).
LONG_INPUT: Final = 1 << 20


def _long_input(operands: list[str], stdin: IO[bytes]) -> bool:
    """Whether the input files (standard input too, when it is a file) are known to hold
    at least LONG_INPUT bytes: a pipe's length is not known."""
    total = 0
    for name in [op for op in operands if not assignment(op)] or ["-"]:
        try:
            st = os.fstat(stdin.fileno()) if name == "-" else os.stat(name)
        except (OSError, ValueError):
            continue  # no file behind it (or none yet: reported when it is opened)
        if S_ISREG(st.st_mode):
            total += st.st_size
    return total >= LONG_INPUT


#: The status when standard output's reader went away (`awk ... | head -1`): stop silently
#: with the status a shell gives a process SIGPIPE killed, as gawk, mawk and onetrue-awk
#: end (a pipe to a command, `print | "cmd"`, is a fatal error instead: docs/awk.md).
STDOUT_CLOSED: Final = 128 + SIGPIPE


def main(argv: list[str], stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None,
         stderr: IO[str] | None = None) -> int:
    """Run awk with these arguments; returns the exit status."""
    err = stderr if stderr is not None else sys.stderr
    if argv[:1] == ["--jit-log"]:  # before awk's own options: each tier decision to stderr
        from fusevm.jit import set_log
        set_log(lambda msg: print(f"jit: {msg}", file=err))
        argv = argv[1:]
    if argv[:1] == ["--help"]:  # (as the first argument only, as gawk takes it)
        out = stdout if stdout is not None else sys.stdout.buffer
        out.write(f"{USAGE}  POSIX awk on the fusevm VM: -F sets FS, -v assigns before "
                  "BEGIN, -f reads\n  the program from a file (repeatable). See "
                  "docs/awk.md.\n".encode())
        out.flush()
        return 0
    try:
        source, assigns, _, operands = _parse_args(argv)
    except _Usage as e:
        err.write(f"awk: {e}\n{USAGE if e.usage else ''}")
        return 2
    try:
        # -v and `var=value` operands may store strings in any variable they name
        assigned = {name for name, _ in assigns}
        if operands:
            assigned.update(pair[0] for pair in map(assignment, operands) if pair)
        chunk = _compile(source, frozenset(assigned))
    except AwkSyntaxError as e:
        err.write(f"awk: {e.message}\n")
        return 2
    except AwkSemanticError as e:
        err.write(f"awk: {e.message}\n")
        return 2
    except RecursionError:
        err.write("awk: program nested too deeply\n")
        return 2
    state = AwkState()
    state.argv["0"] = "awk"
    for n, operand in enumerate(operands, 1):
        state.argv[str(n)] = make_strnum(operand)
    state.values[13] = float(len(operands) + 1)  # ARGC
    state.pending = [(name, make_strnum(value)) for name, value in assigns]
    vm = VM(chunk, extensions=[AWK], max_depth=MAX_CALL_DEPTH)
    if _native_may_help(chunk):
        vm.enable_tracing_jit()  # hot numeric loops run natively (a no-op without llvmlite)
        # The native lowerings of awk's numeric ops load with the tiers, when a loop gets
        # hot (a chunk from the compile cache has not imported them with the compiler).
        from fusevm.jit.hook import load_with_tiers
        load_with_tiers("fusevm.lang.awk.jit")
    elif _long_input(operands, stdin if stdin is not None else sys.stdin.buffer):
        # the record loop, the one hot point, runs compiled after LOOP_FIRST_LOOK records;
        # on a shorter input (or a pipe) the VM's own baseline tier compiles it when that
        # pays (the trace tier compiles it at its region threshold for the other programs)
        from fusevm.baseline.looks import LOOP_FIRST_LOOK
        tiers.attach(vm, "baseline", by_default=True, first_look=LOOP_FIRST_LOOK)

    def system(command: str) -> int:
        status: int = vm.shell.exec(["/bin/sh", "-c", command])
        return status

    streams = Streams(state, stdin if stdin is not None else sys.stdin.buffer,
                      stdout if stdout is not None else sys.stdout.buffer, system)
    vm.host_data["awk"] = state
    vm.host_data["awk.io"] = streams
    status = 0
    try:
        with sigint_interrupts(vm):
            vm.run()
        status = state.exit_code
    except Interrupted:
        status = 130
    except VMError as e:
        if isinstance(e.__cause__, BrokenPipeError):
            streams.detach_quietly()
            return STDOUT_CLOSED
        try:
            streams.flush_all()
        except (OSError, ValueError):
            pass
        message = e.message
        prefix = "extension op "
        if message.startswith(prefix) and e.__cause__ is not None:
            cause = e.__cause__
            # (a field separator, record separator or split() separator that is no ERE)
            message = (f"syntax error in regular expression ({cause})"
                       if isinstance(cause, AwkRegexError)
                       else str(cause) if isinstance(cause, FormatError)
                       else f"{type(cause).__name__}: {cause}")
        err.write(f"awk: {message}\n")
        if e.line:
            err.write(f" source line number {e.line}\n")
        status = 2
    except BrokenPipeError:
        streams.detach_quietly()
        return STDOUT_CLOSED
    except KeyboardInterrupt:
        status = 130
    try:
        streams.close_all()
    except BrokenPipeError:
        streams.detach_quietly()
        return STDOUT_CLOSED
    except VMError as e:
        err.write(f"awk: {e.message}\n")
        status = 2
    streams.detach()
    return status
