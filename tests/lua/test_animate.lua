-- nn.callbacks.Animate and LivePlot{plot = ...}: the animated GIF has one
-- frame per recorded epoch (counted by reading the GIF's blocks), its
-- header, trailer, size and delay; the frames' temporary file is gone
-- afterwards; option errors; frame-mode scripts have no terminal; an error
-- while drawing is said once and training goes on; LivePlot draws the
-- same pictures.
local H = dofile("helper.lua")
local check, checkerr = H.check, H.checkerr

local base = os.tmpname()
local made = {}
local function tmp(suffix)
  local p = base .. suffix
  made[#made + 1] = p
  return p
end
local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
local gnuplot = false
pcall(function()
  local p = io.popen("command -v gnuplot")
  gnuplot = p:read("l") ~= nil
  p:close()
end)

local read_gif = dofile("lib/gif.lua")

-- Spiral data and a small classifier.
nn.seed(3)
local x, y = nn.data.spiral(90, 3)
local function model()
  local m = nn.Sequential{nn.Dense(8, "relu", {input_dim = 2}), nn.Dense(3, "softmax")}
  m:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.02},
            loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}
  return m
end

-- Says what Animate writes on stderr while f runs: the text.
local function stderr_of(f)
  local said = {}
  local real = io.stderr
  io.stderr = {write = function(_, ...)
    for _, v in ipairs({...}) do said[#said + 1] = tostring(v) end
  end}
  local ok, err = pcall(f)
  io.stderr = real
  if not ok then error(err, 0) end
  return table.concat(said)
end

H.test("frame-mode scripts have no terminal and are returned", function()
  local m = model()
  local s = nn.plot.decision_boundary(m, x, y, {_frame = true, resolution = 20})
  check(type(s) == "string", "a frame is returned")
  check(s:match("^# nnlua frame size %d+,%d+\n"), "starts with its size")
  check(not s:find("set terminal", 1, true), "no terminal")
  check(not s:find("set output", 1, true) and not s:find("unset output", 1, true), "no output")
  check(s:find("with image", 1, true), "drawn as graphics, not text")
  local h = {history = {loss = {3, 2, 1}}}
  local full = nn.plot.history(h, {_script = true, file = tmp(".png")})
  check(full:find("set terminal pngcairo", 1, true), "_script: the whole script")
  check(slurp(base .. ".png") == nil, "and nothing drawn")
  -- a plot drawn as usual still returns nothing
  check(select("#", nn.plot.history(h, {file = tmp(".txt"), render = false})) == 0,
        "no return value")
  checkerr("unknown option 'frame' (valid: file,", nn.plot.history, h, {frame = true})
  local e = checkerr("unknown option", nn.plot.history, h, {nope = true})
  check(not e:find("_frame", 1, true), "hidden options are not listed: " .. e)
end)

H.test("any plot draws a still .gif", function()
  if not gnuplot then return end
  local file = tmp("_still.gif")
  nn.plot.history({history = {loss = {3, 2, 1}, accuracy = {0.2, 0.5, 0.9}}}, {file = file})
  local g = read_gif(assert(slurp(file)))
  check(g.frames == 1 and g.trailer and g.width == 1120, "one frame, 1120 wide: " .. g.width)
end)

-- Each kind: 10 epochs with every = 3 give frames at 3, 6, 9 and 10.
for _, kind in ipairs({"history", "decision_boundary", "weights"}) do
  H.test("a GIF of " .. kind .. " has a frame per recorded epoch", function()
    if not gnuplot then print("test_animate: no gnuplot, " .. kind .. " skipped"); return end
    local m = model()
    local file = tmp("_" .. kind .. ".gif")
    local xy = kind == "decision_boundary"
    local a = nn.callbacks.Animate{file = file, plot = kind, every = 3, delay = 7,
                                   x = xy and x or nil, y = xy and y or nil}
    local during
    local spy = {on_epoch_end = function()
      local p = a.frames_file()
      during = during or (p and slurp(p) ~= nil and p)
    end}
    local said = stderr_of(function()
      m:fit(x, y, {epochs = 10, batch_size = 30, verbose = 0, callbacks = {a, spy}})
    end)
    check(said == "", "no warning: " .. said)
    check(a.frames == 4, "4 frames recorded, got " .. tostring(a.frames))
    local s = assert(slurp(file), "the GIF is written")
    check(s:sub(1, 6) == "GIF89a", "GIF89a header")
    check(s:byte(#s) == 0x3B, "GIF trailer")
    local g = read_gif(s)
    check(g.frames == 4, "4 image descriptors, got " .. g.frames)
    check(g.trailer, "the trailer ends the file")
    check(g.loops, "the animation loops")
    check(#g.delays == 4 and g.delays[1] == 7, "delay 7 on each frame: " .. H.show(g.delays))
    check(g.width >= 400 and g.height >= 300, "a readable size: " .. g.width .. "x" .. g.height)
    check(during, "the frames' file exists during fit")
    check(slurp(during) == nil, "and is gone afterwards")
    check(a.frames_file() == nil, "no frames' file left")
  end)
end

H.test("every = 1 records each epoch; the last epoch is always a frame", function()
  if not gnuplot then return end
  local m = model()
  local f1, f2 = tmp("_every1.gif"), tmp("_every5.gif")
  local a = nn.callbacks.Animate{file = f1, plot = "history"}
  m:fit(x, y, {epochs = 3, verbose = 0, callbacks = {a}})
  check(read_gif(slurp(f1)).frames == 3, "3 frames")
  -- every larger than the fit: only the last epoch
  local b = nn.callbacks.Animate{file = f2, plot = "weights", every = 5.0, layer = 2}
  m:fit(x, y, {epochs = 2, verbose = 0, callbacks = {b}})
  check(b.frames == 1 and read_gif(slurp(f2)).frames == 1, "1 frame")
  -- a second fit with the same callback makes a new animation
  m:fit(x, y, {epochs = 5, verbose = 0, callbacks = {b}})
  check(b.frames == 1 and read_gif(slurp(f2)).frames == 1, "epoch 5 only")
end)

-- "neurons" draws with nn.plot.neurons once it exists (a stand-in here
-- when it does not: the decision regions under that name).
H.test("plot = neurons uses nn.plot.neurons", function()
  if not gnuplot then return end
  local real = nn.plot.neurons
  local calls = 0
  nn.plot.neurons = real or function(model, px, py, o)
    calls = calls + 1
    return nn.plot.decision_boundary(model, px, py, o)
  end
  local ok, err = pcall(function()
    local file = tmp("_neurons.gif")
    local a = nn.callbacks.Animate{file = file, plot = "neurons", x = x, y = y, every = 2}
    model():fit(x, y, {epochs = 4, verbose = 0, callbacks = {a}})
    check(read_gif(assert(slurp(file))).frames == 2, "2 frames")
    check(real or calls == 2, "nn.plot.neurons drew them")
  end)
  nn.plot.neurons = real
  if not ok then error(err, 0) end
end)

H.test("option errors", function()
  local A = nn.callbacks.Animate
  checkerr("nn.callbacks.Animate: option 'file' is needed", A, {plot = "history"})
  checkerr("file must be a .gif file, got 'a.png'", A, {file = "a.png"})
  checkerr("plot must be one of decision_boundary, history, neurons, weights, got 'loss'",
           A, {file = "a.gif", plot = "loss"})
  checkerr("plot 'decision_boundary' needs the points to draw", A,
           {file = "a.gif", plot = "decision_boundary", x = x})
  checkerr("option 'x' is not for plot 'history'", A, {file = "a.gif", x = x, y = y})
  checkerr("option 'layer' is not for plot 'decision_boundary'", A,
           {file = "a.gif", plot = "decision_boundary", x = x, y = y, layer = 1})
  checkerr("every must be a whole number of epochs >= 1, got 0", A, {file = "a.gif", every = 0})
  checkerr("every must be a whole number of epochs >= 1, got 1.5", A,
           {file = "a.gif", every = 1.5})
  checkerr("delay must be a whole number of hundredths of a second in 1..100000, got 0", A,
           {file = "a.gif", delay = 0})
  checkerr("layer must be a whole number >= 1", A, {file = "a.gif", plot = "weights", layer = 0})
  checkerr("unknown option 'epochs'", A, {file = "a.gif", epochs = 3})
  checkerr("option 'logy' is not for plot 'weights'", A, {file = "a.gif", plot = "weights",
                                                         logy = true})
  checkerr("option 'script' is not for animations", A, {file = "a.gif", script = "a.gp"})
  checkerr("option 'every' must be a number, got string", A, {file = "a.gif", every = "2"})
  checkerr("option 'width' (pixels)", A, {file = "a.gif", width = 5})
  if not nn.plot.neurons then
    checkerr("plot 'neurons' is not available", A,
             {file = "a.gif", plot = "neurons", x = x, y = y})
  end
  -- the error is at the caller's line
  local e = checkerr("file must be", function() local a = A{file = "a.jpg"}; return a end)
  check(e:find("test_animate.lua:", 1, true), "at the caller: " .. e)
  e = checkerr("needs the points", function()
    local a = A{file = "a.gif", plot = "decision_boundary"}
    return a
  end)
  check(e:find("test_animate.lua:", 1, true), "at the caller: " .. e)
end)

H.test("an error while drawing is said once and training goes on", function()
  -- three inputs: no decision regions over a plane
  local m = nn.Sequential{nn.Dense(3, "softmax", {input_dim = 3})}
  m:compile{optimizer = "sgd", loss = "sparse_categorical_crossentropy"}
  local x3 = nn.rand(12, 3)
  local y3 = nn.tensor({1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3})
  local file = tmp("_bad.gif")
  local a = nn.callbacks.Animate{file = file, plot = "decision_boundary", x = x3, y = y3}
  local h
  local said = stderr_of(function()
    h = m:fit(x3, y3, {epochs = 4, verbose = 0, callbacks = {a}})
  end)
  check(#h.history.loss == 4, "training went on")
  local _, n = said:gsub("Animate:", "")
  check(n == 1, "said once: " .. said)
  check(said:find("nn.plot.decision_boundary: expected points as an n x 2 tensor", 1, true)
        and said:find("training goes on without it", 1, true), said)
  check(slurp(file) == nil, "no GIF")
  check(a.frames_file() == nil, "no frames' file left")
  -- a GIF that cannot be written: said at the end
  if gnuplot then
    local b = nn.callbacks.Animate{file = base .. "_no_such_dir/a.gif"}
    said = stderr_of(function()
      model():fit(x, y, {epochs = 2, verbose = 0, callbacks = {b}})
    end)
    check(said:find("Animate: ", 1, true) and said:find("a.gif", 1, true), said)
    check(b.frames_file() == nil, "no frames' file left")
  end
end)

H.test("LivePlot draws the same pictures", function()
  checkerr("nn.callbacks.LivePlot: plot 'decision_boundary' needs the points",
           nn.callbacks.LivePlot, {plot = "decision_boundary"})
  checkerr("nn.callbacks.LivePlot: option 'x' is not for plot 'history'",
           nn.callbacks.LivePlot, {x = x, y = y})
  checkerr("nn.callbacks.LivePlot: plot must be one of", nn.callbacks.LivePlot, {plot = "map"})
  checkerr("nn.callbacks.LivePlot: option 'logy' is not for plot 'decision_boundary'",
           nn.callbacks.LivePlot, {plot = "decision_boundary", x = x, y = y, logy = true})
  if not gnuplot then return end
  for _, kind in ipairs({"decision_boundary", "weights"}) do
    local file = tmp("_live_" .. kind .. ".png")
    local xy = kind == "decision_boundary"
    local lp = nn.callbacks.LivePlot{plot = kind, file = file, interval = 0,
                                     x = xy and x or nil, y = xy and y or nil}
    local said = stderr_of(function()
      model():fit(x, y, {epochs = 3, verbose = 0, callbacks = {lp}})
      assert(lp.wait())
    end)
    check(said == "", "no warning: " .. said)
    local s = assert(slurp(file), "the picture is drawn")
    check(s:sub(2, 4) == "PNG" and #s > 2000, "a PNG that is not blank")
  end
  -- as text: the picture's title says the epoch
  local file = tmp("_live.txt")
  local lp = nn.callbacks.LivePlot{plot = "decision_boundary", file = file, x = x, y = y,
                                   interval = 100}
  model():fit(x, y, {epochs = 2, verbose = 0, callbacks = {lp}})
  assert(lp.wait())
  local s = assert(slurp(file))
  check(s:find("decision regions, epoch 2 (loss", 1, true), s)
end)

-- In a window (a display and a gnuplot with qt): the stand-in reports qt
-- and turns the qt terminal into text on stdout, where the last frame's
-- title is read back.
H.test("LivePlot pictures in a window", function()
  local bin = os.getenv("NNLUA_BIN")
  if not gnuplot or not bin then return end
  local wrapper, script = tmp(".sh"), tmp("_window.lua")
  local f = assert(io.open(wrapper, "w"))
  f:write("#!/bin/sh\necho 'terminals: dumb qt ' >&2\n",
          "sed -u 's/^set terminal qt .*/set terminal dumb size 70,20/' | exec gnuplot\n")
  f:close()
  os.execute("chmod +x '" .. wrapper .. "'")
  f = assert(io.open(script, "w"))
  f:write([[
nn.seed(1)
local x, y = nn.data.spiral(60, 3)
local m = nn.Sequential{nn.Dense(3, "softmax", {input_dim = 2})}
m:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}
m:fit(x, y, {epochs = 3, verbose = 0, callbacks = {
  nn.callbacks.LivePlot{plot = "decision_boundary", x = x, y = y, resolution = 20}}})
print("fit done")
]])
  f:close()
  local p = io.popen("DISPLAY=:0 NNLUA_GNUPLOT='" .. wrapper .. "' '" .. bin .. "' '" ..
                     script .. "' 2>&1")
  local out = p:read("a")
  p:close()
  check(out:find("fit done", 1, true), out)
  check(out:find("decision regions, epoch 3", 1, true), "the last frame was drawn: " .. out)
  check(not out:find("LivePlot:", 1, true), "no warning: " .. out)
end)

H.test("the help has Animate with an example", function()
  local ok, text = pcall(function()
    local out = {}
    local real = print
    print = function(...) out[#out + 1] = table.concat({...}, "\t") end -- luacheck: ignore
    local ok2, e = pcall(nn.help, "nn.callbacks.Animate")
    print = real -- luacheck: ignore
    if not ok2 then error(e) end
    return table.concat(out, "\n") .. tostring(e or "")
  end)
  check(ok, text)
  check(text:find("nn.callbacks.Animate", 1, true) and text:find(".gif", 1, true), text)
end)

for _, p in ipairs(made) do os.remove(p) end
os.remove(base)
H.done()
