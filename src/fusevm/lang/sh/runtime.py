"""Running things: scripts command by command, chunks on (pooled) VMs, forked subshells,
simple commands (special builtins, functions, regular builtins, external programs), traps
and the exit path.

The sh op handlers (`ops`) and the builtins (`builtins`, `commands`) sit above this module:
they register themselves in `SH` and `BUILTINS` when imported. `main` imports the special
builtins; the regular ones (`commands`) load with the first command that names one
(`find_builtin`).
"""

from __future__ import annotations

import errno
import os

from fusevm.chunk import Chunk
from fusevm.errors import BuildError, ResourceLimit, VMError
from fusevm.interp.vm import VM
from fusevm.lang.sh.compiler import compile_items
from fusevm.lang.sh.errors import ShError, ShExit, ShLoopJump, ShReturn, ShSyntaxError
from fusevm.lang.sh.host import ShHost
from fusevm.lang.sh.opset import SH
from fusevm.lang.sh.parser import Parser
from fusevm.lang.sh.state import (
    NUMBER_NAMES,
    Pending,
    ShState,
    enter_child,
    move_fd,
    new_state,
    no_pipe,
    restore,
    wait_child,
    write,
)
from fusevm.shell import RedirectError, process
from fusevm.shell import csignal as signal
from fusevm.shell import text as shtext

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final, NoReturn

    from fusevm.lang.sh.scriptcache import Script

    Builtin = Callable[[ShState, Any, list[str]], int]
    #: `text(state, argv)`: what a builtin writes to its stdout and its status (see
    #: `WRITERS`).
    Writer = Callable[[ShState, list[str]], tuple[str, int]]

SPECIAL: Final = frozenset(
    ": . break continue eval exec exit export readonly return set shift times trap unset"
    .split())
#: filled by fusevm.lang.sh.builtins and the modules it names in `ON_USE`
BUILTINS: dict[str, Builtin] = {}
#: The builtins whose whole effect is the text they write to their stdout, their status
#: and the errors they report (`opset.TEXT_BUILTINS`), by name: how each makes its text,
#: which a pipeline stage that is one of them gets without a fork (`stages`). Filled with
#: `BUILTINS`, by `fusevm.lang.sh.builtins.builtin(..., text=)`.
WRITERS: dict[str, Writer] = {}
#: The builtins registered by a module that loads the first time a command names one of
#: them (`find_builtin`): name -> module (filled by fusevm.lang.sh.builtins).
ON_USE: dict[str, str] = {}


def find_builtin(name: str) -> Builtin | None:
    """The builtin called `name` (its module loaded if it has not been yet), or None."""
    found = BUILTINS.get(name)
    if found is None:
        module = ON_USE.get(name)
        if module is not None:
            __import__(module)  # (not importlib.import_module: its package costs start-up)
            found = BUILTINS.get(name)
    return found
MAX_DEPTH: Final = 1000

#: Idle VMs by the ids of their chunk and of the shell they run for (a VM holds both, so
#: no other chunk or shell has those ids while its entry lasts), least recently given back
#: first. Functions and loops run their chunks again and again; a script's top-level
#: commands and `eval` texts make a chunk each that runs once, so the pool keeps the last
#: POOL_CHUNKS chunks' VMs only: keeping every one would hold every chunk a script ever
#: ran. (A chunk may serve two shells of one process: an `eval` text's, kept by
#: `scriptcache.remembered`, runs in whichever shell evaluates that text.)
_pool: dict[tuple[int, int], list[VM]] = {}
POOL_CHUNKS: Final = 64


def new_vm(state: ShState, chunk: Chunk) -> VM:
    # Shell code is nearly all sh extension ops, which the baseline tier would only call
    # (measured: no gain on a 20,000-iteration loop), and its first compile would stall a
    # shell that is timing background jobs: shell chunks run in the interpreter.
    vm = VM(chunk, extensions=[SH], shell_host=ShHost(state, run_subshell), baseline=False)
    vm.host_data["sh"] = state
    return vm


def run_chunk(state: ShState, chunk: Chunk, status: int, once: bool = False) -> int:
    """Run `chunk` in this shell (no subshell), starting with `$?` = status; its status.
    `once`: the chunk is never run again (a command of a script or of an `eval` text), so
    its VM is not pooled."""
    vm = borrow_vm(state, chunk, status)
    try:
        vm.run()
        result: int = vm.last_status
    finally:
        give_back(state, chunk, vm, once)
    return result


def borrow_vm(state: ShState, chunk: Chunk, status: int) -> VM:
    """A VM of `chunk` at its start with `$?` = status, pooled, until `give_back`."""
    free = _pool.get((id(chunk), id(state)))
    if free:
        vm = free.pop()
        vm.host_data.pop("sh.loops", None)
        vm.host_data.pop("sh.pipes", None)
        vm.rewind()
    else:
        vm = new_vm(state, chunk)
    vm.last_status = status
    state.vms.append(vm)
    return vm


def give_back(state: ShState, chunk: Chunk, vm: VM, once: bool = False) -> None:
    """Return a VM `borrow_vm` gave; `once`: its chunk is never run again. A VM that
    leaves the pool is closed, which frees it (and its chunk) at once: a script's
    thousands of commands would otherwise be cyclic garbage, and the collector's passes
    over it a fifth of a long script's time."""
    state.vms.pop()
    if once:
        vm.close()
        return
    key = (id(chunk), id(state))
    free = _pool.pop(key, None)  # (put back last: the most recently used)
    if free is None:
        free = []
        if len(_pool) >= POOL_CHUNKS:
            for old in _pool.pop(next(iter(_pool))):
                old.close()
    free.append(vm)
    _pool[key] = free


def run_text(s: ShState, text: str, line: int = 1, cache: bool = False) -> int:
    """Run a whole script, command by command; the final status (exits via ShExit).
    `cache`: `text` is a script file's, whose commands compiled by an earlier run may come
    from the disk cache (`scriptcache`)."""
    if not cache:
        return _run_commands(s, text, line, None)
    with (_scriptcache or _load_scriptcache()).Opened(text, "script") as script:
        return _run_commands(s, text, line, script)


#: `fusevm.lang.sh.scriptcache`, loaded with the first script file, `eval` or `.` (kept
#: here: a `from` import in `eval_text` would go through the import machinery at every
#: `eval`).
_scriptcache: Any = None


def _load_scriptcache() -> Any:
    global _scriptcache
    from fusevm.lang.sh import scriptcache
    _scriptcache = scriptcache
    return scriptcache


def _run_commands(s: ShState, text: str, line: int, script: Script | None) -> int:
    p = Parser(text, line, s.aliases)
    status = 0
    while True:
        start = p.pos
        chunk = None if script is None else script.take(
            p, not s.aliases and not s.opts["v"] and not s.opts["n"])
        if chunk is None:
            try:
                items = p.parse_command()
            except ShSyntaxError as e:
                s.lineno = e.line
                s.error(f"Syntax error: {e.message}")
                raise ShExit(2) from None
            if s.opts["v"]:
                write(2, p.text[start:p.pos].lstrip("\n"))
            if items is None:
                return status
            if s.opts["n"]:
                continue
            try:
                chunk = compile_items(items)
            except BuildError as e:  # (a command past a limit of the VM's: too deep, too big)
                if e.line:
                    s.lineno = e.line
                s.error(e.message)
                raise ShExit(2) from None
            if script is not None:
                script.keep(start, p, chunk)
        try:
            status = run_chunk(s, chunk, status, once=True)
        except ShReturn as r:
            return r.status  # (`return` outside a function ends the script, as in dash)
        except ShLoopJump:
            status = 0
        except ShError as e:
            if e.line:
                s.lineno = e.line
            s.report(e)
            if e.fatal and not s.interactive:
                raise ShExit(e.status) from None
            status = e.status
        except ShExit:
            raise
        except ResourceLimit as e:
            # a value past the VM's size limit: the script's error, which ends it
            if e.line:
                s.lineno = e.line
            s.error(e.message)
            raise ShExit(2) from None
        except VMError as e:
            # a bug in a handler, not a shell error: report it plainly, never a traceback
            cause = e.__cause__
            detail = f"{type(cause).__name__}: {cause}" if cause is not None else e.message
            s.error(f"internal error: {detail}")
            raise ShExit(2) from None


def run_file_as_new_shell(path: str, args: list[str], env: dict[str, str]) -> int:
    """In a forked child: run a script without a #! line as a fresh shell would."""
    os.environ.clear()
    os.environ.update(env)
    _pool.clear()
    s = new_state()
    s.arg0 = path
    s.positional = list(args)
    status = 0
    try:
        with open(path, "rb") as f:
            text = shtext.decode(f.read())
        status = run_text(s, text, cache=True)
    except ShExit as e:
        status = e.status
    except OSError as e:
        write(2, f"sh: 0: cannot open {path}: {e.strerror}\n")
        return 127
    status = run_exit_trap(s, status)
    return status & 0xFF


# -- forking ----------------------------------------------------------------------------------


def capture_inline(state: ShState, chunk: Chunk, status: int) -> str:
    """Run a pure-output chunk here with fd 1 on an anonymous file; its output minus
    trailing newlines, as `$(...)` gives. The status goes to `subst_status`."""
    try:
        fd = os.memfd_create("fusevm-subst", os.MFD_CLOEXEC)
    except OSError as e:  # (no descriptor left: the error a forked substitution's pipe gives)
        raise no_pipe(e) from None
    try:
        saved: list[tuple[int, int | None]] = [(1, os.dup(1))]
    except OSError:  # the shell was started with stdout closed: closed again after
        saved = [(1, None)]
    os.dup2(fd, 1)
    pending, state.pending = state.pending, []
    prefix, state.prefix = state.prefix, []
    saved_prefix, state.prefix_saved = state.prefix_saved, []
    state.errexit_off += 1  # `set -e` would end only the subshell a fork would have made
    try:
        state.subst_status = run_chunk(state, chunk, status)
    except ShExit as e:
        state.subst_status = e.status
    finally:
        state.errexit_off -= 1
        restore(saved)
        state.pending, state.prefix, state.prefix_saved = pending, prefix, saved_prefix
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    text = shtext.decode(b"".join(chunks).replace(b"\0", b""))
    return text.rstrip("\n")


def child_exit(state: ShState, status: int) -> NoReturn:
    """End a forked subshell: run its EXIT trap, then _exit."""
    try:
        status = run_exit_trap(state, status)
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        pass
    os._exit(status & 0xFF)


def run_subshell(state: ShState, chunk: Chunk, status: int) -> NoReturn:
    """In a forked child (`$(...)`, see `ShHost.cmd_subst`): run `chunk` as a subshell
    starting with `$?` = status, then exit with its status."""
    enter_child(state)
    state.pending.clear()
    state.prefix.clear()
    code = status
    try:
        code = run_chunk(state, chunk, status)
    except ShExit as e:
        code = e.status
    except (ShReturn, ShLoopJump) as e:
        code = e.status
    except ShError as e:
        state.report(e)
        code = e.status
    except BaseException:  # noqa: BLE001
        code = 2
    child_exit(state, code)


def run_forked_segment(state: ShState, vm: VM, start: int, stop: int) -> NoReturn:
    """In a forked child: run ops [start, stop) of the current chunk, then exit."""
    # the parent's loops are not this child's to jump to: a `break` or `continue` that
    # names one ends the subshell (as in dash) instead of running on past `stop`
    vm.host_data["sh.loops"] = []

    def run() -> int:
        vm._dispatch(start, stop, len(vm.frames))
        return vm.last_status
    child_run(state, run)


def child_run(state: ShState, run: Callable[[], int]) -> NoReturn:
    """In a forked child: `run()` (a subshell's code), then exit with its status; an
    error or an exit, return, break or continue that leaves it is its status."""
    status = 0
    try:
        status = run()
    except ShExit as e:
        status = e.status
    except (ShReturn, ShLoopJump) as e:
        status = e.status
    except ShError as e:
        if e.line:
            state.lineno = e.line
        state.report(e)
        status = e.status
    except RecursionError:
        state.error("recursion too deep")
        status = 2
    except KeyboardInterrupt:
        status = 130
    except BaseException as e:  # noqa: BLE001
        state.error(f"internal error: {type(e).__name__}: {e}")
        status = 2
    child_exit(state, status)


# -- commands -------------------------------------------------------------------------------


def run_command(state: ShState, vm: VM, argv: list[str], direct_exec: bool = False) -> int:
    """Run one simple command with the queued redirections; prefix assignments (already
    made by ShPrefix) are undone afterwards unless the command is a special builtin."""
    redirs = state.take_pending()
    assigns, state.prefix = state.prefix, []
    saved_vars, state.prefix_saved = state.prefix_saved, []
    if state.opts["x"] and argv:
        trace = " ".join([f"{k}={xquote(v)}" for k, v in assigns] + [xquote(a) for a in argv])
        ps4 = state.vars.get("PS4", "+ ")
        write(2, f"{ps4}{trace}\n")
    if not argv:
        if redirs:
            try:
                saved = state.apply(redirs, save=True)
            except RedirectError as e:
                state.error(str(e))
                return 1
            restore(saved)
        return state.subst_status if state.subst_status is not None else 0
    name = argv[0]
    if "/" not in name and name in SPECIAL:
        for k, _old, exported in saved_vars:
            if not exported:
                state.exported.discard(k)
        state.cur_assigns = assigns
        return _run_builtin(state, vm, BUILTINS[name], argv, redirs, special=True)
    try:
        if "/" not in name:
            fn = state.functions.get(name)
            if fn is not None:
                return call_function(state, vm, name, fn, argv[1:], redirs)
            builtin = find_builtin(name)
            if builtin is not None:
                return _run_builtin(state, vm, builtin, argv, redirs, special=False)
        return run_external(state, argv, redirs, direct_exec)
    finally:
        pop_assigns(state, saved_vars)


def runs_program(state: ShState, name: str) -> bool:
    """Whether `run_command` runs `name` as a program: a path, or no special builtin,
    function or builtin of that name."""
    return "/" in name or (name not in SPECIAL and name not in state.functions
                           and find_builtin(name) is None)


def enter_stage(state: ShState, vm: VM, stdio: tuple[tuple[int, int], ...],
                close: int | None) -> None:
    """In the forked child of a pipeline stage: its pipe ends moved onto their fds
    (`stdio`: (fd, target fd) pairs), the read end of its own pipe (`close`) closed, and
    the subshell's state (the parent's pipelines are not its own)."""
    for fd, target in stdio:
        move_fd(fd, target)
    if close is not None:
        os.close(close)
    vm.host_data["sh.pipes"] = []
    enter_child(state)


def job_signals(state: ShState) -> tuple[int, ...]:
    """The signals a background job ignores: SIGINT and SIGQUIT in a non-interactive
    shell (POSIX, with job control off; as dash, bash and busybox do, traps or not)."""
    if state.interactive:
        return ()
    return (signal.SIGINT, signal.SIGQUIT)


def xquote(s: str) -> str:
    """`s` as `set -x` shows it: quoted only when the shell would not read it back as that
    one word. A `]`, and a `[` that no `]` follows (no bracket expression), are plain, so
    `[ 0 -lt 2 ]` is traced as it is written."""
    if s and all(c.isalnum() or c in "-_./=:,+@%]" or c == "[" and "]" not in s[i:]
                 for i, c in enumerate(s)):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


def pop_assigns(state: ShState, saved: list[tuple[str, str | None, bool]]) -> None:
    for k, old, exported in reversed(saved):
        if old is None:
            state.vars.pop(k, None)
        else:
            state.vars[k] = old
        if not exported:
            state.exported.discard(k)
        if k == "PATH":
            state.hashed.clear()


def _run_builtin(state: ShState, vm: VM, fn: Builtin, argv: list[str],
                 redirs: list[Pending], special: bool) -> int:
    saved: list[tuple[int, int | None]] = []
    keeps = argv[0] == "exec" or (argv[0] == "command" and argv[1:2] == ["exec"])
    if redirs and not keeps:
        try:
            saved = state.apply(redirs, save=True)
        except RedirectError as e:
            state.error(str(e))
            if special and not state.interactive:
                raise ShExit(1) from None
            return 1
    elif redirs:
        state.pending = redirs  # `exec` handles its own
    try:
        return fn(state, vm, argv)
    except ShError as e:
        # reported here, while the builtin's own redirections (`shift 2>/dev/null`) apply
        state.report(e)
        if special:
            e.fatal = True
        if e.fatal:
            raise
        return e.status
    except OSError as e:
        state.error(f"{argv[0]}: I/O error ({e.strerror})")
        return 1
    finally:
        if saved:
            restore(saved)


def call_function(state: ShState, vm: VM, name: str, chunk: Chunk, args: list[str],
                  redirs: list[Pending]) -> int:
    if state.func_depth + state.eval_depth >= MAX_DEPTH:
        raise ShError(f"{name}: function nesting too deep", 2)
    saved: list[tuple[int, int | None]] = []
    if redirs:
        try:
            saved = state.apply(redirs, save=True)
        except RedirectError as e:
            state.error(str(e))
            return 1
    old_pos = state.positional
    loop_depth, state.loop_depth = state.loop_depth, 0
    state.positional = list(args)
    state.func_depth += 1
    state.locals.append({})
    scopes = len(state.scopes)
    status = vm.last_status
    try:
        status = run_chunk(state, chunk, status)
    except ShReturn as r:
        status = r.status
    except ShError as e:
        # Written where the redirections in effect where it happened send it (the call's
        # own, `f 2>/dev/null`, and those of the commands it is in, `{ ...; } 2>&-`),
        # before they are undone below, as dash writes it.
        if saved or len(state.scopes) > scopes:
            if e.line:
                state.lineno = e.line
            state.report(e)
        raise
    finally:
        state.loop_depth = loop_depth
        while len(state.scopes) > scopes:
            restore(state.scopes.pop())
        _drop_locals(state, state.locals.pop())
        state.func_depth -= 1
        state.positional = old_pos
        if saved:
            restore(saved)
    return status


def _drop_locals(state: ShState, frame: dict[str, tuple[str | None, bool]]) -> None:
    for k, (old, exported) in frame.items():
        if old is None:
            state.vars.pop(k, None)
        else:
            state.vars[k] = old
        if exported:
            state.exported.add(k)
        else:
            state.exported.discard(k)


def run_external(state: ShState, argv: list[str], redirs: list[Pending],
                 direct_exec: bool = False, path: str | None = None) -> int:
    resolved = resolve(state, argv[0], path)
    env = state.environ()
    if direct_exec and state.in_child and not state.traps:
        _exec_child(state, argv, resolved, redirs, env)
    pid, status = start_external(state, argv, resolved, redirs, env)
    return status if pid is None else wait_child(pid)


def start_external(state: ShState, argv: list[str], resolved: process.Resolved,
                   redirs: list[Pending], env: dict[str, str],
                   stdio: tuple[tuple[int, int], ...] = (),
                   ignore: tuple[int, ...] = ()) -> tuple[int | None, int]:
    """Start a program (its path `resolved`) with posix_spawn: (its pid, 0), or (None, the
    status) when it cannot start, its message written. The redirections are applied here,
    after `stdio` ((fd, target fd) pairs: a pipeline stage's pipe ends), and undone once
    it has started: a fork of this Python process would copy its page tables and fault in
    every page the child touched before its exec, twice the CPU a spawned command costs
    (`benchmarks/sh/bench_sh.py`, the commands case). The program starts with the signals
    `ignore` ignored (a background job's SIGINT and SIGQUIT: `_spawn`)."""
    saved = state.apply_for_command(redirs, stdio)
    if saved is None:
        return None, 1
    try:
        if resolved.path is None:
            return None, _not_found(state, resolved)
        try:
            return _spawn(resolved.path, argv, env, ignore, _ignores_pipe(state)), 0
        except OSError as e:
            if e.errno != errno.ENOEXEC:
                state.error(f"{argv[0]}: {e.strerror}")
                return None, _exec_status(e)
        pid = os.fork()
        if pid == 0:
            for sig in ignore:
                signal.signal(sig, signal.SIG_IGN)
            _as_new_shell(resolved.path, argv, env, _ignores_pipe(state))
        return pid, 0
    finally:
        restore(saved)


def _spawn(path: str, argv: list[str], env: dict[str, str], ignore: tuple[int, ...],
           keep_pipe: bool) -> int:
    """posix_spawn, with the signals `ignore` ignored in the program (and SIGPIPE when
    `keep_pipe`: `_reset_signals`). A spawned process cannot be told to ignore a signal,
    only inherit that: this shell ignores them itself while it starts the program, with
    them blocked so that one sent meanwhile waits (it is not discarded) and reaches the
    shell's own action once that is back. The program starts with this shell's signal
    mask."""
    if not ignore:
        return os.posix_spawn(path, argv, env, setsigdef=_reset_signals(keep_pipe))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, ignore)
    actions = []
    try:
        for sig in ignore:
            actions.append((sig, signal.signal(sig, signal.SIG_IGN)))
        return os.posix_spawn(path, argv, env, setsigdef=_reset_signals(keep_pipe),
                              setsigmask=mask)
    finally:
        for sig, action in reversed(actions):
            signal.signal(sig, action)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def may_ignore(signals: tuple[int, ...]) -> bool:
    """Whether this thread can set the action of `signals` and put back what they have
    now (`_spawn`): only the main thread sets signal actions, and an action set outside
    Python (None) could not be put back."""
    try:
        for sig in signals:
            action = signal.getsignal(sig)
            if action is None:
                return False
            signal.signal(sig, action)  # (ValueError off the main thread)
    except ValueError:
        return False
    return True


#: The signals an external command gets at their default action (`_reset_signals`).
_CHILD_DEFAULTS: Final = (signal.SIGPIPE, signal.SIGINT, signal.SIGQUIT, signal.SIGXFSZ)


def _reset_signals(keep_pipe: bool) -> tuple[int, ...]:
    """What an external command gets back at the default action: SIGPIPE unless
    `keep_pipe` (`_ignores_pipe`), the others unless this shell ignores them (a
    background job's SIGINT and SIGQUIT, `trap '' INT`). Caught ones are reset by the
    exec itself."""
    return tuple(sig for sig in _CHILD_DEFAULTS
                 if (not keep_pipe if sig == signal.SIGPIPE
                     else signal.getsignal(sig) is not signal.SIG_IGN))


def _ignores_pipe(state: ShState) -> bool:
    """Whether the script ignores SIGPIPE (`trap '' PIPE`), which its commands then
    inherit: CPython ignores SIGPIPE whatever the script says, so the process's own
    action tells nothing."""
    return state.traps.get("PIPE") == ""


def _not_found(state: ShState, resolved: process.Resolved) -> int:
    """Say that the command was not found (dash's words); its status."""
    state.error(resolved.message.replace(": command not found", ": not found"))
    return resolved.status


def _exec_status(e: OSError) -> int:
    return 126 if e.errno in (errno.EACCES, errno.EISDIR) else 127


def _as_new_shell(path: str, argv: list[str], env: dict[str, str],
                  keep_pipe: bool) -> NoReturn:
    """In a forked child: a file without a #! line, which the exec refused (ENOEXEC), run
    by this process as a fresh shell (SIGPIPE ignored when `keep_pipe`); never returns."""
    try:
        for sig in _reset_signals(keep_pipe):
            signal.signal(sig, signal.SIG_DFL)
        os._exit(run_file_as_new_shell(path, argv[1:], env))
    except BaseException:  # noqa: BLE001
        os._exit(127)


def resolve(state: ShState, name: str, search: str | None = None,
            remember: bool = True) -> process.Resolved:
    """PATH search (or `search`), remembered in the `hash` table unless `remember` is
    False (a subshell's search: its table is its own)."""
    if search is not None:
        return process.resolve(name, search)
    path = state.hashed.get(name)
    if path is not None and os.access(path, os.X_OK):
        return process.Resolved(path)
    r = process.resolve(name, state.vars.get("PATH"))
    if r.path is not None and "/" not in name and remember:
        state.hashed[name] = r.path
    return r


def _exec_child(state: ShState, argv: list[str], resolved: process.Resolved,
                redirs: list[Pending], env: dict[str, str]) -> NoReturn:
    """In a forked child: apply redirections and exec; never returns."""
    try:
        try:
            state.apply(redirs, save=False)
        except RedirectError as e:
            state.error(str(e))
            os._exit(1)
        if resolved.path is None:
            os._exit(_not_found(state, resolved))
        keep_pipe = _ignores_pipe(state)
        for sig in _reset_signals(keep_pipe):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execve(resolved.path, argv, env)
        except OSError as e:
            if e.errno == errno.ENOEXEC:
                _as_new_shell(resolved.path, argv, env, keep_pipe)
            state.error(f"{argv[0]}: {e.strerror}")
            os._exit(_exec_status(e))
    except BaseException:  # noqa: BLE001
        os._exit(127)
    os._exit(127)


# -- eval, dot, traps -------------------------------------------------------------------------


def eval_text(state: ShState, vm: VM, text: str, line: int | None = None,
              name: str = "eval") -> int:
    """Run shell text in the current environment, parsing one command at a time (`name`:
    the builtin running it, for the error when texts nest too deep: `eval`, `.`)."""
    if state.func_depth + state.eval_depth >= MAX_DEPTH:
        raise ShError(f"{name}: nesting too deep", 2)
    state.eval_depth += 1
    try:
        kept = _scriptcache or _load_scriptcache()
        if name == ".":
            # (a file `.` reads: its commands may come from the disk cache)
            with kept.Opened(text, "dot") as script:
                if script is not None:
                    return _eval_text(state, vm, text, line, script)
        # (a text run before in this process: its commands as compiled then)
        memo = kept.remembered(text, state.lineno if line is None else line)
        if memo is None:
            return _eval_text(state, vm, text, line, None)
        try:
            return _eval_text(state, vm, text, line, memo, again=True)
        finally:
            memo.close()
    finally:
        state.eval_depth -= 1


def _eval_text(state: ShState, vm: VM, text: str, line: int | None,
               script: Script | None, again: bool = False) -> int:
    """Run `text` command by command, taking those `script` kept; `again`: its chunks are
    kept to run again (their VMs are pooled)."""
    p = Parser(text, state.lineno if line is None else line, state.aliases)
    status = vm.last_status
    ran = False
    while True:
        start = p.pos
        chunk = None if script is None else script.take(p, not state.aliases)
        if chunk is None:
            try:
                items = p.parse_command()
            except ShSyntaxError as e:
                state.lineno = e.line
                raise ShError(f"Syntax error: {e.message}", 2) from None
            if items is None:
                break
            chunk = compile_items(items, source="<eval>")
            if script is not None:
                script.keep(start, p, chunk)
        ran = True
        status = run_chunk(state, chunk, status, once=not again)
    return status if ran else 0


def run_traps(state: ShState, vm: VM) -> None:
    """Run the actions of signals that arrived (keeping `$?`)."""
    while state.pending_signals and state.trap_depth == 0:
        sig = state.pending_signals.pop(0)
        action = state.traps.get(sig)
        if not action:
            continue
        status = vm.last_status
        state.trap_depth += 1
        try:
            eval_text(state, vm, action)
        finally:
            state.trap_depth -= 1
        vm.last_status = status


def run_exit_trap(state: ShState, status: int) -> int:
    """Run the EXIT trap once; the shell's final status."""
    if state.exit_traps_run:
        return status
    state.exit_traps_run = True
    action = state.traps.pop("EXIT", None)
    if not action:
        return status
    vm = state.vms[-1] if state.vms else None
    try:
        if vm is None:
            vm = new_vm(state, compile_items([], source="<trap>"))
        vm.last_status = status
        eval_text(state, vm, action)
    except ShExit as e:
        return e.status
    except ShError as e:
        state.report(e)
        return e.status
    return status


def trap_handler(state: ShState) -> Callable[[int, Any], None]:
    def handler(signum: int, frame: Any) -> None:
        state.pending_signals.append(NUMBER_NAMES.get(signum, str(signum)))
    return handler
