dofile((arg[0]:match("(.*/)") or "./") .. "_timing.lua")
local function slot_float(times)
  local x = 1
  for _ = 1, times do x = (x + 0.1) * 1.001 end
  return x
end
bench_main("slot_float", 200, function(t) return string.format("%.15g", slot_float(t)) end)
