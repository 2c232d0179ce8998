-- nn.explain.forward / backward / step: the numbers in the text are the
-- model's (predict's output, the gradient training applies, the weights
-- after train_on_batch), every line fits in 80 columns for small and large
-- models and a CNN, opts.print = false prints nothing, and bad arguments
-- are errors that name the function.
local H = require "helper"
local T = H.test
local check, checkerr = H.check, H.checkerr

local function xor_model(opt)
  nn.seed(7)
  local m = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "relu"}),
                          nn.Dense(1, {activation = "sigmoid"})}
  m:compile{loss = "binary_crossentropy", optimizer = opt or nn.optimizers.SGD{lr = 1}}
  return m
end

-- A second model with the same layers and weights, compiled with opt.
local function twin(m, opt, build)
  local c = build()
  c:set_weights(m:get_weights())
  c:compile{loss = m.loss, optimizer = opt}
  return c
end

-- The numbers of the first "[...]" after prefix on a line of text.
local function numbers_after(text, prefix)
  for line in text:gmatch("[^\n]+") do
    local s = line:find(prefix, 1, true)
    if s then
      local inside = line:sub(s):match("%[(.-)%]")
      local v = {}
      for n in inside:gmatch("[-%d.e+]+") do v[#v + 1] = tonumber(n) end
      return v
    end
  end
  error("no line with '" .. prefix .. "' in:\n" .. text)
end

-- Relative agreement at the 3 digits the text shows.
local function shown_equal(got, want, what)
  check(#got == #want, what .. ": " .. #got .. " numbers, want " .. #want)
  for i = 1, #want do
    H.near(got[i], want[i], 6e-3 * math.abs(want[i]) + 1e-6, what .. " " .. i)
  end
end

local function flat(t) return t:reshape(t:numel()):totable() end

local function max_diff(a, b)
  local x, y, d = flat(a), flat(b), 0
  check(#x == #y, "sizes differ")
  for i = 1, #x do d = math.max(d, math.abs(x[i] - y[i])) end
  return d
end

local function check_width(text, what)
  local n = 0
  for line in text:gmatch("[^\n]*") do
    n = n + 1
    check(#line <= 80, string.format("%s: line of %d columns: %s", what, #line, line))
  end
  check(n > 5, what .. ": too few lines")
end

local quiet = {print = false}

T("forward: the text's numbers are the model's predict output", function()
  local m = xor_model()
  local x = {0.5, -1}
  local text, info = nn.explain.forward(m, x, quiet)
  local p = m:predict(nn.tensor{x})
  shown_equal(numbers_after(text, "Output: "), flat(p), "output")
  H.near(flat(info.output)[1], flat(p)[1], 1e-6, "info.output")
  -- the first layer's z and a by hand from its weights
  local W, b = m.layers[1]:get_weights()[1], m.layers[1]:get_weights()[2]
  local z = nn.tensor{x}:matmul(W) + b
  shown_equal(numbers_after(text, "  a = ["),
              flat(z:relu()), "layer 1 a")
  check(text:find("z = W x + b", 1, true), "the formula is shown")
  check(text:find("relu(x) = max(0, x)", 1, true), "relu's formula from the registry")
  check(text:find("sigmoid(x) = 1 / (1 + exp(-x))", 1, true), "sigmoid's formula")
  local cls = flat(p)[1] > 0.5 and 1 or 0
  check(text:find("Predicted class: " .. cls, 1, true), "the predicted class")
  -- z[1] written out as its sum
  check(text:find("z[1] = (", 1, true), "one unit's sum")
end)

T("forward: the first row of a batch; softmax's class", function()
  nn.seed(3)
  local m = nn.Sequential{nn.Dense(4, {input_dim = 3, activation = "tanh"}),
                          nn.Dense(3, {activation = "softmax"})}
  local x = nn.rand(5, 3)
  local text = nn.explain.forward(m, x, quiet)
  check(text:find("(the first of 5 samples)", 1, true), "says which sample")
  local p = flat(m:predict(x):rows(1, 1))
  shown_equal(numbers_after(text, "Output: "), p, "output")
  local best = 1
  for i = 2, 3 do if p[i] > p[best] then best = i end end
  check(text:find("Predicted class: " .. best, 1, true), "argmax class")
end)

T("backward: dL/dW and dL/db are the gradient training applies", function()
  local m = xor_model()
  local x, y = {0.5, -1}, 1
  local text, info = nn.explain.backward(m, x, y, quiet)
  -- SGD with lr = 1 on the same sample: w_before - w_after = gradient
  local c = twin(m, nn.optimizers.SGD{lr = 1}, function()
    return nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "relu"}),
                         nn.Dense(1, {activation = "sigmoid"})}
  end)
  local before = c:get_weights()
  c:train_on_batch(nn.tensor{x}, nn.tensor{{y}})
  local after = c:get_weights()
  local k = 0
  for i = 1, 2 do
    for _, g in ipairs(info.layers[i].grads) do
      k = k + 1
      local d = before[k] - after[k]
      check(max_diff(g.grad, d) < 1e-5, "layer " .. i .. " " .. g.name .. " gradient")
    end
  end
  check(k == 4, "four weights")
  -- the text shows the same numbers (W = kernel^T)
  local db2 = flat(before[4] - after[4])
  shown_equal(numbers_after(text, "dL/db = dL/dz = "), db2, "dL/db of layer 2")
  local loss = c:test_on_batch(nn.tensor{x}, nn.tensor{{y}})
  check(loss ~= nil)
  check(text:find("binary_crossentropy, -(y log p", 1, true), "the loss formula")
  check(text:find("dL/dz = dL/da * f'(z)", 1, true), "the chain rule")
  check(text:find("dL/dW = dL/dz x^T", 1, true), "dW's formula")
  check(text:find("(the loss and sigmoid together: dL/dz = a - y)", 1, true),
        "the fused form")
  check(m.layers[1].kernel.grad == nil, "the weights' .grad are left clear")
end)

T("backward: with an L2 regularizer and softmax, as training", function()
  local function build()
    return nn.Sequential{nn.Dense(4, {input_dim = 3, activation = "elu",
                                      kernel_regularizer = {l2 = 0.05}}),
                         nn.Dense(3, {activation = "softmax"})}
  end
  nn.seed(11)
  local m = build()
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}
  local x = {0.2, -0.4, 0.9}
  local _, info = nn.explain.backward(m, x, 2, quiet)
  local c = twin(m, nn.optimizers.SGD{lr = 1}, build)
  local before = c:get_weights()
  c:train_on_batch(nn.tensor{x}, nn.tensor{{2}})
  local after = c:get_weights()
  local k = 0
  for i = 1, 2 do
    for _, g in ipairs(info.layers[i].grads) do
      k = k + 1
      check(max_diff(g.grad, before[k] - after[k]) < 1e-5, "weight " .. k)
    end
  end
end)

-- explain.step on m against train_on_batch on a twin: the same weights.
local function check_step(opt_fn, steps)
  local function build()
    return nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "relu"}),
                         nn.Dense(1, {activation = "sigmoid"})}
  end
  nn.seed(5)
  local m = build()
  m:compile{loss = "binary_crossentropy", optimizer = opt_fn()}
  local c = twin(m, opt_fn(), build)
  local xs = {{0.5, -1}, {1, 1}, {-0.3, 0.8}}
  local ys = {1, 0, 1}
  for s = 1, steps do
    local x, y = xs[s], ys[s]
    -- shown without applying first: the predicted new weights
    local w0 = m:get_weights()
    local _, shown = nn.explain.step(m, x, y, {print = false, apply = false})
    local w1 = m:get_weights()
    for i = 1, #w0 do check(max_diff(w0[i], w1[i]) == 0, "apply = false changes nothing") end
    local text, info = nn.explain.step(m, x, y, quiet)
    c:train_on_batch(nn.tensor{x}, nn.tensor{{y}})
    local wm, wc = m:get_weights(), c:get_weights()
    for i = 1, #wm do
      check(max_diff(wm[i], wc[i]) == 0, "step " .. s .. ": weight " .. i .. " as train_on_batch")
      check(max_diff(info.weights[i].new, wc[i]) == 0, "info.new " .. i)
      check(max_diff(shown.weights[i].new, wc[i]) < 1e-6,
            "step " .. s .. ": apply = false predicts weight " .. i)
    end
    check(text:find("step t = " .. s, 1, true), "the step number")
    check_width(text, "step")
  end
end

T("step: SGD equals train_on_batch", function()
  check_step(function() return nn.optimizers.SGD{lr = 0.3} end, 2)
end)
T("step: SGD with momentum and nesterov", function()
  check_step(function() return nn.optimizers.SGD{lr = 0.1, momentum = 0.9, nesterov = true} end, 3)
end)
T("step: Adam, its m and v over three steps", function()
  check_step(function() return nn.optimizers.Adam{lr = 0.01} end, 3)
end)
T("step: AdamW, RMSprop, Adagrad", function()
  check_step(function() return nn.optimizers.AdamW{lr = 0.01} end, 2)
  check_step(function() return nn.optimizers.RMSprop{lr = 0.01} end, 2)
  check_step(function() return nn.optimizers.RMSprop{lr = 0.01, momentum = 0.5,
                                                      centered = true} end, 2)
  check_step(function() return nn.optimizers.Adagrad{lr = 0.1} end, 2)
end)

T("step: the SGD text shows old, gradient, change and new values", function()
  local m = xor_model(nn.optimizers.SGD{lr = 0.5})
  local old = m.layers[2]:get_weights()[2]:totable()[1]
  local text = nn.explain.step(m, {0.5, -1}, 1, quiet)
  check(text:find("w = w - lr * g", 1, true), "SGD's rule")
  local new = m.layers[2]:get_weights()[2]:totable()[1]
  check(text:find(string.format("e.g. bias[1]: %s - 0.5 * (", old == 0 and "0" or
                                string.format("%.3g", old)), 1, true), "a worked element")
  check(new ~= old, "the step applied")
  check(text:find("Loss on this sample: ", 1, true), "loss before and after")
  local a = nn.explain.step(xor_model(nn.optimizers.Adam{}), {1, 0}, 1, quiet)
  check(a:find("lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)", 1, true), "Adam's rule")
  check(a:find("    m ", 1, true) and a:find(" v ", 1, true), "m and v shown")
end)

T("every line fits in 80 columns: small, 784-128-10, a CNN, a Lua layer", function()
  local m = xor_model()
  for _, f in ipairs{"forward", "backward", "step"} do
    check_width(nn.explain[f](m, {1, 0}, f ~= "forward" and 1 or quiet, quiet), "xor " .. f)
  end
  nn.seed(2)
  local big = nn.Sequential{nn.Dense(128, {input_dim = 784, activation = "relu"}),
                            nn.Dropout(0.2), nn.Dense(10, {activation = "softmax"})}
  big:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}
  local x = nn.rand(784)
  local ft = nn.explain.forward(big, x, quiet)
  check_width(ft, "mlp forward")
  check(ft:find("(W: 128x784, 100352 weights", 1, true), "a large layer's shapes")
  check(not ft:find("[ ", 1, true), "no matrix of a large layer")
  check_width(nn.explain.backward(big, x, 3, quiet), "mlp backward")
  check_width(nn.explain.step(big, x, 3, quiet), "mlp step")
  local Scale = nn.Layer{name = "Scale",
    build = function(self, s)
      self.w = self:add_weight{name = "w", shape = {s[#s]}, initializer = "ones"}
    end,
    call = function(self, t) return t * self.w end}
  local cnn = nn.Sequential{nn.Conv2D(4, 3, {input_shape = {8, 8, 1}, activation = "relu"}),
                            nn.MaxPooling2D(2), nn.Flatten(), nn.Dense(8), Scale{},
                            nn.Dense(3, {activation = "softmax"})}
  cnn:compile{loss = "categorical_crossentropy", optimizer = nn.optimizers.SGD{lr = 0.1}}
  local img = nn.rand(1, 8, 8, 1)
  local cf = nn.explain.forward(cnn, img, quiet)
  check_width(cf, "cnn forward")
  check(cf:find("Conv2D 'conv2d'  8x8x1 -> 6x6x4, relu", 1, true), "conv shapes")
  check(cf:find("kernel: 3x3x1x4", 1, true), "conv kernel shape")
  check(cf:find("largest value of each window", 1, true), "pooling's help from the registry")
  check(cf:find("A layer written in Lua", 1, true), "the Lua layer")
  shown_equal(numbers_after(cf, "Output: "), flat(cnn:predict(img)), "cnn output")
  local cb, info = nn.explain.backward(cnn, img, {0, 1, 0}, quiet)
  check_width(cb, "cnn backward")
  check(info.layers[1].grads.kernel ~= nil, "the conv kernel's gradient")
  check_width(nn.explain.step(cnn, img, {0, 1, 0}, quiet), "cnn step")
end)

T("opts.print = false prints nothing; the default prints the same text", function()
  local m = xor_model()
  local out = {}
  local w, p = io.write, print
  io.write = function(...) for _, s in ipairs{...} do out[#out + 1] = tostring(s) end end
  print = function(...) out[#out + 1] = table.concat({...}, "\t") end
  local ok, err = pcall(function()
    nn.explain.forward(m, {1, 0}, quiet)
    nn.explain.backward(m, {1, 0}, 1, quiet)
    nn.explain.step(m, {1, 0}, 1, {print = false, apply = false})
  end)
  local silent = #out
  local ok2, shown = pcall(nn.explain.forward, m, {1, 0})
  io.write, print = w, p
  check(ok, tostring(err))
  check(ok2, tostring(shown))
  check(silent == 0, "printed " .. silent .. " times with print = false")
  check(table.concat(out) == shown, "the printed text is the returned text")
end)

T("errors name the function", function()
  local m = xor_model()
  checkerr("nn.explain.forward: expected a model", nn.explain.forward, {}, {1, 2})
  checkerr("nn.explain.backward: expected a model", nn.explain.backward, nn.zeros(2), {1, 2}, 1)
  checkerr("nn.explain.forward: x has 3 values (shape 3); the model takes 2 per sample",
           nn.explain.forward, m, {1, 2, 3})
  checkerr("nn.explain.step: x has 3 values", nn.explain.step, m, nn.zeros(1, 3), 1)
  checkerr("nn.explain.backward: expected a target y", nn.explain.backward, m, {1, 2})
  checkerr("nn.explain.backward: y has 2 values; the model has 1 output (give 1 value)",
           nn.explain.backward, m, {1, 2}, {1, 0})
  checkerr("nn.explain.forward: unknown option 'prnt'", nn.explain.forward, m, {1, 2},
           {prnt = false})
  checkerr("nn.explain.step: option 'apply' must be a boolean", nn.explain.step, m, {1, 2}, 1,
           {apply = 1})
  local unbuilt = nn.Sequential{nn.Dense(2)}
  checkerr("nn.explain.forward: the model is not built", nn.explain.forward, unbuilt, {1})
  checkerr("nn.explain.forward: the model has no layers", nn.explain.forward, nn.Sequential(), {1})
  local raw = nn.Sequential{nn.Dense(1, {input_dim = 2})}
  check(nn.explain.forward(raw, {1, 2}, quiet):find("Output: "), "forward needs no compile")
  checkerr("nn.explain.backward: compile the model first", nn.explain.backward, raw, {1, 2}, 1)
  checkerr("nn.explain.step: compile the model first", nn.explain.step, raw, {1, 2}, 1)
  checkerr("nn.explain.forward: x must be a tensor or a list of numbers, got string",
           nn.explain.forward, m, "12")
  -- at the caller's line
  checkerr("test_explain.lua:", function() nn.explain.forward(m, {1, 2, 3}) end)
  checkerr("test_explain.lua:", function() nn.explain.step(raw, {1, 2}, 1) end)
  checkerr("test_explain.lua:", function() nn.explain.backward(m, {1, 2}, {1, 2}) end)
  local bn = nn.Sequential{nn.Dense(2, {input_dim = 2}), nn.BatchNormalization(), nn.Dense(1)}
  bn:compile{loss = "mse", optimizer = "sgd"}
  check(nn.explain.forward(bn, {1, 2}, quiet):find("BatchNormalization", 1, true))
  checkerr("nn.explain.backward: layer 2 'batch_normalization' (BatchNormalization) has no " ..
           "gradient in inference mode", nn.explain.backward, bn, {1, 2}, 1)
end)

T("help: an entry with a runnable example for each function", function()
  local out = {}
  local w, p = io.write, print
  io.write = function(...) for _, v in ipairs{...} do out[#out + 1] = tostring(v) end end
  print = function(...) out[#out + 1] = table.concat({...}, "\t") .. "\n" end
  local ok, err = pcall(function()
    for _, f in ipairs{"forward", "backward", "step"} do
      nn.help("nn.explain." .. f)
    end
  end)
  io.write, print = w, p
  check(ok, tostring(err))
  local text = table.concat(out)
  check(text:find("nn.explain.forward(model, x [, opts])", 1, true), "forward's entry")
  check(text:find("nn.explain.backward(model, x, y [, opts])", 1, true), "backward's entry")
  check(text:find("nn.explain.step(model, x, y [, {apply = true}])", 1, true), "step's entry")
end)

T("examples/explain.lua runs, fits in 80 columns and learns xor", function()
  local bin = os.getenv("NNLUA_BIN") or "nnlua"
  local here = io.popen("pwd"):read("l")
  local p = io.popen(string.format("'%s' '%s/../../examples/explain.lua' 2>&1", bin, here))
  local out = p:read("a")
  local ok = p:close()
  check(ok, "examples/explain.lua failed:\n" .. out)
  check_width(out, "example")
  check(out:find("One SGD step on one sample", 1, true), "the step")
  check(out:find("xor: 4 of 4 right", 1, true), "it learns xor: " .. out)
  local head = io.open(here .. "/../../examples/explain.lua"):read("a")
  check(head:find("\n%-%- Teaches: ") and head:find("\n%-%- Runs in: "), "its header")
end)

H.done()
