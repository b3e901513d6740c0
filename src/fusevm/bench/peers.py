"""Peer columns: the same algorithms in other runtimes (luajit, pypy3), each in a child process.

A peer is used only when its executable is on PATH; otherwise its column is shown as
missing, with the reason. For each workload the child loads the twin (`lua_twins.py`,
`twins.py`), makes one call and reports the clock it times with and the result (checked
here against the workload's expected value), then serves batches on request: the harness
writes a call count, the child makes that many back-to-back calls and answers with the
ns they took. The child waits, using no CPU, while the other columns take their turns, so
its batches interleave with theirs (`interleave.py`). Process start-up is never timed.
"""

from __future__ import annotations

import json
import math
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Final

from fusevm.bench.interleave import Session, Settings
from fusevm.bench.lua_twins import LUA_TWINS
from fusevm.bench.runners import NotApplicable, Runner
from fusevm.bench.workloads import Workload, describe

#: Longest wait for one answer from a peer (its first call, or one batch).
TIMEOUT_S: Final = 600.0

# -- LuaJIT ------------------------------------------------------------------------------

_LUA_PRELUDE: Final = """
local ffi = require("ffi")
local bit = require("bit")
local clock_id = tonumber(arg[1] or "1")  -- 1: CLOCK_MONOTONIC, 3: CLOCK_THREAD_CPUTIME_ID
local now, clock_name
do
  local ok = pcall(ffi.cdef, [[
    typedef struct { long tv_sec; long tv_nsec; } fusevm_timespec;
    int clock_gettime(int clock, fusevm_timespec *ts);
  ]])
  if ok and ffi.os == "Linux" then
    local ts = ffi.new("fusevm_timespec")
    now = function()
      ffi.C.clock_gettime(clock_id, ts)
      return tonumber(ts.tv_sec) * 1e9 + tonumber(ts.tv_nsec)
    end
    clock_name = clock_id == 3 and "clock_gettime(CLOCK_THREAD_CPUTIME_ID)"
                 or "clock_gettime(CLOCK_MONOTONIC)"
  else
    now = function() return os.clock() * 1e9 end
    clock_name = "os.clock() (process CPU time)"
  end
end
"""

# One line with the clock and the first result, then one answer per request line (a call
# count, then a stack depth that LuaJIT's stack has no use for); an empty line or the end
# of input ends it. `sink` is read after each batch so the calls' results are used.
_LUA_DRIVER: Final = """
local result = bench()
io.write(clock_name, "\\t", tostring(result), "\\n")
io.flush()
local sink = result
for line in io.lines() do
  local n = tonumber(line:match("^%s*(%d+)"))
  if not n then break end
  local t = now()
  for _ = 1, n do sink = bench() end
  local took = now() - t
  if sink ~= result then io.stderr:write("the result changed between calls\\n") end
  io.write(string.format("%.0f\\n", took))
  io.flush()
end
"""


def _lua_literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"no Lua literal for {value!r}")
    return repr(value)


def _peer_result_matches(text: str, expected: Any) -> bool:
    """Compare a peer's printed result with the expected value (strings: by length)."""
    text = text.strip().removesuffix("ULL").removesuffix("LL")
    try:
        if isinstance(expected, str):
            return int(float(text)) == len(expected)
        if isinstance(expected, float):
            return math.isclose(float(text), expected, rel_tol=1e-9)
        if isinstance(expected, int) and not isinstance(expected, bool):
            return int(text) == expected if text.lstrip("-").isdigit() else (
                float(text) == expected)
    except ValueError:
        return False
    return False


# -- The child process -------------------------------------------------------------------

class PeerError(Exception):
    """A peer process stopped answering, or answered something unreadable."""


class ChildSession(Session):
    """A peer process serving batches: see the module docstring for the protocol."""

    def __init__(self, cmd: list[str], workdir: tempfile.TemporaryDirectory[str] | None,
                 hello: Any) -> None:
        self._workdir = workdir
        self._stderr: IO[str] = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=self._stderr, text=True, bufsize=1)
        except BaseException:
            self._stderr.close()
            raise
        try:
            self.clock, self.result = hello(self._answer("its first call"))
        except BaseException:
            self.close()
            raise

    def _answer(self, what: str) -> str:
        out = self._proc.stdout
        assert out is not None
        ready, _, _ = select.select([out], [], [], TIMEOUT_S)
        if not ready:
            raise PeerError(f"no answer to {what} within {TIMEOUT_S:g} s")
        line = out.readline()
        if not line:
            code = self._proc.wait(timeout=TIMEOUT_S)
            self._stderr.seek(0)
            last = (self._stderr.read().strip().splitlines() or ["(no output)"])[-1]
            raise PeerError(f"exit {code} during {what}: {last}")
        return line.rstrip("\n")

    def check(self, w: Workload) -> str | None:
        if _peer_result_matches(self.result, w.expected):
            return None
        return f"printed {self.result[:60]!r}, expected {describe(w.expected)}"

    def batch(self, n: int, depth: int = 0) -> float:
        stdin = self._proc.stdin
        assert stdin is not None
        stdin.write(f"{n} {depth}\n")
        stdin.flush()
        answer = self._answer(f"a batch of {n} calls")
        try:
            return float(answer)
        except ValueError:
            raise PeerError(f"unreadable answer {answer[:60]!r}") from None

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                if self._proc.stdin is not None:
                    self._proc.stdin.close()  # the end of input ends the session
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()
        if self._workdir is not None:
            self._workdir.cleanup()


class SubprocessRunner(Runner):
    """A peer runtime: a child process per workload that serves timed batches."""

    kind = "peer"
    executable = ""

    def unavailable(self) -> str | None:
        if shutil.which(self.executable) is None:
            return f"{self.executable} is not installed (not on PATH)"
        return None


class LuaJitRunner(SubprocessRunner):
    """LuaJIT running the Lua twin of the workload."""

    name = "luajit"
    label = "luajit"
    executable = "luajit"
    description = "LuaJIT, same algorithm (the Lua twin in fusevm/bench/lua_twins.py)"

    def open(self, w: Workload, settings: Settings) -> Session:
        source = LUA_TWINS.get(w.twin or "")
        if source is None:
            raise NotApplicable("no Lua twin")
        args = ", ".join(_lua_literal(a) for a in w.twin_args)
        workdir = tempfile.TemporaryDirectory(prefix="fusevm-bench-")
        script = Path(workdir.name) / "bench.lua"
        script.write_text(f"{_LUA_PRELUDE}\n{source}\nlocal function bench() return "
                          f"{w.twin}({args}) end\n{_LUA_DRIVER}", encoding="utf-8")
        clock_id = "3" if settings.clock == "cpu" else "1"

        def hello(line: str) -> tuple[str, str]:
            clock, _, result = line.partition("\t")
            return f"{self.executable}: {clock}", result
        try:
            return ChildSession([self.executable, str(script), clock_id], workdir, hello)
        except BaseException:
            workdir.cleanup()
            raise


class PythonPeerRunner(SubprocessRunner):
    """Another Python (pypy3) running the plain-Python twin via `twins.py serve`."""

    def __init__(self, executable: str, name: str | None = None) -> None:
        self.executable = executable
        self.name = name or executable
        self.label = self.name
        self.description = f"{executable} running the plain-Python twin (twins.py)"

    def open(self, w: Workload, settings: Settings) -> Session:
        if w.twin is None:
            raise NotApplicable("no plain-Python twin")
        script = Path(__file__).with_name("twins.py")

        def hello(line: str) -> tuple[str, str]:
            data = json.loads(line)
            result = data["result"]
            text = str(len(result)) if isinstance(result, str) else repr(result)
            return f"{self.name}: {data['clock']}", text
        return ChildSession([self.executable, str(script), "serve", w.twin,
                             json.dumps(list(w.twin_args)), settings.clock], None, hello)


def peer_runners() -> list[Runner]:
    """The peers this harness knows (each shown as missing unless installed)."""
    return [PythonPeerRunner("pypy3", name="pypy"), LuaJitRunner()]


def self_peer() -> PythonPeerRunner:
    """This very interpreter as a subprocess peer (tests use it to check the peer path)."""
    return PythonPeerRunner(sys.executable, name="python-subprocess")
