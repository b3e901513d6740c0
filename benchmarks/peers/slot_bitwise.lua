dofile((arg[0]:match("(.*/)") or "./") .. "_timing.lua")
local bit = require("bit")
local band, lshift, bxor = bit.band, bit.lshift, bit.bxor
local function slot_bitwise(times)
  local x = 0xDEADBEEF
  for _ = 1, times do x = bxor(lshift(band(x, 0xFF), 3), 0x1234) end
  return x
end
bench_main("slot_bitwise", 200, slot_bitwise)
