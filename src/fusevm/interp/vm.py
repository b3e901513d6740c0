"""The VM: state (stack, frames, globals), chunk preparation and the dispatch loop.

Preparation turns each instruction into a closure (see `registry`), so the loop is just
`ip = code[ip]()`. Stack depth was proven by the verifier, so handlers pop without checks;
an IndexError escaping a handler therefore means a misbehaving extension and is reported
as a stack underflow. Errors leave the loop as VMError subclasses located at the failing
op (D1).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any, Final, TextIO

from fusevm.chunk import Chunk
from fusevm.errors import (
    CapabilityError,
    StackUnderflow,
    UnknownExtension,
    VMError,
)
from fusevm.interp.registry import FACTORIES, HALT, Step, check_complete
from fusevm.ops import Op
from fusevm.ops.extension import ExtensionSet
from fusevm.shell.caps import Caps
from fusevm.values import Undef

DEFAULT_MAX_DEPTH: Final = 10_000
MAX_BLOCK_NESTING: Final = 200


class Frame:
    """A call, scope or block frame: its slots, where to resume and the stack base."""

    __slots__ = ("slots", "return_ip", "stack_base", "kind")

    CALL: Final = 0
    SCOPE: Final = 1
    BLOCK: Final = 2

    def __init__(self, slots: list[Any], return_ip: int, stack_base: int, kind: int) -> None:
        self.slots = slots
        self.return_ip = return_ip
        self.stack_base = stack_base
        self.kind = kind

    def __repr__(self) -> str:
        kind = ("call", "scope", "block")[self.kind]
        return f"<Frame {kind} base={self.stack_base} ret={self.return_ip} slots={self.slots}>"


Builtin = Callable[..., Any]


class VM:
    """Runs one chunk. `run()` returns the value left on top of the stack, or None."""

    def __init__(self, chunk: Chunk, *, stdout: TextIO | None = None,
                 stdin: TextIO | None = None, strict_int: bool = False,
                 max_depth: int = DEFAULT_MAX_DEPTH, caps: Caps | None = None,
                 extensions: Iterable[ExtensionSet] = (), shell_host: Any = None) -> None:
        if not isinstance(chunk, Chunk):
            raise TypeError(f"VM needs a Chunk, got {type(chunk).__name__}")
        self.stack: list[Any] = []
        self.strict_int = strict_int
        self.max_depth = max_depth
        self.caps = caps if caps is not None else Caps.ALL
        self.stdout = stdout
        self.stdin = stdin
        self.host_data: dict[str, Any] = {}
        self.builtins: dict[int, Builtin] = {}
        self.builtin_names: dict[str, int] = {}
        self.extensions: list[ExtensionSet] = []
        self._shell_host = shell_host
        self._jump: int | None = None
        self._block_nesting = 0
        self._jit: Any = None
        for ext in extensions:
            self.register(ext)
        self._load(chunk)

    # -- state ---------------------------------------------------------------------

    def _load(self, chunk: Chunk) -> None:
        self.chunk = chunk
        del self.stack[:]
        self.root = Frame([Undef] * chunk.slot_count, HALT, 0, Frame.CALL)
        self.frames: list[Frame] = [self.root]
        self.slots: list[Any] = self.root.slots
        self.globals: list[Any] = [Undef] * len(chunk.names)
        self.ip = 0
        self.last_status = 0
        self.halted = False
        self._code: list[Step] | None = None

    def reset(self, chunk: Chunk | None = None) -> None:
        """Start over (optionally with another chunk); keeps builtins, extensions and host."""
        self._load(self.chunk if chunk is None else chunk)

    # -- handler surface -------------------------------------------------------------

    def push(self, value: Any) -> None:
        self.stack.append(value)

    def pop(self) -> Any:
        if not self.stack:
            raise StackUnderflow("pop from an empty stack")
        return self.stack.pop()

    def peek(self) -> Any:
        if not self.stack:
            raise StackUnderflow("peek at an empty stack")
        return self.stack[-1]

    def jump(self, target: int) -> None:
        """From an extension handler: continue at `target` after the handler returns."""
        if not 0 <= target <= len(self.chunk.ops):
            raise VMError(f"jump target {target} is out of range")
        self._jump = target

    def halt(self) -> None:
        """Stop the run after the current op."""
        self.halted = True

    request_halt = halt

    def register(self, ext: ExtensionSet) -> None:
        """Make an extension set's handlers available to Extended/ExtendedWide."""
        if ext not in self.extensions:
            for other in self.extensions:
                if other.name != ext.name and (ext.first_id < other.first_id + other.count
                                               and other.first_id < ext.first_id + ext.count):
                    raise ValueError(f"extension sets {ext.name!r} and {other.name!r} "
                                     "have overlapping id ranges")
            self.extensions = [e for e in self.extensions if e.name != ext.name] + [ext]
        self._code = None

    def ext_handler(self, ext_id: int, name: str) -> Callable[..., Any]:
        """The handler for an extension op id, from the sets registered with this VM."""
        for ext in self.extensions:
            if ext_id in ext:
                fn = ext.handlers.get(ext_id)
                if fn is None:
                    raise UnknownExtension(f"extension op {name} ({ext_id:#x}) of set "
                                           f"{ext.name!r} has no handler")
                return fn
        raise UnknownExtension(f"extension op {name} ({ext_id:#x}) is not registered with "
                               "this VM (pass its ExtensionSet to VM(..., extensions=[...]))")

    def register_builtin(self, builtin_id: int, fn: Builtin, name: str | None = None) -> None:
        """Register `fn(vm, *args) -> value` as builtin `builtin_id` for CallBuiltin."""
        if not 0 <= builtin_id <= 0xFFFF:
            raise ValueError(f"builtin id {builtin_id} is outside 0..65535")
        self.builtins[builtin_id] = fn
        if name is not None:
            self.builtin_names[name] = builtin_id

    @property
    def shell(self) -> Any:
        """The shell host (a PosixHost unless one was given), created on first use."""
        if self._shell_host is None:
            from fusevm.shell.host import PosixHost
            self._shell_host = PosixHost(caps=self.caps)
        return self._shell_host

    def set_shell_host(self, host: Any) -> None:
        self._shell_host = host

    def shell_var(self, name: str) -> Any:
        """A shell variable: the global of that name, or None when unset (Undef or absent)."""
        idx = self._name_index().get(name)
        if idx is None:
            return None
        v = self.globals[idx]
        return None if v is Undef else v

    def set_shell_var(self, name: str, value: Any) -> None:
        """Assign a shell variable (a global of this chunk's name pool)."""
        idx = self._name_index().get(name)
        if idx is None:
            raise VMError(f"cannot assign ${name}: the chunk has no variable of that name")
        self.globals[idx] = value

    def _name_index(self) -> dict[str, int]:
        index = self.host_data.get("__names__")
        if index is None or index[0] is not self.chunk:
            index = (self.chunk, {n: i for i, n in enumerate(self.chunk.names)})
            self.host_data["__names__"] = index
        return index[1]

    def run_sub_chunk(self, chunk: Chunk, stdout: TextIO | None = None) -> int:
        """Run a nested chunk (substitution body, trap handler) in a child VM; its status."""
        child = VM(chunk, stdout=stdout if stdout is not None else self.stdout,
                   stdin=self.stdin, strict_int=self.strict_int, max_depth=self.max_depth,
                   caps=self.caps, extensions=self.extensions, shell_host=self._shell_host)
        child.builtins = self.builtins
        child.builtin_names = self.builtin_names
        child.host_data = {k: v for k, v in self.host_data.items() if k != "__names__"}
        child.run()
        return child.last_status

    def bind_shell_runner(self) -> None:
        """Give the shell host a way to run sub-chunks with their stdout on a given fd."""
        host = self.shell
        bind = getattr(host, "bind_runner", None)
        if bind is None:
            return

        def runner(chunk: Chunk, stdout_fd: int) -> int:
            out = open(stdout_fd, "w", encoding="utf-8", errors="surrogateescape",
                       closefd=False)
            try:
                return self.run_sub_chunk(chunk, out)
            finally:
                out.flush()

        bind(runner)

    def require(self, cap: str, what: str) -> None:
        """Raise CapabilityError unless this VM may use capability `cap`."""
        if not getattr(self.caps, cap):
            raise CapabilityError(f"{what} needs the {cap!r} capability, which this VM "
                                  "was created without")

    def write(self, text: str) -> None:
        """Write to the VM's stdout (sys.stdout at the time of the write by default)."""
        out = self.stdout if self.stdout is not None else sys.stdout
        out.write(text)

    def readline(self) -> str | None:
        """One line from the VM's stdin, or None at end of input.

        The default stdin reads bytes and decodes UTF-8 with surrogateescape, so an
        undecodable byte is kept (as a lone surrogate) rather than dropped.
        """
        if self.stdin is None:
            self.stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8",
                                          errors="surrogateescape")
        line = self.stdin.readline()
        return line if line else None

    def enable_jit(self) -> None:
        """Let vm.run() hand eligible chunks to the JIT tiers (no-op without llvmlite)."""
        from fusevm.jit.policy import attach
        attach(self, tracing=False)

    def enable_tracing_jit(self) -> None:
        """Enable all JIT tiers, tracing included where available."""
        from fusevm.jit.policy import attach
        attach(self, tracing=True)

    # -- running ---------------------------------------------------------------------

    def prepare(self) -> list[Step]:
        """Build the step closures for the current chunk (done once per chunk)."""
        if self._code is None:
            ops = self.chunk.ops
            code: list[Step] = []
            for ip, instr in enumerate(ops):
                code.append(FACTORIES[instr[0]](self, instr[1:], ip))
            self._code = code
        return self._code

    def run(self) -> Any:
        """Run until the chunk ends, halts or raises; returns the top of the stack or None."""
        if not self.halted and (self._jit is None or not self._jit.try_run(self)):
            self._dispatch(self.ip, None)
        return self.stack.pop() if self.stack else None

    def _dispatch(self, ip: int, stop: int | None) -> int:
        """The dispatch loop, from `ip` until the end, a halt, or `stop` (for blocks).

        The main loop has no bounds test: stepping to the end (ip == len(ops)) or to HALT
        makes `code[ip]` raise IndexError, which ends the loop for free. An IndexError
        raised while a step runs (ip still inside the chunk) is a stack underflow.
        """
        code = self._code if self._code is not None else self.prepare()
        n = len(code)
        try:
            if stop is None:
                while True:
                    ip = code[ip]()
            else:
                while ip != stop and ip < n:
                    ip = code[ip]()
        except IndexError as e:
            if ip < n:
                self.ip = ip + 1
                raise StackUnderflow(f"stack underflow ({e})", op=self._op_name(ip), ip=ip,
                                     source=self.chunk.source,
                                     line=self.chunk.line_of(ip)) from e
        except VMError as e:
            self.ip = ip + 1
            raise e.locate(op=self._op_name(ip), ip=ip, source=self.chunk.source,
                           line=self.chunk.line_of(ip)) from e.__cause__
        except RecursionError as e:
            self.ip = ip + 1
            raise VMError("Python recursion limit reached (blocks nested too deeply)",
                          op=self._op_name(ip), ip=ip, source=self.chunk.source,
                          line=self.chunk.line_of(ip)) from e
        if ip == HALT:
            self.halted = True
            self.ip = n
        else:
            self.ip = ip
        return ip

    def _op_name(self, ip: int) -> str | None:
        if 0 <= ip < len(self.chunk.ops):
            instr = self.chunk.ops[ip]
            if instr[0] is Op.Extended or instr[0] is Op.ExtendedWide:
                from fusevm.ops.extension import lookup
                ext = lookup(instr[1])
                return ext.name if ext is not None else instr[0].name
            return str(instr[0].name)
        return None

    def run_block(self, block: int, args: tuple[Any, ...]) -> Any:
        """Run block range `block` in a fresh frame with `args` in its first slots.

        Returns the value the block leaves on top of its stack (Undef if none), or HALT's
        marker `_HALTED` when the block halted the VM.
        """
        start, end = self.chunk.block_ranges[block]
        if self._block_nesting >= MAX_BLOCK_NESTING:
            raise VMError(f"higher-order blocks nested more than {MAX_BLOCK_NESTING} deep")
        stack = self.stack
        slots = [Undef] * self.chunk.slot_count
        slots[:len(args)] = args
        frame = Frame(slots, end, len(stack), Frame.BLOCK)
        self.frames.append(frame)
        self.slots = slots
        self._block_nesting += 1
        try:
            ip = self._dispatch(start, end)
        finally:
            self._block_nesting -= 1
        if ip == HALT:
            return _HALTED
        if self.frames and self.frames[-1] is frame:
            self.frames.pop()
            self.slots = self.frames[-1].slots
        result = stack.pop() if len(stack) > frame.stack_base else Undef
        del stack[frame.stack_base:]
        return result


class _Halted:
    __slots__ = ()


_HALTED: Final = _Halted()


def _load_handlers() -> None:
    from fusevm.interp.handlers import load_all
    load_all()
    check_complete()


_load_handlers()


def _warm_up() -> None:
    """Run a small loop a few times so CPython specializes the dispatch loop and the common
    step closures now, not during the first real run (3.11 quickens after ~8 calls)."""
    from fusevm.chunk import ChunkBuilder
    b = ChunkBuilder(source="<warm-up>")
    b.emit(Op.LoadInt, 0)
    b.emit(Op.SetSlot, 0)
    top = b.label()
    b.bind(top)
    b.emit(Op.GetSlot, 0)
    b.emit(Op.LoadInt, 1)
    b.emit(Op.Add)
    b.emit(Op.Dup)
    b.emit(Op.SetSlot, 0)
    b.emit(Op.LoadInt, 16)
    b.emit(Op.NumLt)
    b.emit(Op.JumpIfTrue, top)
    b.emit(Op.GetSlot, 0)
    chunk = b.build(fuse=False)
    for _ in range(10):
        VM(chunk).run()


_warm_up()
