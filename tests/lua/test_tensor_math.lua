-- nn.Tensor element-wise math (src/bind/lnn_tensor_math.c): every operator
-- and method against values computed here with Lua's math library,
-- numpy broadcasting ([3x1] with [4], [2x1x3] with [5x1], a column, a
-- one-element tensor), in-place forms, gradients through the tape, and
-- every error path.
local H = require "helper"
local T = H.test
local check, checkerr, same, shape, f32 = H.check, H.checkerr, H.same, H.shape, H.f32

-- Index of flat position i (1-based) of shape sh, as a table of indices.
local function unflat(i, sh)
  local idx = {}
  i = i - 1
  for d = #sh, 1, -1 do
    idx[d] = i % sh[d] + 1
    i = i // sh[d]
  end
  return idx
end

-- The element of tensor t (values as a flat Lua list v, shape sh) at the
-- output index idx of rank nd, numpy style (size 1 dims repeat).
local function at(v, sh, idx, nd)
  local off = 0
  for d = 1, #sh do
    local i = idx[d + nd - #sh]
    off = off * sh[d] + (sh[d] == 1 and 0 or i - 1)
  end
  return v[off + 1]
end

local function flat(t)
  local out = {}
  for i, x in ipairs(t:reshape(-1):totable()) do out[i] = x end
  return out
end

-- Requires y == f(a, b) broadcast, element by element, within tol
-- (0: exactly the float32 of f).
local function check_bc(y, a, b, f, want_shape, tol)
  shape(y, table.unpack(want_shape))
  local av, bv, yv = flat(a), flat(b), flat(y)
  local sa, sb = {a:shape()}, {b:shape()}
  for i = 1, #yv do
    local idx = unflat(i, want_shape)
    local want = f32(f(at(av, sa, idx, #want_shape), at(bv, sb, idx, #want_shape)))
    local got = yv[i]
    local ok = (want ~= want and got ~= got) or got == want or
               (tol and math.abs(got - want) <= tol * math.max(1, math.abs(want)))
    check(ok, string.format("element %d is %.9g, want %.9g", i, got, want))
  end
end

local ops = {
  {"add", function(x, y) return x + y end, function(a, b) return a + b end},
  {"sub", function(x, y) return x - y end, function(a, b) return a - b end},
  {"mul", function(x, y) return x * y end, function(a, b) return a * b end},
  {"div", function(x, y) return x / y end, function(a, b) return a / b end},
  {"pow", function(x, y) return x ^ y end, function(a, b) return a ^ b end, 2e-6},
  {"maximum", function(x, y) return math.max(x, y) end, function(a, b) return a:maximum(b) end},
  {"minimum", function(x, y) return math.min(x, y) end, function(a, b) return a:minimum(b) end},
  {"gt", function(x, y) return x > y and 1 or 0 end, function(a, b) return a:gt(b) end},
  {"ge", function(x, y) return x >= y and 1 or 0 end, function(a, b) return a:ge(b) end},
  {"lt", function(x, y) return x < y and 1 or 0 end, function(a, b) return a:lt(b) end},
  {"le", function(x, y) return x <= y and 1 or 0 end, function(a, b) return a:le(b) end},
  {"eq", function(x, y) return x == y and 1 or 0 end, function(a, b) return a:eq(b) end},
  {"ne", function(x, y) return x ~= y and 1 or 0 end, function(a, b) return a:ne(b) end},
}

local pairs_ = {
  {{3, 1}, {4}, {3, 4}},
  {{2, 1, 3}, {5, 1}, {2, 5, 3}},
  {{2, 3}, {2, 3}, {2, 3}},
  {{4, 3}, {4, 1}, {4, 3}},      -- a column
  {{4, 3}, {3}, {4, 3}},         -- a row
  {{1}, {2, 3}, {2, 3}},         -- one element
  {{2, 1, 1, 3}, {1, 2, 1}, {2, 1, 2, 3}},
}

-- Values 0.5..2.5 in steps that make some pairs equal (comparisons).
local function filled(sh, seed)
  local n = 1
  for _, d in ipairs(sh) do n = n * d end
  local v = {}
  for i = 1, n do v[i] = 0.5 + ((i * 7 + seed) % 9) * 0.25 end
  return nn.tensor(v, sh)
end

T("every binary op broadcasts as numpy", function()
  for _, p in ipairs(pairs_) do
    local a, b = filled(p[1], 1), filled(p[2], 4)
    for _, op in ipairs(ops) do
      check_bc(op[3](a, b), a, b, op[2], p[3], op[4])
      check_bc(op[3](b, a), b, a, op[2], p[3], op[4])
    end
  end
end)

T("with a number, on either side", function()
  local a = filled({2, 3}, 2)
  local n1 = nn.tensor{1}
  for _, op in ipairs(ops) do
    for _, s in ipairs{2, 0.5, -1, 1.25} do
      local ys = op[3](a, s)
      check_bc(ys, a, n1, function(x) return op[2](x, s) end, {2, 3}, op[4])
    end
  end
  -- numbers on the left of the operators
  check_bc(10 - a, a, n1, function(x) return 10 - x end, {2, 3})
  check_bc(3 / a, a, n1, function(x) return 3 / x end, {2, 3})
  check_bc(2 ^ a, a, n1, function(x) return 2 ^ x end, {2, 3}, 2e-6)
  check_bc(a ^ 3, a, n1, function(x) return x ^ 3 end, {2, 3}, 0)
  check_bc(a:pow(0.5), a, n1, function(x) return math.sqrt(x) end, {2, 3}, 0)
  same(-a, (a * -1):totable())
  same(a:neg(), (-a):totable())
end)

T("unary math against Lua's math library", function()
  local xs = {-3.7, -2.5, -1, -0.5, -0.25, 0, 0.25, 0.5, 1.5, 2.5, 3.2}
  local x = nn.tensor(xs)
  local pos = nn.tensor{0.1, 0.5, 1, 2, 4, 9, 100}
  local function cmp(t, src, f, tol)
    local got = t:totable()
    for i, v in ipairs(src) do
      local want = f(f32(v))
      check(math.abs(got[i] - want) <= (tol or 0) * math.max(1, math.abs(want)),
            string.format("element %d: %.9g, want %.9g", i, got[i], want))
    end
  end
  local function sigmoid(v) return 1 / (1 + math.exp(-v)) end
  cmp(x:exp(), xs, math.exp, 3e-7)
  cmp(x:sin(), xs, math.sin, 3e-7)
  cmp(x:cos(), xs, math.cos, 3e-7)
  cmp(x:tanh(), xs, function(v) return (math.exp(2 * v) - 1) / (math.exp(2 * v) + 1) end, 3e-7)
  cmp(x:sigmoid(), xs, sigmoid, 3e-7)
  cmp(x:abs(), xs, math.abs)
  cmp(x:relu(), xs, function(v) return math.max(v, 0) end)
  cmp(x:floor(), xs, math.floor)
  cmp(x:ceil(), xs, math.ceil)
  cmp(x:sign(), xs, function(v) return v > 0 and 1 or v < 0 and -1 or 0 end)
  cmp(nn.tensor{-0.5, -0.25, 0, 0.25, 1e-6}:log1p(), {-0.5, -0.25, 0, 0.25, 1e-6},
      function(v) return math.log(1 + v) end, 3e-7)
  local lp = nn.tensor{-0.5, -0.25, 0, 0.25, 1e-6}:log1p()
  H.near(lp[5], 1e-6 - 0.5e-12, 1e-13, "log1p keeps small values accurate")
  cmp(pos:log(), {0.1, 0.5, 1, 2, 4, 9, 100}, math.log, 3e-7)
  cmp(pos:sqrt(), {0.1, 0.5, 1, 2, 4, 9, 100}, math.sqrt, 1e-7)
  cmp(pos:rsqrt(), {0.1, 0.5, 1, 2, 4, 9, 100}, function(v) return 1 / math.sqrt(v) end, 1e-7)
  -- round: half to even, as numpy and torch
  same(nn.tensor{0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6}:round(),
       {0, 2, 2, -0.0, -2, -2, 2, -3})
  -- NaN: comparisons false but ne; NaN stays NaN through exp, abs, clamp
  local nan = nn.tensor{0 / 0, 1}
  same(nan:eq(nan), {0, 1})
  same(nan:ne(nan), {1, 0})
  check(nan:exp()[1] ~= nan:exp()[1] and nan:clamp(0, 1)[1] ~= nan:clamp(0, 1)[1])
  check(nan:maximum(0)[1] ~= nan:maximum(0)[1], "maximum propagates NaN")
end)

T("clamp and act", function()
  local x = nn.tensor{-3, -1, 0, 0.5, 2, 5}
  same(x:clamp(-1, 2), {-1, -1, 0, 0.5, 2, 2})
  same(x:clamp(nil, 0), {-3, -1, 0, 0, 0, 0})
  same(x:clamp(1), {1, 1, 1, 1, 2, 5})
  same(x:clamp(3, 1), {1, 1, 1, 1, 1, 1}, "lo > hi gives hi, as torch")
  local acts = {
    relu = function(v) return math.max(v, 0) end,
    leaky_relu = function(v) return v > 0 and v or 0.2 * v end,
    elu = function(v) return v > 0 and v or math.exp(v) - 1 end,
    sigmoid = function(v) return 1 / (1 + math.exp(-v)) end,
    hard_sigmoid = function(v) return math.min(1, math.max(0, v / 6 + 0.5)) end,
    softplus = function(v) return math.log(1 + math.exp(v)) end,
    softsign = function(v) return v / (1 + math.abs(v)) end,
    swish = function(v) return v / (1 + math.exp(-v)) end,
    silu = function(v) return v / (1 + math.exp(-v)) end,
    linear = function(v) return v end,
  }
  for name, f in pairs(acts) do
    local got = x:act(name):totable()
    for i, v in ipairs(x:totable()) do
      H.near(got[i], f(v), 2e-6 * math.max(1, math.abs(f(v))), name)
    end
  end
  same(x:act("leaky_relu", 0.5), {-1.5, -0.5, 0, 0.5, 2, 5})
  local e = x:act("elu", 2):totable()
  H.near(e[1], 2 * (math.exp(-3) - 1), 1e-6, "elu with alpha 2")
end)

T("nn.where and masked_fill", function()
  local c = nn.tensor{{1}, {0}, {1}}
  local a = nn.tensor{10, 20, 30, 40}
  local y = nn.where(c, a, -1)
  same(y, {{10, 20, 30, 40}, {-1, -1, -1, -1}, {10, 20, 30, 40}})
  same(nn.where(nn.tensor{0, 1, 0 / 0}, 5, 6), {6, 5, 5}, "a NaN condition counts as true")
  local b3 = nn.tensor{{{100}}, {{200}}}
  shape(nn.where(c, a, b3), 2, 3, 4)
  check(nn.where(c, a, b3):get(2, 2, 3) == 200)
  local t = nn.tensor{{1, 2, 3}, {4, 5, 6}}
  same(t:masked_fill(t:gt(2), 0), {{1, 2, 0}, {0, 0, 0}})
  same(t:masked_fill(nn.tensor{1, 0, 1}, -9), {{-9, 2, -9}, {-9, 5, -9}})
  same(t, {{1, 2, 3}, {4, 5, 6}}, "the operands are not changed")
end)

T("in-place forms return the tensor and keep its shape", function()
  local t = nn.tensor{{1, 2, 3}, {4, 5, 6}}
  check(rawequal(t:add_(1), t))
  same(t, {{2, 3, 4}, {5, 6, 7}})
  t:sub_(nn.tensor{1, 1, 1})
  same(t, {{1, 2, 3}, {4, 5, 6}})
  t:mul_(nn.tensor{{2}, {10}})
  same(t, {{2, 4, 6}, {40, 50, 60}})
  t:div_(2)
  same(t, {{1, 2, 3}, {20, 25, 30}})
  t:add_(nn.tensor{1, 2, 3}, -2)
  same(t, {{-1, -2, -3}, {18, 21, 24}})
  t:add_(3, 2)
  same(t, {{5, 4, 3}, {24, 27, 30}})
  check(rawequal(t:clamp_(4, 25), t))
  same(t, {{5, 4, 4}, {24, 25, 25}})
  local r = nn.tensor{0.25, 4}
  check(rawequal(r:sqrt_(), r))
  same(r, {0.5, 2})
  r:exp_():log_()
  H.check(H.close(r, {0.5, 2}, 1e-6))
  local u = nn.tensor{-1.5, 2.5}
  u:abs_():round_()
  same(u, {2, 2})
  -- a row view of t added to t: the row is read before it is written
  local m = nn.tensor{{1, 2}, {3, 4}}
  m:sub_(m[1])
  same(m, {{0, 0}, {2, 2}})
  -- t += t
  local d = nn.tensor{1, 2}
  d:add_(d)
  same(d, {2, 4})
end)

T("gradients flow through the binding", function()
  local a = nn.tensor{{1}, {2}, {3}}:requires_grad()
  local b = nn.tensor{0.5, -1, 2, 4}:requires_grad()
  local y = (a * b + a ^ 2):sigmoid() -- [3x4]
  check(y.grad_fn == "sigmoid")
  y:backward(nn.ones(3, 4))
  -- by hand: s = sigmoid(a b + a^2), ds = s (1 - s); da = sum_j ds (b_j + 2a),
  -- db_j = sum_i ds a_i
  local av, bv = {1, 2, 3}, {0.5, -1, 2, 4}
  local ga, gb = {0, 0, 0}, {0, 0, 0, 0}
  for i = 1, 3 do
    for j = 1, 4 do
      local s = 1 / (1 + math.exp(-(av[i] * bv[j] + av[i] ^ 2)))
      local ds = s * (1 - s)
      ga[i] = ga[i] + ds * (bv[j] + 2 * av[i])
      gb[j] = gb[j] + ds * av[i]
    end
  end
  for i = 1, 3 do H.near(a.grad:get(i, 1), ga[i], 1e-5, "a.grad") end
  for j = 1, 4 do H.near(b.grad[j], gb[j], 1e-5, "b.grad") end
  -- where: the gradient goes to the chosen side
  local p = nn.tensor{1, 2, 3}:requires_grad()
  local q = nn.tensor{4, 5, 6}:requires_grad()
  nn.where(nn.tensor{1, 0, 1}, p, q):backward(nn.tensor{1, 1, 1})
  same(p.grad, {1, 0, 1})
  same(q.grad, {0, 1, 0})
  -- comparisons and rounding are constants
  check(p:gt(1).grad_fn == nil and p:floor().grad_fn == nil)
  check((p - 1).grad_fn == "sub" and (2 ^ p).grad_fn == "pow" and p:act("elu").grad_fn == "act")
end)

T("errors name the function and the shapes", function()
  local a = nn.ones(2, 3)
  checkerr("add: shapes [2x3] and [4] do not broadcast", function() return a + nn.ones(4) end)
  checkerr("pow: shapes [2x3] and [3x2] do not broadcast", function() return a ^ nn.ones(3, 2) end)
  checkerr("gt: shapes [2x3] and [2] do not broadcast", a.gt, a, nn.ones(2))
  checkerr("maximum: shapes [2x3] and [5] do not broadcast", a.maximum, a, nn.ones(5))
  checkerr("sub: cannot combine nn.Tensor with string", function() return a - "x" end)
  checkerr("pow: cannot combine nn.Tensor with table", function() return a ^ {} end)
  checkerr("eq: expected a number or nn.Tensor, got string", a.eq, a, "1")
  checkerr("pow: expected a number or nn.Tensor, got no value", a.pow, a)
  checkerr("add_: shape [2x3] does not broadcast to the tensor's shape [3]",
           nn.ones(3).add_, nn.ones(3), a)
  checkerr("mul_: shapes [2x3] and [4] do not broadcast", a.mul_, a, nn.ones(4))
  checkerr("div_: expected a number or nn.Tensor, got boolean", a.div_, a, true)
  checkerr("add_: alpha must be a number, got string", a.add_, a, 1, "x")
  checkerr("clamp: needs lo or hi (nil for no bound)", a.clamp, a)
  checkerr("clamp_: hi must be a number or nil, got string", a.clamp_, a, 0, "1")
  checkerr("act: unknown activation 'relu6' (one of linear, relu", a.act, a, "relu6")
  checkerr("act: softmax is row-wise: use t:softmax([dim])", a.act, a, "softmax")
  checkerr("act: param must be a number, got table", a.act, a, "elu", {})
  checkerr("masked_fill: mask must be an nn.Tensor, got number", a.masked_fill, a, 1, 0)
  checkerr("masked_fill: value must be a number, got no value", a.masked_fill, a, a)
  checkerr("masked_fill: shapes [2x3] and [4] do not broadcast", a.masked_fill, a, nn.ones(4), 0)
  checkerr("masked_fill: shape [2x1x3] does not broadcast to the tensor's shape [2x3]",
           a.masked_fill, a, nn.ones(2, 1, 3), 0)
  checkerr("nn.where: cond must be an nn.Tensor, got number", nn.where, 1, a, a)
  checkerr("nn.where: b must be a number or nn.Tensor, got string", nn.where, a, a, "b")
  checkerr("nn.where: shapes [2x3], [4] and [1] do not broadcast", nn.where, a, nn.ones(4), 0)
  local c = nn.ones(2)
  c:close()
  checkerr("tensor is closed", function() return a + c end)
  checkerr("tensor is closed", function() return c ^ 2 end)
  checkerr("tensor is closed", a.gt, a, c)
  -- in place on a tensor the tape needs
  local w = nn.ones(3):requires_grad()
  local msg = "add_: in-place change of a tensor that requires grad " ..
              "(use nn.no_grad or the out-of-place form)"
  checkerr(msg, w.add_, w, 1)
  checkerr("exp_: in-place change of a tensor that requires grad", w.exp_, w)
  checkerr("clamp_: in-place change of a tensor that requires grad", w.clamp_, w, 0, 1)
  checkerr("mul_: the argument requires grad", nn.ones(3).mul_, nn.ones(3), w)
  same(w, {1, 1, 1}, "a refused change changes nothing")
  nn.no_grad(function() w:add_(1) end)
  same(w, {2, 2, 2}, "allowed without recording")
end)

H.done()
