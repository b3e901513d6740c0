"""The shell state a host makes for each VM (`fusevm.shell.state.ShellState`), and hosts
written against `ShellHost`: a custom host on `ShellHostBase`, a partial host completed by
`as_shell_host`, and a complete structural one taken as it is.

Everything here runs in this process: the custom host answers Exec itself and captures
`$(...)` in a temporary file, so no command is started.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from vmkit import RecordingHost, result_of, run

from fusevm import VM, Undef
from fusevm.asm import assemble
from fusevm.errors import HostError, VMError
from fusevm.shell import expand
from fusevm.shell.host import (
    ChunkRef,
    ChunkRunner,
    PosixHost,
    ShellHost,
    ShellHostBase,
    ShellState,
    as_shell_host,
)
from fusevm.values import Status


class CountingState(ShellState):
    """A ShellState that records every assignment made through it."""

    __slots__ = ("assigned",)

    def __init__(self) -> None:
        super().__init__()
        self.assigned: list[tuple[str, Any]] = []

    def set(self, name: str, value: Any) -> None:
        self.assigned.append((name, value))
        super().set(name, value)


class MemoryHost(ShellHostBase):
    """A custom host: Exec prints its argv on this host's stdout, `$(...)` runs through
    the VM's runner into a temporary file, `${...}` is the library's expansion."""

    name = "memsh"

    def __init__(self, stdout: int = 1) -> None:
        self.stdout = stdout
        self.runner: ChunkRunner | None = None
        self.states: list[CountingState] = []
        self.children: list[MemoryHost] = []
        self.closed = False

    def new_shell_state(self) -> ShellState:
        state = CountingState()
        self.states.append(state)
        return state

    def bind_runner(self, runner: ChunkRunner) -> None:
        self.runner = runner

    def child(self, *, stdin: int | None = None, stdout: int | None = None) -> ShellHost:
        host = MemoryHost(self.stdout if stdout is None else stdout)
        self.children.append(host)
        return host

    def close(self) -> None:
        self.closed = True

    def exec(self, argv: list[str]) -> int:
        os.write(self.stdout, (" ".join(argv) + "\n").encode())
        return len(argv)

    def expand_param(self, name: str, modifier: int, args: Sequence[object], *,
                     value: expand.ParamValue = None, is_set: bool | None = None,
                     lookup: Callable[[str], expand.ParamValue] | None = None
                     ) -> expand.Expansion:
        return expand.expand_param(name, modifier, args, value=value, is_set=is_set,
                                   lookup=lookup)

    def cmd_subst(self, sub: ChunkRef) -> str:
        assert self.runner is not None, "the VM binds a runner before CmdSubst"
        with tempfile.TemporaryFile() as f:
            self.last_subst_status = self.runner(sub, f.fileno())
            f.seek(0)
            return f.read().decode().rstrip("\n")


# -- the state: lazy, host-made, the handlers go through it ----------------------------------


def test_a_vm_that_runs_no_shell_op_asks_for_no_state() -> None:
    host = MemoryHost()
    vm = VM(assemble("LoadInt 1\nLoadInt 2\nAdd"), shell_host=host)
    assert vm.run() == 3
    assert host.states == []


def test_the_host_makes_one_state_per_vm_and_assignments_go_through_it() -> None:
    # v=${v:=w}; ${v:=x} -> "w" twice, one state, one assignment through it
    host = MemoryHost()
    vm = VM(assemble("""
        .name v
        LoadConst "v"
        LoadConst "w"
        ExpandParam :=
        LoadConst "v"
        LoadConst "x"
        ExpandParam :=
        MakeArray 2
    """), shell_host=host)
    assert vm.run() == ["w", "w"]
    assert len(host.states) == 1 and vm.shell_state is host.states[0]
    assert host.states[0].assigned == [("v", "w")]
    assert host.states[0].variables() == {"v": "w"}


def test_a_new_host_starts_a_new_state() -> None:
    first, second = MemoryHost(), MemoryHost()
    vm = VM(assemble('.name v\nLoadConst "v"\nExpandParam ^^'), shell_host=first)
    vm.run()
    vm.set_shell_host(second)
    vm.reset()
    vm.run()
    assert len(first.states) == len(second.states) == 1


def test_state_variables_are_the_vms_globals_by_name() -> None:
    vm = VM(assemble(".name a\n.name b\nLoadConst \"1\"\nSetVar a"), shell_host=MemoryHost())
    vm.run()
    state = vm.shell_state
    assert state.get("a") == "1" and state.get("b") is None and state.get("zz") is None
    state.set("b", [1, 2])
    assert vm.globals[vm.chunk.names.index("b")] == [1, 2]
    snapshot = state.variables()
    assert snapshot == {"a": "1", "b": [1, 2]}
    snapshot["b"].append(3)  # a copy (D8)
    assert state.get("b") == [1, 2]
    with pytest.raises(VMError, match=r"cannot assign \$zz"):
        state.set("zz", "x")


# -- subshell saves --------------------------------------------------------------------------


def test_subshell_saves_and_restores_variables_nested() -> None:
    # v=1; ( v=2; ( v=3; w=x ); echo $v ); echo $v $w   -> 2, then 1 and unset
    r = result_of("""
        .name v
        .name w
        LoadConst "1"
        SetVar v
        SubshellBegin
        LoadConst "2"
        SetVar v
        SubshellBegin
        LoadConst "3"
        SetVar v
        LoadConst "x"
        SetVar w
        SubshellEnd
        GetVar v
        SubshellEnd
        GetVar v
        GetVar w
        MakeArray 3
    """, host=RecordingHost())
    assert r == ["2", "1", Undef]


def test_subshell_restore_undoes_container_writes() -> None:
    # The save shares the array; the write inside copies it (copy on write), so the
    # restored array is the one from before.
    r = result_of("""
        .name a
        LoadInt 1
        LoadInt 2
        MakeArray 2
        SetVar a
        SubshellBegin
        LoadInt 9
        ArrayPush a
        SubshellEnd
        GetVar a
    """, host=RecordingHost())
    assert r == [1, 2]


def test_state_saves_directly() -> None:
    globals_: list[Any] = ["a", Undef]
    state = ShellState()
    state.attach(globals_, ("x", "y"), None)
    state.subshell_begin()
    state.set("x", "b")
    state.set("y", "c")
    state.subshell_begin()
    state.set("x", "d")
    state.subshell_end()
    assert globals_ == ["b", "c"]
    state.subshell_end()
    assert globals_ == ["a", Undef]
    state.subshell_end()  # nothing saved: nothing to restore
    assert globals_ == ["a", Undef]


# -- sub-chunks through the state --------------------------------------------------------------


def test_command_substitution_through_a_custom_host(capfd: pytest.CaptureFixture[str]) -> None:
    # x=outer; y=$(exec a "$x"; x=inner; echo done); echo "$y" $? "$x"
    host = MemoryHost()
    r, vm = run("""
        .name x
        .chunk body
          LoadConst "a"
          GetVar x
          Exec 2
          Pop
          LoadConst "inner"
          SetVar x
          LoadConst "done"
          PrintLn 1
          LoadInt 4
          SetStatus
        .end
        LoadConst "outer"
        SetVar x
        CmdSubst body
        GetStatus
        GetVar x
        MakeArray 3
    """, host=host)
    assert r == ["a outer\ndone", Status(4), "outer"]
    [child] = host.children
    assert child.closed  # the runner closes the child host when the body ends
    assert len(child.states) == 1 and child.states[0].get("x") == "inner"
    assert capfd.readouterr().out == ""


def test_a_shell_error_in_the_body_goes_to_the_childs_stderr(
        capfd: pytest.CaptureFixture[str]) -> None:
    r = result_of("""
        .chunk body
          LoadConst "u"
          LoadConst "boom"
          ExpandParam :?
          Pop
        .end
        CmdSubst body
        GetStatus
        MakeArray 2
    """, host=MemoryHost())
    assert r == ["", Status(1)]
    assert "memsh: u: boom" in capfd.readouterr().err


def _vm_with_pool(host: ShellHost, *names: str) -> VM:
    text = "".join(f".name {n}\n" for n in names) + "LoadInt 0\nPop"
    return VM(assemble(text), shell_host=host)


def test_run_sub_chunk_copies_in_and_shares_back_only_when_asked() -> None:
    out = io.StringIO()
    vm = _vm_with_pool(MemoryHost(), "x", "only_here")
    vm.stdout = out
    state = vm.shell_state
    state.set("x", "1")
    state.set("only_here", "h")
    body = assemble("""
        .name x
        GetVar x
        PrintLn 1
        LoadConst "2"
        SetVar x
    """)
    assert state.run_sub_chunk(body) == 0
    assert state.get("x") == "1"  # a subshell's assignment stays inside
    state.run_sub_chunk(body, share=True)
    assert state.get("x") == "2"  # a trap handler's is the shell's
    state.run_sub_chunk(body, variables={"x": "snap"})
    assert out.getvalue() == "1\n1\nsnap\n"


def test_inherited_variables_reach_nested_lookups() -> None:
    # The body's pool lacks `far`; its own `${!ref}` still finds it by name.
    vm = _vm_with_pool(MemoryHost(), "far", "ref")
    out = io.StringIO()
    vm.stdout = out
    vm.shell_state.set("far", "found")
    vm.shell_state.set("ref", "far")
    body = assemble("""
        LoadConst "ref"
        ExpandParam !v
        PrintLn 1
    """)
    vm.shell_state.run_sub_chunk(body)
    assert out.getvalue() == "found\n"


def test_a_state_without_a_vm_cannot_run_sub_chunks() -> None:
    with pytest.raises(HostError, match="no sub-chunk runner"):
        ShellState().run_sub_chunk(assemble("LoadInt 1"))


# -- hosts written without the base class -------------------------------------------------------


class ExecOnly:
    """A host from before the protocol grew: only Exec, and an attribute of its own."""

    def __init__(self) -> None:
        self.seen: list[list[str]] = []
        self.mode = "quiet"

    def exec(self, argv: list[str]) -> int:
        self.seen.append(argv)
        return 3


def test_a_partial_host_is_completed_with_the_defaults() -> None:
    host = ExecOnly()
    r, vm = run('LoadConst "true"\nExec 1', host=host)
    assert r == Status(3) and host.seen == [["true"]]
    shell = vm.shell
    assert shell is not host and shell.host is host  # type: ignore[attr-defined]
    assert shell.seen is host.seen  # type: ignore[attr-defined]
    shell.mode = "loud"  # type: ignore[attr-defined]
    assert host.mode == "loud"
    assert shell.name == "fusevm" and shell.last_subst_status is None
    assert isinstance(vm.shell_state, ShellState)


def test_a_missing_op_method_is_a_clear_error_at_the_op() -> None:
    with pytest.raises(HostError, match="ExecOnly does not support pathname expansion") as e:
        run('LoadConst "*"\nGlob', host=ExecOnly())
    assert e.value.op == "Glob" and e.value.ip == 1


def test_a_partial_host_substitution_is_refused_clearly() -> None:
    with pytest.raises(HostError, match="does not support command substitution"):
        run(".chunk b\nLoadInt 1\n.end\nCmdSubst b", host=ExecOnly())


class CompleteRecordingHost(RecordingHost):
    """Every protocol member, without the base class."""

    name = "rec"
    stderr_fd = 2
    last_subst_status: int | None = None

    def bind_runner(self, runner: ChunkRunner) -> None:
        self._answer("bind_runner", None)

    def child(self, *, stdin: int | None = None, stdout: int | None = None) -> ShellHost:
        return CompleteRecordingHost()

    def new_shell_state(self) -> ShellState:
        self._answer("new_shell_state", None)
        return ShellState()

    def close(self) -> None:
        self._answer("close", None)


def test_complete_hosts_are_taken_as_they_are() -> None:
    for host in (CompleteRecordingHost(), MemoryHost(), PosixHost()):
        assert as_shell_host(host) is host
        assert VM(assemble("LoadInt 1"), shell_host=host).shell is host
    partial = RecordingHost()  # the ops' methods only
    assert as_shell_host(partial) is not partial


def test_a_structural_host_gets_the_calls_the_base_would() -> None:
    host = CompleteRecordingHost(cmd_subst="text")
    r = result_of('''
        .name v
        .chunk b
          LoadInt 1
        .end
        CmdSubst b
        LoadConst "v"
        ExpandParam ^^
        MakeArray 2
    ''', host=host)
    assert r == ["text", ""]
    assert host.names() == ["new_shell_state", "bind_runner", "cmd_subst", "expand_param"]
