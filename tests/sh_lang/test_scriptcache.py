"""A long script's commands kept in the disk cache (`fusevm.lang.sh.scriptcache`): a later
run takes them instead of parsing and compiling, and always runs what the text means."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fusevm.lang.sh.main  # noqa: F401  - registers the op handlers and builtins
import fusevm.lang.sh.runtime as runtime
from fusevm import loops
from fusevm.jit import cache
from fusevm.jit.cache import frontend
from fusevm.jit.cache.store import decode
from fusevm.lang.sh import scriptcache
from fusevm.lang.sh.errors import ShExit
from fusevm.lang.sh.state import new_state

from .conftest import counting_compiles

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _padding(n: int) -> str:
    """Enough plain commands to make a script long enough to be kept."""
    return "".join(f"v{i}=$((v{i - 1} + {i}))\n" if i else "v0=0\n" for i in range(n))


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    cache.set_dir(tmp_path / "cache")
    yield tmp_path / "cache"
    cache.set_dir(None)


def _run(text: str, capfd: pytest.CaptureFixture[str]) -> tuple[str, int, int]:
    """(stdout, status, commands compiled) of `run_text(text, cache=True)` in a new shell."""
    with counting_compiles() as compiled:
        s = new_state()
        try:
            status = runtime.run_text(s, text, cache=True)
        except ShExit as e:
            status = e.status
    out, err = capfd.readouterr()
    assert "internal error" not in err
    return out, status, len(compiled)


def _entries(d: Path) -> list[Path]:
    return sorted(d.glob("*.script.fjit"))


def test_second_run_takes_every_command(store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    text = _padding(400) + 'f() { echo "f $1 $v399"; }\nf one\ncase $v3 in 6) echo six;; esac\n'
    assert len(text) >= scriptcache.MIN_BYTES and len(_padding(300)) >= scriptcache.MIN_BYTES
    first = _run(text, capfd)
    assert first[:2] == (f"f one {sum(range(400))}\nsix\n", 0)
    assert first[2] == 403
    assert len(_entries(store)) == 1
    second = _run(text, capfd)
    assert second == (first[0], 0, 0)


def test_a_short_script_is_not_kept(store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert _run("echo hi\n", capfd)[:2] == ("hi\n", 0)
    assert not store.exists() or not _entries(store)


def test_commands_after_an_alias_are_parsed_with_it(
        store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    text = _padding(300) + "alias say='echo said'\nsay hi\nunalias say\necho done\n"
    first = _run(text, capfd)
    assert first[:2] == ("said hi\ndone\n", 0)
    second = _run(text, capfd)
    # The commands up to the alias's definition come from the cache, the rest are parsed.
    assert second[:2] == first[:2]
    assert second[2] == 3


def test_a_run_that_goes_further_keeps_the_longer_list(
        store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = store.parent / "flag"
    text = (_padding(300) + f'[ -e {path} ] || exit 3\necho past\n' + _padding(10)
            + "echo end\n")
    assert _run(text, capfd)[:2] == ("", 3)
    path.write_text("")
    second = _run(text, capfd)
    assert second[:2] == ("past\nend\n", 0)
    assert second[2] == 12  # (only those past the exit)
    assert _run(text, capfd) == ("past\nend\n", 0, 0)


def test_verbose_and_noexec_read_the_text(store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    text = _padding(300) + "set -v\necho a\nset +v\necho b\n"
    first = _run(text, capfd)
    second = _run(text, capfd)
    assert first[:2] == second[:2] == ("a\nb\n", 0)
    assert second[2] == 3  # `set +v`, `echo b` and `set -v`'s text is printed again


def test_an_entry_that_does_not_fit_is_compiled_again(
        store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    text = _padding(300) + "echo ok\n"
    first = _run(text, capfd)
    key = frontend.chunk_list_key("sh", ("script", text))
    pairs = frontend.load_chunk_list(cache.STORE, key)
    assert pairs is not None and len(pairs) == 301
    # Every place shifted by one character: the first no longer starts where the text does.
    bad = [((a + 1, b + 1, c), frontend.chunk_tree(ch)) for (a, b, c), ch in pairs]
    assert frontend.store_chunk_list(cache.STORE, key, "sh", bad) == 301
    assert _run(text, capfd) == (first[0], 0, 301)
    # Malformed data (a place that is not three numbers) is a miss.
    frontend.store_chunk_list(cache.STORE, key, "sh",
                              [("x", frontend.chunk_tree(ch)) for _, ch in pairs])
    assert _run(text, capfd) == (first[0], 0, 301)
    assert _run(text, capfd) == (first[0], 0, 0)


def test_a_syntax_error_still_comes_after_the_commands_before_it(
        store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    text = _padding(300) + "echo before\nif then\n"
    for _ in range(2):
        out, status, _ = _run(text, capfd)
        assert (out, status) == ("before\n", 2)


def test_script_files_through_the_command_line(tmp_path: Path) -> None:
    script = tmp_path / "long.sh"
    script.write_text(_padding(300) + 'echo "$v299 $0"\n')
    env = dict(os.environ, PYTHONPATH=SRC, FUSEVM_JIT_CACHE_DIR=str(tmp_path / "c"))
    outs = [subprocess.run([sys.executable, "-m", "fusevm.sh", str(script)], env=env,
                           capture_output=True, timeout=120) for _ in range(2)]
    assert [(p.stdout, p.returncode) for p in outs] == \
        [(f"{sum(range(300))} {script}\n".encode(), 0)] * 2
    assert len(_entries(tmp_path / "c")) == 1
    off = subprocess.run([sys.executable, "-m", "fusevm.sh", str(script)],
                         env=dict(env, FUSEVM_JIT_CACHE_DIR="off"), capture_output=True,
                         timeout=120)
    assert off.stdout == outs[0].stdout


def test_loop_facts_come_with_the_commands(store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A kept command's loop facts (worked out for its run) are read back with it, equal
    to what the chunk gives when worked out again; facts that do not fit are a reject."""
    text = _padding(300) + "i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; echo $i\n"
    assert _run(text, capfd)[:2] == ("3\n", 0)
    key = frontend.chunk_list_key("sh", ("script", text))
    pairs = frontend.load_chunk_list(cache.STORE, key)
    assert pairs is not None and len(pairs) == 301
    for _, chunk in pairs:
        kept = chunk.derived.pop(loops._FACTS)
        assert loops.loop_facts(chunk) == kept
    assert loops.loop_facts(pairs[-1][1]).back_edges  # (the loop's)
    trees = [(place, frontend.chunk_tree(ch)) for place, ch in pairs]
    broken = [(place, tree[:-1] + ((tree[-1][0][:-1], *tree[-1][1:]),))
              for place, tree in trees]
    frontend.store_chunk_list(cache.STORE, key, "sh", broken)
    rejects = cache.stats()["rejects"]
    assert frontend.load_chunk_list(cache.STORE, key) is None
    assert cache.stats()["rejects"] == rejects + 1
    with pytest.raises(ValueError):
        loops.adopt_facts(pairs[0][1], ("not", "facts"))


def test_a_script_ending_in_exec_keeps_its_commands(tmp_path: Path) -> None:
    """`exec` replaces the shell by a program: what the script compiled is written first."""
    script = tmp_path / "wrapper.sh"
    script.write_text(_padding(300) + 'exec /bin/echo "$v299"\n')
    env = dict(os.environ, PYTHONPATH=SRC, FUSEVM_JIT_CACHE_DIR=str(tmp_path / "c"))
    p = subprocess.run([sys.executable, "-m", "fusevm.sh", str(script)], env=env,
                       capture_output=True, timeout=120)
    assert (p.stdout, p.returncode) == (f"{sum(range(300))}\n".encode(), 0)
    # The entry read as the file it is (its key holds the extension sets registered in
    # the process that wrote it, which this test process has more of).
    (entry,) = _entries(tmp_path / "c")
    data = entry.read_bytes()
    found = decode(data, "script", data[20:52])
    assert not isinstance(found, str)
    _, offset, length = found
    body = data[offset:offset + length]
    assert body[:1] == b"M" and len(marshal.loads(body[1:])) == 301


def test_a_file_dot_reads_keeps_its_commands(store: Path,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    """A long file `.` reads (a library of functions) is kept like a script file: the next
    run takes its commands; `return` in it ends it, as it does when parsed."""
    lib = store.parent / "lib.sh"
    lib.write_text(_padding(300) + 'greet() { echo "hi $1 $v299"; }\nreturn 4\necho no\n')
    text = f". {lib}\necho \"st $?\"\ngreet you\n"
    first = _run(text, capfd)
    assert first[:2] == (f"st 4\nhi you {sum(range(300))}\n", 0)
    assert first[2] == 305
    assert _run(text, capfd) == (first[0], 0, 3)


def test_a_short_library_is_kept_a_shorter_one_is_not(
        store: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A file `.` reads is kept from `MIN_DOT_BYTES` on (a script file from `MIN_BYTES`):
    a test framework sources dozens of small libraries in each of its processes."""
    small = store.parent / "small.sh"
    small.write_text(_padding(60))
    tiny = store.parent / "tiny.sh"
    tiny.write_text("t=1\n")
    assert scriptcache.MIN_DOT_BYTES <= len(small.read_text()) < scriptcache.MIN_BYTES
    text = f". {small}\n. {tiny}\necho \"$v59 $t\"\n"
    first = _run(text, capfd)
    assert first[:2] == (f"{sum(range(60))} 1\n", 0)
    assert first[2] == 60 + 1 + 3
    # (the script's three: the tiny file's command is remembered from the first run,
    # which was another shell's; it runs in this one)
    assert _run(text, capfd) == (first[0], 0, 3)
