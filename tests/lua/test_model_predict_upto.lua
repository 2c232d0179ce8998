-- model:predict(x, {upto = i}): the output of layer i (what
-- nn.plot.feature_maps draws), checked against the layers computed by hand
-- from their weights, and against a full predict; the option's errors.
local H = dofile("helper.lua")
local check, checkerr = H.check, H.checkerr

H.test("dense layers by hand", function()
  nn.seed(3)
  local m = nn.Sequential({nn.Dense(3, {input_dim = 2, activation = "relu"}),
                           nn.Dense(2, {activation = "softmax"})})
  local x = nn.tensor({{0.5, -1}, {2, 0.25}, {-1, -1}})
  local w = m.layers[1]:get_weights()
  local k, b = w[1]:totable(), w[2]:totable()
  local h = m:predict(x, {upto = 1})
  H.shape(h, 3, 3)
  local xt = x:totable()
  for i = 1, 3 do
    for j = 1, 3 do
      local z = b[j] + xt[i][1] * k[1][j] + xt[i][2] * k[2][j]
      H.near(h:get(i, j), math.max(z, 0), 1e-6, "relu(x W + b)")
    end
  end
  check(H.close(m:predict(x, {upto = 2}), m:predict(x)), "upto = #layers is predict")
  check(H.close(m:predict(x, {upto = 1, batch_size = 1}), h), "batches do not matter")
end)

H.test("conv and pooling outputs", function()
  nn.seed(4)
  local m = nn.Sequential({nn.Conv2D(2, 3, {input_shape = {5, 4, 1}}), nn.MaxPooling2D(2),
                           nn.Flatten(), nn.Dense(3)})
  local x = nn.randn(2, 5, 4, 1)
  local c = m:predict(x, {upto = 1})
  H.shape(c, 2, 3, 2, 2)
  local w = m.layers[1]:get_weights()
  local k, b = w[1], w[2]
  -- a naive valid convolution, channels last
  for n = 1, 2 do
    for i = 1, 3 do
      for j = 1, 2 do
        for f = 1, 2 do
          local s = b:get(f)
          for di = 1, 3 do
            for dj = 1, 3 do s = s + x:get(n, i + di - 1, j + dj - 1, 1) * k:get(di, dj, 1, f) end
          end
          H.near(c:get(n, i, j, f), s, 1e-5, "conv output")
        end
      end
    end
  end
  local p = m:predict(x, {upto = 2})
  H.shape(p, 2, 1, 1, 2)
  for n = 1, 2 do
    for f = 1, 2 do
      local best = -math.huge
      for i = 1, 2 do for j = 1, 2 do best = math.max(best, c:get(n, i, j, f)) end end
      H.near(p:get(n, 1, 1, f), best, 0, "max pooling of the conv output")
    end
  end
  H.shape(m:predict(x, {upto = 3}), 2, 2)
  check(H.close(m:predict(x, {upto = 4}), m:predict(x)), "the last layer is predict")
end)

H.test("unbuilt model is built from x", function()
  local m = nn.Sequential({nn.Dense(4), nn.Dense(1)})
  H.shape(m:predict(nn.ones(2, 3), {upto = 1}), 2, 4)
  check(m.built, "built by predict upto")
end)

H.test("errors", function()
  local m = nn.Sequential({nn.Dense(2, {input_dim = 2}), nn.Dense(1)})
  local x = nn.ones(1, 2)
  checkerr("predict: upto is 3 but the model has 2 layers", m.predict, m, x, {upto = 3})
  checkerr("predict: option 'upto' must be an integer >= 1, got 0", m.predict, m, x, {upto = 0})
  checkerr("option 'upto' must be an integer >= 1, got 1.5", m.predict, m, x, {upto = 1.5})
  checkerr("option 'upto' must be an integer >= 1", m.predict, m, x, {upto = "a"})
end)

H.done()
