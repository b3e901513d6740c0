"""The regular builtins scripts need most: echo printf test [ true false cd pwd read
getopts type command hash ulimit alias unalias (those about jobs are `procs`).
"""

from __future__ import annotations

import os
from stat import S_ISREG

from fusevm import modpack
from fusevm.lang.sh import runtime, words
from fusevm.lang.sh.builtins import REGULAR, builtin, out, quote
from fusevm.lang.sh.errors import ShError
from fusevm.lang.sh.parser import is_name
from fusevm.lang.sh.state import GETOPTS_RESTART, ShState, write
from fusevm.shell import process
from fusevm.shell import text as shtext
from fusevm.values import decimal64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final


@builtin("true")
def _true(s: ShState, vm: Any, argv: list[str]) -> int:
    return 0


@builtin("false")
def _false(s: ShState, vm: Any, argv: list[str]) -> int:
    return 1


_ECHO_ESCAPES: Final = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                        "v": "\v", "\\": "\\", "e": "\x1b"}


def _echo_text(s: ShState, argv: list[str]) -> tuple[str, int]:
    args = argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline = False
        args = args[1:]
    text = " ".join(args)
    if "\\" not in text:  # (no escape to look at: the text as it is)
        return (text + "\n" if newline else text), 0
    buf: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n in _ECHO_ESCAPES:
                buf.append(_ECHO_ESCAPES[n])
                i += 2
                continue
            if n == "c":
                return "".join(buf), 0
            if n == "0":
                j = i + 2
                k = j
                while k < len(text) and k < j + 3 and text[k] in "01234567":
                    k += 1
                buf.append(shtext.byte_char(int(text[j:k] or "0", 8) & 0xFF))
                i = k
                continue
        buf.append(c)
        i += 1
    if newline:
        buf.append("\n")
    return "".join(buf), 0


@builtin("echo", text=_echo_text)
def _echo(s: ShState, vm: Any, argv: list[str]) -> int:
    text, status = _echo_text(s, argv)
    out(text)
    return status


def _printf_text(s: ShState, argv: list[str]) -> tuple[str, int]:
    args = argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    elif args and args[0].startswith("-") and len(args[0]) > 1:
        s.error(f"printf: Illegal option {args[0][:2]}")
        return "", 2
    if not args:
        write(2, "printf: usage: printf format [arg ...]\n")
        return "", 2
    found: tuple[str, int] = (_printf_module or _load_printf()).printf(
        args[0], args[1:], lambda message: s.error(f"printf: {message}"))
    return found


#: `fusevm.lang.sh.printf`, loaded by the first printf, not at start-up (kept here: a
#: `from` import in the builtin would go through the import machinery at every call).
_printf_module: Any = None


def _load_printf() -> Any:
    global _printf_module
    from fusevm.lang.sh import printf
    _printf_module = printf
    return printf


@builtin("printf", text=_printf_text)
def _printf(s: ShState, vm: Any, argv: list[str]) -> int:
    text, status = _printf_text(s, argv)
    if text:
        out(text)
    return status


@builtin("test")
def _test(s: ShState, vm: Any, argv: list[str]) -> int:
    return (_test_fn or _load_test())(s, argv[1:])


@builtin("[")
def _bracket(s: ShState, vm: Any, argv: list[str]) -> int:
    if argv[-1] != "]":
        s.error("[: missing ]")
        return 2
    return (_test_fn or _load_test())(s, argv[1:-1], "[")


#: `fusevm.lang.sh.testcmd.test`, loaded by the first `test` or `[` a script runs as a
#: builtin (most scripts' other builtins need none of it).
_test_fn: Callable[..., int] | None = None


def _load_test() -> Callable[..., int]:
    global _test_fn
    from fusevm.lang.sh.testcmd import test
    _test_fn = test
    return test


@builtin("cd")
def _cd(s: ShState, vm: Any, argv: list[str]) -> int:
    args = argv[1:]
    physical = False
    while args and args[0] in ("-L", "-P"):
        physical = args[0] == "-P"
        args = args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        target = s.vars.get("HOME", "")
        if not target:
            s.error("cd: HOME not set")
            return 1
    else:
        target = args[0]
    if target == "-":
        target = s.vars.get("OLDPWD", "")
        out(target + "\n")
    cdpath = s.vars.get("CDPATH")
    first = target.split("/", 1)[0]
    if cdpath and not target.startswith("/") and first not in (".", ".."):
        for entry in cdpath.split(":"):
            cand = os.path.join(entry or ".", target)
            if os.path.isdir(cand):
                if entry:
                    target = cand
                    s.cd_print = True
                break
    old = s.vars.get("PWD") or shtext.from_os(os.getcwd())
    if not target.startswith("/") and not physical:
        logical = os.path.normpath(os.path.join(old, target))
    else:
        logical = os.path.normpath(target)  # keeps exactly two leading slashes, as dash
    try:
        os.chdir(logical if not physical else target)
    except OSError:
        try:
            os.chdir(target)
            logical = shtext.from_os(os.getcwd())
        except OSError:
            s.error(f"cd: can't cd to {target}")
            return 2
    if physical:
        logical = shtext.from_os(os.getcwd())
    for name in ("OLDPWD", "PWD"):
        if name in s.readonly:
            s.error(f"cd: {name}: is read only")  # (bash: the directory has changed)
            return 1
    s.vars["OLDPWD"] = old
    s.vars["PWD"] = logical
    if s.cd_print:
        s.cd_print = False
        out(logical + "\n")
    return 0


@builtin("pwd")
def _pwd(s: ShState, vm: Any, argv: list[str]) -> int:
    if "-P" in argv[1:]:
        out(shtext.from_os(os.getcwd()) + "\n")
        return 0
    pwd = s.vars.get("PWD")
    try:
        if not pwd or os.stat(pwd).st_ino != os.stat(".").st_ino:
            pwd = shtext.from_os(os.getcwd())
    except OSError:
        try:
            pwd = shtext.from_os(os.getcwd())
        except OSError:
            # The directory was removed under the shell: the logical name it was reached
            # by still stands for it (as dash prints it).
            if not pwd or not pwd.startswith("/"):
                raise
    out(pwd + "\n")
    return 0


def _readline(fd: int, raw: bool) -> tuple[str, bool]:
    """One logical line from fd; (text, hit_eof). What follows the line stays unread for
    the next command: a regular file is read a block at a time and its offset set back to
    just after the line (as bash does), anything else a byte at a time."""
    try:
        regular = S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        regular = False
    if regular:
        found = _readline_seekable(fd, raw)
        if found is not None:
            return found
    buf = bytearray()
    while True:
        try:
            c = os.read(fd, 1)
        except InterruptedError:
            continue
        except OSError:
            return shtext.decode(bytes(buf)), True
        if not c:
            return shtext.decode(bytes(buf)), True
        if c == b"\n":
            return shtext.decode(bytes(buf)), False
        if c == b"\\" and not raw:
            n = os.read(fd, 1)
            if n == b"\n":
                continue
            if not n:
                return shtext.decode(bytes(buf)), True
            buf += b"\\" + n
            continue
        buf += c


_BLOCK: Final = 4096


def _readline_seekable(fd: int, raw: bool) -> tuple[str, bool] | None:
    """`_readline` of a regular file: blocks read from the offset, which is then set
    just past the line's newline; None when the offset cannot be read or set (read a
    byte at a time instead). The same line as byte at a time: a backslash takes the next
    byte with it (unless `raw`), and one before a newline joins the next line on."""
    try:
        start = os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        return None
    data = bytearray()
    line = bytearray()
    i = 0  # where the part of the line not yet copied to `line` starts in `data`
    eof = ended = False  # (the file read to its end; the line ended there)
    while True:
        j = data.find(b"\n", i)
        if j < 0:
            if eof:
                rest = data[i:]
                if not raw:
                    run = len(rest) - len(rest.rstrip(b"\\"))
                    if run % 2:  # (a lone backslash at the end escapes nothing)
                        rest = rest[:-1]
                line += rest
                consumed = len(data)
                ended = True
                break
            try:
                block = os.read(fd, _BLOCK)
            except InterruptedError:
                continue
            except OSError:
                eof = True
                continue
            if not block:
                eof = True
            data += block
            continue
        if not raw:
            k = j
            while k > i and data[k - 1] == 0x5C:  # (a run of backslashes before it)
                k -= 1
            if (j - k) % 2:  # an escaped newline: the line goes on after it
                line += data[i:j - 1]
                i = j + 1
                continue
        line += data[i:j]
        consumed = j + 1
        break
    try:
        os.lseek(fd, start + consumed, os.SEEK_SET)
    except OSError:
        pass
    return shtext.decode(bytes(line)), ended


@builtin("read")
def _read(s: ShState, vm: Any, argv: list[str]) -> int:
    args = argv[1:]
    raw = False
    prompt = None
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        if a == "--":
            break
        for c in a[1:]:
            if c == "r":
                raw = True
            elif c == "p":
                prompt = args.pop(0) if args else ""
            else:
                s.error(f"read: Illegal option -{c}")
                return 2
    if not args:
        args = ["REPLY"]
    for name in args:
        if not is_name(name):
            s.error(f"read: {name}: bad variable name")
            return 2
    if prompt:
        write(2, prompt)
    line, eof = _readline(0, raw)
    if "\0" in line:  # (NUL bytes are dropped, as dash and bash do: no variable holds one)
        line = line.replace("\0", "")
    fields_raw = _split_read(line, s.vars.get("IFS"), len(args), raw)
    for i, name in enumerate(args):
        if name in s.readonly:
            # a regular builtin's error: its status (bash's 1; dash says 2), not the end of
            # the shell; the names before it keep their fields
            s.error(f"read: {name}: is read only")
            return 1
        s.set(name, fields_raw[i] if i < len(fields_raw) else "")
    return 1 if eof else 0


def _split_read(line: str, ifs: str | None, n: int, raw: bool) -> list[str]:
    if raw or "\\" not in line:
        return words.split_ifs(line, ifs, n)
    # backslash escapes: mark escaped chars so they never split, then unescape
    out_chars: list[str] = []
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            out_chars.append(words.QS + line[i + 1] + words.QE)
            i += 2
        else:
            out_chars.append(c)
            i += 1
    marked = "".join(out_chars)
    return [words.strip(f) for f in _split_marked(marked, ifs, n)]


def _split_marked(s: str, ifs: str | None, n: int) -> list[str]:
    # replace quoted chars by placeholders, split, then restore
    table: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(s):
        if s[i] == words.QS:
            table.append(s[i + 1])
            out.append(chr(0xF0000 + len(table) - 1))
            i += 3
        else:
            out.append(s[i])
            i += 1
    parts = words.split_ifs("".join(out), ifs, n)
    return ["".join(table[ord(c) - 0xF0000] if ord(c) >= 0xF0000 else c for c in p)
            for p in parts]


@builtin("getopts")
def _getopts(s: ShState, vm: Any, argv: list[str]) -> int:
    var = argv[2] if len(argv) >= 3 else ""
    named = is_name(var)
    if named and var not in s.readonly or len(argv) < 3:
        return _getopts_step(s, argv)
    # the option is still taken (OPTIND and OPTARG move on), only the assignment fails
    old = s.vars.get(var)
    _getopts_step(s, argv)
    if old is None:
        s.vars.pop(var, None)
    else:
        s.vars[var] = old
    s.error(f"getopts: {var}: is read only" if named else f"getopts: {var}: bad variable name")
    return 2


def _getopts_step(s: ShState, argv: list[str]) -> int:
    if len(argv) < 3:
        s.error("getopts: usage: getopts optstring var [arg ...]")
        return 2
    optstring, var = argv[1], argv[2]
    args = argv[3:] if len(argv) > 3 else s.positional
    silent = optstring.startswith(":")
    if silent:
        optstring = optstring[1:]
    pos = s.getopts_pos
    if pos == GETOPTS_RESTART:
        optind = pos = 1
    else:
        try:
            optind = int(s.vars.get("OPTIND", "1"))
        except ValueError:
            optind = 1
    if optind < 1:
        optind = 1
    if optind > len(args) or not args[optind - 1].startswith("-") or args[optind - 1] == "-":
        s.vars[var] = "?"
        s.vars.pop("OPTARG", None)
        s.vars["OPTIND"] = str(optind)
        return 1
    arg = args[optind - 1]
    if arg == "--":
        s.vars[var] = "?"
        s.vars["OPTIND"] = str(optind + 1)
        s.getopts_pos = 1
        return 1
    if pos >= len(arg):
        pos = 1
    c = arg[pos]
    pos += 1
    next_ind = optind
    if pos >= len(arg):
        next_ind += 1
        pos = 1
    i = optstring.find(c)
    if i < 0 or c == ":":
        if silent:
            s.vars["OPTARG"] = c
        else:
            write(2, f"Illegal option -{c}\n")
            s.vars.pop("OPTARG", None)
        s.vars[var] = "?"
    elif i + 1 < len(optstring) and optstring[i + 1] == ":":
        if pos > 1 and next_ind == optind:
            s.vars["OPTARG"] = arg[pos:]
            next_ind += 1
            pos = 1
        elif next_ind <= len(args):
            s.vars["OPTARG"] = args[next_ind - 1]
            next_ind += 1
        else:
            if silent:
                s.vars["OPTARG"] = c
                s.vars[var] = ":"
            else:
                write(2, f"No arg for -{c} option\n")
                s.vars.pop("OPTARG", None)
                s.vars[var] = "?"
            s.vars["OPTIND"] = str(next_ind)
            s.getopts_pos = pos
            return 0
        s.vars[var] = c
    else:
        s.vars[var] = c
        s.vars.pop("OPTARG", None)
    s.vars["OPTIND"] = str(next_ind)
    s.getopts_pos = pos
    return 0


def _describe(s: ShState, name: str) -> tuple[str, str] | None:
    if name in s.aliases:
        return "alias", f"{name} is an alias for {s.aliases[name]}"
    from fusevm.lang.sh.parser import RESERVED
    if name in RESERVED:
        return "keyword", f"{name} is a shell keyword"
    if name in runtime.SPECIAL:
        return "builtin", f"{name} is a special shell builtin"
    if name in s.functions:
        return "function", f"{name} is a shell function"
    if runtime.find_builtin(name) is not None:
        return "builtin", f"{name} is a shell builtin"
    r = process.resolve(name, s.vars.get("PATH"))
    if r.path is not None:
        return "file", f"{name} is {r.path}"
    return None


@builtin("type")
def _type(s: ShState, vm: Any, argv: list[str]) -> int:
    status = 0
    for name in argv[1:]:
        d = _describe(s, name)
        if d is None:
            out(f"{name}: not found\n")
            status = 127
        else:
            out(d[1] + "\n")
    return status


@builtin("command")
def _command(s: ShState, vm: Any, argv: list[str]) -> int:
    args = argv[1:]
    mode = ""
    default_path = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        if a == "--":
            break
        for c in a[1:]:
            if c in "vV":
                mode = c
            elif c == "p":
                default_path = True
            else:
                s.error(f"command: Illegal option -{c}")
                return 2
    if not args:
        return 0
    if mode:
        status = 0
        for name in args:
            d = _describe(s, name)
            if d is None:
                if mode == "V":
                    s.error(f"{name}: not found")
                status = 127
            elif mode == "V":
                out(d[1] + "\n")
            elif d[0] in ("file",):
                out(d[1].split(" is ", 1)[1] + "\n")
            elif d[0] == "alias":
                out(f"alias {name}={quote(s.aliases[name])}\n")
            else:
                out(name + "\n")
        return status
    name = args[0]
    redirs = s.take_pending()
    fn = runtime.find_builtin(name)
    if fn is not None:
        s.pending = redirs
        try:
            return runtime._run_builtin(s, vm, fn, args, s.take_pending(), special=False)
        except ShError as e:
            if name in runtime.SPECIAL and not e.fatal:
                raise
            if name in runtime.SPECIAL:
                s.report(e)
                return e.status
            raise
    return runtime.run_external(s, args, redirs,
                                path=process.DEFAULT_PATH if default_path else None)


@builtin("hash")
def _hash(s: ShState, vm: Any, argv: list[str]) -> int:
    args = argv[1:]
    if args and args[0] == "-r":
        s.hashed.clear()
        return 0
    if not args:
        for path in s.hashed.values():
            out(path + "\n")
        return 0
    status = 0
    for name in args:
        if runtime.resolve(s, name).path is None:
            s.error(f"{name}: not found")
            status = 1
    return status


_LIMITS = {"c": "RLIMIT_CORE", "d": "RLIMIT_DATA", "f": "RLIMIT_FSIZE", "n": "RLIMIT_NOFILE",
           "s": "RLIMIT_STACK", "t": "RLIMIT_CPU", "v": "RLIMIT_AS", "u": "RLIMIT_NPROC"}


#: Block sizes of the limits, as POSIX (and dash) count them: -f and -c in 512 bytes.
_UNIT = {"c": 512, "f": 512, "d": 1024, "s": 1024, "v": 1024}


@builtin("ulimit")
def _ulimit(s: ShState, vm: Any, argv: list[str]) -> int:
    """`ulimit [-H] [-S] [-a | -LIMIT] [value]`: with neither -H nor -S a value sets both
    limits and the soft one is shown; -H and -S together set both (as bash does)."""
    import resource
    hard = soft = False
    which = "f"
    values: list[str] = []
    for a in argv[1:]:
        if a.startswith("-") and a != "-" and not values:
            for c in a[1:]:
                if c == "H":
                    hard = True
                elif c == "S":
                    soft = True
                elif c in _LIMITS or c == "a":
                    which = c
                else:
                    s.error(f"ulimit: Illegal option -{c}")
                    return 2
        else:
            values.append(a)
    if len(values) > (0 if which == "a" else 1):
        s.error("ulimit: too many arguments")
        return 2
    value = values[0] if values else None
    if value is not None and which == "n" and value != "unlimited":
        number = decimal64(value, sign=False)
        if number is not None and number < resource.getrlimit(resource.RLIMIT_NOFILE)[0]:
            _keep_loadable()
    names = sorted(_LIMITS) if which == "a" else [which]
    for c in names:
        res = getattr(resource, _LIMITS[c], None)
        if res is None:
            continue
        soft_v, hard_v = resource.getrlimit(res)
        if value is None:
            cur = hard_v if hard and not soft else soft_v
            text = "unlimited" if cur == resource.RLIM_INFINITY else str(cur // _UNIT.get(c, 1))
            out(f"-{c}: {text}\n" if which == "a" else f"{text}\n")
            continue
        number = None if value == "unlimited" else decimal64(value, sign=False)
        if value != "unlimited" and number is None:
            s.error(f"ulimit: Illegal number: {value}")
            return 2
        n = resource.RLIM_INFINITY if number is None else number * _UNIT.get(c, 1)
        both = hard == soft
        try:
            resource.setrlimit(res, (n if soft or both else soft_v, n if hard or both else hard_v))
        except (ValueError, OSError, OverflowError) as e:
            s.error(f"ulimit: error setting limit ({e})")
            return 1
    return 0


def _keep_loadable() -> None:
    """Before the limit on descriptors is lowered, which can leave none for loading a module
    with later (the next line's compile, a builtin's first use): the package's code is
    read into memory (`modpack.pin`), or with module packs off the regular builtins are
    loaded; so are the modules from outside the package that patterns (`case`, globs),
    printf and redirections load on first use."""
    if not modpack.pin():
        for module in REGULAR:
            __import__(module)
    from fusevm.regex import engine  # noqa: PLC0415 (with the first pattern otherwise)
    engine.load_backend()
    import fcntl  # noqa: F401, PLC0415 (`fusevm.shell.redirect.dup_above`'s)
    import re  # noqa: F401, PLC0415 (`fusevm.lang.lazyre`'s: printf's formats)


@builtin("alias")
def _alias(s: ShState, vm: Any, argv: list[str]) -> int:
    if len(argv) == 1:
        for k in sorted(s.aliases):
            out(f"{k}={quote(s.aliases[k])}\n")
        return 0
    status = 0
    for a in argv[1:]:
        name, eq, value = a.partition("=")
        if eq:
            s.aliases[name] = value
        elif name in s.aliases:
            out(f"{name}={quote(s.aliases[name])}\n")
        else:
            s.error(f"alias: {name} not found")
            status = 1
    return status


@builtin("unalias")
def _unalias(s: ShState, vm: Any, argv: list[str]) -> int:
    if len(argv) > 1 and argv[1] == "-a":
        s.aliases.clear()
        return 0
    status = 0
    for a in argv[1:]:
        if s.aliases.pop(a, None) is None:
            s.error(f"unalias: {a} not found")
            status = 1
    return status
