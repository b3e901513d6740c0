"""The regular builtins about jobs and processes: wait jobs kill umask (loaded the first
time a command names one, `builtins.REGULAR`).
"""

from __future__ import annotations

import os
import time

from fusevm.lang.sh import runtime
from fusevm.lang.sh.builtins import builtin, out
from fusevm.lang.sh.state import NUMBER_NAMES, SIGNAL_NAMES, ShState, signal_name, write
from fusevm.shell import csignal as signal
from fusevm.shell import process
from fusevm.values import decimal64

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@builtin("umask")
def _umask(s: ShState, vm: Any, argv: list[str]) -> int:
    args = argv[1:]
    sym = False
    if args and args[0] == "-S":
        sym = True
        args = args[1:]
    if not args:
        m = os.umask(0)
        os.umask(m)
        if sym:
            parts = []
            for who, shift in (("u", 6), ("g", 3), ("o", 0)):
                bits = (~m >> shift) & 7
                parts.append(who + "=" + "".join(c for c, b in (("r", 4), ("w", 2), ("x", 1))
                                                 if bits & b))
            out(",".join(parts) + "\n")
        else:
            out(f"{m:04o}\n")
        return 0
    spec = args[0]
    if spec.startswith("-") and len(spec) > 1:
        s.error(f"umask: Illegal option {spec[:2]}")
        return 2
    if spec[:1].isdigit():
        try:
            os.umask(int(spec, 8) & 0o777)
        except ValueError:
            s.error(f"umask: Illegal number: {spec}")
            return 1
        return 0
    m = os.umask(0)
    os.umask(m)
    perm = _symbolic(~m & 0o777, spec)
    if perm is None:
        s.error(f"umask: Illegal mode: {spec}")
        return 1
    os.umask(~perm & 0o777)
    return 0


def _symbolic(perm: int, spec: str) -> int | None:
    """Apply a chmod-style symbolic mode (u+r,go-w,a=rx) to permission bits."""
    for clause in spec.split(","):
        if not clause:
            return None
        i = 0
        who = 0
        while i < len(clause) and clause[i] in "ugoa":
            who |= {"u": 0o700, "g": 0o070, "o": 0o007, "a": 0o777}[clause[i]]
            i += 1
        if who == 0:
            who = 0o777
        if i >= len(clause):
            if clause:
                return None
            continue
        while i < len(clause):
            op = clause[i]
            if op not in "+-=":
                return None
            i += 1
            bits = 0
            while i < len(clause) and clause[i] in "rwxugo":
                c = clause[i]
                if c in "rwx":
                    bits |= {"r": 0o444, "w": 0o222, "x": 0o111}[c]
                else:
                    src = {"u": (perm >> 6) & 7, "g": (perm >> 3) & 7, "o": perm & 7}[c]
                    bits |= src * 0o111
                i += 1
            bits &= who
            if op == "+":
                perm |= bits
            elif op == "-":
                perm &= ~bits
            else:
                perm = (perm & ~who) | bits
    return perm


@builtin("wait")
def _wait(s: ShState, vm: Any, argv: list[str]) -> int:
    pids: list[int] = []
    for a in argv[1:]:
        if a.startswith("%"):
            pid = _job_spec(s, a)
            if pid is None:
                s.error(f"wait: {a}: No such job")
                return 127
            pids.append(pid)
            continue
        pid = decimal64(a, sign=False)
        if pid is None:
            s.error(f"wait: Illegal number: {a}")
            return 2
        pids.append(pid)
    if not pids:
        pids = [p for p in s.jobs]
        status = 0
        for p in pids:
            r = _wait_one(s, vm, p)
            if r is None or r > 128 and s.pending_signals:
                return r if r is not None else 0
        s.jobs.clear()
        return status
    status = 0
    for p in pids:
        r = _wait_one(s, vm, p)
        status = 127 if r is None else r
    return status


def _job_spec(s: ShState, spec: str) -> int | None:
    """The pid a `%n`, `%%`, `%+` or `%-` job spec names."""
    order = s.job_order
    body = spec[1:]
    try:
        if body in ("", "%", "+"):
            return order[-1]
        if body == "-":
            return order[-2]
        n = decimal64(body, sign=False)
        if n is not None and n >= 1:
            return order[n - 1]
    except IndexError:
        return None
    return None


def _wait_one(s: ShState, vm: Any, pid: int) -> int | None:
    if pid not in s.jobs:
        return None
    done = s.jobs[pid]
    if done is not None:
        s.jobs.pop(pid, None)
        return done
    while True:
        try:
            rpid, st = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            s.jobs.pop(pid, None)
            return 127
        if rpid:
            s.jobs.pop(pid, None)
            _report_signal(st)
            return process.exit_code(st)
        if s.pending_signals:
            sig = s.pending_signals[0]
            runtime.run_traps(s, vm)
            return 128 + SIGNAL_NAMES.get(sig, 0)
        time.sleep(0.002)


def _report_signal(wait_status: int) -> None:
    """Say on stderr what killed a job `wait` waited for by its id, as dash does: the
    signal's description (" (core dumped)" after it), but for SIGINT and SIGPIPE."""
    if not os.WIFSIGNALED(wait_status):
        return
    sig = os.WTERMSIG(wait_status)
    if sig in (signal.SIGINT, signal.SIGPIPE):
        return
    text = signal.strsignal(sig) or f"Signal {sig}"
    write(2, text + (" (core dumped)\n" if os.WCOREDUMP(wait_status) else "\n"))


@builtin("jobs")
def _jobs(s: ShState, vm: Any, argv: list[str]) -> int:
    opts = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    for n, pid in enumerate(list(s.jobs), 1):
        done = s.jobs[pid]
        if done is None:
            try:
                rpid, st = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                rpid, st = pid, 0
            if rpid:
                s.jobs[pid] = done = process.exit_code(st)
        if "p" in opts:
            out(f"{pid}\n")
            continue
        state = "Running" if done is None else ("Done" if done == 0 else f"Done({done})")
        text = s.job_texts.get(pid, "")
        mid = f"{pid} " if "l" in opts else ""
        out(f"[{n}] + {mid}{state:<24}{text}\n")
    return 0


@builtin("kill")
def _kill(s: ShState, vm: Any, argv: list[str]) -> int:
    args = argv[1:]
    sig = int(signal.SIGTERM)
    if args and args[0] == "-l":
        if len(args) > 1:
            status = 0
            for a in args[1:]:
                n = decimal64(a, sign=False)
                n = -1 if n is None else n
                if n > 128:
                    n -= 128
                if n in NUMBER_NAMES:
                    out(NUMBER_NAMES[n] + "\n")
                elif signal_name(a) is not None and not a.isdigit():
                    out(f"{SIGNAL_NAMES[signal_name(a) or '']}\n")
                else:
                    s.error(f"kill: invalid signal number or name: {a}")
                    status = 1
            return status
        else:
            out(" ".join(NUMBER_NAMES[n] for n in sorted(NUMBER_NAMES)) + "\n")
        return 0
    if args and args[0] == "-s":
        name = signal_name(args[1]) if len(args) > 1 else None
        if name is None:
            s.error("kill: bad signal")
            return 2
        sig = SIGNAL_NAMES.get(name, 0)
        args = args[2:]
    elif args and args[0].startswith("-") and args[0] != "--":
        name = signal_name(args[0][1:])
        if name is None:
            s.error(f"kill: invalid signal number or name: {args[0][1:]}")
            return 2
        sig = SIGNAL_NAMES.get(name, 0)
        args = args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        s.error("kill: usage: kill [-s sigspec | -signum | -sigspec] pid ...")
        return 2
    status = 0
    for a in args:
        pid = decimal64(a)
        try:
            if pid is None:
                raise ValueError(a)
            os.kill(pid, sig)
        except (ValueError, OSError, OverflowError) as e:
            # (OverflowError: a pid past what the system's pid_t holds: none such)
            reason = ("No such process" if isinstance(e, OverflowError)
                      else getattr(e, "strerror", None)
                      or "arguments must be process or job IDs")
            s.error(f"kill: {a}: {reason}")
            status = 1
    if s.pending_signals:
        runtime.run_traps(s, vm)
    return status
