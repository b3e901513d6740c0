"""Handlers for the shell ops: stack discipline and capability checks, then the host.

Everything with shell meaning (processes, pipes, redirects, expansions) lives behind the
VM's shell host (`fusevm.shell.protocol.ShellHost`); this module never touches the system
itself. Shell variables are the VM's globals; the VM's `ShellState` (`vm.shell_state`) looks
them up by name, saves them around subshells and runs sub-chunks in child VMs. Exec and the
other command-running ops update `$?` (last_status) (D12).
"""

from __future__ import annotations

from fusevm.errors import HostError, VMError
from fusevm.interp.handlers.status import i32 as _i32
from fusevm.interp.registry import Step, handler
from fusevm.interp.vm import VM
from fusevm.ops import F, Op
from fusevm.ops.shell_codes import FileTest, Redir, param_argc
from fusevm.shell.hostbase import chunk_runner
from fusevm.shell.traps import is_pseudo_signal
from fusevm.values import Status, to_int, to_str

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def flatten_args(values: list[Any]) -> list[str]:
    """argv from stack values: an Array splices its elements, anything else is one word."""
    argv: list[str] = []
    for v in values:
        if type(v) is list:
            argv.extend(to_str(x) for x in v)
        else:
            argv.append(to_str(v))
    return argv


def _take(stack: list[Any], n: int) -> list[Any]:
    if not n:
        return []
    items = stack[-n:]
    del stack[-n:]
    return items


#: The op-table flags that name a capability, and the capability each one needs.
_CAP_FLAGS = ((F.SPAWN, "spawn"), (F.FS_READ, "fs_read"), (F.FS_WRITE, "fs_write"))


def _caps_of(op: Op) -> tuple[str, ...]:
    """The capabilities an op needs, read from its flags in the op table."""
    return tuple(cap for flag, cap in _CAP_FLAGS if op.spec.has(flag))


def _require_all(vm: VM, caps: tuple[str, ...], what: str) -> None:
    for cap in caps:
        vm.require(cap, what)


def _simple(vm: VM, ip: int, call: Any) -> Step:
    """An op with no stack effect that just calls the host."""
    nxt = ip + 1

    def step() -> int:
        call(vm.shell)
        return nxt
    return step


def _string_op(vm: VM, ip: int, call: Any) -> Step:
    """`s -- r`: r = call(host, to_str(s)), after the capabilities the op's flags name."""
    stack = vm.stack
    op = vm.chunk.ops[ip][0]
    caps = _caps_of(op)
    nxt = ip + 1

    def step() -> int:
        _require_all(vm, caps, op.name)
        stack[-1] = call(vm.shell, to_str(stack[-1]))
        return nxt
    return step


# -- Commands ----------------------------------------------------------------------------

@handler(Op.Exec)
def exec_(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    argc = operands[0]
    caps = _caps_of(Op.Exec)
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        argv = flatten_args(_take(stack, argc))
        if argv:
            _require_all(vm, caps, f"Exec {argv[0]!r}")
            code = _i32(vm.shell.exec(argv))
        else:
            code = 0
        vm.last_status = code
        stack.append(Status(code))
        return nxt
    return step


@handler(Op.ExecBg)
def exec_bg(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    argc = operands[0]
    caps = _caps_of(Op.ExecBg)
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        argv = flatten_args(_take(stack, argc))
        if argv:
            _require_all(vm, caps, f"ExecBg {argv[0]!r}")
            vm.shell.exec_bg(argv)
        vm.last_status = 0
        stack.append(Status(0))
        return nxt
    return step


@handler(Op.CallFunction)
def call_function(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    name_index, argc = operands
    name = vm.chunk.names[name_index]
    caps = _caps_of(Op.CallFunction)
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        args = flatten_args(_take(stack, argc))
        host = vm.shell
        code = host.call_function(name, args)
        if code is None:
            builtin = vm.builtin_names.get(name)
            if builtin is not None:
                code = _run_builtin(vm, builtin, name, args)
            else:
                _require_all(vm, caps, f"CallFunction {name!r}")
                code = host.exec([name, *args])
        vm.last_status = _i32(code)
        stack.append(Status(vm.last_status))
        return nxt
    return step


def _run_builtin(vm: VM, builtin: int, name: str, args: list[str]) -> int:
    """Run a builtin registered under `name`; its result read as a status (None: 0).

    Any failure other than a VMError is reported as one, naming the builtin (D1), as
    CallBuiltin does.
    """
    try:
        result = vm.builtins[builtin](vm, *args)
        return 0 if result is None else to_int(result)
    except VMError:
        raise
    except Exception as e:
        raise VMError(f"builtin {name!r} failed: {type(e).__name__}: {e}") from e


@handler(Op.PipelineBegin)
def pipeline_begin(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    stages = operands[0]
    return _simple(vm, ip, lambda host: host.pipeline_begin(stages))


@handler(Op.PipelineStage)
def pipeline_stage(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _simple(vm, ip, lambda host: host.pipeline_stage())


@handler(Op.PipelineEnd)
def pipeline_end(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        vm.last_status = _i32(vm.shell.pipeline_end())
        push(Status(vm.last_status))
        return nxt
    return step


@handler(Op.SubshellBegin)
def subshell_begin(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    nxt = ip + 1

    def step() -> int:
        vm.shell.subshell_begin()
        # The host saves what it owns (cwd, traps, fds); `( v=2 )` must not change v either.
        vm.shell_state.subshell_begin()
        return nxt
    return step


@handler(Op.SubshellEnd)
def subshell_end(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    nxt = ip + 1

    def step() -> int:
        r = vm.shell.subshell_end()
        vm.shell_state.subshell_end()
        if r is not None:
            vm.last_status = _i32(r)
        return nxt
    return step


# -- Redirects and here-documents ----------------------------------------------------------

@handler(Op.Redirect)
def redirect(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    fd, kind_code = operands
    kind = Redir(kind_code)
    caps = ([cap for cap, needed in (("fs_read", kind in (Redir.READ, Redir.READ_WRITE)),
                                     ("fs_write", kind.writes)) if needed])
    pop = vm.stack.pop
    nxt = ip + 1

    def step() -> int:
        target = to_str(pop())
        for cap in caps:
            vm.require(cap, f"redirect {fd}{kind.symbol}{target}")
        vm.shell.redirect(fd, kind, target)
        return nxt
    return step


@handler(Op.HereDoc)
def here_doc(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    text = to_str(vm.chunk.constants[operands[0]])
    return _simple(vm, ip, lambda host: host.heredoc(text))


@handler(Op.HereString)
def here_string(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    pop = vm.stack.pop
    nxt = ip + 1

    def step() -> int:
        vm.shell.herestring(to_str(pop()))
        return nxt
    return step


@handler(Op.WithRedirectsBegin)
def with_redirects_begin(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    count = operands[0]
    return _simple(vm, ip, lambda host: host.with_redirects_begin(count))


@handler(Op.WithRedirectsEnd)
def with_redirects_end(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _simple(vm, ip, lambda host: host.with_redirects_end())


# -- Substitutions and traps -----------------------------------------------------------------

@handler(Op.CmdSubst, Op.ProcessSubIn, Op.ProcessSubOut)
def substitution(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    sub = vm.chunk.sub_chunks[operands[0]]
    op = vm.chunk.ops[ip][0]
    caps = _caps_of(op)
    push = vm.stack.append
    nxt = ip + 1

    def step() -> int:
        _require_all(vm, caps, f"{op.name} (a process substitution)")
        host = vm.shell
        # A runner of this VM with the variables and `$?` of this moment.
        host.bind_runner(chunk_runner(vm.shell_state, host, vm.last_status))
        if op is Op.CmdSubst:
            push(host.cmd_subst(sub))
            status = host.last_subst_status
            if status is not None:
                vm.last_status = _i32(status)
        elif op is Op.ProcessSubIn:
            push(host.process_sub_in(sub))
        else:
            push(host.process_sub_out(sub))
        return nxt
    return step


@handler(Op.TrapSet)
def trap_set(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    sub = vm.chunk.sub_chunks[operands[0]]
    pop = vm.stack.pop
    nxt = ip + 1

    def step() -> int:
        name = to_str(pop())
        if not vm.caps.signals and not is_pseudo_signal(name):
            vm.require("signals", f"TrapSet {name}")
        vm.shell.trap_set(name, sub)
        return nxt
    return step


@handler(Op.TrapCheck)
def trap_check(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    nxt = ip + 1

    def step() -> int:
        due = vm.shell.trap_check()
        if due:
            saved = vm.last_status
            state = vm.shell_state
            for chunk in due:
                state.run_sub_chunk(chunk, share=True)
            vm.last_status = saved
        return nxt
    return step


# -- Globs, tests and expansions ---------------------------------------------------------------

@handler(Op.Glob, Op.GlobRecursive)
def glob(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    recursive = vm.chunk.ops[ip][0] is Op.GlobRecursive
    return _string_op(vm, ip, lambda host, p: list(host.glob(p, recursive)))


@handler(Op.TestFile)
def test_file(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    from fusevm.shell.filetest import test_file as run_test
    code = FileTest(operands[0])
    return _string_op(vm, ip, lambda host, path: run_test(code, path))


@handler(Op.WordSplit)
def word_split(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    def split(host: Any, s: str) -> list[str]:
        return list(host.word_split(s, vm.shell_state.get("IFS")))
    return _string_op(vm, ip, split)


@handler(Op.BraceExpand)
def brace_expand(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    return _string_op(vm, ip, lambda host, s: list(host.brace_expand(s)))


@handler(Op.TildeExpand)
def tilde_expand(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    # imported here: `shell.expand` brings re, dataclasses and the regex engine, which a
    # chunk using only $? ops (every shell loop) must not pay for
    from fusevm.shell.expand import tilde_reads_passwd

    def expand(host: Any, s: str) -> str:
        if not vm.caps.fs_read and tilde_reads_passwd(s):
            vm.require("fs_read", f"TildeExpand {s.split('/', 1)[0]!r}")
        return str(host.tilde_expand(s))
    return _string_op(vm, ip, expand)


@handler(Op.StrMatch, Op.RegexMatch)
def match(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    regex = vm.chunk.ops[ip][0] is Op.RegexMatch
    stack = vm.stack
    pop = stack.pop
    nxt = ip + 1

    def step() -> int:
        pattern = to_str(pop())
        s = to_str(stack[-1])
        host = vm.shell
        stack[-1] = bool(host.regex_match(s, pattern) if regex else host.str_match(s, pattern))
        return nxt
    return step


@handler(Op.ExpandParam)
def expand_param(vm: VM, operands: tuple[Any, ...], ip: int) -> Step:
    mod = operands[0]
    argc = param_argc(mod)
    stack = vm.stack
    nxt = ip + 1

    def step() -> int:
        args = _take(stack, argc)
        name = to_str(stack[-1])
        state = vm.shell_state
        value = state.get(name)
        result = vm.shell.expand_param(name, mod, args, value=value,
                                       is_set=value is not None, lookup=state.get)
        if result.error is not None:
            raise HostError(result.error)
        if result.assign is not None:
            state.set(name, result.assign)
        stack[-1] = result.value
        return nxt
    return step
