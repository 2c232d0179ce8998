-- nn.MaxPooling1D from Lua: the constructor forms, layer.<option>, errors,
-- the output shapes of a small 1-D CNN as Keras prints them, the values,
-- and a fit that saves and loads.
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check, checkerr = H.test, H.check, H.checkerr

T("constructor, fields, errors", function()
  local p = nn.MaxPooling1D(3)
  check(p.type == "MaxPooling1D" and H.eq(p.pool_size, {3}) and H.eq(p.strides, {3}))
  check(p.padding == "valid" and p.draw == "maps" and p.name:find("^max_pooling1d"))
  local q = nn.MaxPooling1D{pool_size = {2}, strides = 1, padding = "same"}
  check(H.eq(q.pool_size, {2}) and H.eq(q.strides, {1}) and q.padding == "same")
  check(nn.MaxPooling1D().pool_size[1] == 2, "Keras's default pool_size 2")
  checkerr("nn.MaxPooling1D: unknown option 'pool'", nn.MaxPooling1D, {pool = 2})
  checkerr("pool_size must be an integer or a list of 1 integers", nn.MaxPooling1D, {1, 2})
  checkerr("unknown padding 'causal' (valid: valid, same)", nn.MaxPooling1D, 2,
           {padding = "causal"})
  checkerr("MaxPooling1D takes sequences {steps, channels} per sample, got (None, 4, 4, 1)",
           function() return nn.Sequential{nn.MaxPooling1D(2, {input_shape = {4, 4, 1}})} end)
  checkerr("pool_size 5 is longer than the 4 steps of the input",
           function() return nn.Sequential{nn.MaxPooling1D(5, {input_shape = {4, 1}})} end)
end)

T("summary and values", function()
  local m = nn.Sequential{
    nn.Conv1D(16, 3, {activation = "relu", input_shape = {100, 8}}),
    nn.MaxPooling1D(),
    nn.Conv1D(8, 3, {activation = "relu"}),
    nn.MaxPooling1D(3, {strides = 2, padding = "same"}),
    nn.Flatten(),
    nn.Dense(1),
  }
  local s = m:summary{print = false}
  check(s:find(" (MaxPooling1D)", 1, true) and s:find("(None, 49, 16)", 1, true))
  check(s:find("(None, 47, 8)", 1, true) and s:find("(None, 24, 8)", 1, true))
  check(s:find("(None, 192)", 1, true))
  check(m:count_params() == 400 + 392 + 193)
  local p = nn.Sequential{nn.MaxPooling1D(2, {input_shape = {5, 2}, padding = "same"})}
  local y = p:predict(nn.tensor{{{1, -1}, {3, -2}, {2, 7}, {0, 5}, {-4, -3}}})
  check(H.close(y, nn.tensor{{{3, -1}, {2, 7}, {-4, -3}}}, 0))
end)

T("in a 1-D CNN: fit, save and load", function()
  nn.seed(6)
  local m = nn.Sequential{
    nn.Conv1D(4, 3, {activation = "relu", input_shape = {12, 1}, padding = "same"}),
    nn.MaxPooling1D(2),
    nn.Flatten(),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  check(H.eq(m.layers[2].output_shape, {6, 4}))
  local n = 24
  local x = nn.randn(n, 12, 1)
  local y = H.labels(n, function(i) return x:get(i, 3, 1) > 0 end)
  local m2 = H.fit_save_load(m, x, y, {lr = 0.02, epochs = 30})
  check(m2.layers[2].type == "MaxPooling1D")
  check(H.eq(m2.layers[2].pool_size, {2}))
end)

H.done()
