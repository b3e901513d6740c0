"""The VM: state (stack, frames, globals), chunk preparation and the dispatch loop.

Preparation turns each instruction into a closure (see `registry`), so the loop is just
`ip = code[ip]()`. Stack depth was proven by the verifier, so handlers pop without checks;
an IndexError escaping a handler therefore means a misbehaving extension and is reported
as a stack underflow. Errors leave the loop as VMError subclasses located at the failing
op (D1).
"""

from __future__ import annotations

import sys

from fusevm.chunk import Chunk
from fusevm.entry import NoCycleCollection
from fusevm.errors import (
    BudgetExceeded,
    CapabilityError,
    Interrupted,
    OutputClosed,
    RecursionLimit,
    StackUnderflow,
    UnknownExtension,
    VMError,
)
from fusevm.interp import tiers
from fusevm.interp.cow import own_result, writable
from fusevm.interp.extapi import OperandStack
from fusevm.interp.hotpoints import HotPoints, root_alone
from fusevm.interp.registry import HALT, Step, binders, check_complete
from fusevm.interp.vmsetup import as_shell_host, check_arguments, default_stdin
from fusevm.limits import DEFAULT_MAX_SIZE
from fusevm.loops import loop_facts
from fusevm.ops.extension import ExtensionSet, set_list
from fusevm.values import Undef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from threading import Timer
    from typing import Any, Final, NoReturn, TextIO

    from fusevm.shell.caps import Caps
    from fusevm.shell.protocol import ShellHost
    from fusevm.shell.state import ShellState

    Builtin = Callable[..., Any]
else:
    Any = object  # run-time stand-in: only the type checker reads it

DEFAULT_MAX_DEPTH: Final = 10_000
MAX_BLOCK_NESTING: Final = 200
#: Instructions the budgeted loop runs between two looks at the budget, charging each slice
#: before it runs. Higher-order blocks charge their own instructions as they run, against
#: what the slice left, so a chunk with blocks is counted one instruction at a time.
BUDGET_SLICE: Final = 4096
#: Ops between two looks at what a VM whose hot points are not counted yet has run
#: (`VM._cold`): COLD_TURN per turn of `_COLD_TURNS`. A turn's own bookkeeping (the
#: iterator's next item, the loop's opcodes) was 2% of a short loop's instructions at two
#: ops a turn (callgrind); at eight it is a quarter of that. The turns are a tuple, not a
#: range: its iterator hands out the ints it holds instead of converting each one.
COLD_SLICE: Final = 512
COLD_TURN: Final = 8
_COLD_TURNS: Final = tuple(range(COLD_SLICE // COLD_TURN))
#: Chunks longer than this are prepared with the cycle collector paused (`prepare`).
_GC_PAUSE_OPS: Final = 500


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


#: The longest `run(timeout=...)`: a year of seconds (a timer thread cannot wait for an
#: infinity, or for longer than the platform's time_t counts).
MAX_TIMEOUT: Final = 365 * 24 * 3600.0


class VM(HotPoints):
    """Runs one chunk. `run()` returns the value left on top of the stack, or None."""

    def __init__(self, chunk: Chunk, *, stdout: TextIO | None = None,
                 stdin: TextIO | None = None, strict_int: bool = False,
                 max_depth: int = DEFAULT_MAX_DEPTH, caps: Caps | None = None,
                 extensions: Iterable[ExtensionSet] = (), shell_host: Any = None,
                 baseline: bool | None = None, max_size: int = DEFAULT_MAX_SIZE) -> None:
        if not isinstance(chunk, Chunk):
            raise TypeError(f"VM needs a Chunk, got {type(chunk).__name__}")
        check_arguments(stdout, stdin, max_depth, max_size, caps)
        extensions = set_list(extensions)
        self.stack: list[Any] = []
        #: The stack as extension ops use it (fusevm.interp.extapi); never rebound.
        self.stack_api = OperandStack(self.stack)
        self.strict_int = strict_int
        self.max_depth = max_depth
        self._caps = caps
        #: Largest string (characters) or container (elements) an op may build.
        self.max_size = max_size
        self.stdout = stdout
        self.stdin = stdin
        self.host_data: dict[str, Any] = {}
        self.builtins: dict[int, Builtin] = {}
        self.builtin_names: dict[str, int] = {}
        self.extensions: list[ExtensionSet] = []
        self._shell_host: ShellHost | None = None
        if shell_host is not None:
            self._shell_host = as_shell_host(shell_host)
        self._owns_host = False
        self._jump: int | None = None
        self._fault_ip: int | None = None
        self._block_nesting = 0
        #: The tier hook (see `set_tier_hook`) that counts hot points and installs
        #: compiled regions; None runs every instruction in this interpreter. Read it as
        #: `_tiers`, which attaches the default tiers first when they are still pending.
        self._hook: Any = None
        #: What attaches the tiers this VM was asked for (`tiers.attach_default` for a
        #: `VM(baseline=None)`, `tiers.attach_baseline` for `baseline=True`) while they
        #: are still to be attached: not before something needs them, so a run with no
        #: hot point but the root's entry (not counted on a first run) attaches nothing.
        self._attach: Callable[[VM], None] | None = (
            tiers.attach_default if baseline is None
            else tiers.attach_baseline if baseline else None)
        #: Whether run() calls the hook's `start_run` and `try_run` (see `set_tier_hook`).
        self._run_hooks = False
        #: Instructions the current run may still dispatch (None: no budget).
        self._budget: int | None = None
        self._interrupt_pending = False
        self._run_generation = 0
        #: Child VMs running sub-chunks for this one (an interrupt reaches them too).
        self._children: list[VM] = []
        for ext in extensions:
            self.register(ext)
        #: True while a run() of this VM is under way (one at a time, see run()).
        self._running = False
        self._load(chunk)

    # -- state ---------------------------------------------------------------------

    def _load(self, chunk: Chunk) -> None:
        # Handlers index pools and slots without checks: a chunk that did not come from
        # build() (constructed directly, or modified) is validated here first (D1, D9).
        # (The verifier loads with the first chunk it checks: one from the compile cache
        # was verified when it was built.)
        if not chunk.is_verified():
            from fusevm.verify import verify
            verify(chunk)
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
        #: The root's entry is a hot point not counted yet (`_arm_root`): 1 until a run
        #: ends, 2 after (the next run counts it).
        self._root_waiting = 0
        self._plain: list[Step] = []
        self._hot: tuple[int, ...] = ()
        #: The step each hot point runs when no interrupt is pending (a tier's region step
        #: or the op's own), so an interrupt can patch hot points and put them back.
        self._installed: dict[int, Step] = {}
        #: Hot points a native tier runs (`jit.policy`): compiled Python code calling a
        #: function whose entry is one goes through the interpreter's call, which enters
        #: the native code, instead of calling its own direct form (`baseline.calls`).
        self.native_points: set[int] = set()
        #: Why this VM cannot continue after an interrupted run (None: it can).
        self._broken: str | None = None
        #: Shell variables by name, subshell saves, sub-chunk runner: made by the host the
        #: first time a shell op needs it (see `shell_state`).
        self._shell_state: ShellState | None = None

    def rewind(self) -> None:
        """Put the VM back at the start of its chunk for another run: ip 0, an empty
        stack, only the root frame, not halted, a failed or stopped run forgotten. Its
        slots, globals and prepared steps are kept (`reset()` makes them anew): the cheap
        way to run one chunk again and again on one VM."""
        if self._running:
            raise _running("rewind()")
        self.ip = 0
        self.halted = False
        del self.stack[:]
        del self.frames[1:]
        self.slots = self.root.slots
        self._broken = None

    def reset(self, chunk: Chunk | None = None) -> None:
        """Start over (optionally with another chunk); keeps builtins, extensions and host."""
        if chunk is not None and not isinstance(chunk, Chunk):
            raise TypeError(f"reset needs a Chunk, got {type(chunk).__name__}")
        if self._running:
            raise _running("reset()")
        self._load(self.chunk if chunk is None else chunk)

    @property
    def caps(self) -> Caps:
        """What the shell ops may touch (D12): everything unless the VM was given less."""
        caps = self._caps
        if caps is None:
            # Loaded here: a VM that never asks (no shell op) never loads the shell package.
            from fusevm.shell.caps import Caps
            caps = self._caps = Caps.ALL
        return caps

    # -- handler surface -------------------------------------------------------------

    def push(self, value: Any) -> None:
        self.stack.append(value)

    def pop(self) -> Any:
        """Pop the top value; a container comes back exclusive, so it may be mutated."""
        stack = self.stack
        if not stack:
            raise StackUnderflow("pop from an empty stack")
        t = type(stack[-1])
        if t is list or t is dict:
            writable(stack, -1)
        return stack.pop()

    def peek(self) -> Any:
        """The top value, left in place (a container there may be shared: do not mutate it)."""
        if not self.stack:
            raise StackUnderflow("peek at an empty stack")
        return self.stack[-1]

    def jump(self, target: int) -> None:
        """From an extension handler: continue at `target` after the handler returns."""
        if not 0 <= target <= len(self.chunk.ops):
            raise VMError(f"jump target {target} is out of range")
        self._jump = target

    def unwind_to_root(self) -> None:
        """From an extension handler: drop every frame above the root and empty the stack.

        For a frontend's non-local exit (awk's `exit` inside a function): a factory step
        then returns an ip of root code that the verifier saw at stack depth 0 (a plain
        handler calls `jump()` with it).
        """
        del self.frames[1:]
        self.slots = self.root.slots
        del self.stack[:]

    def halt(self) -> None:
        """Stop the run after the current op."""
        self.halted = True

    request_halt = halt

    def register(self, ext: ExtensionSet) -> None:
        """Make an extension set's handlers available to Extended/ExtendedWide."""
        if not isinstance(ext, ExtensionSet):
            raise TypeError(f"register takes an ExtensionSet, not {type(ext).__name__}")
        if ext not in self.extensions:
            for other in self.extensions:
                if other.name != ext.name and ext.overlaps(other.first_id, other.count):
                    raise ValueError(f"extension sets {ext.name!r} and {other.name!r} "
                                     "have overlapping id ranges")
            self.extensions = [e for e in self.extensions if e.name != ext.name] + [ext]
        self._code = None

    def ext_handler(self, ext_id: int, name: str) -> Callable[..., Any]:
        """The factory, binder or handler for an extension op id, from the sets registered
        with this VM (see fusevm.ops.extension for the three protocols)."""
        return self.ext_binding(ext_id, name)[1]

    def ext_binding(self, ext_id: int, name: str) -> tuple[ExtensionSet, Callable[..., Any]]:
        """`ext_handler`'s implementation and the set registered here that holds it."""
        for ext in self.extensions:
            if ext.first_id <= ext_id < ext.first_id + ext.count:
                fn = ext.implementation(ext_id)
                if fn is None:
                    raise UnknownExtension(f"extension op {name} ({ext_id:#x}) of set "
                                           f"{ext.name!r} has no handler")
                return ext, fn
        raise UnknownExtension(f"extension op {name} ({ext_id:#x}) is not registered with "
                               "this VM (pass its ExtensionSet to VM(..., extensions=[...]))")

    def hosted(self, key: str) -> Any:
        """`host_data[key]`, what an extension set's ops read of their frontend's (put
        there before the run); a VMError saying so when it is missing."""
        try:
            return self.host_data[key]
        except KeyError:
            raise VMError(f"this VM has no host_data[{key!r}], which these extension ops "
                          "read: the frontend that owns them puts it there (run their "
                          "programs through it)") from None

    def register_builtin(self, builtin_id: int, fn: Builtin, name: str | None = None) -> None:
        """Register `fn(vm, *args) -> value` as builtin `builtin_id` for CallBuiltin."""
        if type(builtin_id) is not int or not 0 <= builtin_id <= 0xFFFF:
            raise ValueError(f"a builtin id must be an int 0..65535, not {builtin_id!r:.40}")
        if not callable(fn):
            raise TypeError(f"builtin {builtin_id} must be callable, not {type(fn).__name__}")
        if name is not None and type(name) is not str:
            raise TypeError(f"a builtin's name must be a str, not {type(name).__name__}")
        self.builtins[builtin_id] = fn
        if name is not None:
            self.builtin_names[name] = builtin_id

    @property
    def shell(self) -> ShellHost:
        """The shell host (a PosixHost unless one was given), created on first use."""
        host = self._shell_host
        if host is None:
            from fusevm.shell.posix import PosixHost
            host = self._shell_host = PosixHost(caps=self.caps)
            self._owns_host = True
        return host

    @property
    def shell_state(self) -> ShellState:
        """This VM's shell variables by name, subshell saves and sub-chunk runner
        (`fusevm.shell.state.ShellState`), made by the host on first use."""
        state = self._shell_state
        if state is None:
            state = self._shell_state = self.shell.new_shell_state()
            state.attach(self.globals, self.chunk.names, self._run_sub_chunk)
        return state

    def close(self) -> None:
        """Release what the VM's own shell host holds (pipes, traps, background jobs), and
        the steps `prepare` made, each of which holds the VM: a closed VM nobody refers to
        is freed at once, not left to the cycle collector (a host that runs thousands of
        chunks once each, as a shell does its commands, would otherwise have it walk them
        all again and again).

        A host passed in by the caller is the caller's to close. The VM can still run
        afterwards: a new default host is created on first use, and its steps are made
        again.
        """
        host, self._shell_host = self._shell_host, None
        if host is not None and self._owns_host:
            host.close()
        self._owns_host = False
        if self._code is not None:
            self._code = None
            self._plain = []
            self._installed = {}

    def __enter__(self) -> VM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_shell_host(self, host: Any) -> None:
        """Use `host` for the shell ops (the caller keeps ownership of it); a host that
        implements only part of `ShellHost` is completed with the base class's defaults
        (`fusevm.shell.protocol.as_shell_host`). The shell state starts afresh with it."""
        self.close()
        self._shell_host = as_shell_host(host)
        self._shell_state = None

    def _run_sub_chunk(self, chunk: Chunk, variables: Mapping[str, Any], *,
                       stdout: TextIO | None, host: ShellHost | None,
                       status: int | None) -> tuple[int, ShellState]:
        """The sub-chunk runner of this VM's shell state (`ShellState.run_sub_chunk`).

        The child shares this VM's builtins, extensions, host data, tiers and
        capabilities, and `host` if given (else this VM's host); an interrupt of this VM
        reaches it. Returns its status and its shell state.
        """
        child = VM(chunk, stdout=stdout if stdout is not None else self.stdout,
                   stdin=self.stdin, strict_int=self.strict_int, max_depth=self.max_depth,
                   caps=self.caps, extensions=self.extensions,
                   shell_host=host if host is not None else self._shell_host,
                   max_size=self.max_size)
        child.builtins = self.builtins
        child.builtin_names = self.builtin_names
        child.host_data = self.host_data
        state = child.shell_state
        state.inherit(variables)
        child.last_status = self.last_status if status is None else status
        child.set_tier_hook(self._tiers)
        self._children.append(child)
        try:
            child.run()
        except (Interrupted, BudgetExceeded):
            self._broken = "the run was stopped inside a sub-chunk"
            raise
        finally:
            self._children.remove(child)
        return child.last_status, state

    def require(self, cap: str, what: str) -> None:
        """Raise CapabilityError unless this VM may use capability `cap`."""
        if not getattr(self.caps, cap):
            raise CapabilityError(f"{what} needs the {cap!r} capability, which this VM "
                                  "was created without")

    def write(self, text: str) -> None:
        """Write to the VM's stdout (sys.stdout at the time of the write by default)."""
        out = self.stdout if self.stdout is not None else sys.stdout
        try:
            out.write(text)
        except BrokenPipeError as e:
            # The reader went away: the CLI exits quietly on this, as shell tools do.
            raise OutputClosed("cannot write output: the reader went away") from e
        except (OSError, ValueError) as e:
            raise VMError(f"cannot write output: {e}") from e
        except TypeError as e:  # (a bytes stream, say)
            raise VMError(f"cannot write output: {e} (stdout must be a text stream)") from e

    def readline(self) -> str | None:
        """One line from the VM's stdin, or None at end of input.

        The default stdin reads bytes and decodes UTF-8 with surrogateescape, so an
        undecodable byte is kept (as a lone surrogate) rather than dropped. Lines end at
        "\n" only, untranslated, so a "\r" before it is kept (docs/ops.md#io).
        """
        if self.stdin is None:
            self.stdin = default_stdin()
        try:
            line = self.stdin.readline()
        except (OSError, ValueError) as e:
            raise VMError(f"cannot read input: {e}") from e
        if type(line) is not str:
            raise VMError(f"cannot read input: stdin.readline() returned "
                          f"{type(line).__name__} (stdin must be a text stream)")
        return line if line else None

    def enable_jit(self) -> None:
        """Let vm.run() hand hot regions to the native tiers (no-op without llvmlite)."""
        tiers.attach(self, "native", tracing=False)

    def enable_tracing_jit(self) -> None:
        """Enable all native tiers, tracing included where available."""
        tiers.attach(self, "native", tracing=True)

    def set_tier_hook(self, hook: Any) -> None:
        """Install (or with None remove) the object that orders the tiers for this VM.

        The hook's `try_run(vm)` may run a whole run natively, and its
        `region_step(vm, ip, step)` may return a step that runs a compiled region entered
        at hot point `ip`; `region_threshold` entries of a hot point come first. The
        interpreter knows nothing else of the tiers. A hook whose `per_run` is false says
        that `start_run` and `try_run` do nothing, and run() does not call them; one
        with a `cold_threshold` (not None) gives that `threshold_at` for every hot point
        of a chunk object no tier has compiled code of (`tiers.COMPILED`); the VM then
        runs `tiers.cold_ops()` ops before it counts those hot points at all (`run()`'s
        loop charges ops a slice at a time, far cheaper than counting each entry), and its
        `_cold_ran` is that number once run. A VM whose default tiers are still to be
        attached runs `tiers.pending_cold_ops()` ops that way first, and attaches them
        only then.
        """
        self._attach = None
        self._hook = hook
        self._run_hooks = hook is not None and bool(getattr(hook, "per_run", True))
        self._code = None

    @property
    def _tiers(self) -> Any:
        """The tier hook (`set_tier_hook`), the default tiers attached first if they are
        still pending."""
        attach = self._attach
        if attach is not None:
            self._attach = None
            attach(self)
        return self._hook

    # -- running ---------------------------------------------------------------------

    def prepare(self) -> list[Step]:
        """Build the step closures for the current chunk (done once per chunk)."""
        if self._code is None:
            ops = self.chunk.ops
            # Thousands of new closures would set off the cycle collector many times over,
            # each pass walking the whole heap (most of a big chunk's preparing time); they
            # are kept, so nothing is left for it to find.
            with NoCycleCollection(when=len(ops) > _GC_PAUSE_OPS):
                code = [bind(self, operands, ip) for ip, (bind, operands) in
                        enumerate(binders(self.chunk))]
            #: Each op's own interpreter step, whatever a tier installs in `code`.
            self._plain = code.copy()
            facts = loop_facts(self.chunk)
            hot = self._hot = facts.hot_points
            self._installed = {h: code[h] for h in hot}
            self._cold = self._start_cold(code, len(hot) > 1 or not root_alone(facts))
            self._code = code
            if self._interrupt_pending:
                self._patch_hot_points()
        return self._code

    def run(self, *, max_steps: int | None = None, timeout: float | None = None) -> Any:
        """Run until the chunk ends, halts or raises; returns the top of the stack or None.

        `max_steps` bounds the instructions this call dispatches (BudgetExceeded), and
        `timeout` the seconds it may take (Interrupted); `vm.interrupt()` stops it from
        another thread or a signal handler. After either, the VM stands at an instruction
        boundary and another `run()` continues from there (D18).
        A VM runs one run at a time: run() from inside one of its own ops, or from another
        thread while it runs, is a VMError (make another VM for that).
        """
        if self._running:
            raise _running("run()")
        self._running = True
        try:
            if self._root_waiting == 2:
                self._arm_root()  # run again: its entries are counted from now on
            if (max_steps is not None or timeout is not None or self._run_hooks
                    or self._broken is not None or self._interrupt_pending or self.halted):
                return self._run_controlled(max_steps, timeout)
            # The common call (no budget, no timer, tiers with nothing to do per run) is the
            # unbudgeted loop of `_dispatch` inline: a short run's cost is mostly this set-up.
            code = self._code
            if code is None:
                code = self.prepare()
            ip = self.ip
            i = 0
            try:
                try:
                    # A compiled region's step often runs to the end on its own: then there
                    # is no IndexError to raise and catch (about 0.35 us, most of a short
                    # compiled run's fixed cost).
                    ip = code[ip]()
                    if ip < len(code):
                        if self._cold:
                            # No hot point is counted yet: the ops run are, a slice at a
                            # time (COLD_TURN dispatches a turn; counting entries instead
                            # costs 20-40%).
                            while True:
                                for i in _COLD_TURNS:  # noqa: B007 (read in `finally`)
                                    ip = code[ip]()
                                    ip = code[ip]()
                                    ip = code[ip]()
                                    ip = code[ip]()
                                    ip = code[ip]()
                                    ip = code[ip]()
                                    ip = code[ip]()
                                    ip = code[ip]()
                                left = self._cold - COLD_SLICE
                                if left <= 0:
                                    break
                                self._cold = left
                            i = -1
                            if self._cold:  # (not warmed already by a block's ops)
                                self._warm()
                        while True:
                            ip = code[ip]()
                except IndexError as e:
                    if ip != len(code) and ip != HALT:  # (else the chunk's end, or a halt)
                        self._fault(e, ip)
                except Exception as e:
                    self._fault(e, ip)
            finally:
                if self._cold and i >= 0:  # the run ended in a slice: charge its ops
                    self._cold = max(self._cold - COLD_TURN * (i + 1), 1)
                if self._interrupt_pending:  # it came after the last hot point: it is spent
                    self._interrupt_pending = False
                    self._unpatch_hot_points()
                if self._root_waiting:
                    self._root_waiting = 2
            if ip == HALT:
                self.halted = True
                self.ip = len(code)
            elif ip > len(code):  # (the first step's own: the loops' end in IndexError)
                self._fault(IndexError(ip), ip)
            else:
                self.ip = ip
            # `_result()`, inline (a short run's fixed cost).
            stack = self.stack
            if not stack:
                return None
            t = type(stack[-1])
            if t is list or t is dict:
                own_result(stack, -1)
            return stack.pop()
        finally:
            self._running = False

    def _run_controlled(self, max_steps: int | None, timeout: float | None) -> Any:
        """`run()` with a budget, a timeout, a pending interrupt or tiers to consult."""
        if self._broken is not None:
            raise VMError(f"this VM cannot continue: {self._broken} (call reset() or "
                          "rewind())")
        if max_steps is not None:
            if type(max_steps) is not int or max_steps < 0:
                raise ValueError(f"max_steps must be a non-negative int, not {max_steps!r}")
        timer: Timer | None = None
        generation = self._run_generation
        if timeout is not None:
            if type(timeout) not in (int, float) or not 0 < timeout <= MAX_TIMEOUT:
                raise ValueError(f"timeout must be a positive number of seconds up to "
                                 f"{MAX_TIMEOUT:g}, not {timeout!r}")
            import threading  # only with a timeout: its import costs every command start-up

            timer = threading.Timer(timeout, self._timed_out, (generation,))
            timer.daemon = True
            timer.start()
        self._budget = max_steps
        if self._cold:
            self._warm()  # (only the unbudgeted loop of `run()` counts ops in slices)
        tiers = self._hook if self._run_hooks else None
        try:
            if tiers is not None:
                tiers.start_run(self)
            if not self.halted and (tiers is None or max_steps is not None
                                    or self._interrupt_pending or not tiers.try_run(self)):
                self._dispatch(self.ip, None)
        finally:
            if timer is not None:
                timer.cancel()
                # A timer that fires late must not interrupt a later run.
                self._run_generation = generation + 1
            self._budget = None
            if self._interrupt_pending:
                self._interrupt_pending = False
                self._unpatch_hot_points()
            if self._root_waiting:
                self._root_waiting = 2
        return self._result()

    def _result(self) -> Any:
        """Pop what a finished run returns: the top of the stack, or None (`run()` has
        these lines inline)."""
        stack = self.stack
        if not stack:
            return None
        t = type(stack[-1])
        if t is list or t is dict:
            # The caller may mutate what it gets: nothing the VM holds may be reachable
            # from it.
            own_result(stack, -1)
        return stack.pop()

    def _timed_out(self, generation: int) -> None:
        if self._run_generation == generation:
            self.interrupt()

    def interrupt(self) -> None:
        """Stop the running `run()` at its next hot point with `Interrupted`.

        Safe from another thread and from a signal handler: it only sets a flag, patches
        this VM's hot points (loop headers, function entries, block starts) with a step
        that raises, and tells native code through the tiers' poll word. Nothing is
        checked per instruction. Without a running `run()` the next one is interrupted.
        """
        self._interrupt_pending = True
        self._patch_hot_points()
        tiers = self._hook  # (default tiers still pending have nothing to stop)
        if tiers is not None:
            tiers.interrupt(self)
        for child in tuple(self._children):
            child.interrupt()

    def _dispatch(self, ip: int, stop: int | None, base: int | None = None) -> int:
        """The dispatch loop, from `ip` until the end, a halt, or `stop` (for blocks).

        The main loop has no bounds test: stepping to the end (ip == len(ops)) or to HALT
        makes `code[ip]` raise IndexError, which ends the loop for free. An IndexError
        raised while a step runs (ip still inside the chunk) is a stack underflow. With a
        budget the loop runs in slices of at most BUDGET_SLICE instructions, charging
        each slice before it runs, so the count is exact without a test per instruction
        (the tiers step aside during a budgeted run: only the interpreter counts).

        A block (stop given, its frame at `frames[base]`, by default the top frame) ends
        when its own code reaches `stop`: not when a function it called happens to run
        the op at that index (a function laid out right after the block starts there),
        and also when a Return popped the block frame (which resumes at `stop`).
        """
        code = self._code if self._code is not None else self.prepare()
        n = len(code)
        try:
            if stop is None:
                if self._budget is None:
                    while True:
                        ip = code[ip]()
                size = 1 if self.chunk.block_ranges else BUDGET_SLICE
                while True:
                    left = self._budget
                    if left <= 0:
                        if ip >= n:
                            break
                        raise BudgetExceeded("the run used up its step budget")
                    k = left if left < size else size
                    self._budget = left - k
                    for _ in range(k):
                        ip = code[ip]()
            else:
                frames = self.frames
                if base is None:
                    base = len(frames) - 1
                if (ip, stop) not in self.chunk.block_ranges:
                    # A segment a frontend runs (a forked subshell's code): op by op, so
                    # `stop` is seen even where a tier's step would run on past it.
                    code = self._plain
                ran = 0
                try:
                    while ip < n:
                        if ip == stop and not any(f.kind == Frame.CALL
                                                  for f in frames[base:]):
                            break
                        if self._budget is not None:
                            if self._budget <= 0:
                                raise BudgetExceeded("the run used up its step budget")
                            self._budget -= 1
                        ip = code[ip]()
                        ran += 1
                finally:
                    if self._cold:
                        self._charge(ran)
        except IndexError as e:
            if ip != n and ip != HALT:
                self._fault(e, ip)
        except Exception as e:
            self._fault(e, ip)
        if ip == HALT:
            self.halted = True
            self.ip = n
        else:
            self.ip = ip
        return ip

    def _fault(self, e: Exception, ip: int) -> NoReturn:
        """Raise what escaped the step at `ip` as an error located at its op (D1)."""
        from fusevm.interp.faults import fault  # an error's path: loaded with the first
        fault(self, e, ip)

    def run_block(self, block: int, args: tuple[Any, ...]) -> Any:
        """Run block range `block` in a fresh frame with `args` in its first slots.

        Returns the value the block leaves on top of its stack (Undef if none), or HALT's
        marker `_HALTED` when the block halted the VM.
        """
        start, end = self.chunk.block_ranges[block]
        if self._block_nesting >= MAX_BLOCK_NESTING:
            raise RecursionLimit(f"higher-order blocks nested more than {MAX_BLOCK_NESTING} "
                                 "deep")
        stack = self.stack
        slots: list[Any] = [Undef] * self.chunk.slot_count
        # Shared with the input; a block writing to slot 0 copies it first (interp/cow.py).
        slots[:len(args)] = args
        frame = Frame(slots, end, len(stack), Frame.BLOCK)
        frames = self.frames
        base = len(frames)
        frames.append(frame)
        self.slots = slots
        self._block_nesting += 1
        try:
            ip = self._dispatch(start, end, base)
        except (Interrupted, BudgetExceeded):
            # The higher-order op around this block has consumed its input and cannot be
            # re-entered halfway: this run stops for good.
            self._broken = "the run was stopped inside a higher-order block"
            raise
        except VMError:
            # As after a stop, and the block's frame is still on top: another run() would
            # go on with the block's ops as if they were the root's.
            self._broken = "the run failed inside a higher-order block"
            raise
        finally:
            self._block_nesting -= 1
        if ip == HALT:
            return _HALTED
        # Drop the block frame and any scope it left open (a Return already popped it).
        del frames[base:]
        self.slots = frames[-1].slots
        result = stack.pop() if len(stack) > frame.stack_base else Undef
        del stack[frame.stack_base:]
        return result


def _running(call: str) -> VMError:
    """The error of `call` on a VM whose run is under way (a VM runs one at a time)."""
    return VMError(f"{call} of a VM that is already running (from one of its own ops, or "
                   "another thread): make another VM for that")


class _Halted:
    __slots__ = ()


_HALTED: Final = _Halted()


def frame_cap(vm: VM) -> int:
    """The frame count past which a `Call` checks the limits: the depth limit, and the
    size limit, since frames hold slot_count slots each (65,536 slots x 10,000 frames
    would be 5 GiB). Compiled code's frameless calls stay below it (`baseline.calls`)."""
    nslots = vm.chunk.slot_count
    limit = vm.max_depth
    return min(limit, vm.max_size // nslots) if nslots else limit


def _load_handlers() -> None:
    from fusevm.interp.handlers import load_all
    load_all()
    check_complete()


_load_handlers()
