dofile((arg[0]:match("(.*/)") or "./") .. "_timing.lua")
local bit = require("bit")
local bxor = bit.bxor
local function nested(n)
  local sum, i = 0, 0
  repeat
    local j = 0
    repeat
      sum = sum + bxor(i * j, i + j)
      j = j + 1
    until not (j < n)
    i = i + 1
  until not (i < n)
  return sum
end
bench_main("nested", 316, nested)
