-- nn.Conv1D from Lua: Keras's forms of the constructor (sizes as a number
-- or {k}, options by name), errors that name the option, layer.<option>,
-- the summary's shapes and counts as Keras prints them, fit on sequences
-- {n, steps, channels}, and save/load.
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check, checkerr = H.test, H.check, H.checkerr

T("constructor forms and fields", function()
  local c = nn.Conv1D(32, 3, {activation = "relu", input_shape = {100, 8}})
  check(c.type == "Conv1D" and c.filters == 32 and c.draw == "maps")
  check(H.eq(c.kernel_size, {3}) and H.eq(c.strides, {1}) and H.eq(c.dilation_rate, {1}))
  check(c.padding == "valid" and c.activation == "relu" and c.use_bias == true)
  check(c.kernel_initializer == "glorot_uniform" and c.bias_initializer == "zeros")
  check(c.name:find("^conv1d"), "Keras's default name")
  local d = nn.Conv1D{filters = 8, kernel_size = {5}, strides = 2, padding = "causal",
                      dilation_rate = {1}, use_bias = false, kernel_regularizer = "l2"}
  check(H.eq(d.kernel_size, {5}) and H.eq(d.strides, {2}) and d.padding == "causal")
  check(d.use_bias == false and d.kernel_regularizer.l2 == 0.01)
  check(nn.Conv1D(4, 2, "tanh").activation == "tanh")
end)

T("errors name the option and say what is expected", function()
  checkerr("nn.Conv1D: kernel_size is required", nn.Conv1D, 8)
  checkerr("nn.Conv1D: filters must be an integer in 1..65536, got 0", nn.Conv1D, 0, 3)
  checkerr("kernel_size must be an integer or a list of 1 integers, got 2 entries",
           nn.Conv1D, 8, {1, 2})
  checkerr("unknown padding 'full' (valid: valid, same, causal)", nn.Conv1D, 8, 3,
           {padding = "full"})
  checkerr("nn.Conv1D: unknown option 'stride'", nn.Conv1D, 8, 3, {stride = 2})
  checkerr("Conv1D takes sequences {steps, channels} per sample, got (None, 8, 8, 1)",
           function() return nn.Sequential{nn.Conv1D(4, 3, {input_shape = {8, 8, 1}})} end)
  checkerr("kernel_size 5 with dilation_rate 1 spans 5 steps, more than the 4 of the input",
           function() return nn.Sequential{nn.Conv1D(4, 5, {input_shape = {4, 2}})} end)
  local m = nn.Sequential{nn.Conv1D(4, 3)}
  checkerr("Conv1D takes sequences {steps, channels}", m.predict, m, nn.rand(2, 8))
  check(not m.built, "a refused input leaves the model unbuilt")
end)

T("summary: output shapes and parameters as Keras gives them", function()
  local m = nn.Sequential{
    nn.Conv1D(32, 3, {activation = "relu", input_shape = {100, 8}}),
    nn.Conv1D(16, 5, {strides = 2, padding = "same"}),
    nn.Conv1D(16, 3, {padding = "causal", dilation_rate = 2}),
    nn.Flatten(),
    nn.Dense(1),
  }
  local s = m:summary{print = false}
  check(s:find(" (Conv1D)", 1, true) and s:find("(None, 98, 32)", 1, true))
  check(s:find("800", 1, true) and s:find("(None, 49, 16)", 1, true))
  check(s:find("2576", 1, true) and s:find("784", 1, true))
  check(H.eq(m.layers[3].output_shape, {49, 16}))
  check(m:count_params() == 800 + 2576 + 784 + 785)
end)

T("fit on sequences, then save and load", function()
  nn.seed(4)
  local n = 32
  local x = nn.randn(n, 10, 2)
  local y = H.labels(n, function(i) return x:get(i, 4, 1) + x:get(i, 5, 2) > 0 end)
  local m = nn.Sequential{
    nn.Conv1D(4, 3, {activation = "relu", input_shape = {10, 2}, padding = "causal"}),
    nn.Flatten(),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  local m2, h = H.fit_save_load(m, x, y, {lr = 0.02, epochs = 40, ratio = 0.5,
                                          metrics = {"accuracy"}})
  check(h.history.accuracy[40] > 0.8)
  local l = m2.layers[1]
  check(l.type == "Conv1D" and l.padding == "causal" and H.eq(l.kernel_size, {3}))
  check(H.eq({l:get_weights()[1]:shape()}, {3, 2, 4}), "kernel [k, cin, filters]")
end)

H.done()
