-- nn.Tensor reductions (sum, mean, max, min, argmax; all elements or along
-- a 1-based dimension), map/apply with Lua functions, and nn.cat.
local H = require "helper"
local T = H.test
local check, same, shape, near, f32 = H.check, H.same, H.shape, H.near, H.f32

-- Whole-tensor reductions give numbers; argmax a 1-based flat index.
T("Whole-tensor reductions give numbers; argmax a 1-based flat index", function()
  local t = nn.tensor{{1, 5, 3}, {4, 2, 6}}
  check(t:sum() == 21 and t:mean() == 3.5)
  check(t:max() == 6 and t:min() == 1)
  check(t:argmax() == 6 and math.type(t:argmax()) == "integer")
  check(nn.tensor{{9, 1}, {2, 3}}:argmax() == 1)
  check(nn.tensor{3, 7, 7, 1}:argmax() == 2, "argmax takes the first maximum")
  check(nn.tensor{-3, -1, -2}:max() == -1 and nn.tensor{-3, -1, -2}:argmax() == 2)
  -- empty: sum is 0
  check(nn.zeros(0):sum() == 0)
end)

-- Along a dimension: a tensor with that dimension removed.
T("Along a dimension: a tensor with that dimension removed", function()
  local t = nn.tensor{{1, 5, 3}, {4, 2, 6}}
  same(t:sum(1), {5, 7, 9})
  same(t:sum(2), {9, 12})
  same(t:mean(1), {2.5, 3.5, 4.5})
  same(t:mean(2), {3, 4})
  same(t:max(1), {4, 5, 6})
  same(t:max(2), {5, 6})
  same(t:min(1), {1, 2, 3})
  same(t:min(2), {1, 2})
  same(t:argmax(1), {2, 1, 2})
  same(t:argmax(2), {2, 3})
  -- 1-D along its only dimension: shape {1}
  shape(nn.tensor{1, 2, 3}:sum(1), 1)
  same(nn.tensor{1, 2, 3}:sum(1), {6})
  same(nn.tensor{1, 9, 3}:argmax(1), {2})
  -- 3-D
  local c = nn.arange(24):reshape(2, 3, 4)
  shape(c:sum(2), 2, 4)
  same(c:sum(2), {{12, 15, 18, 21}, {48, 51, 54, 57}})
  same(c:max(3), {{3, 7, 11}, {15, 19, 23}})
  same(c:sum(1), {{12, 14, 16, 18}, {20, 22, 24, 26}, {28, 30, 32, 34}})
  same(c:argmax(1), {{2, 2, 2, 2}, {2, 2, 2, 2}, {2, 2, 2, 2}})
  -- nil dim is the same as none
  check(c:sum(nil) == 276)
end)

-- Sums accumulate accurately against a Lua sum of the same float32 values.
T("3-D and 4-D along every dimension, against sums computed in Lua", function()
  local c = nn.arange(24):reshape(2, 3, 4)
  same(c:mean(3), {{1.5, 5.5, 9.5}, {13.5, 17.5, 21.5}})
  same(c:min(2), {{0, 1, 2, 3}, {12, 13, 14, 15}})
  same(c:argmax(3), {{4, 4, 4}, {4, 4, 4}})
  same(c:argmax(2), {{3, 3, 3, 3}, {3, 3, 3, 3}})
  same((-c):argmax(2), {{1, 1, 1, 1}, {1, 1, 1, 1}})
  local q = nn.arange(16):reshape(2, 2, 2, 2)
  same(q:sum(4), {{{1, 5}, {9, 13}}, {{17, 21}, {25, 29}}})
  same(q:max(1), {{{8, 9}, {10, 11}}, {{12, 13}, {14, 15}}})
  shape(q:mean(2), 2, 2, 2)
  -- a random 3-D tensor: each reduction against a Lua loop over totable
  nn.seed(21)
  local r = nn.randn(3, 4, 5)
  local v = r:totable()
  local dims = {3, 4, 5}
  for d = 1, 3 do
    local s, mx, mn, am = r:sum(d):totable(), r:max(d):totable(), r:min(d):totable(),
                          r:argmax(d):totable()
    for i = 1, 3 do for j = 1, 4 do for k = 1, 5 do
      local idx = {i, j, k}
      if idx[d] == 1 then
        local acc, best, low, arg = 0, -math.huge, math.huge, 0
        for p = 1, dims[d] do
          idx[d] = p
          local x = v[idx[1]][idx[2]][idx[3]]
          acc = acc + x
          if x > best then best, arg = x, p end
          if x < low then low = x end
        end
        local o = {i, j, k}
        table.remove(o, d)
        near(s[o[1]][o[2]], acc, 1e-5, "sum dim " .. d)
        check(mx[o[1]][o[2]] == best and mn[o[1]][o[2]] == low, "max/min dim " .. d)
        check(am[o[1]][o[2]] == arg, "argmax dim " .. d)
      end
    end end end
  end
end)

T("ties, views and results that are new tensors", function()
  same(nn.tensor{{1, 1}, {2, 2}}:argmax(2), {1, 1})
  same(nn.tensor{{5, 5}, {5, 5}}:argmax(1), {1, 1})
  local t = nn.arange(12):reshape(4, 3)
  same(t:rows(2, 3):sum(1), {9, 11, 13})
  check(t[4]:sum() == 30 and t[4]:argmax() == 3)
  local s = t:sum(2)
  s[1] = 100
  check(t:get(1, 1) == 0, "a reduction does not share storage")
end)

T("Sums accumulate accurately against a Lua sum of the same float32 value", function()
  nn.seed(3)
  local r = nn.rand(1000, 7)
  local s = 0
  for _, row in ipairs(r:totable()) do for _, v in ipairs(row) do s = s + v end end
  near(r:sum(), s, 1e-6 * s, "sum")
  near(r:mean(), s / 7000, 1e-6, "mean")
  local cols = r:sum(1)
  local total = 0
  for j = 1, 7 do total = total + cols[j] end
  near(total, s, 1e-3, "column sums")
end)

-- map makes a new tensor; apply works in place and returns the tensor.
T("map makes a new tensor; apply works in place and returns the tensor", function()
  local t = nn.tensor{{1, 2}, {3, 4}}
  local sq = t:map(function(x) return x * x end)
  same(sq, {{1, 4}, {9, 16}})
  same(t, {{1, 2}, {3, 4}})
  local seen = {}
  t:map(function(x) seen[#seen + 1] = x; return 0 end)
  check(H.eq(seen, {1, 2, 3, 4}), "map visits elements in row-major order")
  check(t:apply(function(x) return x / 2 end) == t)
  same(t, {{0.5, 1}, {1.5, 2}})
  same(nn.tensor{0.3, 2.7}:map(math.floor), {0, 2})
  same(nn.zeros(2):map(function() return 0.1 end), {f32(0.1), f32(0.1)})
  -- apply on a view changes the parent
  local p = nn.zeros(2, 2)
  p[2]:apply(function() return 7 end)
  same(p, {{0, 0}, {7, 7}})
  -- empty tensors never call f
  shape(nn.zeros(0):map(function() error("called") end), 0)
end)

-- nn.cat along dimension 1 (default) and 2.
T("nn.cat along dimension 1 (default) and 2", function()
  local a = nn.tensor{{1, 2}, {3, 4}}
  local b = nn.tensor{{5, 6}}
  shape(nn.cat({a, b}), 3, 2)
  same(nn.cat({a, b}, 1), {{1, 2}, {3, 4}, {5, 6}})
  same(nn.cat({a, nn.tensor{{7}, {8}}, a}, 2), {{1, 2, 7, 1, 2}, {3, 4, 8, 3, 4}})
  same(nn.cat({nn.tensor{1, 2}, nn.tensor{3}, nn.zeros(0)}), {1, 2, 3})
  same(nn.cat({a}), {{1, 2}, {3, 4}})
  -- the result is a new tensor
  local c = nn.cat({a, b})
  c:set(1, 1, 100)
  check(a:get(1, 1) == 1)
  -- 3-D along the last dimension
  local x = nn.arange(4):reshape(1, 2, 2)
  same(nn.cat({x, x + 10}, 3), {{{0, 1, 10, 11}, {2, 3, 12, 13}}})
end)

H.done()
