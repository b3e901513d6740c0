"""The `fusevm` command line: run, asm, dis, demo, --version and error reporting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fusevm import __version__
from fusevm.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "fusevm" / "examples"


def write(tmp_path: Path, text: str, name: str = "prog.fasm") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"fusevm {__version__}"


def test_run_prints_program_output_and_the_result(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    prog = write(tmp_path, 'LoadConst "hi"\nPrintLn 1\nLoadInt 6\nLoadInt 7\nMul\n')
    assert main(["run", "-r", str(prog)]) == 0
    assert capsys.readouterr().out == "hi\n42\n"


def test_run_error_is_one_line_with_file_and_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    prog = write(tmp_path, "LoadInt 1\n\nLoadInt 0\nDiv\n")
    assert main(["run", str(prog)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"{prog}:4: division by zero")


def test_traceback_flag_shows_the_python_stack(tmp_path: Path) -> None:
    prog = write(tmp_path, "LoadInt 1\nLoadInt 0\nDiv\n")
    proc = subprocess.run([sys.executable, "-m", "fusevm", "--traceback", "run", str(prog)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ZeroDivision" in proc.stderr


def test_assembler_syntax_error_reports_file_line_col(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    prog = write(tmp_path, "LoadInt 1\n  Frob 2\n")
    assert main(["run", str(prog)]) == 1
    assert capsys.readouterr().err.strip().startswith(f"{prog}:2:3: unknown op 'Frob'")


def test_asm_writes_a_serialized_chunk_that_run_and_dis_accept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog = write(tmp_path, 'LoadConst "from bytes"\nPrintLn 1\n')
    out = tmp_path / "prog.fvmc"
    assert main(["asm", str(prog), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"FVMC")
    capsys.readouterr()
    assert main(["run", str(out)]) == 0
    assert capsys.readouterr().out == "from bytes\n"
    assert main(["dis", str(out)]) == 0
    assert 'LoadConst "from bytes"' in capsys.readouterr().out


def test_corrupt_serialized_chunk_is_a_clear_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.fvmc"
    bad.write_bytes(b"FVMC\x01\x00garbage")
    assert main(["run", str(bad)]) == 1
    assert "truncated" in capsys.readouterr().err


def test_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "/nonexistent/x.fasm"]) == 1
    assert capsys.readouterr().err == "/nonexistent/x.fasm: No such file or directory\n"
    for command in ("dis", "asm", "jit-dump"):
        assert main([command, "/"]) == 1
        assert capsys.readouterr().err == "/: Is a directory\n"


def test_dis_shows_fused_ops_and_no_fuse_shows_the_plain_loop(
        capsys: pytest.CaptureFixture[str]) -> None:
    prog = str(EXAMPLES / "strings.fasm")
    assert main(["dis", prog]) == 0
    fused = capsys.readouterr().out
    assert main(["dis", "--no-fuse", prog]) == 0
    plain = capsys.readouterr().out
    assert "ConcatConstLoop" in fused
    assert "ConcatConstLoop" not in plain and "Concat" in plain


def test_run_no_fuse_gives_the_same_output(capsys: pytest.CaptureFixture[str]) -> None:
    prog = str(EXAMPLES / "wordcount.fasm")
    assert main(["run", prog]) == 0
    fused = capsys.readouterr().out
    assert main(["run", "--no-fuse", prog]) == 0
    assert capsys.readouterr().out == fused
    assert "the: 3" in fused


def test_demo_runs_every_bundled_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for name in ("fib.fasm", "strings.fasm", "wordcount.fasm", "sort.fasm"):
        assert f"== {name}" in out
    assert "fib(20) = 6765" in out
    assert "sorted:  9 8 7 6 5 4 3 2 1" in out
    # Times are medians of runs after an untimed one, not a first run of each form.
    assert "the median of 5 runs after one untimed run" in out
    assert out.count(" ms unfused") == 4


@pytest.mark.parametrize("argv", [
    ["run", "p.fasm"], ["--traceback", "run", "p.fasm"], ["run", "-r", "p.fasm", "--jit"],
    ["run", "p.fasm", "--no-fuse", "--strict-int", "--jit-log", "--result", "--traceback"],
    ["run", "--ext", "a.b:C", "p.fasm", "--ext=d:E"]])
def test_a_run_command_line_read_without_argparse_reads_as_argparse_does(
        argv: list[str]) -> None:
    from fusevm.commands import build_parser, quick_run_args
    quick = quick_run_args(argv)
    assert quick is not None
    assert vars(quick) == vars(build_parser(frontends=False).parse_args(argv))


@pytest.mark.parametrize("argv", [["run"], ["run", "a", "b"], ["run", "--no-f", "p"],
                                  ["run", "-h"], ["run", "--", "-p"], ["run", "--ext"],
                                  ["dis", "p"], ["-x", "run", "p"]])
def test_other_command_lines_are_left_to_argparse(argv: list[str]) -> None:
    from fusevm.commands import quick_run_args
    assert quick_run_args(argv) is None


def test_a_serialized_chunk_of_fusevms_own_extension_ops_needs_no_ext(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dis", "--awk", "BEGIN { print 1 }"]) == 0
    text = write(tmp_path, capsys.readouterr().out, "awk.fasm")
    blob = tmp_path / "awk.fvmc"
    assert main(["asm", str(text), "-o", str(blob)]) == 0
    # (a process of its own: this one has loaded awk's set already)
    proc = subprocess.run([sys.executable, "-m", "fusevm", "dis", str(blob)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "AwkInit" in proc.stdout


def test_cache_shows_prunes_and_clears_the_disk_cache(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`fusevm cache` lists the directory's entries by kind; `--prune` and `--clear` act
    on them; with the cache off it says so."""
    from fusevm.jit import cache
    monkeypatch.setenv("FUSEVM_JIT_CACHE_DIR", str(tmp_path / "c"))
    cache.set_dir(tmp_path / "c")
    try:
        assert main(["awk", "BEGIN { print 1 }"]) == 0
        capsys.readouterr()
        assert main(["cache"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0].startswith(f"{tmp_path / 'c'}: ")
        assert [line.split()[:2] for line in out[1:]] == [["chunk", "1"]]
        assert "compiled awk programs" in out[1]
        assert main(["cache", "--prune"]) == 0
        assert capsys.readouterr().out.startswith(f"{tmp_path / 'c'}: 0 B freed\n")
        assert main(["cache", "--clear"]) == 0
        assert capsys.readouterr().out == f"{tmp_path / 'c'}: 1 entry removed\n"
        assert main(["cache"]) == 0
        assert capsys.readouterr().out.startswith(f"{tmp_path / 'c'}: 0 B ")
        cache.set_enabled(False)
        assert main(["cache"]) == 0
        assert "off" in capsys.readouterr().out
    finally:
        cache.set_enabled(None)
        cache.set_dir(None)
