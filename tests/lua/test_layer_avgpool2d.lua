-- nn.AveragePooling2D from Lua: the constructor forms, layer.<option>, the output
-- shapes of a small CNN as Keras prints them, and a fit that saves and loads.
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check, checkerr = H.test, H.check, H.checkerr

T("constructor, fields, errors", function()
  local p = nn.AveragePooling2D(3)
  check(p.type == "AveragePooling2D" and H.eq(p.pool_size, {3, 3}) and H.eq(p.strides, {3, 3}))
  local q = nn.AveragePooling2D{pool_size = {2, 3}, strides = 1, padding = "same"}
  check(H.eq(q.pool_size, {2, 3}) and H.eq(q.strides, {1, 1}) and q.padding == "same")
  check(nn.AveragePooling2D().pool_size[1] == 2, "Keras's default pool_size 2")
  checkerr("nn.AveragePooling2D: unknown option 'pool'", nn.AveragePooling2D, {pool = 2})
  checkerr("pool_size must be an integer or a list of 2 integers", nn.AveragePooling2D, {1, 2, 3})
end)

T("in a CNN: shapes, fit, save and load", function()
  nn.seed(6)
  local m = nn.Sequential{
    nn.Conv2D(4, 3, {activation = "relu", input_shape = {8, 8, 1}, padding = "same"}),
    nn.AveragePooling2D(2),
    nn.Flatten(),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  check(H.eq(m.layers[2].output_shape, {4, 4, 4}))
  local x = nn.randn(24, 8, 8, 1)
  local y = nn.zeros(24, 1)
  for i = 1, 24 do y:set(i, 1, x:get(i, 2, 2, 1) > 0 and 1 or 0) end
  m:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.02}}
  local h = m:fit(x, y, {epochs = 30, batch_size = 8, verbose = 0})
  check(h.history.loss[30] < h.history.loss[1], "the loss went down")
  local path = os.tmpname()
  m:save(path)
  local m2 = nn.load(path)
  os.remove(path)
  check(H.close(m:predict(x), m2:predict(x), 0) and m2.layers[2].type == "AveragePooling2D")
end)

H.done()
