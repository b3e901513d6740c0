"""`--ext MODULE:ATTR`, the `fusevm.extensions` / `fusevm.frontends` entry-point groups and
the CLI's backtrace, with a throwaway extension set written for the test."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from fusevm import plugins
from fusevm.cli import main

TOY_MODULE = '''
from fusevm import ExtensionSet

TOY = ExtensionSet("cli-toy", first_id=0xE800, count=8)


@TOY.op("ToyTriple", effect="a -- b", formula="b = a * 3")
def triple(vm):
    vm.push(vm.pop() * 3)


NOT_A_SET = 42


def main(argv):
    print("toy frontend got", argv)
    return 3


def compile_toy(source, fuse=True):
    from fusevm import ChunkBuilder, Op
    b = ChunkBuilder(source="<toy>")
    b.emit(Op.LoadInt, int(source))
    b.emit(TOY["ToyTriple"])
    return b.build(fuse=fuse)
'''

PROGRAM = "LoadInt 4\nToyTriple\nPrintLn 1\n"


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cli_toy_ext.py").write_text(TOY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    prog = tmp_path / "toy.fasm"
    prog.write_text(PROGRAM)
    return prog


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, **groups: dict[str, str]) -> None:
    def entry_points(*, group: str) -> list[EntryPoint]:
        return [EntryPoint(name=n, value=v, group=group)
                for n, v in groups.get(group.replace("fusevm.", ""), {}).items()]
    monkeypatch.setattr(plugins, "entry_points", entry_points)


def test_run_loads_an_extension_set_named_with_ext(toy: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--ext", "cli_toy_ext:TOY", str(toy)]) == 0
    assert capsys.readouterr().out == "12\n"


def test_dis_with_ext_prints_the_mnemonic_and_round_trips(
        toy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dis", "--no-fuse", "--ext", "cli_toy_ext:TOY", str(toy)]) == 0
    listing = capsys.readouterr().out
    assert "ToyTriple" in listing
    again = tmp_path / "again.fasm"
    again.write_text(listing)
    assert main(["run", "--ext", "cli_toy_ext:TOY", str(again)]) == 0
    assert capsys.readouterr().out == "12\n"


def test_jit_dump_accepts_ext(toy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jit-dump", "--ext", "cli_toy_ext:TOY", str(toy)]) == 0
    assert capsys.readouterr().out.strip()


def test_asm_with_ext_writes_a_chunk_that_runs(toy: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "toy.fvmc"
    assert main(["asm", "--ext", "cli_toy_ext:TOY", str(toy), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["run", "--ext", "cli_toy_ext:TOY", str(out)]) == 0
    assert capsys.readouterr().out == "12\n"


def test_ext_is_repeatable(toy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--ext", "cli_toy_ext:TOY", "--ext", "fusevm.lang.awk.api:AWK",
                 str(toy)]) == 0
    assert capsys.readouterr().out == "12\n"


def test_without_ext_the_extension_op_is_unknown(toy: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    run = [sys.executable, "-m", "fusevm", "run"]
    bare = subprocess.run(run + [str(toy)], capture_output=True, text=True, env=env)
    assert bare.returncode == 1
    assert "unknown op 'ToyTriple'" in bare.stderr and "--ext" in bare.stderr
    loaded = subprocess.run(run + ["--ext", "cli_toy_ext:TOY", str(toy)], capture_output=True,
                            text=True, env=env)
    assert (loaded.returncode, loaded.stdout) == (0, "12\n")


@pytest.mark.parametrize("spec, message", [
    ("cli_toy_ext", "expected MODULE:ATTR"),
    ("no_such_module_xyz:TOY", "cannot import 'no_such_module_xyz'"),
    ("cli_toy_ext:MISSING", "has no attribute 'MISSING'"),
    ("cli_toy_ext:NOT_A_SET", "not an ExtensionSet"),
])
def test_a_bad_ext_spec_is_a_one_line_error(toy: Path, spec: str, message: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--ext", spec, str(toy)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fusevm: --ext") and message in err[0]


def test_installed_extension_sets_load_without_ext(toy: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _fake_entry_points(monkeypatch, extensions={"toy": "cli_toy_ext:TOY"})
    assert main(["run", str(toy)]) == 0
    assert capsys.readouterr().out == "12\n"


def test_a_broken_installed_extension_is_skipped_with_a_warning(
        toy: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _fake_entry_points(monkeypatch, extensions={"broken": "no_such_module_xyz:EXT",
                                                "toy": "cli_toy_ext:TOY"})
    assert main(["run", str(toy)]) == 0
    out = capsys.readouterr()
    assert out.out == "12\n"
    assert "ignoring extension set 'broken'" in out.err


def test_an_installed_frontend_is_a_subcommand(toy: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _fake_entry_points(monkeypatch, frontends={"toyfe": "cli_toy_ext:main"})
    assert main(["toyfe", "-x", "file"]) == 3
    assert capsys.readouterr().out == "toy frontend got ['-x', 'file']\n"
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "toyfe" in capsys.readouterr().out


def test_a_frontend_that_fails_to_load_is_a_one_line_error(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_entry_points(monkeypatch, frontends={"ghost": "no_such_module_xyz.main:main"})
    assert main(["ghost", "x"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["fusevm: frontend 'ghost' (no_such_module_xyz.main:main) failed to load: "
                   "No module named 'no_such_module_xyz'"]


def test_a_frontend_cannot_shadow_a_builtin_command(toy: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _fake_entry_points(monkeypatch, frontends={"run": "cli_toy_ext:main"})
    assert main(["run", "--ext", "cli_toy_ext:TOY", str(toy)]) == 0
    assert capsys.readouterr().out == "12\n"


def test_awk_and_sh_are_built_in_to_every_group() -> None:
    for name in ("awk", "sh"):
        assert name in plugins.frontend_names()
        assert name in [ext.name for ext in plugins.installed_extensions()]
        assert name in plugins.compiler_names()


def test_a_built_in_frontend_is_found_without_reading_entry_points(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def entry_points(*, group: str) -> list[EntryPoint]:
        raise AssertionError(f"scanned {group}")
    monkeypatch.setattr(plugins, "entry_points", entry_points)
    assert plugins.is_frontend("awk") and plugins.is_frontend("sh")
    assert callable(plugins.find_frontend("sh"))
    assert callable(plugins.find_compiler("awk"))


def test_an_installed_entry_point_cannot_take_a_built_in_name(
        toy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, frontends={"awk": "cli_toy_ext:main",
                                               "toyfe": "cli_toy_ext:main"})
    assert plugins.frontend_names() == ["awk", "sh", "toyfe"]
    from fusevm.lang.awk.main import main as awk_main
    assert plugins.find_frontend("awk") is awk_main


def test_dis_lang_compiles_program_text_with_an_installed_compiler(
        toy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_entry_points(monkeypatch, compilers={"toy": "cli_toy_ext:compile_toy"})
    assert main(["dis", "--lang", "toy", "5"]) == 0
    listing = capsys.readouterr().out
    assert "LoadInt 5" in listing and "ToyTriple" in listing
    assert main(["dis", "--lang", "nope", "5"]) == 1
    assert "no compiler for language 'nope' (known: awk, sh, toy)" in capsys.readouterr().err


def test_dis_awk_is_dis_lang_awk(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dis", "--awk", "{ print $1 }"]) == 0
    by_flag = capsys.readouterr().out
    assert main(["dis", "--lang", "awk", "{ print $1 }"]) == 0
    assert "AwkInit" in by_flag and "AwkInit" in capsys.readouterr().out


def test_the_cli_prints_the_backtrace_under_the_error_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "bt.fasm"
    prog.write_text("LoadInt 1\nCall f 1\nReturn\n.sub f 1\n    LoadInt 0\n    Div\n"
                    "    ReturnValue\n")
    assert main(["run", str(prog)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{prog}:6: division by zero (Div at op 4)",
        "backtrace (most recent call last):",
        f"  {prog}:2: in <main>",
        f"  {prog}:6: in f",
    ]


def test_a_deep_backtrace_is_shortened(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "deep.fasm"
    prog.write_text("Call f 0\nReturn\n.sub f 0\n    Call f 0\n    ReturnValue\n")
    assert main(["run", str(prog)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert "call depth exceeds" in err[0]
    assert len(err) == 2 + 20 + 1
    assert any("frames omitted" in line for line in err)


def _no_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    def entry_points(*, group: str) -> list[EntryPoint]:
        raise AssertionError(f"scanned {group}")
    monkeypatch.setattr(plugins, "entry_points", entry_points)


def test_run_of_a_core_program_reads_no_entry_points(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _no_entry_points(monkeypatch)
    prog = tmp_path / "core.fasm"
    prog.write_text("LoadInt 2\nLoadInt 3\nAdd\nPrintLn 1\n")
    assert main(["run", str(prog)]) == 0
    assert capsys.readouterr().out == "5\n"


def test_run_of_a_program_using_a_built_in_set_reads_no_entry_points(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _no_entry_points(monkeypatch)
    prog = tmp_path / "awk.fasm"
    prog.write_text('LoadConst "0"\nAwkTruth\nLoadConst " 3x"\nAwkNum\nPrintLn 2\n')
    assert main(["run", str(prog)]) == 0
    assert capsys.readouterr().out == "13\n"
    chunk = tmp_path / "awk.fvmc"
    assert main(["asm", str(prog), "-o", str(chunk)]) == 0
    capsys.readouterr()
    assert main(["run", str(chunk)]) == 0  # serialized: the ids found among the built-in sets
    assert capsys.readouterr().out == "13\n"


def test_a_serialized_chunk_finds_its_installed_set(toy: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    chunk = tmp_path / "toy.fvmc"
    assert main(["asm", str(toy), "--ext", "cli_toy_ext:TOY", "-o", str(chunk)]) == 0
    capsys.readouterr()
    _fake_entry_points(monkeypatch, extensions={"toy": "cli_toy_ext:TOY"})
    assert main(["run", str(chunk)]) == 0
    assert capsys.readouterr().out == "12\n"
