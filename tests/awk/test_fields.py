"""Field splitting by FS and record reading by RS."""

from __future__ import annotations

import io

import pytest

from fusevm.lang.awk.fields import RecordReader, split_record
from fusevm.lang.awk.runtime import split

from .support import awk_string, gawk_strings, needs_gawk, run_gawk

# -- field splitting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fs", "fields"),
    [
        ("  a b\t\tc\n d  ", " ", ["a", "b", "c", "d"]),
        ("a\fb", " ", ["a\fb"]),  # only blank, tab and newline separate by default
        ("a|b|c", "|", ["a", "b", "c"]),  # a metacharacter alone is literal
        ("a.b.c", ".", ["a", "b", "c"]),
        ("a\\b", "\\", ["a", "b"]),
        ("a^b", "^", ["a", "b"]),
        (":a::b:", ":", ["", "a", "", "b", ""]),
        ("a\tb", "\t", ["a", "b"]),
        ("atbtc", "t", ["a", "b", "c"]),
        ("abc", "", ["a", "b", "c"]),
        ("a  b", "[ ]", ["a", "", "b"]),
        ("a:b::c", ":+", ["a", "b", "c"]),
        (":a", ":+", ["", "a"]),
        ("a|b", "\\|", ["a", "b"]),
        ("", " ", []),
        ("", ",", []),
        ("   ", " ", []),
        ("   ", ",", ["   "]),
    ],
)
def test_split_record(text: str, fs: str, fields: list[str]) -> None:
    assert split_record(text, fs) == fields


def test_paragraph_mode_adds_newline_to_single_character_fs() -> None:
    assert split_record("a:b\nc:d", ":", paragraph=True) == ["a", "b", "c", "d"]
    assert split_record("a b\nc", " ", paragraph=True) == ["a", "b", "c"]
    # a regex or empty FS is left alone, as gawk, onetrue-awk and mawk all do
    assert split_record("1b2\n3", "[0-9]", paragraph=True) == ["", "b", "\n", ""]
    assert split_record("a\nb", "", paragraph=True) == ["a", "\n", "b"]


def test_split_builtin_dispatch() -> None:
    from fusevm.lang.awk.regex import compile_ere

    assert split("a.b", ".") == ["a", "b"]
    assert split("a.b", compile_ere(".")) == ["", "", "", ""]
    assert split("a:b c", None, ":") == ["a", "b c"]
    assert split(" a b ", None) == ["a", "b"]


SEPS = [" ", ",", "|", ".", "\t", "", "[ ]", ":+", ", *", "ab", "\\|", "x*", "\n",
        "[[:space:]]+", "a"]  # fmt: skip
TEXTS = ["", " ", "a b", "  a  b  ", "a,b,,c", "a|b|c", "a.b", "\ta\t\tb\t", "a\nb c\n", "abab",
         "a:b::c:", ", a, b ,c", "xaxbx", "aXbxc", "a b\tc\nd", " lead", "trail "]  # fmt: skip


@pytest.mark.process
@needs_gawk
def test_split_matches_gawk() -> None:
    exprs: list[str] = []
    mine: list[str] = []
    for fs in SEPS:
        for text in TEXTS:
            exprs.append(
                f"(n = split({awk_string(text)}, arr, {awk_string(fs)})) "
                '(n > 0 ? "[" arr[1] "]" : "") (n > 1 ? "[" arr[2] "]" : "") '
                '(n > 2 ? "[" arr[n] "]" : "")'
            )
            fields = split_record(text, fs)
            shown = fields[:2] + fields[-1:] if len(fields) > 2 else fields
            mine.append(f"{len(fields)}" + "".join(f"[{f}]" for f in shown))
    assert gawk_strings(exprs) == mine


# -- record reading -------------------------------------------------------------------------


def records(text: str, rs: str) -> list[str]:
    reader = RecordReader(io.StringIO(text))
    out = []
    while (record := reader.read_record(rs)) is not None:
        out.append(record)
    return out


@pytest.mark.parametrize(
    ("text", "rs", "expected"),
    [
        ("a\nb\n", "\n", ["a", "b"]),
        ("a\nb", "\n", ["a", "b"]),
        ("a\n\nb\n", "\n", ["a", "", "b"]),
        ("", "\n", []),
        ("\n", "\n", [""]),
        ("x;y;;z;", ";", ["x", "y", "", "z"]),
        ("x;y", ";", ["x", "y"]),
        ("a|b", "|", ["a", "b"]),
        ("l1\nl2;l3", ";", ["l1\nl2", "l3"]),
        ("\n\na b\nc\n\n\n\nd\n\n", "", ["a b\nc", "d"]),
        ("one\n\ntwo", "", ["one", "two"]),
        ("\n\n\n", "", []),
        ("a\n\n", "", ["a"]),
        ("aXXbXc", "X+", ["a", "b", "c"]),
        ("aXbXXX", "X+", ["a", "b"]),
        ("p1\n\n\np2\n", "\n\n+", ["p1", "p2\n"]),
    ],
)
def test_read_records(text: str, rs: str, expected: list[str]) -> None:
    assert records(text, rs) == expected


def test_rs_may_change_between_records() -> None:
    reader = RecordReader(io.StringIO("a;b\nc\n\nd e\n\nf"))
    assert reader.read_record(";") == "a"
    assert reader.read_record("\n") == "b"
    assert reader.read_record("") == "c"
    assert reader.read_record("") == "d e"
    assert reader.read_record("\n") == "f"
    assert reader.read_record("\n") is None
    assert reader.read_record(";") is None


class _Lines:
    """A stream that hands out one line per readline and counts the calls."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.calls = 0

    def readline(self) -> str:
        self.calls += 1
        return self.lines.pop(0) if self.lines else ""


def test_reader_reads_no_further_than_the_record_needs() -> None:
    stream = _Lines(["a;b\n", "c;\n", "never\n"])
    reader = RecordReader(stream)
    assert reader.read_record(";") == "a"
    assert reader.read_record(";") == "b\nc"
    assert stream.calls == 2


def test_regex_rs_reads_on_when_a_match_touches_the_buffer_end() -> None:
    stream = _Lines(["aX", "Xb"])
    reader = RecordReader(stream)
    assert reader.read_record("X+") == "a"
    assert reader.read_record("X+") == "b"


def test_long_record_is_linear() -> None:
    text = "x\n" * 200_000
    assert records(text, ";") == [text]


INPUTS = ["a\nb\n", "a\nb", "\n\na b\nc\n\n\n\nd\n\n", "x;y;;z;", "x;y", "p1\n\n\np2 line\np2b\n",
          "aXXbXc", "", "\n", "\n\n\n", "one\n\ntwo", "aXbXXX", "a\n\n"]  # fmt: skip
RSS = ["\n", "", ";", "X+", "X", "\n\n+"]


@pytest.mark.process
@needs_gawk
def test_records_and_fields_match_gawk() -> None:
    program = """BEGIN { RS = %s }
    { printf "<%%s>", $0; for (i = 1; i <= NF; i++) printf "(%%s)", $i }"""
    for rs in RSS:
        for text in INPUTS:
            # regex RS is an extension that gawk --posix turns off
            want = run_gawk(program % awk_string(rs), text, posix=len(rs) < 2)
            got = "".join(
                f"<{r}>" + "".join(f"({f})" for f in split_record(r, " ", paragraph=rs == ""))
                for r in records(text, rs)
            )
            assert got == want, (rs, text)
