-- nn.Tensor reductions (sum, mean, prod, max, min, argmax, argmin, var,
-- std, norm, logsumexp; all elements or along a 1-based or negative dim,
-- with keepdim), cumsum, softmax, log_softmax, matrix products (matmul,
-- mm, dot, outer), reductions on the autograd tape, every error path;
-- map/apply with Lua functions, and nn.cat.
local H = require "helper"
local T = H.test
local check, same, shape, near, f32 = H.check, H.same, H.shape, H.near, H.f32
local checkerr = H.checkerr

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

-- The values of a 3-D tensor as a Lua table, and the slices along dim d
-- (1-based) of an index {i, j, k}: helpers for the loops below.
local function slices(t, d, f)
  local v, dims = t:totable(), {t:shape()}
  local out = {}
  for i = 1, dims[1] do for j = 1, dims[2] do for k = 1, dims[3] do
    local idx = {i, j, k}
    if idx[d] == 1 then
      local xs = {}
      for p = 1, dims[d] do idx[d] = p; xs[p] = v[idx[1]][idx[2]][idx[3]] end
      local o = {i, j, k}
      o[d] = 1
      out[#out + 1] = {o = o, r = f(xs)}
    end
  end end end
  return out
end

local function at(tbl, o) return tbl[o[1]][o[2]][o[3]] end

T("keepdim keeps the dim as 1; negative dims count from the end", function()
  local c = nn.arange(24):reshape(2, 3, 4)
  shape(c:sum(2, true), 2, 1, 4)
  shape(c:max(-1, true), 2, 3, 1)
  shape(c:mean(1, false), 3, 4)
  same(c:sum(-1), c:sum(3):totable())
  same(c:sum(-3), c:sum(1):totable())
  same(c:argmin(-2, true), {{{1, 1, 1, 1}}, {{1, 1, 1, 1}}})
  shape(c:var(2, true), 2, 1, 4)
  shape(c:norm(2, -1, true), 2, 3, 1)
  shape(c:logsumexp(1, true), 1, 3, 4)
end)

T("every reduction along every dim against Lua loops, keepdim kept", function()
  nn.seed(5)
  local r = nn.randn(3, 4, 5)
  local function sum(xs) local s = 0 for _, x in ipairs(xs) do s = s + x end return s end
  local function var(xs, corr)
    local m, q = sum(xs) / #xs, 0
    for _, x in ipairs(xs) do q = q + (x - m) ^ 2 end
    return q / (#xs - corr)
  end
  local refs = {
    sum = sum,
    mean = function(xs) return sum(xs) / #xs end,
    prod = function(xs) local p = 1 for _, x in ipairs(xs) do p = p * x end return p end,
    var = function(xs) return var(xs, 1) end,
    std = function(xs) return math.sqrt(var(xs, 1)) end,
    logsumexp = function(xs)
      local m = math.max(table.unpack(xs))
      local s = 0
      for _, x in ipairs(xs) do s = s + math.exp(x - m) end
      return m + math.log(s)
    end,
  }
  for d = 1, 3 do
    for name, f in pairs(refs) do
      local got = r[name](r, d, true):totable()
      for _, e in ipairs(slices(r, d, f)) do
        near(at(got, e.o), e.r, 2e-5 * (1 + math.abs(e.r)), name .. " dim " .. d)
      end
    end
    local v0 = r:var(d, true, {correction = 0}):totable()
    local vu = r:var(d, true, {unbiased = false}):totable()
    local n3 = r:norm(3, d, true):totable()
    local ni = r:norm("inf", d, true):totable()
    local n1 = r:norm(1, d, true):totable()
    local mx, mi = r:max(d, true)
    local mn, ni2 = r:min(d, true)
    mx, mi, mn, ni2 = mx:totable(), mi:totable(), mn:totable(), ni2:totable()
    local amn = r:argmin(d, true):totable()
    for _, e in ipairs(slices(r, d, function(xs)
      local a3, a1, big, bi, low, li = 0, 0, 0, 1, xs[1], 1
      local top = xs[1]
      for p, x in ipairs(xs) do
        a3 = a3 + math.abs(x) ^ 3
        a1 = a1 + math.abs(x)
        big = math.max(big, math.abs(x))
        if x > top then top, bi = x, p end
        if x < low then low, li = x, p end
      end
      return {var(xs, 0), a3 ^ (1 / 3), big, a1, top, bi, low, li}
    end)) do
      local w = e.r
      near(at(v0, e.o), w[1], 1e-5, "var correction 0")
      near(at(vu, e.o), w[1], 1e-5, "var unbiased = false")
      near(at(n3, e.o), w[2], 1e-5, "norm 3")
      near(at(ni, e.o), w[3], 1e-6, "norm inf")
      near(at(n1, e.o), w[4], 1e-5, "norm 1")
      check(at(mx, e.o) == w[5] and at(mi, e.o) == w[6], "max values and indices")
      check(at(mn, e.o) == w[7] and at(ni2, e.o) == w[8] and at(amn, e.o) == w[8], "min")
    end
  end
end)

T("whole-tensor forms: numbers, max/min with a 1-based flat index", function()
  local t = nn.tensor{{2, -1, 4}, {4, -1, 3}}
  local v, i = t:max()
  check(v == 4 and i == 3 and math.type(i) == "integer", "first maximum")
  v, i = t:min()
  check(v == -1 and i == 2)
  check(t:argmin() == 2 and math.type(t:argmin()) == "integer")
  check(t:prod() == 96)
  -- hand values: mean 11/6, sum of squares 47 - 121/6 = 161/6
  near(t:var(), 161 / 30, 1e-12)
  near(t:var({correction = 0}), 161 / 36, 1e-12)
  near(t:std(), math.sqrt(161 / 30), 1e-12)
  near(t:norm(), math.sqrt(47), 1e-12)
  check(t:norm(1) == 15 and t:norm(math.huge) == 4 and t:norm("inf") == 4)
  near(t:logsumexp(), math.log(2 * math.exp(4) + math.exp(2) + math.exp(3) + 2 * math.exp(-1)),
       1e-5)
  check(nn.tensor{3, 0 / 0, 1}:max() ~= nn.tensor{3, 0 / 0, 1}:max(), "NaN propagates")
  local _, ni = nn.tensor{3, 0 / 0, 1}:min()
  check(ni == 2, "the NaN's index")
  check(nn.zeros(0):prod() == 1)
  local e = nn.tensor{7}:var()
  check(e ~= e, "var of one element with correction 1 is NaN")
end)

T("cumsum, softmax and log_softmax along every dim against Lua loops", function()
  nn.seed(8)
  local r = nn.randn(3, 4, 5)
  for _, d in ipairs{1, 2, 3, -1} do
    local dd = d < 0 and 3 + d + 1 or d
    local cs = r:cumsum(d):totable()
    local sm = r:softmax(d):totable()
    local ls = r:log_softmax(d):totable()
    for _, e in ipairs(slices(r, dd, function(xs) return xs end)) do
      local xs, run, m, z = e.r, 0, -math.huge, 0
      for _, x in ipairs(xs) do m = math.max(m, x) end
      for _, x in ipairs(xs) do z = z + math.exp(x - m) end
      for p, x in ipairs(xs) do
        local o = {e.o[1], e.o[2], e.o[3]}
        o[dd] = p
        run = run + x
        near(at(cs, o), run, 1e-5, "cumsum dim " .. d)
        near(at(sm, o), math.exp(x - m) / z, 1e-6, "softmax dim " .. d)
        near(at(ls, o), x - m - math.log(z), 1e-5, "log_softmax dim " .. d)
      end
    end
  end
  same(nn.tensor{{1, 1}}:softmax(), {{0.5, 0.5}})
  same(nn.tensor{{0, 0}, {0, 0}}:softmax(1), {{0.5, 0.5}, {0.5, 0.5}})
end)

-- the product of Lua tables a (m x k) and b (k x n)
local function lmm(a, b)
  local c = {}
  for i = 1, #a do
    c[i] = {}
    for j = 1, #b[1] do
      local s = 0
      for p = 1, #b do s = s + a[i][p] * b[p][j] end
      c[i][j] = s
    end
  end
  return c
end

T("matmul: 2-D, batched, broadcast batch, 1-D forms; mm, dot, outer", function()
  nn.seed(9)
  local a, b = nn.randn(3, 4), nn.randn(4, 2)
  same(nn.matmul(a, b), lmm(a:totable(), b:totable()), 1e-5)
  same(a:mm(b), lmm(a:totable(), b:totable()), 1e-5)
  local A, B = nn.randn(2, 3, 4), nn.randn(2, 4, 5)
  local C = A:matmul(B)
  shape(C, 2, 3, 5)
  for q = 1, 2 do
    same(C[q], lmm(A[q]:totable(), B[q]:totable()), 1e-5)
  end
  local B1 = nn.randn(1, 4, 5)
  local C1 = nn.matmul(A, B1)
  shape(C1, 2, 3, 5)
  same(C1[2], lmm(A[2]:totable(), B1[1]:totable()), 1e-5)
  local C2 = nn.matmul(A, b) -- 3-D times 2-D
  shape(C2, 2, 3, 2)
  same(C2[1], lmm(A[1]:totable(), b:totable()), 1e-5)
  local v = nn.tensor{1, 2, 3, 4}
  same(nn.matmul(a, v), {lmm(a:totable(), {{1}, {2}, {3}, {4}})[1][1],
                         lmm(a:totable(), {{1}, {2}, {3}, {4}})[2][1],
                         lmm(a:totable(), {{1}, {2}, {3}, {4}})[3][1]}, 1e-5)
  shape(nn.matmul(v, B), 2, 5)
  check(nn.dot(v, v) == 30 and v:dot(v) == 30)
  same(nn.outer(nn.tensor{1, 2}, nn.tensor{3, 4, 5}), {{3, 4, 5}, {6, 8, 10}})
  same(nn.tensor{1, 2}:outer(nn.tensor{1}), {{1}, {2}})
end)

T("reductions on the tape: a one-element tensor when t requires grad", function()
  -- (element-wise ops record on the tape once the math part has its
  -- nnl_ag_* forms; here the reductions apply to leaves directly)
  local p = nn.tensor{1, 2, 3}:requires_grad()
  local loss = p:mean()
  check(type(loss) == "userdata" and loss:numel() == 1, "a tensor, for backward")
  loss:backward()
  same(p.grad, {f32(1 / 3), f32(1 / 3), f32(1 / 3)})
  local q = nn.tensor{{1, 5}, {7, 2}}:requires_grad()
  local m, i = q:max()
  check(m:numel() == 1 and i == 3, "max: a tensor and a flat index")
  m:backward()
  same(q.grad, {{0, 0}, {1, 0}})
  local w = nn.tensor{{1, 2}, {3, 4}}:requires_grad()
  local s = nn.matmul(w, nn.tensor{1, -1}):sum()
  s:backward()
  same(w.grad, {{1, -1}, {1, -1}})
  local z = nn.tensor{1, 2}:requires_grad()
  local d = nn.dot(z, nn.tensor{3, 4})
  check(type(d) == "userdata", "dot on the tape is a tensor")
  d:backward()
  same(z.grad, {3, 4})
  -- without grad (or under no_grad) the same calls give numbers
  check(type(nn.no_grad(function() return p:mean() end)) == "number")
  check(type(nn.tensor{1, 2}:sum()) == "number")
  local sm = nn.tensor{{1, 2, 3}}:requires_grad()
  local out = sm:log_softmax()
  out:backward(nn.tensor{{1, 0, 0}})
  near(sm.grad:get(1, 1), 1 - math.exp(1) / (math.exp(1) + math.exp(2) + math.exp(3)), 1e-6)
  check(out.grad_fn == "log_softmax", tostring(out.grad_fn))
end)

T("every error path names the function and the shapes", function()
  local t = nn.ones(2, 3)
  checkerr("sum: dimension 3 out of range for shape [2x3]", t.sum, t, 3)
  checkerr("sum: dimension -3 out of range for shape [2x3]", t.sum, t, -3)
  checkerr("mean: dimension 1.5 out of range", t.mean, t, 1.5)
  checkerr("max: dimension x out of range", t.max, t, "x")
  checkerr("sum: keepdim must be a boolean, got number", t.sum, t, 1, 1)
  checkerr("max: tensor is empty", nn.zeros(0).max, nn.zeros(0))
  checkerr("min: dimension 2 of shape [3x0] is empty", nn.zeros(3, 0).min, nn.zeros(3, 0), 2)
  checkerr("argmax: dimension 2 of shape [3x0] is empty", nn.zeros(3, 0).argmax, nn.zeros(3, 0), 2)
  checkerr("argmin: tensor is empty", nn.zeros(0).argmin, nn.zeros(0))
  checkerr("norm: p must be > 0 (or inf), got 0", t.norm, t, 0)
  checkerr("norm: p must be > 0 (or inf), got -1", t.norm, t, -1, 1)
  checkerr("norm: p must be a number or \"inf\", got \"two\"", t.norm, t, "two")
  checkerr("norm: p must be a number or \"inf\", got table", t.norm, t, {})
  checkerr("cumsum: needs a dimension", t.cumsum, t)
  checkerr("cumsum: dimension 0 out of range", t.cumsum, t, 0)
  checkerr("softmax: dimension 5 out of range for shape [2x3]", t.softmax, t, 5)
  checkerr("log_softmax: dimension -4 out of range", t.log_softmax, t, -4)
  checkerr("var: correction must be an integer", t.var, t, {correction = 0.5})
  checkerr("std: unbiased must be a boolean, got number", t.std, t, {unbiased = 1})
  checkerr("logsumexp: dimension 9 out of range", t.logsumexp, t, 9)
  checkerr("matmul: shapes [2x3] and [2x3] do not match (3 != 2)", nn.matmul, t, t)
  checkerr("matmul: batch dimensions of [2x2x3] and [3x3x2] do not broadcast",
           nn.matmul, nn.ones(2, 2, 3), nn.ones(3, 3, 2))
  checkerr("mm: needs 2-D tensors, got [2x3] and [3]", t.mm, t, nn.ones(3))
  checkerr("mm: shapes [2x3] and [2x3] do not match (3 != 2)", t.mm, t, t)
  checkerr("dot: needs 1-D tensors, got [2x3] and [3]", nn.dot, t, nn.ones(3))
  checkerr("dot: shapes [3] and [2] do not match (3 != 2)", nn.dot, nn.ones(3), nn.ones(2))
  checkerr("outer: needs 1-D tensors, got [2x3] and [3]", nn.outer, t, nn.ones(3))
  checkerr("nn.Tensor expected", nn.dot, nn.ones(3), {})
  checkerr("nn.Tensor expected", nn.outer, 1, nn.ones(3))
  local c = nn.ones(3)
  c:close()
  checkerr("tensor is closed", nn.ones(3).sum, c)
end)

H.done()
