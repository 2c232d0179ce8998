-- nn.Tensor shapes, slicing and joins: t, transpose, permute, narrow,
-- select, index, t[{...}] read and assignment, squeeze, unsqueeze, flatten,
-- view, split, chunk, copy_, nn.cat and nn.stack. Values are checked
-- against loops over t:get; views must share storage where API.md says so
-- and copies must not; every error path is checked, as is the tape.
local H = require "helper"
local T = H.test
local check, checkerr, same, shape = H.check, H.checkerr, H.same, H.shape

-- A tensor of the given shape whose element at flat (row-major) position
-- p holds p (1-based), so every element says where it came from.
local function seq(...)
  local dims, n = {...}, 1
  for _, d in ipairs(dims) do n = n * d end
  local flat = {}
  for i = 1, n do flat[i] = i end
  return nn.tensor(flat, dims)
end

-- Calls f(idx) for every multi-index (a table) of the given shape.
local function each(dims, f)
  local idx = {}
  for i = 1, #dims do idx[i] = 1 end
  local total = 1
  for _, d in ipairs(dims) do total = total * d end
  for _ = 1, total do
    f(idx)
    for i = #dims, 1, -1 do
      idx[i] = idx[i] + 1
      if idx[i] <= dims[i] then break end
      idx[i] = 1
    end
  end
end

-- Whether a and b share storage: writing into a shows in b.
local function shares(a, b, ai, bi)
  local old = a:get(table.unpack(ai))
  local args = {table.unpack(ai)}
  args[#args + 1] = -12345
  a:set(table.unpack(args))
  local s = b:get(table.unpack(bi)) == -12345
  args[#args] = old
  a:set(table.unpack(args))
  return s
end

T("t and transpose: values by loop, copies", function()
  local m = seq(3, 5)
  local mt = m:t()
  shape(mt, 5, 3)
  each({5, 3}, function(i) check(mt:get(i[1], i[2]) == m:get(i[2], i[1])) end)
  check(not shares(mt, m, {1, 2}, {2, 1}), "t() is a copy")
  local v = nn.tensor{1, 2, 3}
  same(v:t(), {1, 2, 3})
  local c = seq(2, 3, 4)
  local tr = c:transpose(1, 3)
  shape(tr, 4, 3, 2)
  each({4, 3, 2}, function(i) check(tr:get(i[1], i[2], i[3]) == c:get(i[3], i[2], i[1])) end)
  local tn = c:transpose(-1, -2)
  shape(tn, 2, 4, 3)
  each({2, 4, 3}, function(i) check(tn:get(i[1], i[2], i[3]) == c:get(i[1], i[3], i[2])) end)
  -- large enough for the tiled, threaded path
  local big = seq(130, 70)
  local bt = big:t()
  for _, p in ipairs{{1, 1}, {70, 130}, {33, 65}, {69, 2}} do
    check(bt:get(p[1], p[2]) == big:get(p[2], p[1]))
  end
end)

T("permute: every order of 3 dimensions", function()
  local c = seq(2, 3, 4)
  local perms = {{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}}
  for _, p in ipairs(perms) do
    local y = c:permute(table.unpack(p))
    local dims = {c:shape()}
    shape(y, dims[p[1]], dims[p[2]], dims[p[3]])
    each({y:shape()}, function(i)
      local src = {}
      for k = 1, 3 do src[p[k]] = i[k] end
      check(y:get(i[1], i[2], i[3]) == c:get(src[1], src[2], src[3]))
    end)
  end
  same(c:permute{3, 1, 2}, c:permute(3, 1, 2):totable())
  shape(c:permute(-1, 1, 2), 4, 2, 3)
end)

T("narrow: a view of dimension 1, a copy of the others", function()
  local c = seq(4, 6, 5)
  local n1 = c:narrow(1, 2, 2)
  shape(n1, 2, 6, 5)
  check(shares(n1, c, {1, 1, 1}, {2, 1, 1}), "narrow of dim 1 is a view")
  local n2 = c:narrow(2, 3, 3)
  shape(n2, 4, 3, 5)
  each({4, 3, 5}, function(i) check(n2:get(i[1], i[2], i[3]) == c:get(i[1], i[2] + 2, i[3])) end)
  check(not shares(n2, c, {1, 1, 1}, {1, 3, 1}), "narrow of dim 2 is a copy")
  local n3 = c:narrow(-1, -2, 2)  -- the last two of the last dimension
  each({4, 6, 2}, function(i) check(n3:get(i[1], i[2], i[3]) == c:get(i[1], i[2], i[3] + 3)) end)
  shape(c:narrow(2, 7, 0), 4, 0, 5)
end)

T("select: any dimension; a view of the first, a number of 1-D", function()
  local c = seq(3, 4, 2)
  local s1 = c:select(1, 2)
  shape(s1, 4, 2)
  check(shares(s1, c, {1, 1}, {2, 1, 1}))
  local s2 = c:select(2, -1)
  shape(s2, 3, 2)
  each({3, 2}, function(i) check(s2:get(i[1], i[2]) == c:get(i[1], 4, i[2])) end)
  check(not shares(s2, c, {1, 1}, {1, 4, 1}))
  local s3 = c:select(3, 1)
  each({3, 4}, function(i) check(s3:get(i[1], i[2]) == c:get(i[1], i[2], 1)) end)
  check(nn.tensor{5, 6, 7}:select(1, 3) == 7)
end)

T("index: by a table or a tensor, repeats allowed, a copy", function()
  local c = seq(3, 4)
  local y = c:index(2, {4, 1, 4})
  shape(y, 3, 3)
  local want = {4, 1, 4}
  each({3, 3}, function(i) check(y:get(i[1], i[2]) == c:get(i[1], want[i[2]])) end)
  same(c:index(1, nn.tensor{3, 1}), {{9, 10, 11, 12}, {1, 2, 3, 4}})
  same(c:index(1, {-1}), {{9, 10, 11, 12}})
  check(not shares(y, c, {1, 2}, {1, 1}))
  shape(c:index(2, {}), 3, 0)
end)

T("t[{...}]: ranges, indices, {i}, {}, fewer entries, negatives", function()
  local c = seq(4, 5, 3)
  local a = c[{{2, 3}, 4, {}}]
  shape(a, 2, 3)
  each({2, 3}, function(i) check(a:get(i[1], i[2]) == c:get(i[1] + 1, 4, i[2])) end)
  local b = c[{{1}, {-2, -1}}]  -- {1} keeps a dimension of size 1
  shape(b, 1, 2, 3)
  each({1, 2, 3}, function(i) check(b:get(i[1], i[2], i[3]) == c:get(1, i[2] + 3, i[3])) end)
  check(c[{2, 3, 1}] == c:get(2, 3, 1), "every dimension an index: a number")
  local r = c[{-1}]
  shape(r, 5, 3)
  same(r, c[4]:totable())
  shape(c[{}], 4, 5, 3)
  shape(c[{{}, {}, {2, 1}}], 4, 5, 0)  -- an empty range
  -- views: only the first dimension restricted; copies otherwise
  local v = c[{{2, 3}}]
  check(shares(v, c, {1, 1, 1}, {2, 1, 1}), "a range of dim 1 is a view")
  check(shares(c[{2}], c, {1, 1}, {2, 1, 1}), "an index of dim 1 is a view")
  check(not shares(a, c, {1, 1}, {2, 4, 1}), "a restricted later dim gives a copy")
end)

T("t[{...}] = v: a number, a broadcast tensor, an overlapping source", function()
  local m = nn.zeros(3, 4)
  m[{{}, 2}] = 7
  same(m, {{0, 7, 0, 0}, {0, 7, 0, 0}, {0, 7, 0, 0}})
  m[{{2, 3}, {3, 4}}] = nn.tensor{1, 2}  -- a row broadcast over 2 rows
  same(m, {{0, 7, 0, 0}, {0, 7, 1, 2}, {0, 7, 1, 2}})
  m[{{}, {1}}] = nn.tensor{{-1}, {-2}, {-3}}
  same(m, {{-1, 7, 0, 0}, {-2, 7, 1, 2}, {-3, 7, 1, 2}})
  m[{1, 4}] = 9
  check(m:get(1, 4) == 9)
  local s = seq(2, 3)
  s[{2}] = s[1]  -- source sharing the destination's storage
  same(s, {{1, 2, 3}, {1, 2, 3}})
  local o = seq(1, 5)
  o[{1, {2, 5}}] = o[{1, {1, 4}}]  -- overlapping shift
  same(o, {{1, 1, 2, 3, 4}})
end)

T("squeeze, unsqueeze, flatten, view: views of a new shape", function()
  local c = seq(2, 1, 3, 1)
  local s = c:squeeze()
  shape(s, 2, 3)
  check(shares(s, c, {1, 2}, {1, 1, 2, 1}))
  shape(c:squeeze(2), 2, 3, 1)
  shape(c:squeeze(-1), 2, 1, 3)
  shape(c:squeeze(1), 2, 1, 3, 1)  -- not of size 1: unchanged
  shape(nn.ones(1, 1):squeeze(), 1)
  local u = s:unsqueeze(1)
  shape(u, 1, 2, 3)
  shape(s:unsqueeze(-1), 2, 3, 1)
  shape(s:unsqueeze(2), 2, 1, 3)
  check(shares(u, c, {1, 2, 3}, {2, 1, 3, 1}))
  local f = c:flatten()
  shape(f, 6)
  same(f, {1, 2, 3, 4, 5, 6})
  check(shares(f, c, {4}, {2, 1, 1, 1}))
  local w = c:view(3, -1)
  shape(w, 3, 2)
  check(shares(w, c, {1, 1}, {1, 1, 1, 1}))
end)

T("split and chunk: pieces, views along dimension 1, copies otherwise", function()
  local m = seq(5, 7)
  local p = m:split(3, 2)
  check(#p == 3)
  local widths = {3, 3, 1}
  for k = 1, 3 do
    shape(p[k], 5, widths[k])
    each({5, widths[k]}, function(i) check(p[k]:get(i[1], i[2]) == m:get(i[1], (k - 1) * 3 + i[2])) end)
  end
  check(not shares(p[1], m, {1, 1}, {1, 1}))
  local r = m:split(2)
  check(#r == 3)
  shape(r[3], 1, 7)
  check(shares(r[2], m, {1, 1}, {3, 1}), "split along dim 1 gives views")
  local c = m:chunk(2)
  check(#c == 2)
  shape(c[1], 3, 7)
  shape(c[2], 2, 7)
  local c2 = m:chunk(4, -1)  -- 7 in pieces of 2
  check(#c2 == 4)
  shape(c2[4], 5, 1)
  same(c2[4], {{7}, {14}, {21}, {28}, {35}})
  check(#nn.zeros(0, 3):split(2) == 1)
end)

T("copy_: same shape, broadcast, version bumped, returns t", function()
  local d = nn.zeros(2, 3)
  check(d:copy_(seq(2, 3)) == d)
  same(d, {{1, 2, 3}, {4, 5, 6}})
  d:copy_(nn.tensor{7, 8, 9})
  same(d, {{7, 8, 9}, {7, 8, 9}})
  d:copy_(nn.tensor{{1}, {2}})
  same(d, {{1, 1, 1}, {2, 2, 2}})
  d:copy_(d[2])  -- source in the destination's storage
  same(d, {{2, 2, 2}, {2, 2, 2}})
  -- the version: a saved tensor changed by copy_ refuses the backward
  local x = nn.ones(2, 3):requires_grad()
  local h = nn.ones(2, 3)
  local y = (x * h):sum(1)
  h:copy_(nn.zeros(3))
  checkerr("backward", function() y:backward(nn.ones(3)) end)
end)

T("nn.cat and nn.stack: dims, negatives, values", function()
  local a, b = seq(2, 3), seq(2, 3) * -1
  same(nn.cat({a, b}), {{1, 2, 3}, {4, 5, 6}, {-1, -2, -3}, {-4, -5, -6}})
  same(nn.cat({a, b}, -1), {{1, 2, 3, -1, -2, -3}, {4, 5, 6, -4, -5, -6}})
  local s = nn.stack{a, b}
  shape(s, 2, 2, 3)
  same(s[2], b:totable())
  local s3 = nn.stack({a, b}, 3)
  shape(s3, 2, 3, 2)
  each({2, 3, 2}, function(i) check(s3:get(i[1], i[2], i[3]) == (i[3] == 1 and a or b):get(i[1], i[2])) end)
  shape(nn.stack({a, b}, -1), 2, 3, 2)
  shape(nn.stack({a, b}, 2), 2, 2, 3)
  local list = {}
  for i = 1, 10 do list[i] = nn.full({2}, i) end
  local big = nn.stack(list)
  shape(big, 10, 2)
  check(big:get(10, 2) == 10)
  check(not shares(s, a, {1, 1, 1}, {1, 1}), "stack copies")
end)

T("autograd through the shape ops", function()
  local x = nn.tensor{{1, 2, 3}, {4, 5, 6}}:requires_grad()
  local y = x:t():narrow(1, 2, 2)  -- rows 2..3 of x^T: x's columns 2 and 3
  check(y.grad_fn == "narrow")
  y:backward(nn.tensor{{1, 2}, {3, 4}})
  same(x.grad, {{0, 1, 3}, {0, 2, 4}})
  x.grad = nil
  local z = x:index(2, {3, 3, 1})
  z:backward(nn.ones(2, 3))
  same(x.grad, {{1, 0, 2}, {1, 0, 2}})
  x.grad = nil
  x[{{}, 2}]:backward(nn.tensor{5, 6})
  same(x.grad, {{0, 5, 0}, {0, 6, 0}})
  x.grad = nil
  local parts = x:split(2, 2)
  nn.cat({parts[2], parts[1]}, 2):backward(nn.tensor{{1, 2, 3}, {4, 5, 6}})
  same(x.grad, {{2, 3, 1}, {5, 6, 4}})
  x.grad = nil
  x[2]:backward(nn.ones(3))
  same(x.grad, {{0, 0, 0}, {1, 1, 1}})
  x.grad = nil
  x:rows(1, 1):reshape(3):backward(nn.tensor{1, 2, 3})
  same(x.grad, {{1, 2, 3}, {0, 0, 0}})
  check(x:rows(1, 1).grad_fn == "rows" and x:reshape(6).grad_fn == "reshape")
  check(x[1].grad_fn == "select" and x:view(6).grad_fn == "reshape")
  x.grad = nil
  local st = nn.stack({x, x}, 3)
  check(st.grad_fn == "stack")
  st:backward(nn.tensor({1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60}, {2, 3, 2}))
  same(x.grad, {{11, 22, 33}, {44, 55, 66}})
  check(nn.no_grad(function() return x:t() end).grad_fn == nil)
end)

T("autograd of cat and stack beyond one node's inputs (a tree of nodes)", function()
  local n = 70001  -- more than NNL_AG_MAXIN_N (65536)
  local l = {}
  for i = 1, n do l[i] = nn.full({1}, i):requires_grad() end
  local y = nn.cat(l)
  check(y.grad_fn == "cat" and y:numel() == n and y:get(n) == n)
  y:backward(nn.arange(n))
  check(l[1].grad:get(1) == 0 and l[n].grad:get(1) == n - 1 and l[35000].grad:get(1) == 34999)
  local s = nn.stack(l)
  shape(s, n, 1)
  s:backward(nn.ones(n, 1))
  check(l[2].grad:get(1) == 2 and l[n].grad:get(1) == n)
end)

T("errors: bad dims, out of range, bad slice tables, closed tensors", function()
  local c = seq(4, 6)
  checkerr("narrow: start 5 + length 3 out of range for dimension 2 of [4x6]",
           function() return c:narrow(2, 5, 3) end)
  checkerr("narrow: dimension 3 out of range for shape [4x6]", function() return c:narrow(3, 1, 1) end)
  checkerr("narrow: length must be a non-negative integer, got -1", function() return c:narrow(1, 1, -1) end)
  checkerr("narrow: start must be an integer, got x", function() return c:narrow(1, "x", 1) end)
  checkerr("narrow: start -5 out of range for dimension 1 of [4x6]", function() return c:narrow(1, -5, 1) end)
  checkerr("select: index 7 out of range for dimension 2 of [4x6]", function() return c:select(2, 7) end)
  checkerr("select: index 0 out of range", function() return c:select(1, 0) end)
  checkerr("select: dimension 0 out of range for shape [4x6]", function() return c:select(0, 1) end)
  checkerr("transpose: dimension 3 out of range for shape [4x6]", function() return c:transpose(1, 3) end)
  checkerr("transpose: dimension nil out of range", function() return c:transpose(1) end)
  checkerr("t: needs a 1-D or 2-D tensor, got [2x2x2]", function() return nn.zeros(2, 2, 2):t() end)
  checkerr("permute: 1 dimensions given for shape [4x6] (needs 2)", function() return c:permute(1) end)
  checkerr("permute: dimension 1 repeated for shape [4x6]", function() return c:permute(1, 1) end)
  checkerr("permute: dimension 3 out of range for shape [4x6]", function() return c:permute(1, 3) end)
  checkerr("index: index 5 out of range for dimension 1 of [4x6]", function() return c:index(1, {1, 5}) end)
  checkerr("index: index must be an integer, got 1.5", function() return c:index(1, {1.5}) end)
  checkerr("index: the indices must be a table or an nn.Tensor, got string", function() return c:index(1, "1") end)
  checkerr("index: the indices must be a 1-D tensor, got shape [1x1]", function() return c:index(1, nn.ones(1, 1)) end)
  checkerr("unsqueeze: dimension 4 out of range for shape [4x6]", function() return c:unsqueeze(4) end)
  checkerr("squeeze: dimension 3 out of range for shape [4x6]", function() return c:squeeze(3) end)
  checkerr("unsqueeze: shape [1x1x1x1x1x1x1x1] already has 8 dimensions",
           function() return nn.zeros(1, 1, 1, 1, 1, 1, 1, 1):unsqueeze(1) end)
  checkerr("split: size must be a positive integer, got 0", function() return c:split(0) end)
  checkerr("chunk: the number of chunks must be a positive integer, got x", function() return c:chunk("x") end)
  checkerr("split: dimension 3 out of range for shape [4x6]", function() return c:split(1, 3) end)
  checkerr("copy_: shape [5] does not broadcast to [4x6]", function() return c:copy_(nn.zeros(5)) end)
  checkerr("reshape: cannot view shape [4x6] (24 elements) as [5x5]", function() return c:view(5, 5) end)
  -- slices
  checkerr("t[{...}]: 3 entries for a tensor of shape [4x6]", function() return c[{1, 1, 1}] end)
  checkerr("t[{...}]: index 5 out of range for dimension 1 of [4x6]", function() return c[{5}] end)
  checkerr("t[{...}]: index -5 out of range for dimension 1 of [4x6]", function() return c[{-5}] end)
  checkerr("t[{...}]: range {2, 7} out of range for dimension 2 of [4x6]", function() return c[{{}, {2, 7}}] end)
  checkerr("t[{...}]: range {3, 1} out of range for dimension 1 of [4x6]", function() return c[{{3, 1}}] end)
  checkerr("t[{...}]: entry 1 has 3 values", function() return c[{{1, 2, 3}}] end)
  checkerr("t[{...}]: entry 2 must be an integer or a table, got string", function() return c[{1, "a"}] end)
  checkerr("t[{...}]: the range of entry 1 must hold integers, got string and number",
           function() return c[{{"a", 2}}] end)
  checkerr("t[{...}]: index must be an integer, got 1.5", function() return c[{1.5}] end)
  checkerr("t[{...}] = v: the value must be a number or nn.Tensor, got string",
           function() c[{1}] = "x" end)
  checkerr("t[{...}] = v: shape [4] does not broadcast to [6]", function() c[{1}] = nn.zeros(4) end)
  local before = c:totable()
  pcall(function() c[{{}, 1}] = nn.zeros(3) end)
  check(H.eq_table(c, before), "a failed assignment changes nothing")
  -- joins
  checkerr("nn.cat: needs at least one tensor", nn.cat, {})
  checkerr("nn.cat: element 2 is number, not an nn.Tensor", nn.cat, {c, 1})
  checkerr("nn.cat: tensor 2 has shape [3], which does not match [4x6] along dimension 1",
           nn.cat, {c, nn.zeros(3)})
  checkerr("nn.cat: dimension 3 out of range for shape [4x6]", nn.cat, {c, c}, 3)
  checkerr("nn.stack: tensor 2 has shape [6x4], tensor 1 [4x6]", nn.stack, {c, c:t()})
  checkerr("nn.stack: dimension 4 out of range for shape [4x6]", nn.stack, {c, c}, 4)
  checkerr("nn.stack: element 1 is string, not an nn.Tensor", nn.stack, {"a"})
  -- closed tensors
  local z = seq(2, 2)
  z:close()
  for name, f in pairs{
    t = function() return z:t() end,
    transpose = function() return z:transpose(1, 2) end,
    permute = function() return z:permute(2, 1) end,
    narrow = function() return z:narrow(1, 1, 1) end,
    select = function() return z:select(1, 1) end,
    index = function() return z:index(1, {1}) end,
    squeeze = function() return z:squeeze() end,
    unsqueeze = function() return z:unsqueeze(1) end,
    flatten = function() return z:flatten() end,
    view = function() return z:view(4) end,
    split = function() return z:split(1) end,
    chunk = function() return z:chunk(1) end,
    copy_ = function() return c:copy_(z) end,
    slice = function() return z[{1}] end,
    slice_set = function() z[{1}] = 0 end,
    slice_src = function() c[{1}] = z end,
    cat = function() return nn.cat{c, z} end,
    stack = function() return nn.stack{z} end,
  } do
    local ok, err = pcall(f)
    check(not ok and tostring(err):find("closed", 1, true), name .. ": " .. tostring(err))
  end
end)

H.done()
