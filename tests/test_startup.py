"""Start-up: what `import fusevm` and the short command lines load, each in a fresh process.

`import fusevm` loads no VM and no JIT. `fusevm awk 'BEGIN{}'` and `fusevm sh -c :` load,
of the JIT, only the tier hook and (awk) the disk cache of compiled chunks: the tiers,
the lowerings and llvmlite load when a loop gets hot, which the last tests check still
happens. How long start-up takes is measured in benchmarks/bench_startup.py, not here.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fusevm import Op
from fusevm.interp.handlers.bodies import section_slug as slug
from fusevm.jit import llvmlite_available

SRC = Path(__file__).resolve().parent.parent / "src"

#: The JIT modules a short command may load: the pending tier hook (`jit/hook.py`: the
#: policy loads with the first decision), its configuration, and the disk cache's read and
#: write paths (a cold run writes its compiled chunk, with the sources that made it), never
#: the tiers or llvmlite.
HOOK_ONLY = {"fusevm.jit", "fusevm.jit.config", "fusevm.jit.hook", "fusevm.jit.cache",
             "fusevm.jit.cache.frontend", "fusevm.jit.cache.store", "fusevm.jit.cache.files",
             "fusevm.jit.cache.sources"}


def loaded_after(code: str, cache_dir: Path, *argv: str) -> tuple[list[str], str]:
    """The modules loaded by `code` in a fresh interpreter, and what it printed (`code`
    sees `argv` as ARGV)."""
    # repr, not json: json loads re, enum, functools and collections before `code` runs.
    script = (f"import sys\nARGV = {list(argv)!r}\n{code}\n"
              "print('\\n' + repr(sorted(sys.modules)))\n")
    env = {**os.environ, "PYTHONPATH": str(SRC), "FUSEVM_JIT_CACHE_DIR": str(cache_dir)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out, _, modules = proc.stdout.rstrip("\n").rpartition("\n")
    found: list[str] = ast.literal_eval(modules)
    return found, out


def jit_modules(modules: list[str]) -> set[str]:
    return {m for m in modules if m.startswith(("fusevm.jit", "llvmlite"))}


def ours(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith("fusevm")]


def test_import_fusevm_loads_no_vm_and_no_jit(tmp_path: Path) -> None:
    modules, _ = loaded_after("import fusevm", tmp_path)
    assert ours(modules) == ["fusevm", "fusevm.modpack"]  # (the module pack's finder)


def test_the_public_names_still_import(tmp_path: Path) -> None:
    code = ("import fusevm\nfrom fusevm import VM, ChunkBuilder, Op, fuse\n"
            "assert set(fusevm.__all__) <= set(dir(fusevm))\n"
            "b = ChunkBuilder(); b.emit(Op.LoadInt, 2); b.emit(Op.LoadInt, 3); "
            "b.emit(Op.Add)\nprint(VM(fuse(b.build())).run())")
    modules, out = loaded_after(code, tmp_path)
    assert out.strip() == "5"
    assert not jit_modules(modules)


#: Standard modules the core (op table, chunk builder, verifier, fusion pass, interpreter)
#: never loads to build and run a small program: its enumerations are `fusevm.enums`, its
#: records `fusevm.records`, numbers are parsed with str methods, the caches of per-chunk
#: facts live on the chunk (no weakref), threading loads only for a run with a timeout,
#: `collections.abc` names are for the type checker only, and modules load on demand through
#: `__import__` (the importlib package brings `warnings`). Frontends and the command line
#: load what they need on top of it.
CORE_FREE = {"enum", "re", "functools", "collections", "collections.abc", "threading",
             "signal", "weakref", "struct", "typing", "dataclasses", "contextlib", "inspect",
             "atexit", "importlib", "warnings"}


@pytest.mark.parametrize("program", [
    "LoadInt 2\nLoadInt 3\nAdd\nPrintLn 1",
    "LoadInt 0\nSetSlot 0\ntop:\nPreIncSlotVoid 0\nGetSlot 0\nLoadInt 1\nNumLt\n"
    "JumpIfTrue top\nGetSlot 0\nLoadFloat 0.5\nMul\nPrintLn 1",
])
def test_the_core_builds_and_runs_a_program_on_builtin_modules_only(
        tmp_path: Path, program: str) -> None:
    # The program is built through ChunkBuilder (the assembler's own parser is text work
    # that brings `re`), fused, verified, prepared and run; the second one has a loop (run
    # once: not hot enough for the baseline tier to compile it), so it is fused and its
    # hot points counted.
    code = ("from fusevm import ChunkBuilder, Op, VM\n"
            "b = ChunkBuilder()\nlabels = {}\n"
            "for line in ARGV[0].split('\\n'):\n"
            "    if line.endswith(':'):\n"
            "        b.bind(labels.setdefault(line[:-1], b.label()))\n"
            "        continue\n"
            "    name, *args = line.split()\n"
            "    ops = [labels.setdefault(a, b.label()) if a.isidentifier() else "
            "(float(a) if '.' in a else int(a)) for a in args]\n"
            "    b.emit(getattr(Op, name), *ops)\n"
            "VM(b.build()).run()")
    modules, out = loaded_after(code, tmp_path, program)
    assert out.strip() in ("5", "0.5")
    assert not CORE_FREE & set(modules), sorted(CORE_FREE & set(modules))
    assert not jit_modules(modules)
    assert not [m for m in modules if m.startswith("fusevm.shell")]  # no shell op, no shell
    # Only the handler modules of the ops used load: the generated steps of their sections
    # (the fusion pass may make fused ops of them), the index naming those, and I/O's.
    from fusevm.ops import SECTIONS
    used = {getattr(Op, line.split()[0]) for line in program.split("\n")
            if not line.endswith(":")}
    sections = {slug(s) for s, ops in SECTIONS.items() if used & set(ops)} | {"fused"}
    handlers = {m.rpartition(".")[2] for m in modules if m.startswith("fusevm.interp.handlers.")}
    assert {"generated", "generated_constants", "io"} <= handlers, handlers
    assert handlers <= {"generated", "io"} | {f"generated_{s}" for s in sections}, handlers


def test_an_error_still_names_its_op_and_frames(tmp_path: Path) -> None:
    # The error path's modules load with the first error: the message is complete.
    code = ("from fusevm import ChunkBuilder, Op, VM, VMError\nimport sys\n"
            "b = ChunkBuilder(source='t.fasm')\nb.emit(Op.LoadInt, 1, line=3)\n"
            "b.emit(Op.LoadInt, 0, line=3)\nb.emit(Op.Mod, line=4)\n"
            "try:\n    VM(b.build(fuse=False)).run()\nexcept VMError as e:\n"
            "    print(e.op, e.ip, e.line, e.backtrace, 'fusevm.interp.backtrace' in sys.modules)")
    _, out = loaded_after(code, tmp_path)
    assert out.split() == ["Mod", "2", "4", "[('<main>',", "'t.fasm',", "4)]", "True"]


#: Standard modules that cost a short command more than what it does with them: none of
#: them loads on the start-up paths below (the `typing` names are read by the type checker
#: only, records are `fusevm.records`, BLAKE2b is the built-in module, the cache's read path
#: uses os.path, re2 loads with the first regex and `random` with the first rand(), and the
#: shell's host needs no run-time-checkable Protocol).
COSTLY = {"typing", "dataclasses", "inspect", "pathlib", "_hashlib", "re2", "random", "string",
          "importlib.metadata", "importlib.util", "contextlib"}


@pytest.mark.parametrize("argv", [["awk", "BEGIN{}"], ["awk", "BEGIN { x = 1; print x }"],
                                  ["sh", "-c", ":"], ["sh", "-c", "echo hi; x=$((1+2))"]])
def test_a_short_command_loads_no_tier(tmp_path: Path, argv: list[str]) -> None:
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    for _ in range(2):  # the compile cache cold (the program is compiled), then warm
        modules, _ = loaded_after(code, tmp_path, *argv)
        assert jit_modules(modules) <= HOOK_ONLY, jit_modules(modules) - HOOK_ONLY
        assert not COSTLY & set(modules), COSTLY & set(modules)
        assert "fusevm.commands" not in modules  # (the built-in commands and their parser)


#: Standard modules none of the short commands loads (with awk's compiled program from
#: the compile cache): `re` and `enum` (the assembler and awk read numbers and names with
#: str methods), `functools` and with it `collections` and `types` (the frontends' caches
#: are `fusevm.memo` tables), `weakref` (per-chunk facts live on the chunk), `struct` (the
#: disk cache's header is read with int.from_bytes), `operator` (`_operator`'s functions)
#: and the `importlib` package (the import system's own module has the magic number).
#: The shell's expansions load `re` for brace ranges only, the regex engine for pattern
#: modifiers and `case`, and threading for a parallel globstar walk; its redirections load
#: the `fcntl` extension module.
SHORT_FREE = {"re", "enum", "functools", "collections", "types", "weakref", "struct",
              "_struct", "operator", "importlib", "warnings", "contextlib", "threading",
              "signal", "fcntl", "math"} | COSTLY


@pytest.mark.parametrize("argv", [["awk", "BEGIN{}"], ["awk", "BEGIN { x = 1; print x }"],
                                  ["awk", "{ n += NF } END { print n }", "DATA"],
                                  ["sh", "-c", ":"], ["sh", "-c", "echo hi; x=$((1 + 2))"],
                                  ["sh", "-c", "y=${x:-3}; echo ${y#?}"], ["run", "PROGRAM"]])
def test_a_short_command_loads_only_cheap_standard_modules(
        tmp_path: Path, argv: list[str]) -> None:
    prog = tmp_path / "add.fasm"
    prog.write_text("LoadInt 2\nLoadInt 3\nAdd\nPrintLn 1\n")
    data = tmp_path / "in.txt"
    data.write_text("a b\nc\n")
    files = {"PROGRAM": str(prog), "DATA": str(data)}
    argv = [files.get(a, a) for a in argv]
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    loaded_after(code, tmp_path, *argv)  # awk's program compiled and cached
    modules, _ = loaded_after(code, tmp_path, *argv)
    free = SHORT_FREE
    if "#" in argv[-1]:  # a pattern modifier: the regex engine's caches are functools's
        free = free - {"functools", "collections", "types", "operator", "re2"}
    assert not free & set(modules), sorted(free & set(modules))
    assert not {"dataclasses", "inspect", "typing", "threading"} & set(modules)


def test_run_of_a_core_program_loads_no_frontend_and_reads_no_metadata(
        tmp_path: Path) -> None:
    prog = tmp_path / "add.fasm"
    prog.write_text("LoadInt 2\nLoadInt 3\nAdd\nPrintLn 1\n")
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    modules, out = loaded_after(code, tmp_path, "run", str(prog))
    assert out.strip() == "5"
    assert not [m for m in modules if m.startswith("fusevm.lang")]
    assert jit_modules(modules) <= HOOK_ONLY, jit_modules(modules) - HOOK_ONLY
    assert not {"importlib.metadata", "typing", "dataclasses", "_hashlib"} & set(modules)
    # Told from a serialized chunk by its first bytes (`fusevm.formats`), without the
    # serializer and the C extension modules it loads.
    assert not {"fusevm.serialize", "_struct", "_blake2", "_bisect", "math"} & set(modules)


def test_awk_without_a_regex_loads_no_regex_engine(tmp_path: Path) -> None:
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    program = 'BEGIN { n = split("a b", parts); print n, toupper(parts[2]) }'
    for _ in range(2):
        modules, out = loaded_after(code, tmp_path, "awk", program)
        assert out.split() == ["2", "B"]
    assert not [m for m in modules if m.startswith("fusevm.regex")]
    assert "fusevm.lang.awk.lexer" not in modules


@pytest.mark.skipif(not llvmlite_available(), reason="llvmlite is not installed")
def test_a_hot_awk_loop_still_loads_the_tiers_and_runs_natively(tmp_path: Path) -> None:
    program = "BEGIN { for (i = 0; i < 200000; i++) s += i * 2; print s }"
    code = ("from fusevm.cli import main\nfrom fusevm.jit import stats\n"
            "assert main(ARGV) == 0\nprint(stats()['trace']['compiles'] + "
            "stats()['trace']['cache_hits'] + stats()['disk']['loads'] > 0)")
    for _ in range(2):  # a chunk from the compile cache gets awk's lowerings too
        modules, out = loaded_after(code, tmp_path, "awk", program)
        assert out.split() == ["39999800000", "True"]
        assert {"fusevm.jit.plan", "fusevm.lang.awk.jit"} <= set(modules)


def test_the_tier_policy_loads_with_the_first_decision(tmp_path: Path) -> None:
    # Hot points entered fewer times than the lowest threshold (the baseline tier's) are
    # counted by the pending hook alone; a loop that has run about what loading the
    # tiers costs (`jit.hook.LOAD_COST` ops) asks the hook, which then loads the policy;
    # a shorter one never does.
    code = ("from fusevm.cli import main\nimport sys\nassert main(ARGV) == 0\n"
            "print('fusevm.jit.policy' in sys.modules)")
    _, out = loaded_after(code, tmp_path, "awk", "BEGIN { s = 0; print s }")
    assert out.split() == ["0", "False"]
    for n, loaded in ((1000, "False"), (100_000, "True")):
        loop = f"BEGIN {{ for (i = 0; i < {n}; i++) s += i; print s }}"
        _, out = loaded_after(code, tmp_path, "awk", loop)
        assert out.split() == [str(sum(range(n))), loaded]


@pytest.mark.skipif(not llvmlite_available(), reason="llvmlite is not installed")
def test_runs_before_the_tiers_load_count_as_warm_ups(tmp_path: Path) -> None:
    # Whole-run units with block_threshold 1 compile on a chunk's second run: the first
    # runs here before any JIT module is loaded and is counted when the tiers load.
    code = ("from fusevm import VM\nfrom fusevm.asm import assemble\nimport sys\n"
            "text = ('LoadInt 0\\nSetSlot 0\\ntop:\\nPreIncSlotVoid 0\\nGetSlot 0\\n'\n"
            "        'LoadInt 1000\\nNumLt\\nJumpIfTrue top\\nGetSlot 0\\n')\n"
            "def run():\n"
            "    vm = VM(assemble(text)); vm.enable_jit(); return vm.run()\n"
            "assert run() == 1000\n"
            "print('fusevm.jit.plan' in sys.modules)\n"
            "assert run() == 1000\n"
            "from fusevm.jit import stats\n"
            "print(stats()['block']['warmups'], stats()['block']['runs'])")
    env_cfg = "import os; os.environ['FUSEVM_JIT_REGION_THRESHOLD'] = '1000000000'\n"
    _, out = loaded_after(env_cfg + code, tmp_path)
    assert out.split() == ["False", "1", "1"]


#: Standard modules a process that runs a hot loop natively from a warm disk cache does
#: not load (issue 13: its start-up is weighed against a VM that only interprets): the
#: tiers' type names are for the type checker, their locks are `_thread`'s, their
#: per-chunk tables live on the chunk, the JIT ABI's enumerations are `fusevm.enums`, and
#: the extension machinery loads with the first extension op. ctypes (the native call)
#: and its own imports are what a native run needs.
WARM_JIT_FREE = {"typing", "re", "enum", "functools", "collections", "contextlib", "weakref",
                 "threading", "importlib", "warnings", "dataclasses", "inspect", "llvmlite",
                 "fusevm.jit.extension"}


@pytest.mark.skipif(not llvmlite_available(), reason="llvmlite is not installed")
def test_a_native_run_from_the_warm_disk_cache_loads_only_what_it_runs(
        tmp_path: Path) -> None:
    code = ("from fusevm import VM\nfrom fusevm.asm import assemble\nimport fusevm.jit as jit\n"
            "jit.set_config(jit.get_config().replace(block_threshold=0, reopt_after=0))\n"
            "vm = VM(assemble('LoadInt 0\\nSetSlot 0\\nLoadInt 0\\nSetSlot 1\\nloop:\\n'\n"
            "    'GetSlot 0\\nLoadInt 2000\\nNumLt\\nJumpIfFalse done\\nGetSlot 1\\n'\n"
            "    'GetSlot 0\\nAdd\\nSetSlot 1\\nPreIncSlotVoid 0\\nJump loop\\ndone:\\n'\n"
            "    'GetSlot 1'))\n"
            "vm.enable_jit()\nassert vm.run() == 1999000\n"
            "from fusevm.jit import cache, runtime\n"
            "print(runtime.stats()['block']['runs'], cache.stats()['loads'])")
    loaded_after(code, tmp_path)  # compiles the loop and stores it
    modules, out = loaded_after(code, tmp_path)
    assert out.split() == ["1", "1"]  # it ran natively, from the disk cache
    found = {m.partition(".")[0] if m.startswith("llvmlite") else m for m in modules}
    assert not WARM_JIT_FREE & found, sorted(WARM_JIT_FREE & found)


def test_a_short_awk_program_compiles_none_of_the_frontends_own_patterns(
        tmp_path: Path) -> None:
    code = ("from fusevm.cli import main\nassert main(ARGV) == 0\n"
            "from fusevm.lang.awk import fields, values\n"
            "pats = [values._NUMBER_PREFIX, values._NUMERIC_STRING, values._SPECIAL,\n"
            "        fields._DEFAULT_FIELD, fields._OTHER_SPACE]\n"
            "print(sum('match' in vars(p) for p in pats))")
    for _ in range(2):
        _, out = loaded_after(code, tmp_path, "awk", 'BEGIN { x = 1; print x + 2 }')
        assert out.split() == ["3", "0"]


def test_a_lazy_pattern_compiles_once_and_matches_as_re_does() -> None:
    import re

    from fusevm.lang.lazyre import LazyPattern
    lazy = LazyPattern(r"(?i)([a-z]+)=(\d*)")
    assert "match" not in vars(lazy)
    m = lazy.match("Name=42")
    assert m is not None and m.groups() == ("Name", "42")
    assert "match" in vars(lazy) and lazy.findall("a=1 b=2") == [("a", "1"), ("b", "2")]
    assert lazy.split("x a=1 y") == re.split(r"(?i)([a-z]+)=(\d*)", "x a=1 y")


def test_lazy_math_loads_math_at_its_first_use_and_is_math_then() -> None:
    import math
    import subprocess

    code = ("import sys\nfrom fusevm.lazymath import math\nassert 'math' not in sys.modules\n"
            "assert math.fmod(7.5, 2.0) == 1.5 and 'math' in sys.modules\n"
            "import math as real\nassert vars(math)['copysign'] is real.copysign")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from fusevm.lazymath import math as lazy
    assert lazy.inf == math.inf and lazy.isnan(lazy.nan) and lazy.pi == math.pi


def test_op_bodies_are_parsed_once_then_come_from_the_disk_cache(tmp_path: Path) -> None:
    # awk's record ops are statements (`ExtensionSet.body`): the first process compiles
    # them (without a syntax tree: `ast` is the baseline's to load); later ones read the
    # compiled functions back.
    data = tmp_path / "in.txt"
    data.write_text("a 1\nb 2\n")
    # (It prints how many bodies it wrote out as source to compile.)
    code = ("from fusevm.ops import extbody\nwritten = []\n"
            "source = extbody.ExtBody.function_source\n"
            "extbody.ExtBody.function_source = lambda b: written.append(b) or source(b)\n"
            "from fusevm.cli import main\nassert main(ARGV) == 0\nprint(len(written))")
    argv = ("awk", "{ s += $2; print $1 } END { print s }", str(data))
    cold, out = loaded_after(code, tmp_path, *argv)
    *printed, compiled = out.split()
    assert printed == ["a", "b", "3"] and int(compiled) > 0 and "ast" not in cold
    warm, out = loaded_after(code, tmp_path, *argv)
    assert out.split() == ["a", "b", "3", "0"]
    assert not {"ast", "textwrap", "fusevm.lang.awk.parser"} & set(warm)


def test_run_reads_its_command_line_without_argparse(tmp_path: Path) -> None:
    # argparse's help formatter loads shutil, and shutil the bz2 and lzma extensions.
    prog = tmp_path / "add.fasm"
    prog.write_text("LoadInt 2\nLoadInt 3\nAdd\nPrintLn 1\n")
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    modules, out = loaded_after(code, tmp_path, "run", "--strict-int", str(prog))
    assert out.strip() == "5"
    assert not {"argparse", "shutil", "gettext", "locale"} & set(modules)



def test_sh_loads_arithmetic_test_and_redirections_with_the_first_script_using_them(
        tmp_path: Path) -> None:
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    lazy = {"fusevm.lang.sh.arith", "fusevm.lang.sh.arithcode", "fusevm.lang.sh.testcmd",
            "fusevm.shell.redirect", "fusevm.ops.shell_codes"}
    modules, _ = loaded_after(code, tmp_path, "sh", "-c", ":")
    assert not lazy & set(modules), lazy & set(modules)
    script = "i=3; echo $((i + 1)) $(($i * 2)) 2>/dev/null; [ 1 -lt 2 ] && echo y"
    modules, out = loaded_after(code, tmp_path, "sh", "-c", script)
    assert out.split() == ["4", "6", "y"] and lazy <= set(modules)


def test_sh_compound_commands_set_their_status_without_the_shell_op_handlers(
        tmp_path: Path) -> None:
    # `if` and loops set `$?` with the shell section's generic ops (`SetStatus`), whose
    # handlers load apart from the machinery of the shell ops (and its enums).
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    script = "for i in 1 2; do if false; then :; fi; done; echo $?; while false; do :; done"
    modules, out = loaded_after(code, tmp_path, "sh", "-c", script)
    assert out.split() == ["0"]
    assert "fusevm.interp.handlers.status" in modules
    assert not {"fusevm.interp.handlers.shell", "fusevm.ops.shell_codes"} & set(modules)


def test_sh_handles_its_signals_without_the_signal_module(tmp_path: Path) -> None:
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    modules, _ = loaded_after(code, tmp_path, "sh", "-c", "trap 'echo t' INT; kill -l >/dev/null")
    assert "signal" not in modules


@pytest.mark.parametrize("argv", [["awk", "BEGIN{}"], ["sh", "-c", ":"]])
def test_a_short_command_builds_the_rows_of_the_extension_ops_it_uses_only(
        tmp_path: Path, argv: list[str]) -> None:
    # fusevm's own sets are `deferred`: declaring an op records its text, and its row
    # (operands, effect, flags) is built when a chunk holding the op is prepared.
    code = ("from fusevm.cli import main\nassert main(ARGV) == 0\n"
            "from fusevm.ops.extension import registered_sets\n"
            "print(sum(len(s.ops) for s in registered_sets()), "
            "sorted(op.name for s in registered_sets() for op in s if op._spec is not None))")
    for _ in range(2):  # (awk: the compile cache cold, then warm)
        _, out = loaded_after(code, tmp_path, *argv)
    declared, built = out.split(" ", 1)
    assert int(declared) > 40
    assert ast.literal_eval(built) == (["AwkEnterEnd", "AwkInit", "AwkMark"]
                                       if argv[0] == "awk" else ["ShRun"])


def test_a_chunk_from_the_compile_cache_runs_without_the_verifier(tmp_path: Path) -> None:
    # It was verified when it was built: the verifier's module loads with the first chunk
    # it has to check.
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    cold, _ = loaded_after(code, tmp_path, "awk", "BEGIN { x = 1 }")
    warm, _ = loaded_after(code, tmp_path, "awk", "BEGIN { x = 1 }")
    assert "fusevm.verify" in cold and "fusevm.verify" not in warm


def test_sh_hashes_nothing_at_start_up(tmp_path: Path) -> None:
    # The op table's schema hash and a chunk's digest are made on first use (a cache key,
    # a serialized chunk, a baseline-compiled region): `sh -c :` asks for neither.
    code = "from fusevm.cli import main\nassert main(ARGV) == 0"
    modules, _ = loaded_after(code, tmp_path, "sh", "-c", ":")
    assert not {"fusevm.digests", "_blake2", "fusevm.serialize"} & set(modules)
    _, out = loaded_after("from fusevm.ops import SCHEMA_HASH\nprint(SCHEMA_HASH)", tmp_path)
    from fusevm.ops import SCHEMA_HASH
    assert out.strip() == SCHEMA_HASH and len(SCHEMA_HASH) == 16


def test_the_baseline_compiler_loads_its_loop_analyses_with_the_first_counted_loop(
        tmp_path: Path) -> None:
    # A recursive function without a loop compiles without `baseline.tripcount` and
    # `baseline.growth` (counted loops, the guards of versioned loops); a function with a
    # counted loop loads them.
    recursive = ("LoadInt {n}\nCall f 1\nJump end\n.sub f\nSetSlot 0\nGetSlot 0\nLoadInt 1\n"
                 "NumLe\nJumpIfFalse rec\nGetSlot 0\nReturnValue\nrec:\nGetSlot 0\nDec\n"
                 "Call f 1\nGetSlot 0\nLoadInt 2\nSub\nCall f 1\nAdd\nReturnValue\nend:\n")
    counted = ("LoadInt {n}\nCall f 1\nJump end\n.sub f\nSetSlot 0\nLoadInt 0\nSetSlot 1\n"
               "LoadInt 0\nSetSlot 2\ntop:\nGetSlot 2\nGetSlot 0\nNumLt\nJumpIfFalse done\n"
               "GetSlot 1\nGetSlot 2\nAdd\nSetSlot 1\nGetSlot 2\nLoadInt 1\nAdd\nSetSlot 2\n"
               "Jump top\ndone:\nGetSlot 1\nReturnValue\nend:\n")
    code = ("import os\nos.environ['FUSEVM_BASELINE'] = 'eager'\n"
            "from fusevm.asm import assemble\nfrom fusevm.interp.vm import VM\n"
            "vm = VM(assemble(ARGV[0].format(n=ARGV[1])))\nprint(vm.run(), "
            "'fusevm.baseline.compiler' in sys.modules)")
    for program, n, result, loads in ((recursive, "15", 610, False),
                                      (counted, "200", 19900, True)):
        modules, out = loaded_after(code, tmp_path, program, n)
        assert out.split() == [str(result), "True"]
        assert ("fusevm.baseline.growth" in modules) is loads
        assert ("fusevm.baseline.tripcount" in modules) is loads
