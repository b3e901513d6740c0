"""The awk ExtensionSet: awk's own ops (ids 0x1000..0x13FF) and their handlers.

Compiled awk keeps its values (float, str, StrNum, UNINIT, and Bool from comparisons) on
the VM stack, in slots and in globals; these ops do everything whose semantics differ
from the core ops': strnum comparison, CONVFMT concatenation, awk truthiness, fields and
specials, arrays by handle, regexes, I/O and the builtins. Core arithmetic is used only
on values an `AwkNum` has made floats. Handlers find the run's `AwkState` in
`vm.host_data["awk"]` and its `Streams` in `vm.host_data["awk.io"]`. An op is a function
of its stack values (`ExtensionSet.function`: the interpreter derives its step from it and
the baseline tier calls it directly) unless it jumps (`next`/`exit` unwind and return a
root ip) or takes an operand-sized run of values; those are step factories
(`fusevm.interp.extapi`).
"""

from __future__ import annotations

from itertools import repeat

from fusevm.interp.extapi import HALT, Step
from fusevm.lang.awk.runtime import (
    NUMBER_START,
    UNINIT,
    StrNum,
    awk_cos,
    awk_exp,
    awk_log,
    awk_mod,
    awk_pow,
    awk_sin,
    awk_sqrt,
    compile_ere,
    make_strnum,
    str_to_num,
)
from fusevm.lang.awk.state import FNR, NF, NR, AwkArray, AwkFatal, AwkState, key_of
from fusevm.lang.awk.streams import Streams
from fusevm.ops import F
from fusevm.ops.extension import RESERVED, ExtensionSet
from fusevm.values import sat_trunc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

# Every body reads the run's AwkState as `st`, bound once per VM (main puts it in the host
# data before the VM runs)
AWK: Final = ExtensionSet("awk", first_id=RESERVED["awk"][0], count=RESERVED["awk"][1],
                          lowerings_from="fusevm.lang.awk.jit", deferred=True,
                          hosted={"st": "awk"})
R: Final = F.MAY_RAISE
IO: Final = F.IO | F.MAY_RAISE

#: Operand codes of AwkCmp, AwkAOp, AwkFieldOp.
CMP_CODES: Final = {"<": 0, "<=": 1, "==": 2, "!=": 3, ">": 4, ">=": 5}
ARITH_CODES: Final = {"+": 0, "-": 1, "*": 2, "/": 3, "%": 4, "^": 5}
MODE_CODES: Final = {">": 0, ">>": 1, "|": 2}
_MODES: Final = (">", ">>", "|")
MATH_CODES: Final = {"sqrt": 0, "exp": 1, "log": 2, "sin": 3, "cos": 4}
_MATH: Final = (awk_sqrt, awk_exp, awk_log, awk_sin, awk_cos)


def state_of(vm: Any) -> AwkState:
    st: AwkState = vm.hosted("awk")
    return st


def io_of(vm: Any) -> Streams:
    s: Streams = vm.hosted("awk.io")
    return s


def num(v: Any) -> float:
    """awk's to-number for any stack value."""
    t = type(v)
    if t is float:
        return v  # type: ignore[no-any-return]
    if t is StrNum:
        return v.num  # type: ignore[no-any-return]
    if t is str:
        return str_to_num(v)
    return float(v)


def truth(v: Any) -> bool:
    t = type(v)
    if t is str:
        return bool(v != "")
    if t is StrNum:
        return v.num != 0.0  # type: ignore[no-any-return]
    return bool(v)


def arith(code: int, a: float, b: float) -> float:
    if code == 0:
        return a + b
    if code == 1:
        return a - b
    if code == 2:
        return a * b
    if code == 3:
        if b == 0:
            raise AwkFatal("division by zero")
        return a / b
    if code == 4:
        if b == 0:
            raise AwkFatal("division by zero in %")
        return awk_mod(a, b)
    return awk_pow(a, b)


# -- program structure -------------------------------------------------------------


@AWK.factory("AwkMark", operands="kind:U8 target:TARGET", effect="--",
             formula="remember target as the END entry (kind 0) or the record loop (kind 1)",
             flags=F.BRANCH)
def _mark(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    kind, target = operands
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        if kind == 0:
            st.end_ip = target
        else:
            st.loop_ip = target
        return nxt
    return step


@AWK.factory("AwkInit", operands="const:CONST", effect="--",
             formula="globals named in consts[const] = UNINIT, or a new array for '@name'")
def _init(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    const, = operands
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        names = vm.chunk.names
        index_of = {n: i for i, n in enumerate(names)}
        g = vm.globals
        numeric: set[str] = set()
        for entry in vm.chunk.constants[const]:
            if entry.startswith("#"):
                numeric.add(entry[1:])  # holds only numbers once assigned (see infer)
            elif entry.startswith("@"):
                name = entry[1:]
                arr = st.argv if name == "ARGV" else st.environ if name == "ENVIRON" else AwkArray()
                g[index_of[name]] = arr
            else:
                g[index_of[entry]] = UNINIT

        def assign(name: str, value: Any) -> None:
            from fusevm.lang.awk.state import SPECIAL_INDEX
            k = SPECIAL_INDEX.get(name)
            if k is not None:
                st.set_special(k, value)
                return
            i = index_of.get(name)
            if i is None:
                return  # a variable the program never mentions
            if isinstance(g[i], AwkArray):
                raise AwkFatal(f"can't assign to {name}; it's an array name.")
            g[i] = num(value) if name in numeric else value
        io_of(vm).assign = assign
        for name, value in st.pending:
            assign(name, value)
        st.pending = []
        return nxt
    return step


# The next line of the current block is the next record (`AwkState.lines`): $0 and its
# fields are all there is to reset, and NR and FNR to count when the program can see them
# (mode bit 0: the compiler knows); a program that may replace $0 or assign a field resets
# what those change on every record (bit 1), so that they need not send the next record
# the long way (`AwkState.keeps_lines`); anything else goes that way
# (`Streams.next_record`).
AWK.body("AwkNextRecord", operands="mode:U8", effect="-- b",
         formula="b = read the next main-input record (mode bit 0: count NR and FNR; "
                 "bit 1: the program may change $0 or its fields)",
         flags=IO, names={"next": next, "set": set}, results={"b": bool}, source="""
    rec = next(st.lines, None)
    if rec is None:
        b = host["awk.io"].next_record()
        if mode & 2:
            st.keeps_lines = True
    else:
        if mode & 1:
            st.nr += 1
            st.fnr += 1
        st.record = rec
        st.record_val = None
        st.fields = None
        if mode & 2:
            st.record_stale = False
            st.plain = st.block_plain
            st.clean = st.block_clean
            if st.literal:
                st.literal = set()
        b = True
    """)


@AWK.factory("AwkJumpOut", operands="kind:U8", effect="--",
             formula="kind 0 next, 1 nextfile: leave every function and go to the record loop",
             flags=R)
def _jump_out(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    kind, = operands

    def step() -> int:
        st = state_of(vm)
        if st.in_end:
            # POSIX leaves next in END undefined; the parser rejects it there, but a
            # function called from END gets here, and the record loop would only run
            # END again, forever.
            raise AwkFatal(f"{'nextfile' if kind else 'next'} called from a function "
                           "in the END action")
        if kind == 1:
            io_of(vm).next_file()
        vm.unwind_to_root()
        return st.loop_ip
    return step


@AWK.factory("AwkExit", operands="has:U8", effect="status --",
             formula="exit: keep status (if has), then run END, or stop when in END", flags=R)
def _exit(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    has, = operands
    stack = vm.stack_api.items

    def step() -> int:
        st = state_of(vm)
        status = stack.pop()
        if has:
            st.exit_code = sat_trunc(num(status)) & 0xFF  # (NaN 0, infinities saturate)
        if st.in_end or st.end_ip < 0:
            return HALT
        st.exiting = True
        vm.unwind_to_root()
        return st.end_ip
    return step


@AWK.function("AwkEnterEnd", effect="--", formula="from here on, exit stops the program")
def _enter_end(vm: Any, operands: tuple[Any, ...]) -> Callable[[], None]:
    def enter_end() -> None:
        st = state_of(vm)
        st.in_end = True
        if st.record_stale:
            st.get_record()
    return enter_end


# -- values -------------------------------------------------------------------------


@AWK.function("AwkFail", operands="const:CONST", effect="-- v",
              formula="fatal runtime error with the message consts[const]", flags=R)
def _fail(vm: Any, operands: tuple[Any, ...]) -> Callable[[], Any]:
    const, = operands

    def fail() -> Any:
        raise AwkFatal(vm.chunk.constants[const])
    return fail


def _uninit_value() -> Any:
    return UNINIT


@AWK.function("AwkUninit", effect="-- v", formula="push the uninitialized value")
def _uninit(vm: Any, operands: tuple[Any, ...]) -> Callable[[], Any]:
    return _uninit_value


@AWK.function("AwkNewArray", effect="-- arr", formula="push a new empty array handle")
def _new_array(vm: Any, operands: tuple[Any, ...]) -> Callable[[], AwkArray]:
    return AwkArray


AWK.body("AwkNum", effect="v -- n", formula="n = awk to-number of v (a Float)",
         names={"num": num}, results={"n": float}, source="n = v if type(v) is float else num(v)")


@AWK.function("AwkTruth", effect="v -- b", formula="b = awk truth of v (strings by emptiness)")
def _truth(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], bool]:
    return truth


def _falsity(v: Any) -> bool:
    return not truth(v)


@AWK.function("AwkNot", effect="v -- b", formula="b = not awk truth of v")
def _not(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], bool]:
    return _falsity


def no_relation(op: int) -> bool:
    raise AwkFatal(f"AwkCmp: no relation has the code {op}")


def relation_chain(left: str, right: str, indent: int) -> str:
    """`r = left OP right` for the relation the operand `op` codes, as statements indented
    by `indent` (after the first line): the baseline keeps only the operand's branch
    (`if 4 == 0:` folds), so a compare costs no call there."""
    lines = [f"{'if' if code == 0 else 'elif'} op == {code}:\n    r = {left} {rel} {right}"
             for rel, code in CMP_CODES.items()]
    lines.append("else:\n    r = no_relation(op)")
    return "\n".join(lines).replace("\n", "\n" + " " * indent)

AWK.body("AwkCmp", operands="op:U8", effect="a b -- r",
         formula="r = a op b, numerically when both are numeric (strnum rules), else as "
                 "strings",
         names={"StrNum": StrNum, "num": num, "no_relation": no_relation},
         results={"r": bool}, source=f"""
    ta = type(a)
    tb = type(b)
    if ta is float and tb is float:
        x = a
        y = b
    elif ta is not str and tb is not str:
        x = a if ta is float else a.num if ta is StrNum else num(a)
        y = b if tb is float else b.num if tb is StrNum else num(b)
    else:
        x = a if ta is str else st.str_of(a)
        y = b if tb is str else st.str_of(b)
    {relation_chain("x", "y", 4)}
    """)


@AWK.function("AwkConcat", operands="count:U8", effect="items[count] -- s",
              formula="s = the items as strings (CONVFMT), joined")
def _concat(vm: Any, operands: tuple[Any, ...]) -> Callable[[list[Any]], str]:
    host = vm.host_data

    def concat(items: list[Any]) -> str:
        str_of = host["awk"].str_of
        return "".join([v if type(v) is str else str_of(v) for v in items])
    return concat


@AWK.function("AwkArith", operands="op:U8", effect="a b -- r",
              formula="r = num(a) op num(b) for / % ^ (division by zero is fatal)", flags=R)
def _arith(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any], float]:
    op, = operands

    def arith_op(a: Any, b: Any) -> float:
        y = num(b)
        return arith(op, num(a), y)
    return arith_op


# -- regexes -------------------------------------------------------------------------


def _const_regex(vm: Any, const: int) -> Any:
    return _compile(vm.chunk.constants[const])  # once per op bound (`compile_ere` caches)


def _compile(source: str) -> Any:
    try:
        return compile_ere(source)
    except ValueError as e:
        raise AwkFatal(f"syntax error in regular expression {source} ({e})") from None


def _dyn_regex(vm: Any, v: Any) -> Any:
    return _compile(state_of(vm).str_of(v))


@AWK.function("AwkMatchRec", operands="const:CONST", effect="-- b",
              formula="b = $0 matches the ERE consts[const]")
def _match_rec(vm: Any, operands: tuple[Any, ...]) -> Callable[[], bool]:
    const, = operands
    host = vm.host_data

    # a constant's pattern is the same in every run of the chunk: its tester is made once
    tests: list[Callable[[str], bool]] = []

    def match_rec() -> bool:
        st = host["awk"]
        text = st.record if not st.record_stale else st.record_text()
        if tests:
            return tests[0](text)
        tests.append(_const_regex(vm, const).tester())
        return tests[0](text)
    return match_rec


@AWK.function("AwkMatchConst", operands="const:CONST", effect="s -- b",
              formula="b = str(s) matches the ERE consts[const]")
def _match_const(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], bool]:
    const, = operands

    tests: list[Callable[[str], bool]] = []

    def match_const(s: Any) -> bool:
        text = s if type(s) is str else state_of(vm).str_of(s)
        if tests:
            return tests[0](text)
        tests.append(_const_regex(vm, const).tester())
        return tests[0](text)
    return match_const


@AWK.function("AwkMatchDyn", effect="s re -- b", formula="b = str(s) matches the ERE str(re)")
def _match_dyn(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any], bool]:
    def match_dyn(s: Any, re: Any) -> bool:
        rx = _dyn_regex(vm, re)
        return rx.test(state_of(vm).str_of(s))  # type: ignore[no-any-return]
    return match_dyn


# -- fields and specials ----------------------------------------------------------------


def fields_of_record(indent: int) -> str:
    """The statements a field op starts with, indented by `indent`: `fields` = the
    record's field list, split now if it is not yet. A record `AwkState.plain` says
    str.split() splits is split inline, AwkState.split's first cases without its call."""
    lines = ("fields = st.fields",
             "if fields is None:",
             "    fields = st.fields = st.record.split(st.sep, st.limit) "
             "if st.plain and st.record else st.split()")
    return "\n".join(" " * indent + line for line in lines)


def float_of_field(otherwise: str, indent: int) -> str:
    """Statements setting `x` to the number a field `f` holds, indented by `indent`, when
    float() reads it as awk would, else running `otherwise`: a finite result (`x - x` is
    0.0, false; NaN for inf and nan) from a clean block's field, or from text that is
    ASCII without `_` (`runtime.make_strnum`'s first step). A field that is not text (a
    StrNum float() reads by its `__float__`, a number) counts only in a clean block,
    where a StrNum is one made from the block's own text."""
    lines = ("try:",
             "    x = float(f)",
             "    if x - x or not (st.clean or type(f) is str and f.isascii()",
             "                     and \"_\" not in f):",
             f"        {otherwise}",
             "except ValueError:",
             f"    {otherwise}")
    return "\n".join(" " * indent + line for line in lines)


def _field_index(v: Any) -> int:
    n = num(v)
    if n < 0 or n != n or n == _INF:
        raise AwkFatal(f"trying to access out of range field {n:g}")
    return int(n)


_INF: Final = float("inf")


# $i: a word, or a field already made a StrNum, straight from the field list; text that
# may be a number goes through get_field (which makes and keeps its StrNum once)
AWK.body("AwkField", effect="i -- v", formula="v = $i",
         names={"NUMBER_START": NUMBER_START, "field_index": _field_index}, source=f"""
    if type(i) is float and 1.0 <= i < 1e18:
        k = int(i)
{fields_of_record(8)}
        if k <= len(fields) and (type(f := fields[k - 1]) is not str or not f
                                 or f[0] not in NUMBER_START):
            v = f
        else:
            v = st.get_field(k)
    else:
        v = st.get_field(int(i) if type(i) is float and 0.0 <= i < 1e18 else field_index(i))
    """)


AWK.body("AwkFieldK", operands="index:COUNT", effect="-- v", formula="v = $index",
         names={"NUMBER_START": NUMBER_START, "StrNum": StrNum, "make_strnum": make_strnum},
         source=f"""
    if index:
{fields_of_record(8)}
        if index <= len(fields):
            f = fields[index - 1]
            if type(f) is not str or not f or f[0] not in NUMBER_START:
                v = f
            elif not st.literal:
                f = make_strnum(f)  # input text that may be a number: get_field's rule
                if type(f) is StrNum:
                    fields[index - 1] = f
                v = f
            else:
                v = st.get_field(index)
        else:
            v = ""  # beyond NF
    else:
        v = st.get_record()  # $0 never splits the record
    """)


# input text as a number: str_to_num's first step (one float() call) written in, so the
# common field costs no call; anything float() reads differently from awk goes to it
AWK.body("AwkFieldNum", operands="index:COUNT", effect="-- n", formula="n = num($index)",
         names={"num": num, "ValueError": ValueError, "IndexError": IndexError},
         results={"n": float},
         source=f"""
    if index:
{fields_of_record(8)}
        try:
            f = fields[index - 1]  # (index >= 1: no wrap-around)
        except IndexError:
            n = 0.0  # beyond NF: ""
        else:
{float_of_field("x = num(f)", 12)}
            n = x
    else:
        n = num(st.get_record())
    """)


AWK.body("AwkVarNum", operands="name:NAME", effect="-- n", formula="n = num(globals[name])",
         names={"num": num}, results={"n": float}, source="""
    g = globals_[name]
    n = g if type(g) is float else num(g)
    """)


@AWK.function("AwkSetField", effect="i v -- v", formula="$i = v")
def _set_field(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any], Any]:
    def set_field(i: Any, v: Any) -> Any:
        state_of(vm).set_field(_field_index(i), v)
        return v
    return set_field


@AWK.function("AwkFieldOp", operands="op:U8", effect="i v -- r",
              formula="$i = r = num($i) op num(v)")
def _field_op(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any], float]:
    op, = operands

    def field_op(i: Any, v: Any) -> float:
        y = num(v)
        st = state_of(vm)
        k = _field_index(i)
        r = arith(op, num(st.get_field(k)), y)
        st.set_field(k, r)
        return r
    return field_op


@AWK.function("AwkFieldInc", operands="mode:U8", effect="i -- v",
              formula="++/-- on $i: mode bit 0 postfix, bit 1 decrement")
def _field_inc(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], float]:
    mode, = operands

    def field_inc(i: Any) -> float:
        st = state_of(vm)
        k = _field_index(i)
        old = num(st.get_field(k))
        new = old - 1.0 if mode & 2 else old + 1.0
        st.set_field(k, new)
        return old if mode & 1 else new
    return field_inc


# NF of a record already split, NR and FNR not assigned: straight from the state
AWK.body("AwkSpecial", operands="k:U8", effect="-- v",
         formula="v = special variable k (NR, NF...)", source=f"""
    if k == {NF}:
        fields = st.fields
        v = float(len(fields)) if fields is not None and st.nf_val is None else st.get_nf()
    elif k == {NR}:
        c = st.nr_val
        v = float(st.nr) if c is None else c
    elif k == {FNR}:
        c = st.fnr_val
        v = float(st.fnr) if c is None else c
    else:
        v = st.values[k]  # the others are plain values (get_special's last case)
    """)


@AWK.function("AwkSetSpecial", operands="k:U8", effect="v -- v", formula="special variable k = v")
def _set_special(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], Any]:
    k, = operands

    def set_special(v: Any) -> Any:
        state_of(vm).set_special(k, v)
        return v
    return set_special


# -- arrays ----------------------------------------------------------------------------


def _array(v: Any) -> AwkArray:
    if type(v) is not AwkArray:
        raise AwkFatal("can't use scalar as array")
    return v


@AWK.function("AwkKey", operands="count:U8", effect="subs[count] -- key",
              formula="key = the subscripts as strings joined by SUBSEP")
def _key(vm: Any, operands: tuple[Any, ...]) -> Callable[[list[Any]], str]:
    host = vm.host_data

    def key(items: list[Any]) -> str:
        st = host["awk"]
        return st.subsep.join([key_of(v, st.convfmt) for v in items])  # type: ignore[no-any-return]
    return key


AWK.body("AwkAGet", effect="arr key -- v", formula="v = arr[key] (created as uninit if absent)",
         names={"AwkArray": AwkArray, "UNINIT": UNINIT, "key_of": key_of, "array": _array},
         source="""
    k = key if type(key) is str else key_of(key, st.convfmt)
    if type(arr) is not AwkArray:
        array(arr)
    g = arr.get(k)  # never None: an element is a number, a string or uninit
    if g is None:
        g = arr[k] = UNINIT
    v = g
    """)


AWK.body("AwkASet", effect="arr key v -- r", formula="arr[key] = v; r = v",
         names={"AwkArray": AwkArray, "key_of": key_of, "array": _array}, source="""
    k = key if type(key) is str else key_of(key, st.convfmt)
    if type(arr) is not AwkArray:
        array(arr)
    arr[k] = v
    r = v
    """)


@AWK.function("AwkAOp", operands="op:U8", effect="arr key v -- r",
              formula="arr[key] = r = num(arr[key]) op num(v)", flags=R)
def _aop(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any, Any], float]:
    op, = operands

    def aop(arr: Any, k: Any, v: Any) -> float:
        y = num(v)
        if type(k) is not str:
            k = key_of(k, state_of(vm).convfmt)
        a = _array(arr)
        old = a.get(k, 0.0)
        r = a[k] = arith(op, old if type(old) is float else num(old), y)
        return r
    return aop


AWK.body("AwkAInc", operands="mode:U8", effect="arr key -- v",
         formula="++/-- on arr[key]: mode bit 0 postfix, bit 1 decrement",
         names={"StrNum": StrNum, "AwkArray": AwkArray, "key_of": key_of, "num": num,
                "array": _array}, results={"v": float}, source="""
    t = type(key)
    k = key if t is str else key.text if t is StrNum else key_of(key, st.convfmt)
    if type(arr) is not AwkArray:
        array(arr)
    old = arr.get(k, 0.0)
    if type(old) is not float:
        old = num(old)
    new = old - 1.0 if mode & 2 else old + 1.0
    arr[k] = new
    v = old if mode & 1 else new
    """)


AWK.body("AwkIn", effect="arr key -- b", formula="b = key in arr",
         names={"AwkArray": AwkArray, "key_of": key_of, "array": _array},
         results={"b": bool}, source="""
    k = key if type(key) is str else key_of(key, st.convfmt)
    if type(arr) is not AwkArray:
        array(arr)
    b = k in arr
    """)


@AWK.function("AwkDelete", effect="arr key --", formula="delete arr[key]")
def _delete(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any], None]:
    def delete(arr: Any, k: Any) -> None:
        if type(k) is not str:
            k = key_of(k, state_of(vm).convfmt)
        _array(arr).pop(k, None)
    return delete


def _clear(arr: Any) -> None:
    _array(arr).clear()


@AWK.function("AwkDeleteAll", effect="arr --", formula="delete every element of arr")
def _delete_all(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], None]:
    return _clear


def _snapshot(arr: Any) -> Any:
    a = _array(arr)
    # (zip hands back the same pair each time once the loop has let go of it)
    return zip(list(a), repeat(a))


@AWK.function("AwkForIn", effect="arr -- it",
              formula="it = an iterator over a snapshot of arr's keys")
def _for_in(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], Any]:
    return _snapshot


# the next key of the snapshot still in its array (one deleted since is passed over)
AWK.body("AwkForNext", effect="it -- key b",
         formula="b = there is a next key still in the array; key = it (uninit when done)",
         names={"UNINIT": UNINIT}, results={"b": bool}, source="""
    found = UNINIT
    more = False
    for k, a in it:
        if k in a:
            found = k
            more = True
            break
    key = found
    b = more
    """)


def _length(arr: Any) -> float:
    return float(len(_array(arr)))


@AWK.function("AwkArrayLen", effect="arr -- n", formula="n = number of elements of arr")
def _array_len(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], float]:
    return _length


@AWK.function("AwkCheckArray", effect="arr -- arr", formula="fatal unless arr is an array")
def _check_array(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], Any]:
    return _array


def _scalar(v: Any) -> Any:
    if type(v) is AwkArray:
        raise AwkFatal("can't use array in scalar context")
    return v


@AWK.function("AwkCheckScalar", effect="v -- v", formula="fatal if v is an array")
def _check_scalar(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], Any]:
    return _scalar
