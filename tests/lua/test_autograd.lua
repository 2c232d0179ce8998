-- Autograd from Lua: nn.grad on nested parameter tables, nn.gradcheck
-- (which must also catch a wrong gradient), the examples of autograd
-- (regression, backprop by hand, a custom layer) reaching their figures,
-- and the bad inputs issue 13 lists as clear errors.
local H = require "helper"
local T = H.test
local check, checkerr = H.check, H.checkerr

T("nn.grad mirrors a nested parameter table and returns the value", function()
  nn.seed(1)
  local x = nn.randn(6, 3)
  local params = {layer = {w = nn.randn(3, 2), b = nn.zeros(2)}, scale = nn.ones(1)}
  local function f(p, xin)
    local y = (xin:matmul(p.layer.w) + p.layer.b) * p.scale
    return (y ^ 2):mean()
  end
  local df = nn.grad(f)
  local g, v = df(params, x)
  check(type(v) == "number" and v > 0)
  check(g.layer.w:numel() == 6 and g.layer.b:numel() == 2 and g.scale:numel() == 1)
  check(not params.layer.w.needs_grad, "the caller's tensors are not made leaves")
  local ok, err = nn.gradcheck(f, params, x)
  check(ok, "gradcheck: " .. err)
  -- the gradient of a number is zero everywhere
  local g0, v0 = nn.grad(function() return 3 end)({a = nn.ones(2)})
  check(v0 == 3 and g0.a:sum() == 0)
  checkerr("f must return a number or a one-element tensor", nn.grad(function(p) return p.a end),
           {a = nn.ones(2)})
  checkerr("params.a is a string", nn.grad(function() return 1 end), {a = "x"})
end)

T("nn.gradcheck fails on a function whose gradient is wrong", function()
  -- floor has gradient 0 to autograd (a constant) but a jump numerically:
  -- sum(floor(10 x)) near a step is where the two disagree
  local p = {a = nn.tensor({0.2999, 0.5})}
  local ok, err = nn.gradcheck(function(q) return (q.a * 10):floor():sum() + q.a:sum() end, p)
  check(not ok and err > 0.1, "a mismatch found: " .. tostring(err))
end)

T("the examples of autograd reach their figures", function()
  local bin = os.getenv("NNLUA_BIN") or "nnlua"
  local dir = io.popen("pwd"):read("l") .. "/../../examples/"
  local function run(name)
    local p = io.popen(string.format("'%s' '%s%s.lua' 2>&1", bin, dir, name))
    local out = p:read("a")
    local ok = p:close()
    check(ok, name .. " failed:\n" .. out)
    return out
  end
  local out = run("autograd_regression")
  local diff = tonumber(out:match("largest difference ([%d.e+-]+)"))
  check(diff and diff < 1e-3 and out:find("they agree", 1, true), out)
  out = run("backprop_by_hand")
  local a = tonumber(out:match("by hand vs autograd: largest difference ([%d.e+-]+)"))
  local b = tonumber(out:match("largest weight difference ([%d.e+-]+)"))
  check(a and a < 1e-5 and b and b < 1e-4 and out:find("all three agree", 1, true), out)
  out = run("custom_layer")
  local acc = tonumber(out:match("held%-out accuracy ([%d.]+)"))
  local same = tonumber(out:match("predictions differ by ([%d.e+-]+)"))
  check(acc and acc >= 0.9 and same and same < 1e-6, out)
  print(string.format("regression %.1e, backprop %.1e / %.1e, custom layer accuracy %.3f",
                      diff, a, b, acc))
end)

T("bad input is a clear error naming the operation", function()
  local w = nn.ones(3):requires_grad()
  local y = w * 2
  checkerr("backward: the gradient can be left out only for a one-element tensor", y.backward, y)
  local s = (w * w):sum()
  s:backward()
  checkerr("freed by an earlier backward", s.backward, s)
  -- the options after a nil gradient are read, not dropped
  local r = (w * w):sum()
  r:backward(nil, {retain_graph = true})
  r:backward(nil, {retain_graph = true})
  r:backward()
  checkerr("freed by an earlier backward", r.backward, r)
  checkerr("backward: unknown option 'keep'", r.backward, r, nil, {keep = true})
  checkerr("backward: options must be a table, got number", r.backward, r, nil, 3)
  local x = nn.ones(3)
  local z = (w * x):sum()
  nn.no_grad(function() x:mul_(2) end)
  checkerr("needs was changed in place", z.backward, z)
  checkerr("in-place", function() w:mul_(2) end)
  local before = w.grad:clone()
  checkerr("changed in place", z.backward, z)
  check((w.grad - before):abs():max() == 0, "a refused backward changes no gradient")
end)

H.done()
