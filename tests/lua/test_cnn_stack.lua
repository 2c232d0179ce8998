-- BatchNormalization, Dropout and Flatten after convolution and pooling
-- layers, from Lua: the summary's shapes and counts as Keras prints them
-- (BatchNormalization: 4 weights per channel, half not trainable), the
-- per-channel statistics of BatchNormalization on images, and CNNs (2-D
-- and 1-D) that fit, save and load with equal predictions.
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check = H.test, H.check

T("summary of a Keras-style CNN", function()
  local m = nn.Sequential{
    nn.Conv2D(32, 3, {input_shape = {28, 28, 1}}),
    nn.BatchNormalization(),
    nn.Activation("relu"),
    nn.MaxPooling2D(2),
    nn.Dropout(0.25),
    nn.Conv2D(64, 3, {activation = "relu"}),
    nn.BatchNormalization(),
    nn.GlobalAveragePooling2D(),
    nn.Dropout(0.5),
    nn.Dense(10, {activation = "softmax"}),
  }
  local s = m:summary{print = false}
  check(s:find("(BatchNormalization)", 1, true) and s:find("%(None, 26, 26, 32%)%s+128\n"))
  check(s:find("(None, 13, 13, 32)", 1, true) and s:find("%(None, 11, 11, 64%)%s+256\n"))
  check(s:find("(None, 64)", 1, true))
  check(H.eq(m.layers[5].output_shape, {13, 13, 32}), "Dropout keeps the maps' shape")
  check(m:count_params() == 320 + 128 + 18496 + 256 + 650)
  check(s:find("Non-trainable params: 192", 1, true), "the moving statistics")
  local ws = m.layers[2]:get_weights()
  check(#ws == 4)
  for i = 1, 4 do check(H.eq({ws[i]:shape()}, {32})) end
  local f = nn.Sequential{
    nn.Conv2D(4, 3, {input_shape = {8, 8, 2}, padding = "same"}),
    nn.MaxPooling2D(2),
    nn.Dropout(0.1),
    nn.Flatten(),
  }
  check(H.eq(f.layers[4].output_shape, {64}))
end)

T("BatchNormalization on images: statistics per channel", function()
  -- two channels with different offsets and scales: after a training
  -- step the moving mean of each is 0.01 * its mean over batch * h * w
  local bn = nn.BatchNormalization{input_shape = {3, 3, 2}}
  local m = nn.Sequential{bn}
  m:compile{loss = "mse", optimizer = nn.optimizers.SGD()}
  local n = 8
  local x = nn.zeros(n, 3, 3, 2)
  local sum = {0, 0}
  nn.seed(2)
  for i = 1, n do for a = 1, 3 do for b = 1, 3 do
    local u, v = 5 + math.random(), -3 + 4 * math.random()
    x:set(i, a, b, 1, u)
    x:set(i, a, b, 2, v)
    sum[1], sum[2] = sum[1] + H.f32(u), sum[2] + H.f32(v)
  end end end
  m:fit(x, m:predict(x), {epochs = 1, batch_size = n, verbose = 0, shuffle = false})
  local mm = bn:get_weights()[3]
  check(math.abs(mm:get(1) - 0.01 * sum[1] / (n * 9)) < 1e-5)
  check(math.abs(mm:get(2) - 0.01 * sum[2] / (n * 9)) < 1e-5)
end)

T("a 2-D CNN with batch norm and dropout: fit, save and load", function()
  nn.seed(5)
  local n = 48
  local x = nn.randn(n, 8, 8, 1)
  local y = H.labels(n, function(i) return x:get(i, 3, 4, 1) > 0 end)
  local m = nn.Sequential{
    nn.Conv2D(8, 3, {input_shape = {8, 8, 1}, padding = "same"}),
    nn.BatchNormalization(),
    nn.Activation("relu"),
    nn.MaxPooling2D(2),
    nn.Dropout(0.2),
    nn.Flatten(),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  local m2 = H.fit_save_load(m, x, y, {lr = 0.01, epochs = 40, ratio = 0.6,
                                       metrics = {"accuracy"}})
  check(m2.layers[2].type == "BatchNormalization" and m2.layers[5].rate == 0.2)
  check(H.close(m.layers[2]:get_weights()[4], m2.layers[2]:get_weights()[4], 0))
end)

T("a 1-D CNN with batch norm, pooling and dropout: fit, save and load", function()
  nn.seed(7)
  local n = 40
  local x = nn.randn(n, 12, 2)
  local y = H.labels(n, function(i) return x:get(i, 5, 1) > 0 end)
  local m = nn.Sequential{
    nn.Conv1D(6, 3, {input_shape = {12, 2}, padding = "causal"}),
    nn.BatchNormalization(),
    nn.Activation("relu"),
    nn.MaxPooling1D(2),
    nn.Dropout(0.1),
    nn.Flatten(),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  check(H.eq(m.layers[2].output_shape, {12, 6}) and H.eq(m.layers[6].output_shape, {36}))
  check(m:count_params() == 42 + 24 + 37)
  H.fit_save_load(m, x, y, {lr = 0.01, epochs = 40, ratio = 0.6})
end)

H.done()
