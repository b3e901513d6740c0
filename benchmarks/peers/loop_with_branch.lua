dofile((arg[0]:match("(.*/)") or "./") .. "_timing.lua")
local function loop_with_branch(n)
  local i = 0
  repeat
    i = i + 1
    if i > 0 then end
  until not (i < n)
  return i
end
bench_main("loop_with_branch", 100000, loop_with_branch)
