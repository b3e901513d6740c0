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

import re
from typing import Final, Protocol

from fusevm.lang.awk.regex import AwkRegex, compile_ere, split_on_regex

_DEFAULT_FIELD: Final = re.compile(r"[^ \t\n]+")
# ASCII whitespace that str.split() would split on but awk's default FS does not.
_OTHER_SPACE: Final = re.compile(r"[\r\f\v\x1c-\x1f]")


def split_record(text: str, fs: str, *, paragraph: bool = False) -> list[str]:
    """Split a record (or split()'s string) into fields by the FS value `fs`."""
    if not text:
        return []
    if fs == " ":
        if text.isascii() and _OTHER_SPACE.search(text) is None:
            return text.split()  # same answer, several times faster
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

    Reading by lines keeps interactive input (a terminal, a coprocess pipe) responsive:
    the reader never waits for more than the line that completes a record.
    """

    def readline(self) -> str: ...


class RecordReader:
    """Reads awk records from a text stream, by whatever RS is current at each call.

    Unconsumed input lives in `_buf[_pos:]`. Lines read while looking for a separator are
    collected in a list and joined once, so a long record costs linear time.
    """

    def __init__(self, stream: TextSource) -> None:
        self._stream = stream
        self._buf = ""
        self._pos = 0
        self._eof = False

    def _readline(self) -> str:
        """The next line of input, or "" at end of input (and from then on)."""
        if self._eof:
            return ""
        line = self._stream.readline()
        if not line:
            self._eof = True
        return line

    def _refill(self, lines: list[str]) -> None:
        self._buf = "".join(lines)
        self._pos = 0

    def read_record(self, rs: str = "\n") -> str | None:
        """The next record without its terminator, or None at end of input."""
        if rs == "\n" and self._pos >= len(self._buf):
            # fast path: the common case is exactly one line per record
            line = self._readline()
            if not line:
                return None
            return line[:-1] if line.endswith("\n") else line
        if rs == "":
            return self._paragraph()
        if len(rs) == 1:
            return self._by_char(rs)
        return self._by_regex(compile_ere(rs))

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
