-- nn.GlobalMaxPooling2D from Lua: the constructor forms, layer.<option>,
-- errors, the summary of a small CNN as Keras prints it, the values (each
-- channel's maximum), and a fit that saves and loads.
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check, checkerr = H.test, H.check, H.checkerr

T("constructor, fields, errors", function()
  local p = nn.GlobalMaxPooling2D()
  check(p.type == "GlobalMaxPooling2D" and p.keepdims == false and p.draw == "none")
  check(p.name:find("^global_max_pooling2d"), "Keras's default name")
  check(nn.GlobalMaxPooling2D{keepdims = true}.keepdims == true)
  checkerr("nn.GlobalMaxPooling2D: unknown option 'pool_size'", nn.GlobalMaxPooling2D,
           {pool_size = 2})
  checkerr("option 'keepdims' must be true or false", nn.GlobalMaxPooling2D, {keepdims = 1})
  checkerr("GlobalMaxPooling2D takes images {height, width, channels} per sample, " ..
           "got (None, 8)",
           function() return nn.Sequential{nn.GlobalMaxPooling2D{input_shape = {8}}} end)
end)

T("summary and values", function()
  local m = nn.Sequential{
    nn.Conv2D(16, 3, {activation = "relu", input_shape = {9, 9, 3}}),
    nn.GlobalMaxPooling2D(),
    nn.Dense(10, {activation = "softmax"}),
  }
  local s = m:summary()
  check(s:find("(None, 7, 7, 16)", 1, true) and s:find("448", 1, true))
  check(s:find("(GlobalMaxPooling2D)", 1, true) and s:find("(None, 16)", 1, true))
  check(m:count_params() == 448 + 170)
  check(H.eq(m.layers[2].output_shape, {16}))
  local g = nn.Sequential{nn.GlobalMaxPooling2D{input_shape = {2, 2, 2}}}
  local x = nn.tensor{{{{1, 10}, {2, 20}}, {{3, 30}, {4, 40}}}}
  check(H.close(g:predict(x), nn.tensor{{4, 40}}, 1e-6))
  local k = nn.Sequential{nn.GlobalMaxPooling2D{input_shape = {2, 2, 2}, keepdims = true}}
  check(H.eq({k:predict(x):shape()}, {1, 1, 1, 2}))
end)

T("in a CNN: fit, save and load", function()
  nn.seed(6)
  local m = nn.Sequential{
    nn.Conv2D(6, 3, {activation = "relu", input_shape = {6, 6, 1}, padding = "same"}),
    nn.GlobalMaxPooling2D(),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  local n = 32
  local x = nn.randn(n, 6, 6, 1)
  local y = nn.zeros(n, 1)
  for i = 1, n do
    local s = -math.huge -- a bright spot anywhere
    for a = 1, 6 do for b = 1, 6 do s = math.max(s, x:get(i, a, b, 1)) end end
    y:set(i, 1, s > 2 and 1 or 0)
  end
  m:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.03}}
  local h = m:fit(x, y, {epochs = 40, batch_size = 8, verbose = 0})
  check(h.history.loss[40] < h.history.loss[1], "the loss went down")
  local path = os.tmpname()
  m:save(path)
  local m2 = nn.load(path)
  os.remove(path)
  check(H.close(m:predict(x), m2:predict(x), 0) and m2.layers[2].type == "GlobalMaxPooling2D")
end)

H.done()
