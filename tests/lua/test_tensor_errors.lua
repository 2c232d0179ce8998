-- Every misuse of nn.Tensor is a Lua error naming the function and the
-- shapes or values involved; none crashes. Ends with a sweep calling every
-- tensor function with assorted wrong arguments.
local H = require "helper"
local T = H.test
local check, checkerr, checkargerr = H.check, H.checkerr, H.checkargerr

-- nn.tensor: ragged, non-numeric, too deep, cyclic, wrong types, shapes.
T("nn.tensor: ragged tables and non-numeric entries", function()
  checkerr("nn.tensor: ragged nested table: row 2 has 3 elements, expected 2",
           nn.tensor, {{1, 2}, {3, 4, 5}})
  checkerr("nn.tensor: ragged nested table: row 2 has 1 elements, expected 2",
           nn.tensor, {{1, 2}, {3}})
  checkerr("nn.tensor: ragged nested table: row [1][2] has 1 elements, expected 2",
           nn.tensor, {{{1, 2}, {3}}})
  checkerr("nn.tensor: ragged nested table: row 2 is a number, expected a table",
           nn.tensor, {{1, 2}, 3})
  checkerr("nn.tensor: expected a number at [2], got string", nn.tensor, {1, "2"})
  checkerr("nn.tensor: expected a number at [2], got table", nn.tensor, {1, {2}})
  checkerr("nn.tensor: expected a number at [1][2], got boolean", nn.tensor, {{1, true}})
  checkerr("nn.tensor: expected a number at [2][1][1], got string",
           nn.tensor, {{{1}}, {{"x"}}})
  checkerr("nn.tensor: nested deeper than 8 levels", nn.tensor, {{{{{{{{{1}}}}}}}}})
end)
T("nn.tensor: nesting too deep, cyclic tables", function()
  local cyc = {}
  cyc[1] = cyc
  checkerr("nn.tensor: nested deeper than 8 levels", nn.tensor, cyc)
  -- a very deep chain is refused at depth 9, not followed
  local deep = {1}
  for _ = 1, 100000 do deep = {deep} end
  checkerr("nested deeper than 8 levels", nn.tensor, deep)
end)
T("nn.tensor: argument types, flat table and shape mismatches", function()
  checkargerr(1, "table expected, got number", nn.tensor, 5)
  checkargerr(1, "table expected, got no value", nn.tensor)
  checkerr("nn.tensor: 3 values do not fill shape [2x2]", nn.tensor, {1, 2, 3}, {2, 2})
  checkerr("nn.tensor: 2 values do not fill shape [100000x100000x100000]",
           nn.tensor, {1, 2}, {100000, 100000, 100000})
  checkerr("nn.tensor: 0 values do not fill shape [100000000000x100000000000]",
           nn.tensor, {}, {1e11, 1e11})
  checkerr("nn.tensor: expected a number at [3], got string", nn.tensor, {1, 2, "x", 4}, {2, 2})
  checkerr("nn.tensor: a shape needs 1 to 8 dimensions, got 0", nn.tensor, {1, 2}, {})
  checkerr("nn.tensor: a shape needs 1 to 8 dimensions, got 9", nn.tensor, {1, 2}, {1, 1, 1, 1, 1, 1, 1, 1, 2})
  checkerr("nn.tensor: dimension 2 must be a non-negative integer, got -2", nn.tensor, {1, 2}, {1, -2})
  checkargerr(2, "table expected, got number", nn.tensor, {1, 2}, 2)
end)

T("sizes: count, sign, fraction, enormous, type", function()
  -- Sizes: count, sign, fraction, enormous, type.
  checkerr("nn.zeros: needs 1 to 8 dimensions, got 0", nn.zeros)
  checkerr("nn.zeros: needs 1 to 8 dimensions, got 9", nn.zeros, 1, 2, 3, 4, 5, 6, 7, 8, 9)
  checkerr("nn.zeros: dimension 1 must be a non-negative integer, got -1", nn.zeros, -1)
  checkerr("nn.zeros: dimension 2 must be a non-negative integer, got 1.5", nn.zeros, 2, 1.5)
  checkerr("nn.zeros: dimension 2 must be a non-negative integer, got -3", nn.zeros, {2, -3})
  checkerr("nn.zeros: tensor: size 1000000 x 1000000 x 1000000 is too large",
           nn.zeros, 1e6, 1e6, 1e6)
  checkerr("nn.rand: tensor: size 1000000 x 1000000 x 1000000 is too large",
           nn.rand, 1e6, 1e6, 1e6)
  checkerr("nn.randn: tensor: size 1000000 x 1000000 x 1000000 is too large",
           nn.randn, {1e6, 1e6, 1e6})
  checkerr("nn.full: tensor: size 1000000 x 1000000 x 1000000 is too large",
           nn.full, {1e6, 1e6, 1e6}, 1)
  checkerr("nn.zeros: tensor: size 4294967296 x 4294967296 is too large", nn.zeros, 2^32, 2^32)
  checkerr("nn.zeros: tensor: size 1000000000000000 x 1000000000000000 is too large",
           nn.zeros, 1e15, 1e15)
  checkerr("nn.ones: tensor: size 1099511627776 is too large", nn.ones, 1 << 40)
  checkerr("nn.zeros: dimension 1 must be a non-negative integer, got 9.2233720368548e+18",
           nn.zeros, 2^63)
  checkerr("nn.ones: dimension 1 must be a non-negative integer, got a", nn.ones, "a")
  checkerr("nn.rand: dimension 1 must be a non-negative integer, got -2", nn.rand, -2)
  checkerr("nn.randn: dimension 1 must be a non-negative integer, got 0.5", nn.randn, 0.5)
  checkargerr(1, "table expected, got number", nn.full, 2, 3)
  checkargerr(2, "number expected, got string", nn.full, {2}, "x")
  checkerr("nn.full: dimension 1 must be a non-negative integer, got -1", nn.full, {-1}, 0)
  checkerr("nn.arange: count must be a non-negative integer, got -1", nn.arange, -1)
  checkerr("nn.arange: count must be a non-negative integer, got 1e+300", nn.arange, 1e300)
  checkerr("nn.linspace: count must be a non-negative integer, got -1", nn.linspace, 0, 1, -1)
  checkerr("nn.linspace: needs at least 1 point", nn.linspace, 0, 1, 0)
  checkargerr(1, "number expected, got string", nn.linspace, "a", 1, 2)
  checkerr("nn.eye: size must be a non-negative integer, got -3", nn.eye, -3)
  checkerr("nn.eye: tensor: size 10000000000 x 10000000000 is too large", nn.eye, 1e10)
end)

-- Indices: range, count, type, on get, set, t[i] and t[i] = v.
T("Indices: range, count, type, on get, set, t[i] and t[i] = v", function()
  local v, m = nn.ones(3), nn.ones(2, 3)
  checkerr("get: index 5 out of range for dimension 1 of [3]", v.get, v, 5)
  checkerr("get: index 0 out of range for dimension 1 of [3] (indices start at 1)", v.get, v, 0)
  checkerr("get: index -1 out of range for dimension 1 of [3]", v.get, v, -1)
  checkerr("get: index 4 out of range for dimension 2 of [2x3]", m.get, m, 1, 4)
  checkerr("get: 1 indices given for a tensor of shape [2x3] (needs 2)", m.get, m, 1)
  checkerr("get: 3 indices given for a tensor of shape [2x3] (needs 2)", m.get, m, 1, 1, 1)
  checkerr("get: index for dimension 2 must be an integer, got 1.5", m.get, m, 1, 1.5)
  checkerr("get: index for dimension 1 must be an integer, got x", m.get, m, "x", 1)
  checkerr("set: 1 indices given for a tensor of shape [2x3] (needs 2)", m.set, m, 1, 1)
  checkerr("set: needs indices and a value", m.set, m, 1)
  checkargerr(4, "number expected, got string", m.set, m, 1, 1, "x")
  checkerr("set: index 3 out of range for dimension 1 of [2x3]", m.set, m, 3, 1, 0)
  checkerr("t[i]: index 4 out of range for dimension 1 of size 3", function() return v[4] end)
  checkerr("t[i]: index 0 out of range for dimension 1 of size 3", function() return v[0] end)
  checkerr("t[i]: index 3 out of range for dimension 1 of size 2", function() return m[3] end)
  checkerr("t[i]: index for dimension 1 must be an integer, got 1.5",
           function() return v[1.5] end)
  checkerr("t[i]: index 4 out of range for dimension 1 of size 3", function() v[4] = 1 end)
  checkerr("t[k] = v: cannot set field 'x' (only integer indices)", function() v.x = 1 end)
  checkerr("t[i] = v: cannot assign shape [2] to a row of shape [3]",
           function() m[1] = nn.ones(2) end)
  checkerr("t[i] = v: cannot assign shape [3x1] to a row of shape [3]",
           function() m[1] = nn.ones(3, 1) end)
  checkerr("t[i] = v: cannot assign shape [2] to one element", function() v[1] = nn.ones(2) end)
  -- the same number of elements in another shape is refused too
  local c = nn.zeros(2, 2, 2)
  checkerr("t[i] = v: cannot assign shape [4] to a row of shape [2x2]",
           function() c[1] = nn.ones(4) end)
  checkerr("t[i] = v: cannot assign shape [1x4] to a row of shape [2x2]",
           function() c[2] = nn.ones(1, 4) end)
  check(c:sum() == 0)
  local closed = nn.ones(3)
  closed:close()
  checkerr("tensor is closed", function() m[1] = closed end)
  checkerr("t[i] = v: the value must be a number or nn.Tensor, got string",
           function() m[1] = "x" end)
  -- a failed write changed nothing
  check(v:sum() == 3 and m:sum() == 6)
end)

-- Views.
T("Views", function()
  local m = nn.ones(3, 2)
  checkerr("rows: rows 2..4 out of range for shape [3x2]", m.rows, m, 2, 4)
  checkerr("rows: rows 0..0 out of range for shape [3x2]", m.rows, m, 0)
  checkerr("rows: rows 3..1 out of range for shape [3x2]", m.rows, m, 3, 1)
  checkargerr(2, "number expected, got no value", m.rows, m)
  local t = nn.ones(2, 3)
  checkerr("reshape: cannot view shape [2x3] (6 elements) as [4x2]", t.reshape, t, 4, 2)
  checkerr("reshape: cannot infer -1 for 6 elements of shape [2x3]", t.reshape, t, 4, -1)
  checkerr("reshape: only one dimension may be -1", t.reshape, t, -1, -1)
  checkerr("reshape: dimension 1 must be a non-negative integer or -1", t.reshape, t, -2, 3)
  checkerr("reshape: dimension 1 must be a non-negative integer or -1", t.reshape, t, 0.5, 12)
  checkerr("reshape: needs 1 to 8 dimensions, got 0", t.reshape, t)
  checkerr("reshape: needs 1 to 8 dimensions, got 9", t.reshape, t, 1, 1, 1, 1, 1, 1, 1, 2, 3)
end)

-- Arithmetic: shapes that do not broadcast, values that are not numbers.
T("Arithmetic: shapes that do not broadcast, values that are not numbers", function()
  local a = nn.ones(2, 3)
  checkerr("add: shapes [2x3] and [3x2] do not broadcast", function() return a + nn.ones(3, 2) end)
  checkerr("mul: shapes [2x3] and [2] do not broadcast", function() return a * nn.ones(2) end)
  checkerr("sub: shapes [2] and [2x3] do not broadcast", function() return nn.ones(2) - a end)
  checkerr("div: shapes [2x3] and [2x3x1] do not broadcast",
           function() return a / nn.ones(2, 3, 1) end)
  checkerr("sub: cannot combine nn.Tensor with string", function() return a - "x" end)
  checkerr("div: cannot combine nn.Tensor with table", function() return {} / a end)
  checkerr("add: cannot combine nn.Tensor with boolean", function() return true + a end)
  checkerr("attempt to compare", function() return a < a end)
end)

-- matmul.
T("matmul", function()
  local a = nn.ones(2, 3)
  checkerr("matmul: shapes [2x3] and [2x3] do not match (3 != 2)", nn.matmul, a, a)
  checkerr("matmul: shapes [2x3] and [4] do not match", a.matmul, a, nn.ones(4))
  checkargerr(2, "nn.Tensor expected, got table", nn.matmul, a, {})
  checkargerr(1, "nn.Tensor expected, got table", nn.matmul, {}, a)
  checkerr("nn.Tensor expected", nn.matmul, {}, a)
  checkerr("nn.Tensor expected", nn.matmul, a)
  checkerr("nn.Tensor expected", nn.matmul, a, "x")
  checkargerr(1, "nn.Tensor expected, got number", nn.matmul, 1, a)
  checkerr("matmul: batch dimensions of [2x2x2] and [3x2x2] do not broadcast",
           nn.matmul, nn.ones(2, 2, 2), nn.ones(3, 2, 2))
end)

-- Reductions.
T("Reductions", function()
  local t = nn.ones(2, 3)
  checkerr("sum: dimension 3 out of range for shape [2x3]", t.sum, t, 3)
  checkerr("sum: dimension 0 out of range for shape [2x3]", t.sum, t, 0)
  checkerr("mean: dimension x out of range for shape [2x3]", t.mean, t, "x")
  checkerr("argmax: dimension 1.5 out of range for shape [2x3]", t.argmax, t, 1.5)
  checkerr("max: tensor is empty", nn.zeros(0).max, nn.zeros(0))
  checkerr("min: tensor is empty", nn.zeros(3, 0).min, nn.zeros(3, 0))
  checkerr("argmax: tensor is empty", nn.zeros(0).argmax, nn.zeros(0))
  checkerr("min: dimension 2 of shape [2x0] is empty", nn.zeros(2, 0).min, nn.zeros(2, 0), 2)
end)

-- map / apply: a non-number result, a non-function, errors inside f, f
-- closing the tensor under it.
T("map/apply: non-number results, non-functions, errors in f, f closing the tensor", function()
  local t = nn.tensor{1, 2, 3}
  checkerr("map: function returned string for element 1 (a number is needed)",
           t.map, t, function() return "x" end)
  checkerr("apply: function returned nil for element 3 (a number is needed)",
           t.apply, t, function(x) if x < 3 then return x end end)
  check(t:sum() == 6, "apply stops at the bad element, earlier ones are written")
  checkerr("map: function returned string for element 2",
           t.map, t, function(x) return x == 2 and "2" or x end)
  checkargerr(2, "function expected, got number", t.map, t, 5)
  checkerr("boom", t.map, t, function() error("boom") end)
  local u = nn.ones(3)
  checkerr("apply: the tensor was closed by the function",
           u.apply, u, function() u:close(); return 1 end)
  local w = nn.ones(3)
  checkerr("map: the tensor was closed by the function",
           w.map, w, function() w:close(); return 1 end)
end)

-- cat.
T("cat", function()
  checkerr("nn.cat: tensor 2 has shape [2x2], which does not match [2x3] along dimension 1",
           nn.cat, {nn.ones(2, 3), nn.ones(2, 2)}, 1)
  checkerr("nn.cat: tensor 2 has shape [3]", nn.cat, {nn.ones(2, 3), nn.ones(3)}, 1)
  checkerr("nn.cat: needs at least one tensor", nn.cat, {}, 1)
  checkerr("nn.cat: element 2 is number, not an nn.Tensor", nn.cat, {nn.ones(2), 5})
  checkerr("nn.cat: dimension 2 out of range for shape [2]", nn.cat, {nn.ones(2)}, 2)
  checkargerr(1, "table expected, got nn.Tensor", nn.cat, nn.ones(2))
  local closed = nn.ones(2)
  closed:close()
  checkerr("nn.cat: element 1 is a closed nn.Tensor", nn.cat, {closed})
  -- a list whose elements come from a metamethod, with a collection in between
  local lazy = setmetatable({}, {
    __len = function() return 3 end,
    __index = function(_, i) collectgarbage(); return nn.full({2}, i) end})
  H.same(nn.cat(lazy), {1, 1, 2, 2, 3, 3})
end)

-- Wrong self: methods check their first argument like luaL_checkudata.
T("tables with __len and __index metamethods are read through them, checked", function()
  local function proxy(n, get) return setmetatable({}, {__len = function() return n end,
                                                      __index = function(_, i) return get(i) end}) end
  H.same(nn.tensor(proxy(3, function(i) return i * 2 end)), {2, 4, 6})
  checkerr("nn.tensor: a table has length -5", nn.tensor, proxy(-5, tostring))
  checkerr("is too large", nn.tensor, proxy(1 << 62, tostring))
  checkerr("boom", nn.tensor, proxy(3, function(i) if i == 2 then error("boom") end return i end))
  -- a length beyond int range is not truncated into a small count
  local two = setmetatable({3, 4}, {__len = function() return (1 << 32) + 2 end})
  checkerr("nn.zeros: a shape needs 1 to 8 dimensions, got 4294967298", nn.zeros, two)
  checkerr("nn.tensor: a shape needs 1 to 8 dimensions, got 4294967298", nn.tensor, {1}, two)
  checkerr("reshape: needs 1 to 8 dimensions, got 4294967298", nn.ones(12).reshape, nn.ones(12), two)
  checkerr("reshape: needs 1 to 8 dimensions, got -1", nn.ones(12).reshape, nn.ones(12),
           setmetatable({}, {__len = function() return -1 end}))
  -- a row whose length changes between reads is ragged, not an overrun
  local n = 0
  local row = setmetatable({}, {__len = function() n = n + 1; return n end,
                                __index = function() return 1 end})
  checkerr("nn.tensor: ragged nested table: row 1 has 2 elements, expected 1", nn.tensor, {row, row})
end)

T("wrong self: methods check their first argument", function()
  checkargerr(1, "nn.Tensor expected, got table", nn.Tensor.shape, {})
  checkargerr(1, "nn.Tensor expected, got string", nn.Tensor.sum, "x")
  checkargerr(1, "nn.Tensor expected, got no value", nn.Tensor.get)
end)

-- Sweep: every tensor function with odd arguments fails cleanly or works.
T("Sweep: every tensor function with odd arguments fails cleanly or works", function()
  local odd = table.pack(nil, false, true, 0, -1, 1.5, 1e300, -1e300, 0/0, math.huge,
                         math.mininteger, math.maxinteger, "", "1", {}, {1}, {{}}, {-1},
                         math.abs, tostring, nn.ones(2), nn.zeros(0), nn.ones(2, 2),
                         coroutine.create(print))
  local nodd = odd.n
  local funcs = {}
  for name, f in pairs(nn.Tensor) do funcs[#funcs + 1] = {"t:" .. name, f} end
  for _, name in ipairs{"tensor", "zeros", "ones", "full", "rand", "randn", "arange",
                        "linspace", "eye", "matmul", "cat"} do
    funcs[#funcs + 1] = {"nn." .. name, nn[name]}
  end
  table.sort(funcs, function(x, y) return x[1] < y[1] end)
  local calls = 0
  for _, nf in ipairs(funcs) do
    local f = nf[2]
    for i = 1, nodd do
      for j = 1, nodd do
        local self = nn.ones(2, 2)
        pcall(f, odd[i], odd[j])
        pcall(f, self, odd[i], odd[j])
        pcall(f, self, 1, odd[i], odd[j])
        calls = calls + 3
      end
    end
  end
  check(calls > 1000)
  collectgarbage()
end)

H.done()
