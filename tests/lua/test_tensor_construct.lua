-- nn.Tensor construction: nested and flat tables, filled tensors, random
-- tensors (reproducible under nn.seed), ranges, and the size queries.
local H = require "helper"
local T = H.test
local check, same, shape, f32, near = H.check, H.same, H.shape, H.f32, H.near

-- Nested tables, 1 to 4 dimensions.
T("Nested tables, 1 to 4 dimensions", function()
  local t = nn.tensor{{1, 2, 3}, {4, 5, 6}}
  check(t:dim() == 2 and t:numel() == 6 and #t == 2)
  shape(t, 2, 3)
  same(t, {{1, 2, 3}, {4, 5, 6}})

  local v = nn.tensor{1.5, -2, 3}
  check(v:dim() == 1 and #v == 3 and v:numel() == 3)
  same(v, {1.5, -2, 3})

  local c = nn.tensor{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}
  shape(c, 2, 2, 2)
  check(c:get(2, 1, 2) == 6 and c:get(1, 2, 1) == 3)

  local q = nn.tensor{{{{1, 2, 3}}}, {{{4, 5, 6}}}}
  shape(q, 2, 1, 1, 3)
  check(q:get(2, 1, 1, 3) == 6)

  -- Values are stored as float32.
  check(nn.tensor{0.1}[1] == f32(0.1) and nn.tensor{0.1}[1] ~= 0.1)
  -- Integers and floats mix.
  same(nn.tensor{1, 2.5, math.maxinteger // (1 << 40)}, {1, 2.5, f32(math.maxinteger // (1 << 40))})
  -- An empty table is a tensor with no elements.
  local e = nn.tensor{}
  shape(e, 0)
  check(e:numel() == 0 and #e == 0)
  shape(nn.tensor{{}, {}}, 2, 0)
end)

-- A flat table and a shape.
T("A flat table and a shape", function()
  local t = nn.tensor({1, 2, 3, 4, 5, 6}, {3, 2})
  same(t, {{1, 2}, {3, 4}, {5, 6}})
  local u = nn.tensor({1, 2, 3, 4, 5, 6}, {6})
  same(u, {1, 2, 3, 4, 5, 6})
  local w = nn.tensor({1, 2, 3, 4, 5, 6, 7, 8}, {2, 1, 2, 2})
  shape(w, 2, 1, 2, 2)
  check(w:get(2, 1, 1, 2) == 6)
  shape(nn.tensor({}, {0, 3}), 0, 3)
end)

-- Filled tensors: sizes as arguments or as one table.
T("Filled tensors: sizes as arguments or as one table", function()
  same(nn.zeros(2, 3), {{0, 0, 0}, {0, 0, 0}})
  same(nn.zeros({2, 3}), {{0, 0, 0}, {0, 0, 0}})
  same(nn.ones(3), {1, 1, 1})
  same(nn.ones({1, 2}), {{1, 1}})
  shape(nn.ones(1, 2, 3, 4), 1, 2, 3, 4)
  check(nn.ones(1, 2, 3, 4):sum() == 24)
  same(nn.full({2, 2}, 7), {{7, 7}, {7, 7}})
  same(nn.full({3}, -0.5), {-0.5, -0.5, -0.5})
  shape(nn.zeros(0, 3), 0, 3)
  -- Integral floats are accepted as sizes.
  shape(nn.zeros(2.0, 3.0), 2, 3)
end)

-- Random tensors: range, rough distribution, reproducibility.
T("Random tensors: range, rough distribution, reproducibility", function()
  nn.seed(42)
  local r = nn.rand(100, 100)
  shape(r, 100, 100)
  check(r:min() >= 0 and r:max() < 1, "rand outside [0,1)")
  near(r:mean(), 0.5, 0.02, "rand mean")
  nn.seed(42)
  local r2 = nn.rand({100, 100})
  check(H.eq(r:totable(), r2:totable()), "nn.seed does not reproduce nn.rand")
  nn.seed(43)
  check(not H.eq(nn.rand(10):totable(), nn.rand(10):totable()))
  nn.seed(43)
  local a = nn.rand(10):totable()
  nn.seed(44)
  check(not H.eq(a, nn.rand(10):totable()), "different seeds give the same numbers")

  nn.seed(1)
  local n = nn.randn(200, 100)
  local m = n:mean()
  near(m, 0, 0.02, "randn mean")
  local var = ((n - m) * (n - m)):mean()
  near(var, 1, 0.03, "randn variance")
  nn.seed(1)
  check(H.eq(n:totable(), nn.randn(200, 100):totable()), "nn.seed does not reproduce nn.randn")
end)

-- Ranges.
T("seeded streams: rand and randn interleaved replay exactly", function()
  local function draw()
    local a = nn.rand(3):totable()
    local b = nn.randn(2, 2):totable()
    local c = nn.rand({1, 5}):totable()
    return {a, b, c}
  end
  nn.seed(2024)
  local first = draw()
  nn.seed(2024)
  check(H.eq_table(draw(), first), "interleaved draws differ after the same seed")
  -- the stream moves on without a new seed
  check(not H.eq_table(draw(), first))
  -- randn has both signs and is not bounded to [0, 1)
  nn.seed(8)
  local n = nn.randn(1000)
  check(n:min() < -1 and n:max() > 1)
end)

T("values are rounded to float32 once", function()
  check(nn.tensor{123456789}[1] == 123456792)
  check(nn.full({1}, 0.1)[1] == f32(0.1))
  check(nn.tensor({1 / 3}, {1})[1] == f32(1 / 3))
  check(nn.tensor{1e39}[1] == math.huge and nn.tensor{-1e39}[1] == -math.huge)
end)

T("Ranges", function()
  same(nn.arange(5), {0, 1, 2, 3, 4})
  shape(nn.arange(0), 0)
  same(nn.linspace(0, 1, 5), {0, 0.25, 0.5, 0.75, 1})
  same(nn.linspace(1, 0, 3), {1, 0.5, 0})
  same(nn.linspace(2, 2, 1), {2})
  same(nn.linspace(-1, 1, 3), {-1, 0, 1})
  same(nn.eye(3), {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}})
  same(nn.eye(1), {{1}})
  shape(nn.eye(0), 0, 0)
  check(nn.eye(50):sum() == 50 and nn.eye(50):get(50, 50) == 1 and nn.eye(50):get(1, 50) == 0)
  check(H.close(nn.linspace(0, 1, 11), {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}, 1e-7))
  local l = nn.linspace(-3, 7, 101)
  check(l[1] == -3 and l[101] == 7 and l[51] == 2, "linspace hits its ends exactly")
  local ar = nn.arange(1000)
  check(ar[1] == 0 and ar[1000] == 999 and ar:sum() == 499500)
end)

-- Each constructor makes a new storage.
T("Each constructor makes a new storage", function()
  local a, b = nn.zeros(2), nn.zeros(2)
  a:set(1, 5)
  same(b, {0, 0})
  local src = {1, 2}
  local t = nn.tensor(src)
  src[1] = 9
  same(t, {1, 2})
end)

-- Lua-side helper from lua/00_tensor.lua.
T("t:size() from lua/00_tensor.lua", function()
  check(H.eq(nn.zeros(2, 3, 4):size(), {2, 3, 4}))
end)
H.done()
