-- nn.Tensor indexing and views: t[i], get/set, rows, reshape share storage
-- with the tensor they come from and outlive it; clone does not; totable;
-- closing and collecting.
local H = require "helper"
local T = H.test
local check, checkerr, same, shape = H.check, H.checkerr, H.same, H.shape

-- t[i]: a number for 1-D, a row view for more dimensions.
T("t[i]: a number for 1-D, a row view for more dimensions", function()
  local v = nn.tensor{10, 20, 30}
  check(v[1] == 10 and v[3] == 30 and math.type(v[2]) == "float")
  local t = nn.tensor{{1, 2, 3}, {4, 5, 6}}
  local row = t[2]
  shape(row, 3)
  same(row, {4, 5, 6})
  check(t[2][3] == 6)
  -- Writing through the view changes the parent, and the other way.
  row:set(1, 40)
  check(t:get(2, 1) == 40)
  t:set(2, 2, 50)
  check(row[2] == 50)
  -- 3-D: a 2-D view, then a 1-D view, then a number.
  local c = nn.tensor{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}
  shape(c[2], 2, 2)
  same(c[2][1], {5, 6})
  check(c[2][2][1] == 7)
  c[1][2]:set(2, -4)
  check(c:get(1, 2, 2) == -4)
end)

-- Views stay valid after the parent is closed or collected.
T("Views stay valid after the parent is closed or collected", function()
  local t = nn.tensor{{1, 2}, {3, 4}}
  local row = t[2]
  local r = t:rows(1, 1)
  local flat = t:reshape(4)
  t:close()
  t = nil
  collectgarbage(); collectgarbage()
  same(row, {3, 4})
  same(r, {{1, 2}})
  same(flat, {1, 2, 3, 4})
  -- and still share storage with each other
  row:set(1, 30)
  check(flat[3] == 30)
end)

-- t[i] = v: an element of 1-D, a row filled by a number or copied from a tensor.
T("t[i] = v: an element of 1-D, a row filled by a number or copied from a", function()
  local v = nn.zeros(3)
  v[2] = 5
  same(v, {0, 5, 0})
  local t = nn.zeros(2, 3)
  t[1] = 7
  same(t, {{7, 7, 7}, {0, 0, 0}})
  t[2] = nn.tensor{1, 2, 3}
  same(t, {{7, 7, 7}, {1, 2, 3}})
  t[1] = t[2]  -- overlapping storage is fine
  same(t, {{1, 2, 3}, {1, 2, 3}})
  -- a 1 x n tensor fills a row of n; a 1-element tensor one element
  t[2] = nn.tensor{{4, 5, 6}}
  same(t, {{1, 2, 3}, {4, 5, 6}})
  v[3] = nn.tensor{9}
  same(v, {0, 5, 9})
  -- 3-D: a row is a 2-D block
  local c = nn.zeros(2, 2, 2)
  c[2] = nn.tensor{{1, 2}, {3, 4}}
  c[1] = -1
  same(c, {{{-1, -1}, {-1, -1}}, {{1, 2}, {3, 4}}})
  c[1] = c[2]:reshape(1, 2, 2)
  same(c[1], {{1, 2}, {3, 4}})
  -- t[i] = v reads back through t[i] and get
  local m = nn.zeros(3, 2)
  for i = 1, 3 do m[i] = nn.tensor{i, -i} end
  same(m, {{1, -1}, {2, -2}, {3, -3}})
  check(m[3][2] == -3 and m:get(2, 1) == 2)
end)

-- get/set: one element, all dimensions given; set returns the tensor.
T("get/set: one element, all dimensions given; set returns the tensor", function()
  local t = nn.zeros(2, 3, 4)
  check(t:set(2, 3, 4, 9) == t)
  check(t:get(2, 3, 4) == 9)
  check(t:sum() == 9)
  -- row-major order: the last index moves fastest
  local f = nn.arange(24):reshape(2, 3, 4)
  check(f:get(1, 1, 2) == 1 and f:get(1, 2, 1) == 4 and f:get(2, 1, 1) == 12)
  check(f:get(2, 3, 4) == 23)
  local v = nn.zeros(4)
  v:set(4, 1.5):set(1, -1)
  same(v, {-1, 0, 0, 1.5})
end)

-- rows(a, b): a view of rows a..b; rows(a) is one row, still 2-D.
T("rows(a, b): a view of rows a..b; rows(a) is one row, still 2-D", function()
  local t = nn.arange(12):reshape(4, 3)
  local r = t:rows(2, 3)
  shape(r, 2, 3)
  same(r, {{3, 4, 5}, {6, 7, 8}})
  r:set(1, 1, 100)
  check(t:get(2, 1) == 100)
  shape(t:rows(4), 1, 3)
  same(t:rows(4), {{9, 10, 11}})
  shape(t:rows(3, 2), 0, 3)       -- an empty range
  same(nn.arange(5):rows(2, 4), {1, 2, 3})
end)

-- clone is a deep copy.
T("clone is a deep copy", function()
  local t = nn.tensor{{1, 2}, {3, 4}}
  local c = t:clone()
  c:set(1, 1, 10)
  check(t:get(1, 1) == 1)
  same(c, {{10, 2}, {3, 4}})
  local rc = t[2]:clone()
  rc:set(1, 0)
  check(t:get(2, 1) == 3)
end)

-- reshape: a view with a new shape; one dimension may be -1.
T("reshape: a view with a new shape; one dimension may be -1", function()
  local t = nn.arange(6)
  local m = t:reshape(2, 3)
  same(m, {{0, 1, 2}, {3, 4, 5}})
  same(t:reshape(3, -1), {{0, 1}, {2, 3}, {4, 5}})
  same(t:reshape({-1, 6}), {{0, 1, 2, 3, 4, 5}})
  shape(t:reshape(1, 2, 1, 3), 1, 2, 1, 3)
  m:set(2, 3, 50)
  check(t[6] == 50)
  same(m:reshape(-1), {0, 1, 2, 3, 4, 50})
  shape(nn.zeros(0, 4):reshape(-1, 2), 0, 2)
end)

-- totable gives fresh nested tables; nn.tensor(t:totable()) round-trips.
T("totable gives fresh nested tables; nn.tensor(t:totable()) round-trips", function()
  local t = nn.tensor{{1.5, 2}, {3, -4}}
  local tt = t:totable()
  check(H.eq(tt, {{1.5, 2}, {3, -4}}))
  tt[1][1] = 99
  check(t:get(1, 1) == 1.5)
  local q = nn.arange(24):reshape(2, 3, 2, 2)
  same(nn.tensor(q:totable()), q:totable())
  check(#nn.zeros(0):totable() == 0)
end)

-- Methods are looked up in nn.Tensor, which scripts may extend; other
-- fields are nil.
T("methods are looked up in nn.Tensor, other fields are nil", function()
  function nn.Tensor.twice(t) return t * 2 end
  same(nn.tensor{1, 2}:twice(), {2, 4})
  nn.Tensor.twice = nil
  local t = nn.ones(2)
  check(t.nosuch == nil and t.twice == nil)
  check(t.sum == nn.Tensor.sum)
end)

-- close: explicit, by <close>, twice, and __gc run by hand twice.
T("close: explicit, by <close>, twice, and __gc run by hand twice", function()
  local t = nn.ones(3)
  t:close()
  t:close()
  check(tostring(t) == "tensor(closed)")
  checkerr("tensor is closed", t.sum, t)
  checkerr("tensor is closed", function() return t[1] end)
  checkerr("tensor is closed", function() return t + 1 end)

  local kept
  do
    local c <close> = nn.ones(2)
    kept = c
    check(c:sum() == 2)
  end
  check(tostring(kept) == "tensor(closed)")

  local g = nn.ones(2)
  check(getmetatable(g).__name == "nn.Tensor")
  check(getmetatable(g).__gc == nil) -- protected: only the name shows
  local mt = debug.getmetatable(g)
  mt.__gc(g)
  mt.__gc(g)
  checkerr("tensor is closed", g.numel, g)
  -- many short-lived tensors and views are collected without trouble
  for i = 1, 2000 do local x = nn.rand(4, 4); local _ = x[2] + x:rows(1, 1) end
  collectgarbage(); collectgarbage()
end)

H.done()
