"""The Lua twins of the benchmark workloads, for the luajit peer (`peers.LuaJitRunner`).

Each is the workload's algorithm as a local Lua function named after its twin (the name
`twins.TWINS` uses for the Python one), taking the same arguments. `bit` and `ffi` are in
scope. Lua numbers are doubles: where the VM's 64-bit Int can wrap, the twin computes in
`int64_t` cdata (slot_mixed); elsewhere the values stay far below 2^53 at the harness's
sizes, as the comments say.
"""

from __future__ import annotations

from typing import Final

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
    "float_globals": """
local function float_globals(n)
  fg_s, fg_i = 0.0, 0.0  -- globals, as the workload's are
  while fg_i < n do fg_s = fg_i * 0.5 + fg_s; fg_i = fg_i + 1.0 end
  return fg_s
end""",
    "word_count": """
local words = {}
local function word_count(n)
  if #words ~= n then
    words = {}
    for i = 0, n - 1 do words[i + 1] = "w" .. (i * 37 % 100) end
  end
  local counts = {}
  for _, w in ipairs(words) do counts[w] = (counts[w] or 0) + 1 end
  return counts["w7"]
end""",
    "string_concat": """
local function string_concat(n)
  local s, i = "", 0
  while i < n do s = s .. tostring(i % 10); i = i + 1 end
  return #s
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
    "xor_mix": """
-- i*3 stays below 2^31 (bit ops are 32-bit) and the sum below 2^53 at the harness's size.
local function xor_mix(n)
  local sum, i = 0, 0
  repeat
    sum = sum + bit.bxor(i * 3, bit.rshift(i, 1))
    i = i + 1
  until not (i < n)
  return sum
end""",
    "branchy": """
local function branchy(n)
  local x, acc, i = 12345, 0, 0
  repeat
    x = (x * 75 + 74) % 65537
    if x % 2 == 1 then acc = acc + x else acc = acc - i end
    i = i + 1
  until not (i < n)
  return acc
end""",
    "nested": """
local function nested(n, m)
  local sum, i = 0, 0
  repeat
    local j = 0
    repeat
      sum = sum + bit.bxor(i * j, i + j)
      j = j + 1
    until not (j < m)
    i = i + 1
  until not (i < n)
  return sum
end""",
    "collatz": """
local function collatz(k)
  local total, start = 0, 1
  repeat
    local n = start
    while n ~= 1 do
      if n % 2 == 1 then n = 3 * n + 1 else n = n / 2 end
      total = total + 1
    end
    start = start + 1
  until not (start < k + 1)
  return total
end""",
}
