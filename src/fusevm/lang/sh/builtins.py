"""The POSIX special builtins (`: . break continue eval exec exit export readonly return set
shift times trap unset`) plus `local`, and the helpers every builtin shares.

Each builtin takes (state, vm, argv) and returns a status; output goes straight to fds 1
and 2 (so redirections applied with dup2 take effect). An error of a special builtin raises
ShError, which ends a non-interactive shell.
"""

from __future__ import annotations

import os
import sys

from fusevm.lang.sh import runtime
from fusevm.lang.sh.errors import ShError, ShExit, ShLoopJump, ShReturn
from fusevm.lang.sh.opset import TEXT_BUILTINS
from fusevm.lang.sh.parser import is_name
from fusevm.lang.sh.state import (
    GETOPTS_RESTART,
    IGNORED_OPTIONS,
    LONG_OPTIONS,
    OPTION_LETTERS,
    SIGNAL_NAMES,
    ShState,
    signal_name,
    write,
)
from fusevm.shell import RedirectError, process
from fusevm.shell import csignal as signal
from fusevm.shell import text as shtext
from fusevm.values import decimal64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

B = runtime.BUILTINS

#: The regular builtins, by the module that defines them, which loads the first time a
#: command names one of them (`runtime.find_builtin`): `sh -c :` runs without them.
REGULAR: Final = {
    "fusevm.lang.sh.commands": ("true", "false", "echo", "printf", "test", "[", "cd", "pwd",
                                "read", "getopts", "type", "command", "hash", "ulimit",
                                "alias", "unalias"),
    "fusevm.lang.sh.procs": ("wait", "jobs", "kill", "umask"),
}
runtime.ON_USE.update((name, module) for module, names in REGULAR.items() for name in names)


def builtin(*names: str, text: runtime.Writer | None = None
            ) -> Callable[[runtime.Builtin], runtime.Builtin]:
    """Register the decorated function as the builtin(s) `names`; `text`: the builtin
    only writes what this gives to its stdout and returns its status (`runtime.WRITERS`)."""
    def reg(fn: runtime.Builtin) -> runtime.Builtin:
        for n in names:
            B[n] = fn
            if text is not None:
                assert n in TEXT_BUILTINS, f"{n}: not in opset.TEXT_BUILTINS"
                runtime.WRITERS[n] = text
        return fn
    return reg


def out(text: str) -> None:
    write(1, text)


def int_arg(s: ShState, name: str, text: str) -> int:
    n = decimal64(text)
    if n is None:
        raise ShError(f"{name}: Illegal number: {text}", 2)
    return n


def quote(v: str) -> str:
    return "'" + v.replace("'", "'\\''") + "'"


@builtin(":")
def _colon(s: ShState, vm: Any, argv: list[str]) -> int:
    return 0


@builtin("exit")
def _exit(s: ShState, vm: Any, argv: list[str]) -> int:
    status = vm.last_status
    if len(argv) > 1:
        n = decimal64(argv[1], sign=False)
        if n is None:
            raise ShError(f"exit: Illegal number: {argv[1]}", 2)
        status = n & 0xFF
    raise ShExit(status)


@builtin("return")
def _return(s: ShState, vm: Any, argv: list[str]) -> int:
    status = vm.last_status
    if len(argv) > 1:
        status = int_arg(s, "return", argv[1]) & 0xFF
    raise ShReturn(status)


@builtin("break", "continue")
def _break(s: ShState, vm: Any, argv: list[str]) -> int:
    n = 1
    if len(argv) > 1:
        n = int_arg(s, argv[0], argv[1])
        if n < 1:
            raise ShError(f"{argv[0]}: Illegal number: {argv[1]}", 2)
    if s.loop_depth == 0:
        return 0
    raise ShLoopJump(0, n, argv[0] == "break")


@builtin("eval")
def _eval(s: ShState, vm: Any, argv: list[str]) -> int:
    return runtime.eval_text(s, vm, " ".join(argv[1:]))


@builtin(".", "source")
def _dot(s: ShState, vm: Any, argv: list[str]) -> int:
    if len(argv) < 2:
        return 0
    name = argv[1]
    path = name
    if "/" not in name:
        for d in s.vars.get("PATH", "").split(":"):
            cand = os.path.join(d or ".", name)
            if os.path.isfile(cand):
                path = cand
                break
        else:
            raise ShError(f".: {name}: not found", 1)
    try:
        with open(path, "rb") as f:
            text = shtext.decode(f.read())
    except OSError:
        raise ShError(f".: cannot open {name}: No such file", 1) from None
    old = s.positional
    if len(argv) > 2:
        s.positional = argv[2:]
    try:
        return runtime.eval_text(s, vm, text, 1, ".")
    except ShReturn as r:
        return r.status
    finally:
        if len(argv) > 2:
            s.positional = old


@builtin("exec")
def _exec(s: ShState, vm: Any, argv: list[str]) -> int:
    redirs = s.take_pending()
    if len(argv) == 1:
        try:
            s.apply(redirs, save=False)
        except RedirectError as e:
            s.error(str(e))
            raise ShExit(2) from None
        return 0
    args = argv[1:]
    resolved = process.resolve(args[0], s.vars.get("PATH"))
    if resolved.path is None:
        # the shell ends here; the message goes where `exec`'s own redirections say
        try:
            s.apply(redirs, save=False)
        except RedirectError as e:
            s.error(str(e))
            raise ShExit(2) from None
        s.error(resolved.message.replace(": command not found", ": not found"))
        raise ShExit(resolved.status)
    kept = sys.modules.get("fusevm.lang.sh.scriptcache")
    if kept is not None:
        kept.save_open()  # (the shell ends here: what its scripts compiled is kept)
    runtime._exec_child(s, args, resolved, redirs, s.environ(s.cur_assigns))
    return 127


def _assign_arg(s: ShState, arg: str) -> str:
    name, eq, value = arg.partition("=")
    if not is_name(name):
        raise ShError(f"{name}: bad variable name", 2)
    if eq:
        s.set(name, value)
    return name


def _declare(s: ShState, argv: list[str], names: set[str], word: str) -> int:
    """`export` and `readonly` (`word`): mark each NAME[=VALUE] in `names`, or list those
    marked."""
    args = argv[1:]
    if args and args[0] == "-p":
        args = args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        for k in sorted(names):
            if k in s.vars:
                out(f"{word} {k}={quote(s.vars[k])}\n")
            else:
                out(f"{word} {k}\n")
        return 0
    for a in args:
        names.add(_assign_arg(s, a))
    return 0


@builtin("export")
def _export(s: ShState, vm: Any, argv: list[str]) -> int:
    return _declare(s, argv, s.exported, "export")


@builtin("readonly")
def _readonly(s: ShState, vm: Any, argv: list[str]) -> int:
    return _declare(s, argv, s.readonly, "readonly")


@builtin("local")
def _local(s: ShState, vm: Any, argv: list[str]) -> int:
    if not s.locals:
        raise ShError("local: not in a function", 2, fatal=False)
    frame = s.locals[-1]
    for a in argv[1:]:
        name, eq, value = a.partition("=")
        if not is_name(name):
            raise ShError(f"local: {name}: bad variable name", 2, fatal=False)
        if name not in frame:
            frame[name] = (s.vars.get(name), name in s.exported)
        if eq:
            s.set(name, value)
    return 0


@builtin("unset")
def _unset(s: ShState, vm: Any, argv: list[str]) -> int:
    mode = "v"
    args = argv[1:]
    while args and args[0].startswith("-") and len(args[0]) > 1:
        for c in args[0][1:]:
            if c in "fv":
                mode = c
            else:
                raise ShError(f"unset: Illegal option -{c}", 2)
        args = args[1:]
    for a in args:
        if mode == "f":
            s.functions.pop(a, None)
        else:
            if not is_name(a):
                raise ShError(f"unset: {a}: bad variable name", 2)
            s.unset(a)
    return 0


@builtin("shift")
def _shift(s: ShState, vm: Any, argv: list[str]) -> int:
    n = 1
    if len(argv) > 1:
        n = int_arg(s, "shift", argv[1])
    if n > len(s.positional) or n < 0:
        raise ShError("shift: can't shift that many", 2)
    s.positional = s.positional[n:]
    return 0


@builtin("set")
def _set(s: ShState, vm: Any, argv: list[str]) -> int:
    args = argv[1:]
    if not args:
        for k in sorted(s.vars):
            out(f"{k}={quote(s.vars[k])}\n")
        return 0
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            _set_positional(s, args[i:])
            return 0
        if a == "+":
            i += 1
            continue
        if a == "-":
            s.opts["x"] = s.opts["v"] = False
            i += 1
            if i < len(args):
                _set_positional(s, args[i:])
            return 0
        if a[0] not in "-+" or len(a) < 2:
            _set_positional(s, args[i:])
            return 0
        on = a[0] == "-"
        for c in a[1:]:
            if c == "o":
                i += 1
                if i >= len(args):
                    for name, letter in sorted(LONG_OPTIONS.items()):
                        if on:
                            out(f"{name:<16}{'on' if s.opts[letter] else 'off'}\n")
                        else:
                            out(f"set {'-' if s.opts[letter] else '+'}o {name}\n")
                    return 0
                name = args[i]
                if name in LONG_OPTIONS:
                    s.opts[LONG_OPTIONS[name]] = on
                elif name in IGNORED_OPTIONS:
                    pass
                else:
                    raise ShError(f"set: Illegal option -o {name}", 2)
            elif c in OPTION_LETTERS:
                s.opts[c] = on
            elif c in "mbhi":
                pass
            else:
                raise ShError(f"set: Illegal option {a[0]}{c}", 2)
        i += 1
    return 0


def _set_positional(s: ShState, args: list[str]) -> None:
    s.positional = list(args)
    # OPTIND keeps its value (POSIX gives `set` no say over it; dash, bash and busybox keep
    # it), but the next getopts parses the new parameters from the first.
    s.getopts_pos = GETOPTS_RESTART


@builtin("times")
def _times(s: ShState, vm: Any, argv: list[str]) -> int:
    t = os.times()

    def f(x: float) -> str:
        m = int(x // 60)
        return f"{m}m{x - m * 60:.6f}s"
    out(f"{f(t.user)} {f(t.system)}\n{f(t.children_user)} {f(t.children_system)}\n")
    return 0


@builtin("trap")
def _trap(s: ShState, vm: Any, argv: list[str]) -> int:
    args = argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args or args == ["-p"]:
        shown = s.traps if s.traps or not s.in_child else s.shown_traps
        for sig in sorted(shown, key=lambda n: 0 if n == "EXIT" else SIGNAL_NAMES.get(n, 99)):
            out(f"trap -- {quote(shown[sig])} {sig}\n")
        return 0
    s.shown_traps = {}
    if args[0] == "-l":
        out(" ".join(sorted(SIGNAL_NAMES, key=lambda n: SIGNAL_NAMES[n])) + "\n")
        return 0
    action: str | None = args[0]
    sigs = args[1:]
    first = args[0].strip()
    if first.isdigit() or len(args) == 1:
        action, sigs = None, args
    elif action == "-":
        action = None
    elif first.startswith("-"):
        raise ShError(f"trap: Illegal option {first[:2]}", 2, fatal=False)
    status = 0
    for spec in sigs:
        name = signal_name(spec)
        if name is None and action is None and spec.strip().isdigit():
            continue
        if name is None:
            s.error(f"trap: {spec}: bad trap")
            status = 1
            continue
        if name != "EXIT" and SIGNAL_NAMES[name] in s.ignored_on_entry and not s.interactive:
            continue  # ignored on entry: stays ignored, silently (as dash)
        if action is None:
            s.traps.pop(name, None)
            if name != "EXIT":
                signal.signal(SIGNAL_NAMES[name], signal.SIG_DFL)
            continue
        s.traps[name] = action
        if name == "EXIT":
            continue
        num = SIGNAL_NAMES[name]
        try:
            if action == "":
                signal.signal(num, signal.SIG_IGN)
            else:
                signal.signal(num, runtime.trap_handler(s))
        except (OSError, ValueError):
            pass
    return status
