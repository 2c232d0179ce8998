-- nn.Tensor arithmetic: + - * / with numbers on either side, same-shape
-- tensors, row vectors broadcast over rows (either side), unary minus, and
-- matmul against a plain Lua triple loop.
local H = require "helper"
local T = H.test
local check, same, shape, f32 = H.check, H.same, H.shape, H.f32

-- Element-wise expectation computed in Lua, rounded as float32 is.
local function expect(a, b, f)
  local out = {}
  for i = 1, #a do
    if type(a[i]) == "table" then
      out[i] = expect(a[i], type(b) == "table" and b[i] or b, f)
    else
      out[i] = f32(f(a[i], type(b) == "table" and b[i] or b))
    end
  end
  return out
end

local A = {{1, -2, 3.5}, {0.25, 5, -6}}
local B = {{2, 4, -0.5}, {8, -10, 3}}
local a, b = nn.tensor(A), nn.tensor(B)
local add = function(x, y) return x + y end
local sub = function(x, y) return x - y end
local mul = function(x, y) return x * y end
local div = function(x, y) return x / y end

T("same shape", function()
  same(a + b, expect(A, B, add))
  same(a - b, expect(A, B, sub))
  same(a * b, expect(A, B, mul))
  same(a / b, expect(A, B, div))
  shape(a + b, 2, 3)
end)

T("with a number, on either side", function()
  same(a + 2, expect(A, 2, add))
  same(2 + a, expect(A, 2, add))
  same(a - 2, expect(A, 2, sub))
  same(10 - a, expect(A, 10, function(x, y) return y - x end))
  same(a * 3, expect(A, 3, mul))
  same(3 * a, expect(A, 3, mul))
  same(a / 4, expect(A, 4, div))
  same(1 / b, expect(B, 1, function(x, y) return y / x end))
  same(a + 0.1, expect(A, 0.1, add))
end)

T("unary minus; the operands are not changed", function()
  same(-a, expect(A, -1, mul))
  same(-(-a), A)
  shape(-nn.zeros(2, 0), 2, 0)
  same(a, A)
  same(b, B)
end)

T("division by zero follows IEEE rules", function()
  local z = nn.tensor{1, -1, 0} / 0
  check(z[1] == math.huge and z[2] == -math.huge and z[3] ~= z[3])
  local w = nn.tensor{1, 0} / nn.tensor{0, 0}
  check(w[1] == math.huge and w[2] ~= w[2])
end)

-- Row vector broadcast over rows: 1-D of the last dimension, or 1 x n.
T("Row vector broadcast over rows: 1-D of the last dimension, or 1 x n", function()
  local row = nn.tensor{10, 20, 30}
  local R = {{10, 20, 30}, {10, 20, 30}}
  same(a + row, expect(A, R, add))
  same(row + a, expect(A, R, add))
  same(a - row, expect(A, R, sub))
  same(row - a, expect(A, R, function(x, y) return y - x end))
  same(a * row, expect(A, R, mul))
  same(a / row, expect(A, R, div))
  same(row / a, expect(A, R, function(x, y) return y / x end))
  local row2 = nn.tensor{{10, 20, 30}}
  same(a + row2, expect(A, R, add))
  same(row2 - a, expect(A, R, function(x, y) return y - x end))
  shape(a + row2, 2, 3)
  -- 3-D tensors broadcast a row over every row of every block
  local c = nn.arange(12):reshape(2, 2, 3)
  same(c + row, {{{10, 21, 32}, {13, 24, 35}}, {{16, 27, 38}, {19, 30, 41}}})
end)

-- Views and expressions combine.
T("Views and expressions combine", function()
  local t = nn.arange(6):reshape(2, 3)
  same(t[1] + t[2], {3, 5, 7})
  same((t + 1) * 2 - t / 2, {{2, 3.5, 5}, {6.5, 8, 9.5}})
  same(t:rows(2) * t:rows(1), {{0, 4, 10}})
end)

-- matmul against a naive Lua product.
local function naive(x, y)
  local m, k = #x, #x[1]
  local n = #y[1]
  local out = {}
  for i = 1, m do
    out[i] = {}
    for j = 1, n do
      local s = 0
      for p = 1, k do s = s + x[i][p] * y[p][j] end
      out[i][j] = s
    end
  end
  return out
end

T("matmul against a naive Lua product", function()
  same(nn.matmul(nn.tensor{{1, 2}, {3, 4}}, nn.tensor{{5, 6}, {7, 8}}), {{19, 22}, {43, 50}})
  local i3 = nn.eye(3)
  same(nn.matmul(i3, i3 * 2), {{2, 0, 0}, {0, 2, 0}, {0, 0, 2}})
  nn.seed(5)
  for _, s in ipairs{{7, 5, 3}, {1, 1, 1}, {64, 33, 17}, {3, 100, 2}, {50, 1, 40}} do
    local x, y = nn.randn(s[1], s[2]), nn.randn(s[2], s[3])
    local want = naive(x:totable(), y:totable())
    local got = nn.matmul(x, y)
    shape(got, s[1], s[3])
    same(got, want, 1e-4 * s[2])
    same(x:matmul(y), got:totable())
  end
  -- 1-D right operand: a k-vector gives an m-vector; 1-D left gives 1-D.
  local m = nn.tensor{{1, 2, 3}, {4, 5, 6}}
  local v = nn.tensor{1, 0, -1}
  shape(m:matmul(v), 2)
  same(m:matmul(v), {-2, -2})
  shape(nn.tensor{1, 1}:matmul(m), 3)
  same(nn.tensor{1, 1}:matmul(m), {5, 7, 9})
  -- 1-D by 1-D: the dot product, as a tensor of one element
  local d = nn.matmul(nn.tensor{1, 2, 3}, nn.tensor{4, 5, 6})
  shape(d, 1)
  check(d[1] == 32)
  -- the operands are unchanged, and matmul of views works
  same(m, {{1, 2, 3}, {4, 5, 6}})
  same(nn.matmul(m:rows(2), nn.eye(3)), {{4, 5, 6}})
  same(nn.matmul(m[1]:reshape(3, 1), m[2]:reshape(1, 3)), {{4, 5, 6}, {8, 10, 12}, {12, 15, 18}})
  -- an empty inner dimension gives zeros
  same(nn.matmul(nn.zeros(2, 0), nn.zeros(0, 3)), {{0, 0, 0}, {0, 0, 0}})
  shape(nn.matmul(nn.zeros(0, 3), nn.ones(3, 2)), 0, 2)
end)

H.done()
