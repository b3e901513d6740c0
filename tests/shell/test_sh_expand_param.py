"""Every ExpandParam modifier with set, empty and unset variables
(docs/shell.md#parameter-expansion), checked against `bash --posix` where bash has the syntax."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shellkit import needs_bash, run_bash, split_records

from fusevm.errors import HostError
from fusevm.ops.shell_codes import ParamMod as M
from fusevm.shell.expand import Expansion, _subst, expand_param
from fusevm.shell.glob import compile_pattern
from fusevm.shell.posix import PosixHost
from fusevm.values import Undef

VALUES: list[str | None] = [None, "", "hello World", "/usr/local/lib/libfoo.so.1", "aXbXcX",
                            "ßtraße", "a*b?c"]

# (modifier, operands) -> the bash spelling is built by _syntax.
OPERANDS: dict[int, list[tuple[str | int | None, ...]]] = {
    M.DEFAULT: [("d",)], M.ASSIGN: [("d",)], M.ERROR: [("msg",), ("",)],
    M.ALTERNATE: [("alt",)], M.LENGTH: [()],
    M.STRIP_SHORT: [("*/",), ("h*",), ("?",), ("x",), ("*",), ("",), ("a\\*",)],
    M.STRIP_LONG: [("*/",), ("h*",), ("*",), ("[a-z]",)],
    M.RSTRIP_SHORT: [(".*",), ("l*",), ("X",), ("*",)],
    M.RSTRIP_LONG: [(".*",), ("l*",), ("*",)],
    M.SUBST_FIRST: [("X", "-"), ("#a", "S"), ("%X", "E"), ("#", "<"), ("%", ">"),
                    ("X", "<&>"), ("X", ""), ("", "Q"), ("?", "."), ("*", "Z"), ("l*o", "_"),
                    ("[[:upper:]]", "u")],
    M.SUBST_ALL: [("X", "-"), ("X", ""), ("?", "."), ("*", "-"), ("o", "0"), ("[!a-z]", "#")],
    M.UPPER: [()], M.LOWER: [()], M.UPPER_FIRST: [()], M.LOWER_FIRST: [()],
    M.SLICE: [(2, 3), (-3, None), (2, None), (1, -2), (20, None), (-20, None), (0, 0),
              (3, -20), (0, None), (0, -2)],
    M.DEFAULT_UNSET: [("d",)], M.ASSIGN_UNSET: [("d",)], M.ERROR_UNSET: [("msg",)],
    M.ALTERNATE_UNSET: [("alt",)],
}


def _syntax(code: int, ops: tuple[str | int | None, ...]) -> str:
    if code == M.LENGTH:
        return "${#v}"
    if code == M.SLICE:
        off, length = ops
        return f"${{v: {off}}}" if length is None else f"${{v: {off}: {length}}}"
    body = {M.DEFAULT: ":-{0}", M.ASSIGN: ":={0}", M.ERROR: ":?{0}", M.ALTERNATE: ":+{0}",
            M.STRIP_SHORT: "#{0}", M.STRIP_LONG: "##{0}", M.RSTRIP_SHORT: "%{0}",
            M.RSTRIP_LONG: "%%{0}", M.SUBST_FIRST: "/{0}/{1}", M.SUBST_ALL: "//{0}/{1}",
            M.UPPER: "^^", M.LOWER: ",,", M.UPPER_FIRST: "^", M.LOWER_FIRST: ",",
            M.DEFAULT_UNSET: "-{0}", M.ASSIGN_UNSET: "={0}", M.ERROR_UNSET: "?{0}",
            M.ALTERNATE_UNSET: "+{0}"}[M(code)]
    return "${v" + body.format(*ops) + "}"


CASES = [(value, code, ops) for value in VALUES for code, opl in OPERANDS.items()
         for ops in opl]


@pytest.fixture(scope="module")
def bash_answers() -> list[tuple[str, int, str]]:
    """(output, status, value of v afterwards) for every case, from one bash run."""
    lines = []
    for i, (value, code, ops) in enumerate(CASES, start=1):
        setup = "unset v" if value is None else f'v="${{{i}}}"'
        lines.append(f"({setup}; printf '%s' \"{_syntax(code, ops)}\"; "
                     f"printf '\\x1f%s' \"$v\") 2>/dev/null; printf '\\x1f%d\\x1e' $?")
    args = ["" if value is None else value for value, _, _ in CASES]
    out = run_bash("\n".join(lines), *args).stdout
    answers = []
    for record in split_records(out):
        parts = record.split("\x1f")
        status = int(parts[-1])
        answers.append((parts[0] if len(parts) == 3 else "", status,
                        parts[1] if len(parts) == 3 else ""))
    assert len(answers) == len(CASES)
    return answers


@needs_bash
@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{v!r}-{_syntax(c, o)}" for v, c, o in CASES])
def test_modifier_matches_bash(index: int, bash_answers: list[tuple[str, int, str]]) -> None:
    value, code, ops = CASES[index]
    out, status, after = bash_answers[index]
    result = expand_param("v", code, list(ops), value=value)
    if result.error is not None:
        assert status != 0, result.error
        return
    assert status == 0
    assert str(result.value) == out
    if result.assign is not None:
        assert after == result.assign


def test_default_and_alternate_treat_empty_as_missing_only_with_colon() -> None:
    assert expand_param("u", M.DEFAULT, ["d"]) == Expansion("d")
    assert expand_param("e", M.DEFAULT, ["d"], value="") == Expansion("d")
    assert expand_param("e", M.DEFAULT_UNSET, ["d"], value="") == Expansion("")
    assert expand_param("u", M.DEFAULT_UNSET, ["d"]) == Expansion("d")
    assert expand_param("e", M.ALTERNATE_UNSET, ["w"], value="") == Expansion("w")
    assert expand_param("e", M.ALTERNATE, ["w"], value="") == Expansion("")


def test_assign_reports_the_new_value_and_refuses_specials() -> None:
    assert expand_param("x", M.ASSIGN, ["w"]) == Expansion("w", assign="w")
    assert expand_param("x", M.ASSIGN, ["w"], value="") == Expansion("w", assign="w")
    assert expand_param("x", M.ASSIGN, ["w"], value="v") == Expansion("v")
    assert expand_param("b", M.ASSIGN_UNSET, ["Y"], value="") == Expansion("")
    for special in ("1", "@", "?", "#"):
        assert expand_param(special, M.ASSIGN, ["w"]).error is not None


def test_error_messages() -> None:
    assert expand_param("x", M.ERROR, ["boom"]).error == "x: boom"
    assert expand_param("x", M.ERROR, []).error == "x: parameter null or not set"
    assert expand_param("x", M.ERROR_UNSET, []).error == "x: parameter not set"
    assert expand_param("x", M.ERROR_UNSET, ["m"], value="").error is None
    assert expand_param("x", M.ERROR, ["m"], value="ok") == Expansion("ok")


def test_length_counts_characters_and_elements() -> None:
    assert expand_param("v", M.LENGTH, [], value="héllo").value == 5
    assert expand_param("v", M.LENGTH, []).value == 0
    assert expand_param("a", M.LENGTH, [], value=["x", "y", "z"]).value == 3


def test_array_context_applies_per_element() -> None:
    arr = ["apple.c", "banana.c", "cherry.h"]
    assert expand_param("a", M.RSTRIP_SHORT, [".*"], value=arr).value == [
        "apple", "banana", "cherry"]
    assert expand_param("a", M.UPPER_FIRST, [], value=arr).value == [
        "Apple.c", "Banana.c", "Cherry.h"]
    assert expand_param("a", M.SUBST_ALL, ["a", "A"], value=arr).value == [
        "Apple.c", "bAnAnA.c", "cherry.h"]
    assert expand_param("a", M.SLICE, [1, 2], value=["x", "y", "z"]).value == ["y", "z"]
    assert expand_param("a", M.SLICE, [-2, None], value=["x", "y", "z"]).value == ["y", "z"]
    assert expand_param("a", M.SLICE, [1, -1], value=["x", "y", "z"]).error is not None
    assert expand_param("a", M.DEFAULT, ["d"], value=[]).value == "d"


def test_keys() -> None:
    assert expand_param("a", M.KEYS, [], value=["x", "y", "z"]).value == ["0", "1", "2"]
    assert expand_param("h", M.KEYS, [], value={"k1": 1, "k2": 2}).value == ["k1", "k2"]
    assert expand_param("s", M.KEYS, [], value="scalar").value == ["0"]
    assert expand_param("u", M.KEYS, []).value == []


STATES: dict[str, str | None] = {"set": "target", "empty": "", "unset": None}


@needs_bash
@pytest.mark.parametrize("state", STATES)
def test_indirect_and_keys_for_set_empty_and_unset(state: str) -> None:
    value = STATES[state]
    setup = "unset v" if value is None else f"v='{value}'"
    out = run_bash(f"target=VAL; {setup}; "
                   "(printf '%s' \"${!v}\") 2>/dev/null; printf '\\x1f%d\\x1e' $?; "
                   "printf '%s ' ${!v[@]}; printf '\\x1e'").stdout
    indirect, keys = split_records(out)
    text, status = indirect.split("\x1f")
    got = expand_param("v", M.INDIRECT, [], value=value, lookup={"target": "VAL"}.get)
    assert (got.error is not None) == (status != "0")
    if got.error is None:
        assert got.value == text
    assert expand_param("v", M.KEYS, [], value=value).value == keys.split()


def test_indirect() -> None:
    table = {"target": "VAL", "empty": ""}
    assert expand_param("ref", M.INDIRECT, [], value="target",
                        lookup=table.get).value == "VAL"
    assert expand_param("ref", M.INDIRECT, [], value="nothing", lookup=table.get).value == ""
    assert expand_param("ref", M.INDIRECT, []).error == "ref: invalid indirect expansion"
    assert expand_param("ref", M.INDIRECT, [], value="").error is not None
    with pytest.raises(HostError):
        expand_param("ref", M.INDIRECT, [], value="target")


def test_case_mapping_keeps_multi_character_results() -> None:
    assert expand_param("v", M.UPPER, [], value="straße").value == "STRAßE"
    assert expand_param("v", M.LOWER_FIRST, [], value="Hello").value == "hello"
    assert expand_param("v", M.UPPER_FIRST, [], value="").value == ""


def test_undef_and_vm_values_are_coerced() -> None:
    assert expand_param("v", M.DEFAULT, ["d"], value=Undef) == Expansion("d")
    assert expand_param("v", M.DEFAULT, [7], value=None) == Expansion("7")
    assert expand_param("v", M.LENGTH, [], value=12345).value == 5
    assert expand_param("v", M.SLICE, ["1", Undef], value="hello").value == "ello"
    assert expand_param("v", M.DEFAULT, ["d"], value="x", is_set=False).value == "d"


def test_unknown_modifier_gives_the_plain_value() -> None:
    assert expand_param("v", 200, [], value="abc") == Expansion("abc")
    assert expand_param("v", 255, []) == Expansion("")


def test_ampersand_can_be_literal() -> None:
    assert expand_param("x", M.SUBST_FIRST, ["X", "<&>"], value="aXb").value == "a<X>b"
    assert PosixHost().expand_param("x", M.SUBST_FIRST, ["X", "\\&"],
                                    value="aXb").value == "a&b"
    host = PosixHost()
    host.patsub_replacement = False
    assert host.expand_param("x", M.SUBST_FIRST, ["X", "<&>"], value="aXb").value == "a<&>b"


def _brute_force_subst(s: str, pattern: str, rep: str, every: bool) -> str:
    """Bash's own algorithm: leftmost start, then the longest end that matches."""
    rx = compile_pattern(pattern)
    out, pos = [], 0
    while pos < len(s):
        end = next((e for e in range(len(s), pos - 1, -1) if rx.fullmatch(s, pos, e)), None)
        if end is None:
            out.append(s[pos])
            pos += 1
            continue
        out.append(rep)
        if end == pos:
            out.append(s[pos])
            end += 1
        pos = end
        if not every:
            break
    return "".join(out) + s[pos:]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abc", min_size=1, max_size=10),
       st.text(alphabet="ab*?", min_size=1, max_size=5), st.booleans())
def test_greedy_match_is_the_longest_match(s: str, pattern: str, every: bool) -> None:
    """The fast path relies on greedy regex matching finding the longest match."""
    assert _subst(s, pattern, "_", every, False) == _brute_force_subst(s, pattern, "_", every)
