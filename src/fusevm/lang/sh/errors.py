"""The sh frontend's errors and the unwinding signals of `exit`, `return`, `break`.

Unwinding signals derive from VMError so they pass unchanged through the VM's extension
op handlers (which re-raise VMErrors and wrap anything else).
"""

from __future__ import annotations

from fusevm.errors import VMError


class ShSyntaxError(Exception):
    """A parse error: `sh: LINE: Syntax error: message`, status 2."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class ShUnwind(VMError):
    """Base of the control-flow signals."""

    def __init__(self, status: int) -> None:
        super().__init__(f"{type(self).__name__}({status})")
        self.status = status


class ShExit(ShUnwind):
    """`exit N`, or a fatal error in a non-interactive shell."""


class ShReturn(ShUnwind):
    """`return N` from a function or a dot script."""


class ShLoopJump(ShUnwind):
    """`break N` / `continue N` that is not lexically inside a loop of the same chunk."""

    def __init__(self, status: int, count: int, is_break: bool) -> None:
        super().__init__(status)
        self.count = count
        self.is_break = is_break


class ShError(VMError):
    """A shell error with a message (`sh: LINE: message`) and a status.

    `fatal` errors end a non-interactive shell (special builtins, expansion errors).
    `reported` is set once the message is written (`ShState.report`), so a builtin's error
    goes to the stderr of its own redirections and is not written again where it ends.
    """

    def __init__(self, message: str, status: int = 2, fatal: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.fatal = fatal
        self.reported = False
