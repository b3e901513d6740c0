"""The command-line process's start and end (fusevm.entry), each in a fresh process.

The collector is paused while a command loads and back on when the program runs; the
fast exit keeps every observable effect of the usual one: output flushed, the status,
`atexit` callbacks and non-daemon threads honoured.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fusevm import entry

SRC = Path(__file__).resolve().parent.parent / "src"


def run(code: str, *argv: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "FUSEVM_JIT_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                          text=True, env=env, timeout=120)


ENTRY = "import sys\nsys.argv[0] = 'fusevm'\nfrom fusevm.cli import entry\nentry()\n"


def test_output_is_flushed_and_the_status_kept(tmp_path: Path) -> None:
    proc = run(ENTRY, "awk", 'BEGIN { printf "no newline"; exit 3 }', cache=tmp_path)
    assert (proc.stdout, proc.returncode) == ("no newline", 3)
    proc = run(ENTRY, "sh", "-c", "printf 'a\\n'; echo err >&2; exit 4", cache=tmp_path)
    assert (proc.stdout, proc.stderr, proc.returncode) == ("a\n", "err\n", 4)


def test_atexit_callbacks_and_threads_still_run(tmp_path: Path) -> None:
    code = ("import atexit\natexit.register(print, 'atexit ran')\n" + ENTRY)
    proc = run(code, "awk", "BEGIN { print 1 }", cache=tmp_path)
    assert proc.stdout.split("\n") == ["1", "atexit ran", ""]
    code = ("import threading, time\n"
            "def late():\n    time.sleep(0.2)\n    print('thread done', flush=True)\n"
            "threading.Thread(target=late).start()\n" + ENTRY)
    proc = run(code, "sh", "-c", "echo 1", cache=tmp_path)
    assert sorted(proc.stdout.split("\n")) == ["", "1", "thread done"]  # waited for it


def test_the_collector_runs_during_the_program(tmp_path: Path) -> None:
    # A frontend's program (here a builtin frontend's main, replaced) sees the collector
    # on, with what the command loaded frozen.
    code = ("import gc, sys\nimport fusevm.lang.awk.main as m\n"
            "def main(argv):\n"
            "    print(gc.isenabled(), gc.get_freeze_count() > 0)\n    return 0\n"
            "m.main = main\n" + ENTRY)
    proc = run(code, "awk", "BEGIN{}", cache=tmp_path)
    assert proc.stdout.split() == ["True", "True"], proc.stderr


def test_what_a_kept_pause_made_leaves_the_young_generations_unwalked(tmp_path: Path) -> None:
    # Loading the baseline compiler mid-run: its objects go to the oldest generation, and
    # a cycle made before is still collected by a full collection. Where an entry point
    # froze what it loaded, nothing more is frozen (the program's objects would be): the
    # objects stay where the collector looks, and a cycle made then is collected.
    code = ("import gc, weakref\nfrom fusevm.entry import NoCycleCollection\n"
            "class C: pass\n"
            "c = C(); c.me = c; before = weakref.ref(c); del c\n"
            "with NoCycleCollection(kept=True):\n"
            "    made = [[k] for k in range(1000)]\n"
            "print(gc.get_count()[0] < 10, gc.get_freeze_count(),\n"
            "      any(o is made for o in gc.get_objects(2)))\n"
            "gc.collect()\n"
            "print(before() is None)\n"
            "gc.freeze()\n"
            "frozen = gc.get_freeze_count()\n"
            "with NoCycleCollection(kept=True):\n"
            "    c = C(); c.me = c; during = weakref.ref(c); del c\n"
            "    more = [[k] for k in range(1000)]\n"
            "print(gc.get_freeze_count() == frozen, any(o is more for o in gc.get_objects(2)))\n"
            "gc.collect()\n"
            "print(during() is None)\n")
    proc = run(code, cache=tmp_path)
    assert proc.stdout.split() == ["True", "0", "True", "True", "True", "False", "True"], \
        proc.stderr


def test_python_m_entry_points_exit_the_same_way(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "FUSEVM_JIT_CACHE_DIR": str(tmp_path)}
    for argv, out, status in (
            (["-m", "fusevm.awk", 'BEGIN { printf "x"; exit 2 }'], "x", 2),
            (["-m", "fusevm.sh", "-c", "printf y; exit 5"], "y", 5),
            (["-m", "fusevm", "awk", 'BEGIN { printf "z" }'], "z", 0)):
        proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                              env=env, timeout=120)
        assert (proc.stdout, proc.returncode) == (out, status), proc.stderr


def test_a_closed_pipe_still_exits_quietly(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "FUSEVM_JIT_CACHE_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "fusevm", "awk",
                             "BEGIN { for (i = 0; i < 100000; i++) print i }"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err


def test_ctrl_c_stops_a_running_program_with_status_130(tmp_path: Path) -> None:
    import signal
    import time
    env = {**os.environ, "PYTHONPATH": str(SRC), "FUSEVM_JIT_CACHE_DIR": str(tmp_path)}
    prog = tmp_path / "spin.fasm"
    prog.write_text("LoadInt 0\nSetSlot 0\ntop:\nPreIncSlotVoid 0\nJump top\n")
    for argv in (["awk", "BEGIN { while (1) x++ }"], ["run", str(prog)]):
        proc = subprocess.Popen([sys.executable, "-m", "fusevm", *argv], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.0)  # loaded and looping
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (argv, err)


def closed(fd: int, *argv: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """The CLI (`fusevm ARGV`) started with standard fd `fd` closed."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "FUSEVM_JIT_CACHE_DIR": str(cache)}
    return subprocess.run(["/bin/sh", "-c", f'exec "$@" {fd}<&-', "sh", sys.executable, "-c",
                           ENTRY, *argv], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=env, timeout=120)


def test_a_closed_standard_stream_is_a_closed_fd_not_a_crash(tmp_path: Path) -> None:
    """A command started with stdout or stdin closed runs as usual when it does not use
    it, and reports a read or write there as the error it is (no traceback)."""
    proc = closed(1, "sh", "-c", "echo to-stderr >&2; x=$(echo sub); echo $x >&2",
                  cache=tmp_path)
    assert (proc.stderr, proc.returncode) == ("to-stderr\nsub\n", 0)
    proc = closed(1, "awk", 'BEGIN { print "x" > "/dev/stderr"; exit 3 }', cache=tmp_path)
    assert (proc.stderr, proc.returncode) == ("x\n", 3)
    proc = closed(1, "awk", 'BEGIN { print "x" }', cache=tmp_path)
    assert proc.returncode == 1 and "Bad file descriptor" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = closed(0, "sh", "-c", "/bin/echo a b | /bin/cat; echo c | cat", cache=tmp_path)
    assert (proc.stdout, proc.returncode) == ("a b\nc\n", 0)
    # a background job's /dev/null, opened onto the closed fd 0, is the job's stdin
    proc = closed(0, "sh", "-c", "/bin/cat & wait $!; echo \"st $?\"", cache=tmp_path)
    assert (proc.stdout, proc.stderr, proc.returncode) == ("st 0\n", "", 0)
    proc = closed(0, "awk", "{ print }", cache=tmp_path)
    assert proc.returncode == 2 and "Bad file descriptor" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("started, before, after", [
    (b"PATH=/bin\0", {"LC_CTYPE": "C.UTF-8"}, {}),  # none named: CPython's own, dropped
    (b"LC_CTYPE=C\0", {"LC_CTYPE": "C.UTF-8"}, {"LC_CTYPE": "C"}),
    (b"LC_CTYPE=POSIX\0", {"LC_CTYPE": "C.utf8"}, {"LC_CTYPE": "POSIX"}),
    (b"LC_CTYPE=C.UTF-8\0", {"LC_CTYPE": "C.UTF-8"}, {"LC_CTYPE": "C.UTF-8"}),  # the user's
    (b"", {"LC_ALL": "C", "LC_CTYPE": "C.UTF-8"}, {"LC_ALL": "C", "LC_CTYPE": "C.UTF-8"}),
    (b"", {"LC_CTYPE": "en_US.UTF-8"}, {"LC_CTYPE": "en_US.UTF-8"}),  # no coercion
    (None, {"LC_CTYPE": "C.UTF-8"}, {"LC_CTYPE": "C.UTF-8"}),  # unreadable: left alone
])
def test_the_locale_cpython_coerced_is_put_back_in_the_environment(
        tmp_path: Path, started: bytes | None, before: dict[str, str],
        after: dict[str, str]) -> None:
    path = tmp_path / "environ"
    if started is not None:
        path.write_bytes(started)
    environ = dict(before)
    entry.restore_locale_environment(environ, str(path))
    assert environ == after


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="Linux's /proc")
def test_a_command_started_in_the_c_locale_keeps_it(tmp_path: Path) -> None:
    # (CPython says LC_CTYPE=C.UTF-8 in its environment: a script would see it, and `?`
    # would match a character, not a byte)
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LANG", "LC_CTYPE")}
    (tmp_path / "_\xb5_").write_text("")
    for extra, shown in (({"LC_CTYPE": "C"}, "C\n_?_\n"), ({}, "unset\n_?_\n")):
        out = subprocess.run(
            [sys.executable, "-m", "fusevm.sh", "-c",
             'echo "${LC_CTYPE-unset}"; echo _?_'], cwd=tmp_path, capture_output=True,
            env={**env, **extra, "PYTHONPATH": str(SRC)}, check=True).stdout.decode()
        assert out == shown
