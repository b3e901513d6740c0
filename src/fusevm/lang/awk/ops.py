"""The awk ExtensionSet: awk's own ops (ids 0x1000..0x13FF) and their handlers.

Compiled awk keeps its values (float, str, StrNum, UNINIT, and Bool from comparisons) on
the VM stack, in slots and in globals; these ops do everything whose semantics differ
from the core ops': strnum comparison, CONVFMT concatenation, awk truthiness, fields and
specials, arrays by handle, regexes, I/O and the builtins. Core arithmetic is used only
on values an `AwkNum` has made floats. Handlers find the run's `AwkState` in
`vm.host_data["awk"]` and its `Streams` in `vm.host_data["awk.io"]`. Each op is a step
factory (`fusevm.interp.extapi`): it binds its operands and the stack when the chunk is
prepared, and its step returns the next ip (`next`/`exit` unwind and return a root ip).
"""

from __future__ import annotations

from typing import Any, Final

from fusevm.interp.extapi import HALT, Step
from fusevm.lang.awk.runtime import (
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
    str_to_num,
)
from fusevm.lang.awk.state import NF, AwkArray, AwkFatal, AwkState, key_of
from fusevm.lang.awk.streams import Streams
from fusevm.ops import F
from fusevm.ops.extension import ExtensionSet

AWK: Final = ExtensionSet("awk", first_id=0x1000, count=0x400,
                          lowerings_from="fusevm.lang.awk.jit")
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
    st: AwkState = vm.host_data["awk"]
    return st


def io_of(vm: Any) -> Streams:
    s: Streams = vm.host_data["awk.io"]
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


@AWK.factory("AwkNextRecord", effect="-- b",
             formula="b = read the next main-input record", flags=IO)
def _next_record(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        rec = io_of(vm).next_main()
        if rec is None:
            stack.append(False)
            return nxt
        st.nr += 1
        st.fnr += 1
        st.nr_val = st.fnr_val = st.nf_val = None
        st.record = rec
        st.record_val = None
        st.fields = None
        st.record_stale = False
        stack.append(True)
        return nxt
    return step


@AWK.factory("AwkJumpOut", operands="kind:U8", effect="--",
             formula="kind 0 next, 1 nextfile: leave every function and go to the record loop",
             flags=R)
def _jump_out(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    kind, = operands

    def step() -> int:
        st = state_of(vm)
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
            st.exit_code = int(num(status)) & 0xFF
        if st.in_end or st.end_ip < 0:
            return HALT
        st.exiting = True
        vm.unwind_to_root()
        return st.end_ip
    return step


@AWK.factory("AwkEnterEnd", effect="--", formula="from here on, exit stops the program")
def _enter_end(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        st.in_end = True
        if st.record_stale:
            st.get_record()
        return nxt
    return step


# -- values -------------------------------------------------------------------------


@AWK.factory("AwkFail", operands="const:CONST", effect="-- v",
             formula="fatal runtime error with the message consts[const]", flags=R)
def _fail(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    const, = operands

    def step() -> int:
        raise AwkFatal(vm.chunk.constants[const])
    return step


@AWK.factory("AwkUninit", effect="-- v", formula="push the uninitialized value")
def _uninit(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack.append(UNINIT)
        return nxt
    return step


@AWK.factory("AwkNewArray", effect="-- arr", formula="push a new empty array handle")
def _new_array(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack.append(AwkArray())
        return nxt
    return step


@AWK.factory("AwkNum", effect="v -- n", formula="n = awk to-number of v (a Float)")
def _num(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        v = stack[-1]
        if type(v) is not float:
            stack[-1] = num(v)
        return nxt
    return step


@AWK.factory("AwkTruth", effect="v -- b", formula="b = awk truth of v (strings by emptiness)")
def _truth(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack[-1] = truth(stack[-1])
        return nxt
    return step


@AWK.factory("AwkNot", effect="v -- b", formula="b = not awk truth of v")
def _not(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack[-1] = not truth(stack[-1])
        return nxt
    return step


@AWK.factory("AwkCmp", operands="op:U8", effect="a b -- r",
             formula="r = a op b, numerically when both are numeric (strnum rules), else as "
                     "strings")
def _cmp(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    op, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        b = stack.pop()
        a = stack[-1]
        ta = type(a)
        tb = type(b)
        x: Any
        y: Any
        if ta is not str and tb is not str:
            x = a if ta is float else num(a)
            y = b if tb is float else num(b)
        else:
            st = state_of(vm)
            x = a if ta is str else st.str_of(a)
            y = b if tb is str else st.str_of(b)
        if op == 0:
            stack[-1] = x < y
        elif op == 1:
            stack[-1] = x <= y
        elif op == 2:
            stack[-1] = x == y
        elif op == 3:
            stack[-1] = x != y
        elif op == 4:
            stack[-1] = x > y
        else:
            stack[-1] = x >= y
        return nxt
    return step


@AWK.factory("AwkConcat", operands="count:U8", effect="items[count] -- s",
             formula="s = the items as strings (CONVFMT), joined")
def _concat(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    count, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        items = stack[-count:]
        del stack[-count:]
        str_of = state_of(vm).str_of
        stack.append("".join([v if type(v) is str else str_of(v) for v in items]))
        return nxt
    return step


@AWK.factory("AwkArith", operands="op:U8", effect="a b -- r",
             formula="r = num(a) op num(b) for / % ^ (division by zero is fatal)", flags=R)
def _arith(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    op, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        b = num(stack.pop())
        stack[-1] = arith(op, num(stack[-1]), b)
        return nxt
    return step


# -- regexes -------------------------------------------------------------------------


def _const_regex(vm: Any, const: int) -> Any:
    st = state_of(vm)
    rx = st.regex_cache.get(const)
    if rx is None:
        rx = st.regex_cache[const] = _compile(vm.chunk.constants[const])
    return rx


def _compile(source: str) -> Any:
    try:
        return compile_ere(source)
    except ValueError as e:
        raise AwkFatal(f"syntax error in regular expression {source} ({e})") from None


def _dyn_regex(vm: Any, v: Any) -> Any:
    return _compile(state_of(vm).str_of(v))


@AWK.factory("AwkMatchRec", operands="const:CONST", effect="-- b",
             formula="b = $0 matches the ERE consts[const]")
def _match_rec(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    const, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        stack.append(_const_regex(vm, const).test(st.record_text()))
        return nxt
    return step


@AWK.factory("AwkMatchConst", operands="const:CONST", effect="s -- b",
             formula="b = str(s) matches the ERE consts[const]")
def _match_const(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    const, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        s = stack[-1]
        text = s if type(s) is str else state_of(vm).str_of(s)
        stack[-1] = _const_regex(vm, const).test(text)
        return nxt
    return step


@AWK.factory("AwkMatchDyn", effect="s re -- b", formula="b = str(s) matches the ERE str(re)")
def _match_dyn(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        rx = _dyn_regex(vm, stack.pop())
        stack[-1] = rx.test(state_of(vm).str_of(stack[-1]))
        return nxt
    return step


# -- fields and specials ----------------------------------------------------------------


def _field_index(v: Any) -> int:
    n = num(v)
    if n < 0 or n != n:
        raise AwkFatal(f"trying to access out of range field {int(n) if n == n else n}")
    return int(n)


@AWK.factory("AwkField", effect="i -- v", formula="v = $i")
def _field(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        v = stack[-1]
        i = int(v) if type(v) is float and v >= 0.0 else _field_index(v)
        stack[-1] = state_of(vm).get_field(i)
        return nxt
    return step


@AWK.factory("AwkFieldK", operands="index:COUNT", effect="-- v", formula="v = $index")
def _field_k(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    idx, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack.append(state_of(vm).get_field(idx))
        return nxt
    return step


@AWK.factory("AwkFieldNum", operands="index:COUNT", effect="-- n", formula="n = num($index)")
def _field_num(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    idx, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        fields = st.fields if st.fields is not None else st.split()
        if 0 < idx <= len(fields):
            v = fields[idx - 1]
            stack.append(str_to_num(v) if type(v) is str else num(v))
        else:
            stack.append(num(st.get_field(idx)))
        return nxt
    return step


@AWK.factory("AwkVarNum", operands="name:NAME", effect="-- n", formula="n = num(globals[name])")
def _var_num(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    name, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        v = vm.globals[name]
        stack.append(v if type(v) is float else num(v))
        return nxt
    return step


@AWK.factory("AwkSetField", effect="i v -- v", formula="$i = v")
def _set_field(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        v = stack.pop()
        state_of(vm).set_field(_field_index(stack[-1]), v)
        stack[-1] = v
        return nxt
    return step


@AWK.factory("AwkFieldOp", operands="op:U8", effect="i v -- r",
             formula="$i = r = num($i) op num(v)")
def _field_op(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    op, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        v = num(stack.pop())
        st = state_of(vm)
        i = _field_index(stack[-1])
        r = arith(op, num(st.get_field(i)), v)
        st.set_field(i, r)
        stack[-1] = r
        return nxt
    return step


@AWK.factory("AwkFieldInc", operands="mode:U8", effect="i -- v",
             formula="++/-- on $i: mode bit 0 postfix, bit 1 decrement")
def _field_inc(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    mode, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        i = _field_index(stack[-1])
        old = num(st.get_field(i))
        new = old - 1.0 if mode & 2 else old + 1.0
        st.set_field(i, new)
        stack[-1] = old if mode & 1 else new
        return nxt
    return step


@AWK.factory("AwkSpecial", operands="k:U8", effect="-- v",
             formula="v = special variable k (NR, NF...)")
def _special(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    k, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        if k == NF and st.fields is not None and st.nf_val is None:
            stack.append(float(st.nf))  # the hot case: NF of an already split record
            return nxt
        stack.append(st.get_special(k))
        return nxt
    return step


@AWK.factory("AwkSetSpecial", operands="k:U8", effect="v -- v", formula="special variable k = v")
def _set_special(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    k, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        state_of(vm).set_special(k, stack[-1])
        return nxt
    return step


# -- arrays ----------------------------------------------------------------------------


def _array(v: Any) -> AwkArray:
    if type(v) is not AwkArray:
        raise AwkFatal("can't use scalar as array")
    return v


@AWK.factory("AwkKey", operands="count:U8", effect="subs[count] -- key",
             formula="key = the subscripts as strings joined by SUBSEP")
def _key(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    count, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        items = stack[-count:]
        del stack[-count:]
        st = state_of(vm)
        stack.append(st.subsep.join([key_of(v, st.convfmt) for v in items]))
        return nxt
    return step


@AWK.factory("AwkAGet", effect="arr key -- v", formula="v = arr[key] (created as uninit if absent)")
def _aget(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        k = stack.pop()
        arr = stack[-1]
        if type(k) is not str:
            k = key_of(k, state_of(vm).convfmt)
        try:
            stack[-1] = arr[k]
        except KeyError:
            _array(arr)[k] = stack[-1] = UNINIT
        except TypeError:
            _array(arr)
        return nxt
    return step


@AWK.factory("AwkASet", effect="arr key v -- v", formula="arr[key] = v")
def _aset(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        v = stack.pop()
        k = stack.pop()
        if type(k) is not str:
            k = key_of(k, state_of(vm).convfmt)
        _array(stack[-1])[k] = v
        stack[-1] = v
        return nxt
    return step


@AWK.factory("AwkAOp", operands="op:U8", effect="arr key v -- r",
             formula="arr[key] = r = num(arr[key]) op num(v)", flags=R)
def _aop(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    op, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        v = num(stack.pop())
        k = stack.pop()
        if type(k) is not str:
            k = key_of(k, state_of(vm).convfmt)
        arr = _array(stack[-1])
        old = arr.get(k, 0.0)
        r = arr[k] = arith(op, old if type(old) is float else num(old), v)
        stack[-1] = r
        return nxt
    return step


@AWK.factory("AwkAInc", operands="mode:U8", effect="arr key -- v",
             formula="++/-- on arr[key]: mode bit 0 postfix, bit 1 decrement")
def _ainc(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    mode, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        k = stack.pop()
        if type(k) is not str:
            k = key_of(k, state_of(vm).convfmt)
        arr = _array(stack[-1])
        old = arr.get(k, 0.0)
        if type(old) is not float:
            old = num(old)
        new = arr[k] = old - 1.0 if mode & 2 else old + 1.0
        stack[-1] = old if mode & 1 else new
        return nxt
    return step


@AWK.factory("AwkIn", effect="arr key -- b", formula="b = key in arr")
def _in(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        k = stack.pop()
        if type(k) is not str:
            k = key_of(k, state_of(vm).convfmt)
        stack[-1] = k in _array(stack[-1])
        return nxt
    return step


@AWK.factory("AwkDelete", effect="arr key --", formula="delete arr[key]")
def _delete(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        k = stack.pop()
        if type(k) is not str:
            k = key_of(k, state_of(vm).convfmt)
        _array(stack.pop()).pop(k, None)
        return nxt
    return step


@AWK.factory("AwkDeleteAll", effect="arr --", formula="delete every element of arr")
def _delete_all(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        _array(stack.pop()).clear()
        return nxt
    return step


@AWK.factory("AwkForIn", effect="arr -- it",
             formula="it = an iterator over a snapshot of arr's keys")
def _for_in(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        arr = _array(stack[-1])
        stack[-1] = iter([(k, arr) for k in list(arr)])
        return nxt
    return step


@AWK.factory("AwkForNext", effect="it -- key b",
             formula="b = there is a next key still in the array; key = it (uninit when done)")
def _for_next(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        it = stack[-1]
        for k, arr in it:
            if k in arr:
                stack[-1] = k
                stack.append(True)
                return nxt
        stack[-1] = UNINIT
        stack.append(False)
        return nxt
    return step


@AWK.factory("AwkArrayLen", effect="arr -- n", formula="n = number of elements of arr")
def _array_len(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack[-1] = float(len(_array(stack[-1])))
        return nxt
    return step


@AWK.factory("AwkCheckArray", effect="arr -- arr", formula="fatal unless arr is an array")
def _check_array(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        _array(stack[-1])
        return nxt
    return step


@AWK.factory("AwkCheckScalar", effect="v -- v", formula="fatal if v is an array")
def _check_scalar(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        if type(stack[-1]) is AwkArray:
            raise AwkFatal("can't use array in scalar context")
        return nxt
    return step
