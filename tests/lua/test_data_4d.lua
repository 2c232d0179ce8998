-- Tensors of 4 dimensions (a batch of images {n, h, w, c}) everywhere a
-- 2-D matrix works: construction, indexing, views, reductions, arithmetic,
-- printing, the nn.data helpers (split, shuffle,
-- standardize, batching by rows) and a Conv2D model's predict, evaluate
-- and fit (batching, shuffle, validation_split, validation_data) and model
-- files. Images carry their sample number in a pixel, so every row
-- operation can be checked to move whole images, never parts of them.
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check, checkerr, shape, same = H.test, H.check, H.checkerr, H.shape, H.same

-- n images of h x w x c where element (i, r, s, k) is i*1000 + r*100 + s*10 + k:
-- its value names its place.
local function coded(n, h, w, c)
  local t = nn.zeros(n, h, w, c)
  for i = 1, n do
    for r = 1, h do
      for s = 1, w do
        for k = 1, c do t:set(i, r, s, k, i * 1000 + r * 100 + s * 10 + k) end
      end
    end
  end
  return t
end

-- true when image j of a holds exactly what image i of b does.
local function same_image(a, j, b, i)
  return H.eq_table(a[j], b[i])
end

T("construction, shape, get/set, totable", function()
  local t = nn.zeros(2, 3, 4, 5)
  shape(t, 2, 3, 4, 5)
  check(t:dim() == 4 and t:numel() == 120 and #t == 2)
  t:set(2, 3, 4, 5, 7)
  check(t:get(2, 3, 4, 5) == 7 and t:sum() == 7)
  shape(nn.ones{1, 2, 3, 4}, 1, 2, 3, 4)
  shape(nn.full({2, 1, 1, 3}, 4), 2, 1, 1, 3)
  shape(nn.rand(3, 2, 2, 1), 3, 2, 2, 1)
  shape(nn.randn(3, 2, 2, 1), 3, 2, 2, 1)
  local nested = {{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}}
  local u = nn.tensor(nested)
  shape(u, 1, 2, 2, 2)
  same(u, nested)
  local f = nn.tensor({1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2})
  check(H.eq_table(f, u), "flat + shape equals nested")
  check(u:get(1, 2, 1, 2) == 6)
  checkerr("get: 3 indices given for a tensor of shape [1x2x2x2] (needs 4)", u.get, u, 1, 1, 1)
  checkerr("get: index 3 out of range for dimension 3 of [1x2x2x2]", u.get, u, 1, 1, 3, 1)
  checkerr("set: index 0 out of range for dimension 4", u.set, u, 1, 1, 1, 0, 5)
end)

T("indexing: t[i] is a 3-D view of image i, assignable", function()
  local x = coded(3, 2, 3, 2)
  local img = x[2]
  shape(img, 2, 3, 2)
  check(img:get(2, 3, 1) == 2231, "view element")
  shape(img[1], 3, 2)
  shape(img[1][3], 2)
  check(img[1][3][2] == 2132, "t[i][j][k][l] reaches a number")
  img:set(1, 1, 1, -1)
  check(x:get(2, 1, 1, 1) == -1, "a view shares storage")
  x[3] = 0
  check(x[3]:sum() == 0 and x:get(1, 1, 1, 1) == 1111, "fill image 3 with a number")
  x[3] = coded(1, 2, 3, 2)[1]
  check(x:get(3, 2, 3, 2) == 1232, "copy a 2x3x2 image in")
  x[1] = coded(1, 2, 3, 2) -- a 1 x h x w x c tensor fills one image
  check(x:get(1, 2, 2, 2) == 1222)
  checkerr("t[i] = v: cannot assign shape [3x2x2] to a row of shape [2x3x2]",
           function() x[1] = nn.zeros(3, 2, 2) end)
  checkerr("t[i]: index 4 out of range for dimension 1 of size 3", function() return x[4] end)
end)

T("views and copies: rows, reshape, clone, cat", function()
  local x = coded(5, 2, 2, 1)
  local r = x:rows(2, 4)
  shape(r, 3, 2, 2, 1)
  check(same_image(r, 1, x, 2) and same_image(r, 3, x, 4))
  r:set(1, 1, 1, 1, 0)
  check(x:get(2, 1, 1, 1) == 0, "rows is a view")
  local flat = x:reshape(5, -1)
  shape(flat, 5, 4)
  check(flat:get(3, 4) == x:get(3, 2, 2, 1))
  shape(flat:reshape(5, 2, 2, 1), 5, 2, 2, 1)
  shape(x:reshape{-1}, 20)
  local c = x:clone()
  c:set(1, 1, 1, 1, 42)
  check(x:get(1, 1, 1, 1) == 1111, "clone is a copy")
  local cat = nn.cat({x, c}, 1)
  shape(cat, 10, 2, 2, 1)
  check(same_image(cat, 6, c, 1))
  shape(nn.cat({x, x}, 4), 5, 2, 2, 2)
  shape(nn.cat({x, x, x}, 2), 5, 6, 2, 1)
  check(nn.cat({x, c}, 4):get(1, 1, 1, 2) == 42)
  checkerr("nn.cat: dimension 5 out of range for shape [5x2x2x1]", nn.cat, {x}, 5)
end)

T("reductions along each of the 4 dimensions", function()
  local x = nn.tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 3, 1, 2})
  check(x:sum() == 78 and x:max() == 12 and x:min() == 1 and x:argmax() == 12)
  local s1 = x:sum(1)
  check(s1:numel() == 6 and s1:sum() == 78, "sum over images")
  check(s1:get(1, 1, 1) == 1 + 7, "sum(1) element")
  local s4 = x:sum(4)
  check(s4:numel() == 6 and s4:get(2, 3, 1) == 11 + 12, "sum over channels")
  local m2 = x:max(2)
  check(m2:get(1, 1, 2) == 6 and m2:get(2, 1, 1) == 11, "max over rows")
  local a4 = x:argmax(4)
  check(a4:sum() == 12, "argmax over 2 channels: every index is 2 (1-based)")
  local mean3 = x:mean(3)
  check(mean3:sum() == 78, "mean over a dimension of size 1")
  checkerr("sum: dimension 5 out of range for shape [2x3x1x2]", x.sum, x, 5)
end)

T("arithmetic and broadcasting on 4-D", function()
  local x = coded(2, 2, 2, 3)
  local y = x + x
  shape(y, 2, 2, 2, 3)
  check(y:get(2, 2, 1, 3) == 2 * 2213)
  check((x * 0 + 1):sum() == 24 and (-x):get(1, 1, 1, 1) == -1111 and (x / 2):get(1, 1, 1, 2) == 556)
  -- per channel (the last dimension), as image scaling does
  local scale = nn.tensor{1, 10, 100}
  local z = x * scale
  check(z:get(1, 2, 2, 3) == 1223 * 100 and z:get(2, 1, 1, 1) == 2111)
  check((x - x):sum() == 0)
  shape(x:map(function(v) return v % 10 end), 2, 2, 2, 3)
  check(x:map(function(v) return v % 10 end):sum() == 2 * 4 * (1 + 2 + 3))
end)

T("printing: Torch layout, elided and bounded", function()
  local t = nn.tensor({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 1, 2})
  local want = table.concat({
    "tensor([[[[1, 2]],",
    "",
    "         [[3, 4]]],",
    "",
    "",
    "        [[[5, 6]],",
    "",
    "         [[7, 8]]]])"}, "\n")
  check(tostring(t) == want, "printed\n" .. tostring(t) .. "\nexpected\n" .. want)
  -- a large batch of images shows 3 at each edge of every long dimension,
  -- "..." between and the shape; a batch of 60000 prints as few lines as
  -- one of 7
  local big = nn.zeros(60000, 28, 28, 1)
  big:set(60000, 28, 28, 1, 5)
  local s = tostring(big)
  check(s:find("shape=[60000x28x28x1])", 1, true), s:sub(-80))
  check(s:find("...", 1, true))
  local lines = select(2, s:gsub("\n", "\n"))
  -- 6 x 6 x 6 shown pixels, one per line as PyTorch prints [n, h, w, 1]
  check(#s < 6000 and lines < 400, string.format("%d characters, %d lines", #s, lines))
  check(s:sub(-40):find("5]]]], shape", 1, true), "the last pixel is shown: " .. s:sub(-60))
  local small = tostring(nn.zeros(7, 28, 28, 1))
  check(select(2, small:gsub("\n", "\n")) == lines, "same bound for 7 images")
  -- exactly PyTorch 1.13's text, plus the shape nnlua adds to a summary:
  -- tests/data/print_4d_torch.txt is the output of
  -- print(torch.arange(2000).reshape(10, 10, 10, 2))
  local f = assert(io.open("../data/print_4d_torch.txt", "rb"))
  local torch_text = f:read("a"):gsub("\n$", "")
  f:close()
  local ours = tostring(nn.arange(2000):reshape(10, 10, 10, 2))
  check(ours == torch_text:gsub("%]%)$", "], shape=[10x10x10x2])"),
        "as PyTorch prints it:\n" .. ours)
  -- a view of one image prints as a 3-D tensor
  check(tostring(t[2]) == "tensor([[[5, 6]],\n\n        [[7, 8]]])", tostring(t[2]))
end)

T("nn.data.split and shuffle move whole images with their labels", function()
  nn.seed(11)
  local n = 50
  local x = coded(n, 3, 2, 2)
  local y = nn.arange(n) + 1 -- label i for image i
  local xs, ys = nn.data.shuffle(x, y)
  shape(xs, n, 3, 2, 2)
  check(xs:sum() == x:sum())
  local moved = 0
  for j = 1, n do
    local i = ys:get(j)
    check(same_image(xs, j, x, i), "shuffled image " .. j .. " is image " .. i)
    if i ~= j then moved = moved + 1 end
  end
  check(moved > n / 2, "the order changed")
  shape(nn.data.shuffle(x), n, 3, 2, 2)

  local xtr, ytr, xte, yte = nn.data.split(x, y, 0.8)
  shape(xtr, 40, 3, 2, 2)
  shape(xte, 10, 3, 2, 2)
  shape(ytr, 40)
  local seen = {}
  for _, part in ipairs{{xtr, ytr}, {xte, yte}} do
    for j = 1, #part[1] do
      local i = part[2]:get(j)
      check(same_image(part[1], j, x, i) and not seen[i], "split keeps pairs")
      seen[i] = true
    end
  end
  -- y one-hot or 2-D with x 4-D, and x 4-D with y 4-D (masks)
  local a, b = nn.data.split(x, nn.data.one_hot(y, n), 0.5)
  shape(b, 25, n)
  for j = 1, 25 do check(same_image(a, j, x, b[j]:argmax()), "one-hot pairs") end
  local m1, m2 = nn.data.shuffle(x, x * 2)
  check(H.eq_table(m1 * 2, m2), "4-D y follows x")
  checkerr("nn.data.split: split: x [50x3x2x2] and y [49] have different numbers of rows",
           nn.data.split, x, nn.zeros(49), 0.5)
end)

T("nn.data.standardize on images: per pixel and channel", function()
  nn.seed(12)
  local x = nn.rand(20, 3, 3, 2) * 5 + 1
  local z, mean, std = nn.data.standardize(x)
  shape(z, 20, 3, 3, 2)
  shape(mean, 3, 3, 2)
  shape(std, 3, 3, 2)
  H.near(z:mean(1):max(), 0, 1e-5, "mean 0 per feature")
  H.near((z * z):mean(1):min(), 1, 1e-4, "variance 1 per feature")
  H.near(mean:get(2, 3, 1), x:mean(1):get(2, 3, 1), 1e-5, "mean of one pixel")
  local z2 = nn.data.standardize(x, mean, std)
  check(H.close(z, z2, 0), "given mean and std: the same transform")
  local z3 = nn.data.standardize(x:reshape(20, 18), mean:reshape(18), std:reshape(18))
  check(H.close(z3:reshape(20, 3, 3, 2), z, 0), "same as on the flat rows")
  checkerr("x [20x3x3x2] needs mean and std of 18 values", nn.data.standardize, x,
           nn.zeros(3), nn.ones(3))
end)

-- Batching as a training loop does it: rows of a 4-D tensor.
T("batches by rows: views of whole images", function()
  local x = coded(10, 2, 2, 1)
  local seen = 0
  for first = 1, #x, 4 do
    local last = math.min(first + 3, #x)
    local b = x:rows(first, last)
    shape(b, last - first + 1, 2, 2, 1)
    for j = 1, #b do check(same_image(b, j, x, first + j - 1)) end
    seen = seen + #b
  end
  check(seen == 10)
end)

-- A small CNN and a data set it can learn: 6x6 images whose class is the
-- quadrant (1..4) holding a bright 2x2 square, with noise.
local function quadrants(n, seed)
  nn.seed(seed)
  local x = nn.rand(n, 6, 6, 1) * 0.2
  local y = nn.zeros(n)
  for i = 1, n do
    local q = (i - 1) % 4 + 1
    y:set(i, q)
    local r0 = (q == 1 or q == 2) and 1 or 4
    local c0 = (q == 1 or q == 3) and 1 or 4
    for r = r0, r0 + 1 do
      for c = c0, c0 + 1 do x:set(i, r, c, 1, 1) end
    end
  end
  return x, y
end

local function cnn(seed)
  nn.seed(seed)
  local m = nn.Sequential{
    nn.Conv2D(4, 3, {activation = "relu", input_shape = {6, 6, 1}}),
    nn.MaxPooling2D(2),
    nn.Flatten(),
    nn.Dense(4, {activation = "softmax"}),
  }
  m:compile{loss = "sparse_categorical_crossentropy",
            optimizer = nn.optimizers.Adam{lr = 0.03}, metrics = {"accuracy"}}
  return m
end

T("Conv2D model: predict, batch sizes, evaluate", function()
  local x, y = quadrants(37, 1)
  local m = cnn(2)
  local p = m:predict(x)
  shape(p, 37, 4)
  for _, bs in ipairs{1, 5, 36, 37, 100} do
    check(H.close(m:predict(x, {batch_size = bs}), p, 1e-5), "batch_size " .. bs)
  end
  check(H.close(m:predict(x:rows(10, 12)), p:rows(10, 12), 1e-5), "a view of rows")
  check(H.close(m:predict(x[10]:reshape(1, 6, 6, 1)), p:rows(10, 10), 1e-5), "one image")
  -- evaluate's loss is the mean cross-entropy of predict's probabilities
  local want = 0
  for i = 1, 37 do want = want - math.log(p:get(i, y:get(i))) end
  want = want / 37
  for _, bs in ipairs{1, 8, 37} do
    local loss, metrics = m:evaluate(x, y, {batch_size = bs})
    H.near(loss, want, 1e-4, "evaluate loss, batch_size " .. bs)
    check(metrics.accuracy >= 0 and metrics.accuracy <= 1)
  end
  checkerr("x has shape [3x6x5x1] but the model expects input (None, 6, 6, 1)",
           m.predict, m, nn.zeros(3, 6, 5, 1))
  checkerr("x has 37 samples but y has 36", m.evaluate, m, x, y:rows(1, 36))
end)

T("Conv2D model: fit with shuffle, batches, validation_split, validation_data", function()
  local x, y = quadrants(200, 3)
  local xv, yv = quadrants(40, 4)
  local m = cnn(5)
  local h = m:fit(x, y, {epochs = 8, batch_size = 16, verbose = 0,
                         validation_data = {xv, yv}})
  check(#h.history.loss == 8 and #h.history.val_loss == 8, "per-epoch records")
  check(h.history.loss[8] < h.history.loss[1], "the loss falls")
  local _, metrics = m:evaluate(xv, yv)
  check(metrics.accuracy >= 0.9, "learns the quadrants: " .. metrics.accuracy)
  H.near(h.history.val_accuracy[8], metrics.accuracy, 1e-6, "val_accuracy is evaluate's")

  -- validation_split takes the last samples, unshuffled, as Keras does
  local m2 = cnn(5)
  local h2 = m2:fit(x, y, {epochs = 2, batch_size = 7, verbose = 0, shuffle = false,
                           validation_split = 0.25})
  local vloss = m2:evaluate(x:rows(151, 200), y:rows(151, 200))
  H.near(h2.history.val_loss[2], vloss, 1e-4, "validation_split is the last quarter")

  -- shuffle = false with the same seed is reproducible; shuffle changes the path
  local a = cnn(6)
  a:fit(x, y, {epochs = 1, batch_size = 32, verbose = 0, shuffle = false})
  local b = cnn(6)
  b:fit(x, y, {epochs = 1, batch_size = 32, verbose = 0, shuffle = false})
  check(H.close(a:predict(x), b:predict(x), 0), "same order, same weights")
  local c = cnn(6)
  c:fit(x, y, {epochs = 1, batch_size = 32, verbose = 0, shuffle = true})
  check(not H.close(a:predict(x), c:predict(x), 1e-6), "shuffled batches differ")

  checkerr("fit: option 'validation_data' must be {x, y}", m.fit, m, x, y,
           {validation_data = {xv}, verbose = 0})
  checkerr("x has shape [40x6x6x2]", m.fit, m, x, y,
           {validation_data = {nn.zeros(40, 6, 6, 2), yv}, verbose = 0})
end)

T("4-D targets: a conv model that outputs images (mse)", function()
  nn.seed(7)
  local x = nn.rand(24, 5, 5, 2)
  local y = x * 0.5
  local m = nn.Sequential{nn.Conv2D(2, 1, {input_shape = {5, 5, 2}})}
  m:compile{loss = "mse", optimizer = nn.optimizers.Adam{lr = 0.05}}
  local h = m:fit(x, y, {epochs = 30, batch_size = 8, verbose = 0, validation_split = 0.25})
  check(h.history.loss[30] < h.history.loss[1] * 0.2, "fits a 1x1 conv to x/2")
  local p = m:predict(x)
  shape(p, 24, 5, 5, 2)
  local loss = m:evaluate(x, y)
  H.near(loss, ((p - y) * (p - y)):mean(), 1e-5, "evaluate on 4-D targets")
  checkerr("y has shape [24x5x5x1] but the model outputs", m.evaluate, m, x, nn.zeros(24, 5, 5, 1))
end)

T("model files: a conv model saved and loaded predicts the same", function()
  local x, y = quadrants(40, 8)
  local m = cnn(9)
  m:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0})
  local p = os.tmpname()
  m:save(p)
  local m2 = nn.load(p)
  os.remove(p)
  check(H.close(m2:predict(x), m:predict(x), 0), "same predictions")
  local l1 = m:evaluate(x, y)
  local l2 = m2:evaluate(x, y)
  H.near(l1, l2, 1e-6, "same loss")
  -- and it trains on from there
  m2:fit(x, y, {epochs = 1, batch_size = 8, verbose = 0})
end)

T("digits as images through a CNN", function()
  local x, y = nn.data.digits{flatten = false}
  x = x / 16
  local xtr, ytr, xte, yte = nn.data.split(x, y, 0.8)
  shape(xtr, 1438, 8, 8, 1)
  nn.seed(10)
  local m = nn.Sequential{
    nn.Conv2D(8, 3, {activation = "relu", input_shape = {8, 8, 1}}),
    nn.MaxPooling2D(2),
    nn.Flatten(),
    nn.Dense(10, {activation = "softmax"}),
  }
  m:compile{loss = "sparse_categorical_crossentropy",
            optimizer = nn.optimizers.Adam{lr = 0.01}, metrics = {"accuracy"}}
  m:fit(xtr, ytr, {epochs = 4, batch_size = 32, verbose = 0})
  local _, metrics = m:evaluate(xte, yte)
  check(metrics.accuracy > 0.9, "digits CNN after 4 epochs: " .. metrics.accuracy)
end)

H.done()
