"""Helpers for the VM-level shell tests (test_vm_*.py): run assembler text on a VM, a
recording fake host, assembler string literals, and /proc probes for fds and children.

Imported by name (conftest.py puts this directory on sys.path).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from fusevm import VM
from fusevm.asm import assemble
from fusevm.shell.caps import Caps
from fusevm.shell.expand import Expansion

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def lit(s: str) -> str:
    """`s` as an assembler string literal (no other control characters: the assembler splits
    lines with str.splitlines, which also breaks on \\x1c-\\x1e)."""
    assert not any(c in s for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), s
    return '"' + "".join(_ESCAPES.get(c, c) for c in s) + '"'


def push_args(*words: str) -> str:
    """Assembler lines pushing each word as a string constant."""
    return "\n".join(f"LoadConst {lit(w)}" for w in words)


def command(*argv: str, keep: bool = False) -> str:
    """Assembler text running argv with Exec; its status is popped unless `keep`."""
    text = push_args(*argv) + f"\nExec {len(argv)}"
    return text if keep else text + "\nPop"


def run(text: str, *, host: Any = None, caps: Caps | None = None, close: bool = True,
        setup: Callable[[VM], None] | None = None, **kw: Any) -> tuple[Any, VM]:
    """Assemble and run `text` on a new VM; (run result, vm).

    With `host` None the VM makes its own PosixHost (the default wiring under test); it is
    closed afterwards (traps restored, jobs handed off) unless `close` is False.
    """
    vm = VM(assemble(text, source="test.fasm"), shell_host=host, caps=caps, **kw)
    if setup is not None:
        setup(vm)
    try:
        result = vm.run()
    finally:
        if close and host is None and vm._shell_host is not None:
            vm._shell_host.close()
    return result, vm


def result_of(text: str, **kw: Any) -> Any:
    return run(text, **kw)[0]


class RecordingHost:
    """A fake ShellHost that records every call and answers from `replies` (method name ->
    value, or a callable taking the call's arguments). It touches nothing on the system."""

    def __init__(self, **replies: Any) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.replies = replies

    def _answer(self, name: str, default: Any, *args: Any) -> Any:
        self.calls.append((name, *args))
        reply = self.replies.get(name, default)
        return reply(*args) if callable(reply) else reply

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def glob(self, pattern: str, recursive: bool) -> list[str]:
        return list(self._answer("glob", [], pattern, recursive))

    def tilde_expand(self, s: str) -> str:
        return str(self._answer("tilde_expand", s, s))

    def brace_expand(self, s: str) -> list[str]:
        return list(self._answer("brace_expand", [s], s))

    def word_split(self, s: str, ifs: str | None = None) -> list[str]:
        return list(self._answer("word_split", s.split(), s, ifs))

    def expand_param(self, name: str, modifier: int, args: Sequence[object], *,
                     value: Any = None, is_set: bool | None = None,
                     lookup: Any = None) -> Expansion:
        reply = self._answer("expand_param", "", name, modifier, list(args))
        return reply if isinstance(reply, Expansion) else Expansion(reply)

    def cmd_subst(self, sub: Any) -> str:
        return str(self._answer("cmd_subst", "", sub))

    def process_sub_in(self, sub: Any) -> str:
        return str(self._answer("process_sub_in", "", sub))

    def process_sub_out(self, sub: Any) -> str:
        return str(self._answer("process_sub_out", "", sub))

    def redirect(self, fd: int, kind: int, target: str) -> None:
        self._answer("redirect", None, fd, int(kind), target)

    def heredoc(self, content: str) -> None:
        self._answer("heredoc", None, content)

    def herestring(self, content: str) -> None:
        self._answer("herestring", None, content)

    def pipeline_begin(self, n: int) -> None:
        self._answer("pipeline_begin", None, n)

    def pipeline_stage(self) -> None:
        self._answer("pipeline_stage", None)

    def pipeline_end(self) -> int:
        return int(self._answer("pipeline_end", 0))

    def subshell_begin(self) -> None:
        self._answer("subshell_begin", None)

    def subshell_end(self) -> int | None:
        r = self._answer("subshell_end", None)
        return None if r is None else int(r)

    def trap_set(self, sig: str, handler: Any) -> None:
        self._answer("trap_set", None, sig, handler)

    def trap_check(self) -> list[Any]:
        return list(self._answer("trap_check", []))

    def with_redirects_begin(self, n: int) -> None:
        self._answer("with_redirects_begin", None, n)

    def with_redirects_end(self) -> None:
        self._answer("with_redirects_end", None)

    def call_function(self, name: str, args: list[str]) -> int | None:
        r = self._answer("call_function", None, name, list(args))
        return None if r is None else int(r)

    def exec(self, argv: list[str]) -> int:
        return int(self._answer("exec", 0, list(argv)))

    def exec_bg(self, argv: list[str]) -> int:
        return int(self._answer("exec_bg", 0, list(argv)))

    def str_match(self, s: str, pattern: str) -> bool:
        return bool(self._answer("str_match", s == pattern, s, pattern))

    def regex_match(self, s: str, regex: str) -> bool:
        return bool(self._answer("regex_match", False, s, regex))


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def children() -> set[int]:
    """Pids (zombies included) whose parent is this process."""
    me = os.getpid()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # Field 4 is the ppid; the command name (field 2) may contain spaces.
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            found.add(int(entry))
    return found
