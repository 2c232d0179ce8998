-- Layers written in Lua (nn.Layer): in a Sequential with built-in layers,
-- trained by fit with gradients from autograd (checked against finite
-- differences), in summaries and model diagrams, saved and loaded with
-- custom_objects, and every misuse a clear error naming the layer.
local H = require "helper"
local T = H.test
local check, checkerr = H.check, H.checkerr

local Scale = nn.Layer{
  name = "Scale",
  init = function(self, opts) self.factor = opts.factor or 1 end,
  build = function(self, input_shape)
    self.w = self:add_weight{name = "w", shape = {input_shape[#input_shape]},
                             initializer = "ones"}
  end,
  call = function(self, x, training) return x * self.w * self.factor end,
  get_config = function(self) return {factor = self.factor} end,
}

-- sum(model(x) * r) with recording off
local function loss_of(m, x, r)
  return nn.no_grad(function() return (m(x) * r):sum() end)
end

T("a Lua layer in a Sequential: shapes, summary, fields", function()
  local s = Scale{factor = 2}
  check(s.factor == 2 and s.type == "Scale" and s.name:find("^scale"))
  s.note = "mine"
  check(s.note == "mine", "fields of self")
  local m = nn.Sequential{nn.Dense(4, {input_dim = 3}), s, nn.Dense(1)}
  check(s.built and s.output_shape[1] == 4)
  local text = m:summary{print = false}
  check(text:find("(Scale)", 1, true) and text:find("Total params: 25", 1, true), text)
  check(#s:trainable_weights() == 1 and s.w:numel() == 4)
  check(s:get_weights()[1]:get(1) == 1, "initializer ones")
  checkerr("layer.units cannot be set", function() m.layers[1].units = 3 end)
end)

T("gradients through a Lua layer match finite differences", function()
  nn.seed(4)
  local m = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "tanh"}), Scale{factor = 1.5},
                          nn.Dense(2)}
  local x, r = nn.randn(5, 2), nn.randn(5, 2)
  local y = m(x)
  y:backward(r)
  for li = 1, 3 do
    for _, w in ipairs(m.layers[li]:trainable_weights()) do
      local g = w.grad
      check(g, "layer " .. li .. " got a gradient")
      local flat, gf = w:reshape(w:numel()), g:reshape(g:numel())
      for e = 1, w:numel() do
        local keep = flat[e]
        flat[e] = keep + 1e-2
        local lp = loss_of(m, x, r)
        flat[e] = keep - 1e-2
        local lm = loss_of(m, x, r)
        flat[e] = keep
        H.near(gf[e], (lp - lm) / 2e-2, 2e-2, "layer " .. li .. " element " .. e)
      end
    end
  end
end)

T("fit trains a Lua layer's weights, as a built-in layer would", function()
  nn.seed(5)
  local x = nn.randn(64, 3)
  local y = x * nn.tensor({2, -1, 0.5})  -- a per-feature scaling to learn
  local s = Scale{}
  local m = nn.Sequential{s}
  m.layers[1].input_shape_hint = nil
  m:compile{loss = "mse", optimizer = nn.optimizers.SGD{lr = 0.1}}
  m:fit(x, y, {epochs = 60, batch_size = 16, verbose = 0})
  H.near(s.w:get(1), 2, 1e-2)
  H.near(s.w:get(2), -1, 1e-2)
  H.near(s.w:get(3), 0.5, 1e-2)
  -- the weights' own .grad are left alone by fit
  check(s.w.grad == nil, "fit does not fill .grad")
end)

T("save and load with custom_objects", function()
  nn.seed(6)
  local m = nn.Sequential{nn.Dense(4, {input_dim = 3}), Scale{factor = 3}, nn.Dense(1)}
  m:compile{loss = "mse", optimizer = "adam"}
  m:fit(nn.randn(16, 3), nn.randn(16, 1), {epochs = 2, verbose = 0})
  local path = os.tmpname() .. ".safetensors"
  m:save(path)
  checkerr("custom_objects = {Scale = Class}", nn.load, path)
  checkerr("did not make a Scale layer", nn.load, path,
           {custom_objects = {Scale = function() return nn.Dense(1) end}})
  checkerr("unknown option 'objects'", nn.load, path, {objects = {}})
  local back = nn.load(path, {custom_objects = {Scale = Scale}})
  os.remove(path)
  check(back.layers[2].factor == 3 and back.layers[2].type == "Scale")
  local x = nn.randn(4, 3)
  H.near((back:predict(x) - m:predict(x)):abs():max(), 0, 1e-6)
  back:fit(nn.randn(8, 3), nn.randn(8, 1), {epochs = 1, verbose = 0}) -- it trains on
end)

T("misuse is a clear error naming the layer", function()
  checkerr("nn.Layer: Bad needs call = function", nn.Layer, {name = "Bad"})
  checkerr("'Dense' is a built-in layer kind", nn.Layer, {name = "Dense", call = print})
  checkerr("name (the class name) must be a string", nn.Layer, {call = print})
  local Wrong = nn.Layer{name = "Wrong", call = function(self, x) return x:sum(2, true) end}
  local m = nn.Sequential{nn.Dense(4, {input_dim = 3}), Wrong{}}
  check(m.layers[2].output_shape[1] == 1)
  local Flat = nn.Layer{name = "Flat", call = function(self, x) return x:reshape(x:numel()) end}
  checkerr("flat (Flat): call must keep the batch dimension first", nn.Sequential,
           {nn.Dense(4, {input_dim = 3}), Flat{}})
  local Boom = nn.Layer{name = "Boom", call = function(self, x)
    if #x > 1 then error("boom at " .. #x) end
    return x
  end}
  local mb = nn.Sequential{nn.Dense(2, {input_dim = 2}), Boom{}}
  checkerr("boom (Boom):", mb.predict, mb, nn.ones(3, 2))
  checkerr("boom at 3", mb.predict, mb, nn.ones(3, 2))
  local Shape = nn.Layer{name = "Shape", call = function(self, x)
    if #x == 1 then return x end
    return x:rows(1, 1)
  end}
  local ms = nn.Sequential{nn.Dense(2, {input_dim = 2}), Shape{}}
  checkerr("call returned shape [1x2], expected [5x2]", ms.predict, ms, nn.ones(5, 2))
  local Cfg = nn.Layer{name = "Cfg", call = function(self, x) return x end,
                       get_config = function() return {f = print} end}
  local mc = nn.Sequential{nn.Dense(2, {input_dim = 2}), Cfg{}}
  checkerr("get_config: f is a function", mc.save, mc, os.tmpname() .. ".safetensors")
  local Dup = nn.Layer{name = "Dup", build = function(self)
    self:add_weight{name = "a", shape = 2}
    self:add_weight{name = "a", shape = 2}
  end, call = function(self, x) return x end}
  checkerr("a weight named 'a' exists", nn.Sequential, {nn.Dense(2, {input_dim = 2}), Dup{}})
  local sl = Scale{}
  nn.Sequential{nn.Dense(2, {input_dim = 2}), sl}
  checkerr("this tensor is a layer's weight", sl.w.requires_grad, sl.w, false)
  local k = nn.Sequential{nn.Dense(2, {input_dim = 2})}.layers[1].kernel
  checkerr("always requires grad", k.requires_grad, k, false)
  checkerr("only a layer of nn.Layer can add weights", function()
    local d = nn.Dense(2)
    d:add_weight{shape = 1}
  end)
end)

-- Found by review: Lua code in the middle of a step must not run, resize or
-- change the model (its buffers are the step's), and a coroutine that ran
-- the model must not be kept as the thread its Lua layers call.
T("Lua code inside a step cannot run or change its model", function()
  nn.seed(8)
  local x, y = nn.randn(32, 4), nn.randn(32, 1)
  local m
  local Peek = nn.Layer{name = "Peek", call = function(self, xin, training)
    if training then m:predict(nn.zeros(5000, 4), {batch_size = 5000}) end
    return xin
  end}
  m = nn.Sequential{nn.Dense(4, {input_dim = 4}), Peek{}, nn.Dense(1)}
  m:compile{loss = "mse", optimizer = "sgd"}
  checkerr("in the middle of a step", m.fit, m, x, y, {epochs = 1, batch_size = 8, verbose = 0})
  local m2 = nn.Sequential{nn.Dense(3, {input_dim = 4}), nn.Dense(1)}
  m2:compile{loss = function(yt, yp)
    m2:predict(nn.zeros(5000, 4), {batch_size = 5000})
    return nn.losses.mse(yt, yp)
  end, optimizer = "sgd"}
  checkerr("in the middle of a step", m2.fit, m2, x, y, {epochs = 1, batch_size = 8, verbose = 0})
  m2:compile{loss = function(yt, yp) m2:add(nn.Dense(1)); return nn.losses.mse(yt, yp) end}
  checkerr("not allowed while fit is running", m2.train_on_batch, m2, x, y)
  check(#m2.layers == 2, "the model is unchanged")
  -- a callback may run the model in a coroutine between steps; the
  -- coroutine goes, and fit goes on with its own thread
  local S = nn.Layer{name = "Same", call = function(self, xin) return xin * 1 end}
  local m3 = nn.Sequential{nn.Dense(4, {input_dim = 4}), S{}, nn.Dense(1)}
  m3:compile{loss = "mse", optimizer = "sgd"}
  local cb = {on_batch_end = function()
    local co = coroutine.wrap(function() m3(nn.ones(2, 4)); coroutine.yield() end)
    co()
    co = nil
    collectgarbage()
  end}
  local h = m3:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0, callbacks = {cb}})
  check(#h.history.loss == 2)
end)

T("opt:step after a change of the optimizer's settings", function()
  local m = nn.Sequential{nn.Dense(2, {input_dim = 2})}
  local W = m:trainable_weights()
  local opt = nn.optimizers.SGD{lr = 0.1}
  m(nn.ones(3, 2)):backward(nn.ones(3, 2)); opt:step(W)
  opt.momentum = 0.9 -- a state with momentum buffers from now on
  m:zero_grad(); m(nn.ones(3, 2)):backward(nn.ones(3, 2)); opt:step(W)
  opt:step(W)
  check(opt:iterations() == 2, "a new state after the change: " .. opt:iterations())
end)

H.done()
