"""Per-run awk state: the record and its fields, special variables, arrays and errors.

One `AwkState` lives in `vm.host_data["awk"]` while compiled awk code runs; the extension
op handlers (`ops`) read and change it. Input and output streams live in `streams`.

Fields are split lazily: reading `$0` or setting FS never splits; the first `$n` or NF
does. Setting FS first splits the current record with the old FS, because POSIX says the
new FS applies from the next record on. Assigning a field or NF marks `$0` stale; it is
rebuilt with OFS on the next read of `$0`.

The record loop's next record is the next of `lines` while nothing else needs doing
between two records (`Streams.next_record` sets it; see `AwkState.lines`): anything that
leaves state a plain next record would not reset (an assigned field, NF, NR or FNR, a
special variable, a new `$0`) sets it to `NO_LINES`, so the next record goes the long
way, which resets everything. A program that may change `$0` or a field on any record
has its loop reset those on every record instead (`keeps_lines`).
"""

from __future__ import annotations

import os

from fusevm.errors import VMError
from fusevm.lang.awk.format import DEFAULT_CONVFMT, num_to_str
from fusevm.lang.awk.runtime import (
    NUMBER_START,
    UNINIT,
    StrNum,
    make_strnum,
    split_record,
    to_num,
    to_str,
)
from fusevm.limits import DEFAULT_MAX_SIZE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final
else:
    Any = object  # run-time stand-in: only the type checker reads it


#: An iterator that is always exhausted: `AwkState.lines` when the next record must be
#: read the long way.
NO_LINES: Final = iter(())


class AwkArray(dict[str, Any]):
    """An awk associative array. A dict subclass on purpose: the VM copies values whose
    type is exactly list or dict when they are read (D8), so this type travels as a
    handle, which is what awk's by-reference array parameters need."""

    __slots__ = ()


class AwkFatal(VMError):
    """A runtime error awk reports as fatal (exit status 2)."""


# Special scalar variables, by the index the Awk{Get,Set}Special ops carry.
SPECIALS: Final = ("NR", "FNR", "NF", "FS", "OFS", "ORS", "RS", "SUBSEP", "CONVFMT", "OFMT",
                   "FILENAME", "RSTART", "RLENGTH", "ARGC")
SPECIAL_INDEX: Final = {name: i for i, name in enumerate(SPECIALS)}
(NR, FNR, NF, FS, OFS, ORS, RS, SUBSEP, CONVFMT, OFMT, FILENAME, RSTART, RLENGTH,
 ARGC) = range(len(SPECIALS))
#: Specials whose string value the runtime caches (index -> attribute).
_STRING_SPECIALS: Final = {FS: "fs", OFS: "ofs", ORS: "ors", RS: "rs", SUBSEP: "subsep",
                           CONVFMT: "convfmt", OFMT: "ofmt"}


def key_of(value: Any, convfmt: str) -> str:
    """The array subscript string for a value (integers print as integers)."""
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if t is StrNum:
        return value.text  # type: ignore[no-any-return]
    if t is float and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return to_str(value, convfmt)


#: Most fields a record may be given (`NF = n`, `$n = x`): what the VM lets one container
#: hold (`fusevm.limits.DEFAULT_MAX_SIZE`); more would fill the memory before failing.
MAX_FIELDS: Final = DEFAULT_MAX_SIZE


class AwkState:
    """Everything a running awk program reads and writes outside its own variables."""

    # More attributes than an instance dict shares keys for: slots keep every access
    # (the record loop's among them) a fixed-offset load
    __slots__ = ("record", "record_val", "fields", "literal", "limit", "record_stale",
                 "plain", "sep", "clean", "lines", "block_plain", "block_clean",
                 "keeps_lines", "nr_val", "fnr_val", "nf_val", "fs", "ofs", "ors", "rs",
                 "subsep", "convfmt", "ofmt", "values", "nr", "fnr", "argv", "environ",
                 "exit_code", "exiting", "in_end", "end_ip", "loop_ip", "pending")

    def __init__(self) -> None:
        # record and fields
        self.record = ""
        # $0 as an awk value (strnum), or None when stale; before any input it is the empty
        # string, which compares as a string (`$0 == 0` is false in BEGIN in every awk)
        self.record_val: Any = ""
        self.fields: list[Any] | None = []  # $1..$NF (NF is its length); None until split
        self.literal: set[int] = set()  # field indices holding assigned plain strings
        #: The most splits of a record (-1: no limit): a program that reads no field past
        #: $k, nor NF, and assigns none (`compiler.field_limit`) has its records split
        #: into k + 1 pieces at most, the last holding the rest of the record
        self.limit = -1
        self.record_stale = False  # fields changed: $0 needs rebuilding
        #: `record.split(sep, limit)` is the field split of a non-empty $0: FS is one
        #: character other than " " (outside paragraph mode), or FS is " " and $0 holds
        #: no blank but space, tab and newline (the record reader's `plain`); set per
        #: block of input, and cleared by anything that changes $0, a field or FS
        self.plain = False
        self.sep: str | None = None  # (for a `plain` split: None for FS " ")
        #: Every string in the field list is a piece of a block of input that is ASCII
        #: without an underscore (the record reader's `clean`): float() of one reads it
        #: as awk does when the result is finite. Cleared like `plain`.
        self.clean = False
        #: The main input's remaining lines of its current block while each is simply
        #: the next record (RS is a newline) and the record before it left nothing to
        #: reset but $0, its value and its fields (and NR and FNR to count); NO_LINES
        #: otherwise. The record loop takes the next record from here (a loop filtered
        #: by a regex, `ops_io._filtered_records`, from its scan of the same lines).
        self.lines: Any = NO_LINES
        #: `plain` and `clean` of the block `lines` comes from
        self.block_plain = self.block_clean = False
        #: The record loop resets a new $0's flags and the fields' on every record (the
        #: program may change them on any): changing them leaves `lines` alone
        self.keeps_lines = False
        # NR, FNR, NF keep a value assigned to them as-is (`NF = "x"; print NF`) until
        # awk itself changes them; None means "the number".
        self.nr_val: Any = None
        self.fnr_val: Any = None
        self.nf_val: Any = None
        # cached strings of the specials
        self.fs = " "
        self.ofs = " "
        self.ors = "\n"
        self.rs = "\n"
        self.subsep = "\x1c"
        self.convfmt = DEFAULT_CONVFMT
        self.ofmt = DEFAULT_CONVFMT
        self.values: list[Any] = [UNINIT] * len(SPECIALS)
        for idx, attr in _STRING_SPECIALS.items():
            self.values[idx] = getattr(self, attr)
        self.nr = 0
        self.fnr = 0
        self.values[ARGC] = 0.0
        self.values[RSTART] = 0.0
        self.values[RLENGTH] = 0.0
        self.argv = AwkArray()
        self.environ = AwkArray({k: make_strnum(v) for k, v in _environ().items()})
        # control
        self.exit_code = 0
        self.exiting = False
        self.in_end = False
        self.end_ip = -1
        self.loop_ip = -1
        #: -v and -F assignments, applied by AwkInit once the globals exist.
        self.pending: list[tuple[str, Any]] = []

    # -- $0 and fields -----------------------------------------------------------

    def set_record(self, text: str) -> None:
        """A new $0 (from input or assignment): fields are re-split lazily."""
        self.record = text
        self.record_val = None
        self.fields = None
        self.record_stale = False
        self.plain = self.clean = False
        self.nf_val = None
        if not self.keeps_lines:
            self.lines = NO_LINES

    def new_record(self, text: str, plain: bool, clean: bool) -> None:
        """A new input record read by the record loop: $0, its value and fields, the
        values assigned to NR, FNR and NF and the fields' literal marks reset. `plain` and
        `clean` are those of the block it comes from (`RecordReader`), kept for the
        block's next lines; `plain` then says whether its records split by
        `str.split(self.sep)`, with `sep` set for the current FS. `lines` is the caller's
        to set."""
        self.nr_val = self.fnr_val = self.nf_val = None
        self.record = text
        self.record_val = None
        self.fields = None
        self.record_stale = False
        if self.literal:
            self.literal = set()
        fs = self.fs
        if fs == " ":
            self.sep = None
        elif len(fs) == 1 and self.rs != "":
            self.sep = fs
            plain = True
        else:
            plain = False
        self.plain = self.block_plain = plain
        self.clean = self.block_clean = clean

    def split(self) -> list[Any]:
        """The field list, splitting $0 now if it has not been split."""
        fields = self.fields
        if fields is None:
            text = self.record
            fs = self.fs
            if fs == " " and (self.plain or text.isprintable()):
                fields = text.split(None, self.limit)  # the default FS, printable text
            elif len(fs) == 1 and fs != " " and self.rs != "":
                # one character, outside paragraphs
                fields = text.split(fs, self.limit) if text else []
            else:
                fields = split_record(text, self.fs, paragraph=self.rs == "")
            self.fields = fields
            if self.literal:
                self.literal = set()
        return fields

    def get_record(self) -> Any:
        """$0 as an awk value."""
        if self.record_stale:
            self._rebuild()
        v = self.record_val
        if v is None:
            v = self.record_val = make_strnum(self.record)
        return v

    def record_text(self) -> str:
        """$0 as text."""
        if self.record_stale:
            self._rebuild()
        return self.record

    def _rebuild(self) -> None:
        convfmt = self.convfmt
        fields = self.fields or []
        self.record = self.ofs.join(
            f if type(f) is str else to_str(f, convfmt) for f in fields)
        # a rebuilt $0 is a string, not input: it never compares as a number (gawk and
        # onetrue-awk agree; mawk alone reads it as a strnum)
        self.record_val = self.record
        self.record_stale = False

    def get_field(self, index: int) -> Any:
        """$index for index >= 0 (the caller checked the sign)."""
        if index == 0:
            return self.get_record()
        fields = self.fields if self.fields is not None else self.split()
        if index > len(fields):
            return ""
        v = fields[index - 1]
        # only text that can start a number needs the strnum test (words are returned as
        # they are); a StrNum found is kept in the list, so the test runs once per field
        if type(v) is str and v and v[0] in NUMBER_START and index not in self.literal:
            v = make_strnum(v)
            if type(v) is StrNum:
                fields[index - 1] = v
        return v

    def set_field(self, index: int, value: Any) -> None:
        """$index = value; $0 is rebuilt when next read (or re-split for $0)."""
        if index == 0:
            text = value if type(value) is str else to_str(value, self.convfmt)
            self.set_record(text)
            # a string stays a string, a number a number, and the uninitialised value
            # keeps comparing as both (`$0 = x; $0 == 0` is true in every awk)
            self.record_val = value
            return
        if index > MAX_FIELDS:
            raise AwkFatal(f"trying to access out of range field {index}: more fields than "
                           f"a record may hold ({MAX_FIELDS:,})")
        fields = self.split()
        self.plain = self.clean = False  # (an assigned string is not clean input)
        if not self.keeps_lines:
            self.lines = NO_LINES
        if index > len(fields):
            fields.extend([""] * (index - len(fields)))
            self.nf_val = None
        if type(value) is str:
            self.literal.add(index)
        elif index in self.literal:
            self.literal.discard(index)
        fields[index - 1] = value  # UNINIT stays uninitialised, as in every awk
        self.record_stale = True

    def get_nf(self) -> Any:
        fields = self.fields if self.fields is not None else self.split()
        if self.nf_val is not None:
            return self.nf_val
        return float(len(fields))

    def set_nf(self, value: Any) -> None:
        x = to_num(value)
        if not x >= 0:  # (NaN too)
            raise AwkFatal(f"NF set to negative value {x:g}")
        if x > MAX_FIELDS:
            raise AwkFatal(f"NF set to {x:g}: more fields than a record may hold "
                           f"({MAX_FIELDS:,})")
        n = int(x)
        fields = self.split()
        self.lines = NO_LINES
        if n > len(fields):
            fields.extend([""] * (n - len(fields)))
        else:
            del fields[n:]
            self.literal = {i for i in self.literal if i <= n}
        self.record_stale = True
        self.nf_val = None if type(value) is float else value

    # -- special variables -------------------------------------------------------

    def get_special(self, k: int) -> Any:
        if k == NR:
            return float(self.nr) if self.nr_val is None else self.nr_val
        if k == FNR:
            return float(self.fnr) if self.fnr_val is None else self.fnr_val
        if k == NF:
            return self.get_nf()
        return self.values[k]

    def set_special(self, k: int, value: Any) -> None:
        self.lines = NO_LINES  # (FS or RS may have changed, or NR)
        if k == NR:
            self.nr = int(to_num(value))
            self.nr_val = None if type(value) is float else value
            return
        if k == FNR:
            self.fnr = int(to_num(value))
            self.fnr_val = None if type(value) is float else value
            return
        if k == NF:
            self.set_nf(value)
            return
        if k == FS and self.fields is None:
            self.split()  # the current record keeps the old FS
        if (k == OFS or k == CONVFMT) and self.record_stale:
            self._rebuild()  # $0 was changed under the old OFS
        self.values[k] = value
        attr = _STRING_SPECIALS.get(k)
        if attr is not None:
            text = to_str(value, self.convfmt)
            if k == CONVFMT or k == OFMT:
                text = to_str(value, DEFAULT_CONVFMT)
            setattr(self, attr, text)

    def set_match(self, start: int, length: int) -> None:
        self.values[RSTART] = float(start)
        self.values[RLENGTH] = float(length)

    # -- helpers ------------------------------------------------------------------

    def str_of(self, v: Any) -> str:
        """The string value of v (CONVFMT for numbers)."""
        t = type(v)
        if t is str:
            return v  # type: ignore[no-any-return]
        if t is StrNum:
            return v.text  # type: ignore[no-any-return]
        if t is float:
            return num_to_str(v, self.convfmt)
        return to_str(v, self.convfmt)

    def out_str(self, v: Any) -> str:
        """The text print writes for v (OFMT for numbers)."""
        t = type(v)
        if t is str:
            return v  # type: ignore[no-any-return]
        if t is StrNum:
            return v.text  # type: ignore[no-any-return]
        if t is float:
            return num_to_str(v, self.ofmt)
        return to_str(v, self.ofmt)


def _environ() -> dict[str, str]:
    """The environment as latin-1 text (bytes kept exactly)."""
    env = getattr(os, "environb", None)
    if env is None:  # pragma: no cover - non-POSIX
        return dict(os.environ)
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in env.items()}
