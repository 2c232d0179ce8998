-- nn.Conv2D from Lua: Keras's forms of the constructor (sizes as a number
-- or {h, w}, options by name), errors that name the option, layer.<option>,
-- the summary's shapes and counts as Keras prints them, fit on images
-- {n, h, w, c}, and save/load.
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check, checkerr = H.test, H.check, H.checkerr

T("constructor forms and fields", function()
  local c = nn.Conv2D(32, 3, {activation = "relu", input_shape = {28, 28, 1}})
  check(c.type == "Conv2D" and c.filters == 32 and c.draw == "maps")
  check(H.eq(c.kernel_size, {3, 3}) and H.eq(c.strides, {1, 1}) and c.padding == "valid")
  check(c.activation == "relu" and c.use_bias == true)
  local d = nn.Conv2D{filters = 8, kernel_size = {2, 3}, strides = {1, 2}, padding = "same",
                      dilation_rate = 1}
  check(H.eq(d.kernel_size, {2, 3}) and H.eq(d.strides, {1, 2}) and d.padding == "same")
  check(tostring(nn.Conv2D(4, {3, 3}, "tanh")):find("nn.Conv2D(4, {3, 3}, tanh)", 1, true))
end)

T("errors name the option and say what is expected", function()
  checkerr("nn.Conv2D: kernel_size is required", nn.Conv2D, 8)
  checkerr("nn.Conv2D: filters must be an integer in 1..65536, got 0", nn.Conv2D, 0, 3)
  checkerr("kernel_size must be an integer or a list of 2 integers", nn.Conv2D, 8, {1, 2, 3})
  checkerr("unknown padding 'full' (valid: valid, same)", nn.Conv2D, 8, 3,
           {padding = "full"})
  checkerr("unknown padding 'causal' (valid: valid, same)", nn.Conv2D, 8, 3, {padding = "causal"})
  checkerr("unknown padding 'full' (valid: valid, same, causal)", nn.Conv1D, 8, 3,
           {padding = "full"})
  checkerr("nn.Conv2D: unknown option 'stride'", nn.Conv2D, 8, 3, {stride = 2})
  checkerr("Conv2D takes images {height, width, channels} per sample, got (None, 8)",
           function() return nn.Sequential{nn.Conv2D(4, 3, {input_shape = {8}})} end)
  local m = nn.Sequential{nn.Conv2D(4, 3)}
  checkerr("Conv2D takes images {height, width, channels}", m.predict, m, nn.rand(2, 8))
  check(not m.built, "a refused input leaves the model unbuilt")
end)

T("summary: output shapes and parameters as Keras gives them", function()
  local m = nn.Sequential{
    nn.Conv2D(32, 3, {activation = "relu", input_shape = {28, 28, 1}}),
    nn.Conv2D(64, 3, {activation = "relu", strides = 2, padding = "same"}),
    nn.Flatten(),
    nn.Dense(10, {activation = "softmax"}),
  }
  local s = m:summary{print = false}
  check(s:find(" (Conv2D)", 1, true) and s:find("(None, 26, 26, 32)", 1, true))
  check(s:find("320", 1, true) and s:find("(None, 13, 13, 64)", 1, true))
  check(s:find("18496", 1, true) and s:find("(None, 10816)", 1, true))
  check(m:count_params() == 320 + 18496 + 10816 * 10 + 10)
end)

T("fit on images, then save and load", function()
  nn.seed(4)
  local n = 32
  local x = nn.randn(n, 6, 6, 1)
  local y = H.labels(n, function(i) return x:get(i, 3, 3, 1) > 0 end)
  local m = nn.Sequential{
    nn.Conv2D(4, 3, {activation = "relu", input_shape = {6, 6, 1}, padding = "same"}),
    nn.Flatten(),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  local m2, h = H.fit_save_load(m, x, y, {lr = 0.02, epochs = 40, ratio = 0.5,
                                          metrics = {"accuracy"}})
  check(h.history.accuracy[40] > 0.8)
  check(m2.layers[1].type == "Conv2D" and m2.layers[1].padding == "same")
end)

H.done()
