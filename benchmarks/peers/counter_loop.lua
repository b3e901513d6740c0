dofile((arg[0]:match("(.*/)") or "./") .. "_timing.lua")
local function counter_loop(n)
  local i = 0
  repeat i = i + 1 until not (i < n)
  return i
end
bench_main("counter_loop", 100000, counter_loop)
