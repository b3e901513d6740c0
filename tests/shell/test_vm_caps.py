"""Capabilities through the VM (D12): a VM created without spawn / fs_read / fs_write raises
CapabilityError at the op that needs it, naming the op, and touches nothing: the (fake or
real) host is not asked to do anything, no file appears, no child is started.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from vmkit import RecordingHost, children, command, push_args, result_of, run

from fusevm import VM
from fusevm.asm import assemble
from fusevm.errors import CapabilityError
from fusevm.shell.caps import Caps
from fusevm.values import Status

NO_SPAWN = Caps(spawn=False)
NO_READ = Caps(fs_read=False)
NO_WRITE = Caps(fs_write=False)

# (id, program, caps, op that must fail, capability named). Every program would create the
# file "marker" (or start a child) if the op were allowed to run.
WITHHELD: list[tuple[str, str, Caps, str, str]] = [
    ("Exec", command("touch", "marker"), NO_SPAWN, "Exec", "spawn"),
    ("ExecBg", push_args("touch", "marker") + "\nExecBg 2", NO_SPAWN, "ExecBg", "spawn"),
    ("CallFunction", 'LoadConst "marker"\nCallFunction touch 1', NO_SPAWN, "CallFunction",
     "spawn"),
    ("ProcessSubIn", ".chunk b\n" + command("touch", "marker") + "\n.end\nProcessSubIn b",
     NO_SPAWN, "ProcessSubIn", "spawn"),
    ("ProcessSubOut", ".chunk b\n" + command("touch", "marker") + "\n.end\nProcessSubOut b",
     NO_SPAWN, "ProcessSubOut", "spawn"),
    ("Glob", 'LoadConst "*"\nGlob', NO_READ, "Glob", "fs_read"),
    ("GlobRecursive", 'LoadConst "**/*"\nGlobRecursive', NO_READ, "GlobRecursive", "fs_read"),
    ("TestFile", 'LoadConst "marker"\nTestFile -e', NO_READ, "TestFile", "fs_read"),
    ("Redirect <", 'LoadConst "marker"\nRedirect 0 <', NO_READ, "Redirect", "fs_read"),
    ("Redirect <> (read)", 'LoadConst "marker"\nRedirect 0 <>', NO_READ, "Redirect",
     "fs_read"),
    ("Redirect >", 'LoadConst "marker"\nRedirect 1 >', NO_WRITE, "Redirect", "fs_write"),
    ("Redirect >>", 'LoadConst "marker"\nRedirect 1 >>', NO_WRITE, "Redirect", "fs_write"),
    ("Redirect >|", 'LoadConst "marker"\nRedirect 1 >|', NO_WRITE, "Redirect", "fs_write"),
    ("Redirect <> (write)", 'LoadConst "marker"\nRedirect 0 <>', NO_WRITE, "Redirect",
     "fs_write"),
    ("Redirect &>", 'LoadConst "marker"\nRedirect 1 &>', NO_WRITE, "Redirect", "fs_write"),
    ("Redirect &>>", 'LoadConst "marker"\nRedirect 1 &>>', NO_WRITE, "Redirect", "fs_write"),
]
IDS = [w[0] for w in WITHHELD]


def _tail(text: str) -> str:
    """Follow the op under test with a command that would run if the op were skipped, so a
    redirect that was silently queued would also show up as a file."""
    return text + "\n" + command("true")


@pytest.mark.parametrize("name,text,caps,op,cap", WITHHELD, ids=IDS)
def test_withheld_capability_never_reaches_a_fake_host(
        in_tmp: Path, name: str, text: str, caps: Caps, op: str, cap: str) -> None:
    host = RecordingHost()
    with pytest.raises(CapabilityError) as info:
        run(_tail(text), host=host, caps=caps)
    err = info.value
    assert err.op == op and op in str(err)
    assert repr(cap) in str(err)
    # CallFunction first asks the host for a shell function (that runs in-process and needs
    # no capability); only the fallback to a command needs spawn, and it never happens.
    asked = [("call_function", "touch", ["marker"])] if op == "CallFunction" else []
    assert host.calls == asked


@pytest.fixture
def untouched(in_tmp: Path) -> Iterator[Path]:
    """Checks, after the test, that no file appeared in tmp_path and no child is left."""
    kids = children()
    yield in_tmp
    assert sorted(p.name for p in in_tmp.iterdir()) == []
    assert children() <= kids


@pytest.mark.parametrize("name,text,caps,op,cap", WITHHELD, ids=IDS)
def test_withheld_capability_touches_nothing_with_the_default_host(
        untouched: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str, caps: Caps,
        op: str, cap: str) -> None:
    vm = VM(assemble(_tail(text)), caps=caps)
    spawned: list[object] = []
    with monkeypatch.context() as m:
        # Any attempt to start a process or look at the file system fails the test.
        def forbid(what: str):  # type: ignore[no-untyped-def]
            def call(*args: object, **kw: object) -> object:
                spawned.append((what, args))
                raise AssertionError(f"{what} called with {args}")
            return call
        for fn in ("posix_spawn", "fork", "scandir", "listdir", "stat", "lstat", "access",
                   "open", "mkfifo"):
            m.setattr(os, fn, forbid(fn))
        with pytest.raises(CapabilityError) as info:
            vm.run()
    vm.shell.close()
    assert info.value.op == op
    assert spawned == []


def test_the_default_host_gets_the_vms_capabilities() -> None:
    vm = VM(assemble("LoadInt 1"), caps=NO_SPAWN)
    assert vm.shell.caps == NO_SPAWN


def test_capabilities_reach_substitution_bodies(untouched: Path) -> None:
    # $(touch marker) in a VM without spawn: the body's Exec fails, naming Exec.
    with pytest.raises(CapabilityError) as info:
        run(".chunk b\n" + command("touch", "marker") + "\n.end\nCmdSubst b", caps=NO_SPAWN)
    assert info.value.op == "Exec"


def test_capabilities_reach_trap_handlers(untouched: Path) -> None:
    # A trap handler runs in a child VM with the parent's capabilities.
    pid = os.getpid()
    text = f"""
        .chunk handler
          {command("touch", "marker")}
        .end
        LoadConst "USR2"
        TrapSet handler
        CallFunction kill_self 0
        Pop
        TrapCheck
    """

    def setup(vm: VM) -> None:
        vm.register_builtin(1100, lambda vm: os.kill(pid, signal.SIGUSR2) or 0,
                            name="kill_self")

    with pytest.raises(CapabilityError) as info:
        run(text, caps=Caps(spawn=False), setup=setup)
    assert info.value.op == "Exec"


def test_ops_that_need_no_capability_still_work(untouched: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Under Caps.NONE everything that touches no process, file, signal disposition or
    foreign descriptor keeps working (`~` from HOME; fd 2, the VM's own, closed in a scope)."""
    monkeypatch.setenv("HOME", "/home/u")

    def setup(vm: VM) -> None:
        vm.shell.functions["fn"] = lambda args: len(args)

    r = result_of("""
        .name v
        .chunk pure
          LoadConst "captured"
          PrintLn 1
        .end
        LoadConst "a b  c"
        WordSplit
        LoadConst "x{1..3}"
        BraceExpand
        LoadConst "~"
        TildeExpand
        LoadConst "file.rs"
        LoadConst "*.rs"
        StrMatch
        LoadConst "abc"
        LoadConst "b+"
        RegexMatch
        LoadConst "v"
        LoadConst "dflt"
        ExpandParam :-
        LoadInt 3
        SetStatus
        GetStatus
        SubshellBegin
        SubshellEnd
        TrapCheck
        CmdSubst pure
        LoadConst "p"
        LoadConst "q"
        CallFunction fn 2
        LoadConst "1"
        Redirect 2 >&
        LoadConst "-"
        Redirect 2 <&
        WithRedirectsBegin 2
        WithRedirectsEnd
        Exec 0
        MakeArray 10
    """, caps=Caps.NONE, setup=setup)
    assert r == [["a", "b", "c"], ["x1", "x2", "x3"], "/home/u", True, True, "dflt", Status(3),
                 "captured", Status(2), Status(0)]


@pytest.mark.process
def test_one_withheld_capability_leaves_the_others(in_tmp: Path) -> None:
    # Without fs_read, `printf x > out` still works (spawn and fs_write are granted).
    assert result_of('LoadConst "out"\nRedirect 1 >\n' + command("printf", "x", keep=True),
                     caps=NO_READ) == Status(0)
    assert (in_tmp / "out").read_text() == "x"
    # Without spawn, reading files still works.
    assert result_of('LoadConst "out"\nTestFile -s', caps=NO_SPAWN) is True
    # A shell function needs no spawn.
    r = result_of("CallFunction fn 0", caps=NO_SPAWN,
                  setup=lambda vm: vm.shell.functions.__setitem__("fn", lambda a: 5))
    assert r == Status(5)
