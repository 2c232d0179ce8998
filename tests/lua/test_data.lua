-- nn.data: shipped data sets, generators (deterministic under nn.seed),
-- one_hot, split, shuffle, standardize, IDX and Fashion-MNIST errors.

local function check(cond, msg)
  if not cond then error(msg or "check failed", 2) end
end

local function checkerr(msg, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  check(err:find(msg, 1, true), "error '" .. err .. "' does not contain '" .. msg .. "'")
end

local function same(a, b)
  local ta, tb = a:totable(), b:totable()
  local function eq(u, v)
    if type(u) ~= type(v) then return false end
    if type(u) ~= "table" then return u == v end
    if #u ~= #v then return false end
    for i = 1, #u do if not eq(u[i], v[i]) then return false end end
    return true
  end
  return eq(ta, tb)
end

-- Shipped data, found from any working directory.
do
  local x, y, info = nn.data.iris()
  local r, c = x:shape()
  check(r == 150 and c == 4, "iris is 150x4")
  check(#info.classes == 3 and info.classes[1] == "setosa", "iris classes")
  check(y:max() == 3 and y:min() == 1, "iris labels 1..3")
  local dx, dy, dinfo = nn.data.digits()
  r, c = dx:shape()
  check(r == 1797 and c == 64, "digits is 1797x64")
  check(#dinfo.classes == 10 and dinfo.classes[1] == "0", "digit classes")
  check(dy:min() == 1 and dy:max() == 10, "digit labels 1..10")
end

-- Generators: same seed, same data; another seed, other data.
do
  nn.seed(5)
  local a, ay = nn.data.spiral(90, 3)
  nn.seed(5)
  local b, by = nn.data.spiral(90, 3)
  check(same(a, b) and same(ay, by), "spiral repeats under nn.seed")
  nn.seed(6)
  local c = nn.data.spiral(90, 3)
  check(not same(a, c), "another seed gives other points")
  check(#a == 90 and ay:max() == 3, "spiral shape and classes")
  nn.seed(1)
  local m, my = nn.data.moons(100, 0.05)
  check(#m == 100 and my:min() == 1 and my:max() == 2, "moons")
  local s, sy = nn.data.sine(50)
  check(#s == 50 and #sy == 50, "sine")
  local x, y = nn.data.xor()
  check(#x == 4 and y:sum() == 2, "xor truth table")
  checkerr("classes must be", nn.data.spiral, 10, 0)
  -- counts are range-checked and reported as given, never cut
  checkerr("nn.data.spiral: n must be an integer in 1..67108864, got 2.5", nn.data.spiral, 2.5)
  checkerr("nn.data.moons: n must be an integer in 1..67108864, got 4294967297",
           nn.data.moons, 2^32 + 1 | 0)
  checkerr("nn.data.sine: n must be an integer in 1..67108864, got 0", nn.data.sine, 0)
  checkerr("nn.data.one_hot: the number of classes must be an integer in 1..16777216, got 0",
           nn.data.one_hot, nn.tensor({1}), 0)
  checkerr("nn.data.csv: opts.label (a column number) must be an integer >= 1, got 1.5",
           nn.data.csv, "x.csv", {label = 1.5})
  check(#nn.data.spiral(6.0) == 6, "a whole float is a count")
end

-- one_hot, split, shuffle, standardize.
do
  local y = nn.tensor({2, 1, 3})
  local h = nn.data.one_hot(y, 3)
  check(h:get(1, 2) == 1 and h:get(2, 1) == 1 and h:get(3, 3) == 1 and h:sum() == 3,
        "one_hot")
  checkerr("label 3 is 4", nn.data.one_hot, nn.tensor({1, 2, 4}), 3)

  local x = nn.tensor({{1, 10}, {2, 20}, {3, 30}, {4, 40}, {5, 50}})
  local yy = nn.tensor({1, 2, 3, 4, 5})
  nn.seed(3)
  local xa, ya, xb, yb = nn.data.split(x, yy, 0.6)
  check(#xa == 3 and #xb == 2 and #ya == 3 and #yb == 2, "split sizes")
  for i = 1, 3 do check(xa:get(i, 1) == ya:get(i), "pairs kept in train") end
  for i = 1, 2 do check(xb:get(i, 2) == 10 * yb:get(i), "pairs kept in test") end
  nn.seed(3)
  local xa2 = nn.data.split(x, yy, 0.6)
  check(same(xa, xa2), "split repeats under nn.seed")

  local xs, ys = nn.data.shuffle(x, yy)
  for i = 1, 5 do check(xs:get(i, 1) == ys:get(i), "shuffle keeps pairs") end
  check(xs:sum() == x:sum(), "shuffle keeps the rows")

  local z, mean, std = nn.data.standardize(x)
  check(math.abs(mean:get(1) - 3) < 1e-6 and math.abs(z:mean()) < 1e-6, "standardize")
  local z2 = nn.data.standardize(x, mean, std)
  check(same(z, z2), "same transform with given mean and std")
end

-- IDX and Fashion-MNIST errors say what is wrong.
do
  local p = os.tmpname()
  local f = assert(io.open(p, "wb"))
  f:write("\0\0\8\1\0\0\0\9abc") -- 9 values promised, 3 given
  f:close()
  checkerr("holds 3 data bytes", nn.data.idx, p)
  f = assert(io.open(p, "wb"))
  f:write("\0\0\8\1\0\0\0\3abc")
  f:close()
  local t = nn.data.idx(p)
  check(#t == 3 and t:get(1) == 97, "idx values")
  os.remove(p)
  checkerr("apt-get install dataset-fashion-mnist", nn.data.fashion_mnist,
           {path = "/nonexistent"})
end

print("test_data: ok")
