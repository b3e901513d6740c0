"""The loop fast paths: static `$(( ))` compiled to stack code, `[`/`test` run in place
(ShTest, ShTestCmp), `$?` branches. Each must mean exactly what the general path means:
compiled arithmetic is checked against the run-time evaluator, the rest against dash."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusevm.lang.sh import (
    arith,
    main,  # noqa: F401 - registers the ops and builtins
    runtime,
)
from fusevm.lang.sh.compiler import compile_items
from fusevm.lang.sh.errors import ShError
from fusevm.lang.sh.parser import Parser
from fusevm.lang.sh.state import ShState
from fusevm.ops.extension import lookup

ENV = {"a": "5", "b": "-3", "big": "9223372036854775807", "bad": "abc", "empty": "",
       "octal": "010", "hexa": "0x1f", "blank": " 12 ", "eight": "08"}


def _ops(script: str) -> set[str]:
    """The mnemonics of the ops a script compiles to."""
    chunk = compile_items(Parser(script, 1, {}).parse_command() or [])
    names = set()
    for instr in chunk.ops:
        if instr[0].name in ("Extended", "ExtendedWide"):
            ext = lookup(instr[1])
            assert ext is not None
            names.add(ext.name)
        else:
            names.add(instr[0].name)
    return names


def _state(nounset: bool) -> ShState:
    s = ShState()
    s.vars.update(ENV)
    s.opts["u"] = nounset
    s.readonly.add("ro")
    s.vars["ro"] = "1"
    return s


def compiled(expr: str, nounset: bool = False) -> tuple[Any, ...]:
    """`r=$((expr))` run as compiled code: (value or error, the variables after)."""
    s = _state(nounset)
    chunk = compile_items(Parser(f"r=$(({expr}))", 1, {}).parse_command() or [])
    try:
        runtime.run_chunk(s, chunk, 0)
        outcome: tuple[str, str | None] = ("ok", s.vars.pop("r", None))
    except ShError as e:
        outcome = ("error", e.message)
    return outcome, s.vars


def evaluated(expr: str, nounset: bool = False) -> tuple[Any, ...]:
    """The same expression through the run-time evaluator (`$(($e))`'s path)."""
    s = _state(nounset)

    def get(name: str) -> str | None:
        v = s.vars.get(name)
        if v is None and nounset:
            raise ShError(f"{name}: parameter not set", 2)
        return v
    try:
        outcome: tuple[str, str | None] = ("ok", str(arith.evaluate(expr, get, s.set)))
    except ShError as e:
        outcome = ("error", e.message)
    return outcome, s.vars


EXPRESSIONS = [
    "a * 2 + 1", "7 / 2", "-7 / 2", "-7 % 3", "7 % -3", "1 << 4", "1 << 64", "-8 >> 1",
    "big + 1", "-big - 2", "big * big", "(0 - big - 1) / -1", "(0 - big - 1) % -1",
    "a / 0", "a % (b + 3)", "bad + 1", "eight", "octal + hexa + blank", "empty + 1",
    "unset_var * 3", "a < b", "a <= 5", "a == 5", "a != 5", "a > b", "a >= 6",
    "a & 6", "a | 2", "a ^ 1", "!a", "!0", "~a", "-a", "+a", "- -a",
    "1 && 0", "0 || 2", "0 && (x = 1)", "1 || (y = 1)", "a && (z = 4)",
    "a ? 10 : 20", "0 ? (x = 1) : (y = 2)", "a = 0 ? 5 : 6",
    "x = a + 1", "a += 2", "a -= b", "a *= 3", "a /= 2", "a %= 3", "a <<= 2", "a >>= 1",
    "a &= 4", "a |= 8", "a ^= 1", "ro = 2", "ro += 1", "++a", "--a", "a++", "a--",
    "a++ + a", "(a = 2) * a", "bad = 3", "new += 1", "", "  ", "09", "1 +", "a b", "1 ? 2",
    "0x", "1a", "99999999999999999999",
]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_compiled_arithmetic_means_what_the_evaluator_means(expr: str) -> None:
    assert compiled(expr) == evaluated(expr)


@pytest.mark.parametrize("expr", ["unset_var + 1", "a + unset_var", "x = 1", "a++"])
def test_compiled_arithmetic_under_nounset(expr: str) -> None:
    assert compiled(expr, nounset=True) == evaluated(expr, nounset=True)


_LEAF = st.one_of(st.sampled_from([0, 1, 2, 7, 63, 64, 9223372036854775807]).map(str),
                  st.sampled_from(sorted(ENV) + ["ro", "nope"]))
_NAME = st.sampled_from(["a", "b", "x", "ro", "bad"])


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.sampled_from(sorted(arith.BINARY) + ["&&", "||"])
    assign = st.sampled_from(["=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "|=",
                              "^="])
    return st.one_of(
        st.tuples(inner, binary, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from("-+!~"), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(_NAME, assign, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["++", "--"]), _NAME, st.booleans()).map(
            lambda t: f"({t[1]}{t[0]})" if t[2] else f"({t[0]}{t[1]})"),
    )


@given(st.recursive(_LEAF, _grow, max_leaves=8))
def test_compiled_arithmetic_matches_the_evaluator_on_random_expressions(expr: str) -> None:
    assert compiled(expr) == evaluated(expr)


# $(( )) text with parameters in it (`$(($v + 1))`): compiled with each parameter's value
# as a number when it is a plain decimal one, otherwise evaluated as the expanded text.
# Checked against the text expanded by hand and evaluated at run time.
_PARAM_VALUES = ["5", "0", "12", "-3", "010", "08", " 7", "2*3", "", "a", "1 + 1", "x",
                 "9223372036854775807", None]


def by_text(expr: str, values: dict[str, str | None]) -> tuple[Any, ...]:
    import re
    text = re.sub(r"\$\{(\w+)\}|\$([A-Za-z_]\w*)",
                  lambda m: values.get(m.group(1) or m.group(2)) or "", expr)
    return evaluated(text)


def with_params(expr: str, values: dict[str, str | None]) -> tuple[Any, ...]:
    s = _state(False)
    for name, value in values.items():
        if value is None:
            s.vars.pop(name, None)
        else:
            s.vars[name] = value
    chunk = compile_items(Parser(f"r=$(({expr}))", 1, {}).parse_command() or [])
    try:
        runtime.run_chunk(s, chunk, 0)
        outcome: tuple[str, str | None] = ("ok", s.vars.pop("r", None))
    except ShError as e:
        outcome = ("error", e.message)
    for name in values:
        s.vars.pop(name, None)
    return outcome, s.vars


_P_LEAF = st.sampled_from(["$v", "${w}", "$v", "3", "a", "b", "0"])


def _p_grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.sampled_from(["+", "-", "*", "/", "%", "<", "==", "&&", "||", "<<", "&"])
    return st.one_of(
        st.tuples(inner, binary, inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(inner, binary, inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(st.sampled_from("-!~"), inner).map(lambda t: f"{t[0]}{t[1]}"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        inner.map(lambda x: f"a = {x}"), inner.map(lambda x: f"b += {x}"),
    )


@given(st.recursive(_P_LEAF, _p_grow, max_leaves=6), st.sampled_from(_PARAM_VALUES),
       st.sampled_from(_PARAM_VALUES))
def test_arithmetic_with_parameters_means_the_expanded_text(expr: str, v: str | None,
                                                            w: str | None) -> None:
    values = {"v": v, "w": w}
    assert with_params(expr, values) == by_text(expr, values)


@pytest.mark.parametrize("expr", [
    "$v + 1", "$v$w", "1$v", "$v2", "a$v", "$v++", "++$v", "$v = 2", "$v += 1", "-$v",
    "2-$v", "2--$v", "$v*-1", "x$v", "$v.5", "0x$v", "${v}0", "$v -$w", "$1 + $#", "$? + 1",
])
@pytest.mark.parametrize("v", _PARAM_VALUES)
def test_arithmetic_with_parameters_at_token_edges(expr: str, v: str | None) -> None:
    values = {"v": v, "w": "4"}
    if "$1" in expr or "$?" in expr:
        return  # positional and special parameters: by dash below
    assert with_params(expr, values) == by_text(expr, values)


def test_static_arithmetic_compiles_and_dynamic_text_does_not() -> None:
    assert "ShArithParam" in _ops("i=$(($i + 1)); echo $(( ${i} * $# ))")
    assert "ShArithParam" not in _ops("i=$(($i$j + 1))")
    assert "ShArithParam" not in _ops("i=$((${i:-1} + 1))")
    assert "ShArith" not in _ops("i=$((i + 1)); echo $((i * 2))")
    assert {"ShArithVarK", "ShArithPut"} <= _ops(": $((i += 1))")
    assert {"ShArithGet", "ShArithPut", "Add"} <= _ops(": $((i += j))")
    assert "ShArith" in _ops("e='1 + 1'; echo $(($e))")
    assert "ShArith" in _ops("echo $((1 +))")  # reported when it runs, by the general path


def test_test_commands_compile_to_their_fast_ops() -> None:
    assert "ShTestCmp" in _ops("[ $i -lt 10 ]")
    assert {"ShTestCmpJump"} == _ops("while [ $i -lt 10 ]; do :; done") & {
        "ShTestCmp", "ShTestCmpJump", "ShJumpStatus"}
    assert "ShTestCmpJump" in _ops("if test \"$a\" = x; then :; fi")
    assert "ShTestCmpJump" not in _ops("if [ $i -lt $((n)) ]; then :; fi")
    assert "ShTestCmpJump" not in _ops("while [ -n \"$x\" ]; do :; done")
    assert "ShTestCmp" in _ops('test "$a" != b')
    assert "ShTestCmp" in _ops("[ ${#} -eq 0 ]")
    assert "ShTest" in _ops("[ \"$@\" = x ]")  # "$@" may be any number of words
    assert "ShTest" in _ops("[ -n \"$x\" ]")
    assert "ShTest" in _ops("[ $i -lt 10")  # missing ]: reported when it runs
    assert "ShRun" in _ops("[ $i -lt 10 ] > f")  # redirected: the general command
    assert "ShRun" in _ops("x=1 [ $i -lt 10 ]")


CASES = [
    # [ and test in place, including what makes them take the general path
    ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo $i; done", "1\n2\n3\n", 0),
    ("a=5; b=7; [ \"$a\" -lt \"$b\" ] && echo lt; [ \"$a\" != \"$b\" ] && echo ne;"
     " [ $a = 5 ] && echo eq; test $a -ge 5 && echo ge", "lt\nne\neq\nge\n", 0),
    ("x=' 7'; [ \"$x\" -gt 5 ] && echo y; [ $x -gt 5 ] && echo z; [ 007 -eq 7 ] && echo o;"
     " [ -3 -lt 2 ] && echo n", "y\nz\no\nn\n", 0),
    ("i=; [ $i -lt 5 ]; echo $?", "2\n", 0),
    ("a=; b=; [ $a = $b ]; echo $?; [ \"$a\" = \"$b\" ]; echo $?", "0\n0\n", 0),
    ("x='1 2'; [ $x -lt 5 ]; echo $?", "2\n", 0),
    ("x=abc; [ $x -lt 5 ]; echo $?; [ 1_0 -eq 10 ]; echo $?", "2\n2\n", 0),
    ("[ 99999999999999999999 -gt 1 ]; echo $?; [ 9223372036854775807 -gt 1 ]; echo $?",
     "2\n0\n", 0),
    ("touch 5; x='?'; [ $x -eq 5 ] && echo globbed; set -f; [ \"$x\" = '?' ] && echo kept",
     "globbed\nkept\n", 0),
    ("IFS=0; i=10; [ $i -eq 1 ]; echo \"$?\"", "0\n", 0),
    ("IFS=:; x=a:b; [ $x = a ]; echo \"$?\"", "2\n", 0),
    ("set -u; [ $nope -lt 1 ]; echo not reached", "", 2),
    ("set -u; [ \"$nope\" = x ]; echo not reached", "", 2),
    ("test() { echo \"fn $*\"; }; test 1 -lt 2; echo $?", "fn 1 -lt 2\n0\n", 0),
    ("{ set -x; [ 1 -lt 2 ]; test 3 = 3; set +x; } 2>&1 | sed \"s/'//g\"",
     "+ [ 1 -lt 2 ]\n+ test 3 = 3\n+ set +x\n", 0),
    ("[ 1 -lt 2; echo $?", "2\n", 0),
    ("exec 2>&-; [ a -lt 1 ]; echo $?; test a -lt 1; echo $?; x=a; [ $x -lt 1 ]; echo $?",
     "2\n2\n2\n", 0),
    ("set -- a b; [ $# -eq 2 ] && echo two; false; [ $? -ne 0 ] && echo failed",
     "two\nfailed\n", 0),
    ("set -e; [ 1 -lt 0 ]; echo no", "", 1),
    ("set -e; if [ 1 -lt 0 ]; then :; fi; [ 1 -lt 0 ] || echo alt; echo yes", "alt\nyes\n", 0),
    ("f() { [ $1 -gt 0 ] && return 0; return 1; }; f 1 && echo pos; f -1 || echo neg",
     "pos\nneg\n", 0),
    # statuses of loops and branches ($? jumps, loop status slots)
    ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); false; done; echo $?", "1\n", 0),
    ("until [ 1 -eq 1 ]; do :; done; echo $?; while false; do :; done; echo $?;"
     " for x in a b; do false; done; echo $?", "0\n0\n1\n", 0),
    ("while :; do break; done; echo $?; false && echo no || echo yes; true || echo no && "
     "echo yes2", "0\nyes\nyes2\n", 0),
    ("if [ 1 -eq 2 ]; then echo a; elif [ 2 -eq 2 ]; then echo b; fi; echo $?", "b\n0\n", 0),
    # arithmetic: assignments take the int, IFS does not apply to them
    ("IFS=1; x=$((10+1)); echo \"$x\"; echo $((10 + 1))", "11\n \n", 0),
    ("x=9223372036854775807; x=$((x+1)); echo $x", "-9223372036854775808\n", 0),
    ("set -a; i=$((1+1)); env | grep '^i='", "i=2\n", 0),
    ("x=0; echo $((5 % x)); echo after", "", 2),
    ("x=abc; y=$((x + 1)); echo after", "", 2),
    ("{ set -x; i=$((1+2)); set +x; } 2>&1", "+ i=3\n+ set +x\n", 0),
    ("OPTIND=$((1+1)); getopts ab o -a -b; echo $o $OPTIND", "b 3\n", 0),
    # a condition that is one `[ a OP b ]` (ShTestCmpJump), loops tested after the body
    ("i=0; until [ $i -ge 3 ]; do i=$((i+1)); done; echo $i $?", "3 0\n", 0),
    ("i=0; while [ $i -lt 5 ]; do i=$((i+1)); [ $i -eq 2 ] && continue; [ $i -eq 4 ] &&"
     " break; echo $i; done; echo end $?", "1\n3\nend 0\n", 0),
    ("{ set -x; i=0; while [ $i -lt 1 ]; do i=$((i+1)); done; set +x; } 2>&1 | sed \"s/'//g\"",
     "+ i=0\n+ [ 0 -lt 1 ]\n+ i=1\n+ [ 1 -lt 1 ]\n+ set +x\n", 0),
    ("x=abc\nwhile [ $x -lt 1 ]; do :; done 2>&1; echo $?\nif [ $x -gt 1 ]; then :; fi 2>&1",
     None, 0),
    ("test() { echo t; break; }; n=0; while test 1 -lt 2; do n=$((n+1)); [ $n -gt 2 ] &&"
     " break; done; echo $n", "t\nt\nt\n3\n", 0),
    ("f() { while [ $1 -gt 0 ]; do set -- $(($1 - 1)); return 7; done; }; f 2; echo $?",
     "7\n", 0),
    ("if [ a = b ]; then echo 1; elif [ \"$x\" != \"\" ]; then echo 2; else echo 3; fi; echo $?",
     "3\n0\n", 0),
    # parameters inside $(( )) text
    ("set -- 4 5; echo $(($1 * $2 + $#)); f() { echo $(($1 - 1)) $?; }; f 10; false;"
     " echo $(($? + 1))", "22\n9 0\n2\n", 0),
    ("i=0; while [ $i -lt 3 ]; do i=$(($i+1)); echo \"$(( $i * 2 ))\"; done; i=2*3;"
     " echo $(($i * 2)); i=-3; echo $((4 - $i)) $((4*$i))", "2\n4\n6\n12\n7 -12\n", 0),
    ("set -u; echo $((1 + $nope)); echo not reached", "", 2),
    ("x=5; v=x; echo $(($v + 1)); v=08; echo $(($v + 1))", "6\n", 2),
    # an unquoted lone $(( )) word is its own field unless IFS splits it
    ("i=0; while test $i -lt 3; do : $((i+=1)); echo $((i*5)) \"$((i-10))\"; done; IFS=1;"
     " echo $((10+1)) x$((11))y; IFS=-; echo $((0-5)); set -- $((0-3)); echo $#;"
     " v=7; set -- $(($v * 3)) \"$(($v))\"; echo $# $1 $2",
     "5 -9\n10 -8\n15 -7\n  x  y\n 5\n2\n2 21 7\n", 0),
    ("touch 12; IFS=; set -- $((6 * 2)) $((1 + 1))*; echo $# $1", "2 12\n", 0),
    # case patterns in a loop: the same word's pattern remembered, a new word's worked out
    ("for p in 'a*' b '?b' 'a*'; do case ab in \"$p\") echo \"$p q\";; $p) echo \"$p y\";;"
     " *) echo \"$p n\";; esac; done; i=0; while [ $i -lt 3 ]; do case $i in 1|2) echo $i;;"
     " esac; i=$((i+1)); done", "a* y\nb n\n?b y\na* y\n1\n2\n", 0),
    # numbers the loop ops remember for a variable (ShState.numbers), and writes they must not miss
    ("i=$((0-5)); [ $i -lt 0 ] && echo neg; i=$((i*2)); echo $i; [ $i -eq -10 ] && echo eq",
     "neg\n-10\neq\n", 0),
    ("i=$((1+1)); i=010; echo $((i + 1)); [ $i -eq 10 ] && echo ten; i=' 7 '; echo $((i*2))",
     "9\nten\n14\n", 0),
    ("i=$((2+3)); read i <<EOF\n0x10\nEOF\necho $((i+1)); unset i; echo $((i+1))",
     "17\n1\n", 0),
    ("IFS=-; i=$((0-5)); [ $i -lt 0 ]; echo $?; IFS=' '; [ $i -lt 0 ]; echo $?", "2\n0\n", 0),
    ("i=$((0-3)); n=$((0-1)); [ \"$i\" -lt \"$n\" ] && echo lt; IFS=-; [ $i -lt $n ]; echo $?;"
     " [ \"$i\" -ge \"$n\" ]; echo $?", "lt\n2\n1\n", 0),
    ("i=$((40+2)); f() { local i=1; i=$((i+1)); echo $i; }; f; echo $((i+0)); [ $i -eq 42 ]"
     " && echo kept", "2\n42\nkept\n", 0),
    ("for i in 3 4; do s=$((s + i)); done; echo $s; i=$((i * 3)); for i in 5; do :; done;"
     " echo $((i - 1))", "7\n4\n", 0),
    ("x=$((1+1)); readonly x; (x=$((x+1))) 2>/dev/null || echo failed; echo $((x+0))",
     "failed\n2\n", 0),
    ("i=9223372036854775806; i=$((i+1)); [ $i -gt 0 ] && echo max; i=$((i+1)); echo $i;"
     " [ $i -lt 0 ] && echo wrapped", "max\n-9223372036854775808\nwrapped\n", 0),
]


@pytest.mark.parametrize(("script", "expected", "status"), CASES)
def test_fast_paths_behave_like_dash(sh, script: str, expected: str,  # type: ignore[no-untyped-def]
                                     status: int) -> None:
    sh(script, expected, status)


# The tokens `$(( ))` text is made of, as one regular expression, which the hand-written
# scanner (`arith._tokens`, which keeps `re` out of a shell that does arithmetic) must
# agree with.
_TOKEN_RE = (r"\s*(?:(0[xX][0-9a-fA-F]+|[0-9]+[0-9a-zA-Z_]*)|([A-Za-z_][A-Za-z0-9_]*)|"
             r"(<<=|>>=|&&|\|\||==|!=|<=|>=|<<|>>|\+=|-=|\*=|/=|%=|&=|\^=|\|=|\+\+|--|"
             r"[-+*/%<>&|^!~?:=()]))")


def _tokens_by_re(text: str) -> list[tuple[str, str]] | None:
    import re
    toks: list[tuple[str, str]] = []
    pos = 0
    while True:
        m = re.compile(_TOKEN_RE).match(text, pos)
        if m is None:
            return None if text[pos:].strip() else toks
        pos = m.end()
        kind = "num" if m.group(1) else "name" if m.group(2) else "op"
        toks.append((kind, m.group(m.lastindex or 0)))


@given(st.text(alphabet="0189xXaAfgz_ \t\n\u00a0\u0663<>=&|!+-*/%^~?:()#$.", max_size=14))
def test_arithmetic_scanner_matches_the_token_expression(text: str) -> None:
    assert arith._tokens(text) == _tokens_by_re(text)


def test_case_and_globs_load_no_threads_or_dataclasses() -> None:
    import subprocess
    import sys
    code = ("import sys\nfrom fusevm.lang.sh.main import main\n"
            "assert main(['-c', 'case ab in a*) echo /*;; esac']) == 0\n"
            "print(sorted({'concurrent.futures', 'threading', 'dataclasses',"
            " 'fusevm.shell.walk'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split("\n")[-2:] == ["[]", ""], out


def test_a_shell_loop_loads_no_regular_expressions_or_dataclasses() -> None:
    import subprocess
    import sys
    script = ("i=0; while [ $i -lt 3 ]; do s=$((s + i * 2 % 7)); i=$((i + 1)); done;"
              " echo $s")
    code = ("import sys\nfrom fusevm.lang.sh.main import main\n"
            f"assert main(['-c', {script!r}]) == 0\n"
            "print(sorted({'re', 'dataclasses', 'collections', 'typing'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split("\n")[-2:] == ["[]", ""], out
