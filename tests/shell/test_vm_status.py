"""`$?` through the VM (D12): which ops set it, the 127/126/128+N conventions with their
messages, and how a Status behaves in the VM's control flow."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from shellkit import needs_bash, run_bash
from vmkit import RecordingHost, command, push_args, result_of, run

from fusevm import VM
from fusevm.asm import assemble
from fusevm.errors import VMError
from fusevm.values import Status

pytestmark = pytest.mark.process


def status_after(text: str, **kw: object) -> list[Status]:
    """Run `text` (which leaves one value) followed by GetStatus: [its value, $?]."""
    return result_of(text + "\nGetStatus\nMakeArray 2", **kw)  # type: ignore[arg-type]


# -- Exec ------------------------------------------------------------------------------------


def test_exec_sets_dollar_question(in_tmp: Path) -> None:
    assert status_after(command("true", keep=True)) == [Status(0), Status(0)]
    assert status_after(command("false", keep=True)) == [Status(1), Status(1)]
    assert status_after(command("sh", "-c", "exit 42", keep=True)) == [Status(42), Status(42)]
    # The next command overwrites it.
    assert result_of(command("false") + "\n" + command("true") + "\nGetStatus") == Status(0)


def test_missing_command_is_127_with_a_message(in_tmp: Path,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    assert status_after(command("no_such_command_xyz", keep=True)) == [Status(127)] * 2
    assert "no_such_command_xyz: command not found" in capfd.readouterr().err
    assert status_after(command("./missing_file", keep=True)) == [Status(127)] * 2
    assert "./missing_file: No such file or directory" in capfd.readouterr().err


def test_not_executable_is_126_with_a_message(in_tmp: Path,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    (in_tmp / "script").write_text("#!/bin/sh\necho hi\n")
    (in_tmp / "script").chmod(0o644)
    (in_tmp / "dir").mkdir()
    assert status_after(command("./script", keep=True)) == [Status(126)] * 2
    assert "./script: Permission denied" in capfd.readouterr().err
    assert status_after(command("./dir", keep=True)) == [Status(126)] * 2
    assert "./dir: Is a directory" in capfd.readouterr().err


def test_a_redirect_error_is_1_and_the_command_does_not_run(
        in_tmp: Path, capfd: pytest.CaptureFixture[str]) -> None:
    r = status_after('LoadConst "missing"\nRedirect 0 <\n'
                     + command("touch", "ran", keep=True))
    assert r == [Status(1), Status(1)]
    assert "missing: No such file or directory" in capfd.readouterr().err
    assert not (in_tmp / "ran").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL, signal.SIGTERM])
def test_signal_death_is_128_plus_n(in_tmp: Path, sig: signal.Signals) -> None:
    r = status_after(command("sh", "-c", f"kill -{sig.name[3:]} $$", keep=True))
    assert r == [Status(128 + sig)] * 2


@needs_bash
def test_sigpipe_in_a_pipeline_matches_bash(in_tmp: Path) -> None:
    # yes | head -n 1: yes dies of SIGPIPE (141); the pipeline's status is head's.
    text = f"""
        PipelineBegin 2
        {command("yes")}
        PipelineStage
        LoadConst "/dev/null"
        Redirect 1 >
        {command("head", "-n", "1")}
        PipelineEnd
    """
    r, vm = run(text, close=False)
    try:
        assert r == Status(0) and vm.shell.pipestatus == [141, 0]
        vm.shell.pipefail = True
        vm.reset()
        assert vm.run() == Status(141)
    finally:
        vm.shell.close()
    bash = run_bash("yes | head -n 1 >/dev/null; echo ${PIPESTATUS[@]}; "
                    "set -o pipefail; yes | head -n 1 >/dev/null; echo $?").stdout
    assert bash == "141 0\n141\n"


def test_exec_bg_sets_status_0_even_when_the_command_cannot_start(
        in_tmp: Path, capfd: pytest.CaptureFixture[str]) -> None:
    text = command("false") + "\n" + push_args("no_such_command_xyz") + "\nExecBg 1"
    assert status_after(text) == [Status(0), Status(0)]
    assert "command not found" in capfd.readouterr().err


# -- The other ops that set $? ----------------------------------------------------------------


def test_call_function_sets_status_from_function_builtin_or_command(in_tmp: Path) -> None:
    def setup(vm: VM) -> None:
        vm.shell.functions["seven"] = lambda args: 7
        vm.register_builtin(1200, lambda vm, *a: 9, name="nine")

    assert status_after("CallFunction seven 0", setup=setup) == [Status(7)] * 2
    assert status_after("CallFunction nine 0", setup=setup) == [Status(9)] * 2
    assert status_after('LoadConst "exit 4"\nLoadConst "-c"\nSwap\nCallFunction sh 2',
                        setup=setup) == [Status(4)] * 2


def test_pipeline_end_sets_status_to_the_last_stage(in_tmp: Path) -> None:
    text = f"""
        PipelineBegin 2
        {command("true")}
        PipelineStage
        {command("false")}
        PipelineEnd
    """
    assert status_after(text) == [Status(1), Status(1)]


def test_subshell_end_sets_status_only_after_exit(in_tmp: Path) -> None:
    def setup(vm: VM) -> None:
        vm.register_builtin(1201, lambda vm, code: vm.shell.request_exit(int(code)) and 0,
                            name="exit")

    # ( false ): no exit, $? is false's.
    assert result_of("SubshellBegin\n" + command("false") + "\nSubshellEnd\nGetStatus",
                     setup=setup) == Status(1)
    # ( exit 6 ); status of the subshell is 6 even though the builtin itself returned 0.
    assert result_of('SubshellBegin\nLoadConst "6"\nCallFunction exit 1\nPop\nSubshellEnd\n'
                     "GetStatus", setup=setup) == Status(6)


def test_cmd_subst_reports_the_body_status(in_tmp: Path) -> None:
    # x=$(exit 5); echo $?  -> 5.   $? inside $(...) is the caller's.
    text = f"""
        .chunk five
          {command("sh", "-c", "exit 5")}
        .end
        .chunk show
          LoadConst "printf"
          LoadConst "%s"
          GetStatus
          Exec 3
        .end
        CmdSubst five
        Pop
        GetStatus
        {command("false")}
        CmdSubst show
        MakeArray 2
    """
    assert result_of(text) == [Status(5), "1"]


def test_trap_handlers_keep_dollar_question(in_tmp: Path) -> None:
    host = RecordingHost(trap_check=lambda: [assemble("LoadInt 9\nSetStatus")])
    assert result_of("LoadInt 3\nSetStatus\nTrapCheck\nGetStatus", host=host) == Status(3)


def test_set_status_coerces_and_wraps_to_i32(in_tmp: Path) -> None:
    cases = [("LoadInt 4294967301", 5), ('LoadConst "abc"', 0), ("LoadFloat 2.9", 2),
             ('LoadConst "7"', 7), ("LoadInt 2147483648", -2147483648),
             ('LoadConst "a"\nLoadConst "b"\nLoadConst "c"\nMakeArray 3', 3),
             ("LoadInt 0\nSetStatus\nGetStatus", 0)]
    for load, code in cases:
        assert result_of(f"{load}\nSetStatus\nGetStatus") == Status(code), load


def test_get_status_starts_at_0_and_reset_clears_it(in_tmp: Path) -> None:
    vm = VM(assemble(command("false") + "\nGetStatus"))
    assert vm.run() == Status(1) and vm.last_status == 1
    vm.reset()
    assert vm.last_status == 0
    vm.reset(assemble("GetStatus"))
    assert vm.run() == Status(0)


# -- Status values in control flow ------------------------------------------------------------


@pytest.mark.parametrize("cmd,branch", [("true", "then"), ("false", "else"),
                                        ("no_such_command_xyz", "else")])
def test_status_truthiness_drives_jump_if_false(in_tmp: Path, cmd: str, branch: str) -> None:
    # if cmd; then ...; else ...; fi
    text = f"""
        {command(cmd, keep=True)}
        JumpIfFalse otherwise
        LoadConst "then"
        Jump done
      otherwise:
        LoadConst "else"
      done:
    """
    assert result_of(text) == branch


def test_status_is_not_an_int(in_tmp: Path) -> None:
    r = result_of(command("true", keep=True) + "\n" + command("false", keep=True)
                  + "\nMakeArray 2")
    assert r == [Status(0), Status(1)]
    assert r[0] != 0 and r[1] != 1 and bool(r[0]) and not r[1]
    # `$?` as an argument is its decimal text.
    assert result_of(".chunk s\nLoadConst \"printf\"\nLoadConst \"<%s>\"\nGetStatus\nExec 3\n"
                     ".end\n" + command("sh", "-c", "exit 3") + "\nCmdSubst s") == "<3>"


def test_a_failing_builtin_is_a_vm_error_naming_call_function() -> None:
    def boom(vm: VM) -> int:
        raise ValueError("bad")

    def setup(vm: VM) -> None:
        vm.register_builtin(1300, boom, name="boom")
        vm.register_builtin(1301, lambda vm: None, name="nothing")

    with pytest.raises(VMError, match="builtin 'boom' failed: ValueError: bad") as info:
        result_of("CallFunction boom 0", setup=setup)
    assert info.value.op == "CallFunction"
    assert result_of("CallFunction nothing 0", setup=setup) == Status(0)  # None counts as 0
