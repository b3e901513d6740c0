dofile((arg[0]:match("(.*/)") or "./") .. "_timing.lua")
local function branchy(n)
  local x, acc, i = 12345, 0, 0
  repeat
    x = (x * 75 + 74) % 65537
    if x % 2 == 1 then acc = acc + x else acc = acc - i end
    i = i + 1
  until not (i < n)
  return acc
end
bench_main("branchy", 100000, branchy)
