"""awk ops for output, getline and the builtin functions (same ExtensionSet as `ops`)."""

from __future__ import annotations

from itertools import islice

from fusevm.interp.extapi import Step
from fusevm.lang.awk.format import item_formatter
from fusevm.lang.awk.ops import (
    _MATH,
    _MODES,
    AWK,
    IO,
    R,
    _array,
    _const_regex,
    _dyn_regex,
    _field_index,
    fields_of_record,
    float_of_field,
    io_of,
    no_relation,
    num,
    relation_chain,
    state_of,
)
from fusevm.lang.awk.regex import substituter
from fusevm.lang.awk.runtime import (
    NUMBER_START,
    UNINIT,
    AwkRandom,
    StrNum,
    awk_atan2,
    awk_int,
    index,
    make_strnum,
    split,
    substr,
    tolower,
    toupper,
)
from fusevm.lang.awk.runtime import match as re_match
from fusevm.lang.awk.state import NF, NR, AwkFatal, AwkState, key_of
from fusevm.lang.awk.streams import Streams, broken_pipe
from fusevm.ops import F

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from fusevm.lang.awk.regex import Substitute

    #: (a block of lines, an index k) to the indices from k on of the lines a test
    #: passes, ascending (`Regex.block_scanner`)
    Scan = Callable[[list[str], int], list[int]]
    Filter = tuple[Scan, Callable[[str], bool]]  # (scan, the same test of one record)

# -- print and printf ---------------------------------------------------------------------


def _print_text(st: AwkState, items: list[Any]) -> str:
    if not items:
        return st.record_text() + st.ors
    out = st.out_str
    if len(items) == 1:
        return out(items[0]) + st.ors
    return st.ofs.join([out(v) for v in items]) + st.ors


@AWK.function("AwkPrint", operands="count:U8", effect="items[count] --",
              formula="write the items (OFMT) joined by OFS, then ORS; no items: $0", flags=IO)
def _print(vm: Any, operands: tuple[Any, ...]) -> Callable[[list[Any]], None]:
    host = vm.host_data

    def print_items(items: list[Any]) -> None:
        host["awk.io"].out.write(_print_text(host["awk"], items))
    return print_items


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
    if streams.is_stdout(out):
        out.write(text)  # a closed stdout ends the run quietly (see main)
        return
    try:
        out.write(text)
    except BrokenPipeError:
        raise broken_pipe(dest) from None


@AWK.function("AwkPrintf", operands="count:U8", effect="items[count] --",
              formula="write sprintf(items...)", flags=IO)
def _printf(vm: Any, operands: tuple[Any, ...]) -> Callable[[list[Any]], None]:
    host = vm.host_data
    format_items = _item_formatter()

    def printf(items: list[Any]) -> None:
        host["awk.io"].out.write(format_items(host["awk"], items))
    return printf


@AWK.factory("AwkPrintfTo", operands="count:U8 mode:U8", effect="items[count] dest --",
             formula="printf to the file or command dest (mode 0 >, 1 >>, 2 |)", flags=IO)
def _printf_to(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    count, mode = operands
    stack = vm.stack_api.items
    nxt = ip + 1
    format_items = _item_formatter()

    def step() -> int:
        st = state_of(vm)
        dest = st.str_of(stack.pop())
        items = stack[-count:]
        del stack[-count:]
        _write(io_of(vm), _MODES[mode], dest, format_items(st, items))
        return nxt
    return step


def _item_formatter() -> Callable[[AwkState, list[Any]], str]:
    """sprintf of one op's items (the format first). The op remembers the formatter of
    the last format it saw: a literal format is the same string object every time."""
    last: list[Any] = [None, None]

    def format_items(st: AwkState, items: list[Any]) -> str:
        fmt = items[0]
        if fmt is last[0]:
            formatter = last[1]
        else:
            formatter = item_formatter(st.str_of(fmt))
            if type(fmt) is str:  # a number's text depends on CONVFMT: not remembered
                last[0] = fmt
                last[1] = formatter
        try:
            return formatter(items, st.convfmt)  # type: ignore[no-any-return]
        except ValueError as e:
            raise AwkFatal(str(e)) from None
    return format_items


@AWK.function("AwkSprintf", operands="count:U8", effect="items[count] -- s",
              formula="s = sprintf(items...)")
def _sprintf_op(vm: Any, operands: tuple[Any, ...]) -> Callable[[list[Any]], str]:
    host = vm.host_data
    format_items = _item_formatter()

    def sprintf_items(items: list[Any]) -> str:
        return format_items(host["awk"], items)
    return sprintf_items


# -- getline ----------------------------------------------------------------------------


def _main_record(vm: Any) -> str | None:
    st = state_of(vm)
    rec = io_of(vm).next_main()
    if rec is not None:
        st.nr += 1
        st.fnr += 1
        st.nr_val = st.fnr_val = None
    return rec


def _source(vm: Any, src: Any, command: bool) -> str | None | int:
    """The next record of a file or command. Neither form touches NR: POSIX's table says
    `cmd | getline` sets NR, but gawk, mawk and onetrue-awk all leave it alone,
    and we follow the implementations (decision D17)."""
    return io_of(vm).read_from(state_of(vm).str_of(src), command)


def _result(rec: str | None | int) -> float:
    if rec is None:
        return 0.0
    if isinstance(rec, int):
        return -1.0
    return 1.0


@AWK.function("AwkGetline", effect="-- r",
              formula="getline: $0 = next main record; NR, FNR += 1", flags=IO)
def _getline(vm: Any, operands: tuple[Any, ...]) -> Callable[[], float]:
    def getline() -> float:
        rec = _main_record(vm)
        if rec is not None:
            state_of(vm).set_record(rec)
        return _result(rec)
    return getline


def _var_result(rec: str | None | int) -> tuple[float, Any, bool]:
    if isinstance(rec, str):
        return _result(rec), make_strnum(rec), True
    return _result(rec), UNINIT, False


@AWK.function("AwkGetlineVar", effect="-- r v ok",
              formula="getline var: v = next main record (ok when read); NR, FNR += 1",
              flags=IO)
def _getline_var(vm: Any, operands: tuple[Any, ...]) -> Callable[[], tuple[float, Any, bool]]:
    def getline_var() -> tuple[float, Any, bool]:
        return _var_result(_main_record(vm))
    return getline_var


def _getline_into_record(from_cmd: bool) -> Any:
    """The binder of `getline < src` / `src | getline`: $0 = the source's next record."""
    def binder(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], float]:
        def getline_into_record(src: Any) -> float:
            rec = _source(vm, src, from_cmd)
            if isinstance(rec, str):
                state_of(vm).set_record(rec)
            return _result(rec)
        return getline_into_record
    return binder


def _getline_into_var(from_cmd: bool) -> Any:
    """The binder of `getline var < src` / `src | getline var`."""
    def binder(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], tuple[float, Any, bool]]:
        def getline_into_var(src: Any) -> tuple[float, Any, bool]:
            return _var_result(_source(vm, src, from_cmd))
        return getline_into_var
    return binder


# Declared in this order: their ids are part of the compiled programs' ABI.
AWK.function("AwkGetlineFile", effect="src -- r", formula="getline < src: $0 = its next record",
             flags=IO)(_getline_into_record(False))
AWK.function("AwkGetlineFileVar", effect="src -- r v ok",
             formula="getline var < src: v = its next record", flags=IO)(_getline_into_var(False))
AWK.function("AwkGetlineCmd", effect="src -- r",
             formula="src | getline: $0 = the command's next record (NR unchanged)",
             flags=IO)(_getline_into_record(True))
AWK.function("AwkGetlineCmdVar", effect="src -- r v ok",
             formula="src | getline var: v = the command's next record (NR unchanged)",
             flags=IO)(_getline_into_var(True))


# -- string builtins -------------------------------------------------------------------


@AWK.function("AwkLength", effect="v -- n", formula="n = length of str(v)")
def _length(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], float]:
    def length(v: Any) -> float:
        return float(len(v if type(v) is str else state_of(vm).str_of(v)))
    return length


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


@AWK.function("AwkIndex", effect="s t -- n", formula="n = index(str(s), str(t))")
def _index(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any], float]:
    def index_of(s: Any, t: Any) -> float:
        str_of = state_of(vm).str_of
        return float(index(str_of(s), str_of(t)))
    return index_of


@AWK.function("AwkCase", operands="upper:U8", effect="s -- r",
              formula="r = toupper/tolower(str(s))")
def _case(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], str]:
    convert = toupper if operands[0] else tolower

    def case(s: Any) -> str:
        return convert(state_of(vm).str_of(s))
    return case


@AWK.function("AwkSplit", operands="mode:U8", effect="s arr sep -- n",
              formula="n = split(s, arr, sep): mode 0 by FS (sep ignored), 1 by string, "
                      "2 by ERE")
def _split(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any, Any], float]:
    mode, = operands

    def split_op(s: Any, arr: Any, sep: Any) -> float:
        st = state_of(vm)
        a = _array(arr)
        text = st.str_of(s)
        if mode == 0:
            pieces = split(text, None, st.fs)
        elif mode == 2:
            # An empty ERE (`//`) is outside POSIX's grammar: onetrue-awk, gawk and mawk
            # split as by the null string, a character a piece.
            ere = st.str_of(sep)
            pieces = split(text, _dyn_regex(vm, ere) if ere else "", st.fs)
        else:
            pieces = split(text, st.str_of(sep), st.fs)
        a.clear()
        for i, piece in enumerate(pieces, 1):
            a[str(i)] = make_strnum(piece)
        return float(len(pieces))
    return split_op


def _substitutions(vm: Any, every: bool) -> Callable[[Any, Any], Substitute]:
    """One sub/gsub op's `substitution(re, repl)`: the function doing it on a text. It
    remembers the last pair of strings: a literal regex and replacement are the same
    objects every time, so only a dynamic one is looked up again."""
    last: list[Any] = [None, None, None]

    def substitution(re: Any, repl: Any) -> Substitute:
        if re is last[0] and repl is last[1]:
            return last[2]  # type: ignore[no-any-return]
        replacement = state_of(vm).str_of(repl)
        substitute = substituter(_dyn_regex(vm, re), replacement, every)
        if type(re) is str and type(repl) is str:
            last[0] = re
            last[1] = repl
            last[2] = substitute
        return substitute
    return substitution


@AWK.function("AwkSub", operands="global:U8", effect="re repl target -- n new ok",
              formula="sub/gsub: new = target with replacements, n of them; ok when n > 0",
              flags=R)
def _sub(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any, Any], tuple[float, str, bool]]:
    substitution = _substitutions(vm, bool(operands[0]))

    def sub(re: Any, repl: Any, target: Any) -> tuple[float, str, bool]:
        st = state_of(vm)
        text = st.str_of(target)
        new, count = substitution(re, repl)(text)
        return float(count), new, count > 0
    return sub


@AWK.function("AwkSubField", operands="global:U8", effect="i re repl -- n",
              formula="n = sub/gsub(re, repl, $i), replacing $i when n > 0", flags=R)
def _sub_field(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any, Any], float]:
    substitution = _substitutions(vm, bool(operands[0]))
    host = vm.host_data

    def sub_field(i: Any, re: Any, repl: Any) -> float:
        st = host["awk"]
        substitute = substitution(re, repl)
        k = int(i) if type(i) is float and i >= 0.0 else _field_index(i)
        if k == 0 and st.record_val is None and not st.record_stale:
            text = st.record  # input text, not yet read as a value
        else:
            text = st.str_of(st.get_field(k))
        new, count = substitute(text)
        if count:
            st.set_field(k, new)
        return float(count)
    return sub_field


@AWK.function("AwkSubIndex", operands="global:U8", effect="arr key re repl -- n",
              formula="n = sub/gsub(re, repl, arr[key]), replacing the element when n > 0",
              flags=R)
def _sub_index(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any, Any, Any], float]:
    substitution = _substitutions(vm, bool(operands[0]))

    def sub_index(arr: Any, k: Any, re: Any, repl: Any) -> float:
        st = state_of(vm)
        substitute = substitution(re, repl)
        if type(k) is not str:
            k = key_of(k, st.convfmt)
        a = _array(arr)
        old = a.get(k, UNINIT)
        new, count = substitute(st.str_of(old))
        if count:
            a[k] = new
        elif k not in a:
            a[k] = UNINIT
        return float(count)
    return sub_index


@AWK.function("AwkMatch", effect="s re -- n",
              formula="n = match(s, re); sets RSTART and RLENGTH")
def _match(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any], float]:
    def match(s: Any, re: Any) -> float:
        st = state_of(vm)
        rx = _dyn_regex(vm, re)
        start, length = re_match(st.str_of(s), rx)
        st.set_match(start, length)
        return float(start)
    return match


# -- numeric builtins -------------------------------------------------------------------


def _awk_int(v: Any) -> float:
    return awk_int(num(v))


@AWK.function("AwkInt", effect="v -- n", formula="n = int(num(v)), truncated toward zero")
def _int(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], float]:
    return _awk_int


@AWK.function("AwkMath", operands="fn:U8", effect="v -- n",
              formula="n = sqrt/exp/log/sin/cos of num(v)")
def _math(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], float]:
    fn = _MATH[operands[0]]

    def math(v: Any) -> float:
        return fn(num(v))
    return math


@AWK.function("AwkAtan2", effect="y x -- n", formula="n = atan2(num(y), num(x))")
def _atan2(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any, Any], float]:
    def atan2(y: Any, x: Any) -> float:
        xn = num(x)
        return awk_atan2(num(y), xn)
    return atan2


def _rng(vm: Any) -> AwkRandom:
    rng = vm.host_data.get("awk.rand")
    if rng is None:
        rng = vm.host_data["awk.rand"] = AwkRandom()
    return rng  # type: ignore[no-any-return]


@AWK.function("AwkRand", effect="-- n", formula="n = rand(), in [0, 1)")
def _rand(vm: Any, operands: tuple[Any, ...]) -> Callable[[], float]:
    def rand() -> float:
        return _rng(vm).rand()
    return rand


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


@AWK.function("AwkSystem", effect="cmd -- n", formula="n = exit status of sh -c str(cmd)",
              flags=IO | F.SPAWN)
def _system(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], float]:
    def system(cmd: Any) -> float:
        text = state_of(vm).str_of(cmd)
        vm.require("spawn", "system()")
        return float(io_of(vm).system(text))
    return system


@AWK.function("AwkClose", effect="name -- n", formula="n = close(str(name))", flags=IO)
def _close(vm: Any, operands: tuple[Any, ...]) -> Callable[[Any], float]:
    def close(name: Any) -> float:
        return float(io_of(vm).close(state_of(vm).str_of(name)))
    return close


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


@AWK.function("AwkStrWide", operands="table:CONST index:I32", effect="-- s",
              formula="push consts[table][index] (string literals beyond the 16-bit pool)")
def _str_wide(vm: Any, operands: tuple[Any, ...]) -> Callable[[], str]:
    table, index = operands

    def str_wide() -> str:
        return vm.chunk.constants[table][index]  # type: ignore[no-any-return]
    return str_wide


# -- fields as array subscripts ---------------------------------------------------------
# Declared last so the ids of the ops above stay as they were. A subscript needs a field's
# text, never its strnum: input text is its own key (a StrNum's key is that same text), so
# these skip the number test and the StrNum that `AwkField` makes for text like "42".

AWK.body("AwkFieldKeyK", operands="index:COUNT", effect="-- key",
         formula="key = $index as an array subscript (its text; numbers by CONVFMT)",
         names={"key_of": key_of}, results={"key": str}, source=f"""
    if index:
{fields_of_record(8)}
        if index <= len(fields):
            f = fields[index - 1]
            key = f if type(f) is str else key_of(f, st.convfmt)
        else:
            key = ""  # beyond NF
    else:
        key = key_of(st.get_record(), st.convfmt)
    """)


AWK.body("AwkFieldKey", effect="i -- key",
         formula="key = $i as an array subscript (its text; numbers by CONVFMT)",
         names={"key_of": key_of, "field_index": _field_index}, results={"key": str}, source=f"""
    if type(i) is float and i >= 1.0:
        k = int(i)
{fields_of_record(8)}
        if k <= len(fields):
            f = fields[k - 1]
            key = f if type(f) is str else key_of(f, st.convfmt)
        else:
            key = ""  # beyond NF
    else:
        key = key_of(st.get_field(int(i) if type(i) is float and i >= 0.0 else field_index(i)),
                     st.convfmt)
    """)


# -- the record loop of a program whose every rule is a regex ------------------------------
# Declared last so the ids of the ops above stay as they were.


def _filtered_records(host: dict[str, Any], make: Callable[[], Filter]) -> Callable[[], bool]:
    """The record loop's `next()` for a program that runs nothing for a record `test`
    fails: read main-input records until `test` passes one, and make it the new record;
    those before it only count in NR and FNR, and the last of them stays $0 for END, as
    it would have. False at the end of the input. `scan(block, k)` runs the same test
    over a block's lines from the k-th on, once per block: the indices of those it
    passes. The list is walked from wherever the block's iterator stands (a getline in
    the action, nextfile or the next block may have moved it, or replaced it), and a
    record taken moves the iterator straight past it. `make()` gives (scan, test),
    called at the first record: a bad ERE is an error of the first record, after BEGIN,
    as the rule's own test's is."""
    scan: Scan | None = None
    test: Callable[[str], bool] | None = None
    running: Any = None  # the iterator over `block` that `pending` was made for
    block: list[str] = []
    pending: Iterator[int] = iter(())  # the indices scan gave not yet taken

    def next_filtered() -> bool:
        nonlocal scan, test, running, block, pending
        if scan is None or test is None:
            scan, test = make()
        st = host["awk"]
        streams = host["awk.io"]
        main = streams.main
        passed = None  # the last record passed over
        while True:
            if main is not None and main.only_lines and st.rs == "\n":
                lines = main.lines
                if lines is not running:
                    running = lines
                    block = main.block
                    k = len(block) - lines.__length_hint__()  # the next line's index
                    pending = iter(scan(block, k))
                else:
                    k = len(block) - lines.__length_hint__()
                for j in pending:
                    if j >= k:
                        lines.__setstate__(j + 1)  # (a list's iterator: its position)
                        count = j - k + 1
                        st.nr += count
                        st.fnr += count
                        rec = block[j]
                        if st.lines is lines:
                            # nothing since this block's last record needs resetting but
                            # $0 (`AwkState.lines`: the record loop's lines are these)
                            st.record = rec
                            st.record_val = None
                            st.fields = None
                        else:
                            st.new_record(rec, main.plain, main.clean)
                            st.lines = lines
                        return True
                total = len(block)
                if k < total:  # the block's lines after the last match
                    lines.__setstate__(total)
                    st.nr += total - k
                    st.fnr += total - k
                    passed = block[-1]
            rec, plain, clean = streams.read_on()
            if rec is None:
                break
            st.nr += 1
            st.fnr += 1
            if test(rec):
                st.new_record(rec, plain, clean)
                return True
            passed = rec
            main = streams.main
        if passed is not None:
            st.nr_val = st.fnr_val = None
            st.set_record(passed)  # END sees the last record read
        return False
    return next_filtered


def _needs_scanner(needs: tuple[str, ...]) -> Filter:
    """`_filtered_records`' scan and test for records holding one of the texts `needs`."""
    def test(rec: str) -> bool:
        for text in needs:
            if text in rec:
                return True
        return False

    def scan(block: list[str], k: int) -> list[int]:
        found = []
        for j, rec in enumerate(islice(block, k, None), k):
            for text in needs:
                if text in rec:
                    found.append(j)
                    break
        return found
    return scan, test


@AWK.function("AwkNextCandidate", operands="need:CONST", effect="-- b",
              formula="b = read main-input records until one holds a text of consts[need]; "
                      "those before it only count in NR and FNR", flags=IO)
def _next_candidate(vm: Any, operands: tuple[Any, ...]) -> Callable[[], bool]:
    """AwkNextRecord for a program whose every rule is `/re/ {...}` and whose regexes each
    need one of the texts `need` in any record they match (`compiler.record_filter`): a
    record holding none of them runs no rule, so it is counted and passed over here, with
    one `in` test per text, instead of running every pattern. The last record read stays
    $0 for END, as it would have."""
    need, = operands
    needs = tuple(vm.chunk.constants[need])
    return _filtered_records(vm.host_data, lambda: _needs_scanner(needs))


@AWK.function("AwkNextMatch", operands="ere:CONST", effect="-- b",
              formula="b = read main-input records until one the ERE consts[ere] matches; "
                      "those before it only count in NR and FNR", flags=IO)
def _next_match(vm: Any, operands: tuple[Any, ...]) -> Callable[[], bool]:
    """AwkNextRecord for a program of one rule, `/re/ {...}` (`compiler.record_match`):
    the regex is tested here, over the block's lines (`Regex.block_scanner`: str tests of
    the literals it needs first, RE2 only for the lines that pass them, a call per run of
    matching lines), and the rule runs only for the records it matches, without testing
    again. The last record read stays $0 for END, as it would have."""
    ere, = operands

    def make() -> Filter:
        rx = _const_regex(vm, ere)
        return rx.block_scanner(), rx.tester()
    return _filtered_records(vm.host_data, make)


# $index compared with a number: input text that float() reads as awk would (make_strnum's
# first step) compares as that number, with no StrNum made; anything else is $index by
# get_field's rules compared as AwkCmp compares it
AWK.body("AwkFieldCmp", operands="index:COUNT op:U8", effect="y -- r",
         formula="r = $index op y for a Float y (AwkFieldK index; AwkCmp op)",
         names={"NUMBER_START": NUMBER_START, "StrNum": StrNum, "num": num,
                "ValueError": ValueError, "no_relation": no_relation},
         results={"r": bool}, source=f"""
    x = None
    if index:
{fields_of_record(8)}
        if index <= len(fields):
            f = fields[index - 1]
            if type(f) is str and f and f[0] in NUMBER_START and not st.literal:
{float_of_field("x = None", 16)}
    if x is None:
        a = st.get_field(index)
        ta = type(a)
        if ta is str:
            x = a
            y2 = st.str_of(y)
        else:
            x = a.num if ta is StrNum else num(a)
            y2 = y
    else:
        y2 = y
    {relation_chain("x", "y2", 4)}
    """)


@AWK.function("AwkSplitLimit", operands="limit:COUNT", effect="--",
              formula="records split into at most limit + 1 fields from here on (the "
                      "program reads no field past $limit, nor NF)")
def _split_limit(vm: Any, operands: tuple[Any, ...]) -> Callable[[], None]:
    limit, = operands

    def split_limit() -> None:
        state_of(vm).limit = limit
    return split_limit


# NR, FNR or NF of a program that never assigns it (`compiler.fixed_counts`): always the
# number awk keeps, so a Float the code after it need not test
AWK.body("AwkCountNum", operands="k:U8", effect="-- v",
         formula="v = NR, FNR or NF (special variable k) of a program that never assigns it",
         results={"v": float}, source=f"""
    if k == {NF}:
{fields_of_record(8)}
        v = float(len(fields))
    elif k == {NR}:
        v = float(st.nr)
    else:
        v = float(st.fnr)
    """)


# `s = s x`, the way strings are built in a loop (`exprs.assign`): the variable's string
# is let go before the append, so CPython grows it in place (its only reference) instead
# of copying all of it each time (gawk appends in place too). Declared last: ids are
# given in declaration order and are kept.
AWK.body("AwkAppendVar", operands="name:NAME", effect="v --",
         formula="globals[name] = str(globals[name]) str(v), strings as AwkConcat makes "
                 "them (CONVFMT)", source="""
    s = globals_[name]
    globals_[name] = None
    if type(s) is not str:
        s = st.str_of(s)
    s += v if type(v) is str else st.str_of(v)
    globals_[name] = s
    """)


# `print $k`: the text print would write for the field, without making its strnum (print
# writes a numeric string's own text; `compiler.print_stmt`).
AWK.body("AwkFieldTextK", operands="index:COUNT", effect="-- s",
         formula="s = the text print writes for $index (a number by OFMT)",
         results={"s": str}, source=f"""
    if index:
{fields_of_record(8)}
        if index <= len(fields):
            f = fields[index - 1]
            s = f if type(f) is str else st.out_str(f)
        else:
            s = ""  # beyond NF
    else:
        s = st.record_text()
    """)
