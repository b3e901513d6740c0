dofile((arg[0]:match("(.*/)") or "./") .. "_timing.lua")
local ffi = require("ffi")
-- int64_t cdata wraps like fusevm's Int.
local function slot_mixed(times)
  local x = ffi.new("int64_t", 42)
  for _ = 1, times do x = x * 3 + 7 - 2 end
  return x
end
bench_main("slot_mixed", 100, function(t) return tostring(slot_mixed(t)):gsub("LL", "") end)
