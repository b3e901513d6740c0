"""The module pack (`fusevm.modpack`): modules served from it are the modules the import
system would have made, and a pack that is missing, stale, corrupt or replaced costs time,
never a wrong module.

Each test builds a small package of its own in a temporary directory, whose `__init__`
installs the pack's finder as fusevm's does, and imports it in fresh processes (the pack is
written at a process's exit). One test checks the fusevm package itself.
"""

from __future__ import annotations

import ast
import marshal
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fusevm import modpack

SRC = Path(__file__).resolve().parent.parent / "src"

#: Imports the package's modules and prints what the finder saw and what the modules are.
REPORT = """
import os, sys, inspect
import pk.a, pk.sub.b
from fusevm import modpack
f = modpack.finders.get("pk")
print(repr({
    "served": f.served if f else None,
    "missed": sorted(f.missed) if f else None,
    "checked": {p: (s, m) == (os.stat(p).st_size, os.stat(p).st_mtime_ns)
                for p, (s, m) in f.checked.items()} if f else None,
    "a": pk.a.VALUE, "b": pk.sub.b.VALUE,
    "files": [pk.a.__file__, pk.sub.__file__, pk.sub.b.__file__],
    "cached": [pk.a.__cached__, pk.sub.b.__cached__],
    "loader": type(pk.a.__loader__).__name__,
    "modules": [(type(m).__name__, m.__name__, m.__package__, m.__spec__.name,
                 m.__loader__ is m.__spec__.loader, hasattr(m, "__path__"))
                for m in (pk.a, pk.sub, pk.sub.b)],
    "path": list(pk.sub.__path__),
    "source": inspect.getsource(pk.a.twice),
    "co_filename": pk.a.twice.__code__.co_filename,
}))
"""


def make_package(root: Path) -> Path:
    pkg = root / "pk"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        "from fusevm import modpack\nmodpack.install(__name__, __path__[0])\n")
    (pkg / "a.py").write_text("VALUE = 'a1'\n\ndef twice(x):\n    return 2 * x\n")
    (pkg / "sub" / "__init__.py").write_text("from pk.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from pk.a import twice\nVALUE = twice(21)\n")
    return pkg


def run(root: Path, *, write: bool = True, extra_env: dict[str, str] | None = None,
        code: str = REPORT) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(SRC)])
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra_env or {})
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, cwd=root)
    assert proc.returncode == 0, proc.stderr
    return ast.literal_eval(proc.stdout.strip().splitlines()[-1])


def pack_of(pkg: Path) -> Path:
    path = modpack.pack_path(str(pkg))
    assert path is not None
    return Path(path)


def indexed_finder(pkg: Path) -> modpack.Finder:
    """A finder of `pkg`'s pack in this process, its index read (it writes no pack at this
    process's exit)."""
    finder = modpack.Finder("pk", str(pkg), str(pack_of(pkg)))
    finder.rewrite_pending = True
    finder.open()
    return finder


def test_a_pack_is_written_then_serves_the_same_modules(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    first = run(tmp_path)  # no pack yet: the import system imports, the pack is written
    assert first["served"] == 0
    assert first["missed"] == ["pk.a", "pk.sub", "pk.sub.b"]
    assert pack_of(pkg).exists()
    second = run(tmp_path)
    assert second["served"] == 3 and second["missed"] == []
    # What it checked of each source it served a module of (what the disk cache's
    # sources check reads instead of a stat: `jit/cache/sources.py`), as the file is.
    assert first["checked"] == {}
    assert second["checked"] == dict.fromkeys(second["files"], True)
    assert second["loader"] == "PackLoader" and first["loader"] == "SourceFileLoader"
    for key in ("a", "b", "files", "cached", "modules", "path", "source", "co_filename"):
        assert second[key] == first[key], key
    assert second["b"] == 42 and second["co_filename"] == str(pkg / "a.py")
    assert second["files"][1] == str(pkg / "sub" / "__init__.py")
    assert second["path"] == [str(pkg / "sub")]


def test_a_changed_module_is_imported_from_its_source(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    run(tmp_path)
    assert run(tmp_path)["served"] == 3
    (pkg / "a.py").write_text("VALUE = 'a2, longer'\n\ndef twice(x):\n    return x + x\n")
    changed = run(tmp_path)
    assert changed["a"] == "a2, longer" and "x + x" in changed["source"]
    assert changed["missed"] == ["pk.a"] and changed["served"] == 2
    again = run(tmp_path)  # the pack was written anew at the exit of the one before
    assert again["served"] == 3 and again["a"] == "a2, longer"


def test_a_new_module_is_found_and_then_packed(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    run(tmp_path)
    (pkg / "c.py").write_text("VALUE = 'c'\n")
    code = REPORT.replace("import pk.a, pk.sub.b", "import pk.a, pk.sub.b, pk.c")
    assert run(tmp_path, code=code)["missed"] == ["pk.c"]
    assert run(tmp_path, code=code)["served"] == 4


def test_probing_for_an_absent_module_is_no_miss(tmp_path: Path) -> None:
    make_package(tmp_path)
    run(tmp_path)
    code = REPORT.replace("import pk.a, pk.sub.b", "import pk.a, pk.sub.b\n"
                          "try:\n    import pk.nothing\nexcept ImportError:\n    pass")
    assert run(tmp_path, code=code)["missed"] == []


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong magic", "code garbled",
                                    "entries of another shape"])
def test_a_damaged_pack_is_ignored_and_replaced(tmp_path: Path, damage: str) -> None:
    pkg = make_package(tmp_path)
    run(tmp_path)
    pack = pack_of(pkg)
    data = pack.read_bytes()
    if damage == "truncated":
        pack.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        pack.write_bytes(os.urandom(len(data)))
    elif damage == "wrong magic":
        pack.write_bytes(b"X" + data[1:])
    elif damage == "code garbled":  # the index reads back, a module's code does not
        pack.write_bytes(data[:-40] + b"\xff" * 40)
    else:  # the index reads back, but its entries are not what this version writes
        index, _ = modpack.collect("pk", str(pkg))
        body = marshal.dumps({None: str(pkg), **{name: e[1:5] for name, e in index.items()}})
        pack.write_bytes(modpack.MAGIC + len(body).to_bytes(8, "little") + body)
    result = run(tmp_path)
    assert result["a"] == "a1" and result["b"] == 42 and result["missed"]
    assert run(tmp_path)["served"] == 3  # written anew at the exit of the one before


def test_a_pack_replaced_after_its_index_was_read_is_not_read(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    run(tmp_path)
    finder = indexed_finder(pkg)
    assert finder.index
    entry = finder.index["pk.a"]
    source = str(pkg / "a.py")
    assert finder.code("pk.a", entry, source) is not None
    time.sleep(0.01)
    index, chunks = modpack.collect("pk", str(pkg))
    assert modpack.write(str(pack_of(pkg)), str(pkg), index, chunks)  # a new file
    assert finder.code("pk.a", entry, source) is None  # the index read no longer describes it
    assert finder.missed == ["pk.a"]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))  # (the listing's own descriptor included)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_a_held_pack_is_read_through_one_descriptor_closed_at_release(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    run(tmp_path)
    finder = indexed_finder(pkg)
    before = _open_fds()
    finder.hold()
    assert _open_fds() == before  # (opened with the first module read, not before)
    loose = compile((pkg / "a.py").read_text(), str(pkg / "a.py"), "exec")
    for name in ("pk.a", "pk.sub.b", "pk.a"):
        code = finder.code(name, finder.index[name], str(pkg / "x.py"))
        assert code is not None
    assert finder.code("pk.a", finder.index["pk.a"], str(pkg / "a.py")).co_code == loose.co_code
    assert _open_fds() == before + 1 and finder.held is not None
    assert os.fstat(finder.held).st_ino == pack_of(pkg).stat().st_ino
    finder.release()
    assert _open_fds() == before and finder.held is None
    assert finder.code("pk.a", finder.index["pk.a"], str(pkg / "a.py")) is not None
    assert _open_fds() == before and finder.missed == []


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_holding_closes_what_it_opened_and_leaves_a_hold_taken_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Holding` (the baseline compiler's load) reads a batch of modules through one
    descriptor, closed at its end; inside a command's own hold it leaves that one be."""
    pkg = make_package(tmp_path)
    run(tmp_path)
    finder = indexed_finder(pkg)
    monkeypatch.setattr(modpack, "finders", {"pk": finder})
    before = _open_fds()
    with modpack.Holding():
        for name in ("pk.a", "pk.sub.b"):
            assert finder.code(name, finder.index[name], str(pkg / "x.py")) is not None
        assert _open_fds() == before + 1
    assert _open_fds() == before and finder.held is None
    finder.hold()
    assert finder.code("pk.a", finder.index["pk.a"], str(pkg / "a.py")) is not None
    held = finder.held
    with modpack.Holding():
        assert finder.code("pk.sub.b", finder.index["pk.sub.b"], str(pkg / "x.py")) is not None
    assert finder.held == held and _open_fds() == before + 1  # (still the command's)
    finder.release()
    assert _open_fds() == before


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_a_pinned_pack_serves_modules_with_no_descriptor(tmp_path: Path) -> None:
    """`pin` reads the pack once; its modules then load from memory, opening nothing."""
    pkg = make_package(tmp_path)
    run(tmp_path)
    finder = indexed_finder(pkg)
    before = _open_fds()
    finder.pin()
    finder.pin()  # (once: the second call reads nothing)
    assert _open_fds() == before and finder.pinned == pack_of(pkg).read_bytes()
    assert finder.pinned_sources == {}  # (the pack serves every module)
    pack_of(pkg).unlink()  # (nothing is read from the file any more)
    loose = compile((pkg / "a.py").read_text(), str(pkg / "a.py"), "exec")
    assert finder.code("pk.a", finder.index["pk.a"], str(pkg / "a.py")).co_code == loose.co_code
    assert finder.code("pk.sub.b", finder.index["pk.sub.b"], str(pkg / "x.py")) is not None
    assert finder.missed == [] and finder.served == 2 and _open_fds() == before


PINNED = """
import os, resource, sys
import pk
from fusevm import modpack
f = modpack.finders["pk"]
f.rewrite_pending = True  # (no pack written at exit)
f.pin()
resource.setrlimit(resource.RLIMIT_NOFILE, (3, 3))  # (no file can be opened now)
import pk.a, pk.sub.b
print(repr({"pinned": sorted(f.pinned_sources), "pack": f.pinned is not None,
            "b": pk.sub.b.VALUE, "loaders": ["pinned" if m.__loader__.source else "pack"
                                          for m in (pk.a, pk.sub, pk.sub.b)],
            "files": [pk.a.__file__, pk.sub.__file__]}))
"""


@pytest.mark.parametrize("pack", ["none", "stale", "current"])
def test_pinned_modules_load_after_the_last_descriptor(tmp_path: Path, pack: str) -> None:
    """What the pack does not serve (no pack yet, a changed module) `pin` reads from the
    sources: after the limit every module still loads, the same modules."""
    pkg = make_package(tmp_path)
    if pack != "none":
        run(tmp_path)
    if pack == "stale":
        time.sleep(0.01)
        (pkg / "a.py").write_text("VALUE = 'a2'\n\ndef twice(x):\n    return x + x\n")
    result = run(tmp_path, code=PINNED)
    assert result["b"] == 42 and result["pack"] == (pack != "none")
    assert result["files"] == [str(pkg / "a.py"), str(pkg / "sub" / "__init__.py")]
    assert result["pinned"] == {"none": ["pk.a", "pk.sub", "pk.sub.b"], "stale": ["pk.a"],
                                "current": []}[pack]
    assert result["loaders"][0] == ("pinned" if pack != "current" else "pack")
    assert set(result["loaders"][1:]) == {"pinned" if pack == "none" else "pack"}


def test_a_shell_loads_its_modules_after_a_descriptor_limit() -> None:
    """After `ulimit -n 3` no file can be opened: the next line's compile and run still
    load what they need (arithmetic, patterns, printf), from the pack `ulimit` read into
    memory; the substitution that needs a descriptor ends the script, as in dash."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(SRC)
    script = ("ulimit -n 3\necho $((6 * 7)); case ab in a*) echo m;; esac; "
              "printf '%s|%5.2f\\n' p 2.5; x=$(echo y)\necho end")
    for _ in range(3):  # (the first processes may write .pyc files and the pack)
        proc = subprocess.run([sys.executable, "-m", "fusevm", "sh", "-c", script],
                              capture_output=True, text=True, env=env, timeout=120)
    assert proc.stdout == "42\nm\np| 2.50\n"
    assert proc.stderr == "sh: 2: cannot create pipe: Too many open files\n"
    assert proc.returncode == 2


def test_a_pack_replaced_before_a_held_read_is_not_read(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    run(tmp_path)
    finder = indexed_finder(pkg)
    finder.hold()
    time.sleep(0.01)
    index, chunks = modpack.collect("pk", str(pkg))
    assert modpack.write(str(pack_of(pkg)), str(pkg), index, chunks)  # a new file
    assert finder.code("pk.a", finder.index["pk.a"], str(pkg / "a.py")) is None
    assert finder.missed == ["pk.a"] and finder.held is None  # (read as if not held)


def test_a_command_closes_the_pack_before_the_program_runs() -> None:
    """`fusevm sh` holds fusevm's pack while it loads and never lets a script see it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(SRC)
    script = "ls -l /proc/$$/fd/ | grep -c modules || true"
    for _ in range(3):  # (the first processes may write .pyc files and the pack)
        proc = subprocess.run([sys.executable, "-m", "fusevm", "sh", "-c", script],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"


def test_nothing_is_written_where_pyc_files_are_not(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    result = run(tmp_path, write=False)
    assert result["served"] == 0 and not pack_of(pkg).exists()


def test_off_leaves_every_import_to_the_import_system(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    run(tmp_path)
    assert pack_of(pkg).exists()
    result = run(tmp_path, extra_env={"FUSEVM_MODULE_PACK": "off"})
    assert result["served"] is None and result["loader"] == "SourceFileLoader"


def test_a_module_that_fails_leaves_no_half_module(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    (pkg / "bad.py").write_text("VALUE = 1\nraise RuntimeError('bad module')\n")
    code = ("import pk\ntry:\n    import pk.bad\nexcept RuntimeError as e:\n    print(repr(e))\n"
            "import sys\nprint(repr('pk.bad' in sys.modules))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(SRC)])
    for _ in range(2):  # the second time from the pack
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=120)
        assert proc.stdout.splitlines() == ["RuntimeError('bad module')", "False"]


def test_fusevm_itself_is_served_from_its_pack() -> None:
    """After one process has written fusevm's pack, a fresh process imports the VM and
    awk's modules from it, all of them when the tree's .pyc files are current."""
    pack = modpack.pack_path(str(SRC / "fusevm"))
    assert pack is not None
    if not os.access(os.path.dirname(pack), os.W_OK):
        pytest.skip("the package's __pycache__ is read-only here")
    code = ("import fusevm.interp.vm, fusevm.lang.awk.main\nfrom fusevm import modpack\n"
            "f = modpack.finders['fusevm']\nprint(repr((f.served, f.missed)))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(SRC)
    for _ in range(3):  # (a first process may write .pyc files, a second the pack)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        served, missed = ast.literal_eval(proc.stdout.strip())
        if not missed:
            break
    assert missed == [] and served > 40


def test_processes_racing_to_write_the_pack_leave_one_good_pack(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    run(tmp_path)
    (pkg / "a.py").write_text("VALUE = 'raced'\n\ndef twice(x):\n    return x * 2\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(SRC)])
    procs = [subprocess.Popen([sys.executable, "-c", REPORT], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
             for _ in range(6)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert ast.literal_eval(out.strip().splitlines()[-1])["a"] == "raced"
    after = run(tmp_path)
    assert after["served"] == 3 and after["a"] == "raced"
    leftovers = [p.name for p in pack_of(pkg).parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
