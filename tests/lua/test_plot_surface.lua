-- nn.plot.loss_surface: the script (grid, contours, paths, key), the paths
-- really being the optimizers' (SGD and momentum checked against their
-- update rules by hand, every optimizer going downhill on a bowl, adam not
-- sgd), the option errors, a PNG and a text version when gnuplot is
-- installed, and the model form putting the weights back bit for bit,
-- also when it fails part of the way through.
local H = require "helper"
local T = H.test
local check, checkerr = H.check, H.checkerr

local function bowl(w1, w2) return w1 ^ 2 + 10 * w2 ^ 2 end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  os.remove(path)
  return s
end

local function script_of(f, opts)
  local gp = os.tmpname()
  opts.script, opts.render = gp, false
  opts.file = opts.file or (gp .. ".png") -- a picture's script (not drawn: render = false)
  local r = nn.plot.loss_surface(f, opts)
  return read(gp), r
end

local have_gnuplot = (function()
  local p = io.popen("command -v gnuplot")
  local ok = p:read("l") ~= nil
  p:close()
  return ok
end)()

T("the script: the grid, contours, a colour bar, every path named in the key", function()
  local s, r = script_of(bowl, {start = {1.5, 1.5}, optimizers = {"sgd", "adam"}, lr = 0.05,
                                resolution = 20})
  check(s:find("$grid << EOD", 1, true) and s:find("$path1 << EOD", 1, true) and
        s:find("$path2 << EOD", 1, true), "grid and paths as data blocks")
  local rows = 0
  for _ in s:match("%$grid << EOD\n(.-)EOD"):gmatch("[^\n]+") do rows = rows + 1 end
  check(rows == 20 * 20, "20 x 20 grid values, got " .. rows)
  check(s:find("set contour base", 1, true) and s:find("set table $contours", 1, true) and
        s:find("with image", 1, true), "colours and contour lines")
  check(s:find("set xlabel 'w1'", 1, true) and s:find("set ylabel 'w2'", 1, true), "axis labels")
  check(s:find("set cblabel 'loss'", 1, true), "a labelled colour bar")
  check(s:find("title 'sgd, lr 0.05'", 1, true) and s:find("title 'adam, lr 0.05'", 1, true),
        "each path in the key with its learning rate")
  check(s:find("title 'start'", 1, true) and s:find("title 'lowest on the grid'", 1, true),
        "the start and the lowest point are marked")
  check(s:find("set key below", 1, true), "the key under the plot, not over the paths")
  check(not s:find("logscale cb", 1, true), "a bowl is drawn on a linear scale")
  check(#r == 2 and r[1].name == "sgd" and r.adam == r[2] and #r[1].points == 51 and
        #r[1].loss == 51, "the paths are returned, 51 points for 50 steps")
  -- a valley whose values crowd the bottom gets a log scale; log = false refuses it
  local rosen = function(a, b) return (1 - a) ^ 2 + 100 * (b - a ^ 2) ^ 2 end
  s = script_of(rosen, {range = {-2, 2, -1, 3}, optimizers = {}, resolution = 30})
  check(s:find("set logscale cb", 1, true) and s:find("(log scale)", 1, true), "log colours")
  check(not s:find("$path1", 1, true) and not s:find("title 'start'", 1, true), "no paths")
  s = script_of(rosen, {range = {-2, 2, -1, 3}, optimizers = {}, resolution = 30, log = false})
  check(not s:find("logscale cb", 1, true), "log = false")
  s = script_of(bowl, {title = "my bowl", xlabel = "a", resolution = 5, steps = 3})
  check(s:find("set title 'my bowl'", 1, true) and s:find("set xlabel 'a'", 1, true),
        "the common options override the labels")
end)

T("the SGD path is w - lr * grad, step by step", function()
  for _, lr in ipairs({0.05, 0.02}) do
    local r = nn.plot.loss_surface(bowl, {start = {1.5, 1.2}, optimizers = {"sgd"}, lr = lr,
                                          steps = 8, render = false, resolution = 5})
    local p = r.sgd.points
    check(#p == 9, "9 points")
    check(p[1][1] == 1.5 and H.f32(1.2) == p[1][2], "starts at start")
    for k = 1, 8 do
      local w1, w2 = p[k][1], p[k][2]
      H.near(p[k + 1][1], w1 - lr * 2 * w1, 1e-6, "w1 at step " .. k)
      H.near(p[k + 1][2], w2 - lr * 20 * w2, 1e-6, "w2 at step " .. k)
      H.near(r.sgd.loss[k], w1 ^ 2 + 10 * w2 ^ 2, 1e-5, "loss at step " .. k)
    end
  end
end)

T("momentum follows v = 0.9 v - lr g, w = w + v", function()
  local r = nn.plot.loss_surface(bowl, {start = {1.5, 1.0}, optimizers = {"momentum"},
                                        lr = 0.01, steps = 6, render = false, resolution = 5})
  local p = r.momentum.points
  local v1, v2 = 0, 0
  for k = 1, 6 do
    local w1, w2 = p[k][1], p[k][2]
    v1, v2 = 0.9 * v1 - 0.01 * 2 * w1, 0.9 * v2 - 0.01 * 20 * w2
    H.near(p[k + 1][1], w1 + v1, 1e-5, "w1 at step " .. k)
    H.near(p[k + 1][2], w2 + v2, 1e-5, "w2 at step " .. k)
  end
end)

T("nesterov follows v = 0.9 v - lr g, w = w + 0.9 v - lr g (Keras's form)", function()
  local r = nn.plot.loss_surface(bowl, {start = {1.5, 1.0}, optimizers = {"nesterov"},
                                        lr = 0.01, steps = 6, render = false, resolution = 5})
  local p = r.nesterov.points
  local v1, v2 = 0, 0
  for k = 1, 6 do
    local w1, w2 = p[k][1], p[k][2]
    local g1, g2 = 2 * w1, 20 * w2
    v1, v2 = 0.9 * v1 - 0.01 * g1, 0.9 * v2 - 0.01 * g2
    H.near(p[k + 1][1], w1 + 0.9 * v1 - 0.01 * g1, 1e-5, "w1 at step " .. k)
    H.near(p[k + 1][2], w2 + 0.9 * v2 - 0.01 * g2, 1e-5, "w2 at step " .. k)
  end
end)

T("every optimizer goes downhill on a bowl; adam is not sgd", function()
  local names = {"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"}
  local r = nn.plot.loss_surface(bowl, {start = {1.5, 1.5}, optimizers = names,
                                        render = false, resolution = 5})
  for i, name in ipairs(names) do
    local l = r[i].loss
    check(r[i].name == name and #l == 51, name .. ": 51 losses")
    check(l[#l] < 0.5 * l[1], string.format("%s ends lower: %g -> %g", name, l[1], l[#l]))
  end
  local same = true
  for k = 2, 51 do
    same = same and r.sgd.points[k][1] == r.adam.points[k][1]
  end
  check(not same, "adam's path differs from sgd's")
  -- an optimizer object is copied (its state and iterations untouched),
  -- {name =, lr =} and a per-name lr give the same path as the name
  local o = nn.optimizers.SGD{lr = 0.02}
  local a = nn.plot.loss_surface(bowl, {optimizers = {o, {name = "sgd", lr = 0.02}, "sgd"},
                                        lr = {sgd = 0.02}, steps = 5, render = false,
                                        resolution = 5})
  check(o:iterations() == 0, "the caller's optimizer is not stepped")
  check(H.eq_table(a[1].points, a[2].points) and H.eq_table(a[1].points, a[3].points),
        "object, table and name give one path")
  check(a[1].lr == 0.02 and a[3].lr == 0.02, "learning rates")
  -- a path that blows up stops at its last finite point
  local big = nn.plot.loss_surface(bowl, {optimizers = {"sgd"}, lr = 10, steps = 500,
                                          render = false, resolution = 5})
  check(#big.sgd.points < 500, "a diverging path ends early")
end)

T("a function of tensor methods, and errors", function()
  local r = nn.plot.loss_surface(function(a, b) return (a * 0.5):exp() + b:pow(2) end,
                                 {optimizers = {"sgd"}, steps = 3, render = false,
                                  resolution = 4})
  check(#r.sgd.points == 4, "w1:exp() works on the grid and on the path")
  checkerr("unknown optimizer 'fast' (valid: adagrad, adam, adamw, momentum, nesterov, " ..
           "rmsprop, sgd)", nn.plot.loss_surface, bowl, {optimizers = {"fast"}})
  checkerr("range must be {w1_min, w1_max, w2_min, w2_max} with min < max",
           nn.plot.loss_surface, bowl, {range = {1, -1, 0, 1}})
  checkerr("range must be", nn.plot.loss_surface, bowl, {range = {0, 1}})
  checkerr("f(w1, w2) must return a number or a one-element nn.Tensor, got string",
           nn.plot.loss_surface, function() return "low" end)
  checkerr("got a tensor of 2 values", nn.plot.loss_surface,
           function() return nn.ones(2) end)
  local e = checkerr("f(w1, w2) failed at (w1, w2) = (-2, -2): ", nn.plot.loss_surface,
                     function() error("boom") end)
  check(e:find("boom", 1, true), "f's own message")
  checkerr("f(w1, w2) gave no gradient", nn.plot.loss_surface,
           function(a, b) return (type(a) == "number" and a or a[1]) ^ 2 end)
  checkerr("resolution must be a whole number in 2..500", nn.plot.loss_surface, bowl,
           {resolution = 1})
  checkerr("start must be {w1, w2}", nn.plot.loss_surface, bowl, {start = {1}})
  checkerr("option 'x' is for a model's surface", nn.plot.loss_surface, bowl, {x = nn.ones(2)})
  checkerr("unknown option 'speed'", nn.plot.loss_surface, bowl, {speed = 1})
  checkerr("expected a function f(w1, w2) or a compiled model, got number",
           nn.plot.loss_surface, 3)
  checkerr("nn.optimizers.SGD: unknown option 'beta'", nn.plot.loss_surface, bowl,
           {optimizers = {{name = "sgd", beta = 1}}})
  local ok, err = pcall(nn.plot.loss_surface, bowl, {optimizers = {"fast"}})
  check(not ok and not err:find("31_plot_surface", 1, true), "no internal position: " .. err)
end)

if have_gnuplot then
  T("a PNG and a text version", function()
    local png = os.tmpname() .. ".png"
    nn.plot.loss_surface(bowl, {file = png, start = {1.5, 1.5}})
    local data = read(png)
    check(data:sub(1, 8) == "\137PNG\r\n\26\n" and #data > 2000, "a PNG with content")
    local txt = os.tmpname() .. ".txt"
    nn.plot.loss_surface(bowl, {file = txt, start = {1.5, 1.5}, optimizers = {"sgd", "adam"}})
    local text = read(txt)
    check(text:find("sgd, lr 0.05", 1, true) and text:find("adam, lr 0.05", 1, true) and
          text:find("w1", 1, true) and text:find("start", 1, true), text)
  end)
else
  print("gnuplot missing: the drawing part is skipped")
end

local function model_and_data()
  nn.seed(3)
  local m = nn.Sequential{nn.Dense(6, {activation = "tanh", input_dim = 2}), nn.Dense(1)}
  m:compile{loss = "mse", optimizer = "adam"}
  local x = nn.randn(32, 2)
  local y = (x:narrow(2, 1, 1) * x:narrow(2, 2, 1)):tanh()
  m:fit(x, y, {epochs = 5, verbose = 0})
  return m, x, y
end

local function same_bits(a, b)
  check(#a == #b, "as many weights")
  for i = 1, #a do
    local p, q = a[i]:reshape(a[i]:numel()):totable(), b[i]:reshape(b[i]:numel()):totable()
    for k = 1, #p do
      if string.pack("f", p[k]) ~= string.pack("f", q[k]) then return false end
    end
  end
  return true
end

T("a model's surface: the loss around its weights, which come back exactly", function()
  local m, x, y = model_and_data()
  local before = m:get_weights()
  local loss0 = m:evaluate(x, y)
  local gp = os.tmpname()
  local r = nn.plot.loss_surface(m, {x = x, y = y, resolution = 9, script = gp, render = false,
                                     file = gp .. ".png"})
  local s = read(gp)
  check(same_bits(before, m:get_weights()), "weights restored bit for bit")
  check(#r.loss == 9 and #r.loss[1] == 9, "a 9 x 9 grid")
  H.near(r.center, loss0, 1e-6, "the centre is the model's loss")
  local lo = math.huge
  for j = 1, 9 do for i = 1, 9 do lo = math.min(lo, r.loss[j][i]) end end
  check(r.loss[1][1] ~= r.loss[9][9] and lo <= loss0, "the loss changes over the plane")
  check(s:find("title 'the model'.\"'\".'s weights'", 1, true) and
        s:find("direction 1", 1, true), "the model's weights marked; axes named")
  check(s:find("set logscale cb", 1, true) and s:find("set cbtics (", 1, true),
        "a model's loss on a log scale, ticked at 1, 2, 5")
  -- fails part of the way through (a loss that errors at its 5th call):
  -- the weights still come back
  local calls = 0
  local m2 = nn.Sequential{nn.Dense(6, {activation = "tanh", input_dim = 2}), nn.Dense(1)}
  m2:compile{loss = function(yt, yp)
    calls = calls + 1
    if calls == 5 then error("loss broke") end
    return ((yp - yt) ^ 2):mean(1) -- a one-element tensor also in evaluate
  end, optimizer = "sgd"}
  m2:fit(x, y, {epochs = 1, verbose = 0})
  calls = 0
  local b2 = m2:get_weights()
  checkerr("loss broke", nn.plot.loss_surface, m2, {x = x, y = y, resolution = 4,
                                                    render = false})
  check(calls == 5, "it failed midway (call " .. calls .. ")")
  check(same_bits(b2, m2:get_weights()), "weights restored after the error")
  checkerr("a model's surface needs the data: opts.x and opts.y", nn.plot.loss_surface, m,
           {x = x})
  checkerr("option 'optimizers' is for a function f(w1, w2)", nn.plot.loss_surface, m,
           {x = x, y = y, optimizers = {"sgd"}})
  checkerr("has 32 samples but y has 3", nn.plot.loss_surface, m, {x = x, y = nn.ones(3, 1)})
  check(same_bits(before, m:get_weights()), "still the same weights")
end)

T("a model's surface with the path of a fit (PCA plane), the fit's weights kept", function()
  local function make()
    nn.seed(4)
    local m = nn.Sequential{nn.Dense(6, {activation = "tanh", input_dim = 2}), nn.Dense(1)}
    m:compile{loss = "mse", optimizer = "adam"}
    return m
  end
  nn.seed(1)
  local x = nn.randn(64, 2)
  local y = (x:narrow(2, 1, 1) * x:narrow(2, 2, 1)):tanh()
  local a = make()
  nn.seed(9)
  a:fit(x, y, {epochs = 5, batch_size = 16, verbose = 0})
  local b = make()
  nn.seed(9)
  local gp = os.tmpname()
  local r = nn.plot.loss_surface(b, {x = x, y = y, fit = {epochs = 5, batch_size = 16},
                                     resolution = 7, script = gp, render = false,
                                     file = gp .. ".png"})
  local s = read(gp)
  check(same_bits(a:get_weights(), b:get_weights()), "the model keeps the fit's weights exactly")
  check(#r.points == 21, "20 steps and the start: " .. #r.points)
  check(r.points[#r.points][1] == 0 and r.points[#r.points][2] == 0, "the path ends at the centre")
  local d = math.sqrt(r.points[1][1] ^ 2 + r.points[1][2] ^ 2)
  check(d > 0, "the path starts away from the end")
  check(r.variance[1] > 50 and r.variance[1] + r.variance[2] <= 100.001,
        "direction 1 holds most of the path's spread: " .. r.variance[1])
  check(s:find("title 'fit (Adam)'", 1, true) and s:find("title 'start of the fit'", 1, true) and
        s:find("set xlabel 'direction 1 (", 1, true) and s:find("s spread)'", 1, true),
        "the path, its start and the axes' shares")
  checkerr("fewer than 2 steps", nn.plot.loss_surface, b, {x = x, y = y, fit = {epochs = 0},
                                                          render = false})
  checkerr("nn.plot.loss_surface: fit: ", nn.plot.loss_surface, b,
           {x = x, y = nn.ones(3, 1), fit = {epochs = 1}, render = false})
  checkerr("option 'fit' must be a table", nn.plot.loss_surface, b, {x = x, y = y, fit = 3})
  checkerr("option 'fit' is for a model's surface", nn.plot.loss_surface, bowl, {fit = {}})
end)

H.done()
