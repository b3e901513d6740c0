"""The worked example language in examples/tiny: functions, loops, strings, an extension op."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

import pytest

from fusevm import VMError
from fusevm.disasm import disassemble

TINY_DIR = Path(__file__).resolve().parents[2] / "examples" / "tiny"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tiny", TINY_DIR / "tiny.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tiny"] = module
    spec.loader.exec_module(module)
    return module


tiny = sys.modules.get("tiny") or _load()


def run(text: str) -> str:
    out = io.StringIO()
    tiny.run(text, "t.tiny", stdout=out)
    return out.getvalue()


def test_the_showcase_program_prints_what_it_should() -> None:
    out = run((TINY_DIR / "fib.tiny").read_text())
    lines = out.splitlines()
    assert lines[:3] == ["fib(0) = 0", "fib(1) = 1", "fib(2) = 1"]
    assert lines[9] == "fib(9) = 34"
    assert lines[10:] == ["hello, TINY!", "4"]


def test_loops_and_globals() -> None:
    assert run("let s = 0; let i = 1; while i <= 100 { s = s + i; i = i + 1; } print s;") \
        == "5050\n"


def test_locals_are_per_call_and_globals_are_shared() -> None:
    text = """
    let calls = 0;
    fn fact(n) { calls = calls + 1; let r = 1; if n > 1 { r = n * fact(n - 1); } return r; }
    print fact(10); print calls;
    """
    assert run(text) == "3628800\n10\n"


def test_if_else_chains_and_string_comparison() -> None:
    text = """
    fn sign(x) { if x < 0 { return "neg"; } else if x == 0 { return "zero"; } else {
        return "pos"; } }
    print sign(-3) .. sign(0) .. sign(9);
    if "a" eq "a" { print "same"; }
    if "a" ne "b" { print "differ"; }
    """
    assert run(text) == "negzeropos\nsame\ndiffer\n"


def test_upper_is_the_extension_op() -> None:
    chunk = tiny.compile_tiny('print upper("abc");')
    assert "TinyUpper" in disassemble(chunk)
    assert run('print upper("abc") .. len("héllo");') == "ABC5\n"


def test_a_function_without_return_gives_undef() -> None:
    assert run('fn nothing() { } print nothing() .. "|";') == "|\n"


def test_an_uncalled_function_with_parameters_compiles() -> None:
    assert run("fn unused(a, b) { return a + b; } print 1;") == "1\n"


def test_wrong_argument_count_is_a_build_error_naming_both_places() -> None:
    with pytest.raises(VMError, match="declared with arity 1") as info:
        tiny.compile_tiny("fn f(x) {\n return x;\n}\nprint f(1, 2);", "bad.tiny")
    assert info.value.line == 4


def test_runtime_errors_carry_a_backtrace() -> None:
    text = ("fn inner(x) {\n  return x % 0;\n}\nfn outer(x) {\n  return inner(x);\n}\n"
            "print outer(1);")
    with pytest.raises(VMError) as info:
        tiny.run(text, "bt.tiny")
    assert info.value.backtrace == [("<main>", "bt.tiny", 7), ("outer", "bt.tiny", 5),
                                    ("inner", "bt.tiny", 2)]


@pytest.mark.parametrize("text, message, line", [
    ("print 1 +;", "expected a name", 1),
    ("let x = 1;\nreturn x;", "'return' outside a function", 2),
    ("fn f() { fn g() { } }", "top level", 1),
    ("print \"a\" @ 1;", "unexpected character '@'", 1),
    ("while 1 { print 1;", "expected '}'", 1),
    ("print upper(1, 2);", "takes one argument", 1),
])
def test_syntax_errors_are_vm_errors_with_a_line(text: str, message: str, line: int) -> None:
    with pytest.raises(tiny.TinySyntaxError, match=message) as info:
        tiny.compile_tiny(text, "e.tiny")
    assert (info.value.source, info.value.line) == ("e.tiny", line)


def test_main_runs_a_file_and_reports_errors(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "p.tiny"
    prog.write_text('print "hi";')
    assert tiny.main([str(prog)]) == 0
    assert capsys.readouterr().out == "hi\n"
    assert tiny.main(["-c", "fn f(x) { return x / 0; }\nprint f(2);"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "<-c>:1: division by zero"
    assert err[1:] == ["backtrace (most recent call last):", "  <-c>:2: in <main>",
                       "  <-c>:1: in f"]
    assert tiny.main([]) == 2


def test_tiny_plugs_into_the_fusevm_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The tutorial's last step: the entry points make `fusevm tiny` and its op known."""
    from importlib.metadata import EntryPoint

    from fusevm import plugins
    from fusevm.cli import main as fusevm

    groups = {"fusevm.frontends": {"tiny": "tiny:main"},
              "fusevm.extensions": {"tiny": "tiny:TINY"}}

    def entry_points(*, group: str) -> list[EntryPoint]:
        return [EntryPoint(name=n, value=v, group=group)
                for n, v in groups.get(group, {}).items()]
    monkeypatch.setattr(plugins, "entry_points", entry_points)
    assert fusevm(["tiny", "-c", 'print upper("via fusevm");']) == 0
    assert capsys.readouterr().out == "VIA FUSEVM\n"
    prog = tmp_path / "up.fasm"
    prog.write_text('LoadConst "x"\nTinyUpper\nPrintLn 1\n')
    assert fusevm(["run", str(prog)]) == 0
    assert capsys.readouterr().out == "X\n"
