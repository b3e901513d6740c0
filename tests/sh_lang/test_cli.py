"""The sh command line: -c with name and args, a script file, stdin, `fusevm sh`,
`fusevm dis --sh`, syntax errors and internal robustness."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fusevm.cli import main as cli_main
from fusevm.lang.sh.api import compile_script

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _run(argv: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "fusevm.sh", *argv], cwd=cwd,
                          input=stdin.encode(), capture_output=True, env=env, timeout=60)


def test_dash_c_name_and_args(tmp_path: Path) -> None:
    p = _run(["-c", 'echo "$0|$1|$#"', "nm", "a", "b"], tmp_path)
    assert p.stdout == b"nm|a|2\n"


def test_script_file_and_args(tmp_path: Path) -> None:
    (tmp_path / "s.sh").write_text('echo "$0:$*"\nexit 3\n')
    p = _run(["s.sh", "x", "y"], tmp_path)
    assert (p.stdout, p.returncode) == (b"s.sh:x y\n", 3)


def test_script_on_stdin(tmp_path: Path) -> None:
    p = _run([], tmp_path, stdin="x=1\necho $((x + 1))\n")
    assert p.stdout == b"2\n"


def test_syntax_error_runs_earlier_commands(tmp_path: Path) -> None:
    p = _run(["-c", "echo before\nif then"], tmp_path)
    assert p.stdout == b"before\n"
    assert p.returncode == 2
    assert p.stderr.startswith(b"sh: 2: Syntax error:")


def test_long_options(tmp_path: Path) -> None:
    """`-o NAME` sets an option by its long name (pipefail has no letter), takes other
    shells' interactive options and ignores them, and refuses an unknown name."""
    p = _run(["-o", "pipefail", "-o", "vi", "-c", "false | true; echo $?"], tmp_path)
    assert (p.stdout, p.returncode) == (b"1\n", 0)
    p = _run(["-o", "nosuch", "-c", "echo ran"], tmp_path)
    assert (p.stdout, p.returncode) == (b"", 2)
    assert p.stderr.startswith(b"sh: Illegal option -o nosuch\nusage: sh ")


def test_missing_script(tmp_path: Path) -> None:
    p = _run(["nonexistent.sh"], tmp_path)
    assert p.returncode == 127
    assert b"Traceback" not in p.stderr


def test_fusevm_sh_subcommand(tmp_path: Path, capfd) -> None:  # type: ignore[no-untyped-def]
    assert cli_main(["sh", "-c", "exit 5"]) == 5


def test_dis_sh(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli_main(["dis", "--sh", "echo $x | cat"]) == 0
    text = capsys.readouterr().out
    for name in ("ShPipe", "ShParam", "ShRun", "ShPipeEnd"):
        assert name in text


def test_compile_uses_core_and_shell_ops() -> None:
    from fusevm.disasm import disassemble
    text = disassemble(compile_script(
        "if [ -n \"$(cat f)\" ]; then { echo a; } > f; fi; while false; do :; done"))
    for name in ("CmdSubst", "Redirect", "WithRedirectsBegin", "WithRedirectsEnd",
                 "SetStatus", "ShJumpStatus", "ShLoopEnter"):
        assert name in text


def test_the_entry_points_give_a_complete_shell() -> None:
    # ops are declared in `opset` and handled in `ops`; builtins register into `runtime`
    from fusevm.lang.sh import main  # noqa: F401  - the top module registers everything
    from fusevm.lang.sh.ops import SH
    from fusevm.lang.sh.runtime import BUILTINS, ON_USE, SPECIAL, find_builtin
    assert len(list(SH)) == 47
    assert all(SH.implemented(op.id) for op in SH)
    assert SPECIAL <= BUILTINS.keys()
    # The regular builtins load with their module when a command first names one.
    assert {"echo", "printf", "test", "[", "cd", "read", "command", "type"} <= ON_USE.keys()
    assert all(find_builtin(name) is not None for name in ON_USE)


def test_the_regular_builtins_load_with_the_first_command_naming_one() -> None:
    # `builtins.REGULAR` names each module's builtins: exactly those the module registers,
    # and a module loads with the first command naming one of its own.
    code = ("import sys\nfrom fusevm.lang.sh import main\n"
            "from fusevm.lang.sh.builtins import REGULAR\n"
            "from fusevm.lang.sh.runtime import BUILTINS, find_builtin\n"
            "before = set(BUILTINS)\nprint(any(m in sys.modules for m in REGULAR))\n"
            "assert find_builtin('echo') is not None\n"
            "print(sorted(m for m in REGULAR if m in sys.modules))\n"
            "assert all(find_builtin(names[-1]) for names in REGULAR.values())\n"
            "print(all(m in sys.modules for m in REGULAR))\n"
            "print(sorted(set(BUILTINS) - before) == "
            "sorted(n for names in REGULAR.values() for n in names))\n"
            "print(find_builtin('no-such-builtin'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "['fusevm.lang.sh.commands']", "True", "True", "None"]
