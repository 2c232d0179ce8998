-- Seeing gradients: model:gradient_norms, nn.callbacks.GradientLogger and
-- nn.plot.gradients. A deep sigmoid network's gradients vanish towards its
-- input (orders of magnitude between the first and last layers) where the
-- same network with relu keeps them within one or two: the logger must
-- show that, and the plot must draw it (a PNG with content, and text).
local H = require "helper"
local T = H.test
local check, checkerr = H.check, H.checkerr

local function deep(act)
  local layers = {nn.Dense(16, {input_dim = 2, activation = act})}
  for _ = 1, 8 do layers[#layers + 1] = nn.Dense(16, {activation = act}) end
  layers[#layers + 1] = nn.Dense(1, {activation = "sigmoid"})
  local m = nn.Sequential(layers)
  m:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.SGD{lr = 0.1}}
  return m
end

local function data()
  nn.seed(1)
  local x, y = nn.randn(256, 2), nn.zeros(256, 1)
  for i = 1, 256 do if x:get(i, 1) * x:get(i, 2) > 0 then y:set(i, 1, 1) end end
  return x, y
end

local logs = {}

T("gradient_norms are the norms of the last step's gradients", function()
  local x, y = data()
  local m = nn.Sequential{nn.Dense(3, {input_dim = 2}), nn.Dropout(0.1), nn.Dense(1)}
  m:compile{loss = "mse", optimizer = "sgd"}
  m:train_on_batch(x, y)
  local g = m:gradient_norms()
  check(#g == 2 and g[1].name == "dense" and g[2].name:find("^dense_"), "layers with weights")
  -- the same gradient by the tape, from the same weights
  local a = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "tanh"}), nn.Dense(1)}
  local b = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "tanh"}), nn.Dense(1)}
  b:set_weights(a:get_weights())
  a:compile{loss = "mse", optimizer = "sgd"}
  a:train_on_batch(x, y)
  local na = a:gradient_norms()
  nn.losses.mse(y, b(x)):backward()
  for li = 1, 2 do
    local s = 0
    for _, w in ipairs(b.layers[li]:trainable_weights()) do
      local f = w.grad:reshape(w.grad:numel())
      for e = 1, f:numel() do s = s + f[e] * f[e] end
    end
    H.near(na[li].norm, math.sqrt(s), 1e-5, "layer " .. li .. "'s norm")
  end
end)

T("GradientLogger: vanishing with sigmoid, not with relu", function()
  local x, y = data()
  for _, act in ipairs{"sigmoid", "relu"} do
    nn.seed(2)
    local g = nn.callbacks.GradientLogger()
    deep(act):fit(x, y, {epochs = 4, batch_size = 32, verbose = 0, callbacks = {g}})
    local h = g.history
    check(#h.layers == 10 and #h.steps == 4 and h.unit == "epoch")
    for _, name in ipairs(h.layers) do check(#h.norms[name] == 4) end
    local first, last = h.norms[h.layers[1]][4], h.norms[h.layers[10]][4]
    logs[act] = {first = first, last = last, logger = g}
    if act == "sigmoid" then
      check(first < last * 1e-3, "sigmoid: " .. first .. " vs " .. last)
    else
      check(first > last * 1e-2, "relu: " .. first .. " vs " .. last)
    end
  end
  local gb = nn.callbacks.GradientLogger{every = "batch"}
  deep("relu"):fit(x, y, {epochs = 2, batch_size = 64, verbose = 0, callbacks = {gb}})
  check(#gb.history.steps == 8 and gb.history.unit == "batch")
  checkerr("every must be 'epoch' or 'batch'", nn.callbacks.GradientLogger, {every = "step"})
  checkerr("unknown option 'each'", nn.callbacks.GradientLogger, {each = 1})
end)

T("nn.plot.gradients draws the logger (PNG and text)", function()
  local g = logs.sigmoid.logger
  local png = os.tmpname() .. ".png"
  local ok = pcall(nn.plot.gradients, g, {file = png})
  if ok then
    local f = assert(io.open(png, "rb"))
    local data = f:read("a")
    f:close()
    os.remove(png)
    check(data:sub(1, 8) == "\137PNG\r\n\26\n" and #data > 5000, "a PNG with content")
    local txt = os.tmpname() .. ".txt"
    nn.plot.gradients(g.history, {file = txt, logy = false})
    f = assert(io.open(txt))
    local text = f:read("a")
    f:close()
    os.remove(txt)
    check(text:find("1: dense", 1, true) and text:find("10: dense", 1, true), text)
  else
    print("gnuplot missing: the drawing part is skipped")
  end
  checkerr("nothing recorded yet", nn.plot.gradients, nn.callbacks.GradientLogger())
  checkerr("expected an nn.callbacks.GradientLogger", nn.plot.gradients, 5)
end)

T("nn.plot.graph draws the recorded computation", function()
  nn.seed(3)
  local m = nn.Sequential{nn.Dense(4, {input_dim = 3, activation = "relu"}), nn.Dense(2)}
  local l = nn.losses.mse(nn.zeros(5, 2), m(nn.randn(5, 3)))
  l:backward({retain_graph = true})
  local txt = os.tmpname() .. ".txt"
  local ok = pcall(nn.plot.graph, l, {file = txt})
  if ok then
    local f = assert(io.open(txt))
    local text = f:read("a")
    f:close()
    os.remove(txt)
    for _, piece in ipairs{"mse", "Dense", "[5x4]", "[3x4]", "[4x2]", "|grad| 1"} do
      check(text:find(piece, 1, true), "the drawing shows " .. piece .. "\n" .. text)
    end
    local png = os.tmpname() .. ".png"
    nn.plot.graph(l, {file = png, title = "a small network"})
    f = assert(io.open(png, "rb"))
    local data = f:read("a")
    f:close()
    os.remove(png)
    check(data:sub(1, 8) == "\137PNG\r\n\26\n" and #data > 3000, "a PNG with content")
  else
    print("gnuplot missing: the drawing part is skipped")
  end
  do -- a graph freed by backward says how to keep it
    local a = nn.randn(3, 2):requires_grad()
    local l2 = a:act("relu"):sum()
    l2:backward()
    local gp2 = os.tmpname() .. ".gp"
    nn.plot.graph(l2, {script = gp2, render = false, file = os.tmpname() .. ".png"})
    local f = assert(io.open(gp2))
    local text = f:read("a")
    f:close()
    os.remove(gp2)
    check(text:find("retain_graph = true", 1, true), text)
    -- an activation's node is named by its function
    local l3 = a:act("tanh"):sum()
    l3:backward(nil, {retain_graph = true})
    nn.plot.graph(l3, {script = gp2, render = false, file = os.tmpname() .. ".png"})
    f = assert(io.open(gp2))
    text = f:read("a")
    f:close()
    os.remove(gp2)
    check(text:find("set label 'tanh'", 1, true) and not text:find("retain_graph", 1, true), text)
  end
  checkerr("nn.plot.graph: the tensor was not made by recorded operations", nn.plot.graph,
           nn.ones(2))
  checkerr("max_nodes must be 1..2000", nn.plot.graph, l, {max_nodes = 0})
end)

T("nn.plot.activations draws functions and their derivatives", function()
  local txt = os.tmpname() .. ".txt"
  local gp = os.tmpname() .. ".gp"
  nn.plot.activations({"sigmoid", "relu"}, {script = gp, render = false})
  local f = assert(io.open(gp))
  local script = f:read("a")
  f:close()
  os.remove(gp)
  -- gnuplot quotes the prime as '."'".'
  check(script:find("sigmoid(x) = 1 / (1 + exp(-x))", 1, true) and
        script:find("title 'relu'.\"'\".'(x)'", 1, true),
        "the key names each function with its formula and its derivative")
  -- a panel per function, titled by its formula
  check(script:find("set multiplot layout 1,2", 1, true) and
        script:find("set title 'sigmoid(x) = 1 / (1 + exp(-x))'", 1, true) and
        script:find("set title 'relu(x) = max(0, x)'", 1, true), "one panel per function")
  -- the derivative is autograd's: sigmoid'(0) = 0.25, relu'(2) = 1, relu'(-2) = 0
  local block = script:match("%$line2 << EOD\n(.-)EOD")
  check(block and block:find("\n0 0.25\n", 1, true), "sigmoid'(0) = 0.25")
  local relu_d = script:match("%$line4 << EOD\n(.-)EOD")
  check(relu_d and relu_d:find("\n2 1\n", 1, true) and relu_d:find("\n%-2 0\n"),
        "relu' is 1 right of 0 and 0 left of it")
  if pcall(nn.plot.activations, "tanh", {file = txt, derivative = false}) then
    f = assert(io.open(txt))
    local text = f:read("a")
    f:close()
    os.remove(txt)
    check(text:find("tanh(x)", 1, true) and not text:find("tanh'", 1, true), text)
  end
  checkerr("unknown activation 'nope'", nn.plot.activations, "nope")
  checkerr("softmax acts on a whole row", nn.plot.activations, {"softmax"})
  checkerr("range must be {lo, hi} with lo < hi", nn.plot.activations, "relu", {range = {2, 1}})
end)

H.done()
