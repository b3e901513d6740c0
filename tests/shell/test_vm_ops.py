"""Every shell op executed by a VM program, end to end: the VM's handlers, its default
PosixHost (D12) and its sub-chunk runner, against real processes and files in tmp_path.

Where a result has a shell equivalent it is compared with `bash --posix` running the same
commands. The meta-test at the end fails if an op of `SECTIONS["Shell"]` has no test here.
"""

from __future__ import annotations

import inspect
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from shellkit import needs_bash, run_bash, split_records
from vmkit import command, lit, push_args, result_of, run

from fusevm import VM, Undef
from fusevm.errors import HostError
from fusevm.ops import SECTIONS, Op
from fusevm.ops.shell_codes import FileTest, ParamMod
from fusevm.values import Status

pytestmark = pytest.mark.process

F = TypeVar("F", bound=Callable[..., Any])

#: op -> the tests that run it through a VM (filled by @covers at import time).
COVERED: dict[Op, list[Callable[..., Any]]] = {}


def covers(*ops: Op) -> Callable[[F], F]:
    """Register a test as a VM-level test of `ops` (checked by the meta-test)."""
    def mark(fn: F) -> F:
        for op in ops:
            COVERED.setdefault(op, []).append(fn)
        return fn
    return mark


def bash_records(script: str, cwd: Path | None = None) -> list[str]:
    """Records (each ended by \\x1e) printed by `bash --posix -c script`."""
    proc = run_bash(script, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return split_records(proc.stdout)


def sq(s: str) -> str:
    """`s` single-quoted for a shell script."""
    return "'" + s.replace("'", "'\\''") + "'"


# -- Commands ----------------------------------------------------------------------------


@needs_bash
@covers(Op.Exec)
def test_exec_builds_argv_from_values_and_runs_the_command(in_tmp: Path) -> None:
    # A spliced Array, a Float in Rust display form, an Int and Undef (an empty argument).
    r = result_of(f"""
        LoadConst "out"
        Redirect 1 >
        LoadConst "printf"
        LoadConst "<%s>"
        LoadConst "a b"
        {push_args("x", "y")}
        MakeArray 2
        LoadFloat 1.0
        LoadFloat 2.5
        LoadInt -7
        LoadConst undef
        Exec 8
    """)
    assert r == Status(0)
    expected = run_bash("printf '<%s>' 'a b' x y 1 2.5 -7 ''").stdout
    assert (in_tmp / "out").read_text() == expected == "<a b><x><y><1><2.5><-7><>"


@covers(Op.Exec)
def test_exec_of_nothing_is_status_0_and_runs_nothing(in_tmp: Path) -> None:
    assert result_of("Exec 0") == Status(0)


@covers(Op.ExecBg)
def test_exec_bg_starts_the_command_without_waiting(in_tmp: Path) -> None:
    start = push_args("sh", "-c", 'read x; echo "bg:$x" > "$1"', "sh", "bgout")
    r, vm = run(start + "\nExecBg 5\nGetStatus\nMakeArray 2", close=False)
    try:
        assert r == [Status(0), Status(0)]
        assert vm.shell.last_bg_pid > 0
        assert vm.shell.wait_all() == 0
    finally:
        vm.shell.close()
    # stdin of a background command is /dev/null: `read` sees EOF.
    assert (in_tmp / "bgout").read_text() == "bg:\n"


@needs_bash
@covers(Op.PipelineBegin, Op.PipelineStage, Op.PipelineEnd)
def test_three_stage_pipeline(in_tmp: Path) -> None:
    produce = command("printf", "b\na\nb\nc\n")
    r, vm = run(f"""
        PipelineBegin 3
        {produce}
        PipelineStage
        {command("sort")}
        PipelineStage
        LoadConst "out"
        Redirect 1 >
        {command("uniq", "-c")}
        PipelineEnd
        GetStatus
        MakeArray 2
    """, close=False)
    try:
        assert r == [Status(0), Status(0)]
        assert vm.shell.pipestatus == [0, 0, 0]
    finally:
        vm.shell.close()
    expected = run_bash("printf 'b\\na\\nb\\nc\\n' | sort | uniq -c").stdout
    assert (in_tmp / "out").read_text() == expected


@covers(Op.PipelineBegin, Op.PipelineStage, Op.PipelineEnd)
def test_pipeline_status_is_the_last_stage(in_tmp: Path) -> None:
    r = result_of(f"""
        PipelineBegin 2
        {command("sh", "-c", "exit 4")}
        PipelineStage
        {command("sh", "-c", "cat >/dev/null; exit 3")}
        PipelineEnd
    """)
    assert r == Status(3)


# -- Redirects ------------------------------------------------------------------------------

# Each scenario: (name, [(bash command, VM text for the same command)], noclobber).
# The VM text pushes one Status per command; bash records `$?` after each one.
REDIRECT_SCENARIOS: list[tuple[str, list[tuple[str, str]], bool]] = [
    ("write >", [("printf 'new\\n' > f",
                  'LoadConst "f"\nRedirect 1 >\n' + command("printf", "new\\n", keep=True))],
     False),
    ("append >>", [("printf 'more\\n' >> f",
                    'LoadConst "f"\nRedirect 1 >>\n' + command("printf", "more\\n", keep=True)),
                   ("printf 'new\\n' >> g",
                    'LoadConst "g"\nRedirect 1 >>\n' + command("printf", "new\\n", keep=True))],
     False),
    ("read <", [("tr a-z A-Z < f > g",
                 'LoadConst "f"\nRedirect 0 <\nLoadConst "g"\nRedirect 1 >\n'
                 + command("tr", "a-z", "A-Z", keep=True)),
                ("cat < missing > h",
                 'LoadConst "missing"\nRedirect 0 <\nLoadConst "h"\nRedirect 1 >\n'
                 + command("cat", keep=True))],
     False),
    ("read-write <>", [("printf XY 1<> f",
                        'LoadConst "f"\nRedirect 1 <>\n' + command("printf", "XY", keep=True)),
                       ("cat <> f > g",
                        'LoadConst "f"\nRedirect 0 <>\nLoadConst "g"\nRedirect 1 >\n'
                        + command("cat", keep=True))],
     False),
    ("clobber >|", [("printf 'w\\n' > f",
                     'LoadConst "f"\nRedirect 1 >\n' + command("printf", "w\\n", keep=True)),
                    ("printf 'c\\n' >| f",
                     'LoadConst "f"\nRedirect 1 >|\n' + command("printf", "c\\n", keep=True)),
                    ("printf 'n\\n' > g",
                     'LoadConst "g"\nRedirect 1 >\n' + command("printf", "n\\n", keep=True))],
     True),
    ("dup-read <&", [("tr a-z A-Z 3< f <&3 > g",
                      'LoadConst "f"\nRedirect 3 <\nLoadConst "3"\nRedirect 0 <&\n'
                      'LoadConst "g"\nRedirect 1 >\n' + command("tr", "a-z", "A-Z", keep=True)),
                     ("cat <&7 > h",
                      'LoadConst "7"\nRedirect 0 <&\nLoadConst "h"\nRedirect 1 >\n'
                      + command("cat", keep=True))],
     False),
    ("dup-write >&", [("sh -c 'echo out; echo err >&2' > g 2>&1",
                       'LoadConst "g"\nRedirect 1 >\nLoadConst "1"\nRedirect 2 >&\n'
                       + command("sh", "-c", "echo out; echo err >&2", keep=True)),
                      ("sh -c 'echo err >&2' 2>&1 > h 2>/dev/null",
                       'LoadConst "1"\nRedirect 2 >&\nLoadConst "h"\nRedirect 1 >\n'
                       'LoadConst "/dev/null"\nRedirect 2 >\n'
                       + command("sh", "-c", "echo err >&2", keep=True)),
                      ("sh -c 'echo x 2>/dev/null || exit 9' >&-",
                       'LoadConst "-"\nRedirect 1 >&\n'
                       + command("sh", "-c", "echo x 2>/dev/null || exit 9", keep=True))],
     False),
    ("write-both &>", [("sh -c 'echo out; echo err >&2' &> g",
                        'LoadConst "g"\nRedirect 1 &>\n'
                        + command("sh", "-c", "echo out; echo err >&2", keep=True))],
     False),
    ("append-both &>>", [("sh -c 'echo out; echo err >&2' &>> f",
                          'LoadConst "f"\nRedirect 1 &>>\n'
                          + command("sh", "-c", "echo out; echo err >&2", keep=True))],
     False),
]


def _files(d: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(d.iterdir()) if p.name != ".status"}


@needs_bash
@covers(Op.Redirect)
@pytest.mark.parametrize("name,steps,noclobber", REDIRECT_SCENARIOS,
                         ids=[s[0] for s in REDIRECT_SCENARIOS])
def test_every_redirect_kind_matches_bash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          name: str, steps: list[tuple[str, str]],
                                          noclobber: bool) -> None:
    vm_dir, bash_dir = tmp_path / "vm", tmp_path / "bash"
    for d in (vm_dir, bash_dir):
        d.mkdir()
        (d / "f").write_text("old content\n")
    script = ("set -C\n" if noclobber else "") + "".join(
        f"{cmd}\necho $? >> .status\n" for cmd, _ in steps)
    run_bash(script, cwd=bash_dir)
    monkeypatch.chdir(vm_dir)
    text = "\n".join(t for _, t in steps) + f"\nMakeArray {len(steps)}"

    def setup(vm: VM) -> None:
        vm.shell.noclobber = noclobber

    statuses = result_of(text, setup=setup)
    bash_statuses = (bash_dir / ".status").read_text().split()
    assert [str(s.code) for s in statuses] == bash_statuses
    assert _files(vm_dir) == _files(bash_dir)


@covers(Op.Redirect)
def test_a_redirect_applies_to_the_next_command_only(in_tmp: Path) -> None:
    r = result_of(f"""
        LoadConst "one"
        Redirect 1 >
        {command("printf", "first")}
        LoadConst "out2"
        Redirect 1 >
        {command("sh", "-c", "printf second; printf third >&2", keep=True)}
    """)
    assert r == Status(0)
    assert (in_tmp / "one").read_text() == "first"
    assert (in_tmp / "out2").read_text() == "second"


@needs_bash
@covers(Op.HereDoc)
def test_heredoc_is_the_next_commands_stdin(in_tmp: Path) -> None:
    r = result_of(f"""
        .const "line one\\n  line two\\n"
        HereDoc #0
        LoadConst "out"
        Redirect 1 >
        {command("cat", keep=True)}
        {command("sh", "-c", "cat > after < /dev/null")}
    """)
    assert r == Status(0)
    expected = run_bash("cat <<'EOF'\nline one\n  line two\nEOF").stdout
    assert (in_tmp / "out").read_text() == expected
    assert (in_tmp / "after").read_text() == ""


@needs_bash
@covers(Op.HereString)
def test_herestring_adds_a_newline(in_tmp: Path) -> None:
    r = result_of(f"""
        LoadConst "here string"
        HereString
        LoadConst "out"
        Redirect 1 >
        {command("tr", "a-z", "A-Z", keep=True)}
    """)
    assert r == Status(0)
    assert (in_tmp / "out").read_text() == run_bash("tr a-z A-Z <<< 'here string'").stdout


@covers(Op.WithRedirectsBegin, Op.WithRedirectsEnd)
def test_with_redirects_scopes_nest_and_restore(in_tmp: Path,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    # { printf 1; { printf 2; } > inner; greet; printf 3; } > outer; printf after
    def setup(vm: VM) -> None:
        vm.shell.functions["greet"] = lambda args: os.write(1, b"<fn>") and 0

    r = result_of(f"""
        LoadConst "outer"
        Redirect 1 >
        WithRedirectsBegin 1
        {command("printf", "1")}
        LoadConst "inner"
        Redirect 1 >
        WithRedirectsBegin 1
        {command("printf", "2")}
        WithRedirectsEnd
        CallFunction greet 0
        Pop
        {command("printf", "3")}
        WithRedirectsEnd
        {command("printf", "after", keep=True)}
    """, setup=setup)
    assert r == Status(0)
    assert (in_tmp / "outer").read_text() == "1<fn>3"
    assert (in_tmp / "inner").read_text() == "2"
    assert capfd.readouterr().out == "after"


@covers(Op.WithRedirectsBegin, Op.WithRedirectsEnd)
def test_redirect_only_command_creates_the_file(in_tmp: Path) -> None:
    # `>empty` alone: Redirect, WithRedirectsBegin 1, WithRedirectsEnd (docs/shell.md#redirections)
    (in_tmp / "full").write_text("data")
    assert result_of("""
        LoadConst "empty"
        Redirect 1 >
        WithRedirectsBegin 1
        WithRedirectsEnd
        LoadConst "full"
        Redirect 1 >
        WithRedirectsBegin 1
        WithRedirectsEnd
        LoadInt 7
    """) == 7
    assert (in_tmp / "empty").read_text() == "" and (in_tmp / "full").read_text() == ""


# -- Substitutions -----------------------------------------------------------------------------


@needs_bash
@covers(Op.CmdSubst)
def test_cmd_subst_captures_and_strips_trailing_newlines(in_tmp: Path) -> None:
    newlines = command("printf", "a\n\nb\n\n\n", keep=True)
    r = result_of(f"""
        .chunk newlines
          {newlines}
        .end
        .chunk spaces
          {command("printf", "  t  ", keep=True)}
        .end
        .chunk printer
          LoadConst "from PrintLn"
          PrintLn 1
        .end
        CmdSubst newlines
        CmdSubst spaces
        CmdSubst printer
        MakeArray 3
    """)
    expected = bash_records("printf '%s\\036' \"$(printf 'a\\n\\nb\\n\\n\\n')\" "
                            "\"$(printf '  t  ')\"")
    assert r == [*expected, "from PrintLn"]
    assert r[:2] == ["a\n\nb", "  t  "]


@needs_bash
@covers(Op.CmdSubst)
def test_cmd_subst_sees_variables_but_cannot_change_them(in_tmp: Path) -> None:
    # x=outer; y=$(printf %s "$x"; x=inner); z=$(printf %s "$(printf %s "$x")"); echo ...
    r = result_of("""
        .name x
        .chunk body
          LoadConst "printf"
          LoadConst "%s"
          GetVar x
          Exec 3
          Pop
          LoadConst "inner"
          SetVar x
        .end
        .chunk nested
          .chunk inner
            LoadConst "printf"
            LoadConst "%s"
            GetVar x
            Exec 3
            Pop
            LoadConst "inner"
            SetVar x
          .end
          LoadConst "printf"
          LoadConst "%s"
          CmdSubst inner
          Exec 3
          Pop
        .end
        LoadConst "outer"
        SetVar x
        CmdSubst body
        CmdSubst nested
        GetVar x
        MakeArray 3
    """)
    expected = bash_records("x=outer; y=$(printf %s \"$x\"; x=inner); "
                            "z=$(printf %s \"$(printf %s \"$x\"; x=inner)\"); "
                            "printf '%s\\036' \"$y\" \"$z\" \"$x\"")
    assert r == expected == ["outer", "outer", "outer"]


@covers(Op.CmdSubst)
def test_cmd_subst_shell_error_ends_only_the_subshell(in_tmp: Path,
                                                      capfd: pytest.CaptureFixture[str]) -> None:
    # x=$(echo "${u:?boom}"); echo $?  -> bash: "u: boom" on stderr, then 1
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
    """)
    assert r == ["", Status(1)]
    assert "u: boom" in capfd.readouterr().err


@covers(Op.ProcessSubIn)
def test_process_sub_in_feeds_a_command(in_tmp: Path) -> None:
    # cat <(printf 'in %s\n' "$x") > out, with x changed right after the op
    r = result_of("""
        .name x
        .chunk body
          LoadConst "printf"
          LoadConst "in %s\\n"
          GetVar x
          Exec 3
        .end
        LoadConst "one"
        SetVar x
        LoadConst "out"
        Redirect 1 >
        LoadConst "cat"
        ProcessSubIn body
        LoadConst "two"
        SetVar x
        Exec 2
    """)
    assert r == Status(0)
    assert (in_tmp / "out").read_text() == "in one\n"


@covers(Op.ProcessSubOut)
def test_process_sub_out_takes_a_commands_output(in_tmp: Path) -> None:
    # sh -c 'printf "to body\n" > "$1"' sh >(tr a-z A-Z > out)
    consumer = push_args("sh", "-c", 'printf "to body\n" > "$1"', "sh")
    r = result_of(f"""
        .chunk body
          LoadConst "out"
          Redirect 1 >
          {command("tr", "a-z", "A-Z", keep=True)}
        .end
        {consumer}
        ProcessSubOut body
        Exec 5
    """)  # run() closes the host, which waits for the body
    assert r == Status(0)
    assert (in_tmp / "out").read_text() == "TO BODY\n"


@covers(Op.SubshellBegin, Op.SubshellEnd)
def test_subshell_restores_variables_cwd_and_sets_status(in_tmp: Path) -> None:
    # v=1; ( v=2; cd sub; exit 4 ); echo $? $v $PWD   -> 4 1 <original>   (docs/shell.md#subshells)
    (in_tmp / "sub").mkdir()

    def setup(vm: VM) -> None:
        def cd(vm: VM, path: str) -> int:
            os.chdir(path)
            return 0

        def exit_(vm: VM, code: str) -> int:
            assert vm.shell.request_exit(int(code))
            return int(code)
        vm.register_builtin(1000, cd, name="cd")
        vm.register_builtin(1001, exit_, name="exit")

    r, vm = run("""
        .name v
        LoadConst "1"
        SetVar v
        SubshellBegin
        LoadConst "2"
        SetVar v
        LoadConst "sub"
        CallFunction cd 1
        Pop
        LoadConst "4"
        CallFunction exit 1
        Pop
        Jump end
        LoadConst "not reached"
        SetVar v
      end:
        SubshellEnd
        GetStatus
        GetVar v
        MakeArray 2
    """, setup=setup)
    assert r == [Status(4), "1"]
    assert Path.cwd() == in_tmp
    assert run_bash("v=1; ( v=2; cd sub; exit 4 ); echo $? $v $PWD", cwd=in_tmp).stdout \
        == f"4 1 {in_tmp}\n"


# -- Traps ------------------------------------------------------------------------------------


@covers(Op.TrapSet, Op.TrapCheck)
def test_trap_runs_its_handler_in_the_current_shell(in_tmp: Path) -> None:
    before = signal.getsignal(signal.SIGUSR1)
    r = result_of(f"""
        .name hit
        .chunk handler
          LoadConst "trapped"
          SetVar hit
          LoadConst "trap-out"
          Redirect 1 >
          {command("printf", "in handler")}
          {command("false")}
        .end
        LoadConst "USR1"
        TrapSet handler
        {command("sh", "-c", "kill -USR1 $PPID; exit 3", keep=True)}
        TrapCheck
        GetStatus
        GetVar hit
        MakeArray 3
    """)
    # The handler's assignment stays, its `false` does not change $? (3, from sh).
    assert r == [Status(3), Status(3), "trapped"]
    assert (in_tmp / "trap-out").read_text() == "in handler"
    assert signal.getsignal(signal.SIGUSR1) == before  # the host restored it on close


# -- Status ----------------------------------------------------------------------------------


@covers(Op.SetStatus, Op.GetStatus)
def test_set_and_get_status(in_tmp: Path) -> None:
    assert result_of("GetStatus") == Status(0)
    assert result_of("LoadInt 42\nSetStatus\nGetStatus") == Status(42)
    assert result_of("LoadInt 4294967301\nSetStatus\nGetStatus") == Status(5)
    assert result_of("LoadInt -1\nSetStatus\nGetStatus") == Status(-1)
    assert result_of(command("false") + "\nGetStatus") == Status(1)


# -- Globs and file tests ---------------------------------------------------------------------


def _make_tree(root: Path) -> None:
    for rel in ["a.txt", "b.txt", ".hidden.txt", "c.md", "sub/d.txt", "sub/deep/e.txt",
                "sub/deep/f.md", ".dot/g.txt", "B.txt"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(rel)


GLOB_PATTERNS = ["*.txt", "[ab].txt", "?.md", "sub/*", "*/*.txt", "[!a]*.txt", "*"]


@needs_bash
@covers(Op.Glob)
def test_glob_matches_bash(in_tmp: Path) -> None:
    _make_tree(in_tmp)
    text = "\n".join(f"LoadConst {lit(p)}\nGlob" for p in GLOB_PATTERNS)
    r = result_of(text + f"\nMakeArray {len(GLOB_PATTERNS)}")
    script = "LC_ALL=C; " + "; ".join(f"printf '%s\\037' {p}; printf '\\036'"
                                      for p in GLOB_PATTERNS)
    expected = [rec.split("\x1f")[:-1] for rec in bash_records(script, cwd=in_tmp)]
    assert r == expected
    assert result_of('LoadConst "zzz*.none"\nGlob') == []


@needs_bash
@covers(Op.GlobRecursive)
def test_glob_recursive_matches_bash_globstar(in_tmp: Path) -> None:
    _make_tree(in_tmp)
    patterns = ["**/*.txt", "sub/**/*.md", "**"]
    text = "\n".join(f"LoadConst {lit(p)}\nGlobRecursive" for p in patterns)
    r = result_of(text + f"\nMakeArray {len(patterns)}")
    script = "shopt -s globstar; LC_ALL=C; " + "; ".join(
        f"printf '%s\\037' {p}; printf '\\036'" for p in patterns)
    expected = [rec.split("\x1f")[:-1] for rec in bash_records(script, cwd=in_tmp)]
    assert r == expected


@pytest.fixture
def file_zoo(in_tmp: Path) -> Iterator[list[str]]:
    """Paths of every file type test(1) knows, and some that fail."""
    (in_tmp / "full").write_text("x")
    (in_tmp / "empty").write_text("")
    (in_tmp / "dir").mkdir()
    (in_tmp / "exe").write_text("#!/bin/sh\n")
    (in_tmp / "exe").chmod(0o755)
    (in_tmp / "noperm").write_text("secret")
    (in_tmp / "noperm").chmod(0)
    (in_tmp / "link").symlink_to("full")
    (in_tmp / "dirlink").symlink_to("dir")
    (in_tmp / "broken").symlink_to("nowhere")
    os.mkfifo(in_tmp / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind("sock")
    try:
        yield ["full", "empty", "dir", "exe", "noperm", "link", "dirlink", "broken", "fifo",
               "sock", "missing", "/dev/null", "full/x", ""]
    finally:
        sock.close()
        (in_tmp / "noperm").chmod(0o644)


@needs_bash
@covers(Op.TestFile)
def test_every_file_test_matches_bash(in_tmp: Path, file_zoo: list[str]) -> None:
    codes = list(FileTest)
    text = "\n".join(f"LoadConst {lit(p)}\nTestFile {c.symbol}"
                     for p in file_zoo for c in codes)
    r = result_of(text + f"\nMakeArray {len(file_zoo) * len(codes)}")
    script = "; ".join(f"test {c.symbol} {sq(p)}; printf '%s\\036' $?"
                       for p in file_zoo for c in codes)
    expected = [rec == "0" for rec in bash_records(script, cwd=in_tmp)]
    cases = [f"test {c.symbol} {p!r}" for p in file_zoo for c in codes]
    assert dict(zip(cases, r, strict=True)) == dict(zip(cases, expected, strict=True))


# -- Expansions ------------------------------------------------------------------------------

# (modifier symbol, VM operand lines, bash expansion, value when "set")
PARAM_CASES: list[tuple[str, list[str], str, str]] = [
    (":-", ['LoadConst "dflt"'], "${v:-dflt}", "value"),
    (":=", ['LoadConst "asg"'], "${v:=asg}", "value"),
    (":?", ['LoadConst "msg"'], "${v:?msg}", "value"),
    (":+", ['LoadConst "alt"'], "${v:+alt}", "value"),
    ("#v", [], "${#v}", "héllo wörld"),
    ("#", ['LoadConst "*/"'], "${v#*/}", "/usr/local/lib/libfoo.so.1"),
    ("##", ['LoadConst "*/"'], "${v##*/}", "/usr/local/lib/libfoo.so.1"),
    ("%", ['LoadConst ".*"'], "${v%.*}", "/usr/local/lib/libfoo.so.1"),
    ("%%", ['LoadConst ".*"'], "${v%%.*}", "/usr/local/lib/libfoo.so.1"),
    ("/", ['LoadConst "X"', 'LoadConst "-"'], "${v/X/-}", "aXbXcX"),
    ("/", ['LoadConst "#a"', 'LoadConst "S"'], "${v/#a/S}", "aXbXcX"),
    ("/", ['LoadConst "%X"', 'LoadConst "E"'], "${v/%X/E}", "aXbXcX"),
    ("/", ['LoadConst "X"', 'LoadConst "<&>"'], "${v/X/<&>}", "aXbXcX"),
    ("//", ['LoadConst "X"', 'LoadConst "-"'], "${v//X/-}", "aXbXcX"),
    ("//", ['LoadConst "?"', 'LoadConst "."'], "${v//?/.}", "hello"),
    ("//", ['LoadConst "X"', 'LoadConst ""'], "${v//X}", "aXbXcX"),
    ("^^", [], "${v^^}", "hello World ß"),
    (",,", [], "${v,,}", "HELLO World"),
    ("^", [], "${v^}", "hello world"),
    (",", [], "${v,}", "Hello World"),
    ("!v", [], "${!v}", "target"),
    ("!v[@]", [], "${!v[*]}", "scalar"),
    (":", ["LoadInt 2", "LoadInt 3"], "${v:2:3}", "hello World"),
    (":", ["LoadInt -3", "LoadConst undef"], "${v: -3}", "hello World"),
    (":", ["LoadInt 2", "LoadConst undef"], "${v:2}", "hello World"),
    (":", ["LoadInt 1", "LoadInt -2"], "${v:1:-2}", "hello World"),
    (":", ["LoadInt 20", "LoadInt 1"], "${v:20:1}", "hello World"),
    (":", ["LoadInt 3", "LoadInt 0"], "${v:3:0}", "hello World"),
    ("-", ['LoadConst "dflt"'], "${v-dflt}", "value"),
    ("=", ['LoadConst "asg"'], "${v=asg}", "value"),
    ("?", ['LoadConst "msg"'], "${v?msg}", "value"),
    ("+", ['LoadConst "alt"'], "${v+alt}", "value"),
]
STATES = ["set", "empty", "unset"]


def _param_vm(mod: str, operands: list[str], state: str, value: str) -> tuple[str, Any]:
    """('ok', (result, v afterwards)) or ('error', message) for one VM expansion."""
    init = {"set": f"LoadConst {lit(value)}\nSetVar v", "empty": 'LoadConst ""\nSetVar v',
            "unset": ""}[state]
    text = f"""
        .name v
        .name target
        LoadConst "VAL"
        SetVar target
        {init}
        LoadConst "v"
        {chr(10).join(operands)}
        ExpandParam {ParamMod.from_symbol(mod).name}
        GetVar v
        MakeArray 2
    """
    try:
        r = result_of(text)
    except HostError as exc:
        return "error", exc.message
    result, after = r
    if isinstance(result, list):
        result = " ".join(result)
    return "ok", (str(result), "<unset>" if after is Undef else after)


@needs_bash
@covers(Op.ExpandParam)
def test_every_param_modifier_with_set_empty_and_unset_matches_bash(in_tmp: Path) -> None:
    lines = []
    for _, _, expr, value in PARAM_CASES:
        for state in STATES:
            init = {"set": f"v={sq(value)}", "empty": "v=", "unset": "unset v"}[state]
            # A subshell per case: an expansion error ends only it (status != 0).
            lines.append(f"( target=VAL; {init}; r=\"{expr}\"; "
                         f"printf '%s\\037%s' \"$r\" \"${{v-<unset>}}\" ) 2>/dev/null; "
                         f"printf '\\037%s\\036' $?")
    script = "export LC_ALL=C.UTF-8\n" + "\n".join(lines)
    records = iter(bash_records(script, cwd=in_tmp))
    mismatches = []
    for mod, operands, expr, value in PARAM_CASES:
        for state in STATES:
            fields = next(records).split("\x1f")
            got = _param_vm(mod, operands, state, value)
            if fields[-1] != "0":
                expected: tuple[str, Any] = ("error", None)
                ok = got[0] == "error"
            else:
                expected = ("ok", (fields[0], fields[1]))
                ok = got == expected
            if not ok:
                mismatches.append((expr, state, got, expected))
    assert mismatches == []


@covers(Op.ExpandParam)
def test_expand_param_error_names_the_variable(in_tmp: Path) -> None:
    with pytest.raises(HostError, match="u: parameter null or not set") as info:
        result_of('LoadConst "u"\nLoadConst ""\nExpandParam :?')
    assert info.value.op == "ExpandParam"


@covers(Op.ExpandParam)
def test_expand_param_in_array_context(in_tmp: Path) -> None:
    # a=(x y z): ${#a[@]}, ${a[@]:1:2}, ${!a[@]}, ${a[@]^}
    arr = '{push}\nMakeArray 3\nSetVar a'.format(push=push_args("x", "y", "z"))
    r = result_of(f"""
        .name a
        {arr}
        LoadConst "a"
        ExpandParam LENGTH
        LoadConst "a"
        LoadInt 1
        LoadInt 2
        ExpandParam :
        LoadConst "a"
        ExpandParam !v[@]
        LoadConst "a"
        ExpandParam ^
        MakeArray 4
    """)
    assert r == [3, ["y", "z"], ["0", "1", "2"], ["X", "Y", "Z"]]


IFS_CASES: list[tuple[str | None, str]] = [
    (None, "  a  b\tc\nd  "),
    (None, ""),
    (None, " \t\n "),
    (":", "a::b:"),
    (":", ":a:b"),
    (":", "::"),
    (": ", " a : b  c :: d "),
    ("", "a b c"),
    ("", ""),
    (" ", "a\tb c"),
    ("\t", "\ta\t\tb\t"),
    (":;", "a;:b;;c"),
    (" :", "a : : b"),
    ("x", "axbxxc"),
    (" \t\n", "  lead and trail  "),
]


@needs_bash
@covers(Op.WordSplit)
def test_word_split_ifs_edge_cases_match_bash(in_tmp: Path) -> None:
    vm_results = []
    lines = []
    for ifs, s in IFS_CASES:
        init = 'LoadConst undef\nSetVar IFS' if ifs is None else f"LoadConst {lit(ifs)}\nSetVar IFS"
        vm_results.append(result_of(f".name IFS\n{init}\nLoadConst {lit(s)}\nWordSplit"))
        set_ifs = "unset IFS" if ifs is None else f"IFS={sq(ifs)}"
        lines.append(f"( s={sq(s)}; {set_ifs}; set -f; set -- $s; "
                     f"for w; do printf '%s\\037' \"$w\"; done; printf '\\036' )")
    expected = [rec.split("\x1f")[:-1] for rec in bash_records("\n".join(lines), cwd=in_tmp)]
    assert dict(zip(map(repr, IFS_CASES), vm_results, strict=True)) == \
        dict(zip(map(repr, IFS_CASES), expected, strict=True))
    # No IFS variable in the chunk at all: the default IFS.
    assert result_of('LoadConst " a\tb "\nWordSplit') == ["a", "b"]


BRACE_WORDS = ["{01..10}", "{1..010}", "{-05..5..5}", "x{1..10..3}y", "{10..1..3}",
               "{0..10..5}", "{1..10..-3}", "{1..2..0}", "{5..1}", "{-3..3}", "{-1..-3}",
               "{a..e}", "{e..a}", "{a..k..3}", "{010..1..4}", "{a,b{c,d}}e", "{a,b}{1,2}",
               "pre{x,y,z}post", "{a}", "{1..a}", "a{b,c}d{01..3..2}"]


@needs_bash
@covers(Op.BraceExpand)
def test_brace_ranges_with_padding_and_steps_match_bash(in_tmp: Path) -> None:
    text = "\n".join(f"LoadConst {lit(w)}\nBraceExpand" for w in BRACE_WORDS)
    r = result_of(text + f"\nMakeArray {len(BRACE_WORDS)}")
    script = "\n".join(f"printf '%s\\037' {w}; printf '\\036'" for w in BRACE_WORDS)
    expected = [rec.split("\x1f")[:-1] for rec in bash_records(script, cwd=in_tmp)]
    assert dict(zip(BRACE_WORDS, r, strict=True)) == dict(zip(BRACE_WORDS, expected,
                                                               strict=True))


@needs_bash
@covers(Op.TildeExpand)
def test_tilde_expand_matches_bash(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(in_tmp / "home"))
    words = ["~", "~/x/y", "~root/z", "a~", "~no_such_user_xyz/q", ""]
    text = "\n".join(f"LoadConst {lit(w)}\nTildeExpand" for w in words)
    r = result_of(text + f"\nMakeArray {len(words)}")
    script = "printf '%s\\036' ~ ~/x/y ~root/z a~ ~no_such_user_xyz/q ''"
    assert r == bash_records(script, cwd=in_tmp)
    assert r[1] == f"{in_tmp}/home/x/y"


@needs_bash
@covers(Op.StrMatch)
def test_str_match_matches_bash_case(in_tmp: Path) -> None:
    cases = [("hello.rs", "*.rs"), ("a/b/c", "a*c"), ("x", "[!a]"), ("x", "[^x]"),
             (".hidden", "*"), ("abc", "a?c"), ("a*c", "a\\*c"), ("abc", "a\\*c"),
             ("ab", "a[[:alpha:]]"), ("a1", "a[[:alpha:]]"), ("foo", "f*"), ("", ""),
             ("x", ""), ("]", "[]]"), ("-", "[a-]")]
    text = "\n".join(f"LoadConst {lit(s)}\nLoadConst {lit(p)}\nStrMatch" for s, p in cases)
    r = result_of(text + f"\nMakeArray {len(cases)}")
    script = "\n".join(f"s={sq(s)}; p={sq(p)}; case $s in $p) printf '1\\036';; "
                       "*) printf '0\\036';; esac" for s, p in cases)
    expected = [rec == "1" for rec in bash_records(script, cwd=in_tmp)]
    assert dict(zip(map(repr, cases), r, strict=True)) == \
        dict(zip(map(repr, cases), expected, strict=True))


@needs_bash
@covers(Op.RegexMatch)
def test_regex_match_matches_bash(in_tmp: Path) -> None:
    cases = [("abc123def", "[0-9]+"), ("ab", "^(a|ab)$"), ("abc", "^b"), ("foo", "[[:upper:]]"),
             ("Foo", "^[[:upper:]][a-z]+$"), ("a.c", "a\\.c"), ("abc", "a\\.c"), ("", "^$"),
             ("xyz", "y")]
    text = "\n".join(f"LoadConst {lit(s)}\nLoadConst {lit(p)}\nRegexMatch" for s, p in cases)
    r, vm = run(text + f"\nMakeArray {len(cases)}", close=False)
    try:
        assert vm.shell.rematch == ["y"]  # BASH_REMATCH of the last match
    finally:
        vm.shell.close()
    script = "\n".join(f"s={sq(s)}; re={sq(p)}; [[ $s =~ $re ]]; printf '%s\\036' $?"
                       for s, p in cases)
    expected = [rec == "0" for rec in bash_records(script, cwd=in_tmp)]
    assert dict(zip(map(repr, cases), r, strict=True)) == \
        dict(zip(map(repr, cases), expected, strict=True))


@covers(Op.CallFunction)
def test_call_function_host_function_builtin_then_command(in_tmp: Path) -> None:
    seen: list[list[str]] = []

    def greet(args: list[str]) -> int:
        seen.append(args)
        os.write(1, f"hi {' '.join(args)}\n".encode())
        return 3

    def setup(vm: VM) -> None:
        vm.shell.functions["greet"] = greet
        vm.register_builtin(1002, lambda vm, *args: len(args) + 10, name="count")

    r = result_of(f"""
        LoadConst "fn-out"
        Redirect 1 >
        {push_args("a", "b")}
        CallFunction greet 2
        GetStatus
        {push_args("x", "y", "z")}
        MakeArray 3
        CallFunction count 1
        LoadConst "cmd-out"
        Redirect 1 >
        {push_args("%s,", "p", "q")}
        CallFunction printf 3
        CallFunction no_such_command_xyz 0
        GetStatus
        MakeArray 6
    """, setup=setup)
    assert r == [Status(3), Status(3), Status(13), Status(0), Status(127), Status(127)]
    assert seen == [["a", "b"]]
    assert (in_tmp / "fn-out").read_text() == "hi a b\n"
    assert (in_tmp / "cmd-out").read_text() == "p,q,"


# -- Meta ------------------------------------------------------------------------------------


def test_every_shell_op_has_a_vm_level_test() -> None:
    shell_ops = list(SECTIONS["Shell"])
    assert len(shell_ops) == 29
    missing = [op.name for op in shell_ops if op not in COVERED]
    assert missing == [], f"shell ops without a VM-level test: {missing}"
    # A covering test must really emit the op (its mnemonic appears in its source).
    for op, tests in COVERED.items():
        assert any(op.name in inspect.getsource(t) or _emits_via_table(op, t) for t in tests), \
            (op.name, [t.__name__ for t in tests])


def _emits_via_table(op: Op, test: Callable[..., Any]) -> bool:
    """Redirect scenarios are in a table, not in the test's own source."""
    return op is Op.Redirect and test is test_every_redirect_kind_matches_bash



@covers(Op.StrMatch, Op.RegexMatch)
def test_match_ops_answer_pathological_patterns() -> None:
    """Backtracking needs minutes for these; the VM's ops run on the linear-time engine
    (a sandboxed VM cannot hang itself on a pattern). The bound only guards that."""
    a28 = "a" * 28
    text = (f"LoadConst {lit(a28)}\nLoadConst {lit('(a*)*b')}\nRegexMatch\n"
            f"LoadConst {lit(a28 + 'c')}\nLoadConst {lit('*a*a*a*a*a*a*a*a*a*b')}\nStrMatch\n"
            "MakeArray 2")
    began = time.perf_counter()
    assert result_of(text) == [False, False]
    assert time.perf_counter() - began < 5.0
