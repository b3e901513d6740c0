"""The VMError hierarchy: every failure the VM, builder, assembler or loader reports.

Each error carries where it happened (op mnemonic, op index, chunk source name, source line)
so a frontend can point its user at the offending line (D1), and, for an error raised while
a chunk runs, the call stack at that moment (`backtrace`). Fields stay None (the backtrace
empty) when unknown; the run loop fills them in as an error passes through it.
"""

from __future__ import annotations

#: One backtrace frame: (function name, chunk source name, source line or None).
BacktraceFrame = tuple[str, str, "int | None"]


class VMError(Exception):
    """Base of every error fusevm raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        op: str | None = None,
        ip: int | None = None,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.op = op
        self.ip = ip
        self.source = source
        self.line = line
        #: The call stack when the error was raised, innermost frame last; the root code
        #: is `"<main>"`. Empty for errors raised outside a run (building, loading).
        self.backtrace: list[BacktraceFrame] = []

    def add_backtrace(self, frames: list[BacktraceFrame]) -> VMError:
        """Record the call stack unless one is already recorded; returns self."""
        if not self.backtrace:
            self.backtrace = frames
        return self

    def locate(
        self, *, op: str | None, ip: int | None, source: str | None, line: int | None
    ) -> VMError:
        """Fill in location fields that are still unknown; returns self."""
        if self.op is None:
            self.op = op
        if self.ip is None:
            self.ip = ip
        if self.source is None:
            self.source = source
        if self.line is None:
            self.line = line
        return self

    def where(self) -> str:
        """`source:line` (or the parts of it that are known)."""
        src = self.source or "<chunk>"
        return f"{src}:{self.line}" if self.line is not None else src

    def __str__(self) -> str:
        detail = []
        if self.op is not None:
            detail.append(self.op)
        if self.ip is not None:
            detail.append(f"at op {self.ip}")
        suffix = f" ({' '.join(detail)})" if detail else ""
        return f"{self.message}{suffix}"


class BuildError(VMError):
    """A chunk failed validation in ChunkBuilder.build() or the verifier (D9)."""


class AsmError(VMError):
    """Assembler syntax error; carries file, line and column."""

    #: The mnemonic when the error is an op no table or given set declares (the command
    #: line then loads more extension sets and assembles again).
    unknown_op: str | None = None

    def __init__(self, message: str, *, source: str, line: int, col: int) -> None:
        super().__init__(message, source=source, line=line)
        self.col = col

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.col}: {self.message}"


class FormatError(VMError):
    """Serialized chunk data is truncated, corrupted or of another format version."""


class StackUnderflow(VMError):
    """An op needed more values than the stack holds."""


class TypeMismatch(VMError):
    """A container op found a value of the wrong kind in a global or slot."""


class IndexOutOfRange(VMError):
    """An index or pool reference is out of range (negative writes included)."""


class ZeroDivision(VMError):
    """Div or Mod by zero."""


class IntegerOverflow(VMError):
    """An Int result left the 64-bit range under strict_int (D4)."""


class UndefinedFunction(VMError):
    """Call named a function with no sub entry."""


class RecursionLimit(VMError):
    """The call depth went over the VM's max_depth."""


class UnknownExtension(VMError):
    """Extended/ExtendedWide/CallBuiltin named an id nobody registered."""


class CapabilityError(VMError):
    """The VM was created without the capability an op needs (processes, file I/O)."""


class ResourceLimit(VMError):
    """A result would be too large to build (huge ranges, repeats)."""


class MemoryLimit(ResourceLimit):
    """A string or container would grow past the VM's size limit (`VM(max_size=...)`)."""


class HostError(VMError):
    """The shell host failed in a way it could not express as an exit status."""


class Interrupted(VMError):
    """`vm.interrupt()` (or a `run(timeout=)` deadline) stopped the run at an instruction
    boundary; `vm.run()` continues from there (D18)."""


class BudgetExceeded(VMError):
    """The run dispatched more instructions than `run(max_steps=)` allowed; the VM stopped
    at an instruction boundary and `vm.run(max_steps=...)` continues from there (D18)."""
class OutputClosed(VMError):
    """The reader of the VM's output went away (a broken pipe); the cause is kept."""
