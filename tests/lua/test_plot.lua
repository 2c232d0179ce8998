-- nn.plot from Lua: the script text of every plot kind (rendering off),
-- models turned into confusion counts, decision regions and diagrams,
-- option and argument errors, real files when gnuplot is installed, the
-- missing-gnuplot message, and LivePlot (one gnuplot process per fit).
local H = dofile("helper.lua")
local check, checkerr = H.check, H.checkerr

local base = os.tmpname() -- a fresh name in /tmp; our files add suffixes
local made = {}
local function tmp(suffix)
  local p = base .. suffix
  made[#made + 1] = p
  return p
end
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function has(text, piece)
  if not text:find(piece, 1, true) then
    error("script lacks '" .. piece .. "'", 2)
  end
end
local gnuplot = io.open("/usr/bin/gnuplot") and true
do
  local ok = pcall(function()
    local p = io.popen("command -v gnuplot")
    gnuplot = p:read("l") ~= nil
    p:close()
  end)
  if not ok then gnuplot = false end
end

-- Script only (render = false): what each kind writes.
local function script_of(fn, ...)
  local gp = tmp(".gp")
  local args = table.pack(...)
  local opts = args[args.n] or {}
  opts.script, opts.render = gp, false
  opts.file = opts.file or tmp(".png")
  args[args.n] = opts
  fn(table.unpack(args, 1, args.n))
  return slurp(gp)
end

-- history: a plain table and a History from fit
do
  local s = script_of(nn.plot.history, {history = {loss = {1, 0.5}, val_loss = {1.2, 0.7},
                                                    accuracy = {0.5, 0.9}}}, {title = "run"})
  has(s, "$s1 << EOD\n1 1\n2 0.5\nEOD")
  has(s, "$s2 << EOD\n1 1.2\n2 0.7\nEOD")
  has(s, "$s3 << EOD\n1 0.5\n2 0.9\nEOD")
  has(s, "set multiplot layout 1,2 title 'run'")
  has(s, "title 'validation'")
  checkerr("nn.plot.history: expected a history from fit", nn.plot.history, 3)
  checkerr("the history has no epochs", nn.plot.history, {history = {loss = {}}})
  checkerr("history 'loss' must be a list", nn.plot.history, {history = {loss = 1}})
  checkerr("history 'loss'[2] is string", nn.plot.history,
           {history = {loss = {1, "x"}}}, {render = false})
  -- errors from C are raised at the caller's line
  local e = checkerr("the history has no epochs", nn.plot.history, {history = {loss = {}}})
  e = checkerr("history 'loss'[2] is string", function()
    nn.plot.history({history = {loss = {1, "x"}}}, {render = false})
  end)
  check(e:find("test_plot%.lua:%d+: nn%.plot%.history"), e)
  checkerr("unknown option 'colour'", nn.plot.history, {history = {loss = {1}}}, {colour = 1})
  checkerr("option 'file' must be a string", nn.plot.history, {history = {loss = {1}}},
           {file = 3})
  checkerr("cannot tell the file type", nn.plot.history, {history = {loss = {1}}},
           {file = tmp(".jpg"), render = false})
end

-- lines, scatter, hist
do
  local s = script_of(nn.plot.lines, {0, 1, 2}, {{0, 1, 4}, nn.tensor({3, 2, 1})},
                      {names = {"sq", "down"}})
  has(s, "$line1 << EOD\n0 0\n1 1\n2 4\nEOD")
  has(s, "$line2 << EOD\n0 3\n1 2\n2 1\nEOD")
  has(s, "title 'sq'")
  has(s, "title 'down'")
  -- one list: x is 1..n; a 2-D tensor: one line per column
  s = script_of(nn.plot.lines, nil, {5, 6}, {})
  has(s, "$line1 << EOD\n1 5\n2 6\nEOD")
  s = script_of(nn.plot.lines, nil, nn.tensor({{1, 10}, {2, 20}}), {})
  has(s, "$line2 << EOD\n1 10\n2 20\nEOD")
  checkerr("line 1 has 2 x values and 3 y values", nn.plot.lines, {1, 2}, {1, 2, 3},
           {render = false})
  checkerr("line 2 must be a list of numbers", nn.plot.lines, {1}, {{1}, "x"})

  local x = nn.tensor({{0, 0}, {1, 1}, {2, 0}})
  s = script_of(nn.plot.scatter, x, {1, 2, 1}, {class_names = {"a", "b"}})
  has(s, "$class1 << EOD\n0 0\n2 0\nEOD")
  has(s, "$class2 << EOD\n1 1\nEOD")
  has(s, "title 'a'")
  -- numbers as class names are fine (converted, kept alive)
  collectgarbage()
  s = script_of(nn.plot.scatter, x, {1, 2, 1}, {class_names = {10, 20}})
  collectgarbage()
  has(s, "title '10'")
  has(s, "title '20'")
  s = script_of(nn.plot.scatter, {1, 2}, {3, 4}, {})
  has(s, "$points << EOD\n1 3\n2 4\nEOD")
  -- one-hot labels give classes too
  s = script_of(nn.plot.scatter, x, nn.tensor({{1, 0}, {0, 1}, {0, 1}}), {})
  has(s, "$class2 << EOD\n1 1\n2 0\nEOD")
  checkerr("x has 2 values and y has 1", nn.plot.scatter, {1, 2}, {3}, {render = false})

  s = script_of(nn.plot.hist, {1, 1, 2, 3}, {bins = 2})
  has(s, "$bins << EOD\n1.5 2\n2.5 2\nEOD")
  checkerr("bins must be an integer in 1..100000", nn.plot.hist, {1}, {bins = 0.5})
end

-- models: weights, confusion, decision regions, the diagram
nn.seed(7)
local model = nn.Sequential()
model:add(nn.Dense(3, {input_dim = 2, activation = "tanh"}))
model:add(nn.Dense(2, {activation = "softmax"}))
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}
do
  local k = model.layers[1]:get_weights()[1]
  local s = script_of(nn.plot.weights, model.layers[1], {})
  has(s, "weights (2 inputs x 3 units)")
  local first = k:totable()[1]
  has(s, string.format("$w << EOD\n%.9g %.9g %.9g\n", first[1], first[2], first[3]))
  -- a model picks its Dense layer; tiles need h * w == inputs
  s = script_of(nn.plot.weights, model, {layer = 2})
  has(s, "weights (3 inputs x 2 units)")
  s = script_of(nn.plot.weights, model, {image = {1, 2}})
  has(s, "incoming weights of 3 units (1x2 each)")
  checkerr("image {2, 2} holds 4 weights but each unit has 2 inputs", nn.plot.weights,
           model.layers[1], {image = {2, 2}, render = false})
  checkerr("the model has 2 layers with a kernel to draw (Dense or convolution), asked for " ..
           "number 3", nn.plot.weights, model, {layer = 3})
  checkerr("expected a Dense or convolution layer, a model or an nn.Tensor", nn.plot.weights,
           "w")

  -- Confusion counts match the model's own predictions.
  local x = nn.tensor({{0, 0}, {1, 1}, {-1, 2}, {3, -1}, {0.5, 0.2}})
  local y = {1, 2, 2, 1, 1}
  local p = model:predict(x):argmax(2):reshape(5):totable()
  local counts = {0, 0, 0, 0}
  for i = 1, 5 do counts[(y[i] - 1) * 2 + p[i]] = counts[(y[i] - 1) * 2 + p[i]] + 1 end
  s = script_of(nn.plot.confusion, model, x, y, {classes = {"left", "right"}})
  has(s, string.format("1 1 %d ", counts[1]))
  has(s, string.format("2 1 %d ", counts[2]))
  has(s, string.format("1 2 %d ", counts[3]))
  has(s, string.format("2 2 %d ", counts[4]))
  has(s, "set xtics ('left' 1, 'right' 2)")
  checkerr("y has 2 labels, expected 5", nn.plot.confusion, model, x, {1, 2})

  -- Decision regions: grid classes are the model's predictions there.
  s = script_of(nn.plot.decision_boundary, model, x, y, {resolution = 4, padding = 0})
  local gx = nn.tensor({{-1, -1}}) -- the grid's first corner (x0, y0)
  local c1 = model:predict(gx):argmax(2):reshape(1):totable()[1]
  has(s, string.format("$regions << EOD\n-1 -1 %d\n", c1))
  has(s, "$class1 << EOD\n0 0\n3 -1\n0.5 0.2")
  checkerr("expected points as an n x 2 tensor", nn.plot.decision_boundary, model,
           nn.tensor({1, 2, 3}), nil)
  checkerr("resolution must be a whole number in 2..1000, got 1", nn.plot.decision_boundary, model, x, y,
           {resolution = 1})

  -- The diagram: columns from layers, activation labels, weights or not.
  s = script_of(nn.plot.model, model, {})
  has(s, "set title 'network 2-3-2'")
  has(s, "'3 units'.\"\\012\".'tanh + bias'")
  has(s, "'2 units'.\"\\012\".'softmax + bias'")
  has(s, "weight or bias > 0")
  s = script_of(nn.plot.model, model, {weights = false})
  check(not s:find("weight or bias", 1, true), "structure only has no weight legend")
  local big = nn.Sequential({nn.Dense(256, {input_dim = 784, activation = "relu"}),
                             nn.Dropout(0.2), nn.Dense(10), nn.Activation("softmax")})
  s = script_of(nn.plot.model, big, {max_neurons = 8})
  has(s, "'... 777 more'")
  has(s, "'... 249 more'")
  has(s, "'... 3 more'")
  has(s, "'256 units'.\"\\012\".'relu + bias'.\"\\012\".'dropout 0.2'")
  has(s, "'10 units'.\"\\012\".'softmax + bias'")
  local unbuilt = nn.Sequential({nn.Dense(4), nn.Dense(1)})
  checkerr("the model's input size is unknown", nn.plot.model, unbuilt)
  checkerr("expected a model", nn.plot.model, {})
end

-- Real files, when gnuplot is installed.
if gnuplot then
  local png = tmp(".png")
  local h = model:fit(nn.tensor({{0, 0}, {1, 1}, {0, 1}, {1, 0}}), nn.tensor({1, 2, 2, 1}),
                      {epochs = 3, verbose = 0})
  h:plot({file = png})
  H.check_png(png)
  -- a picture, not only a file: a few kinds drawn for real
  local xy = nn.tensor({{0, 0}, {1, 1}, {0, 1}, {1, 0}})
  for _, draw in ipairs{
    function(f) nn.plot.model(model, {file = f}) end,
    function(f) nn.plot.decision_boundary(model, xy, nn.tensor({1, 2, 2, 1}), {file = f}) end,
    function(f) nn.plot.activations(nil, {file = f}) end,
    function(f) nn.plot.lines(nil, {1, 3, 2, 5}, {file = f, names = {"a line"}}) end,
    function(f) nn.plot.lines({1, 3, 2, 5}, {file = f}) end, -- (ys, opts): xs left out
  } do
    local f = tmp(".png")
    draw(f)
    local st = H.check_png(f)
    check(st.width >= 200 and st.height >= 200, "a picture's size")
  end
  local txt = tmp(".txt")
  nn.plot.model(model, {file = txt})
  local text = slurp(txt)
  check(text:find("network 2-3-2", 1, true) and text:find("softmax", 1, true),
        "text diagram names the network and its activations")
  -- gnuplot's own error comes back: a folder that does not exist
  checkerr("cannot open file", nn.plot.hist, {1, 2, 3}, {file = "/nonexistent/dir/h.png"})
end

-- Missing gnuplot: an error that says how to install it; training with
-- LivePlot still works (a warning, once).
do
  local bin = os.getenv("NNLUA_BIN")
  if bin then
    local cmd = "NNLUA_GNUPLOT=/nonexistent '" .. bin .. "' -e \"" ..
      "local ok, e = pcall(nn.plot.hist, {1, 2}, {file = 'x.png'}); print(e); " ..
      "local m = nn.Sequential({nn.Dense(1, {input_dim = 1})}); " ..
      "m:compile{loss = 'mse', optimizer = 'sgd'}; " ..
      "local h = m:fit(nn.tensor({{1}, {2}}), nn.tensor({{1}, {2}}), " ..
      "{epochs = 3, verbose = 0, callbacks = {nn.callbacks.LivePlot{file = 'x.png'}}}); " ..
      "print('epochs', #h.history.loss)\" 2>&1"
    local p = io.popen(cmd)
    local out = p:read("a")
    p:close()
    check(out:find("apt-get install gnuplot-nox", 1, true), "install hint: " .. out)
    check(not out:find("30_plot.lua", 1, true), "no internal positions: " .. out)
    check(out:find("epochs\t3", 1, true), "training went on: " .. out)
    local _, warnings = out:gsub("\nLivePlot: ", "")
    check(warnings == 1, "one LivePlot warning: " .. out)
  end
end

-- LivePlot: one gnuplot process for the whole fit, closed at the end.
if gnuplot then
  local file = tmp(".txt")
  -- interval 0: a frame is due after every epoch
  local live = nn.callbacks.LivePlot{file = file, title = "live", interval = 0}
  local pids = {}
  local probe = {on_epoch_end = function()
    local s = live.session()
    pids[#pids + 1] = s and s:pid()
  end}
  local m = nn.Sequential({nn.Dense(4, {input_dim = 2, activation = "relu"}), nn.Dense(1)})
  m:compile{loss = "mse", optimizer = "adam", metrics = {"mae"}}
  local x, y = nn.rand(64, 2), nn.rand(64, 1)
  m:fit(x, y, {epochs = 6, verbose = 0, validation_split = 0.25, callbacks = {live, probe}})
  check(#pids == 6 and pids[1], "a session during fit")
  for i = 2, #pids do check(pids[i] == pids[1], "the same gnuplot process every epoch") end
  check(live.session() == nil, "handed over at the end of fit")
  check(live:wait() == true, "the last frame drawn without error")
  check(not live:busy(), "nothing left to wait for")
  local text = slurp(file)
  check(text:find("live", 1, true) and text:find("mae", 1, true), "final frame drawn")
  check(text:find("6", 1, true), "up to the last epoch")
  check(live:wait() == true, "waiting again returns at once")

  -- The default interval (1 s): a short fit starts no gnuplot while it
  -- trains and draws its last frame after; the next fit waits for it.
  local lazy = nn.callbacks.LivePlot{file = file, title = "lazy"}
  local during = {}
  local probe2 = {on_epoch_end = function() during[#during + 1] = lazy.session() or false end}
  m:fit(x, y, {epochs = 3, verbose = 0, callbacks = {lazy, probe2}})
  check(#during == 3 and not during[1] and not during[3], "no gnuplot while a short fit trains")
  m:fit(x, y, {epochs = 2, verbose = 0, callbacks = {lazy}})
  check(lazy:wait() == true, "second fit's frame drawn")
  text = slurp(file)
  check(text:find("lazy", 1, true), "the lazy frame: " .. text)

  -- An error in the last frame (its file cannot be made) comes back from
  -- wait, with gnuplot's message; training was not affected.
  local bad = nn.callbacks.LivePlot{file = base .. "/no/such/dir/x.txt"}
  local h = m:fit(x, y, {epochs = 2, verbose = 0, callbacks = {bad}})
  check(#h.history.loss == 2, "training went on")
  local ok, err = bad:wait()
  check(ok == false and err:find("cannot open", 1, true), tostring(err))
  check(not err:find("30_plot", 1, true), "no internal positions: " .. err)
  -- the history the plot shows is the fit's
  check(#live.history.loss == 6 and #live.history.val_mae == 6, "LivePlot kept the logs")
  checkerr("unknown option 'bogus'", nn.callbacks.LivePlot, {bogus = 1})
  checkerr("option 'script' is not for live plots", nn.callbacks.LivePlot, {script = "x"})
end

-- LivePlot in a window (a display and a gnuplot with qt): fit does not
-- wait for the last frame; gnuplot draws it and exits on its own. The
-- stand-in reports qt and turns the qt terminal into text on stdout.
if gnuplot and os.getenv("NNLUA_BIN") then
  local wrapper = tmp(".sh")
  local f = assert(io.open(wrapper, "w"))
  f:write("#!/bin/sh\necho 'terminals: dumb qt ' >&2\n",
          "sed -u 's/^set terminal qt .*/set terminal dumb size 70,20/' | exec gnuplot\n")
  f:close()
  os.execute("chmod +x '" .. wrapper .. "'")
  local cmd = "DISPLAY=:0 NNLUA_GNUPLOT='" .. wrapper .. "' '" .. os.getenv("NNLUA_BIN") ..
    "' -e \"local m = nn.Sequential({nn.Dense(1, {input_dim = 1})}); " ..
    "m:compile{loss = 'mse', optimizer = 'sgd'}; " ..
    "m:fit(nn.tensor({{1}, {2}}), nn.tensor({{1}, {2}}), " ..
    "{epochs = 5, verbose = 0, callbacks = {nn.callbacks.LivePlot{title = 'in a window'}}}); " ..
    "print('fit done')\" 2>&1"
  local p = io.popen(cmd)
  local out = p:read("a") -- until gnuplot, finishing in the background, has exited too
  p:close()
  check(out:find("fit done", 1, true), out)
  check(out:find("in a window", 1, true), "the last frame was drawn: " .. out)
  check(not out:find("LivePlot:", 1, true), "no warning: " .. out)
end

for _, p in ipairs(made) do os.remove(p) end
os.remove(base)
print("test_plot: ok")
