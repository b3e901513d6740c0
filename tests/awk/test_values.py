"""The awk value model: string-to-number, the strnum rule, truth, comparison, conversion."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusevm.lang.awk.format import num_to_str, to_output_str, to_str
from fusevm.lang.awk.runtime import array_key, compare, relop
from fusevm.lang.awk.values import (
    UNINIT,
    StrNum,
    awk_int,
    is_numeric,
    looks_numeric,
    make_strnum,
    str_to_num,
    to_bool,
    to_num,
)

from .support import awk_string, gawk_strings, needs_gawk

# -- string to number -----------------------------------------------------------------

STR_TO_NUM = [
    ("", 0.0), ("12", 12.0), (" 12abc", 12.0), ("\t\n\f\v\r 7", 7.0), (".5e3x", 500.0),
    ("1e", 1.0), ("1e+", 1.0), ("1.e3", 1000.0), (".e3", 0.0), ("+-3", 0.0), ("-3.5", -3.5),
    ("+.5", 0.5), ("5.", 5.0), ("0x1A", 0.0), ("011", 11.0), ("abc", 0.0), ("- 5", 0.0),
    ("1e500", math.inf), ("-1e500", -math.inf), ("1e-500", 0.0), ("  +inf  ", math.inf),
    ("-INF", -math.inf), ("inf", 0.0), ("infinity", 0.0), ("+infinity", 0.0), ("+inform", 0.0),
]  # fmt: skip


@pytest.mark.parametrize(("text", "value"), STR_TO_NUM)
def test_str_to_num(text: str, value: float) -> None:
    assert str_to_num(text) == value


@pytest.mark.parametrize("text", ["+nan", "-nan", " +NaN "])
def test_signed_nan_strings_are_nan(text: str) -> None:
    value = str_to_num(text)
    assert math.isnan(value)
    assert math.copysign(1.0, value) == (-1.0 if "-" in text else 1.0)


def test_unsigned_nan_is_zero() -> None:
    assert str_to_num("nan") == 0.0


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_repr_of_a_float_reads_back(value: float) -> None:
    assert str_to_num(repr(value)) == value


# -- the strnum rule ----------------------------------------------------------------------

NUMERIC = [" 12 ", "1e3", ".5", "5.", "+5", "-5", "+.5", "1e+3", " +1.5e3 ", "011", "1\t",
           "\t1", "+inf", "-INF", "+nan", "-nan", "\f8", "0"]  # fmt: skip
NOT_NUMERIC = ["", " ", "1e", ".", "1 2", "1e+", "1,5", "0x1A", "0x", "1d", "- 5", "++5",
               "inf", "nan", "infinity", "+infinity", "abc"]  # fmt: skip


@pytest.mark.parametrize("text", NUMERIC)
def test_numeric_strings(text: str) -> None:
    assert looks_numeric(text)
    wrapped = make_strnum(text)
    assert isinstance(wrapped, StrNum) and wrapped.text == text


@pytest.mark.parametrize("text", NOT_NUMERIC)
def test_non_numeric_strings(text: str) -> None:
    assert not looks_numeric(text)
    assert make_strnum(text) == text


_ODD_TEXT = st.text(alphabet="0123456789.eE+- \t\n\r\f\v_xainfINF\x1c\xa0\x85", max_size=8)


@given(_ODD_TEXT)
def test_fast_conversion_agrees_with_the_rules(text: str) -> None:
    """str_to_num and make_strnum try float() first; its extras (underscores, inf and nan
    words, non-C blanks) must never leak: the strnum rule is `looks_numeric`'s regexes."""
    wrapped = make_strnum(text)
    assert isinstance(wrapped, StrNum) == looks_numeric(text)
    value = str_to_num(text)
    if isinstance(wrapped, StrNum):
        assert wrapped.text == text
        assert wrapped.num == value or (math.isnan(wrapped.num) and math.isnan(value))
    if "_" in text or "\x1c" in text or "\xa0" in text or "\x85" in text:
        assert not isinstance(wrapped, StrNum)  # float() would take these


@pytest.mark.process
@needs_gawk
def test_strnum_rule_matches_gawk() -> None:
    # split() elements are input-derived; `x == x+0` is numeric only for a strnum.
    texts = [t for t in NUMERIC + NOT_NUMERIC if "nan" not in t.lower()]
    texts = [t for t in texts if t.lower().strip() not in ("0x1a", "inf", "infinity", "+infinity")]
    exprs = [f"(split({awk_string(t)}, a, SUBSEP) ? a[1] == a[1] + 0 : 0)" for t in texts]
    got = gawk_strings(exprs)
    mine = [str(int(looks_numeric(t))) for t in texts]
    assert dict(zip(texts, got)) == dict(zip(texts, mine))


# -- truth and kinds ----------------------------------------------------------------------


def test_truth() -> None:
    assert not to_bool(0.0) and to_bool(-1.0) and to_bool(math.nan)
    assert not to_bool("") and to_bool("0") and to_bool(" ")
    assert not to_bool(make_strnum(" 0 ")) and to_bool(make_strnum("0.1"))
    assert not to_bool(UNINIT)
    assert to_bool(1) and not to_bool(0)


def test_uninit_is_empty_and_zero() -> None:
    assert to_str(UNINIT) == "" and to_num(UNINIT) == 0.0
    assert is_numeric(UNINIT) and not is_numeric("")


def test_int_truncates_toward_zero() -> None:
    assert awk_int(3.9) == 3.0 and awk_int(-3.9) == -3.0
    assert awk_int(math.inf) == math.inf and math.isnan(awk_int(math.nan))


# -- comparison -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "result"),
    [
        (2.0, 10.0, -1),  # numbers numerically
        ("2", "10", 1),  # strings by code point
        (make_strnum("2"), make_strnum("10"), -1),  # numeric strings numerically
        (make_strnum(" 1e1 "), 10.0, 0),
        (make_strnum("abc"), 1.0, 1),  # "abc" vs "1" as strings
        ("10", 9.0, -1),  # a constant string makes it a string comparison
        (UNINIT, 0.0, 0),
        (UNINIT, "", 0),
        (UNINIT, "a", -1),
        (UNINIT, make_strnum("-1"), 1),
        (0.1, "0.1", 0),  # the number converts through CONVFMT
        ("B", "a", -1),
        ("é", "z", 1),
    ],
)
def test_compare(a: object, b: object, result: int) -> None:
    assert compare(a, b) == result  # type: ignore[arg-type]
    assert compare(b, a) == -result  # type: ignore[arg-type]


def test_compare_uses_convfmt_for_number_to_string() -> None:
    assert compare(3.14159, "3.14", "%.2f") == 0
    assert compare(3.14159, "3.14") == 1


def test_relop_follows_ieee_for_nan() -> None:
    nan = math.nan
    assert [relop(op, nan, nan) for op in ("<", "<=", "==", "!=", ">", ">=")] == [
        False, False, False, True, False, False,
    ]  # fmt: skip
    assert relop("<", "abc", "abd") and relop(">=", make_strnum("10"), make_strnum("9"))
    with pytest.raises(ValueError):
        relop("=", 1.0, 2.0)


@pytest.mark.process
@needs_gawk
def test_comparisons_match_gawk() -> None:
    inputs = ["10", "9", " 10 ", "abc", "", "1e1", "+5", "010", "a10", "0.10"]
    exprs: list[str] = []
    mine: list[str] = []
    for x in inputs:
        for y in inputs:
            # split() makes strnums; the literal makes a string constant
            exprs.append(
                f"(split({awk_string(x)} SUBSEP {awk_string(y)}, v, SUBSEP) && 0) "
                f"(v[1] < v[2]) (v[1] == v[2]) (v[1] < {awk_string(y)})"
            )
            a, b = make_strnum(x), make_strnum(y)
            mine.append(f"0{int(relop('<', a, b))}{int(relop('==', a, b))}{int(relop('<', a, y))}")
    assert gawk_strings(exprs) == mine


# -- number to string -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e6, "1000000"), (0.1, "0.1"), (1 / 3, "0.333333"), (123456.789, "123457"),
        (1234567.89, "1.23457e+06"), (-0.0, "0"), (2.0**53, "9007199254740992"),
        (1e30, "1000000000000000019884624838656"), (-2.5, "-2.5"), (1e-5, "1e-05"),
        (math.inf, "+inf"), (-math.inf, "-inf"), (math.nan, "+nan"), (-math.nan, "-nan"),
    ],
)  # fmt: skip
def test_num_to_str_default(value: float, text: str) -> None:
    assert num_to_str(value) == text


def test_num_to_str_uses_the_format_only_for_non_integers() -> None:
    assert num_to_str(3.14159, "%.2f") == "3.14"
    assert num_to_str(42.0, "%.2f") == "42"
    assert num_to_str(2.5, "[%g]") == "[2.5]"
    assert num_to_str(2.5, "%d") == "2"


def test_to_str_and_output() -> None:
    assert to_str(make_strnum(" 1.50 ")) == " 1.50 "
    assert to_str(7) == "7"
    assert to_output_str(3.14159, "%.3g") == "3.14"
    assert to_str(3.14159, "%.3g") == "3.14"


def test_array_keys() -> None:
    assert array_key([1.0, "x", 0.5], "\x1c") == "1\x1cx\x1c0.5"
    assert array_key([1e6], "\x1c") == "1000000"
    assert array_key([0.123456789], ";", "%.2g") == "0.12"


NUMBERS = ["0.1", "1/3", "1e6", "1e30", "-0", "123456.789", "1e-5", "17/7*1e10", "100000",
           "1e300", "-1e-300", "2^63", "-2^63", "2^64", "3.0000001", "-2.5", "1e16+0.5",
           "-log(0)", "log(0)", "log(-1)", "-log(-1)"]  # fmt: skip
FORMATS = ["%.6g", "%.2f", "%d", "%.3e", "%.10g", "[%g]"]


@pytest.mark.process
@needs_gawk
def test_number_conversion_matches_gawk() -> None:
    exprs = [f'(CONVFMT = {awk_string(f)}) ? ({n}) "" : 0' for f in FORMATS for n in NUMBERS]
    # evaluate the same expressions' numbers in gawk too, so the inputs are identical
    values = gawk_strings([f'sprintf("%.17g", {n})' for n in NUMBERS])
    parsed = [_c_float(v) for v in values]
    mine = [num_to_str(v, f) for f in FORMATS for v in parsed]
    assert gawk_strings(exprs) == mine


def _c_float(text: str) -> float:
    return float(text.replace("+nan", "nan").replace("-nan", "-nan"))
