-- Models and layers on the autograd tape: model(x) gradients against
-- finite differences, the refusals that keep a gradient from being wrong
-- (a layer run again, an inference call through Dropout, changed weights,
-- a freed graph), weights that share the model's storage, optimizer steps
-- by hand, train_on_batch/test_on_batch, and the autograd basics from Lua.
local H = require "helper"
local T = H.test
local check, checkerr = H.check, H.checkerr

-- sum(model(x) * r) as a number, with recording off.
local function loss_of(m, x, r)
  return nn.no_grad(function()
    local y, s = m(x), 0
    local yt, rt = y:totable(), r:totable()
    for i = 1, #yt do for j = 1, #yt[i] do s = s + yt[i][j] * rt[i][j] end end
    return s
  end)
end

T("model(x): every weight's gradient matches central differences", function()
  nn.seed(7)
  local m = nn.Sequential{nn.Dense(5, {input_dim = 3, activation = "tanh"}),
                          nn.Dense(4, {activation = "sigmoid"}), nn.Dense(2)}
  local x, r = nn.randn(6, 3), nn.randn(6, 2)
  local y = m(x)
  check(y.grad_fn == "Dense" and y.needs_grad and not y.is_leaf)
  y:backward(r)
  for li = 1, 3 do
    for _, w in ipairs(m.layers[li]:trainable_weights()) do
      local g = w.grad
      check(g, "layer " .. li .. " has a gradient")
      local flat, gf = w:reshape(w:numel()), g:reshape(g:numel())
      for e = 1, w:numel() do
        local keep, h = flat[e], 1e-2
        flat[e] = keep + h
        local lp = loss_of(m, x, r)
        flat[e] = keep - h
        local lm = loss_of(m, x, r)
        flat[e] = keep
        H.near(gf[e], (lp - lm) / (2 * h), 2e-2, "layer " .. li .. " element " .. e)
      end
    end
  end
end)

T("model(x): the input's gradient when x requires grad", function()
  nn.seed(2)
  local m = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "relu"}), nn.Dense(1)}
  local x = nn.randn(4, 2):requires_grad()
  local r = nn.ones(4, 1)
  m(x):backward(r)
  local g = x.grad
  check(g and g:numel() == 8)
  local flat = x:reshape(8)
  for e = 1, 8 do
    local keep = flat[e]
    flat[e] = keep + 1e-2
    local lp = loss_of(m, x, r)
    flat[e] = keep - 1e-2
    local lm = loss_of(m, x, r)
    flat[e] = keep
    H.near(g:reshape(8)[e], (lp - lm) / 2e-2, 2e-2, "dx " .. e)
  end
  local m1 = nn.Sequential{nn.Dense(1, {input_dim = 1})}
  checkerr("1-D input that requires grad", m1, nn.ones(3):requires_grad())
  check(m1(nn.ones(3)):numel() == 3, "a plain 1-D x is N samples of one feature")
end)

T("refusals: layer run again, freed graph, changed weights, inference Dropout", function()
  local m = nn.Sequential{nn.Dense(2, {input_dim = 2})}
  local x = nn.ones(3, 2)
  local y1 = m(x)
  local y2 = m(x)
  checkerr("layer 'dense", y1.backward, y1, nn.ones(3, 2))
  checkerr("ran again after this call", y1.backward, y1, nn.ones(3, 2))
  y2:backward(nn.ones(3, 2))
  checkerr("freed by an earlier backward", y2.backward, y2, nn.ones(3, 2))
  local y3 = m(x)
  local opt = nn.optimizers.SGD{lr = 0.1}
  m:zero_grad()
  local y4 = m(x)
  y4:backward(nn.ones(3, 2), {retain_graph = true})
  opt:step(m:trainable_weights())
  checkerr("changed after this call", y4.backward, y4, nn.ones(3, 2))
  check(y3) -- y3's call was overtaken by y4's: also refused
  checkerr("ran again", y3.backward, y3, nn.ones(3, 2))
  local d = nn.Sequential{nn.Dense(3, {input_dim = 2}), nn.Dropout(0.5)}
  local o = d(nn.ones(4, 2))
  checkerr("called in inference mode", o.backward, o, nn.ones(4, 3))
  local o2 = d(nn.ones(4, 2), {training = true})
  o2:backward(nn.ones(4, 3)) -- a training call differentiates
  check(d.layers[1].kernel.grad)
  checkerr("unknown option 'train' (valid: training)", d, nn.ones(4, 2), {train = true})
  checkerr("backward: unknown option 'retain' (valid: retain_graph)", o2.backward, o2,
           nn.ones(4, 3), {retain = true})
end)

T("weights share the model's storage; zero_grad clears", function()
  local m = nn.Sequential{nn.Dense(2, {input_dim = 3})}
  local k = m.layers[1].kernel
  check(k:numel() == 6 and k.is_leaf and k.needs_grad)
  k:set(1, 1, 42)
  check(m:get_weights()[1]:get(1, 1) == 42, "a write through layer.kernel reaches the model")
  local ws = m:trainable_weights()
  check(#ws == 2)
  m(nn.ones(1, 3)):backward(nn.ones(1, 2))
  check(ws[1].grad and k.grad, "every handle of a weight sees the same gradient")
  H.near(k.grad:get(1, 1), 1, 1e-6)
  m(nn.ones(1, 3)):backward(nn.ones(1, 2))
  H.near(ws[2].grad:get(1), 2, 1e-6, "gradients add up until cleared")
  m:zero_grad()
  check(k.grad == nil and ws[2].grad == nil)
end)

T("opt:step fits y = 2x + 1 by hand; model.optimizer shares fit's state", function()
  nn.seed(3)
  local m = nn.Sequential{nn.Dense(1, {input_dim = 1})}
  local x = nn.tensor({{1}, {2}, {3}, {4}})
  local yt = nn.tensor({{3}, {5}, {7}, {9}})
  local opt = nn.optimizers.SGD{lr = 0.05}
  local W = m:trainable_weights()
  for _ = 1, 400 do
    opt:zero_grad(W)
    local p = m(x)
    p:backward(nn.no_grad(function() return (p - yt) * 0.5 end)) -- d mean((p-y)^2)
    opt:step(W)
  end
  H.near(m.layers[1].kernel:get(1, 1), 2, 1e-2)
  H.near(m.layers[1].bias:get(1), 1, 2e-2)
  check(opt:iterations() == 400)
  m:compile{loss = "mse", optimizer = "adam"}
  m:fit(x, yt, {epochs = 2, batch_size = 4, verbose = 0})
  check(m.optimizer.iterations == 2)
  m(x):backward(nn.ones(4, 1))
  m.optimizer:step(m:trainable_weights())
  check(m.optimizer.iterations == 3, "the view steps the compiled optimizer")
  checkerr("weight 1 is number", opt.step, opt, {5})
end)

T("train_on_batch and test_on_batch", function()
  nn.seed(1)
  local m = nn.Sequential{nn.Dense(8, {input_dim = 2, activation = "relu"}),
                          nn.Dense(1, {activation = "sigmoid"})}
  checkerr("train_on_batch: compile the model first", m.train_on_batch, m, nn.ones(2, 2),
           nn.ones(2, 1))
  m:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
  local x, y = nn.randn(64, 2), nn.zeros(64, 1)
  for i = 1, 64 do if x:get(i, 1) + x:get(i, 2) > 0 then y:set(i, 1, 1) end end
  local l0 = m:test_on_batch(x, y)
  local lt = m:train_on_batch(x, y)
  H.near(lt, l0, 1e-5, "the step's loss is of the weights before it")
  for _ = 1, 300 do m:train_on_batch(x, y) end
  local l1, mt = m:test_on_batch(x, y)
  check(l1 < l0 * 0.7 and mt.accuracy > 0.85, "trained: " .. l0 .. " -> " .. l1)
  check(m.optimizer.iterations == 301)
  local e, em = m:evaluate(x, y, {batch_size = 64})
  H.near(e, l1, 1e-5)
  H.near(em.accuracy, mt.accuracy, 1e-9)
  checkerr("test_on_batch", m.test_on_batch, m, nn.ones(3, 5), nn.ones(3, 1))
end)

T("autograd basics: flags, detach, no_grad, .grad", function()
  local a = nn.ones(3):requires_grad()
  check(a.needs_grad and a.is_leaf and a.grad == nil and a.grad_fn == nil)
  local d = a:detach()
  check(not d.needs_grad)
  d:set(1, 5)
  check(a:get(1) == 5, "detach shares storage")
  checkerr("one-element tensor; this one has shape [3]", a.backward, a)
  a:backward(nn.tensor({1, 2, 3}))
  check(a.grad:get(3) == 3, "a leaf's own backward")
  checkerr("grad: shape [2] does not match the tensor's [3]", function() a.grad = nn.zeros(2) end)
  a.grad = nil
  check(a.grad == nil)
  local was = nn.is_grad_enabled()
  checkerr("boom", nn.no_grad, function() error("boom") end)
  check(nn.is_grad_enabled() == was, "no_grad restores recording after an error")
  local r1, r2 = nn.no_grad(function(v) return nn.is_grad_enabled(), v end, 5)
  check(r1 == false and r2 == 5)
  checkerr("does not require grad", nn.ones(1).backward, nn.ones(1))
  a:requires_grad(false)
  check(not a.needs_grad)
end)

T("nn.losses: values match evaluate, gradients match central differences", function()
  nn.seed(5)
  local x = nn.randn(7, 3)
  local cases = {
    {"mse", nn.randn(7, 2), "linear"}, {"mae", nn.randn(7, 2), "linear"},
    {"huber", nn.randn(7, 2) * 2, "linear"},
    {"binary_crossentropy", nn.tensor({{0, 1}, {1, 1}, {0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 0}}),
     "sigmoid"},
    {"categorical_crossentropy", nn.tensor({{1, 0}, {0, 1}, {1, 0}, {0, 1}, {1, 0}, {0, 1}, {1, 0}}),
     "softmax"},
    {"sparse_categorical_crossentropy", nn.tensor({{1}, {2}, {2}, {1}, {1}, {2}, {1}}), "softmax"},
  }
  for _, c in ipairs(cases) do
    local name, y, act = c[1], c[2], c[3]
    local m = nn.Sequential{nn.Dense(2, {input_dim = 3, activation = act})}
    m:compile{loss = name, optimizer = "sgd"}
    local want = m:evaluate(x, y)
    local p = nn.no_grad(function() return m(x) end)
    local got = nn.losses[name](y, p)
    check(got:numel() == 1)
    H.near(got:get(1), want, 1e-5, name .. " value")
    local pl = p:clone():requires_grad()
    local l = nn.losses[name](y, pl)
    check(l.grad_fn == name)
    l:backward()
    local flat, g = pl:reshape(pl:numel()), pl.grad:reshape(pl:numel())
    for e = 1, pl:numel() do
      local keep = flat[e]
      flat[e] = keep + 1e-3
      local lp = nn.losses[name](y, pl:detach()):get(1)
      flat[e] = keep - 1e-3
      local lm = nn.losses[name](y, pl:detach()):get(1)
      flat[e] = keep
      H.near(g[e], (lp - lm) / 2e-3, 1e-2, name .. " gradient " .. e)
    end
  end
  local a, b = nn.tensor({1, 2}), nn.tensor({2, 4})
  check(nn.losses.mean_squared_error(a, b):get(1) == nn.losses.mse(a, b):get(1), "Keras's long names")
  H.near(nn.losses.mse(a, b):get(1), 2.5, 1e-6)
  checkerr("nn.losses.mse: y_true of shape [3] does not fit y_pred of shape [2x2]",
           nn.losses.mse, nn.ones(3), nn.ones(2, 2))
  checkerr("y_true requires grad", nn.losses.mse, nn.ones(2):requires_grad(), nn.ones(2))
  checkerr("one class index per row", nn.losses.sparse_categorical_crossentropy, nn.ones(3),
           nn.ones(2, 2))
end)

-- A model trained by fit, then one more step by hand, gives the same weights
-- as two fit steps (same batch, SGD): the tape's gradient is fit's.
T("a step by hand equals a fit step", function()
  nn.seed(11)
  local x, y = nn.randn(16, 4), nn.randn(16, 3)
  local function make()
    nn.seed(12)
    local m = nn.Sequential{nn.Dense(6, {input_dim = 4, activation = "relu"}), nn.Dense(3)}
    m:compile{loss = "mse", optimizer = nn.optimizers.SGD{lr = 0.1}}
    return m
  end
  local a, b = make(), make()
  a:train_on_batch(x, y)
  a:train_on_batch(x, y)
  b:train_on_batch(x, y)
  local W = b:trainable_weights()
  b:zero_grad()
  nn.losses.mse(y, b(x)):backward()
  b.optimizer:step(W)
  local wa, wb = a:get_weights(), b:get_weights()
  for i = 1, #wa do
    local ta, tb = wa[i]:reshape(wa[i]:numel()), wb[i]:reshape(wb[i]:numel())
    for e = 1, wa[i]:numel() do H.near(ta[e], tb[e], 1e-5, "weight " .. i .. " element " .. e) end
  end
end)

T("compile with a Lua loss and Lua metrics trains as the built-in ones", function()
  local x, y = nn.randn(40, 3), nn.randn(40, 2)
  local function make(loss, metrics)
    nn.seed(21)
    local m = nn.Sequential{nn.Dense(5, {input_dim = 3, activation = "tanh"}), nn.Dense(2)}
    m:compile{loss = loss, optimizer = nn.optimizers.SGD{lr = 0.05}, metrics = metrics}
    return m
  end
  local calls = 0
  local a = make("mse", {"mae"})
  local b = make(function(yt, yp) calls = calls + 1; return nn.losses.mse(yt, yp) end,
                 {"mae", {"my_mae", function(yt, yp) return nn.losses.mae(yt, yp) end},
                  function(yt, yp) return nn.losses.mse(yt, yp) end})
  nn.seed(5)
  local ha = a:fit(x, y, {epochs = 3, batch_size = 8, verbose = 0})
  nn.seed(5)
  local hb = b:fit(x, y, {epochs = 3, batch_size = 8, verbose = 0})
  check(calls == 15, "the loss ran once per batch: " .. calls)
  for e = 1, 3 do
    H.near(hb.history.loss[e], ha.history.loss[e], 1e-5, "loss epoch " .. e)
    H.near(hb.history.my_mae[e], ha.history.mae[e], 1e-5, "my_mae epoch " .. e)
    H.near(hb.history.metric_3[e], hb.history.loss[e], 1e-4, "an unnamed metric by place")
  end
  local la, ma = a:evaluate(x, y)
  local lb, mb = b:evaluate(x, y)
  H.near(lb, la, 1e-5)
  H.near(mb.my_mae, ma.mae, 1e-5)
  local lt = b:train_on_batch(x, y)
  H.near(lt, lb, 1e-5)
  check(type(b.loss) == "function", "model.loss is the function given")
end)

T("a Lua loss that misbehaves is a clear error and the model is unharmed", function()
  local x, y = nn.randn(8, 2), nn.randn(8, 1)
  local m = nn.Sequential{nn.Dense(1, {input_dim = 2})}
  local w0 = m:get_weights()[1]:clone()
  m:compile{loss = function() return 1.5 end, optimizer = "sgd"}
  checkerr("fit: loss function: returned a number; it must return a one-element tensor",
           m.fit, m, x, y, {epochs = 1, verbose = 0})
  -- without a gradient to take (evaluate) a number is the loss: the
  -- docs' ((y_pred - y_true) ^ 2):mean() is one there
  local m2 = nn.Sequential{nn.Dense(1, {input_dim = 2})}
  m2:compile{loss = function(yt, yp) return ((yp - yt) ^ 2):mean() end, optimizer = "sgd"}
  m2:fit(x, y, {epochs = 1, verbose = 0})
  local want = ((m2:predict(x) - y) ^ 2):mean()
  H.near(m2:evaluate(x, y), want, 1e-5)
  H.near(m2:test_on_batch(x, y), want, 1e-5)
  m:compile{loss = function(yt) return nn.losses.mse(yt, yt) end, optimizer = "sgd"}
  checkerr("does not depend on y_pred", m.train_on_batch, m, x, y)
  m:compile{loss = function() error("my bug") end, optimizer = "sgd"}
  checkerr("train_on_batch: loss function:", m.train_on_batch, m, x, y)
  checkerr("my bug", m.train_on_batch, m, x, y)
  m:compile{loss = function(yt, yp) m(nn.ones(8, 2)); return nn.losses.mse(yt, yp) end,
            optimizer = "sgd"}
  checkerr("cannot run the model", m.train_on_batch, m, x, y)
  m:compile{loss = function(yt, yp) m:compile{loss = "mse"}; return nn.losses.mse(yt, yp) end,
            optimizer = "sgd"}
  checkerr("compile", m.train_on_batch, m, x, y)
  m:compile{loss = "mse", optimizer = "sgd", metrics = {function() return "x" end}}
  checkerr("evaluate: metric 'metric_1': returned string", m.evaluate, m, x, y)
  checkerr("metrics[1] as a table must be {name, function}", m.compile, m,
           {loss = "mse", metrics = {{"f"}}})
  local w1 = m:get_weights()[1]
  for i = 1, w0:numel() do check(w0:reshape(w0:numel())[i] == w1:reshape(w1:numel())[i]) end
  -- and it still trains with a good loss
  m:compile{loss = function(yt, yp) return nn.losses.mse(yt, yp) end, optimizer = "sgd"}
  local l0 = m:test_on_batch(x, y)
  for _ = 1, 20 do m:train_on_batch(x, y) end
  check(m:test_on_batch(x, y) < l0)
end)

H.done()
