-- tostring of nn.Tensor: numpy-like layout, one number format per tensor
-- (integers bare, else 4 decimals, scientific for very large or small),
-- right-aligned columns, and summaries with "..." and the shape above 100
-- elements.
local H = require "helper"
local T = H.test
local check = H.check

local function is(t, want)
  local got = tostring(t)
  check(got == want, "printed\n" .. got .. "\nexpected\n" .. want)
end

T("number formats: integers, 4 decimals, scientific, nan/inf, -0", function()
  is(nn.tensor{{1, 2}, {3, 4}}, "tensor([[1, 2],\n        [3, 4]])")
  is(nn.tensor{1, -2, 3}, "tensor([ 1, -2,  3])")
  is(nn.tensor{0.5, 1.25}, "tensor([0.5000, 1.2500])")
  is(nn.tensor{-1.5}, "tensor([-1.5000])")
  is(nn.tensor{1, 2.5, -10}, "tensor([  1.0000,   2.5000, -10.0000])")
  is(nn.tensor{-0.0, 1}, "tensor([0, 1])")
  is(nn.tensor{0/0, 1/0, -1/0, 1}, "tensor([ nan,  inf, -inf,    1])")
  is(nn.tensor{1e7, 1.5}, "tensor([1.0000e+07, 1.5000e+00])")
  is(nn.tensor{1e-5, 1}, "tensor([1.0000e-05, 1.0000e+00])")
end)
T("3-D, 4-D, empty tensors and views", function()
  is(nn.tensor{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}},
     "tensor([[[1, 2],\n         [3, 4]],\n\n        [[5, 6],\n         [7, 8]]])")
  is(nn.zeros(0), "tensor([], shape=[0])")
  is(nn.zeros(2, 0), "tensor([], shape=[2x0])")
  is(nn.zeros(1, 1, 1, 1), "tensor([[[[0]]]])")
  -- Views print their own part only.
  is(nn.tensor{{1, 2}, {3, 4}}[2], "tensor([3, 4])")
end)

-- Up to 100 elements print in full; above, the edges and the shape.
T("Up to 100 elements print in full; above, the edges and the shape", function()
  local s = tostring(nn.arange(100))
  check(s:find("99])", 1, true) and not s:find("...", 1, true) and not s:find("shape"))
end)
T("elision: 1-D and 2-D edges, '...', the shape", function()
  is(nn.arange(200), "tensor([  0,   1,   2, ..., 197, 198, 199], shape=[200])")
  is(nn.arange(300):reshape(100, 3), table.concat({
    "tensor([[  0,   1,   2],",
    "        [  3,   4,   5],",
    "        [  6,   7,   8],",
    "        ...,",
    "        [291, 292, 293],",
    "        [294, 295, 296],",
    "        [297, 298, 299]], shape=[100x3])"}, "\n"))
end)
T("elision: a 100x20 tensor, integers and floats", function()
  local t = nn.arange(2000):reshape(100, 20)
  is(t, table.concat({
    "tensor([[   0,    1,    2, ...,   17,   18,   19],",
    "        [  20,   21,   22, ...,   37,   38,   39],",
    "        [  40,   41,   42, ...,   57,   58,   59],",
    "        ...,",
    "        [1940, 1941, 1942, ..., 1957, 1958, 1959],",
    "        [1960, 1961, 1962, ..., 1977, 1978, 1979],",
    "        [1980, 1981, 1982, ..., 1997, 1998, 1999]], shape=[100x20])"}, "\n"))
  is(t / 4, table.concat({
    "tensor([[  0.0000,   0.2500,   0.5000, ...,   4.2500,   4.5000,   4.7500],",
    "        [  5.0000,   5.2500,   5.5000, ...,   9.2500,   9.5000,   9.7500],",
    "        [ 10.0000,  10.2500,  10.5000, ...,  14.2500,  14.5000,  14.7500],",
    "        ...,",
    "        [485.0000, 485.2500, 485.5000, ..., 489.2500, 489.5000, 489.7500],",
    "        [490.0000, 490.2500, 490.5000, ..., 494.2500, 494.5000, 494.7500],",
    "        [495.0000, 495.2500, 495.5000, ..., 499.2500, 499.5000, 499.7500]], shape=[100x20])"},
    "\n"))
  -- printing does not change the tensor
  check(t:sum() == 1999 * 1000)
end)

T("nan and inf among floats and in 2-D", function()
  is(nn.tensor{{1.5, 0/0}, {1/0, -1/0}}, "tensor([[1.5000,    nan],\n        [   inf,   -inf]])")
  is(nn.tensor{0/0}, "tensor([nan])")
  is(nn.full({2}, 1/0), "tensor([inf, inf])")
end)

T("3-D summaries separate elided blocks by blank lines", function()
  -- 3-D: elided blocks are separated by blank lines, as numpy does
  local s = tostring(nn.arange(1000):reshape(10, 10, 10))
  check(s:find("[290, 291, 292, ..., 297, 298, 299]],\n\n        ...,\n\n        [[700,", 1, true), s)
  local first = "tensor([[[  0,   1,   2, ...,   7,   8,   9],\n"
  check(s:sub(1, #first) == first, s:sub(1, #first))
  check(s:sub(-22) == "]]], shape=[10x10x10])", s:sub(-22))
  local lines = select(2, s:gsub("\n", ""))
  check(lines < 60, "a summary stays short")
end)
-- The format is chosen from all elements, even hidden ones.
T("The format is chosen from all elements, even hidden ones", function()
  local t = nn.arange(200)
  t[150] = 0.5
  check(tostring(t):find("199.0000]", 1, true), tostring(t))
end)
-- Wide floats: a large random tensor prints with 4 decimals.
T("Wide floats: a large random tensor prints with 4 decimals", function()
  nn.seed(9)
  local s = tostring(nn.rand(100, 20))
  check(s:match("^tensor%(%[%[0%.%d%d%d%d, ") and s:find("shape=[100x20])", 1, true), s)
end)

-- print goes through __tostring; a closed tensor prints as such.
T("print goes through __tostring; a closed tensor prints as such", function()
  local t = nn.ones(1)
  check(tostring(t) == "tensor([1])")
  t:close()
  check(tostring(t) == "tensor(closed)")
  check(getmetatable(nn.ones(1)).__name == "nn.Tensor")
end)

H.done()
