"""The sh ops a loop runs on every turn, bound as step factories: parameters, assignments,
simple commands, `[`/`test` run in place, `$?` tests and the stack code of `$(( ))`.

A factory binds the op's operands and the shell's `ShState` once, when the VM prepares the
chunk, so each op costs one Python call (see `fusevm.interp.extapi`). The helpers the other
handlers (`ops`) share live here too, so imports go one way: `ops` -> `hotops`.
"""

from __future__ import annotations

from fusevm.interp import shapes
from fusevm.interp.extapi import Step
from fusevm.lang.sh import runtime, words
from fusevm.lang.sh.errors import ShError, ShExit, ShLoopJump
from fusevm.lang.sh.opset import (
    A_PARAM,
    A_QUOTED,
    ARITH_BINARY,
    ARITH_UNARY,
    ASSIGN_ERREXIT,
    ASSIGN_LAST,
    ASSIGN_SUBST,
    B_PARAM,
    B_QUOTED,
    DIRECT,
    ERREXIT,
    FIELDS,
    JUMP_OK,
    LENGTH,
    QUOTED,
    RAW,
    SH,
    TEST_CMP,
    TEST_NAME,
)
from fusevm.lang.sh.state import WATCHED, ShState, restore, write
from fusevm.values import INT_MAX, INT_MIN

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

QS, QE, XS, XE, FB, ZA = words.QS, words.QE, words.XS, words.XE, words.FB, words.ZA
_DEFAULT_IFS: Final = words.DEFAULT_IFS

def st(vm: Any) -> ShState:
    try:
        s: ShState = vm.host_data["sh"]
    except KeyError:
        s = vm.hosted("sh")  # (raises: a VM the shell runtime did not make)
    return s


def mark(text: str, quoted: int) -> str:
    return (QS + text + QE) if quoted else (XS + text + XE)


def param_value(s: ShState, vm: Any, name: str) -> str | None:
    """The value of any parameter, None when unset."""
    c = name[0]
    if c.isdigit():
        if len(name) > 18:
            name = name.lstrip("0") or "0"
            if len(name) > 18:
                return None  # (no shell has that many positional parameters)
        n = int(name)
        if n == 0:
            return s.arg0
        return s.positional[n - 1] if n <= len(s.positional) else None
    if len(name) == 1 and not (c.isalpha() or c == "_"):
        if c == "?":
            return str(vm.last_status)
        if c == "#":
            return str(len(s.positional))
        if c == "$":
            return str(s.main_pid)
        if c == "!":
            return None if s.last_bg is None else str(s.last_bg)
        if c == "-":
            return s.option_string()
        if c in "@*":
            if not s.positional:
                return ""
            sep = s.ifs[:1] if s.ifs is not None else " "
            return sep.join(s.positional)
        return None
    if name == "LINENO":
        return str(s.lineno)
    return s.vars.get(name)


def is_variable(name: str) -> bool:
    """True for a parameter `param_value` finds in the variables (not a special one)."""
    return (name[0].isalpha() or name[0] == "_") and name != "LINENO"


def unset_error(name: str) -> ShError:
    return ShError(f"{name}: parameter not set", 2)


def _plain_field(value: str, s: ShState) -> bool:
    """True when an unquoted expansion of the non-empty `value` is that one field (no
    IFS character, nothing a pathname expansion could match)."""
    ifs = s.vars.get("IFS", _DEFAULT_IFS)
    if ifs == _DEFAULT_IFS:
        if " " in value or not value.isprintable():
            return False
    elif any(c in ifs for c in value):
        return False
    return s.opts["f"] or not words.could_glob(value)


def unquoted_fields(s: ShState, value: str) -> list[str]:
    """The fields of an unquoted expansion of `value` (split by IFS, globbed)."""
    if not value:
        return []
    return words.fields(XS + value + XE, s.vars.get("IFS"), s.opts["f"])


@SH.bind("ShParam")
def _param(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    name_c, flags = operands
    s = st(vm)
    name: str = vm.chunk.constants[name_c]
    stack = vm.stack
    push = stack.append
    nxt = ip + 1
    quoted = flags & QUOTED
    if name in ("@", "*") and not flags & LENGTH:
        star = name == "*"
        raw = flags & RAW
        if raw or quoted and star:
            # `"$*"`, and either one as a whole word where nothing splits (RAW: an
            # assignment, a `case` word): the parameters joined, `$*` by IFS's first
            # character, `$@` by spaces (as bash).
            def joined() -> int:
                sep = s.ifs[:1] if star and s.ifs is not None else " "
                text = sep.join(s.positional)
                push(text if raw else QS + text + QE)
                return nxt
            return joined

        def fields() -> int:
            ps = s.positional
            if quoted:  # "$@": a field per parameter, none for no parameters
                push(FB.join(QS + p + QE for p in ps) if ps else ZA)
            else:
                push(FB.join(XS + p + XE for p in ps))
            return nxt
        return fields
    plain = is_variable(name)
    opts = s.opts

    def step() -> int:
        value = s.vars.get(name) if plain else param_value(s, vm, name)
        if value is None:
            if opts["u"]:
                raise unset_error(name)
            value = ""
        if flags & LENGTH:
            value = str(len(s.positional)) if name in ("@", "*") else str(len(value))
        push(expansion(s, value, flags))
        return nxt
    return step


def expansion(s: ShState, value: str, flags: int) -> Any:
    """The word a parameter or `$(( ))` expanding to `value` pushes: the text itself (RAW),
    its fields (FIELDS: the text itself when it is one plain field), or marked quoted
    (QUOTED) or not."""
    if flags & RAW:
        return value
    if flags & FIELDS:
        return value if value and _plain_field(value, s) else unquoted_fields(s, value)
    return mark(value, flags & QUOTED)


@SH.bind("ShAssign")
def _assign(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    name_c, flags = operands
    s = st(vm)
    name: str = vm.chunk.constants[name_c]
    pop = vm.stack.pop
    opts = s.opts
    nxt = ip + 1

    watched = name in WATCHED
    variables, readonly, numbers = s.vars, s.readonly, s.numbers
    last, subst = flags & ASSIGN_LAST, flags & ASSIGN_SUBST

    def step() -> int:
        value = pop()
        if type(value) is int:  # straight from $(( )) code
            n = value
            value = str(n)
            numbers[name] = (value, n)
        if opts["x"]:
            write(2, f"{s.vars.get('PS4', '+ ')}{name}={runtime.xquote(value)}\n")
        if watched or opts["a"] or name in readonly:
            s.set(name, value)
        else:
            variables[name] = value
        if last:
            if subst and s.subst_status is not None:
                status = s.subst_status
                vm.last_status = status
                if status and flags & ASSIGN_ERREXIT and opts["e"] and not s.errexit_off:
                    raise ShExit(status)
            else:
                vm.last_status = 0
        return nxt
    return step


# -- simple commands --------------------------------------------------------------------------


def take_words(stack: list[Any], n: int) -> list[str]:
    """The top `n` stack items (words, or lists of fields) taken off, as one word list."""
    if not n:
        return []
    items = stack[-n:]
    del stack[-n:]
    argv: list[str] = []
    for v in items:
        if type(v) is list:
            argv.extend(v)
        else:
            argv.append(v)
    return argv


def run_argv(s: ShState, vm: Any, argv: list[str], flags: int, nxt: int) -> int:
    """Run a simple command with its expanded words (what ShRun does after taking them off
    the stack); the next ip (a loop's target after a dynamic break/continue)."""
    if s.opts["n"] and not s.interactive:  # set -n: read commands, run none
        s.pending.clear()
        s.prefix.clear()
        runtime.pop_assigns(s, s.prefix_saved)
        s.prefix_saved = []
        vm.last_status = 0
        return nxt
    try:
        if flags & ERREXIT:
            status = runtime.run_command(s, vm, argv, bool(flags & DIRECT))
        else:
            s.errexit_off += 1
            try:
                status = runtime.run_command(s, vm, argv, bool(flags & DIRECT))
            finally:
                s.errexit_off -= 1
    except ShLoopJump as j:
        return loop_jump(vm, s, j)
    vm.last_status = status
    if s.pending_signals:
        runtime.run_traps(s, vm)
    if status and flags & ERREXIT and s.opts["e"] and not s.errexit_off:
        raise ShExit(status)
    return nxt


def loop_jump(vm: Any, s: ShState, j: ShLoopJump) -> int:
    """A dynamic `break`/`continue` (from eval, `.`, or an expanded command name): the ip
    of the loop's target."""
    loops = vm.host_data.get("sh.loops")
    if not loops:
        raise j
    n = min(j.count, len(loops))
    for _ in range(n - 1):
        loops.pop()
        s.loop_depth -= 1
    brk, cont, scopes = loops[-1]
    while len(s.scopes) > scopes:
        restore(s.scopes.pop())
    vm.last_status = 0
    target: int = brk if j.is_break else cont
    return target


@SH.bind("ShRun")
def _run(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    argc, flags, line = operands
    s = st(vm)
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        s.lineno = line
        return run_argv(s, vm, take_words(stack, argc), flags, nxt)
    return step


def run_test(s: ShState, vm: Any, name: str, args: list[str], flags: int, nxt: int) -> int:
    """`[ args` or `test args` (name) with its words expanded: the builtin run in place,
    or, when traced, not to be run or redefined as a function, the general command."""
    opts = s.opts
    if opts["x"] or opts["n"] or name in s.functions or s.pending or s.prefix:
        return run_argv(s, vm, [name, *args], flags & ERREXIT, nxt)
    test = runtime.find_builtin(name)
    assert test is not None  # (`test` and `[` are regular builtins, always defined)
    status = test(s, vm, [name, *args])  # the builtin itself, in place
    return _tested(s, vm, status, flags, nxt)


def _tested(s: ShState, vm: Any, status: int, flags: int, nxt: int) -> int:
    vm.last_status = status
    if s.pending_signals:
        runtime.run_traps(s, vm)
    if status and flags & ERREXIT and s.opts["e"] and not s.errexit_off:
        raise ShExit(status)
    return nxt


@SH.bind("ShTest")
def _test(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    argc, flags, line = operands
    s = st(vm)
    stack = vm.stack
    nxt = ip + 1
    name = "test" if flags & TEST_NAME else "["

    def step() -> int:
        s.lineno = line
        return run_test(s, vm, name, take_words(stack, argc), flags, nxt)
    return step


@SH.bind("ShTestCmp")
def _test_cmp(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    a_c, b_c, op_code, flags = operands
    constants = vm.chunk.constants
    line = vm.chunk.line_of(ip) or 0
    return _compare_step(vm, constants[a_c], constants[b_c], op_code, flags, line, ip + 1,
                         ip + 1)


@SH.bind("ShTestCmpJump")
def _test_cmp_jump(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    ab_c, op_code, flags, target = operands
    a, b = vm.chunk.constants[ab_c]
    line = vm.chunk.line_of(ip) or 0
    if flags & JUMP_OK:
        return _compare_step(vm, a, b, op_code, flags, line, target, ip + 1)
    return _compare_step(vm, a, b, op_code, flags, line, ip + 1, target)


#: What the general path of a test passes run_argv as the next ip, to tell its normal
#: end from a dynamic break/continue's target.
_GO_ON: Final = -1


def _compare_step(vm: Any, a: str, b: str, op_code: int, flags: int, line: int, passed: int,
                  failed: int) -> Step:
    """The step of `[ a OP b ]` continuing at `passed` when it succeeds and at `failed`
    when not (the same ip for ShTestCmp)."""
    s = st(vm)
    op = TEST_CMP[op_code]
    name = "test" if flags & TEST_NAME else "["
    errexit = flags & ERREXIT
    a_param, b_param = flags & A_PARAM, flags & B_PARAM
    a_split = a_param and not flags & A_QUOTED
    b_split = b_param and not flags & B_QUOTED
    # (`test`'s module loads with the first comparison a script makes: `sh -c :` has none)
    from fusevm.lang.sh.testcmd import COMPARE
    cmp = COMPARE.get(op)  # None for = and !=
    equal = op == "="
    split = a_split or b_split
    tail = ["]"] if name == "[" else []
    opts, functions, get = s.opts, s.functions, s.vars.get
    a_var = a_param and is_variable(a)  # a plain variable: read straight from vars
    b_var = b_param and is_variable(b)

    def word(text: str, param: int, split: int) -> list[str]:
        """The word's fields, as the ops it stands for would expand it."""
        if not param:
            return [text]
        v = param_value(s, vm, text)
        if v is None:
            if opts["u"]:
                raise unset_error(text)
            v = ""
        return unquoted_fields(s, v) if split else [v]

    def run(args: list[str]) -> int:
        nxt = run_test(s, vm, name, args, flags, _GO_ON)
        if nxt != _GO_ON:  # a dynamic break/continue (from a function named `[`)
            return nxt
        return passed if vm.last_status == 0 else failed

    def general() -> int:
        return run([*word(a, a_param, a_split), op, *word(b, b_param, b_split), *tail])

    def three(x: str, y: str) -> int:
        """`x op y` when each is one word; otherwise the general path."""
        if (a_split and not (x and _plain_field(x, s))) or (
                b_split and not (y and _plain_field(y, s))):
            return general()
        return run([x, op, y, *tail])

    known = s.numbers.get
    a_name, b_name = (a if a_var else ""), (b if b_var else "")

    def number(text: str, var: str) -> int | None:
        """The number `text` (the value of the variable `var`, if any) is, when it is in
        decimal: from `ShState.numbers`, or plain digits converted here."""
        if var:
            c = known(var)
            if c is not None and c[0] is text:
                return c[1]
        return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None

    def step() -> int:
        s.lineno = line
        if opts["x"] or opts["n"] or s.pending or s.prefix or (functions and name in functions):
            return general()
        x = get(a) if a_var else param_value(s, vm, a) if a_param else a
        y = get(b) if b_var else param_value(s, vm, b) if b_param else b
        if x is None or y is None:
            return general()
        if cmp is not None:
            # decimal numbers: one word each unless IFS holds digits (or `-`), and exactly
            # test's numbers
            m, n = number(x, a_name), number(y, b_name)
            if m is None or n is None or (split and get("IFS", _DEFAULT_IFS) != _DEFAULT_IFS):
                return three(x, y)
            status = 0 if cmp(m, n) else 1
        elif (a_split and not (x and _plain_field(x, s))) or (
                b_split and not (y and _plain_field(y, s))):
            return general()
        else:
            status = 0 if (x == y) == equal else 1
        vm.last_status = status
        if s.pending_signals:
            runtime.run_traps(s, vm)
        if status and errexit and opts["e"] and not s.errexit_off:
            raise ShExit(status)
        return failed if status else passed
    if not (cmp is not None and a_var and not b_param and b.isascii() and b.isdigit()
            and len(b) < 19):
        return step
    k = int(b)

    def var_number() -> int:
        """`$v OP 123`, the loop test: the plain case here, anything else by step()."""
        x = get(a)
        c = known(a)
        if c is not None and c[0] is x:
            n = c[1]  # its decimal text: one word with the default IFS, never a pattern
        elif x is not None and x.isascii() and x.isdigit() and len(x) < 19:
            n = int(x)
        else:
            return step()
        if opts["x"] or opts["n"] or s.pending or s.prefix or (
                functions and name in functions) or (
                a_split and get("IFS", _DEFAULT_IFS) != _DEFAULT_IFS):
            return step()
        s.lineno = line
        status = 0 if cmp(n, k) else 1
        vm.last_status = status
        if s.pending_signals:
            runtime.run_traps(s, vm)
        if status and errexit and opts["e"] and not s.errexit_off:
            raise ShExit(status)
        return failed if status else passed
    return var_number


@SH.bind("ShStatusTrue")
def _status_true(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        push(vm.last_status == 0)
        return nxt
    return step


@SH.bind("ShJumpStatus")
def _jump_status(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    target, ok = operands
    nxt = ip + 1
    if ok:
        def if_ok() -> int:
            return target if vm.last_status == 0 else nxt
        return if_ok

    def if_failed() -> int:
        return nxt if vm.last_status == 0 else target
    return if_failed


@SH.bind("ShSaveStatus")
def _save_status(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    slot, = operands
    nxt = ip + 1

    def step() -> int:
        vm.slots[slot] = vm.last_status
        return nxt
    return step


# -- $(( )) -----------------------------------------------------------------------------------


@SH.bind("ShArith")
def _arith(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    from fusevm.lang.sh import arith  # (with the first arithmetic op)
    quoted, = operands
    s = st(vm)
    stack = vm.stack
    nxt = ip + 1

    def get(name: str) -> str | None:
        v = s.vars.get(name)
        if v is None and s.opts["u"]:
            raise unset_error(name)
        return v

    def step() -> int:
        n = arith.evaluate(stack.pop(), get, s.set)
        stack.append(expansion(s, str(n), quoted))
        return nxt
    return step


def _reader(s: ShState, name: str) -> Callable[[str | None], int]:
    """A function making the value `v` of the variable `name` (read by the caller, who
    found no number for it in `s.numbers`) a $(( )) operand. A decimal constant without
    sign, blanks or leading zero, short of 64 bits, is converted here and remembered there
    (int(v) is then exactly what `value_of` and `test` make of it)."""
    from fusevm.lang.sh import arith  # (with the first arithmetic op)
    opts = s.opts
    value_of = arith.value_of
    numbers = s.numbers

    def read(v: str | None) -> int:
        if v is None:
            if opts["u"]:
                raise unset_error(name)
            return 0
        if v.isascii() and v.isdigit() and v[0] != "0" and len(v) < 19:
            n = int(v)
            numbers[name] = (v, n)
            return n
        return value_of(v)
    return read


@SH.bind("ShArithGet")
def _arith_get(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    s = st(vm)
    name: str = vm.chunk.constants[operands[0]]
    read = _reader(s, name)
    get, known = s.vars.get, s.numbers.get
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        v = get(name)
        c = known(name)
        if c is not None and c[0] is v:
            push(c[1])
        else:
            push(read(v))
        return nxt
    return step


@SH.bind("ShArithParam")
def _arith_param(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    name_c, slot = operands[0], operands[1]
    target: int = operands[2]
    s = st(vm)
    name: str = vm.chunk.constants[name_c]
    get, known = s.vars.get, s.numbers.get
    plain = is_variable(name)
    nxt = ip + 1

    def step() -> int:
        v = get(name) if plain else param_value(s, vm, name)
        if plain:
            c = known(name)
            if c is not None and c[0] is v and c[1] >= 0:
                vm.slots[slot] = c[1]
                return nxt
        if v is not None and v.isascii() and v.isdigit() and (v[0] != "0" or len(v) == 1) \
                and len(v) < 19:
            vm.slots[slot] = int(v)
            return nxt
        return target
    return step


@SH.bind("ShArithPut")
def _arith_put(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    name_c, = operands
    s = st(vm)
    name: str = vm.chunk.constants[name_c]
    stack = vm.stack
    nxt = ip + 1

    watched = name in WATCHED
    variables, readonly, opts, numbers = s.vars, s.readonly, s.opts, s.numbers

    def step() -> int:
        n = stack[-1]
        text = str(n)
        numbers[name] = (text, n)
        if watched or opts["a"] or name in readonly:
            s.set(name, text)
        else:
            variables[name] = text
        return nxt
    return step


@SH.bind("ShArithBin")
def _arith_bin(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    from fusevm.lang.sh import arith  # (with the first arithmetic op)
    return shapes.binary(vm, ip, arith.BINARY[ARITH_BINARY[operands[0]]])


@SH.bind("ShArithK")
def _arith_k(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    from fusevm.lang.sh import arith  # (with the first arithmetic op)
    op = ARITH_BINARY[operands[0]]
    k: int = vm.chunk.constants[operands[1]]
    stack = vm.stack
    nxt = ip + 1
    fn = arith.with_constant(op, k)
    if op == "%" and k > 0:
        # `... % 7`: fn's own shortcut for a >= 0 inlined, saving a call a turn
        def remainder() -> int:
            a = stack[-1]
            stack[-1] = a % k if a >= 0 else fn(a)
            return nxt
        return remainder

    def step() -> int:
        stack[-1] = fn(stack[-1])
        return nxt
    return step


@SH.bind("ShArithVarK")
def _arith_var_k(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    from fusevm.lang.sh import arith  # (with the first arithmetic op)
    op = ARITH_BINARY[operands[0]]
    s = st(vm)
    name: str = vm.chunk.constants[operands[1]]
    read = _reader(s, name)
    get, known = s.vars.get, s.numbers.get
    k: int = vm.chunk.constants[operands[2]]
    push = vm.stack.append
    nxt = ip + 1
    if op in ("+", "*"):
        # `i + 1`, `i * 2` inlined (arith.with_constant's rule, saving a call a turn)
        low, high, wrap = INT_MIN, INT_MAX, arith.wrap

        def add() -> int:
            v = get(name)
            c = known(name)
            r = (c[1] if c is not None and c[0] is v else read(v)) + k
            push(r if low <= r <= high else wrap(r))
            return nxt

        def multiply() -> int:
            v = get(name)
            c = known(name)
            r = (c[1] if c is not None and c[0] is v else read(v)) * k
            push(r if low <= r <= high else wrap(r))
            return nxt
        return add if op == "+" else multiply
    fn = arith.with_constant(op, k)

    def step() -> int:
        v = get(name)
        c = known(name)
        push(fn(c[1] if c is not None and c[0] is v else read(v)))
        return nxt
    return step


@SH.bind("ShArithUn")
def _arith_un(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    from fusevm.lang.sh import arith  # (with the first arithmetic op)
    op = ARITH_UNARY[operands[0]]
    stack = vm.stack
    unary = arith.unary
    nxt = ip + 1

    def step() -> int:
        stack[-1] = unary(op, stack[-1])
        return nxt
    return step


@SH.bind("ShArithText")
def _arith_text(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    quoted, = operands
    s = st(vm)
    stack = vm.stack
    nxt = ip + 1
    if quoted & RAW:
        return shapes.unary(vm, ip, str)

    def step() -> int:
        stack[-1] = expansion(s, str(stack[-1]), quoted)
        return nxt
    return step
