"""Peer runners: the same algorithms in other runtimes (luajit, pypy3), run as subprocesses.

Each peer is used only when its executable is on PATH. The peer times itself with the
same method as `timing.measure` (calibrate, batches of back-to-back calls, median of
repetitions) and prints its timing and the result it computed, which is checked here
against the workload's expected value. Process start-up is outside the timing.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Final

from fusevm.bench.runners import NotApplicable, Result, Runner, Settings
from fusevm.bench.timing import Timing
from fusevm.bench.workloads import Workload, describe

TIMEOUT_S: Final = 600.0

# -- LuaJIT ------------------------------------------------------------------------------

_LUA_PRELUDE: Final = """
local ffi = require("ffi")
local bit = require("bit")
local clock_id = tonumber(arg[3] or "1")  -- 1: CLOCK_MONOTONIC, 3: CLOCK_THREAD_CPUTIME_ID
local now
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
  else
    now = function() return os.clock() * 1e9 end
  end
end
"""

_LUA_DRIVER: Final = """
local target_ns, min_reps = tonumber(arg[1]) * 1e9, tonumber(arg[2])
local result = bench()
local t0 = now(); bench(); local first = math.max(now() - t0, 1)
local inner = math.max(1, math.min(100000, math.floor(1e6 / first)))
local reps = math.max(min_reps, math.min(2000, math.floor(target_ns / (first * inner))))
local samples = {}
if inner == 1 then samples[1] = first end
local sink
while #samples < reps do
  local t = now()
  for _ = 1, inner do sink = bench() end
  samples[#samples + 1] = (now() - t) / inner
end
table.sort(samples)
local m = #samples
local median
if m % 2 == 1 then median = samples[(m + 1) / 2]
else median = (samples[m / 2] + samples[m / 2 + 1]) / 2 end
io.write(string.format("%.3f %.3f %.3f %d %d\\n", median, samples[1], samples[m], m, inner))
io.write(tostring(result), "\\n")
"""

#: Lua twins by twin name: a function of that name taking the twin's arguments. String
#: results are returned as their length (Lua strings are bytes; the check compares lengths).
LUA_TWINS: Final[dict[str, str]] = {
    "counter_loop": """
local function counter_loop(n)
  local i = 0
  repeat i = i + 1 until not (i < n)
  return i
end""",
    "loop_with_branch": """
local function loop_with_branch(n)
  local i = 0
  repeat
    i = i + 1
    if i > 0 then end
  until not (i < n)
  return i
end""",
    "fib_iterative": """
local function fib_iterative(n)
  local a, b, i = 0, 1, n
  while not (i <= 0) do
    local t = a + b
    a = b; b = t; i = i - 1
  end
  return a
end""",
    "fib_recursive": """
local function fib_recursive(n)
  if n <= 1 then return n end
  return fib_recursive(n - 1) + fib_recursive(n - 2)
end""",
    "ackermann": """
local function ackermann(m, n)
  if m == 0 then return n + 1 end
  if n == 0 then return ackermann(m - 1, 1) end
  return ackermann(m - 1, ackermann(m, n - 1))
end""",
    "sum_loop": """
local function sum_loop(limit)
  local total, i = 0, 0
  repeat total = total + i; i = i + 1 until not (i < limit)
  return total
end""",
    "nested_loop": """
local function nested_loop(n)
  local total, i = 0, 0
  repeat
    local j = 0
    repeat total = total + (i + j); j = j + 1 until not (j < n)
    i = i + 1
  until not (i < n)
  return total
end""",
    "empty_loop": """
local function empty_loop(n)
  for _ = 1, n do end
  return 0
end""",
    "string_build": """
local function string_build(n)
  local s, i = "x", 0
  while i < n do s = s .. "x"; i = i + 1 end
  return #s
end""",
    "array_push": """
local function array_push(n)
  local a, i = {}, 0
  while i < n do a[#a + 1] = i; i = i + 1 end
  return #a
end""",
    "slot_mixed": """
local function slot_mixed(x)
  local v = 0LL + x  -- int64 cdata: wrapping arithmetic like the VM's Int
  for _ = 1, 100 do v = v * 3 + 7 - 2 end
  return v
end""",
    "slot_bitwise": """
local function slot_bitwise(x)
  for _ = 1, 200 do x = bit.bxor(bit.lshift(bit.band(x, 0xFF), 3), 0x1234) end
  return x
end""",
    "slot_float": """
local function slot_float(x)
  for _ = 1, 200 do x = (x + 0.1) * 1.001 end
  return x
end""",
}


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


class SubprocessRunner(Runner):
    """A peer runtime: runs a self-timing program per workload in a child process."""

    kind = "peer"
    executable = ""

    def unavailable(self) -> str | None:
        if shutil.which(self.executable) is None:
            return f"{self.executable} is not on PATH"
        return None

    def command(self, w: Workload, settings: Settings, workdir: Path) -> list[str]:
        """The command that times workload `w` (raise NotApplicable when there is none)."""
        raise NotImplementedError

    def parse(self, stdout: str) -> tuple[Timing, str]:
        """The timing and the printed result from the child's output."""
        raise NotImplementedError

    def run(self, w: Workload, settings: Settings, seen: dict[Hashable, str]) -> Result:
        with tempfile.TemporaryDirectory(prefix="fusevm-bench-") as tmp:
            try:
                cmd = self.command(w, settings, Path(tmp))
            except NotApplicable as e:
                return Result(self.name, "n/a", note=str(e))
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                                      check=False)
            except (OSError, subprocess.TimeoutExpired) as e:
                return Result(self.name, "error", note=f"{type(e).__name__}: {e}")
        if proc.returncode != 0:
            err = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            return Result(self.name, "error", note=f"exit {proc.returncode}: {err}")
        try:
            timing, result = self.parse(proc.stdout)
        except (ValueError, IndexError, KeyError) as e:
            return Result(self.name, "error", note=f"unreadable output ({e})")
        if not _peer_result_matches(result, w.expected):
            return Result(self.name, "wrong", note=f"printed {result[:60]!r}, expected "
                                                   f"{describe(w.expected)}")
        return Result(self.name, "ok", timing)


class LuaJitRunner(SubprocessRunner):
    """LuaJIT running the Lua twin of the workload."""

    name = "luajit"
    label = "luajit"
    executable = "luajit"
    description = "LuaJIT, same algorithm (Lua twin in fusevm/bench/peers.py), measured here"

    def command(self, w: Workload, settings: Settings, workdir: Path) -> list[str]:
        source = LUA_TWINS.get(w.twin or "")
        if source is None:
            raise NotApplicable("no Lua twin")
        args = ", ".join(_lua_literal(a) for a in w.twin_args)
        script = workdir / "bench.lua"
        script.write_text(f"{_LUA_PRELUDE}\n{source}\nlocal function bench() return "
                          f"{w.twin}({args}) end\n{_LUA_DRIVER}", encoding="utf-8")
        clock_id = "3" if settings.clock == "cpu" else "1"
        return [self.executable, str(script), repr(settings.target_s), str(settings.min_reps),
                clock_id]

    def parse(self, stdout: str) -> tuple[Timing, str]:
        first, result = stdout.splitlines()[:2]
        median, low, high, reps, inner = first.split()
        return Timing(float(median), float(low), float(high), int(reps), int(inner)), result


class PythonPeerRunner(SubprocessRunner):
    """Another Python (pypy3) running the plain-Python twin via `twins.py` as a script."""

    kind = "peer"

    def __init__(self, executable: str, name: str | None = None) -> None:
        self.executable = executable
        self.name = name or executable
        self.label = self.name
        self.description = f"{executable} running the plain-Python twin (twins.py), measured here"

    def command(self, w: Workload, settings: Settings, workdir: Path) -> list[str]:
        if w.twin is None:
            raise NotApplicable("no plain-Python twin")
        script = Path(__file__).with_name("twins.py")
        return [self.executable, str(script), w.twin, json.dumps(list(w.twin_args)),
                repr(settings.target_s), str(settings.min_reps), settings.clock]

    def parse(self, stdout: str) -> tuple[Timing, str]:
        data = json.loads(stdout.strip().splitlines()[-1])
        timing = Timing(float(data["median_ns"]), float(data["min_ns"]),
                        float(data["max_ns"]), int(data["reps"]), int(data["inner"]))
        result = data["result"]
        return timing, str(len(result)) if isinstance(result, str) else repr(result)


def peer_runners() -> list[Runner]:
    """The peers this harness knows (each unavailable unless installed)."""
    return [LuaJitRunner(), PythonPeerRunner("pypy3")]


def self_peer() -> PythonPeerRunner:
    """This very interpreter as a subprocess peer (tests use it to check the peer path)."""
    return PythonPeerRunner(sys.executable, name="python-subprocess")
