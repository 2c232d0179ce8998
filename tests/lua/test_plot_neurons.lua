-- nn.plot.neurons: the script's maps (one per input and shown unit, and the
-- output's regions), "... N more" with max_units, a unit's map values
-- against a hand computation of a 2-2-1 network with set weights (the
-- activation layer after a Dense counted in its column), edges by weight
-- sign, the errors, and with gnuplot a real PNG and text.
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
local gnuplot = false
pcall(function()
  local p = io.popen("command -v gnuplot")
  gnuplot = p:read("l") ~= nil
  p:close()
end)

-- Script only (render = false).
local function script_of(model, x, y, opts)
  opts = opts or {}
  local gp = tmp(".gp")
  opts.script, opts.render = gp, false
  opts.file = opts.file or tmp(".png")
  nn.plot.neurons(model, x, y, opts)
  return slurp(gp)
end

local function count(s, pattern)
  local _, n = s:gsub(pattern, "")
  return n
end

-- The rows of data block $name as lists of numbers (comments skipped).
local function block(s, name)
  local body = s:match("\n%$" .. name .. " << EOD\n(.-)EOD\n")
  assert(body, "no $" .. name .. " block")
  local rows = {}
  for line in body:gmatch("[^\n]+") do
    if not line:find("^#") then
      local r = {}
      for v in line:gmatch("%S+") do r[#r + 1] = tonumber(v) end
      rows[#rows + 1] = r
    end
  end
  return rows
end

local function mlp(hidden, out_units, out_act)
  local layers = {}
  for i, u in ipairs(hidden) do
    layers[i] = nn.Dense(u, {input_dim = i == 1 and 2 or nil, activation = "relu"})
  end
  layers[#layers + 1] = nn.Dense(out_units, {input_dim = #hidden == 0 and 2 or nil,
                                             activation = out_act})
  return nn.Sequential(layers)
end

nn.seed(5)
local x, y = nn.data.moons(40, 0.1)

H.test("a map per input and shown unit, and the output's", function()
  local s = script_of(mlp({8, 8}, 1, "sigmoid"), x, y)
  check(count(s, "\n%$map%d+ << EOD") == 2 + 8 + 8, "18 small maps")
  check(count(s, "\n%$regions << EOD") == 1, "one output map")
  check(count(s, "with rgbimage") == 18, "every small map drawn")
  has(s, "set label 'what each neuron computes: network 2-8-8-1'")
  has(s, "set label '2 inputs'")
  has(s, "set label '8 units'.\"\\012\".'relu'")
  has(s, "set label 'output: 1 unit'.\"\\012\".'sigmoid'")
  has(s, "set label 'x1'")
  has(s, "set label 'x2'")
  check(not s:find("more'", 1, true), "no elided column")
  -- class 1 blue (line type 1), class 2 orange, as decision_boundary has them
  has(s, "NaN with points lt 1 pt 7 ps 1.2 title 'class 1'")
  has(s, "NaN with points lt 2 pt 7 ps 1.2 title 'class 2'")
  -- the common options: the title, and xlabel/ylabel naming the inputs
  s = script_of(mlp({3}, 1, "sigmoid"), x, y, {title = "moons", xlabel = "a", ylabel = "b"})
  has(s, "set label 'moons'")
  has(s, "set label 'a'")
  has(s, "set xlabel 'a'")
  has(s, "set y2label 'b'")
  check(not s:find("what each neuron", 1, true), "the title replaces the default")
  -- no labels: the points in black under one key entry
  s = script_of(mlp({3}, 1, "sigmoid"), x, nil)
  has(s, "NaN with points lt 8 pt 7 ps 1.2 title 'points'")
  check(not s:find("title 'class", 1, true), "no classes in the key without labels")
  -- no hidden layer: the inputs and the output
  s = script_of(mlp({}, 1, "sigmoid"), x, y)
  check(count(s, "\n%$map%d+ << EOD") == 2 and count(s, "\n%$regions << EOD") == 1,
        "2 + 1 maps without hidden layers")
end)

H.test("max_units elides with '... N more'", function()
  local s = script_of(mlp({8, 5}, 1, "sigmoid"), x, y, {max_units = 3})
  check(count(s, "\n%$map%d+ << EOD") == 2 + 3 + 3, "3 maps of each hidden layer")
  has(s, "set label '... 5 more'")
  has(s, "set label '... 2 more'")
  -- edges only between the maps drawn: 2x3 + 3x3 + 3x1
  local edges = 0
  for c = 1, 4 do edges = edges + #block(s, "edges" .. c) end
  check(edges == 6 + 9 + 3, "edges between shown maps: " .. edges)
  s = script_of(mlp({8, 5}, 1, "sigmoid"), x, y, {max_units = 5})
  check(count(s, "\n%$map%d+ << EOD") == 2 + 5 + 5, "max_units 5")
  has(s, "set label '... 3 more'")
  check(not s:find("'... 0 more'", 1, true), "a whole column is not elided")
end)

H.test("a unit's map is its output, computed by hand", function()
  -- Dense(2) then Activation("relu"): the column shows relu's output
  local m = nn.Sequential({nn.Dense(2, {input_dim = 2}), nn.Activation("relu"),
                           nn.Dense(1, {activation = "sigmoid"})})
  local k1, b1 = {{1, -2}, {0.5, 3}}, {0.25, -1}
  m:set_weights({nn.tensor(k1), nn.tensor(b1), nn.tensor({{1.5}, {-1}}), nn.tensor({0.1})})
  -- corners (-1,-1) and (1,1), no padding, a 3x3 grid: x1, x2 in {-1, 0, 1}
  local pts = nn.tensor({{-1, -1}, {1, 1}})
  local s = script_of(m, pts, {0, 1}, {resolution = 3, padding = 0})
  check(count(s, "\n%$map%d+ << EOD") == 4, "2 inputs + 2 units")
  has(s, "set label '2 units'.\"\\012\".'relu'")
  for u = 1, 2 do
    local rows = block(s, "map" .. (2 + u))
    check(#rows == 9, "3x3 values")
    local seen = {}
    for _, r in ipairs(rows) do
      local v, a, b = r[6], r[7], r[8]
      local want = math.max(0, a * k1[1][u] + b * k1[2][u] + b1[u])
      H.near(v, want, 1e-6, string.format("unit %d at (%g, %g)", u, a, b))
      seen[a .. "," .. b] = true
    end
    for _, a in ipairs({-1, 0, 1}) do
      for _, b in ipairs({-1, 0, 1}) do check(seen[a .. "," .. b], "grid point " .. a .. "," .. b) end
    end
  end
  -- the input maps are x1 and x2 themselves; rows go along x1 first
  local r1, r2 = block(s, "map1"), block(s, "map2")
  for i, r in ipairs(r1) do
    check(r[6] == r[7] and r2[i][6] == r2[i][8], "input maps hold x1 and x2")
  end
  check(r1[1][7] == -1 and r1[1][8] == -1 and r1[2][7] == 0 and r1[4][8] == 0,
        "row 0 at the bottom, x1 fastest")
  -- colours: the column's largest |value| is full blue, 0 white
  local u1 = block(s, "map3")
  local top, zero
  for _, r in ipairs(u1) do
    if r[6] == 0 then zero = r end
    if not top or r[6] > top[6] then top = r end
  end
  check(zero and zero[3] == 255 and zero[4] == 255 and zero[5] == 255, "0 is white")
  -- unit 2's largest value (relu(-2 * -1 + 3 * 1 - 1) = 4) is the column's largest
  local u2 = block(s, "map4")
  local best
  for _, r in ipairs(u2) do if not best or r[6] > best[6] then best = r end end
  H.near(best[6], 4, 1e-6, "unit 2's largest output")
  has(s, "set label '\u{B1}4'") -- the column's full colour, under it
  has(s, "set label '\u{B1}1'") -- the inputs': |x| <= 1
  check(best[3] == 0x00 and best[4] == 0x72 and best[5] == 0xB2, "the largest is full blue")
  check(top[3] > 0, "a smaller positive value is lighter")
  -- edges: 2x2 into the hidden layer and 2 into the output; the negative
  -- weights (-2 and -1) orange, the others blue
  local neg, pos = 0, 0
  for c = 1, 4 do
    for _, r in ipairs(block(s, "edges" .. c)) do
      local rgb = math.tointeger(r[5]) & 0xFFFFFF
      if rgb == 0xE69F00 then neg = neg + 1 elseif rgb == 0x0072B2 then pos = pos + 1 end
    end
  end
  check(neg == 2 and pos == 4, string.format("edge signs: %d negative, %d positive", neg, pos))
  -- the output map: the model's classes over a finer grid
  local reg = block(s, "regions")
  check(#reg == 15 * 15, "the output grid is 5x the small maps'")
  local p = m:predict(nn.tensor({{-1, -1}})):get(1, 1)
  check(reg[1][1] == -1 and reg[1][2] == -1 and reg[1][3] == (p > 0.5 and 2 or 1),
        "the output's class at a corner")
end)

H.test("several outputs, class names, dropout in a column", function()
  local m = nn.Sequential({nn.Dense(4, {input_dim = 2, activation = "tanh"}), nn.Dropout(0.2),
                           nn.Dense(3, {activation = "softmax"})})
  local px = nn.tensor({{0, 0}, {1, 0}, {0, 1}})
  local s = script_of(m, px, {1, 2, 3}, {classes = {"red", "green", "blue"}})
  has(s, "set label '4 units'.\"\\012\".'tanh, dropout 0.2'")
  has(s, "set label 'output: 3 units'.\"\\012\".'softmax'")
  has(s, "NaN with points lt 1 pt 7 ps 1.2 title 'red'")
  has(s, "title 'blue'")
  check(count(s, "set object %d+ circle") == 3, "a dot per output where its edges arrive")
  has(s, "network 2-4-3")
end)

H.test("errors name nn.plot.neurons", function()
  local m = mlp({3}, 1, "sigmoid")
  local e = checkerr("nn.plot.neurons: expected a model, got table",
                     function() nn.plot.neurons({}, x, y) end)
  check(e:find("test_plot_neurons.lua", 1, true), "raised at the caller: " .. e)
  checkerr("nn.plot.neurons: the model takes inputs of shape {3}; this picture is for models " ..
           "of 2 inputs", nn.plot.neurons, nn.Sequential({nn.Dense(2, {input_dim = 3})}), x, y)
  checkerr("nn.plot.neurons: the model is not built yet", nn.plot.neurons,
           nn.Sequential({nn.Dense(4), nn.Dense(1)}), x, y)
  e = checkerr("nn.plot.neurons: expected points as an n x 2 tensor (2 features), got 4x3",
               function() nn.plot.neurons(m, nn.zeros(4, 3), {1, 2, 1, 2}) end)
  check(e:find("test_plot_neurons.lua", 1, true), "raised at the caller: " .. e)
  e = checkerr("nn.plot.neurons: y has 3 labels", function() nn.plot.neurons(m, x, {1, 2, 1}) end)
  check(e:find("test_plot_neurons.lua", 1, true), "raised at the caller: " .. e)
  checkerr("nn.plot.neurons: y has 3 labels, expected 40", nn.plot.neurons, m, x, {1, 2, 1})
  checkerr("nn.plot.neurons: y[1] is class 5 but the model has 2 outputs", nn.plot.neurons, m,
           x, (function() local t = {} for i = 1, 40 do t[i] = 5 end return t end)())
  checkerr("nn.plot.neurons: max_units must be a whole number in 1..64, got 0",
           nn.plot.neurons, m, x, y, {max_units = 0})
  checkerr("nn.plot.neurons: resolution must be a whole number in 2..200, got 1.5",
           nn.plot.neurons, m, x, y, {resolution = 1.5})
  checkerr("nn.plot.neurons: 130 maps of 200x200 are too many to draw",
           nn.plot.neurons, mlp({64, 64}, 1, "sigmoid"), x, y,
           {max_units = 64, resolution = 200, render = false, file = tmp(".png")})
  checkerr("nn.plot.neurons: a 100 x 100 picture is too small to draw 3 columns of maps " ..
           "(make it larger: width, height)",
           nn.plot.neurons, mlp({8, 8}, 1, "sigmoid"), x, y,
           {width = 100, height = 100, render = false, file = tmp(".png")})
  -- a small picture shows fewer maps rather than squashed ones
  local s = script_of(mlp({8, 8}, 1, "sigmoid"), x, y, {width = 420, height = 320})
  local maps = count(s, "\n%$map%d+ << EOD")
  check(maps > 2 + 2 and maps < 2 + 16, "fewer maps on a small page: " .. maps)
  has(s, "more'")
  checkerr("nn.plot.neurons: padding must be 0..10", nn.plot.neurons, m, x, y, {padding = -1})
  checkerr("nn.plot.neurons: unknown option 'units'", nn.plot.neurons, m, x, y, {units = 2})
  checkerr("nn.plot.neurons: the model has no Dense layer to draw", nn.plot.neurons,
           nn.Sequential({nn.Activation("relu", {input_shape = {2}})}), x, y)
  checkerr("nn.plot.neurons: point 2 has x = ", nn.plot.neurons, m,
           nn.tensor({{0, 0}, {0 / 0, 1}}), {1, 2})
end)

if gnuplot then
  H.test("a PNG and text", function()
    nn.seed(2)
    local m = mlp({6, 4}, 1, "sigmoid")
    m:compile({optimizer = "adam", loss = "binary_crossentropy"})
    m:fit(x, y - 1, {epochs = 5, verbose = 0})
    local png = tmp(".png")
    nn.plot.neurons(m, x, y, {file = png})
    local data = slurp(png)
    check(data:sub(1, 8) == "\137PNG\r\n\26\n", "a PNG file")
    check(#data > 2000, "the PNG has content: " .. #data .. " bytes")
    local st = H.check_png(png) -- colours and drawn pixels, not a blank page
    check(st.width > 600 and st.height > 400, "the default picture's size")
    local txt = tmp(".txt")
    nn.plot.neurons(m, x, y, {file = txt, max_units = 3})
    local text = slurp(txt)
    for _, piece in ipairs({"what each neuron computes: network 2-6-4-1", "2 inputs",
                            "6 units", "output: 1 unit", "... 3 more", "x1", "class 2"}) do
      check(text:find(piece, 1, true), "the text shows '" .. piece .. "'")
    end
    check(text:find("#", 1, true) and text:find("+", 1, true), "maps drawn in characters")
  end)
end

for _, p in ipairs(made) do os.remove(p) end
os.remove(base)
H.done()
