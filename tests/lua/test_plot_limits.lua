-- nn.plot with labels, sizes and strings an attacker would give: every
-- value that sizes something (class labels, one-hot columns, bins, image
-- tiles, grid resolution, pixel sizes, list lengths) is checked before
-- anything is built from it, and reported as given; NaN and infinite
-- coordinates are refused; a string with a NUL byte (which C would cut)
-- is refused for paths (file, script) and texts alike. Each call must
-- also be quick: a label of 1e5 used to build a 1e5 x 1e5 table first,
-- and an infinite label never ended. No gnuplot needed (render = false).
local H = dofile("helper.lua")
local checkerr, check = H.checkerr, H.check

local R = {render = false}
local function opts(t)
  t.render = false
  return t
end

-- Runs checkerr and requires it to take well under a second.
local function quick(msg, f, ...)
  local t0 = os.clock()
  local err = checkerr(msg, f, ...)
  check(os.clock() - t0 < 1, "took " .. (os.clock() - t0) .. " s: " .. err)
  return err
end

nn.seed(5)
local model = nn.Sequential({nn.Dense(3, {input_dim = 2, activation = "softmax"})})
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}
local binary = nn.Sequential({nn.Dense(1, {input_dim = 2, activation = "sigmoid"})})
binary:compile{loss = "binary_crossentropy", optimizer = "sgd"}
local x = nn.tensor({{0, 0}, {1, 1}, {2, 0}})

H.test("confusion labels are checked against the model's classes first", function()
  quick("y[3] is class 100000 but the model has 3 outputs (classes 1..3)",
        nn.plot.confusion, model, x, {1, 2, 1e5}, R)
  quick("y[2] is inf, not a class number", nn.plot.confusion, model, x, {1, math.huge, 2}, R)
  quick("y[2] is -inf, not a class number", nn.plot.confusion, model, x, {1, -math.huge, 2}, R)
  quick("not a class number", nn.plot.confusion, model, x, {1, 0 / 0, 2}, R)
  quick("y[1] is 1.5, not a class number", nn.plot.confusion, model, x, {1.5, 1, 2}, R)
  quick("class numbers start at 1", nn.plot.confusion, model, x, {1, -1, 2}, R)
  -- One past the model's classes is no longer a larger matrix.
  quick("y[3] is class 4 but the model has 3 outputs", nn.plot.confusion, model, x,
        {1, 2, 4}, R)
  quick("y[3] is class 3 but the model has 3 outputs (classes 0..2)", nn.plot.confusion,
        model, x, {0, 1, 3}, R)
  quick("y has 4 columns (one-hot classes) but the model has 3 outputs",
        nn.plot.confusion, model, x, nn.tensor({{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 0, 1}}), R)
  quick("y has 100000 columns (one-hot classes) but the model has 3 outputs",
        nn.plot.confusion, model, x, nn.zeros(3, 100000), R)
  -- A binary model has two classes: 0/1 or 1/2.
  quick("y[1] is class 2 but the model has 2 outputs (classes 0..1)", nn.plot.confusion,
        binary, x, {2, 0, 1}, R)
  -- Valid labels still work, 0- and 1-based.
  nn.plot.confusion(model, x, {0, 1, 2}, R)
  nn.plot.confusion(model, x, {1, 2, 3}, R)
  nn.plot.confusion(binary, x, {0, 1, 1}, R)
  nn.plot.confusion(binary, x, {1, 2, 2}, R)
end)

H.test("a model with too many outputs for a confusion matrix", function()
  local wide = nn.Sequential({nn.Dense(1001, {input_dim = 2})})
  wide:compile{loss = "mse", optimizer = "sgd"}
  quick("the model has 1001 outputs; this plot draws at most 1000 classes",
        nn.plot.confusion, wide, x, {1, 2, 3}, R)
end)

H.test("decision boundary: labels, coordinates, resolution, padding", function()
  quick("y[3] is class 100000 but the model has 3 outputs", nn.plot.decision_boundary,
        model, x, {1, 2, 1e5}, R)
  quick("y[3] is inf, not a class number", nn.plot.decision_boundary, model, x,
        {1, 2, math.huge}, R)
  quick("point 2 has x = ", nn.plot.decision_boundary, model,
        nn.tensor({{0, 0}, {0 / 0, 1}, {2, 0}}), {1, 2, 3}, R)
  quick("point 3 has y = inf", nn.plot.decision_boundary, model,
        nn.tensor({{0, 0}, {1, 1}, {2, math.huge}}), {1, 2, 3}, R)
  quick("point 1 has x = -inf", nn.plot.decision_boundary, model,
        nn.tensor({{-math.huge, 0}, {1, 1}, {2, 0}}), nil, R)
  quick("too wide a range", nn.plot.decision_boundary, model,
        nn.tensor({{-3e38, 0}, {3e38, 1}, {2, 0}}), {1, 2, 3}, R)
  quick("resolution must be a whole number in 2..1000, got 1000000000000", nn.plot.decision_boundary,
        model, x, {1, 2, 3}, opts{resolution = 1e12})
  quick("resolution must be a whole number in 2..1000, got ", nn.plot.decision_boundary,
        model, x, {1, 2, 3}, opts{resolution = 0 / 0})
  quick("resolution must be a whole number in 2..1000, got inf", nn.plot.decision_boundary,
        model, x, {1, 2, 3}, opts{resolution = math.huge})
  quick("padding must be 0..10, got ", nn.plot.decision_boundary, model, x, {1, 2, 3},
        opts{padding = 0 / 0})
  local wide = nn.Sequential({nn.Dense(65, {input_dim = 2})})
  wide:compile{loss = "mse", optimizer = "sgd"}
  quick("the model has 65 outputs; this plot draws at most 64 classes",
        nn.plot.decision_boundary, wide, x, nil, opts{resolution = 2})
  nn.plot.decision_boundary(model, x, {1, 2, 3}, opts{resolution = 5})
  nn.plot.decision_boundary(model, x, nil, opts{resolution = 5})
end)

H.test("scatter: class labels", function()
  quick("classes[2] is inf, not a class number", nn.plot.scatter, {1, 2}, {1, 2},
        opts{classes = {1, math.huge}})
  quick("classes[2] is class 100000 but at most 1000 classes are drawn", nn.plot.scatter,
        {1, 2}, {1, 2}, opts{classes = {1, 1e5}})
  quick("x has 3 values and y has 2", nn.plot.scatter, {1, 2, 3}, {1, 2}, R)
end)

-- Values at the edge of double precision and range: one value of 2^62
-- (its bin of +-0.5 was no bin: width 0, a NaN converted to int), a spread
-- below the values' resolution, and a range whose width overflows.
H.test("histograms of huge or nearly equal values", function()
  nn.plot.hist({2 ^ 62}, R)
  nn.plot.hist({1e300, 1e300 * (1 + 2 ^ -52)}, R)
  nn.plot.hist({1.7e308, -1.7e308, 0}, R)
  nn.plot.hist({-2 ^ 62, 3}, opts{bins = 100000})
  check(true)
end)

H.test("sizes are integers in range, reported as given", function()
  quick("bins must be an integer in 1..100000, got 1", nn.plot.hist, {1, 2, 3},
        opts{bins = 1e12})
  quick("bins must be an integer in 1..100000, got inf", nn.plot.hist, {1, 2, 3},
        opts{bins = math.huge})
  quick("bins must be an integer in 1..100000, got 0", nn.plot.hist, {1, 2, 3},
        opts{bins = 0})
  quick("image height must be an integer in 1..1048576, got 1099511627776", nn.plot.weights,
        nn.zeros(4, 3), opts{image = {1 << 40, 1}})
  quick("holds 1000000000000 weights but each unit has 4 inputs", nn.plot.weights,
        nn.zeros(4, 3), opts{image = {1000000, 1000000}})
  quick("image must be {height, width}", nn.plot.weights, nn.zeros(4, 3),
        opts{image = {2, 2, 5}})
  quick("max_tiles must be an integer in 1..100000, got 1", nn.plot.weights, nn.zeros(4, 3),
        opts{image = {2, 2}, max_tiles = 1e12})
  quick("max_neurons must be an integer in 1..100000, got 1", nn.plot.model, model,
        opts{max_neurons = 1e12})
  quick("option 'width' (pixels) must be an integer in 100..20000, got 1099511627776",
        nn.plot.hist, {1, 2, 3}, opts{width = 1 << 40})
  quick("every must be a whole number of epochs >= 1, got ", nn.callbacks.LivePlot,
        {every = 0 / 0})
  quick("every must be a whole number of epochs >= 1, got inf", nn.callbacks.LivePlot,
        {every = math.huge})
  quick("every must be a whole number of epochs >= 1, got 0.5", nn.callbacks.LivePlot,
        {every = 0.5})
end)

H.test("lists are counted before they are converted", function()
  -- x and y of different lengths: refused before either is converted.
  quick("line 1 has 5 x values and 3 y values", nn.plot.lines, {1, 2, 3, 4, 5}, {1, 2, 3}, R)
  -- More points than a plot draws: refused before conversion.
  quick("points are too many to draw (at most 2000000)", nn.plot.lines, nil,
        nn.zeros(2000001), R)
  quick("x has 2000001 values, more than a plot takes (2000000)", nn.plot.scatter,
        nn.zeros(2000001), nn.zeros(2000001), R)
  -- A 2-D tensor is refused before it becomes Lua tables.
  quick("2000002 points are too many to draw (at most 2000000)", nn.plot.lines, nil,
        nn.zeros(1000001, 2), R)
  quick("2000001 points are too many to draw (at most 2000000)", nn.plot.scatter,
        nn.zeros(2000001, 2), nil, R)
  -- A length from __len is not believed: the raw length counts.
  local liar = setmetatable({1, 2, 3}, {__len = function() return 1e15 end})
  nn.plot.lines(nil, liar, R)
  nn.plot.hist(liar, R)
end)

H.test("strings with NUL bytes are refused, paths and texts", function()
  local gp = os.tmpname()
  quick("option 'file' contains a NUL byte (\\0) at byte 2", nn.plot.hist, {1, 2},
        opts{file = "a\0b.png"})
  quick("option 'script' contains a NUL byte (\\0) at byte 2", nn.plot.hist, {1, 2},
        opts{script = "t\0.gp"})
  quick("option 'file' is empty", nn.plot.hist, {1, 2}, opts{file = ""})
  for _, k in ipairs({"title", "xlabel", "ylabel"}) do
    quick("option '" .. k .. "' contains a NUL byte (\\0) at byte 4", nn.plot.hist, {1, 2},
          opts{[k] = "abc\0def", script = gp})
  end
  quick("line 1's name contains a NUL byte", nn.plot.lines, nil, {1, 2},
        opts{names = {"a\0b"}})
  quick("class names[1] contains a NUL byte", nn.plot.scatter, {1, 2}, {1, 2},
        opts{classes = {1, 2}, class_names = {"a\0b", "c"}})
  quick("class names[2] contains a NUL byte", nn.plot.confusion, model, x, {1, 2, 3},
        opts{classes = {"a", "b\0", "c"}})
  quick("a history name contains a NUL byte", nn.plot.history,
        {history = {["lo\0ss"] = {1, 2}}}, R)
  -- LivePlot refuses them when it is made (not with a warning at its
  -- first frame), as it does an unknown file type.
  quick("nn.callbacks.LivePlot: option 'file' contains a NUL byte", nn.callbacks.LivePlot,
        {file = "a\0b.png"})
  quick("nn.callbacks.LivePlot: option 'title' contains a NUL byte", nn.callbacks.LivePlot,
        {title = "t\0"})
  quick("nn.callbacks.LivePlot: cannot tell the file type of 'x.jpg'", nn.callbacks.LivePlot,
        {file = "x.jpg"})
  quick("nn.callbacks.LivePlot: option 'width' (pixels) must be an integer in 100..20000",
        nn.callbacks.LivePlot, {width = 1e9})
  -- Nothing was written to a cut path.
  check(io.open("t", "r") == nil, "no file 't' from 't\\0.gp'")
  os.remove(gp)
end)

H.done()
