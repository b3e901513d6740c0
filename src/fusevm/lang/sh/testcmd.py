"""`test` / `[`: the POSIX algorithm by argument count, plus -a/-o/!/( ) for longer forms."""

from __future__ import annotations

import os
import stat
from _operator import eq, ge, gt, le, lt, ne  # (what operator.py re-exports, without it)

from fusevm.lang.sh.state import ShState
from fusevm.values import decimal64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Final

_UNARY: Final = frozenset("-b -c -d -e -f -g -h -L -n -p -r -s -S -t -u -w -x -z -k -G -O".split())
_BINARY: Final = frozenset("= != == -eq -ne -gt -ge -lt -le -nt -ot -ef < >".split())


class _Err(Exception):
    pass


def _file(op: str, path: str) -> bool:
    try:
        if op in ("-h", "-L"):
            return stat.S_ISLNK(os.lstat(path).st_mode)
        if op == "-t":
            return os.isatty(int(path))
        st = os.stat(path)
    except (OSError, ValueError, OverflowError):
        return False
    return _FILE_TESTS[op](st, path)


#: Each file test on the file's stat (and path, for the access checks): only the one asked
#: for runs (the access checks are system calls of their own).
_FILE_TESTS: dict[str, Callable[[os.stat_result, str], bool]] = {
    "-b": lambda st, _: stat.S_ISBLK(st.st_mode),
    "-c": lambda st, _: stat.S_ISCHR(st.st_mode),
    "-d": lambda st, _: stat.S_ISDIR(st.st_mode),
    "-e": lambda st, _: True,
    "-f": lambda st, _: stat.S_ISREG(st.st_mode),
    "-g": lambda st, _: bool(st.st_mode & stat.S_ISGID),
    "-p": lambda st, _: stat.S_ISFIFO(st.st_mode),
    "-r": lambda _, path: os.access(path, os.R_OK),
    "-s": lambda st, _: st.st_size > 0,
    "-S": lambda st, _: stat.S_ISSOCK(st.st_mode),
    "-u": lambda st, _: bool(st.st_mode & stat.S_ISUID),
    "-w": lambda _, path: os.access(path, os.W_OK),
    "-x": lambda _, path: os.access(path, os.X_OK),
    "-k": lambda st, _: bool(st.st_mode & stat.S_ISVTX),
    "-G": lambda st, _: st.st_gid == os.getegid(),
    "-O": lambda st, _: st.st_uid == os.geteuid(),
}


def _int(s: str) -> int:
    """An integer operand: optional blanks and sign, ASCII digits, within 64 bits."""
    t = s.strip()
    n = decimal64(t[1:], sign=False) if t[:1] == "+" else decimal64(t)
    if n is None:
        raise _Err(f"Illegal number: {s}")
    return n


def _binary(a: str, op: str, b: str) -> bool:
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op in ("-nt", "-ot", "-ef"):
        try:
            sa = os.stat(a)
        except OSError:
            sa = None
        try:
            sb = os.stat(b)
        except OSError:
            sb = None
        if op == "-ef":
            return bool(sa and sb and sa.st_dev == sb.st_dev and sa.st_ino == sb.st_ino)
        if op == "-nt":
            return bool(sa and (not sb or sa.st_mtime > sb.st_mtime))
        return bool(sb and (not sa or sa.st_mtime < sb.st_mtime))
    return COMPARE[op](_int(a), _int(b))


#: The integer comparisons.
COMPARE: Final[dict[str, Callable[[int, int], bool]]] = {
    "-eq": eq, "-ne": ne, "-lt": lt, "-le": le, "-gt": gt, "-ge": ge,
}


class _Parser:
    def __init__(self, args: list[str]) -> None:
        self.a = args
        self.i = 0

    def more(self) -> bool:
        return self.i < len(self.a)

    def expr(self) -> bool:
        v = self.and_()
        while self.more() and self.a[self.i] == "-o":
            self.i += 1
            r = self.and_()
            v = v or r
        return v

    def and_(self) -> bool:
        v = self.not_()
        while self.more() and self.a[self.i] == "-a":
            self.i += 1
            r = self.not_()
            v = v and r
        return v

    def not_(self) -> bool:
        if self.more() and self.a[self.i] == "!" and self.i + 1 < len(self.a):
            self.i += 1
            return not self.not_()
        return self.primary()

    def primary(self) -> bool:
        if not self.more():
            raise _Err("argument expected")
        t = self.a[self.i]
        if t == "(" and self.i + 1 < len(self.a):
            self.i += 1
            v = self.expr()
            if not self.more() or self.a[self.i] != ")":
                raise _Err("closing paren expected")
            self.i += 1
            return v
        if self.i + 2 < len(self.a) + 0 and self.a[self.i + 1] in _BINARY:
            self.i += 3
            return _binary(t, self.a[self.i - 2], self.a[self.i - 1])
        if (t in _UNARY or t == "-a") and self.i + 1 < len(self.a):
            self.i += 2
            return _unary(t, self.a[self.i - 1])
        self.i += 1
        return t != ""


def _unary(op: str, x: str) -> bool:
    if op == "-a":
        op = "-e"
    if op == "-n":
        return x != ""
    if op == "-z":
        return x == ""
    return _file(op, x)


def _eval(args: list[str]) -> bool:
    n = len(args)
    if n == 0:
        return False
    if n == 1:
        return args[0] != ""
    if n == 2:
        if args[0] == "!":
            return args[1] == ""
        if args[0] == "-a":
            return _file("-e", args[1])
        if args[0] in _UNARY:
            return _unary(args[0], args[1])
        raise _Err(f"{args[0]}: unexpected operator")
    if n == 3:
        if args[1] in _BINARY:
            return _binary(args[0], args[1], args[2])
        if args[0] == "!":
            return not _eval(args[1:])
        if args[0] == "(" and args[2] == ")":
            return _eval(args[1:2])
        if args[1] in ("-a", "-o"):
            a, b = args[0] != "", args[2] != ""
            return (a and b) if args[1] == "-a" else (a or b)
        raise _Err(f"{args[1]}: unexpected operator")
    if n == 4:
        if args[0] == "!":
            return not _eval(args[1:])
        if args[0] == "(" and args[3] == ")":
            return _eval(args[1:3])
    p = _Parser(args)
    v = p.expr()
    if p.more():
        raise _Err(f"{p.a[p.i]}: unexpected operator")
    return v


def test(s: ShState, args: list[str], name: str = "test") -> int:
    """The status of `test args` (`name` prefixes its error messages: `test` or `[`)."""
    try:
        return 0 if _eval(args) else 1
    except _Err as e:
        s.error(f"{name}: {e}")
        return 2
    except RecursionError:  # (thousands of nested `!` or parentheses)
        s.error(f"{name}: expression nested too deep")
        return 2
