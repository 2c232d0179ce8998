-- Model files written by earlier versions still load and predict the same:
-- tests/data/modelfile_v1 holds files of format_version 1 (written by
-- nnlua before the table of layer kinds, with the kernel regularizer as
-- l1/l2 keys), made by tests/data/modelfile_v1/make.lua, with the
-- predictions they gave then.
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check = H.test, H.check
local dir = "../data/modelfile_v1/"

T("a trained MLP of every layer kind: same predictions, settings and state", function()
  local m = nn.load(dir .. "mlp.safetensors")
  local x = nn.tensor(dofile(dir .. "mlp.x.lua"))
  check(H.close(m:predict(x), dofile(dir .. "mlp.expected.lua"), 1e-5), "predictions")
  check(#m.layers == 5 and m.compiled and m.built)
  local d1 = m.layers[1]
  check(d1.name == "d1" and d1.units == 5 and d1.activation == "leaky_relu")
  H.near(d1.l1, 0.001, 1e-9, "l1 from the v1 key")
  H.near(d1.l2, 0.01, 1e-9, "l2 from the v1 key")
  local reg = d1.kernel_regularizer
  H.near(reg.l1, 0.001, 1e-9, "kernel_regularizer.l1")
  H.near(reg.l2, 0.01, 1e-9, "kernel_regularizer.l2")
  check(m.layers[2].type == "BatchNormalization")
  H.near(m.layers[2].momentum, 0.9, 1e-7, "momentum")
  check(m.layers[3].rate == 0.25)
  check(m.layers[4].activation == "elu")
  H.near(m.layers[4].activation_param, 0.5, 1e-7, "elu's alpha")
  check(m.layers[5].kernel_initializer == "he_normal")
  check(m.optimizer.name == "adam" and m.optimizer.iterations == 9, "optimizer state")
  -- it trains on from there, and saves in the current format
  m:fit(x, nn.tensor{1, 2, 3, 1, 2, 3}, {epochs = 1, batch_size = 2, verbose = 0})
  local path = os.tmpname()
  m:save(path)
  check(H.close(nn.load(path):predict(x), m:predict(x), 0))
  os.remove(path)
end)

T("an unbuilt model and a Flatten model", function()
  local u = nn.load(dir .. "unbuilt.safetensors")
  check(#u.layers == 2 and not u.built and u.layers[1].activation == "relu")
  local f = nn.load(dir .. "flatten.safetensors")
  local e = dofile(dir .. "flatten.expected.lua")
  check(H.close(f:predict(nn.tensor(e.x)), e.y, 1e-5))
  check(f.layers[2].use_bias == false)
end)

H.done()
