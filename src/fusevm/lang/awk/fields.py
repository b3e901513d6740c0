"""Records and fields: FS splitting, and reading records from a text stream by RS.

Field splitting by FS: a single space (the default) splits on runs of blanks, tabs and
newlines with leading and trailing ones ignored; any other single character, regex
metacharacters included, splits on that character literally; an empty FS splits into
characters (as gawk and onetrue-awk do); anything longer is an ERE. In paragraph mode
(RS = "") a newline also separates fields when FS is a single character; gawk,
onetrue-awk and mawk all leave a regex or empty FS alone there.

Record reading by RS: a single character separates records (the default newline); an
empty RS is paragraph mode (blank lines separate records, leading newlines are skipped,
trailing ones dropped at end of input); a longer RS is an ERE, as in gawk and onetrue-awk.
RS may change between records; the reader keeps one buffer for every mode.
"""

from __future__ import annotations

from fusevm.lang.awk.regex import compile_ere, split_on_regex
from fusevm.lang.lazyre import LazyPattern

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Final, Protocol

    from fusevm.lang.awk.regex import AwkRegex
else:
    Protocol = object  # run-time stand-in: only the type checker reads it

_DEFAULT_FIELD: Final = LazyPattern(r"[^ \t\n]+")
# ASCII whitespace that str.split() would split on but awk's default FS does not.
_OTHER_SPACE: Final = LazyPattern(r"[\r\f\v\x1c-\x1f]")
_NOT_AWK_BLANKS: Final = "\r\f\v\x1c\x1d\x1e\x1f"


def split_record(text: str, fs: str, *, paragraph: bool = False) -> list[str]:
    """Split a record (or split()'s string) into fields by the FS value `fs`."""
    if not text:
        return []
    if fs == " ":
        # str.split() splits on every Unicode space, awk on blanks, tabs and newlines
        # only; text whose only space is " " (isprintable) or that is ASCII without
        # \r \f \v \x1c-\x1f gives the same answer, several times faster
        if text.isprintable() or text.isascii() and _OTHER_SPACE.search(text) is None:
            return text.split()
        return _DEFAULT_FIELD.findall(text)
    if len(fs) == 1:
        if paragraph and fs != "\n":
            return [part for line in text.split("\n") for part in line.split(fs)]
        return text.split(fs)
    if fs == "":
        return list(text)
    return split_on_regex(text, compile_ere(fs))


class TextSource(Protocol):
    """What the record reader needs from a stream: line-at-a-time reads.

    A stream with a binary `buffer` that has `read1` (a latin-1 `io.TextIOWrapper` over a
    buffered file, pipe or terminal) is read in blocks instead, with `read1`, which
    returns what has arrived without waiting for more: interactive input stays
    responsive, and a big file costs one Python call per block, not per line.
    """

    def readline(self) -> str: ...


#: Bytes asked for per block read.
BLOCK: Final = 1 << 16


class RecordReader:
    """Reads awk records from a text stream, by whatever RS is current at each call.

    Input arrives as lines: the complete lines of the last block read are what is left
    of the iterator `lines` (without their newlines; `_partial` is an unfinished line
    that the next block continues). With RS a newline and nothing buffered a record is
    the next of them. Other separators work on `_buf[_pos:]`, filled from the same
    lines: lines read while looking for a separator are collected in a list and joined
    once, so a long record costs linear time.
    """

    def __init__(self, stream: TextSource) -> None:
        self._stream = stream
        buffer = getattr(stream, "buffer", None)
        self._read1 = getattr(buffer, "read1", None)
        #: The complete lines of the last block not yet taken. While `only_lines` holds
        #: (RS has been a newline at every read), the next record is simply the next of
        #: them when there is one: the record loop takes it without calling read_record.
        #: The list `lines` iterates over: the whole block (`lines` is where in it the
        #: next record is)
        self.block: list[str] = []
        self.lines: Iterator[str] = iter(self.block)
        #: Every line `lines` holds is "plain": it has no character that str.split()
        #: takes for a blank and awk's default FS does not (\r \f \v \x1c-\x1f, and
        #: non-ASCII ones), so str.split() is its default field split. Checked once per
        #: block, with C-speed scans, instead of once per record.
        self.plain = False
        #: Every line `lines` holds is ASCII without an underscore, so where float()
        #: reads a finite number in a piece of one, that is the number awk reads
        #: (`values.str_to_num`): no per-field check of either.
        self.clean = False
        self.only_lines = True
        self._partial = ""
        self._buf = ""
        self._pos = 0
        self._eof = False

    def _block(self) -> bool:
        """Read blocks until one completes a line; False at end of input (the unfinished
        line, if any, is then all `lines` holds, without a newline)."""
        assert self._read1 is not None
        while not self._eof:
            data = self._read1(BLOCK)
            if not data:
                self._eof = True
                break
            text = self._partial + data.decode("latin-1")
            ascii = text.isascii()
            self.plain = ascii and not any(c in text for c in _NOT_AWK_BLANKS)
            self.clean = ascii and "_" not in text
            lines = text.split("\n")
            self._partial = lines.pop()
            if lines:
                self.block = lines
                self.lines = iter(lines)
                return True
        if self._partial:
            # the last line, without a newline: alone in its block
            self.block = [self._partial]
            self.lines = iter(self.block)
            self._partial = ""
            self._last_open = True
            return True
        return False

    _last_open = False  # the last block is the input's last line, without a newline

    def _readline(self) -> str:
        """The next line of input with its newline, or "" at end of input (and from then
        on)."""
        if self._read1 is None:
            if self._eof:
                return ""
            line = self._stream.readline()
            if not line:
                self._eof = True
            return line
        got = next(self.lines, None)
        if got is None:
            if not self._block():
                return ""
            got = next(self.lines)
        return got if self._last_open else got + "\n"

    def read_record(self, rs: str = "\n") -> str | None:
        """The next record without its terminator, or None at end of input."""
        if rs == "\n" and self._pos >= len(self._buf):
            # fast path: the common case is exactly one line per record
            rec = next(self.lines, None)
            if rec is not None:
                return rec
            line = self._readline()
            if not line:
                return None
            return line[:-1] if line.endswith("\n") else line
        self.only_lines = False
        if rs == "":
            return self._paragraph()
        if len(rs) == 1:
            return self._by_char(rs)
        return self._by_regex(compile_ere(rs))

    def _refill(self, lines: list[str]) -> None:
        self._buf = "".join(lines)
        self._pos = 0

    def _take(self, end: int, resume: int) -> str:
        record = self._buf[self._pos : end]
        self._pos = resume
        return record

    def _rest(self) -> str | None:
        """The unterminated final record, or None if nothing is left."""
        if self._pos >= len(self._buf):
            return None
        return self._take(len(self._buf), len(self._buf))

    def _by_char(self, sep: str) -> str | None:
        idx = self._buf.find(sep, self._pos)
        if idx < 0:
            lines = [self._buf[self._pos :]]
            while line := self._readline():
                lines.append(line)
                if sep in line:
                    break
            self._refill(lines)
            idx = self._buf.find(sep)
            if idx < 0:
                return self._rest()
        return self._take(idx, idx + 1)

    def _paragraph(self) -> str | None:
        # leading newlines never start a record
        while True:
            while self._pos < len(self._buf) and self._buf[self._pos] == "\n":
                self._pos += 1
            if self._pos < len(self._buf):
                break
            line = self._readline()
            if not line:
                return None
            self._refill([line])
        idx = self._buf.find("\n\n", self._pos)
        if idx < 0:
            # lines come whole from readline, so a blank line is one starting with "\n"
            lines = [self._buf[self._pos :]]
            while line := self._readline():
                lines.append(line)
                if line.startswith("\n"):
                    break
            self._refill(lines)
            idx = self._buf.find("\n\n")
            if idx < 0:
                record = self._rest()
                return None if record is None else record.rstrip("\n") or None
        return self._take(idx, idx + 2)

    def _by_regex(self, regex: AwkRegex) -> str | None:
        while True:
            span = self._nonempty_match(regex)
            # a match touching the end of the buffer might grow with more input
            if span is not None and span[1] < len(self._buf):
                return self._take(span[0], span[1])
            line = self._readline()
            if not line:
                if span is not None:
                    return self._take(span[0], span[1])
                return self._rest()
            self._refill([self._buf[self._pos :], line])

    def _nonempty_match(self, regex: AwkRegex) -> tuple[int, int] | None:
        pos = self._pos
        while pos <= len(self._buf):
            span = regex.search(self._buf, pos)
            if span is None or span[0] != span[1]:
                return span
            pos = span[0] + 1
        return None
