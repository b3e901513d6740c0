dofile((arg[0]:match("(.*/)") or "./") .. "_timing.lua")
local bit = require("bit")
local bxor, rshift = bit.bxor, bit.rshift
-- i*3 and the sum stay far below 2^53 (and i*3 below 2^31) at the benchmark's sizes.
local function xor_mix(n)
  local sum, i = 0, 0
  repeat
    sum = sum + bxor(i * 3, rshift(i, 1))
    i = i + 1
  until not (i < n)
  return sum
end
bench_main("xor_mix", 100000, xor_mix)
