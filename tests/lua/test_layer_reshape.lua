-- nn.Reshape from Lua: the constructor forms (a list, or target_shape by
-- name; one -1 inferred), layer.target_shape, errors, the summary as Keras
-- prints it, and a model that reshapes vectors into images, fits, saves
-- and loads.
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check, checkerr = H.test, H.check, H.checkerr

T("constructor forms, fields, errors", function()
  local r = nn.Reshape({7, 7, 16})
  check(r.type == "Reshape" and H.eq(r.target_shape, {7, 7, 16}) and r.draw == "none")
  check(r.name:find("^reshape"), "Keras's default name")
  check(H.eq(nn.Reshape{-1, 3}.target_shape, {-1, 3}), "a plain list is the target shape")
  check(H.eq(nn.Reshape{target_shape = {2, -1}}.target_shape, {2, -1}))
  check(H.eq(nn.Reshape(-1).target_shape, {-1}))
  checkerr("nn.Reshape: target_shape is required", nn.Reshape)
  checkerr("target_shape may have one -1, got two", nn.Reshape, {-1, -1})
  checkerr("target_shape[2] must be an integer in 1..2147483647, got 0", nn.Reshape, {3, 0})
  checkerr("target_shape must be a list of 1 to 3 integers, got 4 entries", nn.Reshape,
           {1, 2, 3, 4})
  checkerr("cannot reshape input (None, 10) (10 values per sample) to target_shape {3, -1}",
           function() return nn.Sequential{nn.Reshape({3, -1}, {input_shape = {10}})} end)
  local m = nn.Sequential{nn.Reshape{4, 4}}
  checkerr("cannot reshape input (None, 15)", m.predict, m, nn.rand(2, 15))
  check(not m.built, "a refused input leaves the model unbuilt")
end)

T("summary, values, fit, save and load", function()
  nn.seed(3)
  local m = nn.Sequential{
    nn.Reshape({4, 4, 1}, {input_shape = {16}}),
    nn.Conv2D(3, 3, {activation = "relu", padding = "same"}),
    nn.Reshape{-1},
    nn.Dense(1, {activation = "sigmoid"}),
  }
  local s = m:summary{print = false}
  check(s:find(" (Reshape)", 1, true) and s:find("(None, 4, 4, 1)", 1, true))
  check(s:find("(None, 4, 4, 3)", 1, true) and s:find("(None, 48)", 1, true))
  check(m:count_params() == 30 + 49)
  check(H.eq(m.layers[3].output_shape, {48}) and H.eq(m.layers[3].target_shape, {-1}))
  local r = nn.Sequential{nn.Reshape({3, -1}, {input_shape = {6}})}
  local p = r:predict(nn.tensor{{1, 2, 3, 4, 5, 6}})
  check(H.eq({p:shape()}, {1, 3, 2}) and p:get(1, 2, 1) == 3 and p:get(1, 3, 2) == 6)
  local n = 32
  local x = nn.randn(n, 16)
  local y = H.labels(n, function(i) return x:get(i, 6) > 0 end)
  local m2 = H.fit_save_load(m, x, y, {lr = 0.02, epochs = 30})
  check(m2.layers[1].type == "Reshape" and H.eq(m2.layers[3].target_shape, {-1}))
end)

H.done()
