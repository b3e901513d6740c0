"""The shell parity facts (numbered as collected) that pin the VM layer, adjusted for D12.

test_sh_parity.py checks the host-layer facts and lists these as VM-level: 1-8, 10-46, 48,
50, 51, 53, 55, 56, 58, 60, 71-73. The adjustments, each marked "D12" or "D1" below:

* No inline builtins and no "no host" mode: a VM always has a host (its own PosixHost unless
  one is given), so `true`/`false`/`test` go to the host, "no host" facts are checked on
  the default host with its real behaviour, and Exec updates `$?`.
* A pool or sub-chunk index out of range and a stack underflow are rejected when the chunk
  is built (D1, D9) instead of being silently tolerated at run time.
* Host protocol misuse (PipelineEnd with no pipeline, WithRedirectsBegin(2) with nothing
  queued) is a clear HostError at the op, not a no-op.
* The builtin-name table of facts 71-72 does not exist in fusevm (builtins are registered
  by the frontend, with names), so those two are skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from shellkit import needs_bash, run_bash
from vmkit import RecordingHost, command, lit, push_args, result_of, run

from fusevm import VM, ChunkBuilder, Op
from fusevm.asm import assemble
from fusevm.errors import BuildError, HostError, UnknownExtension, VMError
from fusevm.ops.shell_codes import ParamMod, Redir
from fusevm.values import Status

# Only the tests that compare with bash start processes (needs_bash marks them).


def rec(**replies: object) -> RecordingHost:
    return RecordingHost(**replies)


# -- 7.1 Exec / ExecBg / CallFunction ---------------------------------------------------------


@needs_bash
def test_fact_1_true_false_test(in_tmp: Path) -> None:
    r = result_of(command("true", keep=True) + "\n" + command("false", keep=True) + "\n"
                  + command("test", keep=True) + "\nMakeArray 3")
    # D12: `test` is the real one; with no expression it fails, as in bash.
    assert r == [Status(0), Status(1), Status(1)]
    assert run_bash("true; a=$?; false; b=$?; test; echo $a $b $?").stdout == "0 1 1\n"


def test_fact_2_exec_0(in_tmp: Path) -> None:
    assert result_of("Exec 0") == Status(0)
    host = rec()
    assert result_of("Exec 0", host=host) == Status(0)
    assert host.calls == []


def test_fact_2_underflow_is_rejected_at_build_time() -> None:
    # D1: popping Undef for missing arguments would hide bugs; fusevm's verifier refuses.
    b = ChunkBuilder()
    b.emit(Op.LoadConst, b.add_constant("x"))
    b.emit(Op.Exec, 3)
    with pytest.raises(BuildError, match="stack underflow"):
        b.build()


def test_fact_3_true_and_false_go_to_the_host() -> None:
    # D12: no inline builtins; the host's answer is used and becomes $?.
    host = rec(exec=lambda argv: {"true": 5, "false": 6}[argv[0]])
    r, vm = run(command("true", keep=True) + "\n" + command("false", keep=True)
                + "\nMakeArray 2", host=host)
    assert r == [Status(5), Status(6)] and vm.last_status == 6
    assert host.calls == [("exec", ["true"]), ("exec", ["false"])]


def test_fact_4_host_exec_status() -> None:
    host = rec(exec=13)
    r, vm = run(command("myhostcmd", "--flag", keep=True), host=host)
    assert r == Status(13)
    assert host.calls == [("exec", ["myhostcmd", "--flag"])]
    assert vm.last_status == 13  # D12


def test_fact_5_path_command_goes_to_the_host() -> None:
    host = rec()
    result_of(command("/usr/bin/some-cmd", "arg1"), host=host)
    assert host.calls == [("exec", ["/usr/bin/some-cmd", "arg1"])]


def test_fact_6_array_argument_is_spliced() -> None:
    host = rec()
    result_of(push_args("myhostcmd", "a", "b") + "\nMakeArray 2\nExec 2", host=host)
    assert host.calls == [("exec", ["myhostcmd", "a", "b"])]


def test_fact_7_exec_bg() -> None:
    host = rec(exec_bg=4242)
    r, vm = run('LoadInt 3\nSetStatus\nLoadConst "mybgcmd"\nExecBg 1', host=host)
    assert r == Status(0) and host.calls == [("exec_bg", ["mybgcmd"])]
    assert vm.last_status == 0  # D12: like bash, `cmd &` sets $? to 0


def test_fact_8_exec_bg_0() -> None:
    host = rec()
    assert result_of("ExecBg 0", host=host) == Status(0)
    assert host.calls == []


def test_fact_10_call_function_status() -> None:
    host = rec(call_function=7)
    r, vm = run(push_args("hello", "world") + "\nCallFunction my_func 2", host=host)
    assert r == Status(7) and vm.last_status == 7


def test_fact_11_and_12_call_function_args() -> None:
    host = rec(call_function=0)
    result_of(push_args("a", "b") + "\nCallFunction myfn 2", host=host)
    result_of(push_args("x", "y", "z") + "\nMakeArray 3\nCallFunction myfn 1", host=host)
    assert host.calls == [("call_function", "myfn", ["a", "b"]),
                          ("call_function", "myfn", ["x", "y", "z"])]


def test_fact_13_call_function_falls_back_to_exec() -> None:
    host = rec(exec=3)
    assert result_of("CallFunction notafunc 0", host=host) == Status(3)
    assert host.names() == ["call_function", "exec"]
    assert host.calls[1] == ("exec", ["notafunc"])


def test_fact_14_shell_ops_are_not_jit_eligible() -> None:
    from fusevm.jit import JitCompiler

    chunk = assemble(command("true", keep=True))
    jit = JitCompiler()
    assert not jit.is_linear_eligible(chunk)
    assert not jit.is_block_eligible(chunk)
    assert "Exec" in (jit.why_not(chunk, tier="block") or "")
    # Drop the JIT's cached analysis of this chunk now: the cache keeps the chunk alive to
    # interpreter exit, where its weakref callback finds the module torn down and warns.
    from fusevm.jit import runtime
    runtime.reset(units=True, counters=False)


# -- 7.2 Pipelines, subshells, status ---------------------------------------------------------


def test_fact_15_pipeline_protocol() -> None:
    host = rec(pipeline_end=42)
    r, vm = run("PipelineBegin 3\nPipelineStage\nPipelineStage\nPipelineEnd", host=host)
    assert r == Status(42) and vm.last_status == 42
    assert host.calls == [("pipeline_begin", 3), ("pipeline_stage",), ("pipeline_stage",),
                          ("pipeline_end",)]


def test_fact_16_pipeline_end_status_comes_from_the_host(in_tmp: Path) -> None:
    # The host's answer wins over $? (a no-host path could use $?; a VM here
    # always has a host).
    assert result_of("LoadInt 77\nSetStatus\nPipelineEnd", host=rec()) == Status(0)
    # D12: the default host refuses a PipelineEnd with no pipeline, clearly, at the op.
    with pytest.raises(HostError, match="pipeline_end without pipeline_begin") as info:
        result_of("LoadInt 77\nSetStatus\nPipelineEnd")
    assert info.value.op == "PipelineEnd"


def test_fact_17_empty_pipeline_on_the_default_host(in_tmp: Path) -> None:
    assert result_of("PipelineBegin 2\nPipelineStage\nPipelineStage\nPipelineEnd") \
        == Status(0)


def test_fact_18_host_pipeline_status_wins_over_subshell_status() -> None:
    host = rec(subshell_end=4, pipeline_end=0)
    r, vm = run("SubshellBegin\nSubshellEnd\nPipelineEnd", host=host)
    assert r == Status(0) and vm.last_status == 0


def test_fact_19_subshell_calls() -> None:
    host = rec()
    assert result_of("SubshellBegin\nSubshellEnd\nLoadInt 1", host=host) == 1
    assert host.calls == [("subshell_begin",), ("subshell_end",)]


@pytest.mark.parametrize("reply,before,after", [(42, 0, 42), (0, 99, 0), (None, 99, 99),
                                                (-1, 0, -1)])
def test_fact_20_subshell_end_status(reply: int | None, before: int, after: int) -> None:
    _, vm = run(f"LoadInt {before}\nSetStatus\nSubshellBegin\nSubshellEnd",
                host=rec(subshell_end=reply))
    assert vm.last_status == after


def test_fact_20_default_host_keeps_status(in_tmp: Path) -> None:
    _, vm = run("LoadInt 7\nSetStatus\nSubshellBegin\nSubshellEnd")
    assert vm.last_status == 7


def test_fact_21_subshell_end_pushes_nothing() -> None:
    r, vm = run("LoadInt 99\nSubshellBegin\nSubshellEnd", host=rec(subshell_end=5))
    assert r == 99 and vm.last_status == 5


def test_fact_22_empty_result() -> None:
    r, vm = run("SubshellBegin\nSubshellEnd", host=rec(subshell_end=7))
    assert r is None and vm.last_status == 7


def test_fact_23_subshell_body_is_inline(in_tmp: Path) -> None:
    assert result_of("SubshellBegin\nLoadInt 123\nSubshellEnd") == 123


def test_fact_24_set_get_status() -> None:
    assert result_of("LoadInt 42\nSetStatus\nGetStatus") == Status(42)
    assert result_of("GetStatus") == Status(0)
    assert result_of("LoadInt 1\nSetStatus\nLoadInt 127\nSetStatus\nGetStatus") == Status(127)


def test_fact_25_reset_clears_status() -> None:
    vm = VM(assemble("LoadInt 127\nSetStatus"))
    vm.run()
    assert vm.last_status == 127
    vm.reset(assemble("GetStatus"))
    assert vm.run() == Status(0)


# -- 7.3 Redirects, heredocs, here-strings -----------------------------------------------------


def test_fact_26_and_27_redirect_calls(tmp_path: Path) -> None:
    host = rec()
    out, log = str(tmp_path / "out"), str(tmp_path / "out.log")
    result_of(f"LoadConst {lit(out)}\nRedirect 1 >", host=host)
    assert host.calls == [("redirect", 1, Redir.WRITE, out)]
    host = rec()
    result_of(f"LoadConst {lit(log)}\nRedirect 2 >>", host=host)
    assert host.calls == [("redirect", 2, Redir.APPEND, log)]
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.log").exists()


def test_fact_28_redirect_pops_exactly_its_target(in_tmp: Path) -> None:
    # Default host: the redirect is queued for a command that never comes; nothing opens.
    assert result_of('LoadConst "x"\nRedirect 2 >>\nLoadInt 5') == 5
    assert result_of('LoadInt 0\nLoadConst "out.txt"\nRedirect 1 >') == 0
    assert list(in_tmp.iterdir()) == []


def test_fact_29_redirect_then_value() -> None:
    assert result_of('LoadConst "out"\nRedirect 1 >\nLoadConst "ok"', host=rec()) == "ok"


def test_fact_30_heredoc_content_and_bad_index() -> None:
    host = rec()
    result_of('.const "body\\ntext\\n"\nHereDoc #0', host=host)
    assert host.calls == [("heredoc", "body\ntext\n")]
    b = ChunkBuilder()
    b.emit(Op.HereDoc, 999)
    with pytest.raises(BuildError):  # D1: out-of-range constant index
        b.build()


def test_fact_31_heredoc_pops_nothing(in_tmp: Path) -> None:
    assert result_of('.const "doc"\nLoadInt 99\nHereDoc #0') == 99


def test_fact_32_herestring() -> None:
    host = rec()
    result_of('LoadConst "hello"\nHereString', host=host)
    assert host.calls == [("herestring", "hello")]


def test_fact_33_with_redirects(in_tmp: Path) -> None:
    host = rec()
    result_of("WithRedirectsBegin 2\nWithRedirectsEnd", host=host)
    assert host.calls == [("with_redirects_begin", 2), ("with_redirects_end",)]
    # D12: the default host applies the last 2 queued redirects; with none queued it says so.
    with pytest.raises(HostError, match="only 0 queued") as info:
        result_of("WithRedirectsBegin 2\nLoadInt 7\nWithRedirectsEnd")
    assert info.value.op == "WithRedirectsBegin"
    assert result_of('LoadConst "a"\nRedirect 1 >\nLoadConst "b"\nRedirect 2 >\n'
                     "WithRedirectsBegin 2\nLoadInt 7\nWithRedirectsEnd") == 7
    assert sorted(p.name for p in in_tmp.iterdir()) == ["a", "b"]


def test_fact_34_mixed_ops_on_the_default_host(in_tmp: Path) -> None:
    assert result_of("""
        .const "body"
        PipelineBegin 2
        PipelineStage
        PipelineEnd
        Pop
        SubshellBegin
        SubshellEnd
        HereDoc #0
        LoadConst "hs"
        HereString
        LoadInt 123
    """) == 123


# -- 7.4 Substitutions and traps ----------------------------------------------------------------


def test_fact_35_cmd_subst_result() -> None:
    assert result_of(".chunk s\nLoadInt 1\n.end\nCmdSubst s",
                     host=rec(cmd_subst="captured")) == "captured"


def test_fact_36_39_41_bad_sub_chunk_index_is_a_build_error() -> None:
    for op in (Op.CmdSubst, Op.ProcessSubIn, Op.ProcessSubOut, Op.TrapSet):
        b = ChunkBuilder()
        if op is Op.TrapSet:
            b.emit(Op.LoadConst, b.add_constant("INT"))
        b.emit(op, 999)
        with pytest.raises(BuildError, match="out of range"):
            b.build()


def test_fact_37_sub_chunk_order() -> None:
    host = rec()
    result_of("""
        .chunk s0
          LoadInt 1
          LoadInt 2
          Pop
        .end
        .chunk s1
          LoadInt 1
          LoadInt 2
          LoadInt 3
          Pop
          Pop
          Pop
          Nop
        .end
        CmdSubst s1
        CmdSubst s0
    """, host=host)
    assert [len(c[1].ops) for c in host.calls] == [7, 3]


def test_fact_38_process_subs_use_their_own_methods() -> None:
    host = rec(process_sub_in="<psin>", process_sub_out="<psout>")
    r = result_of(".chunk s\nLoadInt 1\n.end\nProcessSubIn s\nProcessSubOut s\nMakeArray 2",
                  host=host)
    assert r == ["<psin>", "<psout>"]
    assert host.names() == ["process_sub_in", "process_sub_out"]


def test_fact_40_trap_set() -> None:
    host = rec()
    r = result_of("""
        .chunk h
          LoadInt 1
          LoadInt 2
          Pop
          Pop
        .end
        LoadConst "INT"
        TrapSet h
        LoadConst "USR1"
        TrapSet h
    """, host=host)
    assert r is None
    assert [(c[0], c[1], len(c[2].ops)) for c in host.calls] == [("trap_set", "INT", 4),
                                                                  ("trap_set", "USR1", 4)]


def test_fact_42_trap_check() -> None:
    host = rec()
    result_of("TrapCheck", host=host)
    assert host.calls == [("trap_check",)]
    assert result_of("TrapCheck\nLoadInt 42") == 42


# -- 7.5 Expansions and matching ------------------------------------------------------------------


def test_fact_43_expand_param_operand_counts() -> None:
    for mod in ParamMod:
        host = rec()
        operands = {0: "", 1: 'LoadConst "X"', 2: 'LoadConst "P"\nLoadConst "R"'}[mod.argc]
        result_of(f'LoadConst "VAR"\n{operands}\nExpandParam {mod.name}', host=host)
        expected = {0: [], 1: ["X"], 2: ["P", "R"]}[mod.argc]
        assert host.calls == [("expand_param", "VAR", mod, expected)], mod
    assert {m for m in ParamMod if m.argc == 0} == {4, 11, 12, 13, 14, 15, 16}
    assert {m for m in ParamMod if m.argc == 2} == {9, 10, 17}


def test_fact_44_expand_param_reply() -> None:
    host = rec(expand_param="OK")
    assert result_of('LoadConst "X"\nLoadConst "d"\nExpandParam :-', host=host) == "OK"
    result_of('LoadConst "Y"\nExpandParam LENGTH', host=host)
    assert host.calls == [("expand_param", "X", 0, ["d"]), ("expand_param", "Y", 4, [])]


def test_fact_45_zero_operand_modifier_takes_the_top_as_name() -> None:
    host = rec(expand_param="low")
    _, vm = run('LoadConst "Z"\nLoadConst "p"\nLoadConst "r"\nExpandParam LOWER', host=host)
    assert host.calls == [("expand_param", "r", 12, [])]


def test_fact_46_default_host_expands_for_real(in_tmp: Path) -> None:
    # D12: a VM never pushes "" in place of a real expansion.
    assert result_of('LoadConst "X"\nLoadConst "d"\nExpandParam :-') == "d"
    assert result_of('LoadConst "var"\nExpandParam LENGTH') == 0
    assert result_of('LoadConst "var"\nLoadConst "a"\nLoadConst "b"\nExpandParam //') == ""
    b = ChunkBuilder()
    b.emit(Op.ExpandParam, int(ParamMod.UPPER))
    with pytest.raises(BuildError, match="stack underflow"):  # D1: refused at build time
        b.build()


@needs_bash
def test_fact_48_tilde_on_the_default_host(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) \
        -> None:
    monkeypatch.setenv("HOME", "/home/u")
    r = result_of('LoadConst "~/foo"\nTildeExpand\nLoadConst "~root/foo"\nTildeExpand\n'
                  'LoadConst ""\nTildeExpand\nMakeArray 3')
    assert r == run_bash("printf '%s\\n' ~/foo ~root/foo ''").stdout.split("\n")[:3]
    assert r[0] == "/home/u/foo"


def test_fact_50_brace_expand_on_the_default_host(in_tmp: Path) -> None:
    r = result_of('LoadConst "{a,b,c}"\nBraceExpand\nLoadConst "a{b,c}d"\nBraceExpand\n'
                  'LoadConst "foo{1,2}"\nBraceExpand\nMakeArray 3')
    assert r == [["a", "b", "c"], ["abd", "acd"], ["foo1", "foo2"]]


def test_fact_51_brace_expand_host_reply() -> None:
    r = result_of('LoadConst "{a,b,c}"\nBraceExpand', host=rec(brace_expand=["a", "b", "c"]))
    assert r == ["a", "b", "c"] and r[2] == "c"


def test_fact_53_word_split_host_reply_is_verbatim() -> None:
    host = rec(word_split=["A", "B"])
    assert result_of('LoadConst "hello world"\nWordSplit', host=host) == ["A", "B"]
    # No IFS variable in the chunk: the host is told to use its own (None).
    assert host.calls == [("word_split", "hello world", None)]
    host = rec(word_split=["A"])
    result_of('.name IFS\nLoadConst ":"\nSetVar IFS\nLoadConst "a:b"\nWordSplit', host=host)
    assert host.calls == [("word_split", "a:b", ":")]


def test_fact_55_str_match_argument_order() -> None:
    host = rec()
    assert result_of('LoadConst "haystack"\nLoadConst "needle"\nStrMatch', host=host) is False
    assert host.calls == [("str_match", "haystack", "needle")]


def test_fact_56_str_match_host_semantics() -> None:
    host = rec(str_match=lambda s, p: s.endswith(p[1:]) if p.startswith("*") else s == p)
    assert result_of('LoadConst "hello.rs"\nLoadConst "*.rs"\nStrMatch', host=host) is True


def test_fact_58_regex_match_host() -> None:
    host = rec(regex_match=True)
    assert result_of('LoadConst "abc"\nLoadConst "a.c"\nRegexMatch', host=host) is True
    assert host.calls == [("regex_match", "abc", "a.c")]


def test_fact_60_glob_host_and_recursive_flag() -> None:
    host = rec(glob=["a.rs", "b.rs"])
    assert result_of('LoadConst "*.rs"\nGlob', host=host) == ["a.rs", "b.rs"]
    result_of('LoadConst "**/*.rs"\nGlobRecursive', host=host)
    assert host.calls == [("glob", "*.rs", False), ("glob", "**/*.rs", True)]


# -- 7.7 Builtins --------------------------------------------------------------------------------


@pytest.mark.skip(reason="facts 71-72: fusevm has no builtin-name table; a frontend "
                         "registers builtins with their names (vm.register_builtin)")
def test_fact_71_72_builtin_ids() -> None:  # pragma: no cover
    raise AssertionError


def test_fact_73_call_builtin() -> None:
    # D1: an unregistered id is an error, not a silent no-op.
    with pytest.raises(UnknownExtension):
        result_of("LoadInt 5\nCallBuiltin 999 0")
    vm = VM(assemble("LoadInt 1\nLoadInt 2\nLoadInt 3\nCallBuiltin 0 3"))
    vm.register_builtin(0, lambda vm, *args: sum(args))
    assert vm.run() == 6


def test_registered_builtin_by_name_is_used_by_call_function() -> None:
    # The port's equivalent of run_builtin_by_name: a builtin registered with a name answers
    # CallFunction when the host has no such function (docs/shell.md#pipelines).
    host = rec(exec=99)
    r, vm = run(push_args("a", "b") + "\nCallFunction mine 2", host=host,
                setup=lambda vm: vm.register_builtin(7, lambda vm, *a: len(a), name="mine"))
    assert r == Status(2) and host.names() == ["call_function"]


def test_errors_carry_the_op(in_tmp: Path) -> None:
    with pytest.raises(VMError) as info:
        result_of("LoadInt 1\nPop\nPipelineStage")
    assert info.value.op == "PipelineStage" and info.value.ip == 2
