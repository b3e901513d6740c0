"""awk ops for output, getline and the builtin functions (same ExtensionSet as `ops`)."""

from __future__ import annotations

from typing import Any

from fusevm.interp.extapi import Step
from fusevm.lang.awk.ops import (
    _MATH,
    _MODES,
    AWK,
    IO,
    R,
    _array,
    _dyn_regex,
    _field_index,
    io_of,
    num,
    state_of,
)
from fusevm.lang.awk.runtime import (
    UNINIT,
    AwkRandom,
    awk_atan2,
    awk_int,
    index,
    make_strnum,
    split,
    sprintf,
    subst,
    substr,
    tolower,
    toupper,
)
from fusevm.lang.awk.runtime import match as re_match
from fusevm.lang.awk.state import AwkFatal, AwkState, key_of
from fusevm.lang.awk.streams import Streams, broken_pipe
from fusevm.ops import F

# -- print and printf ---------------------------------------------------------------------


def _print_text(st: AwkState, items: list[Any]) -> str:
    if not items:
        return st.record_text() + st.ors
    out = st.out_str
    if len(items) == 1:
        return out(items[0]) + st.ors
    return st.ofs.join([out(v) for v in items]) + st.ors


@AWK.factory("AwkPrint", operands="count:U8", effect="items[count] --",
             formula="write the items (OFMT) joined by OFS, then ORS; no items: $0", flags=IO)
def _print(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    count, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        if count:
            items = stack[-count:]
            del stack[-count:]
        else:
            items = []
        io_of(vm).out.write(_print_text(st, items))
        return nxt
    return step


@AWK.factory("AwkPrintTo", operands="count:U8 mode:U8", effect="items[count] dest --",
             formula="print to the file or command dest (mode 0 >, 1 >>, 2 |)", flags=IO)
def _print_to(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    count, mode = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        dest = st.str_of(stack.pop())
        if count:
            items = stack[-count:]
            del stack[-count:]
        else:
            items = []
        _write(io_of(vm), _MODES[mode], dest, _print_text(st, items))
        return nxt
    return step


def _write(streams: Streams, mode: str, dest: str, text: str) -> None:
    out = streams.output(mode, dest)
    if out is streams.out:
        out.write(text)  # a closed stdout ends the run quietly (see main)
        return
    try:
        out.write(text)
    except BrokenPipeError:
        raise broken_pipe(dest) from None


@AWK.factory("AwkPrintf", operands="count:U8", effect="items[count] --",
             formula="write sprintf(items...)", flags=IO)
def _printf(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    count, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        items = stack[-count:]
        del stack[-count:]
        io_of(vm).out.write(_sprintf(st, items))
        return nxt
    return step


@AWK.factory("AwkPrintfTo", operands="count:U8 mode:U8", effect="items[count] dest --",
             formula="printf to the file or command dest (mode 0 >, 1 >>, 2 |)", flags=IO)
def _printf_to(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    count, mode = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        dest = st.str_of(stack.pop())
        items = stack[-count:]
        del stack[-count:]
        _write(io_of(vm), _MODES[mode], dest, _sprintf(st, items))
        return nxt
    return step


def _sprintf(st: AwkState, items: list[Any]) -> str:
    fmt = st.str_of(items[0])
    try:
        return sprintf(fmt, items[1:], st.convfmt)
    except ValueError as e:
        raise AwkFatal(str(e)) from None


@AWK.factory("AwkSprintf", operands="count:U8", effect="items[count] -- s",
             formula="s = sprintf(items...)")
def _sprintf_op(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    count, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        items = stack[-count:]
        del stack[-count:]
        stack.append(_sprintf(state_of(vm), items))
        return nxt
    return step


# -- getline ----------------------------------------------------------------------------


def _main_record(vm: Any) -> str | None:
    st = state_of(vm)
    rec = io_of(vm).next_main()
    if rec is not None:
        st.nr += 1
        st.fnr += 1
        st.nr_val = st.fnr_val = None
    return rec


def _source(vm: Any, command: bool) -> str | None | int:
    """The next record of a file or command. Neither form touches NR: POSIX's table says
    `cmd | getline` sets NR, but gawk, mawk and onetrue-awk all leave it alone,
    and we follow the implementations (decision D17)."""
    st = state_of(vm)
    name = st.str_of(vm.stack_api.pop())
    return io_of(vm).read_from(name, command)


def _result(rec: str | None | int) -> float:
    if rec is None:
        return 0.0
    if isinstance(rec, int):
        return -1.0
    return 1.0


@AWK.factory("AwkGetline", effect="-- r", formula="getline: $0 = next main record; NR, FNR += 1",
             flags=IO)
def _getline(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        rec = _main_record(vm)
        if rec is not None:
            state_of(vm).set_record(rec)
        stack.append(_result(rec))
        return nxt
    return step


@AWK.factory("AwkGetlineVar", effect="-- r v ok",
             formula="getline var: v = next main record (ok when read); NR, FNR += 1", flags=IO)
def _getline_var(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    nxt = ip + 1

    def step() -> int:
        _push_var(vm, _main_record(vm))
        return nxt
    return step


def _push_var(vm: Any, rec: str | None | int) -> None:
    stack = vm.stack_api.items
    stack.append(_result(rec))
    if isinstance(rec, str):
        stack.append(make_strnum(rec))
        stack.append(True)
    else:
        stack.append(UNINIT)
        stack.append(False)


def _getline_into_record(from_cmd: bool) -> Any:
    """The factory of `getline < src` / `src | getline`: $0 = the source's next record."""
    def factory(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
        stack = vm.stack_api.items
        nxt = ip + 1

        def step() -> int:
            rec = _source(vm, from_cmd)
            if isinstance(rec, str):
                state_of(vm).set_record(rec)
            stack.append(_result(rec))
            return nxt
        return step
    return factory


def _getline_into_var(from_cmd: bool) -> Any:
    """The factory of `getline var < src` / `src | getline var`."""
    def factory(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
        nxt = ip + 1

        def step() -> int:
            _push_var(vm, _source(vm, from_cmd))
            return nxt
        return step
    return factory


# Declared in this order: their ids are part of the compiled programs' ABI.
AWK.factory("AwkGetlineFile", effect="src -- r", formula="getline < src: $0 = its next record",
            flags=IO)(_getline_into_record(False))
AWK.factory("AwkGetlineFileVar", effect="src -- r v ok",
            formula="getline var < src: v = its next record", flags=IO)(_getline_into_var(False))
AWK.factory("AwkGetlineCmd", effect="src -- r",
            formula="src | getline: $0 = the command's next record (NR unchanged)",
            flags=IO)(_getline_into_record(True))
AWK.factory("AwkGetlineCmdVar", effect="src -- r v ok",
            formula="src | getline var: v = the command's next record (NR unchanged)",
            flags=IO)(_getline_into_var(True))


# -- string builtins -------------------------------------------------------------------


@AWK.factory("AwkLength", effect="v -- n", formula="n = length of str(v)")
def _length(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        v = stack[-1]
        stack[-1] = float(len(v if type(v) is str else state_of(vm).str_of(v)))
        return nxt
    return step


@AWK.factory("AwkSubstr", operands="argc:U8", effect="args[argc] -- s",
             formula="s = substr(args...)")
def _substr(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    argc, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        length = num(stack.pop()) if argc == 3 else None
        start = num(stack.pop())
        stack[-1] = substr(state_of(vm).str_of(stack[-1]), start, length)
        return nxt
    return step


@AWK.factory("AwkIndex", effect="s t -- n", formula="n = index(str(s), str(t))")
def _index(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        str_of = state_of(vm).str_of
        t = str_of(stack.pop())
        stack[-1] = float(index(str_of(stack[-1]), t))
        return nxt
    return step


@AWK.factory("AwkCase", operands="upper:U8", effect="s -- r", formula="r = toupper/tolower(str(s))")
def _case(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    upper, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        s = state_of(vm).str_of(stack[-1])
        stack[-1] = toupper(s) if upper else tolower(s)
        return nxt
    return step


@AWK.factory("AwkSplit", operands="mode:U8", effect="s arr sep -- n",
             formula="n = split(s, arr, sep): mode 0 by FS (sep ignored), 1 by string, 2 by ERE")
def _split(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    mode, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        sep = stack.pop()
        arr = _array(stack.pop())
        text = st.str_of(stack[-1])
        if mode == 0:
            pieces = split(text, None, st.fs)
        elif mode == 2:
            pieces = split(text, _dyn_regex(vm, sep), st.fs)
        else:
            pieces = split(text, st.str_of(sep), st.fs)
        arr.clear()
        for i, piece in enumerate(pieces, 1):
            arr[str(i)] = make_strnum(piece)
        stack[-1] = float(len(pieces))
        return nxt
    return step


@AWK.factory("AwkSub", operands="global:U8", effect="re repl target -- n new ok",
             formula="sub/gsub: new = target with replacements, n of them; ok when n > 0", flags=R)
def _sub(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    global_, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        target = st.str_of(stack.pop())
        repl = st.str_of(stack.pop())
        rx = _dyn_regex(vm, stack[-1])
        new, count = subst(rx, repl, target, bool(global_))
        stack[-1] = float(count)
        stack.append(new)
        stack.append(count > 0)
        return nxt
    return step


@AWK.factory("AwkSubField", operands="global:U8", effect="i re repl -- n",
             formula="n = sub/gsub(re, repl, $i), replacing $i when n > 0", flags=R)
def _sub_field(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    global_, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        repl = st.str_of(stack.pop())
        rx = _dyn_regex(vm, stack.pop())
        i = _field_index(stack[-1])
        new, count = subst(rx, repl, st.str_of(st.get_field(i)), bool(global_))
        if count:
            st.set_field(i, new)
        stack[-1] = float(count)
        return nxt
    return step


@AWK.factory("AwkSubIndex", operands="global:U8", effect="arr key re repl -- n",
             formula="n = sub/gsub(re, repl, arr[key]), replacing the element when n > 0", flags=R)
def _sub_index(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    global_, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        repl = st.str_of(stack.pop())
        rx = _dyn_regex(vm, stack.pop())
        k = stack.pop()
        if type(k) is not str:
            k = key_of(k, st.convfmt)
        arr = _array(stack[-1])
        old = arr.get(k, UNINIT)
        new, count = subst(rx, repl, st.str_of(old), bool(global_))
        if count:
            arr[k] = new
        elif k not in arr:
            arr[k] = UNINIT
        stack[-1] = float(count)
        return nxt
    return step


@AWK.factory("AwkMatch", effect="s re -- n", formula="n = match(s, re); sets RSTART and RLENGTH")
def _match(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        st = state_of(vm)
        rx = _dyn_regex(vm, stack.pop())
        start, length = re_match(st.str_of(stack[-1]), rx)
        st.set_match(start, length)
        stack[-1] = float(start)
        return nxt
    return step


# -- numeric builtins -------------------------------------------------------------------


@AWK.factory("AwkInt", effect="v -- n", formula="n = int(num(v)), truncated toward zero")
def _int(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack[-1] = awk_int(num(stack[-1]))
        return nxt
    return step


@AWK.factory("AwkMath", operands="fn:U8", effect="v -- n",
             formula="n = sqrt/exp/log/sin/cos of num(v)")
def _math(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    fn, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack[-1] = _MATH[fn](num(stack[-1]))
        return nxt
    return step


@AWK.factory("AwkAtan2", effect="y x -- n", formula="n = atan2(num(y), num(x))")
def _atan2(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        x = num(stack.pop())
        stack[-1] = awk_atan2(num(stack[-1]), x)
        return nxt
    return step


def _rng(vm: Any) -> AwkRandom:
    rng = vm.host_data.get("awk.rand")
    if rng is None:
        rng = vm.host_data["awk.rand"] = AwkRandom()
    return rng  # type: ignore[no-any-return]


@AWK.factory("AwkRand", effect="-- n", formula="n = rand(), in [0, 1)")
def _rand(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack.append(_rng(vm).rand())
        return nxt
    return step


@AWK.factory("AwkSrand", operands="argc:U8", effect="args[argc] -- n",
             formula="n = srand([seed]): the previous seed")
def _srand(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    argc, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        seed = num(stack.pop()) if argc else None
        stack.append(float(_rng(vm).srand(seed)))
        return nxt
    return step


# -- I/O builtins ------------------------------------------------------------------------


@AWK.factory("AwkSystem", effect="cmd -- n", formula="n = exit status of sh -c str(cmd)",
             flags=IO | F.SPAWN)
def _system(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        cmd = state_of(vm).str_of(stack[-1])
        vm.require("spawn", "system()")
        stack[-1] = float(io_of(vm).system(cmd))
        return nxt
    return step


@AWK.factory("AwkClose", effect="name -- n", formula="n = close(str(name))", flags=IO)
def _close(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack[-1] = float(io_of(vm).close(state_of(vm).str_of(stack[-1])))
        return nxt
    return step


@AWK.factory("AwkFflush", operands="argc:U8", effect="args[argc] -- n",
             formula="n = fflush([name]); no name flushes everything", flags=IO)
def _fflush(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    argc, = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        streams = io_of(vm)
        if argc:
            name = state_of(vm).str_of(stack.pop())
            stack.append(float(streams.flush(name)))
        else:
            streams.flush_all()
            stack.append(0.0)
        return nxt
    return step


def ensure_loaded() -> None:
    """Importing this module registers its handlers; callers use this to say so."""


# -- constants ------------------------------------------------------------------------
# Declared last so the ids of the ops above stay as they were.


@AWK.factory("AwkStrWide", operands="table:CONST index:I32", effect="-- s",
             formula="push consts[table][index] (string literals beyond the 16-bit pool)")
def _str_wide(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    table, index = operands
    stack = vm.stack_api.items
    nxt = ip + 1

    def step() -> int:
        stack.append(vm.chunk.constants[table][index])
        return nxt
    return step
