dofile((arg[0]:match("(.*/)") or "./") .. "_timing.lua")
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
end
bench_main("collatz", 1500, collatz)
