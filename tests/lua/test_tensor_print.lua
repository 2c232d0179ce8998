-- tostring of nn.Tensor: numpy-like layout, one number format per tensor
-- (integers bare, else 4 decimals, scientific for very large or small),
-- right-aligned columns, and summaries with "..." and the shape above 100
-- elements.
local H = require "helper"
local check = H.check

local function is(t, want)
  local got = tostring(t)
  if got ~= want then
    error("printed\n" .. got .. "\nexpected\n" .. want, 2)
  end
end

is(nn.tensor{{1, 2}, {3, 4}}, "tensor([[1, 2],\n        [3, 4]])")
is(nn.tensor{1, -2, 3}, "tensor([ 1, -2,  3])")
is(nn.tensor{0.5, 1.25}, "tensor([0.5000, 1.2500])")
is(nn.tensor{-1.5}, "tensor([-1.5000])")
is(nn.tensor{1, 2.5, -10}, "tensor([  1.0000,   2.5000, -10.0000])")
is(nn.tensor{-0.0, 1}, "tensor([0, 1])")
is(nn.tensor{0/0, 1/0, -1/0, 1}, "tensor([ nan,  inf, -inf,    1])")
is(nn.tensor{1e7, 1.5}, "tensor([1.0000e+07, 1.5000e+00])")
is(nn.tensor{1e-5, 1}, "tensor([1.0000e-05, 1.0000e+00])")
is(nn.tensor{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}},
   "tensor([[[1, 2],\n         [3, 4]],\n\n        [[5, 6],\n         [7, 8]]])")
is(nn.zeros(0), "tensor([], shape=[0])")
is(nn.zeros(2, 0), "tensor([], shape=[2x0])")
is(nn.zeros(1, 1, 1, 1), "tensor([[[[0]]]])")
-- Views print their own part only.
is(nn.tensor{{1, 2}, {3, 4}}[2], "tensor([3, 4])")

-- Up to 100 elements print in full; above, the edges and the shape.
do
  local s = tostring(nn.arange(100))
  check(s:find("99])", 1, true) and not s:find("...", 1, true) and not s:find("shape"))
end
is(nn.arange(200), "tensor([  0,   1,   2, ..., 197, 198, 199], shape=[200])")
is(nn.arange(300):reshape(100, 3), table.concat({
  "tensor([[  0,   1,   2],",
  "        [  3,   4,   5],",
  "        [  6,   7,   8],",
  "        ...,",
  "        [291, 292, 293],",
  "        [294, 295, 296],",
  "        [297, 298, 299]], shape=[100x3])"}, "\n"))
do
  -- 3-D: elided blocks are separated by blank lines, as numpy does
  local s = tostring(nn.arange(1000):reshape(10, 10, 10))
  check(s:find("[290, 291, 292, ..., 297, 298, 299]],\n\n        ...,\n\n        [[700,", 1, true), s)
  local first = "tensor([[[  0,   1,   2, ...,   7,   8,   9],\n"
  check(s:sub(1, #first) == first, s:sub(1, #first))
  check(s:sub(-22) == "]]], shape=[10x10x10])", s:sub(-22))
  local lines = select(2, s:gsub("\n", ""))
  check(lines < 60, "a summary stays short")
end
-- The format is chosen from all elements, even hidden ones.
do
  local t = nn.arange(200)
  t[150] = 0.5
  check(tostring(t):find("199.0000]", 1, true), tostring(t))
end
-- Wide floats: a large random tensor prints with 4 decimals.
do
  nn.seed(9)
  local s = tostring(nn.rand(100, 20))
  check(s:match("^tensor%(%[%[0%.%d%d%d%d, ") and s:find("shape=[100x20])", 1, true), s)
end

-- print goes through __tostring; a closed tensor prints as such.
do
  local t = nn.ones(1)
  check(tostring(t) == "tensor([1])")
  t:close()
  check(tostring(t) == "tensor(closed)")
  check(getmetatable(nn.ones(1)).__name == "nn.Tensor")
end

print("test_tensor_print: ok")
