"""The handlers of the `sh` extension ops (declared in `opset`): what only a shell needs
beyond the core and shell ops.

Words are built on the stack as marked strings (see `words`) with core `Concat`; these ops
expand parameters, arithmetic and tildes into marked text, turn a word into fields, run
simple commands, fork subshells / pipeline stages / background jobs (the child runs the ops
between two targets and exits; the parent jumps past them), and step `for` loops.
Handlers find the shell's `ShState` in `vm.host_data["sh"]`. The ops every loop turn runs
are step factories in `hotops`; importing this module attaches the rest (and, through
`hotops`, those) to `SH`, which it re-exports as the complete set (the
`fusevm.extensions` entry point).
"""

from __future__ import annotations

import os

from fusevm.interp.extapi import Step
from fusevm.interp.shapes import unary
from fusevm.lang.sh import runtime, words
from fusevm.lang.sh.errors import ShError, ShExit
from fusevm.lang.sh.host import ShHost
from fusevm.lang.sh.hotops import mark, param_value, st, take_words, unset_error
from fusevm.lang.sh.opset import QUOTED, SH, TEXT_BUILTINS
from fusevm.lang.sh.state import (
    DOC,
    Pending,
    enter_child,
    move_fd,
    new_pipe,
    wait_child,
)
from fusevm.memo import Memo
from fusevm.shell import csignal as signal
from fusevm.shell import text as shell_text
from fusevm.shell.text import from_os, matchable
from fusevm.values import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.lang.sh.stages import Done

QS, QE = words.QS, words.QE


@SH.bind("ShLine")
def _line(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    line, = operands
    s = st(vm)
    nxt = ip + 1

    def step() -> int:
        s.lineno = line
        s.subst_status = None
        return nxt
    return step


@SH.handle("ShParamSet")
def _param_set(vm: Any, name_c: int, flags: int) -> None:
    s = st(vm)
    name = vm.chunk.constants[name_c]
    colon = flags & 1
    if name in ("@", "*"):
        ok = bool(s.positional)
        if ok and colon:
            # Null as its expansion is empty: "$*" joins the parameters by IFS's first
            # character; $@, and $* unquoted, keep them apart (two or more are not null,
            # as in bash and dash's `:-`).
            if name == "*" and flags & 2:
                sep = s.ifs[:1] if s.ifs is not None else " "
                ok = sep.join(s.positional) != ""
            else:
                ok = len(s.positional) > 1 or s.positional[0] != ""
        vm.stack.append(ok)
        return
    v = param_value(s, vm, name)
    vm.stack.append(v is not None and (not colon or v != ""))


@SH.handle("ShParamAssign")
def _param_assign(vm: Any, name_c: int) -> None:
    s = st(vm)
    name = vm.chunk.constants[name_c]
    value = vm.stack.pop()
    if not (name[0].isalpha() or name[0] == "_"):
        raise ShError(f"{name}: bad variable name" if not name.isdigit()
                      else f"${{{name}}}: bad substitution" if False
                      else f"{name}: bad variable name", 2)
    s.set(name, value)


@SH.handle("ShParamError")
def _param_error(vm: Any, name_c: int, colon: int) -> None:
    name = vm.chunk.constants[name_c]
    message = vm.stack.pop()
    if not message:
        message = "parameter null or not set" if colon else "parameter not set"
    raise ShError(f"{name}: {message}", 1)


@SH.handle("ShTrim")
def _trim(vm: Any, name_c: int, code: int, flags: int) -> None:
    s = st(vm)
    name = vm.chunk.constants[name_c]
    pat = vm.stack.pop()
    value = param_value(s, vm, name)
    if value is None:
        if s.opts["u"]:
            raise unset_error(name)
        value = ""
    vm.stack.append(mark(trim(value, pat, code), flags & QUOTED))


def trim(value: str, pat: str, code: int) -> str:
    """${v#p} (5), ${v##p} (6), ${v%p} (7), ${v%%p} (8)."""
    cut = _literal_trim(value, pat, code)
    if cut is None:
        cut = _fixed_trim(value, pat, code)
    return cut if cut is not None else _pattern_trim(value, pat, code)


def _fixed_trim(value: str, pat: str, code: int) -> str | None:
    """`trim` for a pattern with no star (`${v%?}`, `${v#[ab]}`): it matches a fixed
    number of characters, so the shortest and the longest cut are the one of that length,
    tested as `case` tests a pattern (`stars.star_match`, no regex); None for any other
    pattern, and where that test needs the regex engine."""
    runs_of, star_match = _star_patterns or _load_star_patterns()
    runs = runs_of[pat, shell_text.byte_mode]
    if runs is None or len(runs) != 1:
        return None
    k = len(runs[0])
    if k > len(value):
        return value
    # (one character of the matchable form for one of the value)
    part = matchable(value[:k] if code <= 6 else value[len(value) - k:])
    found = star_match(runs, True, part)
    if found is None:
        return None
    if not found:
        return value
    return value[k:] if code <= 6 else value[:len(value) - k]


def _pattern_trim(value: str, pat: str, code: int) -> str:
    """`trim` by matching the pattern (any pattern)."""
    try:
        rx = (_compile_pattern or _load_glob())(pat)
    except Exception:  # noqa: BLE001 - a malformed pattern removes nothing
        return value
    # positions in the matchable form are positions in `value` (one character for one)
    scan = rx.scanner(matchable(value))
    n = len(value)
    if code == 6:  # the longest prefix: the longest match at 0 (RE2 matches leftmost-longest)
        span = scan.match(0)
        return value if span is None else value[span[1]:]
    if code == 8:
        # The longest suffix: the leftmost match start from which a match reaches the end
        # (the longest match at a start ends at n if any match from there does).
        pos = 0
        while pos <= n:
            span = scan.search(pos)
            if span is None:
                break
            if span[1] == n:
                return value[:span[0]]
            pos = span[0] + 1
        return value
    if code == 5:
        for i in range(n + 1):
            if scan.fullmatch(0, i):
                return value[i:]
    else:
        for i in range(n, -1, -1):
            if scan.fullmatch(i, n):
                return value[:i]
    return value


def _literal_trim(value: str, pat: str, code: int) -> str | None:
    """`trim` for a pattern that is ASCII text with at most a `*` at one end (`${p##*/}`,
    `${f%.*}`, `${v#prefix}`: most trims scripts make), by `str` methods; None for any
    other pattern. The same cuts as the match: `matchable` maps no character to ASCII
    but ASCII itself, so an ASCII text is found at the same places in a value and in its
    matchable form."""
    if not pat.isascii():
        return None
    lead = pat.startswith("*")
    text = pat[1:] if lead else pat[:-1] if pat.endswith("*") else pat
    tail = not lead and len(text) < len(pat)
    if "*" in text or "?" in text or "[" in text or "\\" in text:
        return None
    k = len(text)
    if code <= 6:  # a prefix: `#` the shortest, `##` the longest
        if lead:  # any text, then `text`: up to its first or last occurrence
            i = value.find(text) if code == 5 else value.rfind(text)
            return value if i < 0 else value[i + k:]
        if not value.startswith(text):
            return value
        return "" if tail and code == 6 else value[k:]
    if tail:  # a suffix `text`, then any text: from its last or first occurrence
        i = value.rfind(text) if code == 7 else value.find(text)
        return value if i < 0 else value[:i]
    if not value.endswith(text):
        return value
    return "" if lead and code == 8 else value[:len(value) - k]


#: `fusevm.shell.glob.compile_pattern`, loaded with the first `${v#p}` (start-up time).
_compile_pattern: Any = None


def _load_glob() -> Any:
    global _compile_pattern
    from fusevm.shell.glob import compile_pattern
    _compile_pattern = compile_pattern
    return compile_pattern


@SH.bind("ShMark")
def _mark(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    quoted, = operands
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        v = stack[-1]
        stack[-1] = mark(v if type(v) is str else str(v), quoted)
        return nxt
    return step


@SH.bind("ShFields")
def _fields(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    s = st(vm)
    stack = vm.stack
    fields = words.fields
    nxt = ip + 1

    def step() -> int:
        stack[-1] = fields(stack[-1], s.vars.get("IFS"), s.opts["f"])
        return nxt
    return step


@SH.bind("ShStrip")
def _strip(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    return unary(vm, ip, words.strip)


@SH.bind("ShPattern")
def _pattern(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    nxt = ip + 1
    # a `case` pattern in a loop is mostly the same constant word each time: its pattern is
    # remembered for the word object last seen
    last_word: object = None
    last = ""

    def step() -> int:
        nonlocal last_word, last
        word = stack[-1]
        if word is not last_word:
            last, last_word = words.pattern(word), word
        stack[-1] = last
        return nxt
    return step


@SH.handle("ShSubstInline")
def _subst_inline(vm: Any, sub: int) -> None:
    s = st(vm)
    chunk = vm.chunk.sub_chunks[sub]
    if s.opts["u"] or s.opts["x"] or any(name in s.functions for name in TEXT_BUILTINS):
        vm.stack.append(vm.shell.cmd_subst(chunk))
        return
    vm.stack.append(runtime.capture_inline(s, chunk, vm.last_status))


@SH.handle("ShTilde")
def _tilde(vm: Any, user_c: int) -> None:
    s = st(vm)
    user = vm.chunk.constants[user_c]
    if user == "":
        home = s.vars.get("HOME")
        text = home if home is not None else "~"
    else:
        try:
            import pwd
            text = from_os(pwd.getpwnam(user).pw_dir)
        except (KeyError, ImportError):
            text = "~" + user
    vm.stack.append(QS + text + QE)


@SH.handle("ShPrefix")
def _prefix(vm: Any, name_c: int) -> None:
    s = st(vm)
    name = vm.chunk.constants[name_c]
    value = vm.stack.pop()
    s.prefix_saved.append((name, s.vars.get(name), name in s.exported))
    s.prefix.append((name, value))
    s.set(name, value)
    s.exported.add(name)


@SH.handle("ShHereDoc")
def _heredoc(vm: Any, fd: int) -> None:
    st(vm).pending.append(Pending(fd, DOC, vm.stack.pop()))


@SH.handle("ShLoopEnter")
def _loop_enter(vm: Any, brk: int, cont: int) -> None:
    s = st(vm)
    vm.host_data.setdefault("sh.loops", []).append((brk, cont, len(s.scopes)))
    s.loop_depth += 1


@SH.handle("ShLoopLeave")
def _loop_leave(vm: Any) -> None:
    loops = vm.host_data.get("sh.loops")
    if loops:
        loops.pop()
        st(vm).loop_depth -= 1


@SH.bind("ShErrCheck")
def _errcheck(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    s = st(vm)
    nxt = ip + 1

    def step() -> int:
        if vm.last_status and s.opts["e"] and not s.errexit_off:
            raise ShExit(vm.last_status)
        return nxt
    return step


@SH.bind("ShNot")
def _not(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    nxt = ip + 1

    def step() -> int:
        vm.last_status = 0 if vm.last_status else 1
        return nxt
    return step


@SH.handle("ShRedirCheck")
def _redir_check(vm: Any, target: int) -> None:
    s = st(vm)
    if s.redir_failed:
        s.redir_failed = False
        vm.last_status = 1
        vm.jump(target)


@SH.handle("ShSubshell")
def _subshell(vm: Any, start: int, stop: int) -> None:
    s = st(vm)
    pid = os.fork()
    if pid == 0:
        enter_child(s)
        runtime.run_forked_segment(s, vm, start, stop)
    vm.last_status = wait_child(pid)
    if s.pending_signals:
        runtime.run_traps(s, vm)
    vm.jump(stop)


@SH.handle("ShPipe")
def _pipe(vm: Any, start: int, stop: int) -> None:
    s = st(vm)
    pipes: list[Any] = vm.host_data.setdefault("sh.pipes", [])
    if not pipes or pipes[-1][2]:
        pipes.append([None, [], False])  # prev_read, pids, finished
    ctx = pipes[-1]
    last = _is_pipe_end(vm, stop)
    # (loaded before the pipe takes two descriptors: under a low `ulimit -n` the import's
    # own descriptor would be the one missing)
    stages = _stages or _load_stages()
    r = w = None
    if not last:
        r, w = new_pipe()
    stdio = tuple((fd, target) for fd, target in ((ctx[0], 0), (w, 1)) if fd is not None)
    run = stages.spawnable_now(s, vm.chunk, start, stop, (ctx[0], r, w))
    if run is not None:
        pid = stages.start_stage(s, vm, start, stop, run, stdio, r)
    else:
        pid = os.fork()
        if pid == 0:
            runtime.enter_stage(s, vm, stdio, r)
            runtime.run_forked_segment(s, vm, start, stop)
    if ctx[0] is not None:
        os.close(ctx[0])
    if w is not None:
        os.close(w)
    ctx[0] = r
    ctx[1].append(pid)
    if last:
        ctx[2] = True
    vm.jump(stop)


#: `fusevm.lang.sh.stages`, loaded with the first pipeline or `$(...)` (start-up time).
_stages: Any = None


def _load_stages() -> Any:
    global _stages
    from fusevm.lang.sh import stages
    _stages = stages
    return stages


def _start_subst(state: Any, chunk: Any, status: int, out: int, close: int
                 ) -> int | Done | None:
    """`ShHost.start_subst`: `stages.start_subst`, loaded with the first `$(...)`."""
    return (_stages or _load_stages()).start_subst(  # type: ignore[no-any-return]
        state, chunk, status, out, close)


ShHost.start_subst = _start_subst


def _is_pipe_end(vm: Any, ip: int) -> bool:
    ops = vm.chunk.ops
    if ip >= len(ops):
        return False
    from fusevm.ops import EXTENDED_OPS
    instr = ops[ip]
    return bool(instr[0] in EXTENDED_OPS and instr[1] == _PIPE_END_ID)


@SH.handle("ShPipeInline")
def _pipe_inline(vm: Any) -> None:
    ctx = vm.host_data["sh.pipes"][-1]
    if ctx[0] is not None:
        move_fd(ctx[0], 0)
        ctx[0] = None
    ctx[2] = True
    if ctx[1]:
        # the last stage's status is this process's; earlier ones are only reaped
        ctx[1].append(-1)


@SH.handle("ShPipeEnd")
def _pipe_end(vm: Any, bang: int) -> None:
    pipes = vm.host_data.get("sh.pipes")
    ctx = pipes.pop()
    s = st(vm)
    status = 0
    every = s.opts["pipefail"]  # (the last command's status, or the last one not 0)
    for pid in ctx[1]:
        found = vm.last_status if type(pid) is int and pid < 0 else wait_child(pid)
        if found or not every:
            status = found
    if bang:
        status = 0 if status else 1
    vm.last_status = status
    if s.pending_signals:
        runtime.run_traps(s, vm)


_PIPE_END_ID: Final = SH["ShPipeEnd"].id


@SH.handle("ShJobText")
def _job_text(vm: Any, text_c: int) -> None:
    st(vm).job_text = vm.chunk.constants[text_c]


@SH.handle("ShBg")
def _bg(vm: Any, start: int, stop: int) -> None:
    s = st(vm)
    pid = None
    if not s.interactive:
        stages = _stages or _load_stages()
        run = stages.spawnable_now(s, vm.chunk, start, stop, ())
        if run is not None:
            pid = stages.start_job(s, vm, start, stop, run)
    if pid is None:
        pid = os.fork()
        if pid == 0:
            enter_child(s)
            if not s.interactive:
                for sig in runtime.job_signals(s):
                    signal.signal(sig, signal.SIG_IGN)
                move_fd(os.open(os.devnull, os.O_RDONLY), 0)
            runtime.run_forked_segment(s, vm, start, stop)
    s.last_bg = pid
    s.jobs[pid] = None
    s.job_texts[pid] = s.job_text
    s.job_order.append(pid)
    s.job_text = ""
    vm.last_status = 0
    vm.jump(stop)


@SH.handle("ShDefun")
def _defun(vm: Any, name_c: int, sub: int) -> None:
    s = st(vm)
    name = vm.chunk.constants[name_c]
    if name in runtime.SPECIAL:
        raise ShError(f"{name}: is a special builtin" if False else
                      "Syntax error: Bad function name", 2)
    s.functions[name] = vm.chunk.sub_chunks[sub]
    vm.last_status = 0


@SH.handle("ShList")
def _list(vm: Any, n: int) -> None:
    stack = vm.stack
    stack.append(take_words(stack, n))


@SH.handle("ShPositional")
def _positional(vm: Any) -> None:
    vm.stack.append(list(st(vm).positional))


@SH.bind("ShForNext")
def _for_next(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    var_c, slot, target = operands
    done: int = target
    s = st(vm)
    var: str = vm.chunk.constants[var_c]
    nxt = ip + 1

    def step() -> int:
        slots = vm.slots
        items = slots[slot]
        i = slots[slot + 1]
        if i >= len(items):
            return done
        slots[slot + 1] = i + 1
        s.set(var, items[i])
        return nxt
    return step


@SH.bind("ShCaseMatch")
def _case_match(vm: Any, operands: tuple[Any, ...], ip: int) -> Step:
    stack = vm.stack
    nxt = ip + 1
    runs_of, star_match = _star_patterns or _load_star_patterns()

    def step() -> int:
        pat = stack.pop()
        subject = stack[-1]
        runs = runs_of[pat, shell_text.byte_mode]
        if runs is not None:  # (runs of atoms around stars: no regex)
            found = star_match(runs, True, matchable(subject))
            if found is not None:
                stack[-1] = found
                return nxt
        try:
            ok = (_compile_pattern or _load_glob())(pat).fullmatch(matchable(subject))
        except Exception:  # noqa: BLE001 - a malformed pattern matches only itself
            ok = words.strip(pat) == subject
        stack[-1] = ok
        return nxt
    return step


#: A `case` or trim pattern's runs of atoms around its stars (`stars.star_runs` of its
#: matchable form, as `glob.compile_pattern` reads it, with the locale's classes), by
#: pattern and whether the locale is C, and `stars.star_match`: a script's patterns,
#: matched with no regex loaded. Loaded with the first `case` (start-up time).
_star_patterns: tuple[Memo, Any] | None = None


def _load_star_patterns() -> tuple[Memo, Any]:
    global _star_patterns
    from fusevm.regex.stars import star_match, star_runs
    _star_patterns = (Memo(lambda key: star_runs(matchable(key[0]), False, not key[1]), 512),
                      star_match)
    return _star_patterns


__all__ = ["SH", "Status"]
