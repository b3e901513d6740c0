"""awk's streams: the main input (ARGV files and operand assignments), getline sources,
output redirections, command pipes, close, fflush and system.

All text is latin-1 on both sides, so every byte of input reaches output unchanged, which
is what awk in the C locale does. Output is buffered; everything is flushed before a
command starts (system, pipes) so that output keeps its order, and at exit.
"""

from __future__ import annotations

import io
import sys

from fusevm.lang.awk.fields import RecordReader
from fusevm.lang.awk.runtime import make_strnum, to_num
from fusevm.lang.awk.state import ARGC, FILENAME, NO_LINES, AwkFatal, AwkState

ENCODING: Final = "latin-1"
_NAME_START: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_REST: Final = _NAME_START | frozenset("0123456789")

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable
    from typing import IO, Any, Final


def assignment(text: str) -> tuple[str, str] | None:
    """(name, value) of a `name=value` operand or -v argument, or None: a name
    `[A-Za-z_][A-Za-z0-9_]*`, then `=`, then any text (read with str methods: most
    operands are file names, and `re` would cost every such run its start-up)."""
    name, eq, value = text.partition("=")
    if not eq or not name or name[0] not in _NAME_START or not _NAME_REST.issuperset(name):
        return None
    return name, value


def process_escapes(text: str) -> str:
    """Escape sequences in a command-line assignment's value, as in a string literal."""
    if "\\" not in text:
        return text
    from fusevm.lang.awk.escapes import decode_escape
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\":
            chars, i = decode_escape(text, i)
            out.append(chars)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def text_reader(binary: IO[bytes]) -> io.TextIOWrapper:
    """A latin-1 text view of a byte stream; lines end at "\\n" only."""
    return io.TextIOWrapper(binary, encoding=ENCODING, newline="\n")


def text_writer(binary: IO[bytes]) -> io.TextIOWrapper:
    """A buffered latin-1 text writer over a byte stream (no newline translation)."""
    return io.TextIOWrapper(binary, encoding=ENCODING, errors="replace", newline="\n")


class _Stream:
    """An open redirection or getline source, with its process if it is a pipe."""

    __slots__ = ("text", "reader", "proc")

    def __init__(self, text: io.TextIOWrapper, proc: subprocess.Popen[bytes] | None,
                 reader: RecordReader | None = None) -> None:
        self.text = text
        self.proc = proc
        self.reader = reader


class Streams:
    """The open streams of one run."""

    def __init__(self, state: AwkState, stdin: IO[bytes], stdout: IO[bytes],
                 system: Callable[[str], int]) -> None:
        self.state = state
        self.stdin_bin = stdin
        self.stdout_bin = stdout
        # Made with the first output to stdout: the latin-1 codec's module (six classes)
        # loads with it, which a program that prints nothing does not pay.
        self._out: io.TextIOWrapper | None = None
        self._stdin_text: io.TextIOWrapper | None = None
        self._stdin_reader: RecordReader | None = None
        self._stderr: io.TextIOWrapper | None = None
        self.system_runner = system
        self.main: RecordReader | None = None
        self._main_text: io.TextIOWrapper | None = None
        self.argi = 1
        self.used_file = False
        self.outputs: dict[str, _Stream] = {}
        self.inputs: dict[str, _Stream] = {}
        #: Set by the ops layer: assigns a command-line `var=value` operand.
        self.assign: Callable[[str, Any], None] = lambda name, value: None

    @property
    def out(self) -> io.TextIOWrapper:
        """The text writer of standard output (made on first use)."""
        out = self._out
        if out is None:
            out = self._out = text_writer(self.stdout_bin)
        return out

    def is_stdout(self, stream: io.TextIOWrapper) -> bool:
        """Whether `stream` is the writer of standard output."""
        return stream is self._out

    # -- main input ----------------------------------------------------------------

    def stdin_text(self) -> io.TextIOWrapper:
        if self._stdin_text is None:
            self._stdin_text = text_reader(self.stdin_bin)
        return self._stdin_text

    def stdin_reader(self) -> RecordReader:
        """The one reader of standard input: the main input and `getline < "-"` share
        it, and with it the input it has read ahead."""
        if self._stdin_reader is None:
            self._stdin_reader = RecordReader(self.stdin_text())
        return self._stdin_reader

    def next_record(self) -> bool:
        """The record loop's next record the long way (`AwkState.lines` held none): read
        it by the current RS, count it in NR and FNR, reset everything a record resets,
        and say whether the lines after it can be taken as they are. False at the end
        of the input."""
        st = self.state
        main = self.main
        rec = None
        if main is not None and main.only_lines and st.rs == "\n":
            rec = next(main.lines, None)
            plain = main.plain
            clean = main.clean
        if rec is None:
            rec, plain, clean = self.read_on()
        if rec is None:
            st.lines = NO_LINES
            return False
        st.nr += 1
        st.fnr += 1
        st.new_record(rec, plain, clean)
        main = self.main
        st.lines = main.lines if main is not None and main.only_lines and st.rs == "\n" \
            else NO_LINES
        return True

    def read_on(self) -> tuple[str | None, bool, bool]:
        """The next main-input record past the lines of the block at hand: the next block's
        first line (RS a newline, a file of lines), the next record by RS, or the next
        file's first; with whether its block is plain and clean. None at the end."""
        st = self.state
        main = self.main
        plain = clean = False
        if main is None:
            rec = None
        elif main.only_lines and st.rs == "\n":
            rec = main.read_record("\n")  # the next block, or the end of this file
            plain = main.plain
            clean = main.clean
        else:
            rec = main.read_record(st.rs)
        if rec is None:
            rec = self.next_main()  # the next file, or the end of the input
            main = self.main
            # a new file's first line is a line of its first block, as any other
            plain = clean = False
            if rec is not None and main is not None and main.only_lines and st.rs == "\n":
                plain = main.plain
                clean = main.clean
        return rec, plain, clean

    def next_main(self) -> str | None:
        """The next record of the main input, or None when every file is read."""
        st = self.state
        main = self.main
        if main is not None:  # the hot case: one more record of the current file
            rec = main.read_record(st.rs)
            if rec is not None:
                return rec
            self._close_main()
        while True:
            if self.main is None and not self._open_next():
                return None
            assert self.main is not None
            rec = self.main.read_record(st.rs)
            if rec is not None:
                return rec
            self._close_main()

    def next_file(self) -> None:
        """nextfile: abandon the current input file."""
        if self.main is not None:
            self._close_main()

    def _close_main(self) -> None:
        if self._main_text is not None and self._main_text is not self._stdin_text:
            self._main_text.close()
        self.main = None
        self.state.lines = NO_LINES
        self._main_text = None

    def _open_next(self) -> bool:
        st = self.state
        while self.argi < int(to_num(st.values[ARGC])):
            i = self.argi
            self.argi += 1
            arg = st.argv.get(str(i))
            if arg is None:
                continue
            name = st.str_of(arg)
            if name == "":
                continue
            pair = assignment(name)
            if pair is not None:
                self.assign(pair[0], make_strnum(process_escapes(pair[1])))
                continue
            self.used_file = True
            if name in ("-", "/dev/stdin"):
                text = self.stdin_text()
                reader = self.stdin_reader()
            else:
                try:
                    text = text_reader(open(name, "rb"))  # noqa: SIM115 - kept open
                except OSError as e:
                    # fatal, END skipped, as in gawk, onetrue-awk and mawk
                    raise AwkFatal(f"can't open file {name}: {e.strerror}") from None
                reader = RecordReader(text)
            self._main_text = text
            self.main = reader
            st.values[FILENAME] = arg
            st.fnr = 0
            st.fnr_val = None
            return True
        if not self.used_file:
            self.used_file = True
            self._main_text = self.stdin_text()
            self.main = self.stdin_reader()
            st.fnr = 0
            return True
        return False

    # -- getline sources -----------------------------------------------------------

    def read_from(self, name: str, command: bool) -> str | None | int:
        """The next record from a file or command; None at EOF, -1 when it cannot open."""
        s = self.inputs.get(name)
        if s is None:
            if command:
                self.flush_all()
                import subprocess  # only a program with a command pipe pays for it
                try:
                    proc = subprocess.Popen([b"/bin/sh", b"-c", name.encode(ENCODING, "replace")],
                                            stdout=subprocess.PIPE)
                except OSError:
                    return -1
                assert proc.stdout is not None
                text = text_reader(proc.stdout)
                s = _Stream(text, proc, RecordReader(text))
            else:
                if name in ("-", "/dev/stdin"):
                    s = _Stream(self.stdin_text(), None, self.stdin_reader())
                else:
                    try:
                        text = text_reader(open(name, "rb"))  # noqa: SIM115 - kept open
                    except OSError:
                        return -1
                    s = _Stream(text, None, RecordReader(text))
            self.inputs[name] = s
        assert s.reader is not None
        return s.reader.read_record(self.state.rs)

    # -- output ---------------------------------------------------------------------

    def output(self, mode: str, name: str) -> io.TextIOWrapper:
        """The stream `print > name` (mode ">", ">>" or "|") writes to."""
        s = self.outputs.get(name)
        if s is not None:
            return s.text
        if mode != "|":
            if name in ("/dev/stdout", "-"):
                return self.out
            if name == "/dev/stderr":
                return self.stderr()
        if mode == "|":
            self.flush_all()
            import subprocess
            proc = subprocess.Popen([b"/bin/sh", b"-c", name.encode(ENCODING, "replace")],
                                    stdin=subprocess.PIPE)
            assert proc.stdin is not None
            s = _Stream(text_writer(proc.stdin), proc)
        else:
            try:
                f = open(name, "wb" if mode == ">" else "ab")  # noqa: SIM115 - kept open
            except OSError as e:
                raise AwkFatal(f"can't redirect to {name} ({e.strerror})") from None
            s = _Stream(text_writer(f), None)
        self.outputs[name] = s
        return s.text

    def stderr(self) -> io.TextIOWrapper:
        if self._stderr is None:
            self._stderr = text_writer(sys.stderr.buffer)
        return self._stderr

    def flush_all(self) -> None:
        """fflush(): every output stream, stdout first (its reader gone: BrokenPipeError,
        which ends the run quietly, see `main`)."""
        if self._out is not None:
            self._out.flush()
        if self._stderr is not None:
            self._stderr.flush()
        for name, s in self.outputs.items():
            try:
                s.text.flush()
            except BrokenPipeError:
                raise broken_pipe(name) from None

    def flush(self, name: str) -> int:
        """fflush(name): 0, or -1 when nothing of that name is open ("" flushes all)."""
        if name == "":
            self.flush_all()
            return 0
        if name in ("/dev/stdout", "-"):
            if self._out is not None:
                self._out.flush()
            return 0
        s = self.outputs.get(name)
        if s is None:
            return -1
        s.text.flush()
        return 0

    def close(self, name: str) -> int:
        """close(name): the command's exit status, 0 for files, -1 if none is open."""
        status = -1
        s = self.outputs.pop(name, None)
        if s is not None:
            status = self._finish(s, name)
        s = self.inputs.pop(name, None)
        if s is not None:
            status = self._finish(s, name)
        return status

    def _finish(self, s: _Stream, name: str) -> int:
        broken = False
        try:
            if s.text is not self._stdin_text:
                s.text.close()
        except BrokenPipeError:
            broken = True
            try:
                s.text.close()  # the flush failed; release the descriptor all the same
            except BrokenPipeError:
                pass
        code = 0 if s.proc is None else s.proc.wait()
        if broken:
            raise broken_pipe(name)
        return code if code >= 0 else 256 - code

    def system(self, command: str) -> int:
        self.flush_all()
        return self.system_runner(command)

    def close_all(self) -> None:
        """At exit: flush stdout, then close every redirection and wait for commands."""
        first: AwkFatal | None = None
        try:
            self.flush_all()
        except AwkFatal as e:
            first = e
        for name in list(self.outputs) + list(self.inputs):
            try:
                self.close(name)
            except AwkFatal as e:
                first = first or e
        if self.main is not None:
            self._close_main()
        if first is not None:
            raise first

    def detach_quietly(self) -> None:
        """After a broken pipe: drop buffered output, let go of the caller's streams."""
        for w in (self._out, self._stderr, self._stdin_text):
            if w is None:
                continue
            try:
                w.detach()
            except (ValueError, OSError):
                pass

    def detach(self) -> None:
        """Flush the wrappers and let go of the caller's byte streams without closing."""
        for w in (self._out, self._stderr, self._stdin_text):
            if w is None:
                continue
            try:
                w.flush()
            except (BrokenPipeError, ValueError):
                pass
            try:
                w.detach()
            except (ValueError, OSError):
                pass


def broken_pipe(name: str) -> AwkFatal:
    """Writing to `name` failed because its reader is gone: fatal, as in gawk (status 2;
    onetrue-awk and mawk die of SIGPIPE instead)."""
    return AwkFatal(f'print to "{name}" failed (Broken pipe)')


def fatal_open(name: str) -> AwkFatal:
    return AwkFatal(f"can't open file {name}")
