-- Shared timing driver: bench_main(name, size, fn) times fn(size) with os.clock (CPU).
function bench_main(name, default_size, fn)
  local size = tonumber(arg[1] or default_size)
  local result
  for _ = 1, 3 do result = fn(size) end
  local t0 = os.clock(); fn(size); local one = math.max(os.clock() - t0, 1e-7)
  local inner = math.max(1, math.floor(0.02 / one))
  local samples = {}
  for r = 1, 7 do
    local s = os.clock()
    for _ = 1, inner do result = fn(size) end
    samples[r] = (os.clock() - s) / inner
  end
  table.sort(samples)
  print(string.format("%s %d %.9e %s", name, size, samples[4], tostring(result)))
end
